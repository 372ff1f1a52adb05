"""The sidebar's picture: a demo, or an upload of the user's own.

A demo is named by its id, its file name without the extension ("fubao_28"); a link can name one too (app/links.py
puts it in st.session_state["demo"] before the picker runs). An upload replaces the demo, and the demo picker then
shows no demo. Choosing a demo, or the "Back to the demo pictures" button, replaces the upload in turn and empties the
uploader. Streamlit cannot empty a file uploader from code, so each emptying gives it a new key: "upload", then
"upload_1", "upload_2", … (`upload_key()`).

The app reads every file it is given and says itself, in the page's language, what is wrong with one it cannot use
(app/ui.current): the uploader filters no type, and takes files up to images.UPLOAD_MB, more than the MAX_MB the app
reads. Streamlit's uploader has its own English words ("Upload", "Drag and drop a file here", "30MB per file") and no
parameter for them: its instructions are hidden and ours shown below it, and the two words it draws itself are
replaced by CSS scoped to this uploader (`picker_css`).

A file over images.MAX_MB is stopped in the browser, before it is sent (`_GUARD`, app/components/upload_guard/):
Streamlit's uploader would otherwise refuse a file over its own limit with an English chip, and send one under it only
for the app to refuse it. The guard tells the server the file's name and size, and the page says, in its language,
that the file was not read (`refusal()`, shown by app/ui.current until the picture changes). The server still checks
every file it gets.
"""
from __future__ import annotations

import functools
import json
import math
import re
from pathlib import Path
from typing import NamedTuple

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app import core, numbers
from app.components import upload_guard
from app.i18n import current_language, t
from vit_core import images
from vit_core.data import LABELS

IMAGES = core.ROOT / "assets" / "images"
BOX = "picture_upload"  # the sidebar container of the uploader: CSS class st-key-picture_upload
_GENERATION = "_upload_generation"  # session state: how many times the uploader was emptied
_BEFORE = "_demo_before_upload"  # session state: the demo that was shown when the upload came
_REFUSED = "_refused_upload"  # session state: {"name", "size"} of the last file the browser did not send

# Capture-phase listeners on the document stop a file too large before Streamlit's uploader sees it, and report its
# name and size as the trigger value "refused" (app/components/upload_guard/index.js): installed once per window, each
# run renews the limit and the function that reports. It also gives the uploader's button its accessible name.
_GUARD = upload_guard.MOUNT


class Choice(NamedTuple):
    """The session's picture: its bytes, the name the page gives it, and the demo's id (None for an upload)."""

    data: bytes
    name: str
    demo: str | None


@functools.cache
def demos() -> tuple[dict, ...]:
    return tuple(json.loads((IMAGES / "manifest.json").read_text(encoding="utf-8")))


def demo_ids() -> list[str]:
    return [Path(item["file"]).stem for item in demos()]


def shows_a_class(demo: str | None, labels: tuple[str, ...]) -> bool | None:
    """Whether the picture shows one of the model's classes: True or False where the app knows, None where it cannot.

    A demo names what it shows in the manifest: "label", its Fashion-MNIST class, or null for none of the ten (every
    demo says); "imagenet", its ImageNet-1k class, where it is one (the panda's is "giant panda"). So a demo is one of
    a model's classes when one of these names is one of them (a checkpoint's class may list synonyms: "giant panda,
    panda, …"), none of them when the model's classes are Fashion-MNIST's ten, and unknown otherwise. Of an upload
    the app knows nothing (None): the page then says which classes the model knows, and claims nothing of the picture
    (app/notes.py)."""
    if demo not in demo_ids() or not labels:
        return None
    entry = demos()[demo_ids().index(demo)]
    names = {n.casefold() for n in (entry["label"], entry.get("imagenet")) if n}
    if names & {name.strip().casefold() for label in labels for name in label.split(",")}:
        return True
    return False if tuple(labels) == LABELS else None


def fashion_demo(label: str) -> str:
    """The Fashion-MNIST demo of this class (the first one in the manifest if none is)."""
    fashion = [(id_, item) for id_, item in zip(demo_ids(), demos()) if item["kind"] == "fashion-mnist"]
    return next((id_ for id_, item in fashion if item["label"] == label), fashion[0][0])


def show_demo(demo: str) -> None:
    """A button's callback: this demo replaces the picture (an upload, or another demo), as if chosen in the picker."""
    st.session_state.pop(_REFUSED, None)
    _empty_uploader()
    st.session_state["demo"] = demo


def upload_key() -> str:
    n = st.session_state.get(_GENERATION, 0)
    return "upload" if n == 0 else f"upload_{n}"


