"""Shared pieces of every page: the language, the current analysis, shapes, source code, downloads.

The sidebar's picture and model pickers are app/pictures.py and app/models.py."""
from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app import core, describe, models, pictures
from app.i18n import LANGUAGES, browser_language, current_language, t
from app.steps import step
from vit_core import ImageError, LoadedModel, ModelError, images, views


@dataclass(frozen=True)
class Current:
    """The image and model this session is looking at."""

    image_bytes: bytes
    image_name: str
    model_id: str
    model: LoadedModel
    analysis: views.Analysis
    demo: str | None = None  # the demo's id (app/pictures.py), None for an upload

    @property
    def config(self):
        return self.analysis.config


def language_picker() -> None:
    if "lang" not in st.session_state:
        st.session_state["lang"] = browser_language()
    st.sidebar.selectbox("Language / 언어", list(LANGUAGES), format_func=LANGUAGES.get, key="lang")


def current(download: bool = True) -> Current:
    """The session's image, model and analysis — or an error message in the page and a stop.
    Also puts the download of the whole trace in the sidebar (`download`: once a run, by the page)."""
    image = st.session_state.get("image")
    model_id = st.session_state.get("model_id", core.TEACHING_ID)
    try:
        model = core.get_model(model_id)
    except (ModelError, OSError) as e:
        st.error(t("common.bad_model", reason=models.explain(e) if isinstance(e, ModelError) else str(e)))
        st.stop()
    if image is None:
        st.info(t("common.no_image"))
        st.stop()
    data, name = image[0], image[1]
    try:
        images.check_size(len(data))  # before the cache hashes a file it would only refuse
        with st.spinner(t("common.computing")):
            analysis = core.analyse(data, model_id)
    except ImageError as e:
        e = images.by_name(e, name)
        st.error(t("common.bad_image", name=pictures.markdown_text(name),
                   reason=t(f"image_errors.{e.kind}", **e.params)))
        st.stop()
    demo = getattr(image, "demo", None)  # app.pictures.Choice: a demo's id, None for an upload
    c = Current(data, name, model_id, model, analysis, demo)
    if download:
        trace_download(c, demo or Path(name).stem)
    return c


def shape(label: str, dims: tuple[int, ...], meaning: str = "") -> None:
    """A tensor shape, the way the lesson writes it: (B, 50, 64)."""
    text = "(" + ", ".join(str(d) for d in dims) + ")"
    st.markdown(f"**{label}** `{text}`" + (f" — {meaning}" if meaning else ""))


def heading(step_name: str, **values) -> None:
    """The page's title: its catalog title with its step number from app/steps ("Step 5 · Attention: …")."""
    st.title(step(step_name).heading(current_language(), **values))


def source(*functions, title: str | None = None, ported: tuple = (), port: str = "") -> None:
    """The real source code of the vit_core functions that computed what the page shows. `ported`: functions whose
    numbers the browser computed, by a port of them (`port`, the file) tested equal to them; said so above them."""
    def code(functions) -> None:
        for fn in functions:
            st.caption(f"{fn.__module__}.{fn.__qualname__}")
            st.code(inspect.getsource(fn), language="python")

    with st.expander(title or t("common.source"), expanded=False):
        code(functions)
        if ported:
            st.markdown(t("common.source_ported", port=port,
                          names=", ".join(f"`{fn.__module__}.{fn.__qualname__}`" for fn in ported)))
            code(ported)


