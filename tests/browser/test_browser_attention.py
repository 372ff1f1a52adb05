"""The attention explorer (step 5) in a real browser: a component that draws every step itself (app/components/explorer).

- A link opens exactly the view it names, in its language; a step is drawn with nothing sent to the server, and its
  debounced report rewrites the address bar without a history entry (app/links.py); a reload keeps the view; the
  back button leaves the app.
- The presenter's keys (←/→ heads, ↑/↓ layers, space play), the grid and the query map answer clicks, the matrix
  says the value under the pointer, a typed patch out of range is brought back in the page's language.
- At 1024, 1366 and 1920 px and on a 390 px touch phone, in English and Korean: no word cut off, the page no wider
  than the screen, the maps square, and the hints say "hover" to a mouse and "tap" to a finger.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from app.components import explorer

from harness.browser import ARTIFACTS, PHONE, Runs, assert_no_exception, explorer_view, open_explorer, settle


HINTS = {"en": ("Hover over a cell", "Tap a cell"), "ko": ("마우스를 올리면", "칸을 누르면")}  # (mouse, touch)
NEXT = ".vx button[data-act='next-head']"

MEASURE = """() => {
  const main = document.querySelector("[data-testid='stMain']"), vx = document.querySelector(".vx");
  const cut = [...main.querySelectorAll("*")].filter((e) => e.offsetWidth && e.children.length === 0
      && (getComputedStyle(e).textOverflow === "ellipsis" || e.tagName === "BUTTON")
      && e.scrollWidth > e.clientWidth + 1).map((e) => e.innerText);
  const canvases = Object.fromEntries([...vx.querySelectorAll("canvas")].map((c) => {
      const r = c.getBoundingClientRect(); return [c.className, {w: r.width, h: r.height, right: r.right}]; }));
  return {cut, pageWidth: document.documentElement.scrollWidth, mainWidth: main.scrollWidth,
          screen: window.innerWidth, canvases, text: vx.innerText};
}"""


def address(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def wait_for_address(page, **expected: int) -> None:
    test = " && ".join(f"p.get('{k}') === '{v}'" for k, v in expected.items())
    page.wait_for_function(f"() => {{ const p = new URLSearchParams(location.search); return {test}; }}",
                           timeout=30_000)


def test_a_link_opens_its_view_steps_replace_the_address_and_back_leaves_the_app(app_server, chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    page = context.new_page()
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    before_app = f"{app_server}/_stcore/health"  # a page of its own before the app, for the back button
    page.goto(before_app)
    open_explorer(page, f"{app_server}/attention?lang=ko&layer=3&head=2&query=17")
    assert_no_exception(page, "a link to layer 3, head 2, query 17")
    assert explorer_view(page) == (3, 2, 17)
    assert page.get_by_role("heading", name="3층, 2번 헤드: 어텐션 행렬").is_visible()  # in Korean, as linked
    assert page.locator("[data-testid='stMain'] [data-testid='stAlertContentWarning']").count() == 0
    wait_for_address(page, lang="ko", layer=3, head=2, query=17)
    entries = page.evaluate("history.length")

    for layer, head in ((3, 3), (3, 4), (4, 1)):  # ▶ three times: the next head, the last one, the next layer
        before = len(sent)
        page.get_by_role("button", name="다음 헤드 ▶").click()
        assert explorer_view(page) == (layer, head, 17)  # drawn at once, by the browser
        assert page.get_by_role("heading", name=f"{layer}층, {head}번 헤드: 어텐션 행렬").is_visible()
        assert len(sent) == before, "a step waited for the server"
        wait_for_address(page, layer=layer, head=head, query=17)  # the report, debounced
        assert len(sent) > before
        assert page.evaluate("history.length") == entries, "a step added a history entry"
    assert_no_exception(page, "after three steps")

    page.reload()
    open_explorer(page, page.url)
    assert explorer_view(page) == (4, 1, 17), "a reload did not keep the view"
    assert page.get_by_role("heading", name="4층, 1번 헤드: 어텐션 행렬").is_visible()
    assert address(page)["lang"] == "ko"

    page.go_back()
    page.wait_for_url(before_app, timeout=30_000)  # back leaves the app: the steps did not pile up in the history
    context.close()


def test_keys_pointer_and_clicks_drive_the_explorer(app_server, chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    page = context.new_page()
    open_explorer(page, f"{app_server}/attention?lang=en")
    assert explorer_view(page) == (1, 1, 24)
    assert page.get_by_role("button", name="◀ Previous head").is_disabled()  # stops at the first head
    page.locator("body").press("ArrowRight")
    assert explorer_view(page)[:2] == (1, 2)
    page.locator("body").press("ArrowDown")
    assert explorer_view(page)[:2] == (2, 2)
    page.locator("body").press("ArrowLeft")
    page.locator("body").press("ArrowUp")
    assert explorer_view(page)[:2] == (1, 1)
    page.get_by_role("button", name="Next layer ▼").click()
    assert explorer_view(page)[:2] == (2, 1)

    play = page.locator(".vx button[data-act='play']")
    page.evaluate("document.activeElement.blur()")  # (on a focused button, space presses that button)
    page.locator("body").press(" ")  # space: play
    assert play.get_attribute("aria-pressed") == "true" and play.inner_text() == "⏸ Pause"
    assert page.get_by_role("button", name="Next head ▶").is_disabled()
    page.wait_for_function("() => document.querySelector(\".vx [data-key='head']\").value !== '1'", timeout=5_000)
    page.locator("body").press(" ")  # and pause, where it is
    stopped = explorer_view(page)
    page.wait_for_timeout(1300)
    assert explorer_view(page) == stopped and play.get_attribute("aria-pressed") == "false"

    # the value under the pointer, on the matrix; a click on the query map picks the query patch
    matrix = page.locator("canvas.vx-matrix")
    matrix.scroll_into_view_if_needed()
    box = matrix.bounding_box()
    page.mouse.move(box["x"] + 70, box["y"] + 12)  # the cls row's first cell
    tip = page.locator(".vx-tip")
    assert tip.is_visible() and tip.inner_text().startswith("query cls → key cls: weight 0.")
    query = page.locator("canvas.vx-query")
    query.scroll_into_view_if_needed()
    box = query.bounding_box()
    side = min(box["width"], box["height"])
    page.mouse.click(box["x"] + side * (1.5 / 7), box["y"] + side * (5.5 / 7))  # row 5, column 1: patch 36
    assert explorer_view(page)[2] == 36
    assert "Where the query, patch 36 (row 5, column 1), looks" in page.locator(".vx-query-caption").inner_text()
    assert "patch 36 (row 5, column 1)" in query.get_attribute("aria-label")

    # the grid: a click shows that head
    grid = page.locator("canvas.vx-grid")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    cell = min(explorer.GRID_CAP, (min(560, box["width"]) - 28) // 4 - 2) + 2  # as explorer.js lays it out
    page.mouse.click(box["x"] + 28 + 2.5 * cell, box["y"] + 28 + 4.5 * cell)  # layer 5, head 3
    assert explorer_view(page) == (5, 3, 36)
    wait_for_address(page, layer=5, head=3, query=36)
    assert_no_exception(page, "after keys and clicks")
    context.close()


def test_out_of_range_values_are_brought_back_with_a_message_in_korean(app_server, chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="ko-KR")
    page = context.new_page()
    open_explorer(page, f"{app_server}/attention?layer=99&head=0&query=5000")
    assert explorer_view(page) == (6, 1, 48)
    notes = page.locator("[data-testid='stMain'] [data-testid='stAlertContentWarning']").all_inner_texts()
    assert any("99층" in n and "6층을 보여 줍니다" in n for n in notes), notes
    assert any("0번 헤드" in n for n in notes) and any("5000번" in n for n in notes), notes
    wait_for_address(page, layer=6, head=1, query=48)  # the address bar says what is on screen

    number = page.locator(".vx [data-key='query']")  # a typed patch number out of range: brought back, in Korean
    number.fill("5000")
    number.press("Enter")
    page.get_by_text("패치 5000번은 없습니다").wait_for(timeout=10_000)
    assert explorer_view(page)[2] == 48
    number.fill("7")
    number.press("Enter")
    assert explorer_view(page)[2] == 7 and not page.get_by_text("패치 5000번은 없습니다").is_visible()
    wait_for_address(page, query=7)
    context.close()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_width_shows_everything_whole_with_square_maps(app_server, chromium, lang):
    ARTIFACTS.mkdir(exist_ok=True)
    mouse, touch = HINTS[lang]
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    open_explorer(page, f"{app_server}/attention?lang={lang}")
    for width in (1024, 1366, 1920):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(400)  # the explorer draws again for the new width
        m = page.evaluate(MEASURE)
        where = f"{lang} at {width} px"
        check_layout(m, where)
        assert mouse in m["text"] and touch not in m["text"], where
        page.screenshot(path=str(ARTIFACTS / f"attention_{lang}_{width}.png"), full_page=True)
    context.close()

    context = chromium.new_context(**PHONE)
    page = context.new_page()
    open_explorer(page, f"{app_server}/attention?lang={lang}")
    m = page.evaluate(MEASURE)
    where = f"{lang} on a 390 px phone"
    check_layout(m, where)
    assert touch in m["text"] and mouse not in m["text"], where  # a finger cannot hover
    assert m["canvases"]["vx-matrix"]["w"] >= 330, where  # the matrix takes the phone's width
    page.screenshot(path=str(ARTIFACTS / f"attention_{lang}_phone.png"), full_page=True)
    context.close()


def check_layout(m: dict, where: str) -> None:
    assert not m["cut"], f"{where}: cut off: {m['cut']}"
    assert m["pageWidth"] <= m["screen"] and m["mainWidth"] <= m["screen"], f"{where}: wider than the screen"
    for name in ("vx-cls", "vx-query", "vx-average", "vx-rollout", "vx-matrix"):
        c = m["canvases"][name]
        assert abs(c["w"] - c["h"]) <= 1 or name == "vx-matrix", f"{where}: the {name} map is not square: {c}"
        assert c["right"] <= m["screen"], f"{where}: {name} is cut at the right: {c}"


def test_play_downloads_as_a_gif_labelled_in_korean(app_server, chromium, tmp_path):
    """The GIF is made by the server only on the click (a callable download), in the page's language, for the rows
    the explorer last reported."""
    from PIL import Image

    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="ko-KR", accept_downloads=True)
    page = context.new_page()
    try:
        open_explorer(page, f"{app_server}/attention?lang=ko&layer=2&head=3&query=17")
        with Runs(page) as runs:
            page.locator(".vx input[type='radio'][value='query']").check()  # every map: patch 17's row
            runs.wait(1, 10_000, "the explorer's report of the grid rows")  # the server has it
        button = page.locator(".st-key-att_dl_gif button:visible")  # (Streamlit adds a 0 × 0 twin for a deferred file)
        assert button.inner_text().strip() == "재생을 GIF로 내려받기"
        with page.expect_download(timeout=60_000) as info:
            button.click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        assert path.name == "attention_play.gif"
        gif = Image.open(path)
        assert gif.format == "GIF" and gif.n_frames == 24 and gif.info["duration"] == 1000  # 6 × 4 heads, 1 s each
        assert_no_exception(page, "after the GIF download")
        assert explorer_view(page) == (2, 3, 17)  # the download did not move the explorer

        with page.expect_download(timeout=30_000) as info:  # the grid as drawn, as a PNG, made in the browser
            page.get_by_role("button", name="이 그림 내려받기 (PNG)").click()
        assert info.value.suggested_filename == "attention_grid_query.png"
        info.value.save_as(tmp_path / "grid.png")
        assert Image.open(tmp_path / "grid.png").format == "PNG"
    finally:
        context.close()


def switch_language(page, name: str) -> None:
    """The sidebar's language picker, as a person uses it."""
    page.locator(".st-key-lang [role='combobox']").click()
    page.get_by_role("option", name=name).click()


