"""Drawing helpers shared by the pages: pictures as numpy arrays, matplotlib grids, compact Plotly heatmaps."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

# Korean labels need a Hangul font: Debian's fonts-nanum (installed by scripts/install_system_packages.sh).
# Matplotlib falls back along this list glyph by glyph, so Latin text keeps DejaVu Sans.
_hangul = []
for _path in ("/usr/share/fonts/truetype/nanum/NanumGothic.ttf", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"):
    try:
        font_manager.fontManager.addfont(_path)
        _hangul.append(font_manager.FontProperties(fname=_path).get_name())
    except (OSError, RuntimeError):
        continue
plt.rcParams["font.family"] = ["DejaVu Sans", *_hangul]

# Pictures drawn straight with PIL (no matplotlib figure: ten to fifty times quicker, which matters when a class
# uploads at once) use the same fonts: DejaVu Sans, shipped with matplotlib, and a Hangul font for Korean text.
_LATIN_FONT = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
_HANGUL_FONT = next((f.fname for f in font_manager.fontManager.ttflist if f.name in _hangul), None)


def pil_font(size: int, text: str = "0") -> ImageFont.FreeTypeFont:
    """A TrueType font of `size` pixels that has the glyphs of `text`: DejaVu Sans, or the Hangul font for text
    beyond Latin (it has Latin glyphs too)."""
    path = _HANGUL_FONT if _HANGUL_FONT and any(ord(ch) > 0x2FF for ch in text) else _LATIN_FONT
    return ImageFont.truetype(path, size)


def subplots(nrows: int = 1, ncols: int = 1, **kwargs):
    """plt.subplots without pyplot: pyplot's global state is not thread-safe, and every browser session runs in
    its own thread, so concurrent sessions drawing with pyplot break each other's figures."""
    fig = Figure(figsize=kwargs.pop("figsize", None), dpi=kwargs.pop("dpi", None))
    FigureCanvasAgg(fig)  # the canvas buffer_rgba / savefig draw on
    return fig, fig.subplots(nrows, ncols, **kwargs)


