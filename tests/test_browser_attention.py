"""The attention explorer (step 5) in a real browser: what only a browser shows.

- A link opens exactly the view it names, in its language; every step rewrites the address bar without a history
  entry (history.replaceState, app/links.py); a reload keeps the view; the back button leaves the app.
- At 1024, 1366 and 1920 px and on a 390 px touch phone, in English and Korean: no word or number ends in "…", the page
  is no wider than the screen, both heat maps have square cells and a colour bar exactly as tall as the map, the
  matrix uses the phone's width, and the hints say "hover" to a mouse and "tap" to a finger.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from .browser import ARTIFACTS, assert_no_exception, settle

pytestmark = pytest.mark.browser

PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
HINTS = {"en": ("Hover over a cell", "Tap a cell"), "ko": ("마우스를 올리면", "칸을 누르면")}  # (mouse, touch)

# Every measurement the page is held to, in one pass of the DOM of the page's main area.
MEASURE = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  const box = (e) => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  const chart = (key) => {
    const el = document.querySelector(`.st-key-${key}`);
    const plot = el && el.querySelector(".nsewdrag"), bar = el && el.querySelector(".colorbar .cbfills");
    return el && plot && bar ? {el: box(el), plot: box(plot), bar: box(bar)} : null;
  };
  const cut = [...main.querySelectorAll("*")].filter((e) => e.offsetWidth && e.children.length === 0
      && getComputedStyle(e).textOverflow === "ellipsis" && e.scrollWidth > e.clientWidth + 1).map((e) => e.innerText);
  const cutButtons = [...main.querySelectorAll("button, label")].filter((e) => e.offsetWidth
      && [...e.querySelectorAll("*")].some((c) => getComputedStyle(c).textOverflow === "ellipsis"
                                                   && c.scrollWidth > c.clientWidth + 1)).map((e) => e.innerText);
  return {cut: cut.concat(cutButtons), pageWidth: document.documentElement.scrollWidth,
          mainWidth: main.scrollWidth, screen: window.innerWidth,
          matrix: chart("att_matrix"), query: chart("att_click"),
          // the column the matrix is in (the matrix and its text alternative are a container of their own: ui.chart)
          hint: document.querySelector(".st-key-astext_att_matrix").parentElement
                        .closest("[data-testid='stVerticalBlock']").innerText};
}"""


def open_explorer(page, url: str) -> None:
    page.goto(url)
    page.locator(".st-key-att_head input[type='range']").wait_for(state="attached", timeout=120_000)
    settle(page)
    # Plotly draws a chart only once it has been scrolled near: visit both maps, then wait for their plot areas
    for key in ("att_click", "att_matrix"):
        page.locator(f".st-key-{key}").scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelectorAll('.st-key-att_matrix .nsewdrag, "
                           ".st-key-att_click .nsewdrag').length === 2", timeout=30_000)
    page.wait_for_timeout(300)  # the charts take their final size from the page's CSS a frame later


def view(page) -> tuple[int, int, int]:
    """(layer, head, query patch) as the explorer's widgets show them."""
    layer = page.locator(".st-key-att_layer input[type='range']").input_value()
    head = page.locator(".st-key-att_head input[type='range']").input_value()
    return int(layer), int(head), int(page.locator(".st-key-att_query input").input_value())


