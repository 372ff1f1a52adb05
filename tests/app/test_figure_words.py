"""Korean in the pictures (issue 12 §4): the words that matplotlib and PIL draw into the app's figures.

The browser test (test_browser_korean.py) reads the page's text, but a figure sent as PNG is pixels to it. Here every
page of the app runs in Korean (AppTest, widgets at their defaults, caches emptied first), while every text that
matplotlib's Agg renderer or PIL's ImageDraw draws is recorded; the same rule then applies: no run of three or more
English words (`english_runs`).
"""
from __future__ import annotations

from unittest import mock

import pytest
import streamlit as st
from matplotlib.backends.backend_agg import RendererAgg
from PIL import ImageDraw

from app.steps import step

from tests.app import apptest
from tests.conftest import ROOT
from tests.browser.test_browser_korean import english_runs


def drawn_words(lang: str) -> dict[str, list[str]]:
    """{page: every text drawn into a figure while the page ran in `lang`}."""
    drawn: list[str] = []
    agg_text, pil_text = RendererAgg.draw_text, ImageDraw.ImageDraw.text

    def agg(self, gc, x, y, s, prop, *args, **kwargs):
        drawn.append(s)
        return agg_text(self, gc, x, y, s, prop, *args, **kwargs)

    def pil(self, xy, text, *args, **kwargs):
        drawn.append(str(text))
        return pil_text(self, xy, text, *args, **kwargs)

    st.cache_data.clear()  # a figure drawn earlier in this process would otherwise come from the cache, undrawn
    out = {}
    with mock.patch.object(RendererAgg, "draw_text", agg), mock.patch.object(ImageDraw.ImageDraw, "text", pil):
        at = apptest.start(lang)
        for page in apptest.PAGES:
            drawn.clear()
            apptest.open_page(at, page)
            assert not apptest.problems(at), (page, apptest.problems(at))
            out[page] = [s for s in drawn if s.strip()]
    return out


@pytest.fixture(scope="module")
def korean() -> dict[str, list[str]]:
    return drawn_words("ko")


def test_no_english_prose_in_korean_figures(korean):
    found = {page: [run for s in texts for run in english_runs(s.replace("$", " "))] for page, texts in korean.items()}
    assert not any(found.values()), found


def test_the_figures_words_are_read_at_all(korean):
    """The recorder sees the figures' words (this test would pass on nothing otherwise): page 4's block diagrams and
    the flow of tensors, page 3's similarity axes, each in Korean. (Page 5's figures are drawn in the browser, from
    the Korean templates tests/test_app_attention.py checks; its GIF only on a click, tested there too.)"""
    hangul = {page: [s for s in texts if any("\uac00" <= c <= "\ud7a3" for c in s)] for page, texts in korean.items()}
    for page in (step("embedding").file, step("encoder").file):
        assert hangul[page], (page, korean[page][:20])


def test_a_figure_with_words_is_cached_per_language(teaching):
    """A cached figure whose words are in the page's language has the language in its cache key: the Korean page
    never shows a picture drawn for an English session (or the other way)."""
    from app.steps import encoder as page

    demo = (ROOT / "assets" / "images" / "fubao_28.png").read_bytes()
    from app import core

    drawn = {}
    for lang in ("en", "ko"):  # as a session in that language calls it
        with mock.patch("app.i18n.current_language", return_value=lang):
            drawn[lang] = page.flow_png(demo, core.TEACHING_ID, 1, 7, lang)
    assert drawn["en"] != drawn["ko"]
