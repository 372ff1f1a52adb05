"""Bytes a step sends to the browser, measured in the real browser: Chromium (Playwright) against the app server (`python -m app`).

    python benchmarks/payload.py [--clicks 20] [--models teaching,b16]

Loads the app, opens "5 · Attention explorer" by its sidebar link, and clicks ▶ (next head) `--clicks` times,
waiting after each click for the run it causes to finish (its script_finished message) and the page to settle: the
explorer draws the step itself (app/explorer.js), and the run is its debounced report of the new view, which reruns
the explorer's fragment and sends the explorer's data again (unchanged: the browser ignores it). For the
ViT-B/16-shaped model (random weights, saved with vit_core.save_model to a temporary folder) the model is chosen
through the sidebar first: the model selectbox → "A checkpoint folder on this computer…" → the folder typed into the
text input.

Counted with page.on("websocket") / ws.on("framereceived"): the payload bytes of every frame the server sends. Chromium
negotiates permessage-deflate with the server, so the bytes on the wire are fewer; these are what the browser has
to parse. Also counted: the pictures (st.image) the browser then fetches over HTTP from /media/, and what the
initial page load cost (websocket frames, and every HTTP response body: the JavaScript bundle included).

A script, not a test: it prints figures and asserts nothing about time or size.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: benchmarks, harness, app

from benchmarks import machine, workload  # noqa: E402
from harness import server, stclient  # noqa: E402
from harness.browser import launch, settle  # noqa: E402

TARGET_KB = 150


class Counter:
    """Websocket frames received and HTTP bodies, since the last `take()`; the runs that ended (harness.stclient)."""

    def __init__(self):
        self.runs = None  # a stclient.PageRuns, once attached
        self.taken = 0  # frames already counted by take()
        self.media = 0
        self.http = 0

    @property
    def finished(self) -> int:
        """Runs that ended (script_finished seen)."""
        return self.runs.ended

    def attach(self, page) -> None:
        def on_finished(request):
            try:
                size = request.sizes()["responseBodySize"]
            except Exception:  # noqa: BLE001 - a request without sizes (aborted, cached) counts as 0
                size = 0
            self.http += max(size, 0)
            if "/media/" in request.url:
                self.media += max(size, 0)

        self.runs = stclient.PageRuns(page)
        page.on("requestfinished", on_finished)

    def take(self) -> tuple[int, int, int, int]:
        frames = self.runs.frames[self.taken:]
        self.taken += len(frames)
        out = (sum(size for size, _ in frames), len(frames), self.media, self.http)
        self.media = self.http = 0
        return out


def until_run_ends(page, counter: Counter, before: int, timeout: float = 300) -> None:
    """A run has ended since `before` runs had, and the page has settled: drawn, and no request left in flight."""
    counter.runs.wait(page, before, timeout)
    settle(page, timeout=300_000)
    page.wait_for_load_state("networkidle")


def measure(browser, url: str, name: str, folder: str | None, clicks: int) -> dict:
    counter = Counter()
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    counter.attach(page)
    page.goto(url)
    page.get_by_text("Step 1").first.wait_for(timeout=300_000)
    until_run_ends(page, counter, 0)
    load = counter.take()
    before = counter.finished
    page.get_by_role("link", name=workload.ATTENTION).click()
    until_run_ends(page, counter, before)
    if folder:
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_test_id("stSelectbox").filter(has_text="Vision Transformer").click()
        before = counter.finished
        page.get_by_role("option", name=workload.LOCAL_FOLDER).click()
        until_run_ends(page, counter, before)
        box = sidebar.get_by_test_id("stTextInput").locator("input")
        box.fill(folder)
        before = counter.finished
        box.press("Enter")
        until_run_ends(page, counter, before)
        page.get_by_text("197×197").first.wait_for(timeout=300_000)  # the page now shows the B/16 shapes
    opened = counter.take()
    steps = []
    head = page.locator(".vx [data-key='head']")
    for _ in range(clicks):
        shown = head.input_value()
        before = counter.finished
        page.locator(".vx button[data-act='next-head']").click()  # drawn by the browser; the run is its report
        until_run_ends(page, counter, before)
        if head.input_value() == shown:
            raise RuntimeError("the head slider did not move")
        steps.append(counter.take())
    errors = page.locator("[data-testid='stException']").count()
    context.close()
    ws = [s[0] for s in steps]
    media = [s[2] for s in steps]
    print(f"\n{name}: {clicks} clicks on ▶")
    print(f"  initial load (page 1): websocket {load[0] / 1000:7.1f} KB in {load[1]} frames; all HTTP bodies "
          f"{load[3] / 1000:7.1f} KB (pictures {load[2] / 1000:.1f} KB)")
    print(f"  opening the explorer{' + choosing the model' if folder else ''}: websocket {opened[0] / 1000:7.1f} KB; "
          f"pictures {opened[2] / 1000:7.1f} KB")
    print(f"  per step, websocket: median {statistics.median(ws) / 1000:6.1f} KB, max {max(ws) / 1000:6.1f} KB "
          f"(target ≤ {TARGET_KB} KB); frames per step {statistics.median([s[1] for s in steps]):.0f}")
    print(f"  per step, pictures over HTTP: median {statistics.median(media) / 1000:6.1f} KB, "
          f"max {max(media) / 1000:6.1f} KB; websocket + pictures median "
          f"{statistics.median([a + b for a, b in zip(ws, media)]) / 1000:6.1f} KB")
    print(f"  exceptions shown: {errors}")
    return {"name": name, "ws": ws, "media": media, "load": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--models", default="teaching,b16")
    parser.add_argument("--option", action="append", default=[], help="an extra streamlit flag for the server")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    started = machine.header("payload: bytes per step in Chromium")
    with tempfile.TemporaryDirectory() as tmp, server.running(options=tuple(args.option)) as srv, \
            sync_playwright() as p:
        browser = launch(p.chromium)
        for key in args.models.split(","):
            if key == "teaching":
                measure(browser, srv.url, "teaching model", None, args.clicks)
            else:
                folder = str(workload.b16_checkpoint(Path(tmp) / "b16"))
                measure(browser, srv.url, "random ViT-B/16 (local folder)", folder, args.clicks)
        browser.close()
    machine.footer(started)


if __name__ == "__main__":
    main()
