"""Step 6, experiments, in a real browser: a click on a patch masks it and a second click brings it back, the
changed run is drawn beside the unchanged one, and the permutation test's numbers are on the page; on a phone, a tap
does the same."""
from __future__ import annotations

import pytest

from harness.browser import PHONE, assert_no_exception, open_page, settle_fully

GRID = ".st-key-exp_grid"


def masked(page) -> list[str]:
    """The patch numbers the multiselect shows as chosen."""
    return page.locator(".st-key-exp_mask [data-tag] > span[title]").evaluate_all(
        "els => els.map(e => e.getAttribute('title'))")


def tap_patch(page, k: int, g: int = 7, touch: bool = False) -> None:
    """Click (or tap) the middle of patch k on the mask picture, and wait for the page to settle."""
    box = page.locator(f"{GRID} .nsewdrag").first.bounding_box()
    r, c = divmod(k, g)
    x, y = box["x"] + (c + 0.5) * box["width"] / g, box["y"] + (r + 0.5) * box["height"] / g
    if touch:
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)
    page.wait_for_timeout(300)
    settle_fully(page)


def logit_change(page) -> str:
    return page.locator("[data-testid='stMetric']").filter(has_text="Largest change of a logit") \
        .locator("[data-testid='stMetricValue']").inner_text()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_click_a_patch_to_mask_it_and_again_to_bring_it_back(app_server, chromium, device):
    phone = device == "phone"
    options = PHONE if phone else {"viewport": {"width": 1366, "height": 900}}
    context = chromium.new_context(locale="en-US", **options)
    page = context.new_page()
    try:
        open_page(page, app_server, "experiments")
        page.locator(GRID).scroll_into_view_if_needed()
        assert masked(page) == [] and logit_change(page) == "0"
        tap_patch(page, 24, touch=phone)
        assert masked(page) == ["24"], masked(page)
        assert logit_change(page) != "0"
        assert_no_exception(page, "after masking patch 24")
        tap_patch(page, 10, touch=phone)
        assert masked(page) == ["10", "24"]
        tap_patch(page, 24, touch=phone)  # again: unmasked
        assert masked(page) == ["10"]
        tap_patch(page, 10, touch=phone)
        assert masked(page) == [] and logit_change(page) == "0"
        text = page.locator("[data-testid='stMain']").inner_text()
        assert "Without position embeddings, the shuffle changes the logits by at most" in text
    finally:
        context.close()


def test_a_tap_on_the_attention_explorers_query_map_picks_the_patch(app_server, chromium):
    """The same for page 5 on a phone (app/phone.py: Plotly selects on a tap only once told where the finger is)."""
    context = chromium.new_context(locale="en-US", viewport={"width": 390, "height": 844}, is_mobile=True,
                                   has_touch=True)
    page = context.new_page()
    try:
        open_page(page, app_server, "attention")
        query = page.locator(".vx [data-key='query']")
        before = query.input_value()
        page.locator(".vx canvas.vx-query").scroll_into_view_if_needed()
        box = page.locator(".vx canvas.vx-query").bounding_box()
        page.touchscreen.tap(box["x"] + 1.5 * box["width"] / 7, box["y"] + 5.5 * box["height"] / 7)  # patch 36
        page.wait_for_function("() => document.querySelector(\".vx [data-key='query']\").value === '36'",
                               timeout=30_000)
        assert before != "36"
        assert_no_exception(page, "after tapping the query map")
    finally:
        context.close()
