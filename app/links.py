"""What a teacher shares lives in the URL: `…/attention?lang=ko&image=fubao_28&model=teaching&layer=3&head=2&query=17`.

A link is read once, when a session starts (opening the link, or reloading the page), into the widgets' session
state. From then on every run writes what is on screen back into the address bar with `history.replaceState`, so a
reload keeps the view and stepping through heads adds no history entry. (`st.query_params` would push one entry per
step.) Everything in a link is input: a value the app does not know is left out and said so in the page's language,
and a link can name only a language, a demo picture, the teaching model or a curated model by name — never a file, a
folder or a download. Layer and head are 1-based and the query is the patch number, as the explorer shows them.
"""
from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from app import ranges
from app.components import url_state
from app.i18n import LANGUAGES, t
from app.steps import STEPS

KEYS = ("lang", "image", "model", "layer", "head", "query", "beat", "class", "key", "me")  # in a URL's order
LESSON = ("beat", "class", "key", "me")  # lesson mode's (app/lessons/play.py reads them): never in a view for others
LENS = {"layer": "lens_layer", "query": "lens_patch"}  # the token step's widgets for a link's layer (from 0) and patch
_STATE = "_link"  # session state: the values this run puts in the URL
_READ = "_link_read"  # session state: the link has been read (once per session)
_HERE = "_link_here"  # session state: the address of the page being shown, under the app's root ("attention")
_WRITES = "_link_writes"  # session state: how many times the address was written (each run writes it again)
_PAGE = "_link_page"  # session state: (page, its own values) as its writer last put them in the URL

# history.replaceState from the page itself (app/components/url_state/index.js, in the app's window, not an iframe).
# `page`: a page's own values, written from its fragment by a writer of its own beside the app's (or None)
_REPLACE = url_state.MOUNT


def start(demo_ids: list[str], model_ids: list[str]) -> None:
    """On the first run of a session: put the link's values into the widgets' session state. A value that is not
    one of the known ones is ignored, with a warning in the sidebar."""
    ss = st.session_state
    if ss.get(_READ):
        return
    ss[_READ] = True
    link, ignored = st.query_params.to_dict(), []
    for key, value in link.items():
        if key not in KEYS:
            ignored.append(key)
        elif key == "lang" and value in LANGUAGES:
            ss["lang"] = value
        elif key == "image" and value in demo_ids:
            ss["demo"] = value
        elif key == "model" and value in model_ids:
            ss["model_choice"] = value if value == "teaching" else f"hub:{value}"
        elif key in LESSON and (key != "beat" or ranges.from_text(value) is not None):
            continue  # app/lessons/play.py reads these: a class code, its presenter secret, a learner's key, a beat
        elif key in ("layer", "head", "query") and (number := ranges.from_text(value)) is not None:
            # a whole number (ranges.from_text: ASCII digits, at most 9). Out of range (layer=99, head=0,
            # query=5000): the explorer shows the nearest one and says so in the page's language
            ss[f"att_{key}"] = number
            if key in LENS:  # the token step (app/steps/tokens.py) keeps its layer and patch under the same names
                ss[LENS[key]] = number
        else:
            ignored.append(key)
    if ignored:
        ss["_link_ignored"] = [f"{key}={link[key][:40]}" for key in ignored]


def warn_ignored() -> None:
    """The link's values that were left out, once, in the page's language."""
    ignored = st.session_state.pop("_link_ignored", None)
    if ignored:
        st.sidebar.warning(t("links.ignored", values=", ".join(ignored)))


def share(**values: str | int | None) -> None:
    """Values for the URL from this run (None: leave the key out)."""
    st.session_state[_STATE] = {**st.session_state.get(_STATE, {}), **values}


def write(key: str = "url_state", **page_values: str | int | None) -> None:
    """Put the shared values, and this page's own, in the address bar without a new history entry. A page that
    writes its own values from a fragment (which reruns alone) passes a key of its own."""
    values = {**st.session_state.get(_STATE, {}), **page_values}
    query = urlencode([(name, values[name]) for name in KEYS if values.get(name) is not None])
    page = urlencode([(name, page_values[name]) for name in KEYS if page_values.get(name) is not None])
    if page_values:
        st.session_state[_PAGE] = (st.session_state.get(_HERE), page_values)
    with st.container(key=f"{key}_box"):  # hidden by the CSS in app/main.py: it draws nothing
        # every run: a page switch (the sidebar's, st.switch_page) leaves the address without its query
        st.session_state[_WRITES] = st.session_state.get(_WRITES, 0) + 1
        _REPLACE(data={"query": query, "page": page if page_values else None, "run": st.session_state[_WRITES]},
                 key=key)


def showing(page: str) -> None:
    """The page this run shows: its address under the app's root, as st.navigation chose it (app/main.py)."""
    st.session_state[_HERE] = page


def view(base: str) -> str:
    """The address of what is on screen, for another device (address()): `base` (the app's root as students open
    it, ending in "/"), the page shown, and the values in the address bar, the shared ones and the page's own."""
    ss = st.session_state
    page = ss.get(_HERE) or ""
    written_for, own = ss.get(_PAGE) or (None, {})
    values = {**ss.get(_STATE, {}), **(own if written_for == page else {})}
    return address(base, page, {k: v for k, v in values.items() if k not in LESSON})


def address(base: str, page: str, values: dict) -> str:
    """`base` + the page + its query, the values of KEYS in their order:
    http://10.0.0.7:8501/attention?lang=ko&image=fubao_28&model=teaching&layer=3&head=2&query=17.

    Nothing in it is read as a path: the page is one of the app's (STEPS; any other, such as an unknown address's
    page, becomes the root), and every value is percent-encoded in the query ("/" as %2F, "?" as %3F)."""
    page = page if page in {s.path for s in STEPS} else ""
    query = urlencode([(name, values[name]) for name in KEYS if values.get(name) is not None])
    return base + page + (f"?{query}" if query else "")


def requested_page() -> str | None:
    """The page name in the address this run was asked for ("attention" in …/attention?layer=3), if any.
    Streamlit keeps it in its pages manager (no public API); tests/test_browser_links.py fails if that changes."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return getattr(getattr(ctx, "pages_manager", None), "intended_page_name", None) or None


def not_found_page(known: list[str]):
    """A hidden page for an address that names no page of the app, so that the answer is ours, in the page's
    language, instead of Streamlit's English "Page not found" dialog. None when the address names a page we have
    (or a nested path, which a page cannot be registered for: Streamlit answers that one itself)."""
    name = requested_page()
    if not name or name in known or "/" in name:
        return None

    def not_found() -> None:
        st.title(t("links.not_found_title"))
        st.warning(t("links.not_found", name=name[:60]))
        st.page_link(STEPS[0].file, label=t("links.not_found_start"), icon=STEPS[0].icon)

    return st.Page(not_found, title=t("links.not_found_title"), url_path=name, visibility="hidden")
