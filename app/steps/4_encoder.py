"""Step 4 — inside one encoder block: LayerNorm, multi-head self-attention, the MLP and the two residuals."""
import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from matplotlib.patches import Rectangle

from app import core, plots, ui
from app.i18n import t
from vit_core.analysis import patch_map, token_norms
from vit_core.model import Block, attention, explain_block

WINDOW = 64  # the most tokens a scores / probs matrix shows at once (64×64 cells)
SHOWN_PRODUCTS = 8  # how many of the d products q_m·k_m the worked example lists before "…"
# the points of the block drawn as a row, in the order the data flows (keys of core.block_detail)
FLOW = ("x", "ln1", "attn_out", "after_attn", "ln2", "mlp_hidden", "mlp_out", "out")
FLOW_SYMBOL = {"x": "$z_{\\ell-1}$", "ln1": "LN$_1(z_{\\ell-1})$", "attn_out": "MSA(·)", "after_attn": "$z'_\\ell$",
               "ln2": "LN$_2(z'_\\ell)$", "mlp_hidden": "GELU(fc1)", "mlp_out": "MLP(·)", "out": "$z_\\ell$"}
LN_COLOUR, ATTN_COLOUR, MLP_COLOUR = "#fcd34d", "#93c5fd", "#86efac"

c = ui.current()
cfg, a = c.model.config, c.analysis
L, H, D, d, g, T = (cfg.num_hidden_layers, cfg.num_attention_heads, cfg.hidden_size, cfg.head_dim, cfg.grid_size,
                    cfg.num_tokens)


def pick(label: str, lo: int, hi: int, key: str) -> int:
    """A slider from lo to hi, or just lo when there is nothing to choose (a slider needs lo < hi)."""
    return st.slider(label, lo, hi, lo, key=key) if hi > lo else lo


