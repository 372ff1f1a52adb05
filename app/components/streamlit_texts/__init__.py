"""Streamlit's own words in the page's language, `<html lang>`, and the charts' and code panels' accessible names
(translate.js, accessible_names.js, index.js, over the document-wide observer in ../shared/observer.js).
app/streamlit_texts.py sends the texts and mounts it once per run."""
from app.components import register

MOUNT = register("streamlit_texts", "streamlit_texts",
                 js=["../shared/observer.js", "translate.js", "accessible_names.js", "index.js"])
