"""The upload guard: a file over the app's limit stopped in the browser, and the uploader's button named (index.js,
over the document-wide observer in ../shared/observer.js). app/pictures.py mounts it and reads its report."""
from app.components import register

MOUNT = register("upload_guard", "upload_guard", js=["../shared/observer.js", "index.js"])