def test_play_stops_and_the_distances_table_is_rewritten_when_the_language_changes(app_server, chromium):
    """Two bugs of the explorer as it was: a new page (another language, picture or model) built a new explorer while
    the old play mode's interval went on stepping it (with ▶ showing, nothing could stop it), and the distances'
    "as text" table, written once per explorer, stayed empty on the new one."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    page = context.new_page()
    open_explorer(page, f"{app_server}/attention?lang=en&layer=1&head=1&query=24")
    page.locator(".vx [data-key='speed']").select_option("0.5")
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function("() => document.querySelector(\".vx [data-key='head']\").value !== '1'", timeout=10_000)
    switch_language(page, "한국어")
    page.get_by_role("button", name="▶ 재생").wait_for(timeout=60_000)  # the new explorer, in Korean, not playing
    settle(page)
    before = explorer_view(page)
    page.wait_for_timeout(2_000)  # four steps of 0.5 s, had the old interval gone on
    assert explorer_view(page) == before, "play mode went on stepping after the language changed"
    assert page.get_by_role("button", name="▶ 재생").get_attribute("aria-pressed") == "false"
    rows = page.locator(".vx-dist-text table tbody tr")
    assert rows.count() == 6 * 4, "the distances' table was left empty by the new explorer"
    assert page.locator(".vx-dist-text table thead th").all_text_contents() == ["층", "헤드", "px"]  # in Korean
    assert_no_exception(page, "after a language change while playing")
    context.close()
