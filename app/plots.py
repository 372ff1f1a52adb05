"""Drawing: pictures as numpy arrays (PIL), matplotlib figures without pyplot, compact Plotly heatmaps.

How things look (fonts, colours, encodings) comes from app/style.py; what is drawn comes from vit_core.views.
"""
from __future__ import annotations

import io

import numpy as np
import plotly.graph_objects as go
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from app import style


def subplots(nrows: int = 1, ncols: int = 1, **kwargs):
    """plt.subplots without pyplot: pyplot's global state is not thread-safe, and every browser session runs in
    its own thread, so concurrent sessions drawing with pyplot break each other's figures."""
    fig = Figure(figsize=kwargs.pop("figsize", None), dpi=kwargs.pop("dpi", None))
    FigureCanvasAgg(fig)  # the canvas buffer_rgba / savefig draw on
    return fig, fig.subplots(nrows, ncols, **kwargs)


def upscale(pixels: np.ndarray, side: int = 280) -> np.ndarray:
    """Blow a tiny picture up with hard pixel edges, so 28×28 looks like 28×28."""
    im = Image.fromarray(pixels)
    return np.asarray(im.resize((side, side * im.height // im.width), Image.NEAREST))


def mark(im: Image.Image, box: tuple[float, float, float, float], colour: tuple[int, int, int], width: int) -> None:
    """Outline `box` (left, top, right, bottom, inclusive; drawn inwards) in `colour`, dashed with black: what it marks
    is not told by colour alone (WCAG 1.4.1), and the black dashes show on a cyan or red outline alike."""
    draw = ImageDraw.Draw(im)
    x0, y0, x1, y1 = (round(v) for v in box)
    draw.rectangle((x0, y0, x1, y1), outline=colour, width=width)
    dash = max(4, 2 * width)
    for x in range(x0 + dash, x1 - width, 2 * dash):  # top and bottom
        draw.rectangle((x, y0, min(x + dash, x1 - width) - 1, y0 + width - 1), fill="black")
        draw.rectangle((x, y1 - width + 1, min(x + dash, x1 - width) - 1, y1), fill="black")
    for y in range(y0 + dash, y1 - width, 2 * dash):  # left and right
        draw.rectangle((x0, y, x0 + width - 1, min(y + dash, y1 - width) - 1), fill="black")
        draw.rectangle((x1 - width + 1, y, x1, min(y + dash, y1 - width) - 1), fill="black")


def crop_overlay(original: np.ndarray, box: tuple[float, float, float, float], small: int = 336,
                 frame: int = 3) -> np.ndarray:
    """The picture with the rest of it dimmed and the model's crop outlined just outside the crop, on a white margin
    where the crop reaches the picture's edge: the outline covers none of the pixels the model sees. A small picture
    (a 28×28 drawing) is first blown up with hard pixel edges to about `small` pixels, so 28×28 looks like 28×28."""
    im = Image.fromarray(original).convert("RGB")
    k = max(1, small // max(im.size))
    im = im.resize((im.width * k, im.height * k), Image.NEAREST) if k > 1 else im
    left, top = round(box[0] * k), round(box[1] * k)
    right, bottom = max(round(box[2] * k), left + 1), max(round(box[3] * k), top + 1)  # a tiny picture gets a box
    dim = Image.blend(im, Image.new("RGB", im.size, (255, 255, 255)), 0.6)
    dim.paste(im.crop((left, top, right, bottom)), (left, top))
    canvas = Image.new("RGB", (im.width + 2 * frame, im.height + 2 * frame), (255, 255, 255))
    canvas.paste(dim, (frame, frame))
    # the crop spans canvas pixels frame+left … frame+right-1; PIL draws a rectangle's width inwards from its bounds
    mark(canvas, (left, top, right + 2 * frame - 1, bottom + 2 * frame - 1), style.CROP, frame)
    return np.asarray(canvas)


def patch_grid_picture(view: np.ndarray, patch: int, numbers: bool = True, side: int = 700,
                       color: tuple[int, int, int] = style.CROP) -> np.ndarray:
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
        font = style.pil_font(max(7, min(22, int(cell * 0.36))))
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


def coloured(values: np.ndarray, vmin: float, vmax: float, cmap: str = "viridis") -> np.ndarray:
    """A (h, w) array as an RGB picture in a colour map, from vmin to vmax (NaN: white)."""
    scaled = np.clip((np.nan_to_num(values, nan=vmin) - vmin) / (vmax - vmin), 0, 1)
    picture = (colormaps[cmap](scaled)[..., :3] * 255).astype(np.uint8)
    picture[np.isnan(values)] = 255
    return picture


def heat_overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.55, cmap: str = style.HEAT) -> np.ndarray:
    """A (g, g) map over the picture: scaled to [0, 1], coloured, upsampled with hard patch edges and blended."""
    h = heat - heat.min()
    h = h / h.max() if h.max() > 0 else h
    colored = (colormaps[cmap](h)[..., :3] * 255).astype(np.uint8)
    colored = np.asarray(Image.fromarray(colored).resize(image.shape[1::-1], Image.NEAREST))
    return (image * (1 - alpha) + colored * alpha).astype(np.uint8)


def heatmap(z: np.ndarray, *, x=None, y=None, hovertemplate: str | None = None, colorscale: str = style.SEQUENTIAL,
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


def map_over(view: np.ndarray, heat: np.ndarray, side: int, patch: int | None = None) -> np.ndarray:
    """A (g, g) map over the model's view, `side` pixels wide, with one patch outlined if asked. Blended at the view's
    own size, then blown up with hard edges: the same picture as blending at `side` pixels when `side` is a multiple
    of the view (the teaching model), a hundred times fewer pixels to blend (this runs four times a step)."""
    picture = upscale(heat_overlay(view, heat), side)
    if patch is None:
        return picture
    g = heat.shape[0]
    r, c = divmod(patch, g)
    cell = picture.shape[1] / g
    im = Image.fromarray(picture)
    mark(im, (c * cell, r * cell, (c + 1) * cell - 1, (r + 1) * cell - 1), style.HIGHLIGHT, max(2, round(cell / 8)))
    return np.asarray(im)


def outlined(view: np.ndarray, grid: int, side: int, patch: int | None) -> np.ndarray:
    """The model's view blown up to `side` pixels with hard edges, one patch outlined (none: just the view)."""
    picture = upscale(view, side)
    if patch is None:
        return picture
    r, c = divmod(patch, grid)
    cell = picture.shape[1] / grid
    im = Image.fromarray(picture)
    mark(im, (c * cell, r * cell, (c + 1) * cell - 1, (r + 1) * cell - 1), style.HIGHLIGHT, max(2, round(cell / 8)))
    return np.asarray(im)


def animation(view: np.ndarray, maps: np.ndarray, labels: list[str], side: int, ms: int,
              patch: int | None = None) -> bytes:
    """Play mode as an animated GIF, for slides: one frame per head of every layer, in play mode's order (the heads of
    layer 1, then of layer 2, …), each the (g, g) map of `maps` (L, H, g, g) over the model's view, `side` pixels wide,
    with its label (`labels`, L × H of them, in that order) in a white band above it and the query patch, if any,
    outlined. `ms` milliseconds a frame; loops forever. Each frame gets its own 256-colour palette (fast octree: 144
    frames of ViT-B/16 in ~0.6 s, ~3 MB, where median cut took 2.5 s)."""
    L, H = maps.shape[:2]
    if len(labels) != L * H:
        raise ValueError(f"{len(labels)} labels for {L * H} frames")
    size, longest = max(12, side // 20), max(labels, key=len)
    font = style.pil_font(size, "".join(labels))
    while size > 9 and font.getlength(longest) > side - 16:  # the longest label fits the frame's width
        size -= 1
        font = style.pil_font(size, "".join(labels))
    band = font.size + 14
    frames = []
    for k, label in enumerate(labels):
        picture = map_over(view, maps[k // H, k % H], side, patch)
        im = Image.new("RGB", (picture.shape[1], picture.shape[0] + band), "white")
        im.paste(Image.fromarray(picture), (0, band))
        ImageDraw.Draw(im).text((8, band // 2), label, font=font, fill="black", anchor="lm")
        frames.append(im.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE))
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=ms, loop=0)
    return buf.getvalue()
