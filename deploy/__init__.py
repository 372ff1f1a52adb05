"""How to serve a classroom: N replicas of the app behind HAProxy (serve_class.py), and beyond one machine (k8s/).
See docs/DEPLOY.md."""
