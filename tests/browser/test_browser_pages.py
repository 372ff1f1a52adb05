"""Steps 2, 3, 4, 6, 7 and About in Chromium (issue 12 §5): the particular things these pages got wrong, beside the
walks over every page of test_browser_layout.py (cut off, wider than the screen) and test_browser_korean.py (English
left in Korean pages).

- The metrics the issue found cut off with an ellipsis — About's "4·4·3 = 48" and "49 + 1 = 50", step 4's worked
  example, step 7's pre-training costs, step 2's long labels — are whole, inside the page, at 1920, 1366, 1024 and
  390 px, in English and Korean.
- Figure text is at least style.FIGURE_MIN_PX CSS pixels at 1366 px: for each matplotlib figure on steps 3 and 4, the
  smallest size its text may use (style's FIGURE_* points; tests/test_app_embedding.py and test_app_encoder.py hold
  every label to it) becomes points · dpi / 72 · shown / natural pixels, the dpi read from the PNG the browser got.
- Maths is maths, and whole: no displayed equation is wider than the page at any width; step 4's block diagrams
  are pictures whose labels matplotlib sets as maths (no Graphviz chart with "z ℓ−1" as text), the captions'
  z_{ℓ−1}, x_class, E_pos are KaTeX, and no raw "z_ℓ", "x_class" or "$" is left.
- Hints name the pointer the reader has: "hover" with a mouse, "tap" on a touch phone.

One desktop session per language opens each page once and resizes the window through the widths; the phone (touch)
only opens the two pages with hints.
"""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from app import numbers, style
from app.i18n import catalog

from harness.browser import PHONE, open_page


LOCALES = {"en": "en-US", "ko": "ko-KR"}
WIDTHS = [1920, 1366, 1024, 390]  # 390: the phone's width in a desktop window (the phone itself: test_phone_hints)
SMALLEST_POINTS = min(style.FIGURE_TICK, style.FIGURE_SMALL, style.FIGURE_LABEL, style.FIGURE_TITLE,
                      style.FIGURE_HEADING)

# Every metric of the page: its label, value and delta, and whether each is whole: no ellipsis (Streamlit truncates
# with text-overflow), and its text inside the metric, the page's content column and the window.
METRICS = r"""() => {
    const column = document.querySelector('[data-testid="stMainBlockContainer"]').getBoundingClientRect();
    const right = Math.min(column.right, window.innerWidth) + 1, left = Math.max(column.left, 0) - 1;
    const whole = el => {
        if (!el) return true;
        const box = el.closest('[data-testid="stMetric"]').getBoundingClientRect();
        for (const e of [el, ...el.querySelectorAll('*')]) {
            const cs = getComputedStyle(e);
            if (cs.textOverflow === 'ellipsis' && cs.overflowX !== 'visible' && e.scrollWidth > e.clientWidth + 1)
                return false;
        }
        const range = document.createRange();
        range.selectNodeContents(el);
        return [...range.getClientRects()].filter(r => r.width > 0).every(
            r => r.right <= Math.min(right, box.right + 1) && r.left >= Math.max(left, box.left - 1));
    };
    return [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stMetric"]')].map(m => {
        const part = id => m.querySelector(`[data-testid="${id}"]`);
        return {label: part('stMetricLabel').innerText.trim(), value: part('stMetricValue').innerText.trim(),
                whole: whole(part('stMetricLabel')) && whole(part('stMetricValue')) && whole(part('stMetricDelta'))};
    });
}"""

# The visible text of the main area outside code and KaTeX, one string per text node.
TEXT = r"""() => {
    const out = [], main = document.querySelector('[data-testid="stMain"]');
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!n.data.trim() || el.closest('code, pre, .katex, svg, [data-testid="stCode"]')) continue;
        if (el.checkVisibility({checkVisibilityCSS: true})) out.push(n.data);
    }
    return out;
}"""

