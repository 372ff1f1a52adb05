"""Korean and layout beyond the defaults (issue 12 §4, §5): the Korean and layout detectors of test_browser_korean.py
and test_browser_layout.py, run again on the states a teacher reaches by clicking rather than by opening a page.

One Korean session at 1024 px, the narrowest desktop width, with an uploaded photo (wider than tall, so that the
pages speak of its crop, and no demo's title or caption is on screen); on every page, reached from the sidebar's
links: every radio button's other options, every toggle and check box switched, each state read for English runs
and for text cut off or wider than the screen.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from harness.browser import NAV_LINKS, PATHS, assert_no_exception, open_page, settle_fully, upload
from tests.browser.test_browser_korean import COLLECT, findings_of, open_everything
from tests.browser.test_browser_layout import format_problems, layout_problems, wait_for_layout


def photo(path) -> str:
    """A 900×300 picture with texture: wider than tall, so the pages crop it."""
    rng = np.random.default_rng(0)
    x = np.linspace(0, 255, 900)[None, :, None] * np.ones((300, 1, 3))
    Image.fromarray(np.clip(x + rng.normal(0, 25, x.shape), 0, 255).astype(np.uint8)).save(path)
    return str(path)


def read(page, state: str, findings: list, layout: list, extra=()) -> None:
    """Collect this state's English runs and layout problems, each labelled with `state`."""
    wait_for_layout(page)
    findings += [{**f, "state": state} for f in findings_of(page.evaluate(COLLECT, None) + list(extra))]
    layout += [{**p, "where": state} for p in layout_problems(page)]


def test_other_states_in_korean_at_1024(app_server, chromium, tmp_path):
    context = chromium.new_context(viewport={"width": 1024, "height": 900}, locale="ko-KR")
    page = context.new_page()
    findings, layout, seen = [], [], []
    try:
        open_page(page, app_server, PATHS[0])
        upload(page, photo(tmp_path / "교실_사진.png"))
        page.wait_for_function("() => document.querySelector('[data-testid=\"stMain\"]').innerText"
                               ".includes('900×300')", timeout=10_000)
        settle_fully(page)
        for i, name in enumerate(PATHS):
            page.locator(NAV_LINKS).nth(i).click()
            settle_fully(page)
            assert_no_exception(page, f"{name} after an upload")
            read(page, f"{name}, upload", findings, layout, open_everything(page))
            for radio in page.locator("[data-testid='stRadio']").all():
                options = radio.locator("[data-testid='stRadioOption']")
                for k in range(options.count()):
                    if options.nth(k).get_attribute("data-selected") == "true":
                        continue
                    label = options.nth(k).inner_text().strip()
                    options.nth(k).click()
                    settle_fully(page)
                    assert_no_exception(page, f"{name}, option {label!r}")
                    read(page, f"{name}, option {label!r}", findings, layout)
                    seen.append(label)
            for switch in page.locator("[data-testid='stCheckbox']").all():
                label = switch.inner_text().strip()
                if switch.evaluate("e => !!e.closest('.st-key-att_play')"):
                    continue  # play: an animation, not a state (test_browser_attention.py)
                switch.locator("label").first.click()
                settle_fully(page)
                assert_no_exception(page, f"{name}, {label!r} switched")
                read(page, f"{name}, {label!r} switched", findings, layout)
                switch.locator("label").first.click()
                settle_fully(page)
                seen.append(label)
    finally:
        context.close()
    assert len(seen) >= 5, seen  # page 4's and 5's radio options, page 7's switches (and the test reached them)
    assert not findings, "English left in Korean:\n" + "\n".join(
        f"  {f['state']} [{f['kind']}] {f['where']}: {f['run']!r}" for f in findings)
    assert not layout, "cut off or wider than the screen:\n" + format_problems(layout)