def token_name(i: int) -> str:
    if i == 0:
        return t("encoder.cls")
    return t("encoder.patch", n=i - 1, r=(i - 1) // g, c=(i - 1) % g)


def short_name(i: int) -> str:
    return "cls" if i == 0 else f"p{i - 1}"


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
        style = f' [style=dashed, color="#dc2626", fontcolor="#dc2626", label=" {t("encoder.residual")}"]' \
            if residual else ""
        lines.append(f"{src} -> {dst}{style};")
    return "\n".join(lines + ["}"])


def block_diagrams() -> tuple[str, str]:
    x, out = ("x", "<z<SUB>ℓ−1</SUB>>", "#f3f4f6"), ("out", "<z<SUB>ℓ</SUB>>", "#f3f4f6")
    msa, mlp = ("msa", t("encoder.msa"), ATTN_COLOUR), ("mlp", t("encoder.mlp"), MLP_COLOUR)
    add1, add2 = ("add1", "+", "#ffffff"), ("add2", "+", "#ffffff")
    ln1, ln2 = ("ln1", "LayerNorm", LN_COLOUR), ("ln2", "LayerNorm", LN_COLOUR)
    pre = dot(t("encoder.pre_title"), [x, ln1, msa, add1, ln2, mlp, add2, out],
              [("x", "ln1", False), ("ln1", "msa", False), ("msa", "add1", False), ("x", "add1", True),
               ("add1", "ln2", False), ("ln2", "mlp", False), ("mlp", "add2", False), ("add1", "add2", True),
               ("add2", "out", False)])
    post = dot(t("encoder.post_title"), [x, msa, add1, ln1, mlp, add2, ln2, out],
               [("x", "msa", False), ("msa", "add1", False), ("x", "add1", True), ("add1", "ln1", False),
                ("ln1", "mlp", False), ("mlp", "add2", False), ("ln1", "add2", True), ("add2", "ln2", False),
                ("ln2", "out", False)])
    return pre, post


def flow_figure(bd: dict[str, np.ndarray]):
    """Each point of the block: the (T, width) tensor as a picture, and the length of each patch token on the grid."""
    norms = {name: token_norms(torch.from_numpy(bd[name])).numpy() for name in FLOW}  # (T,) each
    fig, axes = plots.subplots(2, len(FLOW), figsize=(2.1 * len(FLOW), 5.4), gridspec_kw=dict(height_ratios=[1.3, 1]))
    for col, name in enumerate(FLOW):
        value = bd[name]
        lim = float(np.percentile(np.abs(value), 99)) or 1.0
        ax = axes[0, col]
        ax.imshow(value, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_title(FLOW_SYMBOL[name], fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([0] if col else [0, T - 1])
        ax.set_yticklabels(["cls"] if col else ["cls", str(T - 1)], fontsize=7)
        ax.set_xlabel(f"{name}\n{value.shape}", fontsize=9)
        ax = axes[1, col]
        patch_norms = patch_map(norms[name], g)  # (g, g)
        ax.imshow(patch_norms, cmap="viridis", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"{patch_norms.min():.3g} … {patch_norms.max():.3g}\n‖cls‖ = {norms[name][0]:.3g}",
                      fontsize=9)
    axes[0, 0].set_ylabel("token", fontsize=9)
    axes[1, 0].set_ylabel("‖patch‖", fontsize=9)
    fig.tight_layout()
    return fig


def qkv_figure(bd: dict[str, np.ndarray], head: int, query: int, key: int):
    """Q, K, V and probs·V of one head as (T, d) pictures, the query's row and the key's row outlined."""
    panels = [("Q", bd["q"][head], query), ("K", bd["k"][head], key), ("V", bd["v"][head], key),
              ("softmax(QKᵀ/√d)·V", bd["heads_out"][head], query)]
    fig, axes = plots.subplots(1, 4, figsize=(12, 4.2))
    for ax, (name, value, row) in zip(axes, panels):
        lim = float(np.abs(value).max()) or 1.0
        ax.imshow(value, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        ax.add_patch(Rectangle((-0.5, row - 0.5), value.shape[1], 1, fill=False, ec="black", lw=1.8))
        ax.set_title(f"{name}  {value.shape}", fontsize=10)
        ax.set_xlabel(f"d = {value.shape[1]}", fontsize=9)
        ax.set_yticks([row])
        ax.set_yticklabels([short_name(row)], fontsize=8)
    fig.tight_layout()
    return fig


# Drawn once per picture, model and choice, and kept as PNG bytes: matplotlib takes a few hundred ms a figure, and a
# class walks through these pages together.
@st.cache_data(max_entries=32, show_spinner=False)
def flow_png(image_bytes: bytes, model_id: str, layer: int) -> bytes:
    return plots.figure_png(flow_figure(core.block_detail(image_bytes, model_id, layer - 1)))


@st.cache_data(max_entries=64, show_spinner=False)
def qkv_png(image_bytes: bytes, model_id: str, layer: int, head: int, query: int, key: int) -> bytes:
    return plots.figure_png(qkv_figure(core.block_detail(image_bytes, model_id, layer - 1), head, query, key))


def row_chart(values: np.ndarray, key: int, title: str, hover: str) -> go.Figure:
    """One row of the scores or probabilities, the chosen key in red."""
    names = [short_name(i) for i in range(len(values))]
    fig = go.Figure(go.Bar(x=names, y=values.astype(np.float32), marker_color="#3b82f6", hovertemplate=hover))
    fig.add_bar(x=[names[key]], y=[float(values[key])], marker_color="#dc2626", hovertemplate=hover)
    fig.update_layout(height=260, title=title, showlegend=False, barmode="overlay",
                      margin=dict(l=10, r=10, t=40, b=10), xaxis=dict(type="category", tickfont=dict(size=9)))
    return fig


# ---- the block, pre-norm against post-norm -------------------------------------------------------------------
st.title(t("encoder.title"))
st.markdown(t("encoder.intro", L=L, D=D))
st.latex(r"z'_\ell = \mathrm{MSA}(\mathrm{LN}(z_{\ell-1})) + z_{\ell-1} \qquad (2)")
st.latex(r"z_\ell = \mathrm{MLP}(\mathrm{LN}(z'_\ell)) + z'_\ell \qquad\quad\;\; (3)")
pre, post = block_diagrams()
left, right = st.columns(2)
with left:
    st.graphviz_chart(pre)
    st.caption(t("encoder.pre_caption"))
with right:
    st.graphviz_chart(post)
    st.caption(t("encoder.post_caption"))
st.info(t("encoder.change"))

# ---- the live tensors of one layer ---------------------------------------------------------------------------
st.header(t("encoder.layer_title"))
st.markdown(t("encoder.layer_intro", L=L))
layer = pick(t("encoder.layer_slider", L=L), 1, L, "encoder_layer")
bd = core.block_detail(c.image_bytes, c.model_id, layer - 1)
ui.figure(flow_png(c.image_bytes, c.model_id, layer), f"encoder_block_layer{layer}", key="encoder_dl_flow")
st.caption(t("encoder.flow_caption", g=g))

st.subheader(t("encoder.shapes_title", layer=layer))
st.caption(t("encoder.shapes_caption", T=T, D=D, H=H, d=d, M=cfg.intermediate_size))
left, right = st.columns(2)
for i, name in enumerate(bd):
    with left if i < (len(bd) + 1) // 2 else right:
        ui.shape(name, bd[name].shape, t(f"encoder.shape_{name}"))

# ---- one head, one query -------------------------------------------------------------------------------------
st.header(t("encoder.head_title", layer=layer))
st.markdown(t("encoder.head_intro", H=H, d=d, D=D))
token_names = [token_name(i) for i in range(T)]  # formatted once, in this run's language
key_auto = t("encoder.key_auto")
cols = st.columns(3)
with cols[0]:
    head = pick(t("encoder.head_slider", H=H), 1, H, "encoder_head") - 1
with cols[1]:
    query = st.selectbox(t("encoder.query"), range(T), format_func=token_names.__getitem__, key="encoder_query")
probs_row = bd["probs"][head, query]  # (T,)
strongest = int(np.argmax(probs_row))
with cols[2]:
    key_choice = st.selectbox(t("encoder.key"), [-1, *range(T)], key="encoder_key",
                              format_func=lambda j: key_auto if j < 0 else token_names[j])
key = strongest if key_choice < 0 else key_choice
scores_row = bd["scores"][head, query]  # (T,)

ui.figure(qkv_png(c.image_bytes, c.model_id, layer, head, query, key), f"encoder_qkv_layer{layer}_head{head + 1}",
          key="encoder_dl_qkv")
st.caption(t("encoder.qkv_caption", q=token_name(query), k=token_name(key), T=T, d=d))

left, right = st.columns(2)
with left:
    st.plotly_chart(row_chart(scores_row, key, t("encoder.scores_row", q=short_name(query)),
                              t("encoder.row_hover")), key="encoder_scores_row")
with right:
    st.plotly_chart(row_chart(probs_row, key, t("encoder.probs_row", q=short_name(query)),
                              t("encoder.row_hover")), key="encoder_probs_row")
st.caption(t("encoder.rows_caption", k=token_name(key)))

left, right = st.columns([1, 2])
with left:
    view = plots.upscale(a.model_view, 280)
    st.image(plots.heat_overlay(view, patch_map(probs_row, g)),
             caption=t("encoder.map_caption", q=token_name(query), cls=float(probs_row[0])))
with right:
    out_row = bd["heads_out"][head, query]  # (d,)
    fig = go.Figure(go.Bar(x=list(range(d)), y=out_row.astype(np.float32), marker_color="#8b5cf6",
                           hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    fig.update_layout(height=280, title=t("encoder.out_title", q=short_name(query), d=d),
                      margin=dict(l=10, r=10, t=40, b=10))
    st.plotly_chart(fig, key="encoder_out_row")
    st.caption(t("encoder.out_caption", D=D, H=H))

# ---- the whole matrix, or a window of it ---------------------------------------------------------------------
st.subheader(t("encoder.matrix_title", head=head + 1, layer=layer))
matrix_names = {m: t(f"encoder.matrix_{m}") for m in ("probs", "scores")}
which = st.radio(t("encoder.matrix_radio"), list(matrix_names), horizontal=True, key="encoder_matrix",
                 format_func=matrix_names.get)
start = 0
if T > WINDOW:
    start = st.slider(t("encoder.window_slider"), 0, T - WINDOW, min(max(0, query - WINDOW // 2), T - WINDOW),
                      key="encoder_window")
stop = min(T, start + WINDOW)
names = [short_name(i) for i in range(start, stop)]
matrix = bd[which][head, start:stop, start:stop]
st.plotly_chart(plots.heatmap(matrix, x=names, y=names, hovertemplate=t("encoder.matrix_hover"),
                              colorscale="Viridis" if which == "probs" else "RdBu",
                              zmin=0 if which == "probs" else None, height=520,
                              xaxis=t("encoder.keys_axis"), yaxis=t("encoder.queries_axis")),
                key="encoder_matrix_chart")
if T > WINDOW:
    st.caption(t("encoder.window_caption", a=start, b=stop - 1, W=stop - start, T=T, cells=T * T))
else:
    st.caption(t("encoder.matrix_caption", T=T))

# ---- one query–key pair, in numbers --------------------------------------------------------------------------
st.subheader(t("encoder.worked_title"))
st.markdown(t("encoder.worked_intro", q=token_name(query), k=token_name(key), head=head + 1, d=d))
q_vec = bd["q"][head, query].astype(np.float64)  # (d,)
k_vec = bd["k"][head, key].astype(np.float64)  # (d,)
products = q_vec * k_vec  # (d,)
total = products.sum()
score = total / np.sqrt(d)
row = bd["k"][head].astype(np.float64) @ q_vec / np.sqrt(d)  # (T,): this query against every key
shift = row.max()  # exp of a large score overflows; e^(s−m)/Σe^(s−m) is the same fraction
weight = np.exp(score - shift) / np.exp(row - shift).sum()
n = min(SHOWN_PRODUCTS, d)
more = " … |" if d > n else ""
st.markdown("\n".join([
    "| m | " + " | ".join(str(m + 1) for m in range(n)) + " |" + more + f" {t('encoder.sum')} |",
    "|---" * (n + 2 + (d > n)) + "|",
    "| **q** | " + " | ".join(f"{v:.3f}" for v in q_vec[:n]) + " |" + more + " |",
    "| **k** | " + " | ".join(f"{v:.3f}" for v in k_vec[:n]) + " |" + more + " |",
    "| **q·k** | " + " | ".join(f"{v:.4f}" for v in products[:n]) + " |" + more + f" **{total:.5f}** |",
]))
st.caption(t("encoder.products_caption", n=n, d=d))
st.latex(rf"s = \frac{{q \cdot k}}{{\sqrt{{d}}}} = \frac{{{total:.5f}}}{{\sqrt{{{d}}}}} = {score:.5f}")
with np.errstate(over="ignore"):
    raw_total = np.exp(row).sum()  # inf for very large scores: then the shifted form is shown
if np.isfinite(raw_total):
    st.latex(rf"w = \frac{{e^{{s}}}}{{\sum_j e^{{s_j}}}} = \frac{{{np.exp(score):.5g}}}{{{raw_total:.5g}}}"
             rf" = {weight:.6f}")
else:
    st.latex(rf"w = \frac{{e^{{s - m}}}}{{\sum_j e^{{s_j - m}}}} = {weight:.6f}, \quad m = \max_j s_j = {shift:.3f}")
st.caption(t("encoder.worked_row_note", T=T))
model_score = float(bd["scores"][head, query, key])
model_weight = float(bd["probs"][head, query, key])
cols = st.columns(4)
cols[0].metric(t("encoder.score_here"), f"{score:.6f}")
cols[1].metric(t("encoder.score_model"), f"{model_score:.6f}")
cols[2].metric(t("encoder.weight_here"), f"{weight:.6f}")
cols[3].metric(t("encoder.weight_model"), f"{model_weight:.6f}")
score_gap, weight_gap = abs(score - model_score), abs(weight - model_weight)
if score_gap <= 1e-5 * max(1.0, abs(model_score)) and weight_gap <= 1e-5:
    st.success(t("encoder.match", ds=f"{score_gap:.1e}", dw=f"{weight_gap:.1e}"))
else:
    st.error(t("encoder.mismatch", ds=f"{score_gap:.1e}", dw=f"{weight_gap:.1e}"))

ui.source(explain_block, attention, Block.forward)