# Displayed equations wider than their place (KaTeX then scrolls them sideways: the end is out of sight).
WIDE_MATHS = r"""() => [...document.querySelectorAll('[data-testid="stMain"] .katex-display')]
    .filter(k => k.scrollWidth > k.clientWidth + 1 || k.getBoundingClientRect().right > window.innerWidth + 1)
    .map(k => k.querySelector('annotation')?.textContent.slice(0, 60) || k.textContent.slice(0, 60))"""

# Each picture of the main area: its address, its natural width and the width it is shown at.
PICTURES = r"""() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img')].map(
    i => ({src: i.currentSrc || i.src, natural: i.naturalWidth, shown: i.getBoundingClientRect().width}))"""


def wait_for_layout(page, quiet_ms=300, timeout=15_000):
    """After a resize: until the main area's size and every chart's width hold still for `quiet_ms`."""
    page.evaluate("window.__sig = ''; window.__since = 0")
    page.wait_for_function("""(quiet) => {
        const m = document.querySelector('[data-testid="stMain"]');
        const sig = [window.innerWidth, m.scrollWidth, m.scrollHeight,
                     ...[...document.querySelectorAll('.js-plotly-plot .main-svg')].map(s => s.getAttribute('width'))]
                    .join(',');
        if (sig !== window.__sig) { window.__sig = sig; window.__since = performance.now(); }
        return performance.now() - window.__since > quiet;
    }""", arg=quiet_ms, timeout=timeout, polling=100)


def the_metrics(lang: str) -> dict[str, list]:
    """Per page, what must be shown whole: (label, a pattern its value must match)."""
    text = catalog(lang)
    cost = text["paper.t2_metric_cost_value"]
    return {
        "about": [(text["about.m_patch_dim"], r"4·4·3 = 48"), (text["about.m_tokens"], r"49 \+ 1 = 50"),
                  (text["about.m_params"], r"208,010")],
        "encoder": [(text[f"encoder.{k}"], r"-?\d+\.\d{6}")
                    for k in ("score_here", "score_model", "weight_here", "weight_model")],
        "paper": [(text["paper.t2_metric_cost"], re.escape(cost.format(ratio=numbers.number(9.9 / 2.5)))),
                  (text["paper.t2_metric_l16"], re.escape(cost.format(ratio=numbers.number(9.9 / 0.68)))),
                  (text["paper.t2_metric_acc"], r"88\.55%")],
        "flatten": [(text[f"flatten.{k}"], r"\d[\d.e+-]*") for k in
                    ("diff_loop_einops", "diff_conv_einops", "diff_loop_conv", "diff_unpermuted")],
    }


def figure_text_px(page, picture: dict) -> float | None:
    """The CSS pixels of the smallest figure text in this picture, or None for a picture that is no figure (PIL
    pictures carry no dpi)."""
    png = Image.open(io.BytesIO(page.request.get(picture["src"]).body()))
    dpi = png.info.get("dpi")
    if not dpi:
        return None
    assert png.width == picture["natural"]
    return style.figure_text_px(SMALLEST_POINTS, dpi[0], picture["natural"], picture["shown"])


@pytest.mark.parametrize("lang", list(LOCALES))
def test_pages_at_every_width(app_server, chromium, lang):
    context = chromium.new_context(locale=LOCALES[lang], viewport={"width": 1366, "height": 900})
    page = context.new_page()
    problems = []
    try:
        metrics = the_metrics(lang)
        for name in ("flatten", "embedding", "encoder", "prediction", "paper", "about"):
            open_page(page, app_server, name)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                wait_for_layout(page)
                shown = page.evaluate(METRICS)
                for label, pattern in metrics.get(name, []):
                    found = [m for m in shown if m["label"] == label]
                    if not found or not re.fullmatch(pattern, found[0]["value"]) or not found[0]["whole"]:
                        problems.append(f"{name} at {width}: metric {label!r} is {found or 'missing'}")
                problems += [f"{name} at {width}: metric cut off: {m}" for m in shown if not m["whole"]]
                problems += [f"{name} at {width}: an equation wider than the page: {e!r}"
                             for e in page.evaluate(WIDE_MATHS)]
                if width == 1366:
                    problems += figures(page, name)
                    problems += maths(page, name)
                    taps = page.locator(".hint-tap:visible").count()
                    if taps or name in ("flatten", "embedding") and not page.locator(".hint-hover:visible").count():
                        problems.append(f"{name}: a mouse is told to tap, or not told to hover")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def figures(page, name: str) -> list[str]:
    """Steps 3 and 4: every figure's smallest text is readable at 1366 px."""
    sizes = [px for picture in page.evaluate(PICTURES) if (px := figure_text_px(page, picture)) is not None]
    expected = {"embedding": 2, "encoder": 4}.get(name, 0)  # E's PCA and position similarity; 2 blocks, flow, Q K V
    out = [] if len(sizes) >= expected else [f"{name}: {len(sizes)} figures, expected {expected}"]
    return out + [f"{name}: figure text of {px:.1f} px at 1366 px" for px in sizes if px < style.FIGURE_MIN_PX]


