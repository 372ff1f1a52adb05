"""On a phone: the sidebar closes after a tap on a page link, and a tap on a chart picks what is under the finger
(index.js; app/phone.py mounts it once per run)."""
from app.components import register

MOUNT = register("phone_sidebar", "phone", js=["index.js"])