def chart(fig, *, key: str, title: str = "", summary: str = "", data: bool = True, value=None, place=None,
          cell=None, **kwargs):
    """st.plotly_chart(fig, key=key, **kwargs) and its text alternative (issue 17): an expander named after the chart,
    `title` (by default the figure's own title) "…: as text", that says what it shows (`summary`, then, with `data`,
    describe.chart's sentences from the figure's own data and a short table of its values). The browser names the
    chart after it for screen readers (app/streamlit_texts.py: role "figure", aria-label, aria-describedby).
    `value` and `place` write its values and numbered places where the page's numbers are not ordinary ones
    (app/numbers.py: the paper's values, shares of patches), and `cell(row, column)` names a heat map's cell where its
    rows and columns are not a grid of patches (labels.head: "layer 2, head 3"). Returns what st.plotly_chart returns."""
    with st.container(key=f"astext_{key}"):
        event = st.plotly_chart(fig, key=key, **kwargs)
        words, rows = describe.chart(fig, value or describe.number, place, cell) if data else ("", [])
        title = title or re.sub(r"<[^>]+>", " ", fig.layout.title.text or "").strip()
        as_text(title, " ".join(filter(None, (summary, words))), rows)
    return event


def as_text_label(title: str) -> str:
    """The name of a chart's "as text" expander: "`title`: as text"; a title that ends in a question or an exclamation
    mark takes no colon after it ("Is the map faithful on this picture? (as text)", not "…?: as text")."""
    return t("alt.as_text_question" if title.rstrip().endswith(("?", "!", "？")) else "alt.as_text", title=title)


def as_text(title: str, sentences: str, rows: list[dict[str, str]]) -> None:
    """An expander "`title`: as text" with what a picture or chart shows in words and a short table of its values.
    One Markdown element, its table a real HTML table: st.table (pandas, Arrow) cost 2 ms a chart on every step of
    the attention explorer, which a classroom of 30 felt (docs/PERFORMANCE.md)."""
    with st.expander(as_text_label(title)):
        st.markdown(sentences + ("\n\n" + describe.markdown_table(rows) if rows else ""))


def figure(png: bytes, name: str, key: str, alt: str) -> None:
    """A drawn figure (PNG bytes: style.figure_png, style.png) and a button that downloads the very same picture.
    `alt` says what it shows (app/describe.py)."""
    st.image(png, output_format="PNG", alt=alt)
    st.download_button(t("common.download_png"), png, file_name=f"{name}.png", mime="image/png", key=key,
                       on_click="ignore")


def trace_download(c: Current, picture: str) -> None:
    """The whole trace as .npz, named after the picture and the model ("fubao_28_teaching_trace.npz"), with what was
    traced in it: the picture's name and size, the model, its preprocessing, and the layer, head and query the
    attention explorer has in view. Built on click, so the view is the one on screen then, even after the
    explorer's steps (which rerun only the explorer, not this button): read from the session's state, which the click's
    request (not a script run) reaches through the run's context."""
    analysis, labels = c.analysis, c.config.labels
    model = (c.model_id.removeprefix("hub:") if not c.model_id.startswith("path:")
             else Path(c.model_id.removeprefix("path:")).name)
    about = {"picture_name": c.image_name, "picture_size": analysis.original_size,
             "model_id": c.model_id if not c.model_id.startswith("path:") else f"path:{model}",  # not the server's path
             "preprocess": json.dumps(analysis.preprocess.to_hf_dict())}
    ctx = get_script_run_ctx()
    state = ctx.session_state if ctx is not None else st.session_state

    def in_view() -> dict[str, int]:
        try:
            if "att_layer" not in state or "att_head" not in state:
                return {}
            view = (state["att_layer"], state["att_head"], state["att_query"] if "att_query" in state else None)
            return {k: int(v) for k, v in zip(("view_layer", "view_head", "view_query"), view) if v is not None}
        except (KeyError, TypeError, ValueError):
            return {}

    name = re.sub(r"[^\w.-]+", "_", f"{picture}_{model}").strip("._-")[:80] or "picture"
    st.sidebar.download_button(t("common.download_npz"),
                               lambda: core.trace_npz(analysis, labels, {**about, **in_view()}),  # built on click
                               file_name=f"{name}_trace.npz", mime="application/octet-stream", key="download_npz",
                               help=t("common.download_npz_help"), on_click="ignore")
