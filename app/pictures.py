"""The sidebar's picture: a demo, or an upload of the user's own."""
from __future__ import annotations

import json

import streamlit as st

from app import core
from app.i18n import current_language, t
from vit_core import images

IMAGES = core.ROOT / "assets" / "images"
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff"]


def demos() -> list[dict]:
    return json.loads((IMAGES / "manifest.json").read_text(encoding="utf-8"))


def image_picker() -> tuple[bytes, str] | None:
    """Sidebar: an upload wins over the chosen demo. Returns (bytes, name)."""
    st.sidebar.subheader(t("common.image"))
    items = demos()
    title = "title_ko" if current_language() == "ko" else "title_en"
    titles = [item[title] for item in items]
    choice = st.sidebar.selectbox(t("common.demo"), range(len(items)), format_func=titles.__getitem__, key="demo")
    upload = st.sidebar.file_uploader(t("common.upload"), type=UPLOAD_TYPES, key="upload",
                                      max_upload_size=images.MAX_MB, help=t("common.upload_help", mb=images.MAX_MB))
    if upload is not None:
        return upload.getvalue(), upload.name
    item = items[choice]
    return (IMAGES / item["file"]).read_bytes(), item[title]
