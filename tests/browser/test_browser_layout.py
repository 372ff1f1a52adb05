"""Every width (issue 12 §5): every page, in English and Korean, at 1920, 1366 and 1024 px, at 683 px (a 1366 px
screen at 200 % browser zoom, issue 17 §6) and on a 390 px phone with touch. A page fails when

(a) a label or number is cut off: an element with `text-overflow: ellipsis` whose text does not fit, or text that
    runs past the box of an ancestor that clips it (overflow hidden or clip) — buttons, metric labels and values,
    select boxes, slider labels, tabs, nav links, file uploader texts, anything; or a Plotly label (tick, title,
    legend) drawn outside its chart;
(b) the page is wider than the screen: the document, or the main area (Streamlit's scroll container), scrolls
    sideways, or an element of the main area reaches past the viewport's right edge (not counting what sits inside a
    container that scrolls or clips on purpose: dataframes, code blocks, st.json);
(c) on the phone, the sidebar is still open after tapping one of its navigation links;
(d) on the phone, in Korean, a word is split across two lines ("어\n떤": harness.browser.SPLIT_WORDS, issue 28 §6).

One session per language on the desktop: each page is opened once, from the sidebar, and checked at each width by
resizing the window (Streamlit's columns and Plotly's charts follow the window; the phone needs its own context,
is_mobile and has_touch being the device's). On the phone, every page but the first is reached by opening the
sidebar and tapping its link, which is check (c) seven times per language. Findings of every run are written to
test-artifacts/layout_findings.json.
"""
from __future__ import annotations

import json

import pytest

from harness.browser import (ARTIFACTS, NAV_LINKS, PATHS, SPLIT_WORDS, assert_no_exception, open_page, page_url,
                             settle_fully)
from harness.browser import PHONE as TOUCH_PHONE


LOCALES = {"en": "en-US", "ko": "ko-KR"}
WIDTHS = [1920, 1366, 1024, 683]  # 683: 1366 px at 200 % zoom (CSS pixels; what zoom changes is the layout width)
HEIGHT = 900
PHONE = {**TOUCH_PHONE, "device_scale_factor": 2}  # a phone as the layout walk sees it: at 2× pixels

