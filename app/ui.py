"""Shared pieces of every page: the language, the current analysis, shapes, source code, downloads.

The sidebar's picture and model pickers are app/pictures.py and app/models.py."""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import streamlit as st

from app import core
from app.i18n import LANGUAGES, browser_language, t
from vit_core import ImageError, LoadedModel, ModelError, views


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


def language_picker() -> None:
    if "lang" not in st.session_state:
        st.session_state["lang"] = browser_language()
    st.sidebar.selectbox("Language / 언어", list(LANGUAGES), format_func=LANGUAGES.get, key="lang")


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
