"""How every chart and picture looks: fonts, text sizes, colour scales, axis ticks, and how pictures are encoded.

Pages never choose these themselves, so the same thing looks the same on every page.
"""
from __future__ import annotations

import functools
import io
import threading

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (rcParams only: figures are made without pyplot, see plots.subplots)
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image, ImageFont  # noqa: E402

# ---- fonts -----------------------------------------------------------------------------------------------------------
# Korean labels need a Hangul font: Debian's fonts-nanum (installed by scripts/install_system_packages.sh).
# Matplotlib falls back along this list glyph by glyph, so Latin text keeps DejaVu Sans.
HANGUL_FILES = ("/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
                "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
_hangul = []
for _path in HANGUL_FILES:
    try:
        font_manager.fontManager.addfont(_path)
        _hangul.append(font_manager.FontProperties(fname=_path).get_name())
    except (OSError, RuntimeError):
        continue
plt.rcParams["font.family"] = ["DejaVu Sans", *_hangul]
HANGUL = _hangul[0] if _hangul else None  # a font family with Hangul, or None on a server without one

# Pictures drawn straight with PIL use the same fonts: DejaVu Sans (shipped with matplotlib), Hangul where needed.
_LATIN_FONT = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
_HANGUL_FONT = next((f.fname for f in font_manager.fontManager.ttflist if f.name in _hangul), None)


def pil_font(size: int, text: str = "0") -> ImageFont.FreeTypeFont:
    """A TrueType font of `size` pixels that has the glyphs of `text`: DejaVu Sans, or the Hangul font for text
    beyond Latin (it has Latin glyphs too)."""
    path = _HANGUL_FONT if _HANGUL_FONT and any(ord(ch) > 0x2FF for ch in text) else _LATIN_FONT
    return ImageFont.truetype(path, size)


def figure_text(text: str, english: str) -> tuple[str, dict]:
    """A label inside a matplotlib figure and its text properties: in the Hangul font where the label needs one, or
    the English label `english` when this server has no such font (rather than empty boxes)."""
    if not any("\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f" or "\uac00" <= ch <= "\ud7a3" for ch in text):
        return text, {}  # no Hangul: DejaVu Sans has every glyph (Latin, arrows, maths)
    return (text, {"fontfamily": [HANGUL, "DejaVu Sans"]}) if HANGUL else (english, {})


# Text sizes in matplotlib figures (points) and Plotly charts (pixels). Text in a figure must be at least
# FIGURE_MIN_PX CSS pixels on a 1366 px screen: a figure's points become figure_text_px(points, …) there, so a figure
# shown narrow (a column) or drawn wide (many panels) needs fewer inches, not smaller points.
FIGURE_TICK, FIGURE_SMALL, FIGURE_LABEL, FIGURE_TITLE, FIGURE_HEADING = 8, 8, 9, 10, 11
FIGURE_MIN_PX = 10
CHART_TICK, CHART_AXIS_TITLE, CHART_SUBTITLE, CHART_TITLE, CHART_OPERATOR = 10, 11, 13, 14, 30


def figure_text_px(points: float, dpi: float, natural_px: float, shown_px: float) -> float:
    """The height in CSS pixels of `points`-sized text in a figure saved at `dpi` into a PNG `natural_px` wide and
    shown `shown_px` wide: points are 1/72 inch, so points · dpi / 72 picture pixels, scaled by shown / natural."""
    return points * dpi / 72 * shown_px / natural_px

# ---- colours ---------------------------------------------------------------------------------------------------------
DIVERGING = "RdBu_r"  # signed values: red positive, blue negative, white 0
SEQUENTIAL = "Viridis"  # weights and similarities
HEAT = "inferno"  # matplotlib's name, for attention maps drawn over pictures
HIGHLIGHT = (0, 229, 255)  # cyan: the current head, the query patch
HIGHLIGHT_CSS = "#00e5ff"
CROP = (230, 40, 40)  # red: the model's crop and the patch grid
BLUE, RED, PURPLE = "#3b82f6", "#dc2626", "#8b5cf6"
LN_COLOUR, ATTN_COLOUR, MLP_COLOUR = "#fcd34d", "#93c5fd", "#86efac"
# one colour per class on the logit lens's map (Okabe & Ito's eight, told apart with colour-blindness, then two more);
# beyond them, every other class in OTHER_CLASS
CLASSES = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#000000", "#8b5cf6",
           "#994f00")
