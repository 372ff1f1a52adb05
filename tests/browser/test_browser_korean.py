"""Korean, everywhere (issue 12 §4): every page opened in a Korean browser (locale ko-KR), every expander opened, the
sidebar open, help tooltips hovered, select boxes opened and dataframes scrolled into view; a page fails on any run of
three or more English words outside code and maths.

What is read: the visible text of the page and sidebar (text nodes, grouped by the block they sit in), text that Plotly
draws in SVG (titles, ticks, legends, annotations; not hover templates, which show only under the mouse), the cells of
dataframes (their accessible table), the `title`, `aria-label`, `placeholder` and `data-title` of elements, help
tooltips, the options of select boxes, and the keyboard's "skip" link. Left out on purpose: code blocks (`pre`,
st.code, st.json), inline `code` and KaTeX maths (they count as neither a word nor a break), Material icon ligatures,
and the "Show the code" panels (an expander whose body holds st.code). Not readable at all: pictures drawn as PNG
(matplotlib, PIL) — their words are pixels.

The rule (`english_runs`): a token of Latin letters is an English word unless it is code or a name by its shape —
it holds a digit, an underscore or a dot (10MB, ViT-B/16, patch_embed, vit_core.views), is one letter (P, N, x),
is all capitals (CNN, MLP, PNG), or mixes cases inside (ViT, PyTorch, LayerNorm). Hangul, a line break and a few
separators (• | = → · ▶ ◀) end a run; spaces, punctuation, numbers, code and maths do not. ALLOWED names
the few phrases Korean text may quote in English, each with its reason: they count as neither word nor break.
"""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from harness.browser import ARTIFACTS, PATHS, open_page


# ---- the detector --------------------------------------------------------------------------------------------------
MIN_WORDS = 3  # the issue: "runs of three or more English words"

# (pattern, reason): what Korean text may quote in English. Case-sensitive, matched in the original text.
ALLOWED = [
    (r"An Image is Worth 16x16 Words(?:: Transformers for Image Recognition at Scale)?",
     "the ViT paper's title, cited (About, credits)"),
    ((r"Alexey Dosovitskiy, Lucas Beyer, Alexander Kolesnikov, Dirk Weissenborn, Xiaohua Zhai, Thomas Unterthiner, "
      r"Mostafa Dehghani, Matthias Minderer, Georg Heigold, Sylvain Gelly, Jakob Uszkoreit,(?: and)? Neil Houlsby"),
     "the ViT paper's authors, cited (About, credits)"),
    (r"\bDosovitskiy\b", "the ViT paper's first author, cited (paper page captions)"),
    (r"\bInternational Conference on Learning Representations\b", "the ViT paper's venue, cited (paper page)"),
    (r"\bet al\.", "citation of authors"),
    (r"\bAbnar & Zuidema\b", "cited authors (attention rollout, 2020)"),
    (r"\bChefer, Gur & Wolf\b", "cited authors (class-specific relevance, ICCV 2021)"),
    (r"\bXiao, Rasul & Vollgraf\b", "cited authors (Fashion-MNIST, 2017; the model card)"),
    (r"\b(?:einops|safetensors|Pillow|Streamlit|Plotly|Matplotlib|timm)\b", "library names"),
    (r"\bVision Transformer\b", "the model's name, as the paper writes it"),
    (r"\bHugging Face(?: Hub)?\b", "product name"),
    (r"\bFashion-MNIST\b", "data set name"),
    (r"\bOxford-IIIT Pets\b", "data set name"),
    (r"\bOxford Flowers-102\b", "data set name"),
    (r"\bcls\b", "the class token's name, as the paper's code writes it (one word: never a run on its own)"),
    (r"^English$", "the language picker names each language in that language"),
    (r"\bNoisy Student\b", "model name (paper's Table 2)"),
    (r"Are Sixteen Heads Really Better than One\??", "a cited paper's title (Michel et al., NeurIPS 2019)"),
    (r"On Layer Normalization in the Transformer Architecture", "a cited paper's title (Xiong et al., 2020)"),
    (r"Vision Transformers Need Registers", "a cited paper's title (Darcet et al., ICLR 2024; the token step)"),
]
_ALLOWED = [(re.compile(p, re.ASCII), why) for p, why in ALLOWED]  # ASCII: \b holds before a Korean particle

