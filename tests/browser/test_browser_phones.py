"""Phones and projectors (issue 28 §6), in a real browser, at 1366 px with a mouse and on a 390 px touch phone
(Playwright's is_mobile and has_touch), in English and Korean, on the attention page (step 5: Markdown, widgets and
the explorer component):

- Korean breaks lines between words, never inside one ("어\\n떤"): word-break keep-all on the page's text and the
  explorer's, while a long unbroken string (an address, a number, code) still wraps, and nothing runs sideways;
- the keys' help (←→↑↓, space) shows where there are keys, not on a touch screen without a mouse;
- the title starts just below Streamlit's header bar (its sidebar toggle), not a band of 150 px lower;
- the sidebar's "Join from a phone" gives the address of the view on screen (page, layer, head, query) as text and
  as a QR code that reads back to it, after steps the explorer took without a full run.

One server for the module, told a network address (browser.serverAddress) so that the join panel has one to give.
"""
from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

import pytest

from app.i18n import catalog
from harness import server
from harness.browser import (PHONE, SPLIT_WORDS, Runs, assert_no_exception, explorer_view, open_explorer,
                             settle)

DEVICES = {"desk": {"viewport": {"width": 1366, "height": 900}}, "phone": PHONE}
LOCALES = {"en": "en-US", "ko": "ko-KR"}
NETWORK = "10.0.0.7"  # the address the join panel gives (browser.serverAddress); the tests open 127.0.0.1
LINK = "attention?layer=3&head=2&query=17"

SIDEWAYS = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  return {page: document.documentElement.scrollWidth, main: main.scrollWidth, mainBox: main.clientWidth,
          screen: window.innerWidth};
}"""

STYLE = """(selector) => { const s = getComputedStyle(document.querySelector(selector));
  return [s.wordBreak, s.overflowWrap]; }"""

# a 240-character string with no break in it (an address, a long number), put into a paragraph of the page and of
# the explorer: how much wider than its block it is (0: it wrapped)
LONG_STRING = """(selector) => {
  const p = document.querySelector(selector), span = document.createElement("span");
  span.textContent = "https://example.org/" + "0123456789".repeat(22);
  p.append(span);
  const over = span.getBoundingClientRect().right - p.getBoundingClientRect().right;
  span.remove();
  return over;
}"""

TITLE = """() => {
  const title = document.querySelector("[data-testid='stMain'] h1").getBoundingClientRect();
  const header = document.querySelector("[data-testid='stHeader']").getBoundingClientRect();
  const toggle = document.querySelector("[data-testid='stExpandSidebarButton']");
  const t = toggle && toggle.checkVisibility() ? toggle.getBoundingClientRect() : null;
  return {title: title.top, header: header.bottom, toggle: t && t.bottom};
}"""


@pytest.fixture(scope="module")
def served():
    with server.running(options=("--browser.serverAddress", NETWORK, "--browser.serverPort", "8501")) as srv:
        yield srv.url


@pytest.fixture(scope="module")
def attention(served, chromium):
    """The attention page opened by a link, one per (language, device), kept for the module's tests."""
    opened, contexts = {}, []

    def page_for(lang: str, device: str):
        if (lang, device) not in opened:
            context = chromium.new_context(locale=LOCALES[lang], **DEVICES[device])
            contexts.append(context)
            page = context.new_page()
            open_explorer(page, f"{served}/{LINK}&lang={lang}")
            assert_no_exception(page, f"the attention page, {lang}, {device}")
            opened[lang, device] = page
        return opened[lang, device]

    yield page_for
    for context in contexts:
        context.close()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_korean_breaks_between_words_long_strings_still_wrap_and_nothing_runs_sideways(attention, lang):
    page = attention(lang, "phone")
    if lang == "ko":
        for selector in ("[data-testid='stMain'] h1", "[data-testid='stMain'] [data-testid='stMarkdownContainer'] p",
                         ".vx p.vx-position", ".vx h3", ".vx-slider", "[data-testid='stSidebar'] label"):
            assert page.evaluate(STYLE, selector)[0] == "keep-all", selector
        assert page.evaluate(STYLE, "[data-testid='stMain'] [data-testid='stMarkdownContainer'] p")[1] == "anywhere"
        assert page.evaluate(SPLIT_WORDS) == []
    for selector in ("[data-testid='stMain'] [data-testid='stMarkdownContainer'] p", ".vx p.vx-position"):
        assert page.evaluate(LONG_STRING, selector) <= 1, f"a long string ran out of {selector}"
    wide = page.evaluate(SIDEWAYS)
    assert wide["page"] <= wide["screen"] and wide["main"] <= wide["mainBox"], wide


