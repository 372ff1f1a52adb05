"""Full-page Chromium screenshots of every page of the app, to prove a refactor left every page looking as it did.

Run with the project's venv (Playwright, Pillow, numpy) and the system Chromium (/usr/bin/chromium, or $CHROMIUM):

    python scripts/screenshots.py shoot --root CHECKOUT --out DIR [--widths 1366,1024] [--langs en,ko]
                                        [--upload PICTURE] [--keep-animations]
    python scripts/screenshots.py compare BEFORE_DIR AFTER_DIR --out DIFF_DIR

shoot: starts `python -m app` from CHECKOUT (cwd and PYTHONPATH, checked to import CHECKOUT's app and vit_core) on a free
port. For each language and width it opens every page by its URL in a fresh browser context (viewport W × 900, locale
en-US or ko-KR), waits for Streamlit, Plotly and images, scrolls through the page, grows the viewport to the page's
height (Streamlit scrolls inside stMain, so a plain full-page shot would stop at 900 px) and saves
DIR/{lang}_{width}_{n}_{page}.png. CSS animations, transitions and the caret are switched off unless
--keep-animations. With --upload, one context per language and width uploads the picture through the sidebar, then
reaches each page by clicking its sidebar link (a URL would start a new session and lose the picture). Exceptions
(stException) and error alerts shown on any page are listed at the end; the server is always stopped.

compare: for each PNG in both folders, the sizes, whether their pixels are identical, and the fraction of pixels differing by more
than 8/255 in some channel (a size mismatch counts the uncovered area as differing); a diff picture (differing pixels
red over a faded AFTER) for each pair that differs
beyond the tolerance; files present in only one folder. Always exits 0.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for harness
from harness import server  # noqa: E402
from harness.browser import NAV_LINKS, PATHS, launch, page_url, settle_fully, upload  # noqa: E402

PAGES = PATHS  # URL paths, in the order of the sidebar (harness.browser's list, from app/steps: one list to keep)
LOCALES = {"en": "en-US", "ko": "ko-KR"}
HEIGHT, MAX_HEIGHT, TOLERANCE = 900, 30_000, 8
FREEZE_CSS = "*,*::before,*::after{animation:none!important;transition:none!important;caret-color:transparent!important}"


# ---- the server ---------------------------------------------------------------------------------------------------
def checkout_env(root: Path) -> dict:
    """The environment that makes `python -m app` in `root` run root's own app and vit_core (checked)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    where = subprocess.run([sys.executable, "-c", "import app, vit_core; print(app.__file__); print(vit_core.__file__)"],
                           cwd=root, env=env, capture_output=True, text=True, check=True).stdout.split()
    if not all(Path(f).resolve().is_relative_to(root) for f in where):
        raise SystemExit(f"{root} would not import its own code: {where}")
    return env


# ---- one page -----------------------------------------------------------------------------------------------------
def settle(page, timeout=90_000) -> None:
    """Wait until the page has been drawn and quiet for 800 ms (the browser tests' settle_fully)."""
    settle_fully(page, timeout, quiet_ms=800)


def shoot_page(page, width: int, path: Path, freeze: bool) -> list[str]:
    """Scroll through the page, grow the viewport to its full height, screenshot; returns the errors shown."""
    page.set_viewport_size({"width": width, "height": HEIGHT})  # the last page may have grown it
    if freeze:
        page.add_style_tag(content=FREEZE_CSS)
    settle(page)
    page.evaluate("""async () => {
        const main = document.querySelector('[data-testid="stMain"]');
        for (let y = 0; y < main.scrollHeight; y += 600) { main.scrollTo(0, y); await new Promise(r => setTimeout(r, 100)); }
        main.scrollTo(0, 0);
    }""")
    measure = """() => Math.max(...['stMain', 'stSidebarContent'].map(
        id => document.querySelector(`[data-testid="${id}"]`)?.scrollHeight || 0))"""
    height = HEIGHT
    for _ in range(4):  # the page's height can change with the viewport's (scrollbars, charts re-laid out)
        settle(page)
        want = min(MAX_HEIGHT, max(HEIGHT, page.evaluate(measure)))
        if want == height:
            break
        height = want
        page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(1000)  # Plotly's own resize and redraw
    settle(page)
    page.screenshot(path=str(path), full_page=True, animations="disabled" if freeze else "allow")
    errors = [f"exception: {e.inner_text()[:300]}" for e in page.locator("[data-testid='stException']").all()]
    errors += [f"error: {e.inner_text()[:300]}" for e in page.locator("[data-testid='stAlertContentError']").all()]
    if page.evaluate(measure) > height:
        errors.append(f"cut off: the page grew past {height} px after it had settled")
    return errors