def address(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def wait_for_address(page, **expected: int) -> None:
    test = " && ".join(f"p.get('{k}') === '{v}'" for k, v in expected.items())
    page.wait_for_function(f"() => {{ const p = new URLSearchParams(location.search); return {test}; }}",
                           timeout=30_000)


def test_a_link_opens_its_view_steps_replace_the_address_and_back_leaves_the_app(app_server, chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    page = context.new_page()
    before_app = f"{app_server}/_stcore/health"  # a page of its own before the app, for the back button
    page.goto(before_app)
    open_explorer(page, f"{app_server}/attention?lang=ko&layer=3&head=2&query=17")
    assert_no_exception(page, "a link to layer 3, head 2, query 17")
    assert view(page) == (3, 2, 17)
    assert page.get_by_text("3층, 2번 헤드: 어텐션 행렬", exact=True).is_visible()  # in Korean, as linked
    notes = page.locator("[data-testid='stMain'] [data-testid='stAlertContentWarning']")
    assert notes.count() == 0  # nothing was out of range
    tools = page.locator(".st-key-att_matrix .modebar-btn").evaluate_all("bs => bs.map(b => b.dataset.title)")
    # Plotly's own words over the matrix (its tool bar), in Korean too (app/streamlit_texts.py)
    assert tools and all(any("\uac00" <= ch <= "\ud7a3" for ch in tip) for tip in tools), tools
    wait_for_address(page, lang="ko", layer=3, head=2, query=17)
    entries = page.evaluate("history.length")

    for layer, head in ((3, 3), (3, 4), (4, 1)):  # ▶ three times: the next head, the last one, the next layer
        page.locator(".st-key-att_next button").click()
        wait_for_address(page, layer=layer, head=head, query=17)
        assert view(page) == (layer, head, 17)
        assert page.evaluate("history.length") == entries, "a step added a history entry"
    assert_no_exception(page, "after three steps")

    page.reload()
    open_explorer(page, page.url)
    assert view(page) == (4, 1, 17), "a reload did not keep the view"
    assert page.get_by_text("4층, 1번 헤드: 어텐션 행렬", exact=True).is_visible()
    assert address(page)["lang"] == "ko"

    page.go_back()
    page.wait_for_url(before_app, timeout=30_000)  # back leaves the app: the steps did not pile up in the history
    context.close()


def test_out_of_range_values_in_a_link_are_shown_clamped_with_a_message(app_server, chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="ko-KR")
    page = context.new_page()
    open_explorer(page, f"{app_server}/attention?layer=99&head=0&query=5000")
    assert view(page) == (6, 1, 48)
    notes = page.locator("[data-testid='stMain'] [data-testid='stAlertContentWarning']").all_inner_texts()
    assert any("99층" in n and "6층을 보여 줍니다" in n for n in notes), notes
    assert any("0번 헤드" in n for n in notes) and any("5000번" in n for n in notes), notes
    wait_for_address(page, layer=6, head=1, query=48)  # the address bar says what is on screen

    # a typed patch number out of range: brought back, and said in Korean (not Streamlit's English range message)
    number = page.locator(".st-key-att_query input")
    number.fill("5000")
    hint = page.locator(".st-key-att_query [data-testid='InputInstructions']")  # Streamlit's, English only
    assert "Enter 키를 누르면" in hint.evaluate("e => getComputedStyle(e, '::after').content")
    assert not hint.locator("span").is_visible()  # its "Press Enter to apply" is hidden
    number.press("Enter")
    wait_for_address(page, query=48)
    page.get_by_text("패치 5000번은 없습니다").wait_for(timeout=30_000)
    assert "must be" not in page.locator("[data-testid='stMain']").inner_text()
    assert view(page)[2] == 48
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
        page.wait_for_timeout(600)  # Streamlit and Plotly lay out again for the new width
        m = page.evaluate(MEASURE)
        where = f"{lang} at {width} px"
        check_layout(m, where)
        assert mouse in m["hint"] and touch not in m["hint"], (where, m["hint"])
        page.screenshot(path=str(ARTIFACTS / f"attention_{lang}_{width}.png"), full_page=True)
    context.close()

    context = chromium.new_context(**PHONE)
    page = context.new_page()
    open_explorer(page, f"{app_server}/attention?lang={lang}")
    m = page.evaluate(MEASURE)
    where = f"{lang} on a 390 px phone"
    check_layout(m, where)
    assert touch in m["hint"] and mouse not in m["hint"], (where, m["hint"])  # a finger cannot hover
    # the matrix takes the phone's width: its plot area is most of the chart's width, the chart all of the column's
    assert m["matrix"]["plot"]["w"] >= 0.62 * m["matrix"]["el"]["w"] and m["matrix"]["el"]["w"] >= 340, where
    assert m["matrix"]["el"]["h"] < 1.2 * m["matrix"]["el"]["w"], where  # and no tall empty box around it
    page.screenshot(path=str(ARTIFACTS / f"attention_{lang}_phone.png"), full_page=True)
    context.close()


def check_layout(m: dict, where: str) -> None:
    assert not m["cut"], f"{where}: cut off with an ellipsis: {m['cut']}"
    assert m["pageWidth"] <= m["screen"] and m["mainWidth"] <= m["screen"], f"{where}: wider than the screen"
    for name in ("matrix", "query"):
        plot, bar = m[name]["plot"], m[name]["bar"]
        assert abs(plot["w"] - plot["h"]) <= 3, f"{where}: the {name} map's cells are not square: {plot}"
        assert abs(bar["h"] - plot["h"]) <= 3 and abs(bar["y"] - plot["y"]) <= 3, \
            f"{where}: the {name} map's colour bar {bar} is not as tall as the map {plot}"


def test_play_downloads_as_a_gif_labelled_in_korean(app_server, chromium, tmp_path):
    """The GIF is made by the server only on the click (a callable download), in the page's language."""
    from PIL import Image

    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="ko-KR", accept_downloads=True)
    page = context.new_page()
    try:
        open_explorer(page, f"{app_server}/attention?lang=ko&layer=2&head=3&query=17")
        button = page.locator(".st-key-att_dl_gif button:visible")  # (Streamlit adds a 0 × 0 twin for a deferred file)
        assert button.inner_text().strip() == "재생을 GIF로 내려받기"
        with page.expect_download(timeout=60_000) as info:
            button.click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        assert path.name == "attention_play_cls.gif"
        gif = Image.open(path)
        assert gif.format == "GIF" and gif.n_frames == 24 and gif.info["duration"] == 1000  # 6 × 4 heads, 1 s each
        assert_no_exception(page, "after the GIF download")
        assert view(page) == (2, 3, 17)  # the download did not move the explorer
    finally:
        context.close()
