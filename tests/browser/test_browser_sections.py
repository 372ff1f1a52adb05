"""A lesson's section, scrolled to in a real browser (app/components/scroll), at 1366 px and on a 390 px phone: the
app as `python -m app` serves it, with scroll.to mounted after the page as the lesson player will mount it (a wrapper
script around app/main.py, since the player is not in this test's hands). The section far down the page comes into
the view below Streamlit's header and takes the keyboard focus; the explorer's own distances heading, drawn by its
component after scroll.to has mounted, is waited for; a rerun of the same request does not scroll again. A screenshot
of each is left in test-artifacts/ for a person to look at, and axe-core finds no serious or critical violation."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap

import pytest

from harness import server
from harness.browser import ARTIFACTS, PHONE, assert_no_exception, explorer_view, open_page, settle_fully
from tests.browser.test_browser_a11y import violations

DEVICES = {"1366": {"viewport": {"width": 1366, "height": 768}}, "phone": PHONE}
TARGETS = {"encoder": "encoder-worked", "paper": "paper-table1", "attention": "attention-distances"}
NEXT_BEAT = {"section": "distances", "layer": "last", "head": 3, "query": 10}  # on the attention page
WRAPPER = """
import json, os, runpy
import streamlit as st
runpy.run_path(os.environ["VIT_MAIN"], run_name="__main__")  # the app, its sidebar and the page asked for
from app.components import scroll
targets = json.loads(os.environ["VIT_SCROLL"])  # page → the anchor to scroll to there
if (anchor := targets.get(st.session_state.get("_link_here"))) is not None:
    # "Run again": a rerun of the same request (the same beat), the component mounted anew under another key, as a
    # player that keys it by page would: its JavaScript runs again, and must not scroll again
    runs = st.session_state.setdefault("scroll_test_runs", 0)
    beat = st.session_state.setdefault("scroll_test_beat", 1)
    scroll.to(anchor, key=f"lesson_scroll_{runs}", nonce=f"beat-{beat}")
    st.button("Run again", key="scroll_test_rerun", on_click=lambda: st.session_state.update(scroll_test_runs=runs + 1))

    def next_beat():  # the next beat, on the same page: its view set as the lesson player sets it
        from app import core
        from app.lessons.views import widget_values
        config = core.get_model(st.session_state["model_id"]).model.config
        values, _ = widget_values("attention", json.loads(os.environ["VIT_BEAT"]), config)
        st.session_state.update(values, scroll_test_beat=beat + 1)

    st.button("Next beat", key="scroll_test_beat_button", on_click=next_beat)