NEUTRAL = "\ue000"  # stands for inline code or maths in collected text: neither a word nor a break
_HANGUL_CJK = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3\u3040-\u30ff\u4e00-\u9fff]")
_BREAKS = set("\n\r\u2022|=\u2192\u2190\u00b7\u25b6\u25c0")  # line break • | = → ← · ▶ ◀
_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:['\u2019\-./+][A-Za-z0-9_]+)*|\s+|.", re.DOTALL)


def _kind(tok: str) -> str:
    """'word', 'break' or 'neutral' for one token of _TOKEN."""
    if tok in _BREAKS or "\n" in tok or "\r" in tok or _HANGUL_CJK.match(tok):
        return "break"
    if not (tok[0].isascii() and (tok[0].isalnum() or tok[0] == "_")):
        return "neutral"  # spaces, punctuation, symbols, NEUTRAL
    letters = re.sub(r"[^A-Za-z]", "", tok)
    if ("_" in tok or "." in tok or any(c.isdigit() for c in tok) or len(letters) < 2 or letters.isupper()
            or re.search(r"[a-z][A-Z]", tok)):
        return "neutral"  # code, numbers with units, ids, single letters, acronyms, names like ViT or PyTorch
    return "word"


def english_runs(text: str, min_words: int = MIN_WORDS) -> list[str]:
    """The runs of at least `min_words` English words in `text` (see the module's docstring), as they appear."""
    allowed = [m.span() for rx, _ in _ALLOWED for m in rx.finditer(text)]
    runs, words = [], []

    def close():
        if len(words) >= min_words:
            runs.append(text[words[0][0]:words[-1][1]])
        words.clear()

    for m in _TOKEN.finditer(text):
        kind = _kind(m.group())
        if kind == "word" and any(a <= m.start() < b for a, b in allowed):
            kind = "neutral"
        if kind == "word":
            words.append(m.span())
        elif kind == "break":
            close()
    close()
    return runs


# ---- reading a page ------------------------------------------------------------------------------------------------
# Returns [{kind, where, text}] for everything under `rootSelector` (the whole document if null).
COLLECT = r"""(rootSelector) => {
    const root = rootSelector ? document.querySelector(rootSelector) : document.body;
    const out = [];
    if (!root) return out;
    const NEUTRAL = '\ue000';
    const BLOCK_SKIP = "pre, [data-testid='stCode'], .katex-display, [data-testid='stJson'], .js-plotly-plot, " +
        "[data-testid='stDataFrame'], [data-testid='stSkipToContent'], script, style, noscript, template";
    const INLINE_SKIP = "code, .katex, [data-testid='stIconMaterial'], [data-testid='stIconEmoji']";
    // "Show the code" panels: the body of an expander that holds st.code
    const panels = [...root.querySelectorAll("[data-testid='stExpanderDetails']")]
        .filter(d => d.querySelector("[data-testid='stCode']"));
    const visible = el => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
    const keyOf = el => {
        const k = el.closest("[class*='st-key-']");
        const m = k && [...k.classList].find(c => c.startsWith('st-key-'));
        return m ? ' key=' + m.slice(7) : '';
    };
    const where = el => {
        const region = el.closest("[data-testid='stSidebar']") ? 'sidebar'
            : el.closest("[data-testid='stMain']") ? 'main'
            : el.closest("[data-testid='stHeader']") ? 'header'
            : el.closest("[data-testid='stTooltipContent']") ? 'tooltip'
            : el.closest("[role='dialog']") ? 'dialog' : 'page';
        const w = el.closest('[data-testid]');
        return region + ' > ' + (w ? w.dataset.testid : el.tagName.toLowerCase()) + keyOf(el);
    };
    const isBlock = el => {
        const d = getComputedStyle(el).display;
        return !(d.startsWith('inline') || d === 'contents');
    };
    const blockOf = el => {
        while (el && el !== root && !isBlock(el)) el = el.parentElement;
        return el;
    };
    let cur = null, lastInline = null;
    const flush = () => {
        if (cur && cur.text.replaceAll(NEUTRAL, '').trim()) out.push({kind: 'text', where: cur.where, text: cur.text});
        cur = null;
    };
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.data.trim()) continue;
        const el = n.parentElement;
        if (!el || el.closest(BLOCK_SKIP) || panels.some(p => p.contains(el))) { flush(); continue; }
        if (!visible(el)) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        const rects = [...range.getClientRects()].filter(r => r.width >= 1 && r.height >= 1);
        if (!rects.length || rects.every(r => r.right <= 0 || r.bottom <= 0)) continue;  // off-screen: not shown
        const inline = el.closest(INLINE_SKIP);
        const block = blockOf(inline ? inline.parentElement : el);
        if (!cur || cur.block !== block) { flush(); cur = {block, text: '', where: where(block || el)}; }
        if (inline) { if (inline !== lastInline) cur.text += NEUTRAL; lastInline = inline; }
        else {  // a line break in the source is a space, unless the element keeps white space as it is
            cur.text += getComputedStyle(el).whiteSpace.startsWith('pre') ? n.data : n.data.replace(/\s+/g, ' ');
            lastInline = null;
        }
    }
    flush();
    // what Plotly draws: every SVG text but the hover layer
    for (const plot of root.querySelectorAll('.js-plotly-plot')) {
        for (const t of plot.querySelectorAll('svg text')) {
            if (t.closest('.hoverlayer') || !t.textContent.trim() || !visible(t)) continue;
            if (t.getBoundingClientRect().width < 1) continue;
            const cls = (t.getAttribute('class') || t.parentElement.getAttribute('class') || 'text').split(' ')[0];
            out.push({kind: 'chart', where: where(plot) + ' > ' + cls, text: t.textContent});
        }
    }
    // dataframes: the accessible table behind the canvas (rows drawn so far)
    for (const df of root.querySelectorAll("[data-testid='stDataFrame']"))
        for (const c of df.querySelectorAll('th, td'))
            if (c.textContent.trim()) out.push({kind: 'table', where: where(df), text: c.textContent});
    // what assistive technology reads, and what shows on hovering or on the keyboard's first Tab
    for (const e of root.querySelectorAll('[title], [aria-label], [placeholder], [data-title], img[alt]')) {
        // hidden from assistive technology too: display none, visibility hidden, aria-hidden (opacity 0 is read)
        if (e.closest('[aria-hidden="true"]') || !e.checkVisibility({checkVisibilityCSS: true})) continue;
        for (const a of ['title', 'aria-label', 'placeholder', 'data-title', 'alt']) {
            const v = e.getAttribute(a);
            if (v && v.trim()) out.push({kind: 'attribute', where: where(e) + ' [' + a + ']', text: v});
        }
    }
    for (const s of root.querySelectorAll("[data-testid='stSkipToContent']"))
        out.push({kind: 'keyboard', where: 'page > stSkipToContent', text: s.textContent});
    return out;
}"""


# COLLECT leaves out text above the view as off-screen: a page is read from its top (every scrolling box scrolled up)
TO_TOP = """() => [document.scrollingElement, ...document.querySelectorAll(
    "[data-testid='stMain'], [data-testid='stAppViewContainer'], [data-testid='stSidebarContent']")]
    .forEach((e) => { if (e) e.scrollTop = 0; })"""


def open_everything(page) -> list[dict]:
    """Open the sidebar and every expander, draw every dataframe; returns what only shows on demand: the options of
    each select box and every tooltip (segments as COLLECT gives them)."""
    extra = []
    if page.locator("[data-testid='stSidebar'][data-collapsed='true']").count():
        page.locator("[data-testid='stExpandSidebarButton']").click()
        page.wait_for_selector("[data-testid='stSidebar'][data-collapsed='false']")
    closed = page.locator("[data-testid='stExpander'] details:not([open]) > summary")
    for _ in range(50):  # opening one changes the list: take the first closed one until none is left
        if not closed.count():
            break
        closed.first.click()
    assert not closed.count(), "an expander did not open"
    for df in page.locator("[data-testid='stDataFrame']").all():
        df.scroll_into_view_if_needed()
        df.locator("table").first.wait_for(state="attached", timeout=10_000)
    for box in page.locator("[data-testid='stSelectbox']").all():
        if not box.is_visible():
            continue
        label = box.locator("[data-testid='stWidgetLabel']").inner_text().strip()
        options = page.locator("[role='listbox'] [role='option']")
        for _ in range(3):  # a click just after the last box closed is sometimes lost
            box.locator("[role='combobox']").first.click()
            try:
                options.first.wait_for(timeout=2_000)
                break
            except PlaywrightTimeout:
                page.keyboard.press("Escape")
        else:
            raise AssertionError(f"the select box {label!r} did not open")
        extra += [{"kind": "option", "where": f"select box {label!r}", "text": t} for t in options.all_inner_texts()]
        page.keyboard.press("Escape")
        options.first.wait_for(state="detached", timeout=5_000)
    tip = page.locator("[data-testid='stTooltipContent']")
    # help icons and widgets with help; not the toolbars over charts and tables (Streamlit's, the tooltip repeats the
    # button's aria-label, read above)
    for target in page.locator("[data-testid='stTooltipHoverTarget']").all():
        if not target.is_visible() or target.evaluate("e => !!e.closest(\"[data-testid='stElementToolbar']\")"):
            continue
        is_help_icon = target.evaluate("e => !!(e.closest(\"[data-testid='stTooltipIcon']\")"
                                       " || e.querySelector(\"[data-testid='stTooltipIcon']\"))")
        target.hover(timeout=10_000)
        try:  # shown, and faded in far enough to count as visible (opacity above 0)
            page.wait_for_function("""() => document.querySelector("[data-testid='stTooltipContent']")
                ?.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})""", timeout=3_000)
        except PlaywrightTimeout:
            assert not is_help_icon, "a help icon showed no tooltip"
            continue  # a hover target without a tooltip
        extra += page.evaluate(COLLECT, "[data-testid='stTooltipContent']")
        page.mouse.move(0, 0)
        tip.first.wait_for(state="detached", timeout=5_000)
    page.mouse.move(0, 0)
    return extra


def findings_of(segments: list[dict], min_words: int = MIN_WORDS) -> list[dict]:
    """Each English run of each segment, with where it was; one entry per (where, run)."""
    seen, out = set(), []
    for s in segments:
        for run in english_runs(s["text"], min_words):
            if (s["where"], run) not in seen:
                seen.add((s["where"], run))
                out.append({"kind": s["kind"], "where": s["where"], "run": run})
    return out


# ---- the detector itself -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, runs", [
    ("그림을 업로드하세요. Drag and drop file here", ["Drag and drop file here"]),
    ("Page not found", ["Page not found"]),
    ("모양 (B, N, D)의 텐서", []),  # single letters are maths
    ("patch_embed, cls_token, pos_embed를 더합니다", []),  # identifiers are code
    ("ImageNet top-1: ViT-H/14 대 BiT-L", []),  # names, ids, numbers
    ("MLP, GELU, CNN 그리고 LayerNorm", []),  # acronyms and names
    ("논문 *An Image is Worth 16x16 Words* (Dosovitskiy 외, ICLR 2021)", []),  # a cited title
    ("Hugging Face Hub에서 내려받기", []),
    ("see the Vision Transformer는", []),  # a name glued to a Korean particle is still the name
    ("10MB per file • PNG, JPG", []),  # two words only
    ("the cls token is read", ["the cls token is read"]),
    ("the \ue000 weights are learned", ["the \ue000 weights are learned"]),  # inline code neither breaks nor counts
    ("one two\nthree four", []),  # a line break ends a run
    ("Image is Worth", ["Image is Worth"]),  # only the whole title is allowed
])
def test_english_runs(text, runs):
    assert english_runs(text) == runs


