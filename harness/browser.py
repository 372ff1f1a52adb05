"""Driving the app in the system Chromium through Playwright, for the browser tests, the benchmarks and the scripts:
launching it, waiting for what Streamlit itself signals (the script's run state, stale elements, spinners), the
pages in the sidebar's order (app/steps) and the attention explorer.

A missing browser is a failure, not a skip: CI installs Chromium (scripts/install_system_packages.sh).
The test fixtures `app_server` (a URL) and `chromium` (a Playwright Browser) are in tests/conftest.py.
"""
from __future__ import annotations

import base64
import os
import shutil
import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from app.steps import STEPS, step
from harness.server import ROOT
from harness.stclient import ends_run

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
PATHS = [s.name for s in STEPS]  # the URL path of each page, in the sidebar's order (app/steps)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}  # a browser context's options


def launch(browser_type, *args: str):
    """The system Chromium (CHROMIUM) with the project's flags and `args`, from Playwright's `p.chromium`."""
    return browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *args])


# ---- waiting for the app's own signals ------------------------------------------------------------------------------
# stApp's data-test-connection-state ("CONNECTED") and data-test-script-state ("running", "notRunning", …), stale
# elements, spinners and skeletons, Plotly charts drawn and pictures loaded: what Streamlit itself says about a page.
IDLE = """(quiet) => {
    const q = s => document.querySelector(s), app = q('[data-testid="stApp"]');
    const why = !app ? 'no app on the page'
        : app.dataset.testConnectionState !== 'CONNECTED' ? `connection ${app.dataset.testConnectionState}`
        : app.dataset.testScriptState !== 'notRunning' ? `script ${app.dataset.testScriptState}`
        : q('[data-stale="true"]') ? 'stale elements'
        : q('[data-testid="stSpinner"], [data-testid="stSkeleton"]') ? 'a spinner or skeleton'
        : !q('[data-testid="stMain"] [data-testid="stVerticalBlock"]') ? 'nothing drawn in the page'
        : ![...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => c.querySelector('.main-svg'))
          ? 'a chart not drawn'
        : ![...document.images].every(i => i.complete) ? 'a picture loading' : '';
    window.__idle = why;
    if (why) { window.__idleSince = 0; return false; }
    window.__idleSince = window.__idleSince || performance.now();
    return performance.now() - window.__idleSince > quiet;
}"""


def wait_idle(page, timeout=30_000, quiet_ms=300, hop: str = "the page to settle") -> None:
    """Until the app has been idle for `quiet_ms` on end (IDLE); an AssertionError naming `hop` and what was still
    going on when `timeout` ms ran out."""
    page.evaluate("window.__idleSince = 0")
    try:
        page.wait_for_function(IDLE, arg=quiet_ms, timeout=timeout, polling=100)
    except PlaywrightTimeout:
        raise AssertionError(f"waited {timeout / 1000:.0f} s for {hop}: {page.evaluate('window.__idle')}") from None


def settle(page, timeout=30_000):
    """Until Streamlit has finished running the script and drawing, and 300 ms have passed with nothing more (a
    rerun starts a moment after the click that asks for it)."""
    wait_idle(page, timeout, 300)


def settle_fully(page, timeout=60_000, quiet_ms=500):
    """settle, quiet for longer: Streamlit draws a page in pieces, with pauses between."""
    wait_idle(page, timeout, quiet_ms, "the page to finish drawing")


class Runs:
    """The script runs that end from now on, counted from the app's own messages: every script_finished the page's
    websocket receives (harness.stclient.ends_run), read through Chrome DevTools, which reports the frames of a
    websocket opened before it was asked. (The script-state attribute is not enough: under load, a run whose start
    and end reach the page between two renders never shows "running" there.)

        with Runs(page) as runs:
            page.click(...)
            runs.wait(1, hop="the run after the click")
    """

    def __init__(self, page):
        self.page, self.ended = page, 0
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Network.webSocketFrameReceived", self._frame)
        self.cdp.send("Network.enable")

    def _frame(self, event) -> None:
        response = event["response"]
        if response.get("opcode") == 2:  # binary: a ForwardMsg
            message = ForwardMsg()
            message.ParseFromString(base64.b64decode(response["payloadData"]))
            self.ended += ends_run(message)

    def wait(self, n: int = 1, timeout=60_000, hop: str = "a script run") -> None:
        """Until `n` runs have ended since this counter started, then until the page is idle; an AssertionError naming
        `hop` if they have not within `timeout` ms."""
        deadline = time.monotonic() + timeout / 1000
        while self.ended < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout / 1000:.0f} s for {hop}: {self.ended} of {n} runs ended")
            self.page.wait_for_timeout(50)  # Playwright delivers the DevTools events while it waits
        wait_idle(self.page, timeout, 300, f"the page after {hop}")

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.cdp.detach()


