"""Step 3 — patches become tokens (Eq. 1): E, the cls token and the position embeddings → (B, N+1, D)."""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st
from matplotlib import colormaps
from mpl_toolkits.axes_grid1 import make_axes_locatable
from plotly.subplots import make_subplots

from app import budget, core, describe, labels, numbers, plots, style, ui
from app.i18n import catalog, current_language, t
from vit_core import views
from vit_core.analysis import embedding_filters_pca, position_similarity
from vit_core.model import ViT

PCS = 28  # principal components of E shown, as in the paper's Fig. 7 (left)
BATCH_DEMO = 3  # pictures in the pretend batch that shows `expand`
# two lines, so that a phone or a narrow column shows all of it
EQUATION_1 = (r"\mathbf{z}_0 = [\,\mathbf{x}_\text{class};\; \mathbf{x}^1_p\mathbf{E};\; \mathbf{x}^2_p\mathbf{E};\; "
              r"\cdots;\; \mathbf{x}^N_p\mathbf{E}\,] + \mathbf{E}_{pos},",
              r"\mathbf{E} \in \mathbb{R}^{(P^2 \cdot C)\times D},\quad "
              r"\mathbf{E}_{pos} \in \mathbb{R}^{(N+1)\times D}")


def main() -> None:
    c = ui.current()
    cfg = c.config
    ui.heading("embedding", T=cfg.num_tokens, D=cfg.hidden_size)
    st.markdown(t("embedding.intro", N=cfg.num_patches, D=cfg.hidden_size, T=cfg.num_tokens))
    for line in EQUATION_1:
        st.latex(line)
    weights = views.embedding_weights(c.model.model, c.analysis)
    projection(c, weights)
    cls_in_front(c, weights)
    plus_positions(c, weights)
    what_positions_learned(c)
    what_E_learned(c)


def projection(c: ui.Current, w: views.EmbeddingWeights) -> None:
    """patches · E = patch_embeddings, as three heatmaps."""
    cfg, a = c.config, c.analysis
    N, PPC, D = cfg.num_patches, cfg.patch_dim, cfg.hidden_size
    patch, value = patch_namer(cfg), value_namer(cfg)
    st.subheader(t("embedding.proj_title", PPC=PPC, D=D), anchor="embedding-projection")
    st.markdown(t("embedding.proj_intro", N=N, PPC=PPC, D=D) + " " + style.pointer_hint(
        t("embedding.proj_hint_hover"), t("embedding.proj_hint_tap")), unsafe_allow_html=True)
    fig, thinned = equation([
        Term(a.trace.patches[0], patch, value, t("embedding.patches_title", N=N, PPC=PPC),
             t("embedding.axis_patch"), t("embedding.axis_value")),
        Term(w.E.T, value, labels.dim, t("embedding.E_title", PPC=PPC, D=D), t("embedding.axis_value"),
             t("embedding.axis_dim")),
        Term(a.trace.patch_embeddings[0], patch, labels.dim, t("embedding.emb_title", N=N, D=D),
             t("embedding.axis_patch"), t("embedding.axis_dim")),
    ], ["×", "="], rows=budget.AXIS_FULL, cols=budget.AXIS_FULL)
    ui.chart(fig, key="embedding_projection", title=t("embedding.proj_title", PPC=PPC, D=D))
    cols = st.columns(3)
    with cols[0]:
        ui.shape("patches", a.trace.patches.shape)
    with cols[1]:
        ui.shape("patch_embed.weight", w.E.shape, t("embedding.shape_E_meaning"))
    with cols[2]:
        ui.shape("patch_embeddings", a.trace.patch_embeddings.shape)
    st.caption(t("embedding.proj_caption", D=D))
    thinned_note(thinned)