def figure(**kwargs) -> Figure:
    """plt.figure without pyplot (see `subplots`)."""
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def upscale(pixels: np.ndarray, side: int = 280) -> np.ndarray:
    """Blow a tiny picture up with hard pixel edges, so 28×28 looks like 28×28."""
    im = Image.fromarray(pixels)
    return np.asarray(im.resize((side, side * im.height // im.width), Image.NEAREST))


def crop_overlay(original: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The picture with the model's crop outlined and the rest dimmed."""
    im = Image.fromarray(original).convert("RGB")
    dim = Image.blend(im, Image.new("RGB", im.size, (255, 255, 255)), 0.6)
    left, top = round(box[0]), round(box[1])
    right, bottom = max(round(box[2]), left + 1), max(round(box[3]), top + 1)  # a tiny picture still gets a box
    dim.paste(im.crop((left, top, right, bottom)), (left, top))
    ImageDraw.Draw(dim).rectangle((left, top, right - 1, bottom - 1), outline=(230, 40, 40), width=3)
    return np.asarray(dim)


def patch_grid_picture(view: np.ndarray, patch: int, numbers: bool = True, side: int = 700,
                       color: tuple[int, int, int] = (230, 40, 40)) -> np.ndarray:
    """The model's input blown up to about `side` pixels with hard pixel edges, the patch grid drawn over it and,
    with `numbers`, each patch numbered row by row (white on a translucent black box)."""
    size = view.shape[0]
    grid = size // patch
    zoom = max(1, side // size)
    cell = patch * zoom  # one patch, in pixels of the picture
    im = Image.fromarray(np.ascontiguousarray(view[:grid * patch, :grid * patch])).convert("RGB")
    im = im.resize((grid * cell, grid * cell), Image.NEAREST).convert("RGBA")
    width = max(1, cell // 40)
    if numbers:
        boxes = Image.new("RGBA", im.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(boxes)
        font = pil_font(max(7, min(22, int(cell * 0.36))))
        labels = []
        for k in range(grid * grid):
            r, c = divmod(k, grid)
            x, y = (c + 0.5) * cell, (r + 0.5) * cell
            x0, y0, x1, y1 = draw.textbbox((x, y), str(k), font=font, anchor="mm")
            pad = max(1, font.size // 6)
            draw.rounded_rectangle((x0 - pad, y0 - pad, x1 + pad, y1 + pad), radius=pad, fill=(0, 0, 0, 140))
            labels.append((x, y, str(k)))
        im = Image.alpha_composite(im, boxes)
        draw = ImageDraw.Draw(im)
        for x, y, text in labels:
            draw.text((x, y), text, font=font, fill="white", anchor="mm")
    draw = ImageDraw.Draw(im)
    for k in range(1, grid):
        draw.line(((k * cell, 0), (k * cell, im.height)), fill=color, width=width)
        draw.line(((0, k * cell), (im.width, k * cell)), fill=color, width=width)
    return np.asarray(im.convert("RGB"))


def figure_png(fig: Figure, max_width: int = 1400) -> bytes:
    """A matplotlib figure as PNG, drawn once for both the page and its download: 150 dpi, or less where that would be
    wider than `max_width` pixels (Streamlit shrinks and re-encodes a wider picture on every run)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=min(150.0, max_width / fig.get_figwidth()), bbox_inches="tight")
    return buf.getvalue()


def png(picture: np.ndarray, compress_level: int = 6) -> bytes:
    """An RGB picture as PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def patches_apart(view: np.ndarray, patch: int, zoom: int = 8, gap: int = 6) -> np.ndarray:
    """All patches of the picture laid out with white space between them, still in grid order."""
    grid = view.shape[0] // patch
    side = patch * zoom
    canvas = np.full((grid * (side + gap) - gap, grid * (side + gap) - gap, 3), 255, np.uint8)
    big = np.repeat(np.repeat(view, zoom, axis=0), zoom, axis=1)
    for r in range(grid):
        for c in range(grid):
            canvas[r * (side + gap):r * (side + gap) + side, c * (side + gap):c * (side + gap) + side] = \
                big[r * side:(r + 1) * side, c * side:(c + 1) * side]
    return canvas


def heat_overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.55, cmap: str = "inferno") -> np.ndarray:
    """A (g, g) map over the picture: scaled to [0, 1], coloured, upsampled with hard patch edges and blended."""
    h = heat - heat.min()
    h = h / h.max() if h.max() > 0 else h
    colored = (colormaps[cmap](h)[..., :3] * 255).astype(np.uint8)
    colored = np.asarray(Image.fromarray(colored).resize(image.shape[1::-1], Image.NEAREST))
    return (image * (1 - alpha) + colored * alpha).astype(np.uint8)


def heatmap(z: np.ndarray, *, x=None, y=None, hovertemplate: str | None = None, colorscale: str = "Viridis",
            zmin=None, zmax=None, height: int = 480, title: str = "", xaxis: str = "", yaxis: str = "",
            layout: dict | None = None) -> go.Figure:
    """A Plotly heatmap sent as float32 binary (about 4 bytes a cell).

    Name rows and columns with x / y labels and refer to them in `hovertemplate` ("%{y} → %{x}: %{z:.3f}"):
    one label per row and column costs far fewer bytes than a hover text per cell. `layout` adds to the layout (its
    xaxis / yaxis to the axes'): pass everything here rather than calling update_layout afterwards."""
    trace = go.Heatmap(z=np.asarray(z, dtype=np.float32), x=x, y=y, colorscale=colorscale, zmin=zmin, zmax=zmax,
                       hoverongaps=False, hovertemplate=(hovertemplate + "<extra></extra>") if hovertemplate else None)
    extra = dict(layout or {})
    # one constructor call: Plotly validates the whole figure again on every update_* call (≈ 1 ms each), and
    # heatmaps are redrawn on every step of the attention explorer
    return go.Figure(trace, dict(height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10), title=title,
                                 xaxis=dict(title=xaxis, **extra.pop("xaxis", {})),
                                 yaxis=dict(title=yaxis, autorange="reversed", **extra.pop("yaxis", {})), **extra))