UPLOADER = ".st-key-picture_upload [data-testid='stFileUploaderDropzoneInput']"  # not the lesson file's


def upload(page, files, selector: str = UPLOADER, timeout=60_000) -> None:
    """Upload `files` (a path, or paths) through the sidebar's uploader, hop by hop, each hop with its own deadline and
    named in the error: the app connected and idle; the file's PUT /_stcore/upload_file answered 204 (the file set
    again once if the browser never sent it); a script run finished after it, and the page idle."""
    wait_idle(page, timeout, 300, "the page before the upload")
    with Runs(page) as runs:
        answer = None
        for attempt in (1, 2):
            try:
                with page.expect_response(lambda r: "/_stcore/upload_file/" in r.url and r.request.method == "PUT",
                                          timeout=20_000) as put:
                    page.locator(selector).set_input_files(files)
                answer = put.value
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise AssertionError("the upload's PUT /_stcore/upload_file was never answered (20 s, twice)"
                                         ) from None
        assert answer.status == 204, f"the upload's PUT /_stcore/upload_file answered {answer.status}, not 204"
        runs.wait(1, timeout, "the run after the upload")


def assert_no_exception(page, where: str):
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, f"{where}: {errors.first.inner_text()}"


# Korean words split across two lines (issue 28 §6), anywhere in the main area (the explorer included): each maximal
# run of letters and digits with a Hangul syllable in it ("16개의"; a line may break before a bracket, as Unicode's
# rules allow), in one text node, whose pieces lie on more than one line although it is narrower than its block (a
# word too long for a line may break: overflow-wrap). Returns those words. test_browser_layout's phone walk and
# test_browser_phones.py read it on every Korean page.
SPLIT_WORDS = r"""() => {
  const main = document.querySelector("[data-testid='stMain']"), broken = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || !el.checkVisibility() || el.closest("pre, code, svg, [data-testid='stCode']")) continue;
    for (const m of n.data.matchAll(/[\p{L}\p{N}]*[\uac00-\ud7a3][\p{L}\p{N}]*/gu)) {
      const range = document.createRange();
      range.setStart(n, m.index);
      range.setEnd(n, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0);
      const tops = new Set(rects.map((r) => Math.round(r.top)));
      const width = rects.reduce((w, r) => w + r.width, 0);
      const block = el.closest("p, li, h1, h2, h3, h4, td, th, div, label, summary") || el;
      if (tops.size > 1 && width < block.clientWidth) broken.push(m[0]);
    }
  }
  return broken;
}"""


# ---- the walks over every page (test_browser_korean.py, test_browser_layout.py) -----------------------------------
NAV_LINKS = "[data-testid='stSidebarNav'] a"


def page_url(base: str, name: str) -> str:
    """The address of the page `name` of PATHS. The first page is the default page: Streamlit serves it at the root
    (its own name, /patches, answers "Page not found")."""
    return f"{base}/{step(name).path}"


def script_page(browser, js: str):
    """A blank page with `js` loaded as a classic script, its functions the page's globals: where a parity test runs
    the app's JavaScript ports beside their Python references, with no server."""
    page = browser.new_page()
    page.set_content("<!doctype html><meta charset=utf-8><body></body>")
    page.add_script_tag(content=js)
    return page


def open_page(page, base: str, name: str, timeout=90_000):
    """Open the page `name` of PATHS by its address (a new session), wait until it has settled; no exception shown."""
    page.goto(page_url(base, name))
    page.wait_for_selector(NAV_LINKS, state="attached", timeout=timeout)
    settle_fully(page, timeout=timeout)
    assert_no_exception(page, name)


def choose_model(page, label: str) -> None:
    """Pick `label` in the sidebar's model picker, as a person would."""
    option = page.get_by_role("option", name=label)
    for _ in range(3):  # a rerun that lands while the list opens closes it again
        page.locator(".st-key-model_choice [role='combobox']").click()
        try:
            option.wait_for(timeout=5_000)
            break
        except Exception:
            settle(page)
    option.click()
    settle(page)


def open_explorer(page, url: str, timeout=120_000) -> None:
    """Open `url` (the attention page) and wait until the explorer (app/components/explorer) has drawn its matrix."""
    page.goto(url)
    page.locator(".vx canvas.vx-matrix").wait_for(state="attached", timeout=timeout)
    settle(page)
    page.wait_for_function("() => document.querySelector('.vx canvas.vx-matrix').width > 0", timeout=timeout)


def explorer_view(page) -> tuple[int, int, int]:
    """(layer, head, query patch) as the explorer shows them: its two sliders and its patch number."""
    return tuple(int(page.locator(f".vx [data-key='{k}']").input_value()) for k in ("layer", "head", "query"))