def shoot(args) -> None:
    from playwright.sync_api import sync_playwright

    root, out = Path(args.root).resolve(), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    widths = [int(w) for w in args.widths.split(",")]
    langs = args.langs.split(",")
    problems: dict[str, list[str]] = {}
    env = checkout_env(root)
    logs = tempfile.TemporaryDirectory(prefix="streamlit-")
    log = Path(logs.name) / "streamlit.log"
    started = False
    try:
        with server.running(log=log, env=env, root=root) as srv, sync_playwright() as p:
            started, url = True, srv.url
            browser = launch(p.chromium, "--hide-scrollbars")
            for lang in langs:
                for width in widths:
                    def context():
                        return browser.new_context(viewport={"width": width, "height": HEIGHT},
                                                   locale=LOCALES[lang], reduced_motion="reduce")
                    if args.upload:
                        ctx = context()
                        page = ctx.new_page()
                        page.goto(url)
                        settle(page)
                        upload(page, args.upload)  # hop by hop: the PUT answered 204, then a run finished after it
                    for n, name in enumerate(PAGES, start=1):
                        path = out / f"{lang}_{width}_{n}_{name}.png"
                        if args.upload:  # a script click: the mouse stays put, so nothing is left hovered
                            page.locator(NAV_LINKS).nth(n - 1).evaluate("a => a.click()")
                            page.wait_for_url(lambda u: u.rstrip("/").endswith("" if n == 1 else f"/{name}"))
                        else:
                            ctx = context()
                            page = ctx.new_page()
                            page.goto(page_url(url, name))  # the first page is served at the root
                        page.wait_for_selector(NAV_LINKS, timeout=60_000)
                        hrefs = [h.split(url, 1)[-1].strip("/") for h in
                                 page.locator(NAV_LINKS).evaluate_all("links => links.map(a => a.href)")]
                        if hrefs != ["", *PAGES[1:]]:
                            problems.setdefault("navigation", []).append(f"sidebar links are {hrefs}")
                        errors = shoot_page(page, width, path, freeze=not args.keep_animations)
                        if errors:
                            problems[path.name] = errors
                        print(f"{path}  {errors or ''}", flush=True)
                        if not args.upload:
                            ctx.close()
                    if args.upload:
                        ctx.close()
            browser.close()
    finally:  # the server has stopped
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        if not started or "Traceback" in tail or "Error" in tail:
            print("---- server log (tail) ----\n" + tail)
        logs.cleanup()
    print(f"\n{len(list(out.glob('*.png')))} screenshots in {out}")
    for name, errors in problems.items():
        print(f"PROBLEM {name}:" + "".join(f"\n    {e}" for e in dict.fromkeys(errors)))
    if not problems:
        print("no exception or error alert on any page")


# ---- compare ------------------------------------------------------------------------------------------------------
def compare(args) -> None:
    import numpy as np
    from PIL import Image

    before, after, out = Path(args.before), Path(args.after), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    a_names, b_names = {p.name for p in before.glob("*.png")}, {p.name for p in after.glob("*.png")}
    print(f"{'file':44} {'before':>11} {'after':>11} {'equal':>5} {'differing':>10}")
    for name in sorted(a_names & b_names):
        a = np.asarray(Image.open(before / name).convert("RGB")).astype(np.int16)
        b = np.asarray(Image.open(after / name).convert("RGB")).astype(np.int16)
        h, w = max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1])
        diff = np.ones((h, w), bool)  # where only one picture has pixels, they differ
        ch, cw = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
        diff[:ch, :cw] = (np.abs(a[:ch, :cw] - b[:ch, :cw]) > TOLERANCE).any(axis=2)
        frac = diff.mean()
        size = lambda x: f"{x.shape[1]}x{x.shape[0]}"  # noqa: E731
        same = a.shape == b.shape and np.array_equal(a, b)  # equal: identical pixels; differing: beyond tolerance
        print(f"{name:44} {size(a):>11} {size(b):>11} {'yes' if same else 'no':>5}"
              f" {frac:>10.6f}")
        if diff.any():
            canvas = np.full((h, w, 3), 255, np.uint8)
            canvas[:b.shape[0], :b.shape[1]] = (255 - (255 - b) * 0.3).astype(np.uint8)  # AFTER, faded
            canvas[diff] = (255, 0, 0)
            Image.fromarray(canvas).save(out / f"diff_{name}")
    for label, names in (("only in " + str(before), a_names - b_names), ("only in " + str(after), b_names - a_names)):
        for name in sorted(names):
            print(f"{label}: {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("shoot", help="screenshot every page of the app in CHECKOUT")
    s.add_argument("--root", required=True, help="the checkout to serve (its app/ and vit_core/ are used)")
    s.add_argument("--out", required=True, help="folder for the PNGs")
    s.add_argument("--widths", default="1366,1024", help="viewport widths, comma-separated")
    s.add_argument("--langs", default="en,ko", help="languages, comma-separated: " + ",".join(LOCALES))
    s.add_argument("--upload", help="a picture to upload through the sidebar first")
    s.add_argument("--keep-animations", action="store_true", help="do not switch CSS animations off")
    s.set_defaults(func=shoot)
    c = sub.add_parser("compare", help="compare two folders of screenshots")
    c.add_argument("before")
    c.add_argument("after")
    c.add_argument("--out", required=True, help="folder for the diff pictures")
    c.set_defaults(func=compare)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
