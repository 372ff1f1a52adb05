"""Streamlit's and Plotly's own words in the page's language: "Skip to main content", "Link to heading", a select
box's "Choose an option", a chart toolbar's "Download plot as a PNG", "Collapse sidebar", …

The same script sets `<html lang>` to the page's language, so that a screen reader reads Korean as Korean, and names
every chart drawn by app/ui.chart after its text alternative (role "figure", aria-label, aria-describedby), and lets
the keyboard scroll code panels (tabindex 0).

Streamlit 1.67 has no parameter for these texts, so a few lines of JavaScript (app/components/streamlit_texts/), run
in the app's own window, replace them where the browser shows them or reads them aloud (text, aria-label,
placeholder, title, data-title), and keep replacing them as Streamlit draws (one document-wide observer, shared with
the upload guard). Only exact, whole strings from the catalog `streamlit_texts.toml` are replaced, where a {name} in
the English stands for any text ("Select {n} matches", "Remove {x}"); English pages are left alone. Keys there are the
English text with spaces as underscores.

A multiselect's "Select all" is decided per widget (issue 28 §4): the heads to switch off have none (one tap would
switch off every head), the patches to mask keep it (mask everything, then unmask the few to keep), in Korean.
tests/browser/test_browser_korean_widgets.py opens every list, switches on every toggle and opens every expander and
popover on every page, in Korean, and fails on any English word in the lists.
"""
from __future__ import annotations

import streamlit as st

from app.components.streamlit_texts import MOUNT as _TRANSLATE
from app.i18n import DEFAULT, catalog, current_language, t


def texts(lang: str) -> dict[str, str]:
    """{English text as Streamlit writes it: the same in `lang`} ({} for English)."""
    if lang == DEFAULT:
        return {}
    english, local = catalog(DEFAULT), catalog(lang)
    return {english[key]: local[key] for key in english if key.startswith("streamlit_texts.") and key in local}


def translate() -> None:
    """Run once per page run (it draws nothing: its container is hidden with the address-bar state)."""
    with st.container(key="url_state_texts_box"):
        lang = current_language()
        _TRANSLATE(data={"texts": texts(lang), "lang": lang, "as_text": [t(k, title="{title}") for k in ("alt.as_text", "alt.as_text_question")]},
                   key="streamlit_texts")
