"""The real thing: the app's server (`python -m app`, as `make run` starts it) on a free port, driven by the system Chromium through Playwright.

Loads the app, uploads a picture, walks every page (saving a screenshot of each to test-artifacts/), opens the
attention explorer, steps a head, and checks that no exception is shown and no request left localhost.
A missing browser is a failure, not a skip: CI installs Chromium (scripts/install_system_packages.sh).
"""
from __future__ import annotations

import re
from urllib.parse import urlparse


from app.i18n import catalog
from app.steps import STEPS

from harness.browser import ARTIFACTS, assert_no_exception, settle
from harness.browser import upload as harness_upload
from tests.conftest import ROOT

PAGES = [s.title("en") for s in STEPS]  # the sidebar's links: "1 · Image → patches", …, "About"


def heading_pattern(s) -> str:
    """The page's English title as a pattern: its catalog template, each placeholder a number ("Step 1 · An image is
    worth 49 words")."""
    names = re.findall(r"\{(\w+)", catalog("en")[f"{s.name}.title"])
    return re.escape(s.heading("en", **dict.fromkeys(names, "NUMBER"))).replace("NUMBER", r"\d+")


def test_walkthrough_in_a_real_browser(app_server, chromium, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    requests = []
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.goto(app_server)
    page.get_by_text("Step 1").first.wait_for(timeout=60_000)
    settle(page)

    upload = ROOT / "assets" / "images" / "fubao_512.png"
    harness_upload(page, str(upload))
    page.get_by_text("fubao_512.png").first.wait_for(timeout=10_000)
    assert_no_exception(page, "after upload")

    for i, (s, title) in enumerate(zip(STEPS, PAGES), start=1):
        page.get_by_role("link", name=title).click()
        settle(page)
        assert_no_exception(page, title)
        heading = page.locator("[data-testid='stMain'] h1").first.inner_text()
        assert re.fullmatch(heading_pattern(s), heading), f"the link {title!r} opened a page headed {heading!r}"
        page.screenshot(path=str(ARTIFACTS / f"page_{i}.png"), full_page=True)

    page.get_by_role("link", name=PAGES[4]).click()
    settle(page)
    head = page.locator(".vx [data-key='head']")
    before = head.input_value()
    page.locator(".vx button[data-act='next-head']").click()
    assert head.input_value() != before, "the head slider did not move"
    page.wait_for_function("() => new URLSearchParams(location.search).get('head') === '2'", timeout=30_000)
    settle(page)
    assert_no_exception(page, "after stepping a head")
    page.screenshot(path=str(ARTIFACTS / "attention_after_step.png"), full_page=True)

    hosts = {urlparse(u).hostname for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts <= {"127.0.0.1", "localhost"}, f"requests left the machine: {hosts}"
    context.close()