# Returns {cut: [...], wide: [...]}: what the user cannot read, what makes the page wider than the screen.
LAYOUT = r"""() => {
    const vw = window.innerWidth;
    const SKIP = "[data-testid='stIconMaterial'], [data-testid='stIconEmoji'], [data-testid='stDataFrame'], " +
        "[data-testid='stCode'], pre, .katex, [data-testid='stJson'], [data-testid='stSkipToContent'], " +
        "script, style, noscript, template";
    const visible = el => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
    const COLLAPSED = "[data-testid='stSidebar'][data-collapsed='true'], " +
        "[data-testid='stSidebar'][aria-expanded='false']";
    const shown = el => visible(el) && !el.closest(COLLAPSED) && el.getBoundingClientRect().right > 0;
    const keyOf = el => {
        const k = el.closest("[class*='st-key-']");
        const m = k && [...k.classList].find(c => c.startsWith('st-key-'));
        return m ? ' key=' + m.slice(7) : '';
    };
    const describe = el => {
        const region = el.closest("[data-testid='stSidebar']") ? 'sidebar'
            : el.closest("[data-testid='stMain']") ? 'main'
            : el.closest("[data-testid='stHeader']") ? 'header' : 'page';
        const w = el.closest('[data-testid]');
        const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '';
        return region + ' > ' + (w ? w.dataset.testid : '-') + keyOf(el) + ' > ' + el.tagName.toLowerCase() + cls;
    };
    const short = s => s.replace(/\s+/g, ' ').trim().slice(0, 100);
    const cut = [], wide = [], seen = new Set();

    // (a) 1: an ellipsis where the text does not fit. The text's own extent, not scrollWidth alone: scrollWidth is
    // rounded to whole pixels, and a text 0.2 px too wide already loses its last letters to the ellipsis.
    const extent = el => {
        const range = document.createRange();
        range.selectNodeContents(el);
        const rs = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
        return rs.length ? {left: Math.min(...rs.map(r => r.left)), right: Math.max(...rs.map(r => r.right))} : null;
    };
    const round = x => Math.round(x * 10) / 10;
    for (const el of document.querySelectorAll('body *')) {
        const cs = getComputedStyle(el);
        if (cs.textOverflow !== 'ellipsis' || cs.overflowX === 'visible' || el.closest(SKIP) || !shown(el)) continue;
        if (!el.innerText.trim() || el.clientWidth < 1) continue;
        const r = el.getBoundingClientRect(), t = extent(el);
        const left = r.left + parseFloat(cs.borderLeftWidth) + parseFloat(cs.paddingLeft);  // the content box,
        const right = r.right - parseFloat(cs.borderRightWidth) - parseFloat(cs.paddingRight);  // unrounded
        if (el.scrollWidth > el.clientWidth + 1 || (t && (t.right > right + 0.01 || t.left < left - 0.01))) {
            seen.add(el);
            cut.push({why: 'ellipsis', element: describe(el), text: short(el.innerText),
                      need: round(t ? t.right - t.left : el.scrollWidth), have: round(right - left)});
        }
    }
    // (a) 1b: the value of a text field (a select box shows its choice in one) that does not fit
    for (const el of document.querySelectorAll('input, textarea')) {
        if (!['text', 'search', 'number', 'email', 'url', 'textarea'].includes(el.type) || !el.value) continue;
        if (el.closest(SKIP) || !shown(el) || el.clientWidth < 1) continue;
        if (el.scrollWidth > el.clientWidth + 1)
            cut.push({why: 'value does not fit its field', element: describe(el), text: short(el.value),
                      need: el.scrollWidth, have: el.clientWidth});
    }
    // (a) 2: text that runs past the box of the first ancestor that clips it
    const clips = v => v === 'hidden' || v === 'clip';
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!n.data.trim() || !el || el.closest(SKIP) || el.closest('svg') || !shown(el)) continue;  // charts: 3
        const range = document.createRange();
        range.selectNodeContents(n);
        const rects = [...range.getClientRects()].filter(r => r.width >= 1 && r.height >= 1);
        if (!rects.length) continue;
        const t = {left: Math.min(...rects.map(r => r.left)), right: Math.max(...rects.map(r => r.right)),
                   top: Math.min(...rects.map(r => r.top)), bottom: Math.max(...rects.map(r => r.bottom))};
        let checkX = true, checkY = true;
        for (let a = el; a && a !== document.body && (checkX || checkY); a = a.parentElement) {
            const cs = getComputedStyle(a);
            const r = a.getBoundingClientRect();
            if (a.clientWidth <= 2 || a.clientHeight <= 2) break;  // a visually hidden box (screen readers only)
            const box = {left: r.left + a.clientLeft, top: r.top + a.clientTop};
            box.right = box.left + a.clientWidth;
            box.bottom = box.top + a.clientHeight;
            let out = null;
            if (checkX && clips(cs.overflowX) && (t.right > box.right + 1 || t.left < box.left - 1)) out = 'x';
            if (checkY && clips(cs.overflowY) && (t.bottom > box.bottom + 1 || t.top < box.top - 1)) out = out || 'y';
            if (out) {
                if (!seen.has(a)) {
                    seen.add(a);
                    cut.push({why: 'clipped ' + out, element: describe(a), text: short(a.innerText || n.data),
                              need: Math.round(out === 'x' ? t.right - t.left : t.bottom - t.top),
                              have: out === 'x' ? a.clientWidth : a.clientHeight});
                }
                break;
            }
            if (cs.overflowX !== 'visible' && !clips(cs.overflowX)) checkX = false;  // scrolls: reachable
            if (cs.overflowY !== 'visible' && !clips(cs.overflowY)) checkY = false;
            if (clips(cs.overflowX)) checkX = false;  // fits its first clipping box
            if (clips(cs.overflowY)) checkY = false;
        }
    }
    // (a) 3: Plotly labels drawn outside their chart
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        if (!shown(plot)) continue;
        const p = plot.getBoundingClientRect();
        for (const t of plot.querySelectorAll('svg text')) {
            if (t.closest('.hoverlayer') || !t.textContent.trim() || !visible(t)) continue;
            const r = t.getBoundingClientRect();
            if (r.width < 1) continue;
            if (r.left < p.left - 1 || r.right > p.right + 1 || r.top < p.top - 1 || r.bottom > p.bottom + 1) {
                const cls = (t.getAttribute('class') || t.parentElement.getAttribute('class') || 'text').split(' ')[0];
                cut.push({why: 'outside its chart', element: describe(plot) + ' > ' + cls, text: short(t.textContent),
                          need: Math.round(r.width), have: Math.round(p.width)});
            }
        }
    }

    // (b) the page is wider than the screen
    const doc = document.documentElement;
    if (doc.scrollWidth > vw + 1)
        wide.push({why: 'document scrolls sideways', element: 'html', text: '', need: doc.scrollWidth, have: vw});
    const main = document.querySelector("[data-testid='stMain']");
    if (main && main.scrollWidth > main.clientWidth + 1)
        wide.push({why: 'main area scrolls sideways', element: 'stMain', text: '', need: main.scrollWidth,
                   have: main.clientWidth});
    const reported = [];
    for (const el of (main ? main.querySelectorAll('*') : [])) {
        if (el.closest(SKIP) || reported.some(r => r.contains(el)) || !visible(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.width < 1 || r.height < 1 || (r.right <= vw + 1 && r.left >= -1)) continue;
        let contained = false;  // inside a box that scrolls or clips and itself fits the screen
        for (let a = el.parentElement; a && a !== main; a = a.parentElement) {
            const ox = getComputedStyle(a).overflowX;
            if (ox !== 'visible') {
                const ar = a.getBoundingClientRect();
                if (ar.right <= vw + 1 && ar.left >= -1) { contained = true; break; }
            }
        }
        if (contained) continue;
        reported.push(el);
        wide.push({why: r.right > vw + 1 ? 'past the right edge' : 'past the left edge', element: describe(el),
                   text: short(el.innerText || ''), need: Math.round(r.right), have: vw});
    }
    // not a failure, for the report: dataframes too narrow for their columns (they scroll on purpose; their cells
    // are drawn on a canvas, where a cut-off number cannot be read from the page)
    const info = [];
    for (const df of document.querySelectorAll("[data-testid='stDataFrame']")) {
        if (!shown(df)) continue;
        for (const s of df.querySelectorAll('*')) {
            const ox = getComputedStyle(s).overflowX;
            if ((ox === 'auto' || ox === 'scroll') && s.scrollWidth > s.clientWidth + 1) {
                info.push({why: 'dataframe scrolls sideways', element: describe(df), text: short(df.innerText || ''),
                           need: s.scrollWidth, have: s.clientWidth});
                break;
            }
        }
    }
    return {cut, wide, info};
}"""