def cls_in_front(c: ui.Current, w: views.EmbeddingWeights) -> None:
    """The learned cls vector, copied once per picture by `expand` and put in front of the patches."""
    cfg = c.config
    N, T, D = cfg.num_patches, cfg.num_tokens, cfg.hidden_size
    st.subheader(t("embedding.cls_title"), anchor="embedding-cls")
    st.markdown(t("embedding.cls_intro", D=D, B=BATCH_DEMO, N=N, T=T))
    st.image(batch_strip(w.cls, BATCH_DEMO).repeat(14, axis=0).repeat(max(1, 640 // D), axis=1),
             caption=t("embedding.expand_caption", B=BATCH_DEMO, D=D), alt=describe.cls_copies(w.cls, BATCH_DEMO))
    st.code(f"cls = self.cls_token.expand(len(pixel_values), -1, -1)  # (1, 1, {D}) → (B, 1, {D})\n"
            f"with_cls = torch.cat([cls, patch_embeddings], dim=1)    # (B, 1, {D}) + (B, {N}, {D}) → (B, {T}, {D})",
            language="python")
    st.caption(t("embedding.cls_check", ok="✓" if w.cls_prepended else "✗"))


def plus_positions(c: ui.Current, w: views.EmbeddingWeights) -> None:
    """tokens_with_cls + pos_embed = tokens (z₀): a broadcast over the batch."""
    cfg, a = c.config, c.analysis
    T, D = cfg.num_tokens, cfg.hidden_size
    token = token_namer(cfg)
    st.subheader(t("embedding.pos_title"), anchor="embedding-positions")
    st.markdown(t("embedding.pos_intro", T=T, D=D))
    axis_token, axis_dim = t("embedding.axis_token"), t("embedding.axis_dim")
    fig, thinned = equation([
        Term(a.trace.tokens_with_cls[0], token, labels.dim, "tokens_with_cls", axis_token, axis_dim, True),
        Term(w.pos, token, labels.dim, "pos_embed (E_pos)", axis_token, axis_dim, True),
        Term(a.trace.tokens[0], token, labels.dim, "tokens (z₀)", axis_token, axis_dim, True),
    ], ["+", "="], rows=budget.AXIS_FULL, cols=budget.AXIS_SMALL, height=420)
    ui.chart(fig, key="embedding_broadcast", title=t("embedding.pos_title"))
    cols = st.columns(3)
    with cols[0]:
        ui.shape("tokens_with_cls", a.trace.tokens_with_cls.shape, t("embedding.shape_batch"))
    with cols[1]:
        ui.shape("pos_embed", w.pos_shape, t("embedding.shape_one"))
    with cols[2]:
        ui.shape("tokens", a.trace.tokens.shape, t("embedding.shape_z0"))
    st.markdown(t("embedding.broadcast", T=T, D=D, B=a.trace.tokens.shape[0]))
    thinned_note(thinned)
    ui.source(ViT.embed)


def what_positions_learned(c: ui.Current) -> None:
    """Paper Fig. 7 (centre): the cosine similarity of every position embedding with every other."""
    cfg, sim = c.config, c.analysis.position_similarity  # (g, g, g, g): [r, c] is the map of the patch at (r, c)
    st.subheader(t("embedding.sim_title"), anchor="embedding-similarity")
    st.markdown(t("embedding.sim_intro", g=cfg.grid_size, N=cfg.num_patches, place=labels.place("r", "c")))
    left, right = st.columns([3, 2])
    with left:
        ui.figure(similarity_png(sim, current_language()), "position_similarity", key="embedding_dl_sim",
                  alt=describe.position_similarity(sim))
        ui.shape("position_similarity", sim.shape, t("embedding.shape_sim"))
    with right:
        one_tile(sim)
    st.markdown(t("embedding.sim_notice"))
    ui.source(position_similarity)


@st.fragment
def one_tile(sim: np.ndarray) -> None:
    """One patch's map of the mosaic, to hover: its own fragment, so moving the slider redraws only this."""
    g = sim.shape[0]
    N = g * g
    k = st.slider(t("embedding.sim_pick"), 0, N - 1, views.centre_patch(g), key="embedding_sim_patch")
    r, col = divmod(k, g)
    names = [str(i) for i in range(g)]
    fig = plots.heatmap(sim[r, col], x=names, y=names, zmin=-1, zmax=1, height=380,
                        title=t("embedding.tile_title", patch=labels.patch(k, g)),  # two lines: a narrow column
                        xaxis=t("embedding.sim_xlabel"), yaxis=t("embedding.sim_ylabel"),
                        hovertemplate=t("embedding.tile_hover", patch=labels.patch(k, g, short=True)))
    fig.data[0].text = [[labels.patch(i * g + j, g, short=True) for j in range(g)] for i in range(g)]  # each cell
    fig.add_shape(type="rect", x0=col - 0.5, x1=col + 0.5, y0=r - 0.5, y1=r + 0.5, line=dict(color="red", width=3))
    fig.update_layout(title_font_size=style.CHART_TITLE, margin_t=60)
    ui.chart(fig, key="embedding_tile")
    st.caption(t("embedding.tile_caption") + " " + style.pointer_hint(t("embedding.tile_hint_hover"),
                                                                       t("embedding.tile_hint_tap")),
               unsafe_allow_html=True)


def what_E_learned(c: ui.Current) -> None:
    """Paper Fig. 7 (left): the first principal components of E's filters."""
    cfg = c.config
    st.subheader(t("embedding.pca_title"), anchor="embedding-filters")
    pca = filters_pca(c.model_id)
    k = len(pca.components)
    st.markdown(t("embedding.pca_intro", D=cfg.hidden_size, PPC=cfg.patch_dim, k=k, P=cfg.patch_size))
    # the whole width: seven small pictures a row, their labels readable only at that size
    ui.figure(pca_png(c.model_id), "embedding_filters_pca", key="embedding_dl_pca",
              alt=describe.filters_pca(k, cfg.patch_size, pca.explained))
    st.markdown(t("embedding.pca_notice", share=views.explained_by_first(pca, 3)))
    ui.source(embedding_filters_pca)


# ---- names of rows and columns -----------------------------------------------------------------------------------
def patch_namer(cfg) -> Callable[[int], str]:
    return lambda k: labels.patch(k, cfg.grid_size, short=True)


def token_namer(cfg) -> Callable[[int], str]:
    return lambda i: labels.token(i, cfg.grid_size)


def value_namer(cfg) -> Callable[[int], str]:
    return lambda i: labels.value(i, cfg.patch_size, cfg.num_channels)


def thinned_note(thinned: bool) -> None:
    if thinned:
        st.caption(t("embedding.thinned"))


# ---- drawing -----------------------------------------------------------------------------------------------------
@dataclass
class Term:
    """One matrix of an equation drawn as heatmaps: its values, how its rows and columns are named, its title."""

    z: np.ndarray  # (rows, cols)
    row_label: Callable[[int], str]
    col_label: Callable[[int], str]
    title: str
    yaxis: str
    xaxis: str
    highlight_row0: bool = False


def equation(terms: list[Term], ops: list[str], rows: dict, cols: dict, height: int = 460):
    """Heatmaps side by side in one figure with the operators between them ("A · B = C"), each on its own colour
    scale (red positive, blue negative). Long axes are thinned; returns the figure and whether any axis was."""
    fig = make_subplots(rows=1, cols=len(terms), subplot_titles=[term.title for term in terms],
                        horizontal_spacing=0.09)
    thinned = False
    for i, term in enumerate(terms, start=1):
        ri, ci = budget.thin(term.z.shape[0], **rows), budget.thin(term.z.shape[1], **cols)
        thinned |= len(ri) < term.z.shape[0] or len(ci) < term.z.shape[1]
        ylab, xlab = [term.row_label(r) for r in ri], [term.col_label(c) for c in ci]
        zmin, zmax = style.symmetric(term.z)
        heat = plots.heatmap(term.z[np.ix_(ri, ci)], x=xlab, y=ylab, colorscale=style.DIVERGING, zmin=zmin,
                             zmax=zmax, hovertemplate=f"%{{y}}<br>%{{x}}<br>%{{z:{numbers.D3}}}").data[0]
        heat.showscale = False
        fig.add_trace(heat, row=1, col=i)
        for update, names, idx, title in ((fig.update_xaxes, xlab, ci, term.xaxis),
                                          (fig.update_yaxes, ylab, ri, term.yaxis)):
            update(**style.ticks(names, idx, 10), title_text=title, title_font_size=style.CHART_AXIS_TITLE,
                   row=1, col=i)
        if i > 1:  # the gap on the left of this heatmap holds the operator, not an axis title
            fig.update_yaxes(title_text=None, row=1, col=i)
        fig.update_yaxes(autorange="reversed", row=1, col=i)
        if term.highlight_row0:
            n = "" if i == 1 else i  # plotly names the first axes x and y, then x2, y2, …
            fig.add_shape(type="rect", xref=f"x{n} domain", x0=0, x1=1, yref=f"y{n}", y0=-0.5, y1=0.5,
                          line=dict(color="black", width=3))
    for i, op in enumerate(ops, start=1):
        left, right = fig.layout[f"xaxis{i}"].domain[1], fig.layout[f"xaxis{i + 1}"].domain[0]
        fig.add_annotation(text=f"<b>{op}</b>", x=left + 0.3 * (right - left), y=0.5, xref="paper", yref="paper",
                           showarrow=False, font_size=style.CHART_OPERATOR)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    fig.update_annotations(font_size=style.CHART_SUBTITLE, selector=dict(showarrow=False, yref="paper", y=1.0))
    # the outer titles start at the first heatmap's left edge and end at the last one's right edge: on a phone a
    # centred title is wider than its heatmap and would run out of the chart
    titles = [a for a in fig.layout.annotations if a.yref == "paper" and a.y == 1.0]
    titles[0].update(x=fig.layout.xaxis.domain[0], xanchor="left")
    titles[-1].update(x=fig.layout[f"xaxis{len(terms)}"].domain[1], xanchor="right")
    return fig, thinned


def batch_strip(cls: np.ndarray, batch: int) -> np.ndarray:
    """The cls vector as a strip of colours (red positive, blue negative), once per picture of a batch, with a white
    line between copies: (2·batch − 1, D, 3) uint8."""
    lo, hi = style.symmetric(cls)
    colours = (colormaps[style.DIVERGING]((cls.clip(lo, hi) / hi + 1) / 2)[:, :3] * 255).astype(np.uint8)  # (D, 3)
    return views.mosaic(np.broadcast_to(colours, (batch, 1, 1, *colours.shape)), 1, 255)


def figure_words(key: str) -> tuple[str, dict]:
    """A label inside a matplotlib figure, in this page's language where the server has a font for it."""
    return style.figure_text(t(key), catalog("en")[key])


@st.cache_data(max_entries=8, show_spinner=False)
@style.one_figure_at_a_time
def similarity_png(sim: np.ndarray, lang: str) -> bytes:
    """Paper Fig. 7 (centre) for this model, one tile per patch, labelled in `lang` (it depends on nothing else)."""
    g = sim.shape[0]
    fig, ax = plots.subplots(figsize=(5.0, 4.5))
    im = ax.imshow(views.similarity_mosaic(sim), cmap="viridis", vmin=-1, vmax=1, interpolation="nearest")
    step = max(1, g // 7)
    centres = [i * (g + 1) + (g - 1) / 2 for i in range(0, g, step)]  # the middle of every step-th tile
    ax.set_xticks(centres, [str(i) for i in range(0, g, step)])
    ax.set_yticks(centres, [str(i) for i in range(0, g, step)])
    for set_label, key in ((ax.set_xlabel, "embedding.sim_xlabel"), (ax.set_ylabel, "embedding.sim_ylabel")):
        label, font = figure_words(key)
        set_label(label, fontsize=style.FIGURE_LABEL, **font)
    ax.tick_params(length=0, labelsize=style.FIGURE_TICK)
    for s in ax.spines.values():
        s.set_visible(False)
    # the colour bar in an axes cut from the picture's own, so that it is exactly as tall as the matrix
    cax = make_axes_locatable(ax).append_axes("right", size="4%", pad=0.12)
    bar = fig.colorbar(im, cax=cax)
    bar.ax.tick_params(labelsize=style.FIGURE_TICK)
    label, font = figure_words("embedding.sim_colorbar")
    bar.set_label(label, fontsize=style.FIGURE_LABEL, **font)
    fig.tight_layout()
    return style.figure_png(fig)


@st.cache_resource(max_entries=4, show_spinner=False)
def filters_pca(model_id: str) -> views.FiltersPCA:
    """The principal components of E: they depend on the model only, so once per model, shared read-only."""
    return views.filters_pca(core.get_model(model_id).model, PCS)


@st.cache_data(max_entries=4, show_spinner=False)
@style.one_figure_at_a_time
def pca_png(model_id: str) -> bytes:
    """Paper Fig. 7 (left) for this model: the first principal components of E as pictures."""
    pca = filters_pca(model_id)
    comps, explained = pca.components, pca.explained  # (k, P, P, C), (k,)
    k, C = len(comps), comps.shape[-1]
    per_row = min(7, k)
    n_rows = -(-k // per_row)
    fig, axes = plots.subplots(n_rows, per_row, figsize=(1.3 * per_row, 1.45 * n_rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < k:
            ax.imshow(comps[i] if C == 3 else comps[i, ..., 0], cmap=None if C == 3 else "gray",
                      interpolation="nearest")
            ax.set_title(f"{i + 1} · {numbers.percent(explained[i])}", fontsize=style.FIGURE_SMALL)
    fig.tight_layout()
    return style.figure_png(fig)


if __name__ == "__main__":  # Streamlit runs a page as __main__; tests import its sections without running it
    main()
