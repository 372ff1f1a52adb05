"""Shared pieces of every page: the sidebar inputs, the current analysis, shapes, source code, downloads."""
from __future__ import annotations

import inspect
import json
from dataclasses import dataclass

import streamlit as st

from app import core
from app.i18n import LANGUAGES, browser_language, current_language, t
from vit_core import ImageError, LoadedModel, ModelError, hub, images, views

IMAGES = core.ROOT / "assets" / "images"
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff"]


@dataclass(frozen=True)
class Current:
    """The image and model this session is looking at."""

    image_bytes: bytes
    image_name: str
    model_id: str
    model: LoadedModel
    analysis: views.Analysis

    @property
    def config(self):
        return self.analysis.config


def demos() -> list[dict]:
    return json.loads((IMAGES / "manifest.json").read_text(encoding="utf-8"))


def language_picker() -> None:
    if "lang" not in st.session_state:
        st.session_state["lang"] = browser_language()
    st.sidebar.selectbox("Language / 언어", list(LANGUAGES), format_func=LANGUAGES.get, key="lang")


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


def current() -> Current:
    """The session's image, model and analysis — or an error message in the page and a stop.
    Also puts the download of the whole trace in the sidebar."""
    image = st.session_state.get("image")
    model_id = st.session_state.get("model_id", core.TEACHING_ID)
    try:
        model = core.get_model(model_id)
    except (ModelError, OSError) as e:
        st.error(t("common.bad_model", reason=str(e)))
        st.stop()
    if image is None:
        st.info(t("common.no_image"))
        st.stop()
    try:
        with st.spinner(t("common.computing")):
            analysis = core.analyse(image[0], model_id)
    except ImageError as e:
        st.error(t("common.bad_image", name=image[1], reason=t(f"image_errors.{e.kind}", **e.params)))
        st.stop()
    c = Current(image[0], image[1], model_id, model, analysis)
    trace_download(c)
    return c


def shape(label: str, dims: tuple[int, ...], meaning: str = "") -> None:
    """A tensor shape, the way the lesson writes it: (B, 50, 64)."""
    text = "(" + ", ".join(str(d) for d in dims) + ")"
    st.markdown(f"**{label}** `{text}`" + (f" — {meaning}" if meaning else ""))


def source(*functions, title: str | None = None) -> None:
    """The real source code of the vit_core functions that computed what the page shows."""
    with st.expander(title or t("common.source"), expanded=False):
        for fn in functions:
            st.caption(f"{fn.__module__}.{fn.__qualname__}")
            st.code(inspect.getsource(fn), language="python")


def figure(png: bytes, name: str, key: str) -> None:
    """A drawn figure (PNG bytes: style.figure_png, style.png) and a button that downloads the very same picture."""
    st.image(png, output_format="PNG")
    st.download_button(t("common.download_png"), png, file_name=f"{name}.png", mime="image/png", key=key,
                       on_click="ignore")


def trace_download(c: Current) -> None:
    analysis, labels = c.analysis, c.config.labels
    st.sidebar.download_button(t("common.download_npz"), lambda: core.trace_npz(analysis, labels),  # built on click
                               file_name="vit_trace.npz", mime="application/octet-stream", key="download_npz",
                               help=t("common.download_npz_help"), on_click="ignore")
