"""The figures of the lesson's pages: each builds one chart (Plotly) or one drawing (matplotlib, without pyplot) from
a vit_core record. Steps 4 (the encoder block) and 6 (experiments) draw here.

The drawing primitives (pictures as arrays, subplots, the compact heatmap) are app/plots.py; how things look (fonts,
colours, encodings) comes from app/style.py. A figure's words come from its page's catalog, in the page's language
(t()); a cached PNG of one therefore has the language in its cache key.
"""
from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go
from matplotlib.patches import Circle, FancyBboxPatch, Rectangle
from PIL import Image

from app import labels, numbers, plots, style
from app.i18n import catalog, t
from vit_core import experiments, views

# ---- step 4: the block, pre-norm against post-norm -----------------------------------------------------------------
# Each diagram: its nodes from top to bottom (x: the input z_{ℓ−1}, ln: LayerNorm, add: +, out: z_ℓ), then its
# residual connections (from, to); plain arrows join consecutive nodes. Drawn with matplotlib, whose mathtext sets
# z_{ℓ−1} as maths (Streamlit's Graphviz chart showed the HTML subscript as plain text, "z ℓ−1").
PRE_NORM = (["x", "ln1", "msa", "add1", "ln2", "mlp", "add2", "out"], [("x", "add1"), ("add1", "add2")])
POST_NORM = (["x", "msa", "add1", "ln1", "mlp", "add2", "ln2", "out"], [("x", "add1"), ("ln1", "add2")])


def block_figure(nodes: list[str], residuals: list[tuple[str, str]]):
    """One block as a flow chart: boxes top to bottom, arrows between them, residual connections as dashed red lines
    down the right-hand side."""
    look = {"x": (r"$z_{\ell-1}$", "#f3f4f6"), "out": (r"$z_\ell$", "#f3f4f6"),
            "ln1": ("LayerNorm", style.LN_COLOUR), "ln2": ("LayerNorm", style.LN_COLOUR),
            "msa": (t("encoder.msa"), style.ATTN_COLOUR), "mlp": (t("encoder.mlp"), style.MLP_COLOUR)}
    n, mid, side = len(nodes), 1.6, 3.35  # node centres on x = mid; residual lines down x = side
    y = {name: n - 1 - i for i, name in enumerate(nodes)}  # the middle of each node, one unit apart
    half = {name: 0.16 if name.startswith("add") else 0.3 for name in nodes}  # half a node's height
    fig, ax = plots.subplots(figsize=(3.6, 0.62 * n + 0.5))
    ax.set_xlim(0, 4.5)
    ax.set_ylim(-0.5, n - 0.5)
    ax.axis("off")
    for name in nodes:
        if name.startswith("add"):
            ax.add_patch(Circle((mid, y[name]), half[name], fc="white", ec="black", lw=1))
            ax.text(mid, y[name], "+", ha="center", va="center", fontsize=style.FIGURE_TITLE)
            continue
        text, colour = look[name]
        ax.add_patch(FancyBboxPatch((mid - 1.35, y[name] - half[name]), 2.7, 2 * half[name], fc=colour, ec="black",
                                    lw=0.8, boxstyle="round,pad=0,rounding_size=0.12"))
        label, font = style.figure_text(text, catalog("en").get(f"encoder.{name}", text))
        ax.text(mid, y[name], label, ha="center", va="center", linespacing=1.15,
                fontsize=style.FIGURE_HEADING if name in ("x", "out") else style.FIGURE_LABEL, **font)
    arrow = dict(arrowstyle="-|>", color="black", lw=1, shrinkA=0, shrinkB=0)
    for a, b in zip(nodes, nodes[1:]):
        ax.annotate("", xy=(mid, y[b] + half[b]), xytext=(mid, y[a] - half[a]), arrowprops=arrow)
    word, font = style.figure_text(t("encoder.residual"), catalog("en")["encoder.residual"])
    for a, b in residuals:
        # out of a's right side (a little below the middle when a is an addition, whose middle takes one in), down,
        # and into b's right side
        y0 = y[a] - (0.1 if a.startswith("add") else 0)
        x0 = mid + (1.35 if not a.startswith("add") else (half[a] ** 2 - 0.1 ** 2) ** 0.5)
        ax.plot([x0, side, side], [y0, y0, y[b]], color=style.RED, lw=1.2, ls="--")
        ax.annotate("", xy=(mid + half[b], y[b]), xytext=(side, y[b]), arrowprops={**arrow, "color": style.RED})
        ax.text(side + 0.1, (y0 + y[b]) / 2, word, color=style.RED, ha="left", va="center",
                fontsize=style.FIGURE_LABEL, **font)
    return fig


