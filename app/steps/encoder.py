"""Step 4 — inside one encoder block: LayerNorm, multi-head self-attention, the MLP and the two residuals."""
import math
from dataclasses import fields

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from matplotlib.patches import Circle, FancyBboxPatch, Rectangle

from app import budget, core, describe, labels, plots, style, ui
from app.i18n import catalog, current_language, t
from vit_core import views
from vit_core.model import Block, attention, explain_block

SHOWN_PRODUCTS = 8  # how many of the d products q_m·k_m the worked example lists before "…"
# the points of the block drawn as a row, in the order the data flows (fields of views.BlockArrays)
FLOW = ("x", "ln1", "attn_out", "after_attn", "ln2", "mlp_hidden", "mlp_out", "out")
FLOW_SYMBOL = {"x": "$z_{\\ell-1}$", "ln1": "LN$_1(z_{\\ell-1})$", "attn_out": "MSA(·)", "after_attn": "$z'_\\ell$",
               "ln2": "LN$_2(z'_\\ell)$", "mlp_hidden": "GELU(fc1)", "mlp_out": "MLP(·)", "out": "$z_\\ell$"}


def main() -> None:
    c = ui.current()
    cfg = c.config
    ui.heading("encoder")
    st.markdown(t("encoder.intro", L=cfg.num_hidden_layers, D=cfg.hidden_size))
    st.latex(r"z'_\ell = \mathrm{MSA}(\mathrm{LN}(z_{\ell-1})) + z_{\ell-1} \qquad (2)")
    st.latex(r"z_\ell = \mathrm{MLP}(\mathrm{LN}(z'_\ell)) + z'_\ell \qquad\quad\;\; (3)")
    pre_norm_against_post_norm()
    layer, block = live_tensors(c)
    head, query, key = one_head_one_query(c, layer, block)
    whole_matrix(c, layer, block, head, query)
    one_pair_in_numbers(c, block, head, query, key)
    ui.source(explain_block, attention, Block.forward)


def pick(label: str, lo: int, hi: int, key: str) -> int:
    """A slider from lo to hi, or just lo when there is nothing to choose (a slider needs lo < hi)."""
    return st.slider(label, lo, hi, lo, key=key) if hi > lo else lo


# ---- the block, pre-norm against post-norm -----------------------------------------------------------------------
# Each diagram: its nodes from top to bottom (x: the input z_{ℓ−1}, ln: LayerNorm, add: +, out: z_ℓ), then its
# residual connections (from, to); plain arrows join consecutive nodes. Drawn with matplotlib, whose mathtext sets
# z_{ℓ−1} as maths (Streamlit's Graphviz chart showed the HTML subscript as plain text, "z ℓ−1").
BLOCK_WIDTH = 340  # CSS pixels: the 9-point labels of the 448-pixel picture become about 14 px
PRE_NORM = (["x", "ln1", "msa", "add1", "ln2", "mlp", "add2", "out"], [("x", "add1"), ("add1", "add2")])
POST_NORM = (["x", "msa", "add1", "ln1", "mlp", "add2", "ln2", "out"], [("x", "add1"), ("ln1", "add2")])


def pre_norm_against_post_norm() -> None:
    lang = current_language()
    left, right = st.columns(2)
    for column, kind in ((left, "pre"), (right, "post")):
        with column:
            st.markdown(f"**{t(f'encoder.{kind}_title')}**")
            with st.container(width=BLOCK_WIDTH):  # the browser shrinks the 150 dpi picture: sharp on any screen
                st.image(block_png(kind, lang), output_format="PNG", alt=describe.block_diagram(kind))
            st.caption(t(f"encoder.{kind}_caption"))
    st.info(t("encoder.change"))


@st.cache_data(max_entries=4, show_spinner=False)
def block_png(kind: str, lang: str) -> bytes:
    """The pre-norm or post-norm block as a PNG, in `lang` (the figure depends on nothing else)."""
    nodes, residuals = PRE_NORM if kind == "pre" else POST_NORM
    return style.figure_png(block_figure(nodes, residuals))


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


# ---- the live tensors of one layer -------------------------------------------------------------------------------
def live_tensors(c: ui.Current) -> tuple[int, views.BlockArrays]:
    """The layer slider, the block's data flow as pictures, and the shape of every tensor. Returns (layer from 1,
    the block)."""
    cfg = c.config
    L = cfg.num_hidden_layers
    st.header(t("encoder.layer_title"))
    st.markdown(t("encoder.layer_intro", L=L))
    layer = pick(t("encoder.layer_slider", L=L), 1, L, "encoder_layer")
    block = core.block_detail(c.image_bytes, c.model_id, layer - 1)
    ui.figure(flow_png(c.image_bytes, c.model_id, layer, cfg.grid_size, current_language()),
              f"encoder_block_layer{layer}", key="encoder_dl_flow",
              alt=describe.flow(layer, views.flow(block, FLOW, cfg.grid_size)))
    st.caption(t("encoder.flow_caption", g=cfg.grid_size))

    st.subheader(t("encoder.shapes_title", layer=layer))
    st.caption(t("encoder.shapes_caption", T=cfg.num_tokens, D=cfg.hidden_size, H=cfg.num_attention_heads,
                 d=cfg.head_dim, M=cfg.intermediate_size))
    names = [f.name for f in fields(block)]
    left, right = st.columns(2)
    for i, name in enumerate(names):
        with left if i < (len(names) + 1) // 2 else right:
            ui.shape(name, getattr(block, name).shape, t(f"encoder.shape_{name}"))
    return layer, block