SAMPLE = """<html><body>
<div data-testid="stSidebar" aria-expanded="true"><a href="#">1 · 이미지 → 패치</a>
  <button title="Clear all uploaded files">x</button></div>
<div data-testid="stMain">
  <p>이 모델은 <code>cls_token is prepended here</code>을 씁니다.
     <span class="katex">softmax of the scores</span></p>
  <p>Korean first, then <b>three English words</b> left behind.</p>
  <pre>for patch in patches: print(the value)</pre>
  <p style="display:none">hidden English sentence here</p>
  <details data-testid="stExpander"><summary>코드 보기</summary>
    <div data-testid="stExpanderDetails"><div data-testid="stCaption">vit_core.views.analyse</div>
    <div data-testid="stCode">def analyse(loaded, image_bytes, lock)</div></div></details>
  <div class="js-plotly-plot"><svg class="main-svg" width="300" height="100">
    <g class="xtitle"><text x="10" y="20">mean attention distance</text></g>
    <g class="hoverlayer"><text x="10" y="50">hover text is skipped</text></g></svg></div>
</div></body></html>"""


def test_collect_and_detect_on_a_static_page(chromium):
    """The collector and the detector together, on a page with known English left in it."""
    page = chromium.new_page()
    try:
        page.set_content(SAMPLE)
        found = {(f["kind"], f["run"]) for f in findings_of(page.evaluate(COLLECT, None))}
    finally:
        page.close()
    assert found == {("text", "Korean first, then three English words left behind"),
                     ("chart", "mean attention distance"),
                     ("attribute", "Clear all uploaded files")}


