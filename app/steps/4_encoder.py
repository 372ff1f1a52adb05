"""Step 4 — inside one encoder block: LayerNorm, multi-head self-attention, the MLP and the two residuals."""
import math
from dataclasses import fields

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from matplotlib.patches import Rectangle

from app import budget, core, labels, plots, style, ui
from app.i18n import t
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
    st.title(t("encoder.title"))
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
def pre_norm_against_post_norm() -> None:
    pre, post = block_diagrams()
    left, right = st.columns(2)
    with left:
        st.graphviz_chart(pre)
        st.caption(t("encoder.pre_caption"))
    with right:
        st.graphviz_chart(post)
        st.caption(t("encoder.post_caption"))
    st.info(t("encoder.change"))


def dot(title: str, nodes: list[tuple[str, str, str]], edges: list[tuple[str, str, bool]]) -> str:
    """A top-to-bottom Graphviz diagram: nodes (name, label, colour), edges (from, to, is_residual)."""
    lines = ["digraph {", "rankdir=TB; bgcolor=transparent; nodesep=0.3; ranksep=0.25;",
             f'labelloc=t; label="{title}"; fontname="Helvetica"; fontsize=16;',
             'node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=12, width=2.2];',
             'edge [arrowsize=0.7];']
    for name, label, colour in nodes:
        shape = ', shape=circle, width=0.35, fixedsize=true' if label == "+" else ""
        label = label if label.startswith("<") else f'"{label}"'  # <…>: a Graphviz HTML label, for subscripts
        lines.append(f'{name} [label={label}, fillcolor="{colour}"{shape}];')
    for src, dst, residual in edges:
        attrs = f' [style=dashed, color="{style.RED}", fontcolor="{style.RED}", label=" {t("encoder.residual")}"]' \
            if residual else ""
        lines.append(f"{src} -> {dst}{attrs};")
    return "\n".join(lines + ["}"])


def block_diagrams() -> tuple[str, str]:
    x, out = ("x", "<z<SUB>ℓ−1</SUB>>", "#f3f4f6"), ("out", "<z<SUB>ℓ</SUB>>", "#f3f4f6")
    msa, mlp = ("msa", t("encoder.msa"), style.ATTN_COLOUR), ("mlp", t("encoder.mlp"), style.MLP_COLOUR)
    add1, add2 = ("add1", "+", "#ffffff"), ("add2", "+", "#ffffff")
    ln1, ln2 = ("ln1", "LayerNorm", style.LN_COLOUR), ("ln2", "LayerNorm", style.LN_COLOUR)
    pre = dot(t("encoder.pre_title"), [x, ln1, msa, add1, ln2, mlp, add2, out],
              [("x", "ln1", False), ("ln1", "msa", False), ("msa", "add1", False), ("x", "add1", True),
               ("add1", "ln2", False), ("ln2", "mlp", False), ("mlp", "add2", False), ("add1", "add2", True),
               ("add2", "out", False)])
    post = dot(t("encoder.post_title"), [x, msa, add1, ln1, mlp, add2, ln2, out],
               [("x", "msa", False), ("msa", "add1", False), ("x", "add1", True), ("add1", "ln1", False),
                ("ln1", "mlp", False), ("mlp", "add2", False), ("ln1", "add2", True), ("add2", "ln2", False),
                ("ln2", "out", False)])
    return pre, post


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
    ui.figure(flow_png(c.image_bytes, c.model_id, layer, cfg.grid_size), f"encoder_block_layer{layer}",
              key="encoder_dl_flow")
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
def flow_png(image_bytes: bytes, model_id: str, layer: int, grid: int) -> bytes:
    return style.figure_png(flow_figure(views.flow(core.block_detail(image_bytes, model_id, layer - 1), FLOW, grid)))


