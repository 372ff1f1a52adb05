"""Step 8, inside the tokens, in a real browser, in English and Korean, at 1366 px and on a 390 px phone: the layer
slider moved by the keyboard and a patch picked by a click (a tap on a phone) on the similarity map, each kept in the
address bar; then every expander open, axe-core's WCAG 2.1 A/AA rules (no serious or critical violation) and, in
Korean at 1366 px, the detector of English left in the page (tests/browser/test_browser_korean.py: the page, its
select boxes' lists and its tooltips). A screenshot of each is left in test-artifacts/ for a person to look at."""
from __future__ import annotations

import pytest

from harness.browser import ARTIFACTS, assert_no_exception, open_page, settle_fully
from tests.browser.test_browser_a11y import DEVICES, open_expanders, violations
from tests.browser.test_browser_korean import COLLECT, TO_TOP, _HANGUL_CJK, findings_of, open_everything
from tests.browser.test_browser_layout import LOCALES

IN_ADDRESS = "([key, value]) => new URL(location.href).searchParams.get(key) === value"


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("lang", list(LOCALES))
def test_the_token_views(app_server, chromium, lang, device):
    context = chromium.new_context(locale=LOCALES[lang], **DEVICES[device])
    page = context.new_page()
    try:
        open_page(page, app_server, "tokens")
        page.wait_for_function(IN_ADDRESS, arg=["layer", "6"], timeout=30_000)  # the last layer, first

        thumb = page.locator(".st-key-lens_layer input[type='range']")
        thumb.scroll_into_view_if_needed()
        thumb.focus()
        page.keyboard.press("ArrowLeft")  # the keys move the slider once it has focus
        page.wait_for_function(IN_ADDRESS, arg=["layer", "5"], timeout=30_000)
        settle_fully(page)
        assert thumb.input_value() == "5"

        chart = page.locator(".st-key-astext_lens_sim_map")
        chart.scroll_into_view_if_needed()
        point = chart.locator(".scatterlayer .trace").first.locator(".points path").nth(10)  # patch 10
        box = point.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
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

        open_expanders(page)
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
