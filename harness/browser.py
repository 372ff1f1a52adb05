"""Driving the app in the system Chromium through Playwright, for the browser tests, the benchmarks and the scripts:
launching it, waiting for what Streamlit itself signals (the script's run state, stale elements, spinners), the
pages in the sidebar's order (app/steps) and the attention explorer.

A missing browser is a failure, not a skip: CI installs Chromium (scripts/install_system_packages.sh).
The test fixtures `app_server` (a URL) and `chromium` (a Playwright Browser) are in tests/conftest.py.
"""
from __future__ import annotations

import os
import shutil

from app.steps import STEPS, step
from harness.server import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
PATHS = [s.name for s in STEPS]  # the URL path of each page, in the sidebar's order (app/steps)


def launch(browser_type, *args: str):
    """The system Chromium (CHROMIUM) with the project's flags and `args`, from Playwright's `p.chromium`."""
    return browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *args])


def settle(page, timeout=30_000):
    """Wait until Streamlit has finished running the script and drawing."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout)
    page.wait_for_selector("[data-testid='stSpinner']", state="detached", timeout=timeout)
    page.wait_for_timeout(300)


def assert_no_exception(page, where: str):
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, f"{where}: {errors.first.inner_text()}"


# ---- the walks over every page (test_browser_korean.py, test_browser_layout.py) -----------------------------------
NAV_LINKS = "[data-testid='stSidebarNav'] a"


def page_url(base: str, name: str) -> str:
    """The address of the page `name` of PATHS. The first page is the default page: Streamlit serves it at the root
    (its own name, /patches, answers "Page not found")."""
    return f"{base}/{step(name).path}"


def settle_fully(page, timeout=60_000, quiet_ms=500):
    """Wait until, for `quiet_ms` on end, the script is not running, nothing is stale, no spinner or skeleton shows,
    every Plotly chart is drawn and every image has loaded (Streamlit draws a page in pieces, with pauses between)."""
    page.evaluate("window.__readySince = 0")
    page.wait_for_function("""(quiet) => {
        const q = s => document.querySelector(s);
        const ok = q('[data-testid="stApp"]')?.dataset.testScriptState === 'notRunning'
            && !q('[data-stale="true"], [data-testid="stSpinner"], [data-testid="stSkeleton"]')
            && q('[data-testid="stMain"] [data-testid="stVerticalBlock"]')
            && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => c.querySelector('.main-svg'))
            && [...document.images].every(i => i.complete);
        if (!ok) { window.__readySince = 0; return false; }
        window.__readySince = window.__readySince || performance.now();
        return performance.now() - window.__readySince > quiet;
    }""", arg=quiet_ms, timeout=timeout, polling=100)


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