# Drawn once per picture, model and choice, and kept as PNG bytes: matplotlib takes a few hundred ms a figure, and a
# class walks through these pages together.
@st.cache_data(max_entries=32, show_spinner=False)
def flow_png(image_bytes: bytes, model_id: str, layer: int, grid: int, lang: str) -> bytes:
    """`lang` is part of the cache's key: the figure's axis label is in the page's language."""
    return style.figure_png(flow_figure(views.flow(core.block_detail(image_bytes, model_id, layer - 1), FLOW, grid)))


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
        ax.set_xlabel(f"{point.shortest:.3g} … {point.longest:.3g}\n‖cls‖ = {point.norms[0]:.3g}",
                      fontsize=style.FIGURE_LABEL)
        if col == 0:
            ax.set_ylabel("‖patch‖", fontsize=style.FIGURE_LABEL)
    for i in range(len(points), rows * per_row):  # the empty places of the last row
        row, col = divmod(i, per_row)
        axes[2 * row, col].axis("off")
        axes[2 * row + 1, col].axis("off")
    fig.tight_layout()
    return fig


# ---- one head, one query -----------------------------------------------------------------------------------------
def one_head_one_query(c: ui.Current, layer: int, block: views.BlockArrays) -> tuple[int, int, int]:
    """Pickers for a head, a query and a key; Q, K, V; the query's row of scores and weights, its map and its output.
    Returns (head, query, key), from 0."""
    cfg = c.config
    H, d, g, T = cfg.num_attention_heads, cfg.head_dim, cfg.grid_size, cfg.num_tokens
    st.header(t("encoder.head_title", layer=layer))
    st.markdown(t("encoder.head_intro", H=H, d=d, D=cfg.hidden_size))
    token_names = [labels.token_in_words(i, g) for i in range(T)]  # formatted once, in this run's language
    key_auto = t("encoder.key_auto")
    cols = st.columns([2, 3, 3])  # room for the token names in the two select boxes
    with cols[0]:
        head = pick(t("encoder.head_slider", H=H), 1, H, "encoder_head") - 1
    with cols[1]:
        query = st.selectbox(t("encoder.query"), range(T), format_func=token_names.__getitem__, key="encoder_query")
    row = views.query_row(block, head, query, g)
    with cols[2]:
        key_choice = st.selectbox(t("encoder.key"), [-1, *range(T)], key="encoder_key",
                                  format_func=lambda j: key_auto if j < 0 else token_names[j])
    key = row.strongest if key_choice < 0 else key_choice

    ui.figure(qkv_png(c.image_bytes, c.model_id, layer, head, query, key),
              f"encoder_qkv_layer{layer}_head{head + 1}", key="encoder_dl_qkv",
              alt=describe.qkv(layer, head + 1, token_names[query], token_names[key], T, d))
    st.caption(t("encoder.qkv_caption", q=token_names[query], k=token_names[key], T=T, d=d))

    q_short = labels.token_short(query)
    left, right = st.columns(2)
    with left:
        ui.chart(row_chart(row.scores, key, t("encoder.scores_row", q=q_short), t("encoder.row_hover")),
                 key="encoder_scores_row")
    with right:
        ui.chart(row_chart(row.probs, key, t("encoder.probs_row", q=q_short), t("encoder.row_hover")),
                 key="encoder_probs_row")
    st.caption(t("encoder.rows_caption", k=token_names[key]))

    left, right = st.columns([1, 2])
    with left:
        view = plots.upscale(c.analysis.model_view, budget.OVERLAY_SIDE)
        st.image(plots.heat_overlay(view, row.patch_map),
                 caption=t("encoder.map_caption", q=token_names[query], cls=float(row.probs[0])),
                 alt=describe.heat(t("alt.encoder_row", q=token_names[query], layer=layer, head=head + 1,
                                     cls=describe.number(float(row.probs[0]))), row.patch_map))
    with right:
        fig = go.Figure(go.Bar(x=list(range(d)), y=row.out.astype(np.float32), marker_color=style.PURPLE,
                               hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
        fig.update_layout(height=280, title=t("encoder.out_title", q=q_short, d=d),
                          margin=dict(l=10, r=10, t=40, b=10))
        ui.chart(fig, key="encoder_out_row")
        st.caption(t("encoder.out_caption", D=cfg.hidden_size, H=H))
    return head, query, key


@st.cache_data(max_entries=64, show_spinner=False)
def qkv_png(image_bytes: bytes, model_id: str, layer: int, head: int, query: int, key: int) -> bytes:
    return style.figure_png(qkv_figure(core.block_detail(image_bytes, model_id, layer - 1), head, query, key))


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


# ---- the whole matrix, or a window of it -------------------------------------------------------------------------
def whole_matrix(c: ui.Current, layer: int, block: views.BlockArrays, head: int, query: int) -> None:
    T, W = c.config.num_tokens, budget.BLOCK_WINDOW
    st.subheader(t("encoder.matrix_title", head=head + 1, layer=layer))
    matrix_names = {m: t(f"encoder.matrix_{m}") for m in ("probs", "scores")}
    which = st.radio(t("encoder.matrix_radio"), list(matrix_names), horizontal=True, key="encoder_matrix",
                     format_func=matrix_names.get)
    start, stop = budget.window(T, W, query)
    if T > W:
        start = st.slider(t("encoder.window_slider"), 0, T - W, start, key="encoder_window")
        stop = start + W
    names = [labels.token_short(i) for i in range(start, stop)]
    matrix = getattr(block, which)[head, start:stop, start:stop]
    ui.chart(plots.heatmap(matrix, x=names, y=names, hovertemplate=t("encoder.matrix_hover"),
                           colorscale=style.SEQUENTIAL if which == "probs" else "RdBu",
                           zmin=0 if which == "probs" else None, height=520,
                           xaxis=t("encoder.keys_axis"), yaxis=t("encoder.queries_axis")),
             key="encoder_matrix_chart", title=t("encoder.matrix_title", head=head + 1, layer=layer))
    if T > W:
        st.caption(t("encoder.window_caption", a=start, b=stop - 1, W=stop - start, T=T, cells=T * T))
    else:
        st.caption(t("encoder.matrix_caption", T=T))


# ---- one query–key pair, in numbers ------------------------------------------------------------------------------
def one_pair_in_numbers(c: ui.Current, block: views.BlockArrays, head: int, query: int, key: int) -> None:
    g, T, d = c.config.grid_size, c.config.num_tokens, c.config.head_dim
    st.subheader(t("encoder.worked_title"))
    we = views.worked_example(block, head, query, key)
    st.markdown(t("encoder.worked_intro", q=labels.token_in_words(query, g), k=labels.token_in_words(key, g),
                  head=head + 1, d=d))
    n = min(SHOWN_PRODUCTS, d)
    st.markdown(products_table(we, n))
    st.caption(t("encoder.products_caption", n=n, d=d))
    st.latex(rf"s = \frac{{q \cdot k}}{{\sqrt{{d}}}} = \frac{{{we.dot:.5f}}}{{\sqrt{{{d}}}}} = {we.score:.5f}")
    if math.isfinite(we.exp_total):
        st.latex(rf"w = \frac{{e^{{s}}}}{{\sum_j e^{{s_j}}}} = \frac{{{we.exp_score:.5g}}}{{{we.exp_total:.5g}}}"
                 rf" = {we.weight:.6f}")
    else:  # e^s overflows for very large scores: the shifted form, the same fraction
        st.latex(rf"w = \frac{{e^{{s - m}}}}{{\sum_j e^{{s_j - m}}}} = {we.weight:.6f}, \quad m = \max_j s_j"
                 rf" = {we.shift:.3f}")
    st.caption(t("encoder.worked_row_note", T=T))
    row = st.container(key=style.metric_grid("encoder_worked"))  # four columns, or fewer where they do not fit
    for label, value in (("score_here", we.score), ("score_model", we.model_score), ("weight_here", we.weight),
                         ("weight_model", we.model_weight)):
        row.metric(t(f"encoder.{label}"), f"{value:.6f}")
    gaps = dict(ds=f"{we.score_gap:.1e}", dw=f"{we.weight_gap:.1e}")
    if we.matches:
        st.success(t("encoder.match", **gaps))
    else:
        st.error(t("encoder.mismatch", **gaps))


def products_table(we: views.WorkedExample, n: int) -> str:
    """The first n dimensions of q, k and q_m·k_m as a Markdown table, one row each (four columns fit a phone), then
    the sum of all d products."""
    rows = [f"| {m + 1} | {we.q[m]:.3f} | {we.k[m]:.3f} | {we.products[m]:.4f} |" for m in range(n)]
    return "\n".join(["| m | **q** | **k** | **q·k** |", "|---:|---:|---:|---:|", *rows,
                      *(["| … | … | … | … |"] if len(we.q) > n else []),
                      f"| {t('encoder.sum')} | | | **{we.dot:.5f}** |"])


if __name__ == "__main__":  # Streamlit runs a page as __main__; tests import its sections without running it
    main()
