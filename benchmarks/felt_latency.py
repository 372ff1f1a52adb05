"""How long a step of the attention explorer takes as a learner feels it: from the click to the last visual change.

    python benchmarks/felt_latency.py [--steps 30] [--model teaching|b16|both] [--url URL] [--quiet-ms 400]
                                      [--page attention|tokens]

In Chromium (the system one, headless) at 1366 × 900 px, on the attention page (page 5), "Next head ▶" is clicked
`--steps` times, a pause between clicks. For each click the page records, in the browser's own clock
(performance.now()):

- the click, by a capture-phase listener on the document (before React or Streamlit see it);
- every DOM change after it (a MutationObserver on the whole document: nodes, attributes, text), except Streamlit's
  "Running…" status widget, which is chrome, not the view, and the marks a rerun sets and clears on the elements it
  may redraw (`data-stale` and its class on an element container, `data-test-script-state` on the app): Streamlit
  fades a stale element only after 0.5 s (`transition: opacity 1s ease-in 0.5s`), so a mark cleared sooner changes
  no pixel, and a rerun that redraws something is counted by what it redraws;
- every canvas draw (CanvasRenderingContext2D drawImage, putImageData, fill, stroke, fillRect, fillText and WebGL
  drawArrays / drawElements, wrapped before the page's scripts run);
- every picture that finishes loading (an <img> swapped by the step is a change only once it is decoded).

A step is over when nothing has changed for `--quiet-ms` and the heading names the next head. Its felt time is the
last change minus the click. The quiet wait is not counted; it only has to be longer than any gap inside one step
(Streamlit's fragment rerun sends its deltas within a few ms of each other; 400 ms leaves room).

With `--page tokens`, the step is a press of an arrow key on step 8's layer slider (Inside the tokens), the layer
view's (app/components/lens), which draws every part in the browser as the explorer does: from the key press (a
capture-phase keydown listener) to the last visual change, once the slider's part shows the new layer. Its report to
the server (debounced, 400 ms) reruns the page's fragment; what that changes on the page is counted too. (Before
issue 27's layer view, the slider was Streamlit's and each step reran the fragment: 200–313 ms, docs/PERFORMANCE.md.)

Models: the teaching model (28 × 28, 6 × 4 heads, 50 tokens) and a random ViT-B/16-shaped checkpoint (224 × 224,
12 × 12 heads, 197 tokens; benchmarks/workload.b16_checkpoint) chosen in the sidebar as "A checkpoint folder on this
computer…". Without --url the script starts `python -m app` on a free port, and stops it.

A script, not a test: it prints p50 / p95 / max and asserts nothing about time. The figures are in
docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: benchmarks, harness, app
from playwright.sync_api import sync_playwright  # noqa: E402

from benchmarks import workload  # noqa: E402
from harness import server  # noqa: E402
from harness.browser import NAV_LINKS, choose_model, launch, open_page, settle_fully  # noqa: E402

# Installed before any of the page's scripts: the click, the DOM and the canvas, in one clock.
INSTRUMENT = r"""
(() => {
  const w = window;
  w.__felt = {click: null, last: null, changes: 0};
  const seen = () => { if (w.__felt.click !== null) { w.__felt.last = performance.now(); w.__felt.changes++; } };
  const begin = () => { w.__felt.click = performance.now(); w.__felt.last = null; w.__felt.changes = 0; };
  document.addEventListener("click", begin, true);
  document.addEventListener("keydown", begin, true);  // a step of a slider moved by its keys (--page tokens)
  const status = "[data-testid='stStatusWidget'], [data-testid='stToolbar'], [data-testid='stDecoration']";
  const start = () => new MutationObserver((ms) => {
      for (const m of ms) {
        const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
        if (el && el.closest && el.closest(status)) continue;
        if (m.type === "attributes" && el && (m.attributeName === "data-test-script-state" ||
            (["class", "data-stale"].includes(m.attributeName) && el.dataset.testid === "stElementContainer")))
          continue;  // a rerun marks elements stale: faded only after 0.5 s (opacity 1s ease-in 0.5s), not drawn
        seen(); return;
      }
    }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
  document.addEventListener("load", (e) => { if (e.target.tagName === "IMG") seen(); }, true);
  const wrap = (proto, names) => { if (!proto) return;
    for (const n of names) { const f = proto[n]; if (typeof f !== "function") continue;
      proto[n] = function (...a) { seen(); return f.apply(this, a); }; } };
  wrap(w.CanvasRenderingContext2D && CanvasRenderingContext2D.prototype,
       ["drawImage", "putImageData", "fill", "stroke", "fillRect", "fillText", "strokeRect", "clearRect"]);
  for (const gl of [w.WebGLRenderingContext, w.WebGL2RenderingContext])
    wrap(gl && gl.prototype, ["drawArrays", "drawElements"]);
})();
"""

HEADING = "[data-testid='stMain'] h3"
# the explorer's "Next head" button: in the browser's explorer (app/explorer.js), or the Streamlit button of before
NEXT = ".vx button[data-act='next-head'], [class*='st-key-att_next'] button"


def heading(page) -> str:
    return page.evaluate(f"""() => ([...document.querySelectorAll("{HEADING}")]
                                     .map(h => h.innerText).find(t => /^(Layer|\\d+층)/.test(t)) || '')""")


def one_step(page, quiet_ms: int, timeout_ms: int = 60_000) -> tuple[float, int]:
    """Click "Next head", wait until the heading changed and nothing changed for quiet_ms; (felt ms, changes)."""
    before = heading(page)
    page.locator(NEXT).click()
    page.wait_for_function("(b) => { const h = [...document.querySelectorAll(\"" + HEADING + "\")]"
                           ".map(h => h.innerText).find(t => /^(Layer|\\d+층)/.test(t)); return h && h !== b; }",
                           arg=before, timeout=timeout_ms)
    page.wait_for_function("""(q) => { const f = window.__felt;
        return f.last !== null && performance.now() - f.last >= q
               && document.querySelector("[data-testid='stApp']")?.dataset.testScriptState !== "running"; }""",
                           arg=quiet_ms, timeout=timeout_ms, polling=50)
    felt = page.evaluate("() => [window.__felt.last - window.__felt.click, window.__felt.changes]")
    return float(felt[0]), int(felt[1])


# ---- step 8, Inside the tokens: a step of the layer view's slider, by its arrow keys (drawn in the browser) --------
LENS_SLIDER = ".lx-layer input[type='range']"
SHOWS = "([sel, v]) => document.querySelector(sel)?.textContent === v"
LENS_SHOWN = ".lx-layer .lx-value"  # the layer the slider's part shows, written with every part's redraw


def slider_step(page, key: str, quiet_ms: int, timeout_ms: int = 60_000) -> tuple[float, int]:
    """Press `key` on the focused layer slider; wait until the layer view shows the new layer and nothing changed
    for quiet_ms (its report's rerun on the server included); (felt ms, changes)."""
    slider = page.locator(LENS_SLIDER)
    shown = int(slider.input_value()) + (1 if key == "ArrowRight" else -1)
    slider.focus()
    page.keyboard.press(key)
    page.wait_for_function(SHOWS, arg=[LENS_SHOWN, str(shown)], timeout=timeout_ms)
    page.wait_for_function("""(q) => { const f = window.__felt;
        return f.last !== null && performance.now() - f.last >= q
               && document.querySelector("[data-testid='stApp']")?.dataset.testScriptState !== "running"; }""",
                           arg=quiet_ms, timeout=timeout_ms, polling=50)
    felt = page.evaluate("() => [window.__felt.last - window.__felt.click, window.__felt.changes]")
    return float(felt[0]), int(felt[1])


def open_on_model(page, base: str, folder: str | None) -> None:
    """Page 1, then (with `folder`) the model in that folder, chosen in the sidebar's picker as a teacher would."""
    open_page(page, base, "patches")
    if folder:
        choose_model(page, workload.LOCAL_FOLDER)
        box = page.locator(".st-key-model_folder input")
        box.fill(folder)
        box.press("Enter")
        settle_fully(page, timeout=300_000)


def measure_tokens(base: str, steps: int, quiet_ms: int, folder: str | None, browser) -> list[float]:
    """Steps of step 8's layer slider, down from the last layer to 0 and back up, by the arrow keys."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    try:
        open_on_model(page, base, folder)
        page.locator(NAV_LINKS).filter(has_text="Inside the tokens").click()
        settle_fully(page, timeout=300_000)
        slider = page.locator(LENS_SLIDER)
        last = int(slider.get_attribute("max"))
        key = "ArrowLeft"
        slider_step(page, key, quiet_ms)  # the first step warms what a step uses (not counted)
        felt = []
        for _ in range(steps):
            value = int(slider.input_value())
            key = "ArrowRight" if value == 0 else "ArrowLeft" if value == last else key
            ms, _changes = slider_step(page, key, quiet_ms)
            felt.append(ms)
            page.wait_for_timeout(200)
        return felt
    finally:
        context.close()


def measure(base: str, steps: int, quiet_ms: int, folder: str | None, browser) -> list[float]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    try:
        open_on_model(page, base, folder)
        page.locator(NAV_LINKS).filter(has_text=workload.ATTENTION).click()
        settle_fully(page, timeout=300_000)
        one_step(page, quiet_ms)  # the first step warms what a step uses (not counted)
        felt = []
        for _ in range(steps):
            if page.locator(NEXT).is_disabled():  # the last head: start over from the first page load
                open_page(page, base, "attention")
            ms, _changes = one_step(page, quiet_ms)
            felt.append(ms)
            page.wait_for_timeout(200)
        return felt
    finally:
        context.close()


def report(name: str, felt: list[float]) -> str:
    q = statistics.quantiles(felt, n=20, method="inclusive")
    return (f"felt step ({name}, Chromium 1366 px, n = {len(felt)}): p50 {statistics.median(felt):.0f} ms, "
            f"p95 {q[18]:.0f} ms, max {max(felt):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="clicks on Next head that are timed (after one warm-up)")
    parser.add_argument("--model", choices=["teaching", "b16", "both"], default="both")
    parser.add_argument("--url", help="a running app to measure (default: start `python -m app` here)")
    parser.add_argument("--quiet-ms", type=int, default=400, help="no change for this long ends a step")
    parser.add_argument("--page", choices=["attention", "tokens"], default="attention",
                        help="attention: Next head on the explorer; tokens: step 8's layer slider, by its arrow keys")
    args = parser.parse_args()
    if args.steps < 2:
        parser.error("--steps must be at least 2")
    if args.quiet_ms < 50:
        parser.error("--quiet-ms must be at least 50")

    models = ["teaching", "b16"] if args.model == "both" else [args.model]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p, \
            (nullcontext(None) if args.url else server.running()) as srv:
        base = args.url or srv.url
        browser = launch(p.chromium)
        try:
            for name in models:
                folder = str(workload.b16_checkpoint(Path(tmp))) if name == "b16" else None
                run = measure_tokens if args.page == "tokens" else measure
                print(report(("ViT-B/16-shaped, random" if folder else "teaching model")
                             + (", step 8's layer slider" if args.page == "tokens" else ""),
                             run(base, args.steps, args.quiet_ms, folder, browser)), flush=True)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
