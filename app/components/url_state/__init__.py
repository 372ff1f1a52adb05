"""The address bar's writer: `history.replaceState` with the values app/links.py sends (index.js)."""
from app.components import register

MOUNT = register("url_state", "url_state", js=["index.js"])
