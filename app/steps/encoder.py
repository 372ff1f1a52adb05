"""Step 4 — inside one encoder block: LayerNorm, multi-head self-attention, the MLP and the two residuals."""
import math
from dataclasses import fields

import streamlit as st

from app import budget, core, describe, figures, labels, numbers, plots, style, ui
from app.i18n import current_language, t
from vit_core import views
from vit_core.model import Block, attention, explain_block

SHOWN_PRODUCTS = 8  # how many of the d products q_m·k_m the worked example lists before "…"


def main() -> None:
    c = ui.current()
    cfg = c.config
    ui.heading("encoder")
    st.markdown(t("encoder.intro", L=cfg.num_hidden_layers, D=cfg.hidden_size))
    st.latex(r"z'_\ell = \mathrm{MSA}(\mathrm{LN}(z_{\ell-1})) + z_{\ell-1} \qquad (2)")
    st.latex(r"z_\ell = \mathrm{MLP}(\mathrm{LN}(z'_\ell)) + z'_\ell \qquad\quad\;\; (3)")
    with st.container(key="encoder-block"):  # the two blocks have no heading of their own: this is their anchor
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
BLOCK_WIDTH = 340  # CSS pixels: the 9-point labels of the 448-pixel picture become about 14 px


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
@style.one_figure_at_a_time
def block_png(kind: str, lang: str) -> bytes:
    """The pre-norm or post-norm block as a PNG, in `lang` (the figure depends on nothing else)."""
    return style.figure_png(figures.block_figure(*(figures.PRE_NORM if kind == "pre" else figures.POST_NORM)))


# ---- the live tensors of one layer -------------------------------------------------------------------------------
def live_tensors(c: ui.Current) -> tuple[int, views.BlockArrays]:
    """The layer slider, the block's data flow as pictures, and the shape of every tensor. Returns (layer from 1,
    the block)."""
    cfg = c.config
    L = cfg.num_hidden_layers
    st.header(t("encoder.layer_title"), anchor="encoder-layer")
    st.markdown(t("encoder.layer_intro", L=L))
    layer = pick(t("encoder.layer_slider", L=L), 1, L, "encoder_layer")
    block = core.block_detail(c.image_bytes, c.model_id, layer - 1)
    ui.figure(flow_png(c.image_bytes, c.model_id, layer, cfg.grid_size, current_language()),
              f"encoder_block_layer{layer}", key="encoder_dl_flow",
              alt=describe.flow(layer, views.flow(block, views.FLOW, cfg.grid_size)))
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
@style.one_figure_at_a_time
def flow_png(image_bytes: bytes, model_id: str, layer: int, grid: int, lang: str) -> bytes:
    """`lang` is part of the cache's key: the figure's axis label is in the page's language."""
    return style.figure_png(figures.flow_figure(views.flow(core.block_detail(image_bytes, model_id, layer - 1),
                                                          views.FLOW, grid)))


# ---- one head, one query -----------------------------------------------------------------------------------------
def one_head_one_query(c: ui.Current, layer: int, block: views.BlockArrays) -> tuple[int, int, int]:
    """Pickers for a head, a query and a key; Q, K, V; the query's row of scores and weights, its map and its output.
    Returns (head, query, key), from 0."""
    cfg = c.config
    H, d, g, T = cfg.num_attention_heads, cfg.head_dim, cfg.grid_size, cfg.num_tokens
    st.header(t("encoder.head_title", layer=layer), anchor="encoder-head")
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
        ui.chart(figures.row_chart(row.scores, key, t("encoder.scores_row", q=q_short), t("encoder.row_hover")),
                 key="encoder_scores_row")
    with right:
        ui.chart(figures.row_chart(row.probs, key, t("encoder.probs_row", q=q_short), t("encoder.row_hover")),
                 key="encoder_probs_row")
    st.caption(t("encoder.rows_caption", k=token_names[key]))

    left, right = st.columns([1, 2])
    with left:
        view = plots.upscale(c.analysis.model_view, budget.OVERLAY_SIDE)
        st.image(plots.heat_overlay(view, row.patch_map),
                 caption=t("encoder.map_caption", q=token_names[query], cls=describe.number(float(row.probs[0]))),
                 alt=describe.heat(t("alt.encoder_row", q=token_names[query], layer=layer, head=head + 1,
                                     cls=describe.number(float(row.probs[0]))), row.patch_map))
    with right:
        ui.chart(figures.out_chart(row.out, t("encoder.out_title", q=q_short, d=d)), key="encoder_out_row")
        st.caption(t("encoder.out_caption", D=cfg.hidden_size, H=H))
    return head, query, key


@st.cache_data(max_entries=64, show_spinner=False)
@style.one_figure_at_a_time
def qkv_png(image_bytes: bytes, model_id: str, layer: int, head: int, query: int, key: int) -> bytes:
    return style.figure_png(figures.qkv_figure(core.block_detail(image_bytes, model_id, layer - 1), head, query, key))


# ---- the whole matrix, or a window of it -------------------------------------------------------------------------
def whole_matrix(c: ui.Current, layer: int, block: views.BlockArrays, head: int, query: int) -> None:
    T, W = c.config.num_tokens, budget.BLOCK_WINDOW
    st.subheader(t("encoder.matrix_title", head=head + 1, layer=layer), anchor="encoder-matrix")
    matrix_names = {m: t(f"encoder.matrix_{m}") for m in ("probs", "scores")}
    which = st.radio(t("encoder.matrix_radio"), list(matrix_names), horizontal=True, key="encoder_matrix",
                     format_func=matrix_names.get)
    start, stop = budget.window(T, W, query)
    if T > W:
        start = st.slider(t("encoder.window_slider"), 0, T - W, start, key="encoder_window")
        stop = start + W
    names = [labels.token_short(i) for i in range(start, stop)]
    matrix = getattr(block, which)[head, start:stop, start:stop]
    ui.chart(figures.matrix_chart(matrix, names, which), key="encoder_matrix_chart",
             title=t("encoder.matrix_title", head=head + 1, layer=layer))
    if T > W:
        st.caption(t("encoder.window_caption", a=start, b=stop - 1, W=stop - start, T=T, cells=T * T))
    else:
        st.caption(t("encoder.matrix_caption", T=T))


# ---- one query–key pair, in numbers ------------------------------------------------------------------------------
def one_pair_in_numbers(c: ui.Current, block: views.BlockArrays, head: int, query: int, key: int) -> None:
    g, T, d = c.config.grid_size, c.config.num_tokens, c.config.head_dim
    st.subheader(t("encoder.worked_title"), anchor="encoder-worked")
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
    gaps = dict(ds=numbers.roundoff(we.score_gap), dw=numbers.roundoff(we.weight_gap))
    if we.matches:
        st.success(t("encoder.match", tol=numbers.roundoff(views.MATCH), **gaps))
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
