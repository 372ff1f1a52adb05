"""Accessibility in a real browser (issue 17, docs/ACCESSIBILITY.md).

axe-core (from the PyPI package axe-playwright-python, which ships it; nothing is copied here) runs its WCAG 2.1 A and
AA rules on every page, in English and in Korean, at 1366 px and on a 390 px phone, with every expander open (the
charts' text alternatives are tables inside them), and again on every page after an upload. Any serious or critical
violation fails, with the rule, what it asks and where.

The keyboard alone: on the attention page, Tab reaches the layer and head sliders and then "Next head ▶" in that order
(◀ is disabled on the first head), each with a visible focus ring, and Enter on "Next head" moves the explorer to the
next head.
"""
from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from app.i18n import catalog

from harness.browser import NAV_LINKS, PATHS, assert_no_exception, open_page, settle_fully, upload
from tests.browser.test_browser_layout import LOCALES, PHONE
from tests.browser.test_browser_states import photo


RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
         "resultTypes": ["violations"]}
FAILING = {"serious", "critical"}
DEVICES = {"1366": {"viewport": {"width": 1366, "height": 900}}, "phone": PHONE}
_axe = Axe()


def open_expanders(page) -> None:
    """Open every closed expander of the main area (no rerun: Streamlit draws their content already)."""
    page.evaluate("""() => document.querySelectorAll('[data-testid="stMain"] details:not([open]) > summary')
                          .forEach(s => s.click())""")
    page.wait_for_timeout(300)


def violations(page, where: str) -> list[str]:
    """The serious and critical WCAG 2.1 A/AA violations on the page as it is, one line per rule."""
    found = _axe.run(page, options=RULES).response["violations"]
    return [f"{where}: {v['impact']} {v['id']} ({v['help']}) × {len(v['nodes'])}, e.g. {v['nodes'][0]['target']}"
            for v in found if v["impact"] in FAILING]


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("lang", list(LOCALES))
def test_axe_on_every_page(app_server, chromium, lang, device):
    context = chromium.new_context(locale=LOCALES[lang], **DEVICES[device])
    page = context.new_page()
    problems = []
    try:
        for name in PATHS:
            open_page(page, app_server, name)
            open_expanders(page)
            problems += violations(page, f"{name} ({lang}, {device})")
    finally:
        context.close()
    assert not problems, "axe-core, WCAG 2.1 A/AA:\n" + "\n".join(problems)


def test_axe_on_every_page_after_an_upload(app_server, chromium, tmp_path):
    context = chromium.new_context(locale=LOCALES["ko"], **DEVICES["1366"])
    page = context.new_page()
    problems = []
    try:
        open_page(page, app_server, PATHS[0])
        upload(page, photo(tmp_path / "class_photo.png"))
        page.wait_for_function("() => document.querySelector('[data-testid=\"stMain\"]').innerText"
                               ".includes('900×300')", timeout=10_000)
        for i, name in enumerate(PATHS):
            page.locator(NAV_LINKS).nth(i).click()
            settle_fully(page)
            assert_no_exception(page, f"{name} after an upload")
            open_expanders(page)
            problems += violations(page, f"{name} (ko, 1366, after an upload)")
    finally:
        context.close()
    assert not problems, "axe-core, WCAG 2.1 A/AA, after an upload:\n" + "\n".join(problems)


# ---- the keyboard alone ----------------------------------------------------------------------------------------------
FOCUSED = """() => {
    const e = document.activeElement;
    const s = getComputedStyle(e);
    const box = e.closest('[class*="st-key-"]'), explorer = e.closest('.vx');  // the explorer's own controls
    return {key: explorer ? 'vx:' + (e.dataset.act || e.dataset.key || e.tagName.toLowerCase())
                 : box ? [...box.classList].find(c => c.startsWith('st-key-')).slice(7) : '',
            role: e.getAttribute('role') || e.tagName.toLowerCase(), text: (e.innerText || '').trim(),
            ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1};
}"""


def test_the_attention_explorer_by_keyboard_alone(app_server, chromium):
    en = catalog("en")
    context = chromium.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        open_page(page, app_server, "attention")
        heading = page.locator("[data-testid='stMain'] h3").filter(has_text=re.compile(r"^Layer \d+, head \d+"))
        before = heading.first.inner_text()
        assert before.startswith("Layer 1, head 1:"), before  # a new session starts at the first head
        visited = []
        for _ in range(200):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUSED)
            visited.append(focused)
            if focused["key"] == "vx:next-head":
                break
        keys = [f["key"] for f in visited]
        assert "vx:next-head" in keys, f"Tab never reached {en['attention.next']!r}: {keys}"
        # ◀ is disabled at layer 1, head 1
        assert keys.index("vx:layer") < keys.index("vx:head") < keys.index("vx:next-head"), keys
        assert visited[keys.index("vx:next-head")]["text"] == en["attention.next"]  # a real button, named
        unringed = [f for f in visited if f["key"] in ("vx:layer", "vx:head", "vx:next-head") and not f["ring"]]
        assert not unringed, f"focused without a visible ring: {unringed}"
        page.keyboard.press("Enter")
        page.wait_for_function("(before) => ![...document.querySelectorAll('[data-testid=\"stMain\"] h3')]"
                               ".some(h => h.innerText === before)", arg=before, timeout=30_000)
        assert heading.first.inner_text().startswith("Layer 1, head 2:"), heading.first.inner_text()
        page.keyboard.press("ArrowRight")  # the presenter's keys work from the focused button too
        assert heading.first.inner_text().startswith("Layer 1, head 3:"), heading.first.inner_text()
    finally:
        context.close()