def image_picker() -> Choice:
    """Sidebar: the demo picker and the uploader. The upload, while there is one; otherwise the chosen demo."""
    ss, ids, key = st.session_state, demo_ids(), upload_key()
    if ss.get("demo") not in ids and ss.get(key) is None:  # a new session, an unknown id, or the upload is gone
        ss["demo"] = ss.get(_BEFORE) if ss.get(_BEFORE) in ids else ids[0]
    lang = "ko" if current_language() == "ko" else "en"
    titles = {id_: item[f"title_{lang}"] for id_, item in zip(ids, demos())}
    shorts = {id_: item[f"short_{lang}"] for id_, item in zip(ids, demos())}  # fits the picker's box
    st.sidebar.subheader(t("common.image"))
    # index=None: the value is always in session state already (set above, or by a link), and None while an upload
    # is shown, when the placeholder says so
    st.sidebar.selectbox(t("common.demo"), ids, index=None, format_func=shorts.get, key="demo",
                         placeholder=t("common.demo_none"), on_change=_demo_chosen, required=True)
    if ss.get("demo") in titles:
        st.sidebar.caption(titles[ss["demo"]])
    with st.sidebar.container(key=BOX):
        upload = st.file_uploader(t("common.upload"), key=key, on_change=_uploaded, args=(key,),
                                  help=t("common.upload_help", mb=images.MAX_MB))
        st.caption(t("common.upload_hint", mb=images.MAX_MB))
        with st.container(key="url_state_upload_guard"):  # hidden with the address-bar state (app/main.py)
            _GUARD(data={"limit": images.MAX_BYTES, "box": BOX, "label": t("common.upload_button")},
                   key="upload_guard", on_refused_change=_refused)
        if upload is not None:
            st.button(t("common.back_to_demos"), key="back_to_demos", on_click=_back_to_demos,
                      icon=":material/undo:", width="stretch")
        st.html(picker_css())
    if upload is not None:
        return Choice(upload.getvalue(), upload.name, None)
    demo = ss["demo"]
    return Choice((IMAGES / demos()[ids.index(demo)]["file"]).read_bytes(), titles[demo], demo)


def picker_css() -> str:
    """Streamlit's own words in the picker, in the page's language: the uploader's button says
    t("common.upload_button"), its drop overlay t("common.upload_drop"), and its instructions ("30MB per file • …",
    cut off with "…" in the sidebar) give way to our caption below it; the demo picker, which cannot be emptied, does
    not say "(required)". Only these two widgets are touched."""
    box = f".st-key-{BOX} [data-testid='stFileUploaderDropzone']"
    button = f"{box} [data-testid='stBaseButton-secondary'] [data-testid='stMarkdownContainer']"
    return ("<style>"
            ".st-key-demo [data-testid='stWidgetLabelRequired'] { display: none; }"
            # Korean wraps between words, not inside one ("최\n대"); a file's name wraps rather than ends in "…"
            f".st-key-{BOX}, .st-key-{BOX} p {{ word-break: keep-all; overflow-wrap: anywhere; }}"
            f".st-key-{BOX} [data-testid='stFileChipName'] {{ white-space: normal; }}"
            f"{box} [data-testid='stFileUploaderDropzoneInstructions'] {{ display: none; }}"
            f"{button} p {{ display: none; }}"
            f"{button}::after {{ content: {_css_string(t('common.upload_button'))}; }}"
            # the overlay while a file is dragged over: a div holding one span of text
            f"{box} > div > span:only-child {{ font-size: 0; }}"
            f"{box} > div > span:only-child::after {{ content: {_css_string(t('common.upload_drop'))};"
            " font-size: 0.875rem; }"
            "</style>")


def _css_string(text: str) -> str:
    """A CSS string literal: JSON's escapes (\\" and \\\\) are CSS's too; < cannot close the <style>."""
    return json.dumps(text, ensure_ascii=False).replace("<", "\\3c ")


def refusal() -> str | None:
    """What the page says of the last file the browser refused to send (Markdown), until the picture changes."""
    refused = st.session_state.get(_REFUSED)
    if not refused:
        return None
    size = math.ceil(refused["size"] / 2**20 * 10) / 10  # rounded up: a file just over the limit is 10.1, not 10.0
    return t("common.refused", name=markdown_text(refused["name"]), size=numbers.number(size),
             reason=t("image_errors.file_too_large", limit_mb=images.MAX_MB))


def markdown_text(name: str) -> str:
    """A file's name is text, not Markdown or a link."""
    return re.sub(r"([\\`*_\[\]<>~$|])", r"\\\1", name)


# ---- callbacks: they run before the widgets of the next run exist, so they may set the pickers' values -------------
def _refused() -> None:
    """The guard's report: anything a browser sends is input, so only a name (text, at most 200 characters) and a
    size (a number) are kept."""
    value = st.session_state.get("upload_guard", {}).get("refused")
    try:
        name, size = str(value["name"])[:200], float(value["size"])
    except (KeyError, TypeError, ValueError):
        return
    if size >= 0:
        st.session_state[_REFUSED] = {"name": name, "size": size}


def _uploaded(key: str) -> None:
    ss = st.session_state
    ss.pop(_REFUSED, None)
    if ss.get(key) is not None:  # a new file: the demo picker shows none
        if ss.get("demo") is not None:
            ss[_BEFORE] = ss["demo"]
        ss["demo"] = None
    else:  # the file was removed (×): back to the demo it replaced
        ss["demo"] = ss.get(_BEFORE)


def _demo_chosen() -> None:
    st.session_state.pop(_REFUSED, None)
    if st.session_state.get("demo") is not None:
        _empty_uploader()


def _back_to_demos() -> None:
    st.session_state.pop(_REFUSED, None)
    _empty_uploader()
    st.session_state["demo"] = st.session_state.get(_BEFORE)


def _empty_uploader() -> None:
    """A new key gives a new, empty uploader. The old one's file is dropped from the server's memory now: the browser
    deletes a file only when the user removes it, so it would otherwise stay until the session ends."""
    ss = st.session_state
    upload = ss.get(upload_key())
    if upload is None:
        return
    ss[_GENERATION] = ss.get(_GENERATION, 0) + 1
    ctx = get_script_run_ctx()
    if ctx is not None and runtime.exists():
        try:
            runtime.get_instance().uploaded_file_mgr.remove_file(ctx.session_id, upload.file_id)
        except Exception:  # noqa: BLE001 — Streamlit's own bookkeeping; the file then goes with the session
            pass