def layout_problems(page, kinds=("cut", "wide")) -> list[dict]:
    """LAYOUT's findings, each with its kind: 'cut' or 'wide' (failures), 'info' (for the report only)."""
    found = page.evaluate(LAYOUT)
    return [{"kind": kind, **f} for kind in kinds for f in found[kind]]


def wait_for_layout(page, quiet_ms=400, timeout=15_000):
    """After a resize: wait until the page's geometry (the main area's size, every chart's width) holds still."""
    page.evaluate("window.__layoutSig = ''; window.__layoutSince = 0")
    page.wait_for_function("""(quiet) => {
        const m = document.querySelector('[data-testid="stMain"]');
        const sig = [window.innerWidth, m && m.scrollWidth, m && m.scrollHeight,
                     ...[...document.querySelectorAll('.js-plotly-plot .main-svg')].map(s => s.getAttribute('width'))]
                    .join(',');
        if (sig !== window.__layoutSig) { window.__layoutSig = sig; window.__layoutSince = performance.now(); }
        return performance.now() - window.__layoutSince > quiet;
    }""", arg=quiet_ms, timeout=timeout, polling=100)


def sidebar_open(page) -> bool:
    """Whether the sidebar shows: expanded and at least partly on screen."""
    return page.evaluate("""() => {
        const s = document.querySelector("[data-testid='stSidebar']");
        if (!s || s.dataset.collapsed === 'true' || s.getAttribute('aria-expanded') === 'false') return false;
        const r = s.getBoundingClientRect();
        return r.right > 1 && r.left < window.innerWidth - 1 && r.width > 1;
    }""")


