"""The sidebar's model: the teaching model, a curated pre-trained ViT (downloaded on request), or a local folder.

The picker shows the model that is on screen, or the curated model whose download it offers (the teaching model is
shown until then). When a chosen model cannot be had now (downloads switched off; no network, said within
hub.PROBE_TIMEOUT rather than after the Hub client's half a minute of retries), the picker goes back to the model on
screen and says why, in the page's language, with the command that downloads it.
"""
from __future__ import annotations

import streamlit as st

from app import core, numbers
from app.i18n import catalog, t
from vit_core import ModelError, hub

NOTICE = "_model_notice"  # session state: (kind, params, English message) of the last model that could not be had
REVERT = "_model_revert"  # session state: the picker's value to restore before the picker is drawn


def description(entry: hub.Pretrained) -> str:
    """What a curated model is, in the page's language."""
    return t(f"models.about_{entry.name.replace('-', '_')}")


def error_text(kind: str, params: dict, message: str) -> str:
    """A model error (vit_core.hub.MESSAGES: kind and params) in the page's language, as Markdown; its English
    message if the catalogs do not know its kind. The text refers to the command `params["command"]` as "below"."""
    key = f"models.error_{kind}"
    return t(key, **params) if kind and key in catalog("en") else message


def explain(e: ModelError) -> str:
    """A raised ModelError in the page's language, with the command that downloads the model below it (Markdown,
    for a wide place such as a page's st.error: ui.py and the About page)."""
    command = e.params.get("command") if e.kind else None
    return error_text(e.kind, e.params, str(e)) + (f"\n\n```bash\n{command}\n```" if command else "")


def model_picker() -> str:
    """Sidebar: the teaching model, a curated pre-trained ViT (downloaded on request), or a local folder.
    Returns the model id to use now; until a chosen model is available, that is the teaching model."""
    ss = st.session_state
    if REVERT in ss:  # set by a download that failed in the run before: only possible before the picker is drawn
        ss["model_choice"] = ss.pop(REVERT)
    unavailable_now()
    st.sidebar.subheader(t("common.model"))
    options = [core.TEACHING_ID, *(f"hub:{m.name}" for m in hub.CURATED), "local"]

    def label(option: str) -> str:
        if option == core.TEACHING_ID:
            return t("models.teaching")
        if option == "local":
            return t("models.local")
        m = hub.get(option.removeprefix("hub:"))
        return f"{m.name} · {numbers.number(m.size_mb)} MB" + (" ✓" if hub.local_path(m.name) else "")

    labels = {option: label(option) for option in options}  # formatted now, in this run's language
    choice = st.sidebar.selectbox(t("models.choice"), options, format_func=labels.__getitem__, key="model_choice",
                                  help=t("models.help"), on_change=forget_notice)
    if NOTICE in ss:
        kind, params, message = ss[NOTICE]
        st.sidebar.warning(error_text(kind, params, message), icon=":material/cloud_off:")
        if kind and params.get("command"):
            st.sidebar.code(params["command"], language="bash", wrap_lines=True)  # the sidebar is narrow
    if choice == "local":
        folder = st.sidebar.text_input(t("models.folder"), key="model_folder", help=t("models.folder_help"))
        return f"path:{folder.strip()}" if folder.strip() else core.TEACHING_ID
    if choice == core.TEACHING_ID:
        st.sidebar.caption(t("models.teaching_about"))
        return choice
    entry = hub.get(choice.removeprefix("hub:"))
    st.sidebar.caption(description(entry))
    if hub.local_path(entry.name):
        return choice
    if not st.sidebar.button(t("models.download", size=numbers.number(entry.size_mb)), key="model_download"):
        st.sidebar.info(t("models.not_downloaded", name=entry.name))
        return core.TEACHING_ID
    bar = st.sidebar.progress(0.0, text=t("models.downloading", name=entry.name))

    def progress(filename: str, done: int, total: int | None) -> None:
        if total:
            bar.progress(min(done / total, 1.0), text=f"{filename}: {done / 1e6:.0f} / {total / 1e6:.0f} MB")

    try:
        hub.fetch(entry.name, progress=progress)
    except ModelError as e:  # offline, the Hub refused, or a download that is not a usable checkpoint
        ss[NOTICE] = (e.kind, e.params, str(e))
        ss[REVERT] = on_screen(instead_of=choice)
        st.rerun()  # the picker shows the model on screen again; only the next run may set its value
    bar.empty()
    return choice


def forget_notice() -> None:
    st.session_state.pop(NOTICE, None)


def on_screen(instead_of: str = "") -> str:
    """The picker's option for the model on screen (the model id of the last run), or the teaching model's."""
    model_id = st.session_state.get("model_id", core.TEACHING_ID)
    option = "local" if model_id.startswith("path:") else model_id
    return core.TEACHING_ID if option == instead_of else option


def unavailable_now() -> None:
    """Before the picker is drawn: a curated model chosen (or named by a link) that is not on this computer while
    downloads are switched off cannot be had; the picker goes back to the model on screen, and says why."""
    ss = st.session_state
    choice = ss.get("model_choice", "")
    if not (isinstance(choice, str) and choice.startswith("hub:") and hub.is_curated(choice[4:]) and hub.offline()):
        return
    if hub.local_path(choice[4:]) is None:
        entry = hub.get(choice[4:])
        e = hub.error(ModelError, "offline_mode", entry)
        ss[NOTICE] = (e.kind, e.params, str(e))
        ss["model_choice"] = on_screen(instead_of=choice)
