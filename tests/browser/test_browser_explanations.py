"""Step 9, explanations, in a real browser: a click (or a tap on a phone) on a query or key in the Q/K picture
outlines its patch on the picture beside it."""
from __future__ import annotations

import pytest

from harness.browser import PHONE, assert_no_exception, open_page, settle_fully


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_picking_a_query_or_key_outlines_its_patch(app_server, chromium, device):
    phone = device == "phone"
    options = PHONE if phone else {"viewport": {"width": 1366, "height": 900}}
    context = chromium.new_context(locale="en-US", **options)
    page = context.new_page()
    try:
        open_page(page, app_server, "explanations")
        chart = page.locator(".st-key-expl_qk")
        chart.scroll_into_view_if_needed()
        caption = page.get_by_text("Pick a point to outline its patch.")
        assert caption.count() == 1
        point = chart.locator(".scatterlayer .trace").first.locator(".points path").nth(20)
        box = point.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        if phone:
            page.touchscreen.tap(x, y)
        else:
            page.mouse.click(x, y)
        page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stImageCaption"]')]
            .some(c => /^Outlined: patch \\d+ \\(row \\d, column \\d\\)$|^The cls token/.test(c.innerText.trim()))""",
                               timeout=30_000)
        settle_fully(page)
        assert_no_exception(page, "after picking a point")
    finally:
        context.close()
