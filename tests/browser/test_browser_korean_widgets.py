"""Korean in every widget state (issue 28 §4): test_browser_korean.py reads every page as it opens; this reads what
only shows when a learner touches it. On every page, in a Korean browser, it switches on every toggle and checkbox,
opens every expander and popover, and opens the list of every select box and multiselect, the sidebar's included.

The same detector (`english_runs`, its ALLOWED names) reads the result: the page after the toggles, with its
expanders and popovers open, may hold no run of three English words (the page rule); the opened lists, which are
Streamlit's own words around the app's options ("Select all", "No results"), may hold no English word at all.
Nothing is submitted: a toggle reruns the page on the teaching model, the lists are closed with Escape.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from harness.browser import PATHS, Runs, open_page

from tests.browser.test_browser_korean import _HANGUL_CJK, COLLECT, TO_TOP, findings_of

LIST = "[role='listbox']"
SWITCHES = ("[data-testid='stToggle'] input[type='checkbox'], [data-testid='stCheckbox'] input[type='checkbox']")
BOXES = "[data-testid='stSelectbox'], [data-testid='stMultiSelect']"


def switch_everything_on(page) -> list[str]:
    """Every toggle and checkbox that is off and enabled, switched on (each one a script run); their labels."""
    done = []
    for _ in range(20):  # switching one on can draw another: take the first one left until none is
        off = [s for s in page.locator(SWITCHES).all() if s.is_enabled() and not s.is_checked()
               and s.evaluate("e => e.closest('label').checkVisibility()")]
        if not off:
            return done
        label = off[0].locator("xpath=ancestor::label[1]")
        name = label.inner_text().strip()
        with Runs(page) as runs:
            label.click()
            runs.wait(1, hop=f"the run after switching on {name!r}")
        assert off[0].is_checked(), f"{name!r} did not switch on"
        done.append(name)
    raise AssertionError(f"switches kept appearing: {done}")


def open_expanders_and_popovers(page) -> list[dict]:
    """Every expander opened (they stay open), every popover opened and read (it closes again); what the popovers
    held, as COLLECT gives it."""
    closed = "[data-testid='stExpander'] details:not([open]) > summary"
    page.evaluate("(s) => document.querySelectorAll(s).forEach((summary) => summary.click())", closed)
    page.wait_for_function("(s) => !document.querySelector(s)", arg=closed, timeout=5_000)  # all open
    held = []
    for button in page.locator("[data-testid='stPopover'] button").all():
        if not button.is_visible():
            continue
        button.click()
        body = page.locator("[data-testid='stPopoverBody']")
        body.first.wait_for(timeout=5_000)
        held += page.evaluate(COLLECT, "[data-testid='stPopoverBody']")
        page.keyboard.press("Escape")
        body.first.wait_for(state="detached", timeout=5_000)
    return held


def opened(page, combobox) -> bool:
    """Open a select box's or multiselect's list: a click, or, where the click only focused it (a click on a box
    just scrolled into view is sometimes), the arrow key that opens it."""
    items = page.locator(f"{LIST} [role='option']")
    for act in (combobox.click, lambda: page.keyboard.press("ArrowDown")):
        act()
        try:
            items.first.wait_for(timeout=1_000)
            return True
        except PlaywrightTimeout:
            pass
    page.keyboard.press("Escape")
    return False


def open_every_list(page, where: str) -> list[dict]:
    """Each select box's and multiselect's list under `where` opened, read (COLLECT on the list: its options,
    Streamlit's own entries, its empty state) and closed again."""
    found = []
    for box in page.locator(where).locator(BOXES).all():
        if not box.is_visible():
            continue
        label = box.locator("[data-testid='stWidgetLabel']").inner_text().strip()
        if not any(opened(page, box.locator("[role='combobox']").first) for _ in range(3)):
            raise AssertionError(f"the list of {label!r} did not open")
        found += [{**s, "where": f"list of {label!r}: {s['where']}"} for s in page.evaluate(COLLECT, LIST)]
        page.keyboard.press("Escape")
        page.locator(LIST).first.wait_for(state="detached", timeout=5_000)
    return found


@pytest.fixture(scope="module")
def korean_page(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="ko-KR")
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("name", PATHS)
def test_no_english_in_any_widget_state(app_server, korean_page, name):
    page = korean_page
    open_page(page, app_server, name)
    switched = switch_everything_on(page)
    held = open_expanders_and_popovers(page)
    page.evaluate(TO_TOP)
    segments = page.evaluate(COLLECT, None) + held
    # the sidebar is the same on every page: its lists are read on the first one
    lists = open_every_list(page, "[data-testid='stMain']" if name != PATHS[0] else "body")
    assert any(_HANGUL_CJK.search(s["text"]) for s in segments), f"{name}: the page is not in Korean at all"
    assert lists or name != PATHS[0], "no list was opened"  # the sidebar has select boxes
    found = findings_of(segments) + findings_of(lists, min_words=1)
    assert not found, f"{name} (switched on: {switched}): English left in the Korean page:\n" + "\n".join(
        f"  [{f['kind']}] {f['where']}: {f['run']!r}" for f in found)


def test_streamlit_words_with_a_number_in_them_are_translated(chromium):
    """translate.js on a static page with the Korean texts (app/streamlit_texts.texts): exact strings, and patterns
    whose {name} stands for any text, in text and in attributes; English words of the app's own are left alone."""
    from app.components import joined
    from app.streamlit_texts import texts

    page = chromium.new_page()
    try:
        page.set_content("""<div><span>Select all</span><span>Select 13 matches</span><span>No results</span>
            <button aria-label="Remove 1.2">x</button><button aria-label="Clear all">x</button>
            <span>Select all of it</span></div>""")
        page.add_script_tag(content=joined("streamlit_texts", ["translate.js"]))
        page.evaluate("(texts) => { window.__vitTexts = texts; translate(document.body); }", texts("ko"))
        assert page.locator("span").all_inner_texts() == ["모두 선택", "찾은 13개 모두 선택", "결과 없음",
                                                          "Select all of it"]
        assert [b.get_attribute("aria-label") for b in page.locator("button").all()] == ["1.2 빼기", "모두 지우기"]
    finally:
        page.close()
