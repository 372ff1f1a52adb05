"""Step 8, inside the tokens, in a real browser, in English and Korean, at 1366 px and on a 390 px phone: the layer
view's slider (app/components/lens, drawn in the browser) moved by the keyboard (←, Home, End) with every map and its
words following at once, and a patch picked by a click (a tap on a phone) on the similarity map, each kept in the
address bar; then every expander and every map's "as text" open, axe-core's WCAG 2.1 A/AA rules (no serious or critical violation) and, in
Korean at 1366 px, the detector of English left in the page (tests/browser/test_browser_korean.py: the page, its
select boxes' lists and its tooltips). A screenshot of each is left in test-artifacts/ for a person to look at."""
from __future__ import annotations

import pytest

from app.i18n import t_in
from harness.browser import ARTIFACTS, assert_no_exception, open_page, settle_fully
from tests.browser.test_browser_a11y import DEVICES, open_expanders, violations
from tests.browser.test_browser_korean import COLLECT, TO_TOP, _HANGUL_CJK, findings_of, open_everything
from tests.browser.test_browser_layout import LOCALES

IN_ADDRESS = "([key, value]) => new URL(location.href).searchParams.get(key) === value"
SLIDER = ".lx-layer input[type='range']"


def shows(page, lang: str, layer: int) -> None:
    """Every part of the layer view shows `layer`: the sentence under the slider (read aloud: aria-live), the vote
    map's words and the similarity map's title. Read at once after the key: the browser draws it, no server."""
    got = page.evaluate("""() => [document.querySelector(".lx-layer .lx-caption[aria-live]").textContent,
        document.querySelector(".lx-votes canvas").getAttribute("aria-label"),
        document.querySelector(".lx-similarity .lx-title").textContent]""")
    caption = t_in(lang, "tokens.layer_caption") if layer == 0 else t_in(lang, "tokens.layer_block", layer=layer, L=6)
    assert got[0] == caption, got
    assert got[1].startswith(f"After layer {layer}, " if lang == "en" else f"{layer}층을 지난 뒤, "), got
    assert (f"after layer {layer}" if lang == "en" else f"{layer}층을 지난 뒤") in got[2], got


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("lang", list(LOCALES))
def test_the_token_views(app_server, chromium, lang, device):
    context = chromium.new_context(locale=LOCALES[lang], **DEVICES[device])
    page = context.new_page()
    try:
        open_page(page, app_server, "tokens")
        page.wait_for_function(IN_ADDRESS, arg=["layer", "6"], timeout=30_000)  # the last layer, first

        thumb = page.locator(SLIDER)
        thumb.scroll_into_view_if_needed()
        thumb.focus()
        shows(page, lang, 6)
        for key, layer in (("ArrowLeft", 5), ("Home", 0), ("End", 6), ("ArrowLeft", 5)):  # once it has focus
            page.keyboard.press(key)
            shows(page, lang, layer)
        page.wait_for_function(IN_ADDRESS, arg=["layer", "5"], timeout=30_000)  # reported, debounced
        settle_fully(page)
        assert thumb.input_value() == "5"

        canvas = page.locator(".lx-similarity canvas")
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()  # 7 × 7 patches: patch 10 is row 1, column 3
        x, y = box["x"] + 3.5 * box["width"] / 7, box["y"] + 1.5 * box["height"] / 7
        if device == "phone":
            page.touchscreen.tap(x, y)
        else:
            page.mouse.click(x, y)
        page.wait_for_function(IN_ADDRESS, arg=["query", "10"], timeout=30_000)
        settle_fully(page)
        assert_no_exception(page, f"tokens ({lang}, {device}) after a pick")
        picked = page.locator(".st-key-lens_patch").evaluate(  # the select box follows the click
            "e => e.innerText + ' ' + [...e.querySelectorAll('input')].map(i => i.value).join(' ')")
        assert ("patch 10 (row 1, column 3)" if lang == "en" else "패치 10 (1행 3열)") in picked, picked
        shows(page, lang, 5)  # the patch's rows came from the server; the layer stayed where the learner left it
        title = page.locator(".lx-similarity .lx-title").inner_text()
        assert ("patch 10 (row 1, column 3)" if lang == "en" else "패치 10 (1행 3열)") in title, title

        open_expanders(page)
        page.evaluate("() => document.querySelectorAll('details.lx-text').forEach((d) => { d.open = true; })")
        titles = [t_in(lang, "tokens.votes_title", layer=5), page.locator(".lx-similarity .lx-title").inner_text(),
                  t_in(lang, "tokens.norm_map_title", layer=5)]  # each map's text is named after its title
        assert page.locator("details.lx-text summary").all_inner_texts() == [
            t_in(lang, "alt.as_text", title=title) for title in titles]
        problems = violations(page, f"tokens ({lang}, {device})")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"tokens_{lang}_{device}.png", full_page=True)
        assert not problems, "axe-core, WCAG 2.1 A/AA:\n" + "\n".join(problems)

        if lang == "ko" and device == "1366":  # on a phone the open sidebar would cover the page's select box
            extra = open_everything(page)
            page.evaluate(TO_TOP)
            segments = page.evaluate(COLLECT, None) + extra
            assert any(_HANGUL_CJK.search(s["text"]) for s in segments)
            found = findings_of(segments)
            assert not found, "English left in the Korean page:\n" + "\n".join(
                f"  [{f['kind']}] {f['where']}: {f['run']!r}" for f in found)
    finally:
        context.close()