OTHER_CLASS = "#9ca3af"
# In a chart's layout: no Plotly template (the default one is about 6 KB a chart); Streamlit's theme styles the chart
# in the browser. Given to the constructor, not set afterwards: every change to a built figure is validated again.
NO_TEMPLATE: dict = {}


def symmetric(z: np.ndarray) -> tuple[float, float]:
    """(−m, m) for a diverging scale, m the largest magnitude (1 for an all-zero array), so that 0 is white."""
    m = float(np.abs(z).max()) or 1.0
    return -m, m


# ---- axes ------------------------------------------------------------------------------------------------------------
def ticks(labels: list[str], numbers, most: int) -> dict:
    """An axis of named categories ticked with plain numbers, at most `most` of them; the hover keeps the names."""
    step = max(1, -(-len(labels) // most))
    return dict(tickmode="array", tickvals=labels[::step], ticktext=[str(n) for n in list(numbers)[::step]])


# ---- encoding --------------------------------------------------------------------------------------------------------
def png(picture: np.ndarray, compress_level: int = 6) -> bytes:
    """An RGB picture as PNG bytes: hard-edged pictures (pixels blown up, grids), exact and small."""
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def jpeg(picture: np.ndarray) -> bytes:
    """An RGB picture as JPEG bytes (quality 90): photos, and maps over a photo (a few KB, and ten times quicker to
    make than PNG)."""
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


SMALL_PICTURE = 128 * 128  # pixels: a picture this small is a drawing or a Fashion-MNIST image, not a photo


def picture_format(width: int, height: int) -> str:
    """"PNG" or "JPEG" for a picture whose own size (before it is blown up or drawn over) is `width` × `height`: PNG
    for a small or thin one (at most SMALL_PICTURE pixels), whose hard pixel edges JPEG would blur; JPEG for a photo
    (a few KB instead of a hundred). What every page and the explorer give st.image, encoded and a data URI."""
    return "PNG" if width * height <= SMALL_PICTURE else "JPEG"


def encoded(picture: np.ndarray, fmt: str) -> bytes:
    """The picture as `fmt` ("PNG" or "JPEG", picture_format's answer)."""
    return png(picture) if fmt == "PNG" else jpeg(picture)


MATPLOTLIB = threading.RLock()


def one_figure_at_a_time(make):
    """A function that makes and draws a matplotlib figure, run under one lock for the whole server. Matplotlib is not
    thread-safe: its text layout (mathtext's parser, called by tight_layout) raised ParseException and ValueError when
    sessions drew the encoder's figures at once (benchmarks/classroom.py --lesson, 60 learners on one beat)."""
    @functools.wraps(make)
    def made(*args, **kwargs):
        with MATPLOTLIB:
            return make(*args, **kwargs)
    return made


def figure_png(fig: Figure, max_width: int = 1400) -> bytes:
    """A matplotlib figure as PNG, drawn once for both the page and its download: 150 dpi, or less where that would be
    wider than `max_width` pixels (Streamlit shrinks and re-encodes a wider picture on every run)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=min(150.0, max_width / fig.get_figwidth()), bbox_inches="tight")
    return buf.getvalue()


def symmetric_clipped(z: np.ndarray, percentile: float = 99) -> tuple[float, float]:
    """(−m, m) for a diverging scale, m the `percentile`-th percentile of |z| (1 where that is 0): a few huge values
    (one outlying channel of the residual stream) do not wash out every other one."""
    m = float(np.percentile(np.abs(z), percentile)) or 1.0
    return -m, m


# ---- page CSS --------------------------------------------------------------------------------------------------------
# Given once for every page, by app/main.py (st.html: a <style> only, it takes no room). Metric labels and values,
# and the labels of widgets in the page, wrap rather than end in "…" (Streamlit cuts them at their column's width,
# even by a tenth of a pixel). A container keyed by metric_grid lays its metrics out in equal columns, as many as the
# width holds: five at 1366 px, three at 1024, two on a phone. A hint shows the wording for the pointer the reader has.
# Korean pages (<html lang="ko">, set by app/components/streamlit_texts) break lines between words, never inside one
# ("어\n떤"): word-break keep-all on every element (Streamlit sets word-break: break-word on its Markdown, captions
# and paragraphs), the sidebar's and the explorer's included; code keeps its own. A string too long for a line (an
# address, a number, code) still wraps, in every language: overflow-wrap break-word on the body, and anywhere where
# Streamlit's break-word meant it (Markdown and captions: break-word is normal plus overflow-wrap anywhere), except in
# a Markdown table's cells: there "anywhere" let a column shrink to one letter ("에\n폭", page 10's as-text table on a
# phone), so a cell breaks only a word longer than the table allows.
# The page starts just below Streamlit's header bar (3.75rem, where the sidebar's toggle and the menu are), not 6rem.
PAGE_CSS = """<style>
body { overflow-wrap: break-word; }
html:lang(ko) body, html:lang(ko) body *:not(pre, pre *, code, code *, [data-testid="stJson"] *) {
  word-break: keep-all !important; }
:is([data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"], [data-testid="stImageCaption"]),
:is([data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"], [data-testid="stImageCaption"]) * {
  overflow-wrap: anywhere; }
[data-testid="stMarkdownContainer"] :is(th, td) { overflow-wrap: break-word; }
[data-testid="stMainBlockContainer"] { padding-top: 3.75rem; }
[data-testid="stMetricLabel"] *, [data-testid="stMetricValue"] *, [data-testid="stMetricDelta"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
[data-testid="stMetricValue"] { overflow-wrap: anywhere; }
[data-testid="stMain"] .stMarkdownEllipsis {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
[class*="st-key-metrics_"], [class*="st-key-metricswide_"] {
  display: grid !important; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: 0.75rem 1rem; }
[class*="st-key-metricswide_"] { grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); }
@media (hover: none) { .hint-hover { display: none; } }
@media not (hover: none) { .hint-tap { display: none; } }
</style>"""


# Given once for the whole app (app/main.py), for learners with low vision, a keyboard or motion sickness (issue 17,
# docs/ACCESSIBILITY.md). Streamlit 1.67 greys captions with opacity 0.6, to #828180: 3.9:1 on white, under WCAG AA's
# 4.5:1 for small text; #5c5b5a at full opacity is 6.8:1 on white and 6.0:1 on the sidebar's grey. Links in a caption
# keep their colour. Every focused control shows a ring, and with `prefers-reduced-motion` nothing slides, fades or
# scrolls smoothly.
CAPTION = "#5c5b5a"
# The colours of code blocks' tokens: Streamlit's own (pink keywords, light blue functions…) fail WCAG AA's 4.5:1 on
# the code's grey (axe, on step 2's three ways of cutting patches, shown open by a lesson's beat). Each of these is
# at least 6:1 on #f0f2f6.
CODE_COLOURS = {"keyword": "#7a2a90", "function": "#1f4f9a", "builtin": "#1f4f9a", "class-name": "#1f4f9a",
                "string": "#2b6a1a", "number": "#8a3f00", "boolean": "#8a3f00", "comment": "#5c5b5a",
                "operator": "#3d3d3d", "punctuation": "#3d3d3d"}
CODE_TOKENS = " ".join(f".stCode .token.{name} {{ color: {colour} !important; }}"
                       for name, colour in CODE_COLOURS.items())
FOCUS = "#1c5fd0"  # 5.8:1 on white: a ring seen against the page as well as against a widget
APP_CSS = f"""<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] :not(a), [data-testid="stImageCaption"],
[data-testid="stImageCaption"] :not(a), [data-testid="stWidgetLabel"] small {{ color: {CAPTION} !important; }}
[data-testid="stCaptionContainer"], [data-testid="stImageCaption"] {{ opacity: 1 !important; }}
{CODE_TOKENS}
:focus-visible {{ outline: 2px solid {FOCUS} !important; outline-offset: 2px; }}
@media (prefers-reduced-motion: reduce) {{
  *, *::before, *::after {{ animation-duration: 0.01ms !important; animation-iteration-count: 1 !important;
    transition-duration: 0.01ms !important; scroll-behavior: auto !important; }} }}
</style>"""


def metric_grid(name: str, wide: bool = False) -> str:
    """The key of a container whose metrics PAGE_CSS lays out in a grid: st.container(key=style.metric_grid("…")).
    Columns of at least 10rem, or 16rem (`wide`) for labels of some forty characters, kept on one line."""
    return f"metricswide_{name}" if wide else f"metrics_{name}"


def pointer_hint(hover: str, tap: str) -> str:
    """A hint in two wordings for st.markdown(…, unsafe_allow_html=True) (PAGE_CSS shows one): `hover` ("hover
    over a cell") where there is a mouse, `tap` ("tap a cell") on a touch screen, which cannot hover."""
    return f'<span class="hint-hover">{hover}</span><span class="hint-tap">{tap}</span>'