@pytest.mark.parametrize("lang, device, keys", [("en", "desk", True), ("ko", "desk", True), ("en", "phone", False),
                                                ("ko", "phone", False)])
def test_the_keys_help_shows_only_where_there_are_keys(attention, lang, device, keys):
    page = attention(lang, device)
    words = catalog(lang)
    assert page.locator(".vx p").filter(has_text=words["attention.keys"]).is_visible() == keys
    assert page.locator(".vx p").filter(has_text=words["attention.jump"]).is_visible()  # a click or a tap: both


@pytest.mark.parametrize("lang, device", [("en", "desk"), ("ko", "desk"), ("en", "phone"), ("ko", "phone")])
def test_the_title_starts_just_below_the_header(attention, lang, device):
    at = attention(lang, device).evaluate(TITLE)
    assert at["header"] - 1 <= at["title"] <= at["header"] + 4, at  # it was 144 px down, below a 60 px header
    if device == "phone":
        assert at["toggle"] is not None and at["toggle"] <= at["title"], at  # the sidebar's toggle, above it


def test_the_join_panel_gives_the_view_on_screen_as_text_and_as_a_qr_code(served, chromium):
    import io

    import zxingcpp
    from PIL import Image

    context = chromium.new_context(locale="ko-KR", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    open_explorer(page, f"{served}/{LINK}&lang=ko")
    page.get_by_role("button", name="다음 헤드 ▶").click()  # a step of the explorer's own: no full run
    page.wait_for_function("() => new URLSearchParams(location.search).get('head') === '3'", timeout=30_000)
    settle(page)
    assert explorer_view(page) == (3, 3, 17)

    panel = page.locator("[data-testid='stSidebar'] [data-testid='stExpander']").filter(has_text="휴대폰으로 참여")
    with Runs(page) as runs:
        panel.locator("summary").click()
        runs.wait(1, hop="the join panel opened")
    shown = panel.locator("[data-testid='stCode'] code")
    path_and_query = urlsplit(page.url)._replace(scheme="", netloc="").geturl()
    assert shown.inner_text() == f"http://{NETWORK}:8501{path_and_query}"  # the address bar's view, head 3
    assert "head=3" in shown.inner_text() and "layer=3" in shown.inner_text() and "query=17" in shown.inner_text()

    page.get_by_role("button", name="다음 헤드 ▶").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('head') === '4'", timeout=30_000)
    with Runs(page) as runs:
        panel.get_by_role("button", name="지금 화면의 보기로 새로 고치기").click()
        runs.wait(1, hop="the join panel's update")
    text = shown.inner_text()
    assert "head=4" in text and explorer_view(page) == (3, 4, 17)

    pictures = panel.locator("[data-testid='stImage'] img")
    assert pictures.count() == 2
    src = pictures.nth(1).get_attribute("src")
    png = urllib.request.urlopen(src if src.startswith("http") else f"{served}{src}").read()
    shown_side = int(pictures.nth(1).bounding_box()["width"])
    picture = Image.open(io.BytesIO(png)).convert("L").resize((shown_side, shown_side), Image.BILINEAR)
    assert [code.text for code in zxingcpp.read_barcodes(picture)] == [text]  # the QR code, as big as shown
    assert_no_exception(page, "the join panel")
    context.close()
