"""One translation helper, `t`, over English and Korean catalogs.

Catalogs live in app/locales/<lang>/<namespace>.toml; a key is "<namespace>.<name>", e.g. t("patches.title").

A text cites the place of the paper that says it as [[§4.2, Table 2]] ([[§4.2, 표 2]] in Korean): `t` writes it as
"(§4.2, Table 2)" linked to the paper on arXiv. The places that exist are app/data/paper_places.json
(tests/test_references.py checks every citation against it).

A Korean particle after a value is written as a pair, `{method}은(는)`, `{n}(으)로`: `t` keeps the form that fits the
value filled in (app/josa.py says how a value is read).
"""
from __future__ import annotations

import functools
import json
import re
import tomllib
from pathlib import Path

import streamlit as st

from app import josa

LOCALES = Path(__file__).resolve().parent / "locales"
PLACES = Path(__file__).resolve().parent / "data" / "paper_places.json"
# a citation opens with a place of the paper; any other [[…]] is text (a lesson file's `[[beat]]`, in docs/LESSONS.md)
CITATION = re.compile(r"\[\[((?:§|Table |Fig\. |Eq\. |Appendix |표 |그림 |식 |부록 ).+?)\]\]")
LANGUAGES = {"en": "English", "ko": "한국어"}
DEFAULT = "en"


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """Every string of one language, keyed "namespace.name"."""
    out = {}
    for path in sorted((LOCALES / lang).glob("*.toml")):
        for name, text in tomllib.loads(path.read_text(encoding="utf-8")).items():
            out[f"{path.stem}.{name}"] = text
    return out


def browser_language() -> str:
    locale = (st.context.locale or "").lower()
    return next((code for code in LANGUAGES if locale.startswith(code)), DEFAULT)


def current_language() -> str:
    return st.session_state.get("lang") or browser_language()


def t(key: str, **values) -> str:
    """The text of `key` in the current language, with {placeholders} filled in."""
    return t_in(current_language(), key, **values)


def t_in(lang: str, key: str, **values) -> str:
    """t() in `lang`: for what is made outside a script run (a download built on click) or cached per language.
    Without values it is the template itself (what the explorer fills in the browser), pairs such as 은(는) kept."""
    text = catalog(lang).get(key) or catalog(DEFAULT)[key]
    return cited(josa.resolve(text.format(**values)) if values else text)


@functools.cache
def paper_url() -> str:
    return json.loads(PLACES.read_text(encoding="utf-8"))["url"]


def cited(text: str) -> str:
    """[[§4.2, Table 2]] → "([§4.2, Table 2](arXiv link))": a citation of the paper, as a Markdown link."""
    return CITATION.sub(lambda m: f"([{m[1]}]({paper_url()}))", text) if "[[" in text else text