# ---- every page, in Korean -----------------------------------------------------------------------------------------
REPORT: dict[str, dict[str, list[dict]]] = {}  # page -> runs found (and two-word runs, for the report only)


@pytest.fixture(scope="module")
def korean_page(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="ko-KR")
    page = context.new_page()
    yield page
    context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "korean_english_runs.json").write_text(json.dumps(REPORT, ensure_ascii=False, indent=1),
                                                       encoding="utf-8")


@pytest.mark.parametrize("name", PATHS)
def test_no_english_left_in_korean(app_server, korean_page, name):
    page = korean_page
    open_page(page, app_server, name)
    extra = open_everything(page)
    page.evaluate(TO_TOP)
    segments = page.evaluate(COLLECT, None) + extra
    assert any(_HANGUL_CJK.search(s["text"]) for s in segments), f"{name}: the page is not in Korean at all"
    found = findings_of(segments)
    REPORT[name] = {"runs": found, "two words (not failing)": [f for f in findings_of(segments, 2) if f not in found]}
    assert not found, f"{name}: English left in the Korean page:\n" + "\n".join(
        f"  [{f['kind']}] {f['where']}: {f['run']!r}" for f in found)


def test_html_lang_follows_the_language(app_server, chromium):
    """<html lang> is the UI language, and changes with it (a screen reader picks its pronunciation from it)."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="ko-KR")
    page = context.new_page()
    try:
        open_page(page, app_server, "patches")
        page.wait_for_function("document.documentElement.lang === 'ko'", timeout=30_000)
        page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.locator("[role='combobox']").click()
        page.get_by_role("option", name="English", exact=True).click()
        page.wait_for_function("document.documentElement.lang === 'en'", timeout=30_000)
    finally:
        context.close()