# ---- step 4: the live tensors of one layer --------------------------------------------------------------------------
# how each point of views.FLOW is written above its picture
FLOW_SYMBOL = {"x": "$z_{\\ell-1}$", "ln1": "LN$_1(z_{\\ell-1})$", "attn_out": "MSA(·)", "after_attn": "$z'_\\ell$",
               "ln2": "LN$_2(z'_\\ell)$", "mlp_hidden": "GELU(fc1)", "mlp_out": "MLP(·)", "out": "$z_\\ell$"}


def flow_figure(points: list[views.FlowPoint], per_row: int = 4):
    """Each point of the block: the (T, width) tensor as a picture, and the length of each patch token on the grid.
    `per_row` points a row, so that the text stays readable when the figure is shown as wide as the page."""
    T = len(points[0].norms)
    rows = -(-len(points) // per_row)
    fig, axes = plots.subplots(2 * rows, per_row, figsize=(2.1 * per_row, 4.1 * rows), squeeze=False,
                               gridspec_kw=dict(height_ratios=[1.3, 1] * rows))
    token, font = style.figure_text(t("encoder.flow_token"), catalog("en")["encoder.flow_token"])
    for i, point in enumerate(points):
        row, col = divmod(i, per_row)
        ax = axes[2 * row, col]
        lo, hi = style.symmetric_clipped(point.values)
        ax.imshow(point.values, aspect="auto", cmap=style.DIVERGING, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_title(FLOW_SYMBOL[point.name], fontsize=style.FIGURE_HEADING)
        ax.set_xticks([])
        ax.set_yticks([0] if col else [0, T - 1])
        ax.set_yticklabels(["cls"] if col else ["cls", str(T - 1)], fontsize=style.FIGURE_TICK)
        ax.set_xlabel(f"{point.name}\n{point.values.shape}", fontsize=style.FIGURE_LABEL)
        if col == 0:
            ax.set_ylabel(token, fontsize=style.FIGURE_LABEL, **font)
        ax = axes[2 * row + 1, col]
        ax.imshow(point.patch_norms, cmap="viridis", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"{numbers.number(point.shortest)} … {numbers.number(point.longest)}\n"
                      f"‖cls‖ = {numbers.number(point.norms[0])}",
                      fontsize=style.FIGURE_LABEL)
        if col == 0:
            ax.set_ylabel("‖patch‖", fontsize=style.FIGURE_LABEL)
    for i in range(len(points), rows * per_row):  # the empty places of the last row
        row, col = divmod(i, per_row)
        axes[2 * row, col].axis("off")
        axes[2 * row + 1, col].axis("off")
    fig.tight_layout()
    return fig


# ---- step 4: one head, one query ------------------------------------------------------------------------------------
def qkv_figure(block: views.BlockArrays, head: int, query: int, key: int):
    """Q, K, V and probs·V of one head as (T, d) pictures, the query's row and the key's row outlined."""
    panels = [("Q", block.q[head], query), ("K", block.k[head], key), ("V", block.v[head], key),
              ("softmax(QKᵀ/√d)·V", block.heads_out[head], query)]
    fig, axes = plots.subplots(1, 4, figsize=(9, 4.2))
    for ax, (name, value, row) in zip(axes, panels):
        lo, hi = style.symmetric(value)
        ax.imshow(value, aspect="auto", cmap=style.DIVERGING, vmin=lo, vmax=hi, interpolation="nearest")
        ax.add_patch(Rectangle((-0.5, row - 0.5), value.shape[1], 1, fill=False, ec="black", lw=1.8))
        ax.set_title(f"{name}\n{value.shape}", fontsize=style.FIGURE_TITLE)
        ax.set_xlabel(f"d = {value.shape[1]}", fontsize=style.FIGURE_LABEL)
        ax.set_yticks([row])
        ax.set_yticklabels([labels.token_short(row)], fontsize=style.FIGURE_SMALL)
    fig.tight_layout()
    return fig


def row_chart(values: np.ndarray, key: int, title: str, hover: str) -> go.Figure:
    """One row of the scores or probabilities, the chosen key in red."""
    names = [labels.token_short(i) for i in range(len(values))]
    fig = go.Figure(go.Bar(x=names, y=values.astype(np.float32), marker_color=style.BLUE, hovertemplate=hover))
    fig.add_bar(x=[names[key]], y=[float(values[key])], marker_color=style.RED, hovertemplate=hover)
    fig.update_layout(height=260, title=title, showlegend=False, barmode="overlay",
                      margin=dict(l=10, r=10, t=40, b=10), xaxis=dict(type="category",
                                                                      tickfont=dict(size=style.CHART_TICK)))
    return fig


def out_chart(out: np.ndarray, title: str) -> go.Figure:
    """One token's output of a head (d numbers) as bars."""
    fig = go.Figure(go.Bar(x=list(range(len(out))), y=out.astype(np.float32), marker_color=style.PURPLE,
                           hovertemplate=f"%{{x}}: %{{y:{numbers.D3}}}<extra></extra>"))
    fig.update_layout(height=280, title=title, margin=dict(l=10, r=10, t=40, b=10))
    return fig


# ---- step 4: the whole matrix, or a window of it --------------------------------------------------------------------
def matrix_chart(matrix: np.ndarray, names: list[str], which: str) -> go.Figure:
    """A head's attention weights (`which` "probs", from 0) or its scores ("scores", either sign), queries down and
    keys across, both named by `names`."""
    return plots.heatmap(matrix, x=names, y=names, hovertemplate=t("encoder.matrix_hover"),
                         colorscale=style.SEQUENTIAL if which == "probs" else "RdBu",
                         zmin=0 if which == "probs" else None, height=520,
                         xaxis=t("encoder.keys_axis"), yaxis=t("encoder.queries_axis"))


# ---- step 7: the prediction ------------------------------------------------------------------------------------------
def top_chart(probs: np.ndarray, names: list[str], axis_title: str) -> go.Figure:
    """The most likely classes as horizontal bars, the first on top, each with its probability written beside it.

    Every label reads across (textangle 0): inside its bar's end where it fits, outside the bar where it does not
    (a thin bar of 5.6 %); all at one size (uniformtext), never shrunk or turned sideways to fit a bar."""
    return go.Figure(
        go.Bar(x=probs.astype(np.float32), y=names, orientation="h", marker_color=style.BLUE,
               text=[numbers.percent(q) for q in probs], textposition="auto", textangle=0, insidetextanchor="end",
               constraintext="none", cliponaxis=False,
               hovertemplate=f"%{{y}}: %{{x:{numbers.D3_PERCENT}}}<extra></extra>"),
        dict(height=90 + 45 * len(probs), margin=dict(l=10, r=10, t=10, b=10),
             uniformtext=dict(minsize=style.CHART_TICK + 2, mode="show"),
             xaxis=dict(range=[0, 1], tickformat=".0%", title=axis_title),
             yaxis=dict(autorange="reversed", type="category"), template=style.NO_TEMPLATE))


# ---- step 6: the mask ------------------------------------------------------------------------------------------------
def mask_chart(view: np.ndarray, patch: int, masked: list[int], hover: str) -> go.Figure:
    """The model's view with the masked patches shaded and crossed; every patch a clickable point (its number as its
    text: ranges.clicked reads it back)."""
    S = view.shape[0]
    g = S // patch
    rows, cols = np.divmod(np.arange(g * g), g)
    centre = lambda k: (k * patch + (patch - 1) / 2)  # noqa: E731 — a patch's middle, in view pixels
    shapes = []
    for k in masked:
        r, col = divmod(k, g)
        box = dict(x0=col * patch - 0.5, x1=(col + 1) * patch - 0.5, y0=r * patch - 0.5, y1=(r + 1) * patch - 0.5)
        shapes.append(dict(type="rect", **box, fillcolor="rgba(0,0,0,0.55)", line=dict(color=style.HIGHLIGHT_CSS,
                                                                                           width=2, dash="dot")))
        shapes.append(dict(type="line", x0=box["x0"], y0=box["y0"], x1=box["x1"], y1=box["y1"],
                           line=dict(color=style.HIGHLIGHT_CSS, width=1)))
    return go.Figure(
        [go.Image(source=data_uri(view), hoverinfo="skip"),  # an encoded picture: a few KB, not a list of pixels
         go.Scatter(x=centre(cols).astype(np.float32), y=centre(rows).astype(np.float32), mode="markers",
                    marker=dict(size=max(6, 300 // g), symbol="square", color="rgba(0,0,0,0)"),
                    text=[str(k) for k in range(g * g)], hovertemplate=hover + "<extra></extra>", showlegend=False,
                    selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)))],
        dict(shapes=shapes, height=340, margin=dict(l=0, r=0, t=0, b=0), hovermode="closest",
             clickmode="event+select", dragmode=False, template=style.NO_TEMPLATE,
             xaxis=dict(visible=False, range=(-0.5, S - 0.5), constrain="domain"),
             yaxis=dict(visible=False, range=(S - 0.5, -0.5), scaleanchor="x", constrain="domain")))


def data_uri(picture: np.ndarray) -> str:
    fmt = style.picture_format(picture.shape[1], picture.shape[0])
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(style.encoded(picture, fmt)).decode()


# ---- step 6: each head's share ---------------------------------------------------------------------------------------
def importance_chart(costs: experiments.HeadCosts) -> go.Figure:
    """What switching off each head costs, in percentage points: layers down, heads across, each cell's value
    written in it."""
    drop = costs.points
    L, H = drop.shape
    fig = plots.heatmap(drop, x=[str(h) for h in range(1, H + 1)], y=[str(layer) for layer in range(1, L + 1)],
                        hovertemplate=t("experiments.importance_hover"), colorscale="Cividis_r", height=340,
                        xaxis=t("experiments.importance_x"), yaxis=t("experiments.importance_y"),
                        layout=dict(xaxis=dict(type="category"), yaxis=dict(type="category")))
    fig.data[0].colorbar = dict(title=dict(text=t("experiments.importance_unit")), tickfont=dict(size=style.CHART_TICK))
    # each cell's value written in it, dark on the light (yellow) end of the scale and white on the dark end
    light = (drop - drop.max()) / min(drop.min() - drop.max(), -1e-9) > 0.5  # nearer the largest drop
    fig.add_trace(go.Scatter(x=[str(h) for _ in range(L) for h in range(1, H + 1)],
                             y=[str(layer + 1) for layer in range(L) for _ in range(H)], mode="text",
                             text=[points(v) for v in drop.reshape(-1)], hoverinfo="skip", showlegend=False,
                             textfont=dict(size=13, color=["black" if x else "white" for x in light.reshape(-1)])))
    return fig


def points(v: float) -> str:
    """A change in percentage points, to one decimal (a cell is small), with its sign; one that rounds to 0 is 0."""
    return numbers.signed(round(v, 1))


# ---- step 6: before and during training ------------------------------------------------------------------------------
def accuracy_chart(run: experiments.TrainingRun, epoch: int | None) -> go.Figure:
    """The test accuracy after each epoch of the run, the snapshots on offer marked (the one in view bigger)."""
    x, y = zip(*run.history)
    keep = [e for e, _ in run.marks]
    at = [acc for _, acc in run.marks]
    return go.Figure(
        [go.Scatter(x=list(x), y=np.asarray(y, np.float32), mode="lines", name=t("experiments.acc_line"),
                    hovertemplate=t("experiments.acc_hover") + "<extra></extra>"),
         go.Scatter(x=keep, y=np.asarray(at, np.float32), mode="markers", name=t("experiments.acc_snapshots"),
                    marker=dict(size=[14 if e == epoch else 8 for e in keep], color=style.RED,
                                symbol="diamond"), hovertemplate=t("experiments.acc_hover") + "<extra></extra>")],
        dict(height=300, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.3),
             xaxis=dict(title=t("experiments.acc_x")),
             yaxis=dict(title=t("experiments.acc_y"), tickformat=".0%", range=[0, 1]), template=style.NO_TEMPLATE))


# ---- step 8: inside the tokens ---------------------------------------------------------------------------------------
def class_colours(votes: np.ndarray) -> list[int]:
    """The classes that get a colour of their own on the logit lens's map, for every layer alike (so a class keeps
    its colour as the slider moves): all the classes the patches vote for when they fit in style.CLASSES, else the
    most voted, leaving the last colour-less (style.OTHER_CLASS). votes (L+1, N) → class numbers, most voted first."""
    classes, counts = np.unique(votes, return_counts=True)
    order = [int(classes[i]) for i in np.lexsort((classes, -counts))]
    return order if len(order) <= len(style.CLASSES) else order[:len(style.CLASSES) - 1]


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def cells_picture(view: np.ndarray, cells: np.ndarray, side: int, alpha: float = 0.6,
                  marked: tuple[int, ...] = ()) -> np.ndarray:
    """A (g, g, 3) uint8 picture of cells blended over the model's view, `side` pixels wide with hard patch edges,
    the patches `marked` outlined in style.HIGHLIGHT."""
    g = cells.shape[0]
    cells = np.asarray(Image.fromarray(cells).resize(view.shape[1::-1], Image.NEAREST))
    picture = plots.upscale((view * (1 - alpha) + cells * alpha).astype(np.uint8), side)
    if not marked:
        return picture
    im, cell = Image.fromarray(picture), picture.shape[1] / g
    for k in marked:
        r, c = divmod(int(k), g)
        plots.mark(im, (c * cell, r * cell, (c + 1) * cell - 1, (r + 1) * cell - 1), style.HIGHLIGHT,
                   max(2, round(cell / 8)))
    return np.asarray(im)


def votes_picture(view: np.ndarray, votes: np.ndarray, coloured: list[int], side: int) -> np.ndarray:
    """The patches' votes (g, g) over the model's view, one colour per class of `coloured`, the others grey."""
    palette = {k: _hex(style.CLASSES[i]) for i, k in enumerate(coloured)}
    other = _hex(style.OTHER_CLASS)
    cells = np.array([[palette.get(int(v), other) for v in row] for row in votes], dtype=np.uint8)  # (g, g, 3)
    return cells_picture(view, cells, side)


def values_picture(view: np.ndarray, values: np.ndarray, vmin: float, vmax: float, cmap: str, side: int,
                   marked: tuple[int, ...] = ()) -> np.ndarray:
    """A (g, g) map of values over the model's view, on a fixed scale from vmin to vmax."""
    return cells_picture(view, plots.coloured(values, vmin, vmax, cmap), side, marked=marked)


def patch_picture_chart(picture: np.ndarray, g: int, hover: list[str], legend: list[tuple[str, str]] = (),
                        height: int = 340) -> go.Figure:
    """A drawn map (`picture`, square) in which every patch is a point: its hover text `hover[k]`, its number its
    text (ranges.clicked reads a click back). `legend`: (name, colour) entries drawn as the chart's legend."""
    S = picture.shape[0]
    rows, cols = np.divmod(np.arange(g * g), g)
    centre = lambda k: (k + 0.5) * S / g - 0.5  # noqa: E731 — a patch's middle, in picture pixels
    keys = [go.Scatter(x=[None], y=[None], mode="markers", name=name, hoverinfo="skip",
                       marker=dict(size=12, symbol="square", color=colour, line=dict(color="#444", width=1)))
            for name, colour in legend]
    return go.Figure(
        [go.Image(source=data_uri(picture), hoverinfo="skip"),
         go.Scatter(x=centre(cols).astype(np.float32), y=centre(rows).astype(np.float32), mode="markers",
                    marker=dict(size=max(6, 300 // g), symbol="square", color="rgba(0,0,0,0)"),
                    text=[str(k) for k in range(g * g)], customdata=hover, hovertemplate="%{customdata}<extra></extra>",
                    showlegend=False, selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0))),
         *keys],
        dict(height=height, margin=dict(l=0, r=0, t=0, b=0), hovermode="closest", clickmode="event+select",
             dragmode=False, template=style.NO_TEMPLATE, showlegend=bool(legend),
             legend=dict(orientation="h", y=-0.02, yanchor="top"),
             xaxis=dict(visible=False, range=(-0.5, S - 0.5), constrain="domain"),
             yaxis=dict(visible=False, range=(S - 0.5, -0.5), scaleanchor="x", constrain="domain")))


PERCENT_AXIS = dict(tickformat=".0%", range=[0, 1.02])


def layer_curves(series: list[tuple[str, np.ndarray]], xaxis: str, yaxis: str, hover: str,
                 first: int = 0, percent: bool = False, height: int = 300) -> go.Figure:
    """Lines over the layers (`first`, first + 1, …), one per (name, values). The layer in view is not marked: the
    same figure on every step of the layer slider is one the browser does not draw again (a marked layer made every
    step of step 8 about 170 ms slower to feel, docs/PERFORMANCE.md). No title inside the chart: the page writes it
    above, where it wraps in a narrow column."""
    x = list(range(first, first + len(series[0][1])))
    lines = [go.Scatter(x=x, y=np.asarray(v, dtype=np.float32), mode="lines+markers", name=name,
                        hovertemplate=hover + "<extra>" + name + "</extra>") for name, v in series]
    return go.Figure(lines, dict(height=height, margin=dict(l=10, r=10, t=10, b=10),
                                 template=style.NO_TEMPLATE, showlegend=len(series) > 1,
                                 legend=dict(orientation="h", y=-0.25),
                                 xaxis=dict(title=xaxis, dtick=1 if len(x) <= 13 else None),
                                 yaxis=dict(title=yaxis, **(PERCENT_AXIS if percent else {}))))