"""
# where the section is: its top against the header's bottom and the view's height, and whether it has the focus
WHERE = """(anchor) => {
    const el = document.getElementById(anchor) || document.querySelector('.st-key-' + anchor);
    if (!el) return null;
    const bar = document.querySelector("[data-testid='stHeader']");
    return {top: el.getBoundingClientRect().top, header: bar ? bar.getBoundingClientRect().bottom : 0,
            height: window.innerHeight, focused: document.activeElement === el};
}"""
IN_VIEW = f"""(anchor) => {{  // at the top of the view below the header, or in view with the page at its end
    const w = ({WHERE})(anchor);
    if (w === null || !w.focused || w.top < w.header - 2 || w.top > w.height - 40) return false;
    const end = [document.scrollingElement, ...document.querySelectorAll("[data-testid='stMain']")]
        .some(e => e.scrollHeight > e.clientHeight && e.scrollTop + e.clientHeight >= e.scrollHeight - 2);
    return w.top < w.header + 60 || end;
}}"""
SCROLLERS = "[window, ...document.querySelectorAll(\"[data-testid='stMain'], [data-testid='stAppViewContainer']\")]"
SCROLLED = f"() => Math.max(...{SCROLLERS}.map(e => e === window ? window.scrollY : e.scrollTop))"
TO_TOP = f"() => {SCROLLERS}.forEach(e => e.scrollTo(0, 0))"


@pytest.fixture(scope="module")
def wrapped_app(tmp_path_factory):
    """The app's server on app/main.py wrapped by WRAPPER, which mounts scroll.to on each page of TARGETS."""
    folder = tmp_path_factory.mktemp("scroll_app")
    (folder / "main.py").write_text(textwrap.dedent(WRAPPER), encoding="utf-8")
    (folder / "steps").symlink_to(server.ROOT / "app" / "steps")  # main.py's pages, relative to the script run
    port = server.free_port()
    env = {**os.environ, "PYTHONPATH": str(server.ROOT), "VIT_MAIN": str(server.ROOT / "app" / "main.py"),
           "VIT_SCROLL": json.dumps(TARGETS), "VIT_BEAT": json.dumps(NEXT_BEAT)}
    launch = "import sys; from app import serve; serve.MAIN = sys.argv.pop(1); serve.main()"
    proc = subprocess.Popen([sys.executable, "-c", launch, str(folder / "main.py"), "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=server.ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        server.wait_healthy(url, proc=proc)
        yield url
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("name", list(TARGETS))
def test_scroll_to_brings_a_section_far_down_into_view_and_focus(wrapped_app, chromium, name, device):
    anchor = TARGETS[name]
    context = chromium.new_context(**DEVICES[device])
    page = context.new_page()
    try:
        open_page(page, wrapped_app, name)
        page.wait_for_function(IN_VIEW, arg=anchor, timeout=30_000)
        where = page.evaluate(WHERE, anchor)
        scrolled = page.evaluate(SCROLLED)
        assert scrolled > where["height"], f"{anchor} was not far down the page ({scrolled} px)"
        assert_no_exception(page, f"{name} ({device})")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"sections_{name}_{device}.png")
        problems = violations(page, f"{name} scrolled to {anchor} ({device})")  # the focused section among them
        assert not problems, "axe-core, WCAG 2.1 A/AA:\n" + "\n".join(problems)

        # the learner scrolls away (a wheel: the section is no longer held in place); a rerun of the same request
        # (the same beat) leaves them there
        page.mouse.wheel(0, -200)
        page.evaluate(TO_TOP)
        seen = page.evaluate("window.__vitScrollSeen")
        page.locator(".st-key-scroll_test_rerun button").dispatch_event("click")  # a click that scrolls nothing
        page.wait_for_function("(n) => window.__vitScrollSeen > n", arg=seen, timeout=30_000)  # mounted again
        settle_fully(page)
        scrolled = page.evaluate(SCROLLED)  # still at the top (the browser may shift the page by a pixel or two)
        assert scrolled < 100, f"{anchor} scrolled to again on a rerun: {scrolled} px, {page.evaluate(WHERE, anchor)}"
    finally:
        context.close()


def test_the_next_beat_on_the_same_page_moves_the_explorer_and_scrolls_again(wrapped_app, chromium):
    """Two beats on the attention page: the explorer, already drawn, shows the second beat's view (layer, head, query
    patch set by widget_values), and the new nonce scrolls to the section again after the learner scrolled away."""
    context = chromium.new_context(**DEVICES["1366"])
    page = context.new_page()
    try:
        open_page(page, wrapped_app, "attention")
        page.wait_for_function(IN_VIEW, arg=TARGETS["attention"], timeout=30_000)
        assert explorer_view(page) == (1, 1, 24)  # where the explorer opens
        page.mouse.wheel(0, -200)
        page.evaluate(TO_TOP)
        page.locator(".st-key-scroll_test_beat_button button").dispatch_event("click")
        page.wait_for_function("() => document.querySelector(\".vx [data-key='layer']\").value === '6'",
                               timeout=30_000)
        assert explorer_view(page) == (6, 3, 10)
        page.wait_for_function(IN_VIEW, arg=TARGETS["attention"], timeout=30_000)
        assert_no_exception(page, "attention, the next beat")
    finally:
        context.close()
