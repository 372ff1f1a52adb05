"""What a link carries, in a real browser: the state a teacher shares, an address that names no page, and a phone's
sidebar after navigating. (The attention explorer's layer, head and query: tests/test_browser_attention.py.)"""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse


from app.i18n import catalog

from harness.browser import assert_no_exception, settle, settle_fully

KO = catalog("ko")


def open_page(chromium, url: str, locale: str = "en-US", **context):
    ctx = chromium.new_context(viewport=context.pop("viewport", {"width": 1366, "height": 900}), locale=locale,
                               **context)
    page = ctx.new_page()
    page.goto(url)
    settle(page, 90_000)  # the app's own signals: on a phone the sidebar's links are there but hidden
    return ctx, page


def query(page, wait_for: str | None = None) -> dict[str, list[str]]:
    """The address bar's query; with `wait_for`, once the app has rewritten it to hold that (it does so in the browser
    after drawing, so a test must not read it before)."""
    if wait_for:
        page.wait_for_function("(part) => window.location.search.includes(part)", arg=wait_for, timeout=30_000)
    return parse_qs(urlparse(page.url).query)


def test_a_link_opens_the_shared_state_and_a_reload_keeps_it(app_server, chromium):
    ctx, page = open_page(chromium, f"{app_server}/flatten?lang=ko&image=sneaker_photo&model=teaching&volume=11")
    assert_no_exception(page, "a shared link")
    assert page.locator("h1").first.inner_text().startswith("2단계")  # the flatten step, in Korean
    sidebar = page.locator("[data-testid='stSidebar']")
    assert "나무 바닥 위의 파란 스니커즈" in sidebar.inner_text()  # the demo the link named, titled in Korean
    assert sidebar.locator("[data-testid='stAlertContainer']", has_text="volume=11").count() == 1  # said, not dropped
    # the link already holds model=teaching: wait for the rewrite itself, which drops what the app does not know
    page.wait_for_function("() => !window.location.search.includes('volume=')", timeout=30_000)
    assert query(page, "model=teaching") == {"lang": ["ko"], "image": ["sneaker_photo"], "model": ["teaching"]}
    history = page.evaluate("history.length")
    page.reload()
    settle(page, 90_000)
    assert query(page) == {"lang": ["ko"], "image": ["sneaker_photo"], "model": ["teaching"]}
    assert "나무 바닥 위의 파란 스니커즈" in sidebar.inner_text()
    assert page.evaluate("history.length") == history  # the address was replaced, not pushed
    ctx.close()


def test_a_link_never_names_a_file_or_a_folder(app_server, chromium):
    ctx, page = open_page(chromium, f"{app_server}/about?model=/etc&image=../../etc/passwd")
    assert_no_exception(page, "a link naming paths")
    alert = page.locator("[data-testid='stSidebar'] [data-testid='stAlertContainer']", has_text="model=/etc")
    assert "image=../../etc/passwd" in alert.inner_text()
    shown = query(page, "model=teaching")
    assert shown.get("model") == ["teaching"] and shown.get("image") == ["fubao_28"]
    ctx.close()


def test_an_address_that_names_no_page_is_answered_in_the_pages_language(app_server, chromium):
    ctx, page = open_page(chromium, f"{app_server}/no-such-step", locale="ko-KR")
    assert page.get_by_text(KO["links.not_found_title"]).first.is_visible()
    assert page.get_by_text("no-such-step", exact=False).first.is_visible()
    assert page.get_by_text("Page not found").count() == 0  # not Streamlit's English dialog
    page.get_by_text(KO["links.not_found_start"]).first.click()
    settle(page, 90_000)
    assert page.locator("h1").first.inner_text().startswith("1단계")
    ctx.close()


def test_on_a_phone_the_sidebar_closes_after_navigating(app_server, chromium):
    ctx, page = open_page(chromium, f"{app_server}/paper", viewport={"width": 390, "height": 844}, is_mobile=True,
                          has_touch=True)
    settle_fully(page, 90_000)  # a tap on a page link while the first run still draws can be lost (Streamlit's)
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.get_attribute("data-collapsed") == "true"  # a phone starts with the page, not the sidebar
    page.locator("[data-testid='stExpandSidebarButton']").tap()
    page.wait_for_function("document.querySelector(\"[data-testid='stSidebar']\").dataset.collapsed === 'false'")
    page.wait_for_timeout(600)  # the sidebar slides in
    page.locator("[data-testid='stSidebarNavLink']").nth(6).tap()  # 7 · Prediction
    page.wait_for_url("**/prediction**", timeout=30_000)
    page.wait_for_function("document.querySelector(\"[data-testid='stSidebar']\").dataset.collapsed === 'true'",
                           timeout=10_000)
    assert urlparse(page.url).path.endswith("/prediction")
    ctx.close()
