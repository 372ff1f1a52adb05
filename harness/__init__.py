"""What tests, benchmarks and scripts share to run the app and drive it: `harness.server` (start the app on a free
port, wait for its health, its process tree and memory) and `harness.browser` (the system Chromium, Streamlit's own
signals to wait on, the pages and the explorer). Imported one way: `from harness import server, browser`."""