def maths(page, name: str) -> list[str]:
    """No maths left as plain text; step 4's diagrams are pictures, their captions' symbols KaTeX."""
    raw = [s for s in page.evaluate(TEXT) if re.search(r"z_|z′_|x_class|E_pos|<SUB>|ℓ−1|\$", s)]
    out = [f"{name}: maths as plain text: {s!r}" for s in raw]
    if name == "encoder":
        if page.locator("[data-testid='stGraphVizChart']").count():
            out.append("encoder: the block diagrams are Graphviz charts (their subscripts show as plain text)")
        captions = page.locator("[data-testid='stCaptionContainer']").filter(has=page.locator(".katex"))
        if not captions.filter(has_text="ℓ").count():
            out.append("encoder: no caption sets z_ℓ as maths")
    if name == "embedding" and not page.locator("[data-testid='stMarkdownContainer'] .katex",
                                                has_text="class").count():
        out.append("embedding: x_class is not set as maths")
    return out


@pytest.mark.parametrize("lang", list(LOCALES))
def test_phone_hints_say_tap(app_server, chromium, lang):
    """On a touch phone, which cannot hover, the hints of steps 2 and 3 say "tap"."""
    context = chromium.new_context(locale=LOCALES[lang], **PHONE)
    page = context.new_page()
    text = catalog(lang)
    try:
        for name, hints in (("flatten", ("matrix_hint", "vector_hint")), ("embedding", ("proj_hint", "tile_hint"))):
            open_page(page, app_server, name)
            shown = " ".join(page.evaluate(TEXT))
            for hint in hints:
                assert text[f"{name}.{hint}_tap"] in shown, (name, hint)
                assert text[f"{name}.{hint}_hover"] not in shown, (name, hint)
            assert page.locator(".hint-hover:visible").count() == 0
            assert not re.search(r"[Hh]over|마우스", shown), name
    finally:
        context.close()


def test_the_detectors_on_a_static_page(chromium):
    """METRICS finds a metric cut with an ellipsis and passes a whole one; WIDE_MATHS finds an equation that scrolls."""
    page = chromium.new_page(viewport={"width": 800, "height": 600})
    try:
        page.set_content("""<style>.v { width: 80px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
            .katex-display { width: 100px; overflow-x: auto; }</style>
            <div data-testid="stMain"><div data-testid="stMainBlockContainer" style="width: 600px">
              <div data-testid="stMetric"><div data-testid="stMetricLabel">cut</div>
                <div data-testid="stMetricValue"><div class="v">4·4·3 = 48 and more</div></div></div>
              <div data-testid="stMetric"><div data-testid="stMetricLabel">whole</div>
                <div data-testid="stMetricValue"><div>64</div></div></div>
              <div class="katex-display"><span style="display: inline-block; width: 300px">z = x</span></div>
              <div class="katex-display"><span>y</span></div></div></div>""")
        metrics, maths = page.evaluate(METRICS), page.evaluate(WIDE_MATHS)
    finally:
        page.close()
    assert [(m["label"], m["whole"]) for m in metrics] == [("cut", False), ("whole", True)]
    assert maths == ["z = x"]