def flow_figure(points: list[views.FlowPoint]):
    """Each point of the block: the (T, width) tensor as a picture, and the length of each patch token on the grid."""
    T = len(points[0].norms)
    fig, axes = plots.subplots(2, len(points), figsize=(2.1 * len(points), 5.4),
                               gridspec_kw=dict(height_ratios=[1.3, 1]))
    for col, point in enumerate(points):
        ax = axes[0, col]
        lo, hi = style.symmetric_clipped(point.values)
        ax.imshow(point.values, aspect="auto", cmap=style.DIVERGING, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_title(FLOW_SYMBOL[point.name], fontsize=style.FIGURE_HEADING)
        ax.set_xticks([])
        ax.set_yticks([0] if col else [0, T - 1])
        ax.set_yticklabels(["cls"] if col else ["cls", str(T - 1)], fontsize=style.FIGURE_TICK)
        ax.set_xlabel(f"{point.name}\n{point.values.shape}", fontsize=style.FIGURE_LABEL)
        ax = axes[1, col]
        ax.imshow(point.patch_norms, cmap="viridis", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"{point.shortest:.3g} … {point.longest:.3g}\n‖cls‖ = {point.norms[0]:.3g}",
                      fontsize=style.FIGURE_LABEL)
    axes[0, 0].set_ylabel("token", fontsize=style.FIGURE_LABEL)
    axes[1, 0].set_ylabel("‖patch‖", fontsize=style.FIGURE_LABEL)
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
    cols = st.columns(3)
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
              f"encoder_qkv_layer{layer}_head{head + 1}", key="encoder_dl_qkv")
    st.caption(t("encoder.qkv_caption", q=token_names[query], k=token_names[key], T=T, d=d))

    q_short = labels.token_short(query)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(row_chart(row.scores, key, t("encoder.scores_row", q=q_short), t("encoder.row_hover")),
                        key="encoder_scores_row")
    with right:
        st.plotly_chart(row_chart(row.probs, key, t("encoder.probs_row", q=q_short), t("encoder.row_hover")),
                        key="encoder_probs_row")
    st.caption(t("encoder.rows_caption", k=token_names[key]))

    left, right = st.columns([1, 2])
    with left:
        view = plots.upscale(c.analysis.model_view, budget.OVERLAY_SIDE)
        st.image(plots.heat_overlay(view, row.patch_map),
                 caption=t("encoder.map_caption", q=token_names[query], cls=float(row.probs[0])))
    with right:
        fig = go.Figure(go.Bar(x=list(range(d)), y=row.out.astype(np.float32), marker_color=style.PURPLE,
                               hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
        fig.update_layout(height=280, title=t("encoder.out_title", q=q_short, d=d),
                          margin=dict(l=10, r=10, t=40, b=10))
        st.plotly_chart(fig, key="encoder_out_row")
        st.caption(t("encoder.out_caption", D=cfg.hidden_size, H=H))
    return head, query, key


@st.cache_data(max_entries=64, show_spinner=False)
def qkv_png(image_bytes: bytes, model_id: str, layer: int, head: int, query: int, key: int) -> bytes:
    return style.figure_png(qkv_figure(core.block_detail(image_bytes, model_id, layer - 1), head, query, key))


def qkv_figure(block: views.BlockArrays, head: int, query: int, key: int):
    """Q, K, V and probs·V of one head as (T, d) pictures, the query's row and the key's row outlined."""
    panels = [("Q", block.q[head], query), ("K", block.k[head], key), ("V", block.v[head], key),
              ("softmax(QKᵀ/√d)·V", block.heads_out[head], query)]
    fig, axes = plots.subplots(1, 4, figsize=(12, 4.2))
    for ax, (name, value, row) in zip(axes, panels):
        lo, hi = style.symmetric(value)
        ax.imshow(value, aspect="auto", cmap=style.DIVERGING, vmin=lo, vmax=hi, interpolation="nearest")
        ax.add_patch(Rectangle((-0.5, row - 0.5), value.shape[1], 1, fill=False, ec="black", lw=1.8))
        ax.set_title(f"{name}  {value.shape}", fontsize=style.FIGURE_TITLE)
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
    st.plotly_chart(plots.heatmap(matrix, x=names, y=names, hovertemplate=t("encoder.matrix_hover"),
                                  colorscale=style.SEQUENTIAL if which == "probs" else "RdBu",
                                  zmin=0 if which == "probs" else None, height=520,
                                  xaxis=t("encoder.keys_axis"), yaxis=t("encoder.queries_axis")),
                    key="encoder_matrix_chart")
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
    cols = st.columns(4)
    cols[0].metric(t("encoder.score_here"), f"{we.score:.6f}")
    cols[1].metric(t("encoder.score_model"), f"{we.model_score:.6f}")
    cols[2].metric(t("encoder.weight_here"), f"{we.weight:.6f}")
    cols[3].metric(t("encoder.weight_model"), f"{we.model_weight:.6f}")
    gaps = dict(ds=f"{we.score_gap:.1e}", dw=f"{we.weight_gap:.1e}")
    if we.matches:
        st.success(t("encoder.match", **gaps))
    else:
        st.error(t("encoder.mismatch", **gaps))


def products_table(we: views.WorkedExample, n: int) -> str:
    """The first n dimensions of q, k and q_m·k_m as a Markdown table, and the sum of all d products."""
    d = len(we.q)
    more = " … |" if d > n else ""
    return "\n".join([
        "| m | " + " | ".join(str(m + 1) for m in range(n)) + " |" + more + f" {t('encoder.sum')} |",
        "|---" * (n + 2 + (d > n)) + "|",
        "| **q** | " + " | ".join(f"{v:.3f}" for v in we.q[:n]) + " |" + more + " |",
        "| **k** | " + " | ".join(f"{v:.3f}" for v in we.k[:n]) + " |" + more + " |",
        "| **q·k** | " + " | ".join(f"{v:.4f}" for v in we.products[:n]) + " |" + more + f" **{we.dot:.5f}** |",
    ])


if __name__ == "__main__":  # Streamlit runs a page as __main__; tests import its sections without running it
    main()
