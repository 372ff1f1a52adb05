"""The real thing: the app's server (`python -m app`, as `make run` starts it) on a free port, driven by the system Chromium through Playwright.

Loads the app, uploads a picture, walks every page (saving a screenshot of each to test-artifacts/), opens the
attention explorer, steps a head, and checks that no exception is shown and no request left localhost.
A missing browser is a failure, not a skip: CI installs Chromium (scripts/install_system_packages.sh).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
PAGES = ["1 · Image → patches", "2 · Flatten", "3 · Embedding", "4 · Encoder block", "5 · Attention explorer",
         "6 · Prediction", "7 · What the paper found", "About"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--server.port", str(port),  # as `make run` starts it
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("streamlit did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


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


def test_walkthrough_in_a_real_browser(server, browser, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    requests = []
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.goto(server)
    page.get_by_text("Step 1").first.wait_for(timeout=60_000)
    settle(page)

    upload = ROOT / "assets" / "images" / "fubao_512.png"
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(upload))
    page.get_by_text("fubao_512.png").first.wait_for()
    settle(page)
    assert_no_exception(page, "after upload")

    for i, title in enumerate(PAGES, start=1):
        page.get_by_role("link", name=title).click()
        settle(page)
        assert_no_exception(page, title)
        page.screenshot(path=str(ARTIFACTS / f"page_{i}.png"), full_page=True)

    page.get_by_role("link", name=PAGES[4]).click()
    settle(page)
    head = page.locator(".st-key-att_head")
    before = head.inner_text()
    page.locator(".st-key-att_next button").click()
    settle(page)
    assert head.inner_text() != before, "the head slider did not move"
    assert_no_exception(page, "after stepping a head")
    page.screenshot(path=str(ARTIFACTS / "attention_after_step.png"), full_page=True)

    hosts = {urlparse(u).hostname for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts <= {"127.0.0.1", "localhost"}, f"requests left the machine: {hosts}"
    context.close()