def go(page, base: str, name: str, tap: bool = False) -> None:
    """Reach the page `name` from the sidebar's link, in the session already open (or open it by its address)."""
    if not page.url.startswith(base):
        open_page(page, base, name)
        return
    link = page.locator(NAV_LINKS).nth(PATHS.index(name))
    if tap:
        if not sidebar_open(page):
            page.locator("[data-testid='stExpandSidebarButton']").tap()
            page.wait_for_function("() => document.querySelector(\"[data-testid='stSidebar']\")"
                                   ".dataset.collapsed === 'false'")
            page.wait_for_timeout(400)  # the sidebar slides in
        link.tap()
    else:
        link.click()
    page.wait_for_url(lambda u: u.split("?")[0].rstrip("/") == page_url(base, name).rstrip("/"))
    settle_fully(page)
    assert_no_exception(page, name)


def format_problems(problems: list[dict]) -> str:
    return "\n".join(f"  {p['where']}: [{p['kind']}: {p['why']}] {p['element']} {p['text']!r} "
                     f"(needs {p['need']}, has {p['have']})" for p in problems)


# ---- the detectors themselves --------------------------------------------------------------------------------------
SAMPLE = """<html><head><style>
  body { margin: 0; font: 16px sans-serif; }
  .btn { width: 80px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .tight { display: inline-block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .clip { width: 60px; height: 20px; overflow: hidden; white-space: nowrap; }
  .fits { width: 300px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .scroller { width: 200px; overflow-x: auto; } .scroller div { width: 2000px; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  [data-collapsed='true'] { position: fixed; width: 0; overflow: visible; transform: translateX(-300px); }
</style></head><body>
<section data-testid="stSidebar" data-collapsed="true"><a class="btn" style="width: 0">1 · A nav link</a></section>
<div data-testid="stMain" style="overflow: auto; height: 100vh">
  <button class="btn">A label far too long for its button</button>
  <div><span class="tight" id="tight">1.00× the model's</span></div>
  <div class="clip">Cut without an ellipsis</div>
  <div class="fits">Fits well</div>
  <input type="text" style="width: 80px" value="Fu Bao the giant panda (28×28 drawing)">
  <input type="text" style="width: 200px" value="short">
  <div class="scroller"><div>wide content that scrolls on purpose</div></div>
  <span class="sr-only">read by screen readers only</span>
  <div id="wide" style="width: 1500px; height: 10px"></div>
</div></body></html>"""


def test_layout_detectors_on_a_static_page(chromium):
    """Each detector on a page with one known problem of each kind, and things that must not be reported: text that
    fits, a box that scrolls on purpose, a screen-reader-only label, a collapsed sidebar."""
    page = chromium.new_page(viewport={"width": 1024, "height": 600})
    try:
        page.set_content(SAMPLE)
        # 0.2 px too narrow: Chromium already draws the ellipsis (a metric's delta at 1024 px looks like this)
        page.evaluate("""() => { const e = document.getElementById('tight');
                                 e.style.width = (e.getBoundingClientRect().width - 0.2) + 'px'; }""")
        found = layout_problems(page)
        page.evaluate("document.getElementById('wide').remove()")
        after = layout_problems(page)
    finally:
        page.close()
    cut = {(p["why"], p["text"]) for p in found if p["kind"] == "cut"}
    assert cut == {("ellipsis", "A label far too long for its button"), ("ellipsis", "1.00× the model's"),
                   ("clipped x", "Cut without an ellipsis"),
                   ("value does not fit its field", "Fu Bao the giant panda (28×28 drawing)")}
    wide = {(p["why"], p["element"]) for p in found if p["kind"] == "wide"}
    assert wide == {("main area scrolls sideways", "stMain"), ("past the right edge", "main > stMain > div")}
    assert [p for p in after if p["kind"] == "wide"] == []


def test_plotly_label_outside_its_chart(chromium):
    page = chromium.new_page(viewport={"width": 800, "height": 600})
    try:
        page.set_content("""<div data-testid="stMain"><div class="js-plotly-plot" style="width: 200px; height: 100px">
            <svg class="main-svg" width="200" height="100" style="overflow: visible">
            <g class="xtick"><text x="150" y="50">a tick label too long for the chart</text></g>
            <g class="ytick"><text x="10" y="50">fits</text></g></svg></div></div>""")
        found = layout_problems(page)
    finally:
        page.close()
    assert [(p["why"], p["text"]) for p in found] == [("outside its chart", "a tick label too long for the chart")]


