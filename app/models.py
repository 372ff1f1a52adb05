"""The sidebar's model: the teaching model, a curated pre-trained ViT (downloaded on request), or a local folder."""
from __future__ import annotations

import streamlit as st

from app import core
from app.i18n import t
from vit_core import ModelError, hub


def model_picker() -> str:
    """Sidebar: the teaching model, a curated pre-trained ViT (downloaded on request), or a local folder.
    Returns the model id to use now; until a chosen model is available, that is the teaching model."""
    st.sidebar.subheader(t("common.model"))
    options = [core.TEACHING_ID, *(f"hub:{m.name}" for m in hub.CURATED), "local"]

    def label(option: str) -> str:
        if option == core.TEACHING_ID:
            return t("common.model_teaching")
        if option == "local":
            return t("common.model_local")
        m = hub.get(option.removeprefix("hub:"))
        return f"{m.name} · {m.size_mb:g} MB" + (" ✓" if hub.local_path(m.name) else "")

    labels = {option: label(option) for option in options}  # formatted now, in this run's language
    choice = st.sidebar.selectbox(t("common.model_choice"), options, format_func=labels.__getitem__,
                                  key="model_choice", help=t("common.model_help"))
    if choice == "local":
        folder = st.sidebar.text_input(t("common.model_folder"), key="model_folder", help=t("common.model_folder_help"))
        return f"path:{folder.strip()}" if folder.strip() else core.TEACHING_ID
    if choice == core.TEACHING_ID:
        return choice
    entry = hub.get(choice.removeprefix("hub:"))
    st.sidebar.caption(entry.description)
    if hub.local_path(entry.name):
        return choice
    if hub.offline():
        st.sidebar.warning(t("common.model_offline", name=entry.name))
        return core.TEACHING_ID
    if not st.sidebar.button(t("common.model_download", size=f"{entry.size_mb:g}"), key="model_download"):
        st.sidebar.info(t("common.model_not_downloaded", name=entry.name))
        return core.TEACHING_ID
    bar = st.sidebar.progress(0.0, text=t("common.model_downloading", name=entry.name))

    def progress(filename: str, done: int, total: int | None) -> None:
        if total:
            bar.progress(min(done / total, 1.0), text=f"{filename}: {done / 1e6:.0f} / {total / 1e6:.0f} MB")

    try:
        hub.fetch(entry.name, progress=progress)
    except ModelError as e:  # no network, the Hub refused, or a download that is not a usable checkpoint
        bar.empty()
        st.sidebar.error(t("common.model_download_failed", name=entry.name, reason=str(e)))
        return core.TEACHING_ID
    bar.empty()
    return choice
