"""Cold start: from launching the app server (`python -m app`, as `make run` does) to the first drawn page in Chromium.

    python benchmarks/cold_start.py [--repeats 3]

Chromium is started first (a teacher's browser is already open); then the clock starts, the server is launched on a
free port, and the page is requested as soon as the server answers /_stcore/health; the clock stops when "Step 1" is
visible, no spinner is left and the app marks its script run finished (stApp data-test-script-state). Prints the time to a healthy server and to the
drawn page, each repeat and the median. Every repeat is a new server process (the OS file cache is warm after the
first: the first repeat is the one closest to a morning start).

A script, not a test: it prints figures and asserts nothing about time.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: benchmarks, harness, app

from benchmarks import machine  # noqa: E402
from harness import server  # noqa: E402
from harness.browser import launch  # noqa: E402

TARGET_S = 8.0


def once(browser, options: tuple[str, ...]) -> tuple[float, float]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    try:
        start = time.perf_counter()
        with server.running(options=options) as srv:  # entered once the server answers its health check
            healthy = time.perf_counter() - start
            page.goto(srv.url)
            page.get_by_text("Step 1").first.wait_for(timeout=300_000)
            # not harness.browser.settle: the quiet time it waits for would count in the time
            page.wait_for_function(  # the script's run state as Streamlit itself marks it (harness.browser.IDLE)
                "() => document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState === 'notRunning'",
                timeout=300_000, polling=50)
            page.wait_for_selector("[data-testid='stSpinner']", state="detached", timeout=300_000)
            page.locator("[data-testid='stImage'] img").first.wait_for(timeout=300_000)  # the pictures are there too
            drawn = time.perf_counter() - start
    finally:
        context.close()
    return healthy, drawn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--option", action="append", default=[], help="an extra streamlit flag for the server")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    started = machine.header("cold start: `python -m app` to the first drawn page in Chromium")
    times = []
    with sync_playwright() as p:
        browser = launch(p.chromium)
        for k in range(args.repeats):
            healthy, drawn = once(browser, tuple(args.option))
            times.append((healthy, drawn))
            print(f"  start {k + 1}: server healthy after {healthy:5.2f} s, page drawn after {drawn:5.2f} s", flush=True)
        browser.close()
    print(f"  median: server healthy {statistics.median(t[0] for t in times):.2f} s, page drawn "
          f"{statistics.median(t[1] for t in times):.2f} s (target ≤ {TARGET_S:.0f} s)")
    machine.footer(started)


if __name__ == "__main__":
    main()