def test_sidebar_open_detector(chromium):
    page = chromium.new_page(viewport={"width": 390, "height": 844})
    try:
        page.set_content('<section data-testid="stSidebar" data-collapsed="false" style="position: fixed; left: 0; '
                         'width: 300px; height: 100%">nav</section>')
        shown = sidebar_open(page)
        page.evaluate("document.querySelector('section').dataset.collapsed = 'true'")
        collapsed = sidebar_open(page)
        page.evaluate("""() => { const s = document.querySelector('section');
                                  s.dataset.collapsed = 'false'; s.style.transform = 'translateX(-300px)'; }""")
        off_screen = sidebar_open(page)
    finally:
        page.close()
    assert (shown, collapsed, off_screen) == (True, False, False)


# ---- every page, both languages, every width -----------------------------------------------------------------------
FINDINGS: list[dict] = []


@pytest.fixture(scope="module")
def sessions(chromium):
    """One browser context per (language, device), opened on first use."""
    contexts, pages = [], {}

    def get(lang: str, device: str):
        if (lang, device) not in pages:
            options = PHONE if device == "phone" else {"viewport": {"width": WIDTHS[0], "height": HEIGHT}}
            context = chromium.new_context(locale=LOCALES[lang], **options)
            contexts.append(context)
            pages[lang, device] = context.new_page()
        return pages[lang, device]

    yield get
    for context in contexts:
        context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "layout_findings.json").write_text(json.dumps(FINDINGS, ensure_ascii=False, indent=1),
                                                    encoding="utf-8")


def record(lang: str, name: str, width, problems: list[dict]) -> list[dict]:
    out = [{"page": name, "lang": lang, "width": width, "where": f"{name} {lang} {width}", **p} for p in problems]
    FINDINGS.extend(out)
    return out


@pytest.mark.parametrize("lang, name", [(lang, name) for lang in LOCALES for name in PATHS])
def test_desktop_widths(app_server, sessions, lang, name):
    page = sessions(lang, "desktop")
    go(page, app_server, name)
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        wait_for_layout(page)
        found = layout_problems(page, ("cut", "wide", "info"))
        problems += [p for p in record(lang, name, width, found) if p["kind"] != "info"]
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
    assert not problems, f"{name} ({lang}): cut off or wider than the screen:\n" + format_problems(problems)


@pytest.mark.parametrize("lang, name", [(lang, name) for lang in LOCALES for name in PATHS])
def test_phone(app_server, sessions, lang, name):
    page = sessions(lang, "phone")
    first = not page.url.startswith(app_server)
    if not first:  # the sidebar, open, is part of the phone's layout too
        if not sidebar_open(page):
            page.locator("[data-testid='stExpandSidebarButton']").tap()
            page.wait_for_timeout(400)
        problems = record(lang, name, "390 phone, sidebar open", [
            p for p in layout_problems(page) if p["element"].startswith("sidebar")])
    else:
        problems = []
    go(page, app_server, name, tap=True)
    wait_for_layout(page)
    if not first:
        problems += record(lang, name, "390 phone", [] if not sidebar_open(page) else [
            {"kind": "sidebar", "why": "still open after tapping a link", "element": "stSidebar",
             "text": "", "need": "closed", "have": "open"}])
    problems += [p for p in record(lang, name, "390 phone", layout_problems(page, ("cut", "wide", "info")))
                 if p["kind"] != "info"]
    if lang == "ko":  # lines break between Korean words, never inside one (style.PAGE_CSS: keep-all)
        problems += record(lang, name, "390 phone", [{"kind": "split", "why": "a word split across two lines",
                                                      "element": "main", "text": word, "need": "", "have": ""}
                                                     for word in page.evaluate(SPLIT_WORDS)])
    assert not problems, f"{name} ({lang}, phone): cut off, wider than the screen, a word split or sidebar open:\n" + \
        format_problems(problems)
