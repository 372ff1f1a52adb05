"""Step 3 — patches become tokens (Eq. 1): E, the cls token and the position embeddings → (B, N+1, D)."""
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
from matplotlib import colormaps, font_manager
from plotly.subplots import make_subplots

from app import core, plots, ui
from app.i18n import catalog, current_language, t
from vit_core.analysis import embedding_filters_pca, position_similarity
from vit_core.model import ViT
from vit_core.patches import value_name

# What a heatmap axis sends to the browser: all of an axis up to `keep` long (the teaching model's 49, 50, 48, 64),
# else every k-th entry, at most `most` of them — so a ViT-B/16 page stays as light as the teaching one.
FULL = dict(keep=64, most=48)
SMALL = dict(keep=24, most=24)  # the embedding axis of the three small heatmaps of the broadcast
PCS = 28  # principal components of E shown, as in the paper's Fig. 7 (left)
BATCH_DEMO = 3  # pictures in the pretend batch that shows `expand`


@st.cache_resource(show_spinner=False)
def hangul_font() -> str | None:
    """A font with Hangul for matplotlib labels, or None: from matplotlib's font list, or else found among the
    system's font files (matplotlib's cache may predate their installation) and added to that list once."""
    known = ("NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR", "UnDotum")
    names = {f.name for f in font_manager.fontManager.ttflist}
    if found := next((name for name in known if name in names), None):
        return found
    files = ("NanumGothic.ttf", "NanumBarunGothic.ttf", "NotoSansCJK-Regular.ttc", "NotoSansKR-Regular.otf")
    for path in font_manager.findSystemFonts():
        if Path(path).name in files:
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


@st.cache_data(max_entries=4, show_spinner=False)
def filters_pca(model_id: str) -> tuple[np.ndarray, np.ndarray]:
    """(k, P, P, C) components in [0, 1] and the fraction of variance each explains: they depend on the model only."""
    comps, explained = embedding_filters_pca(core.get_model(model_id), PCS)
    return comps.numpy(), explained.numpy()


@st.cache_data(max_entries=4, show_spinner=False)
def pca_png(model_id: str) -> bytes:
    """Paper Fig. 7 (left) for this model: the first principal components of E as pictures."""
    comps, explained = filters_pca(model_id)  # (k, P, P, C), (k,)
    k, C = len(comps), comps.shape[-1]
    per_row = min(7, k)
    n_rows = -(-k // per_row)
    fig, axes = plots.subplots(n_rows, per_row, figsize=(1.3 * per_row, 1.45 * n_rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < k:
            ax.imshow(comps[i] if C == 3 else comps[i, ..., 0], cmap=None if C == 3 else "gray",
                      interpolation="nearest")
            ax.set_title(f"{i + 1} · {explained[i]:.1%}", fontsize=8)
    fig.tight_layout()
    return plots.figure_png(fig)


@st.cache_data(max_entries=8, show_spinner=False)
def similarity_png(model_id: str, lang: str) -> bytes:
    """Paper Fig. 7 (centre) for this model, one tile per patch, labelled in `lang` (it depends on nothing else)."""
    model = core.get_model(model_id)
    g = model.config.grid_size
    sim = position_similarity(model.pos_embed.detach(), g).numpy()  # (g, g, g, g)
    side = g + 1  # a tile and a one-cell gap
    mosaic = np.full((g * side - 1, g * side - 1), np.nan, np.float32)
    for r in range(g):
        for col in range(g):
            mosaic[r * side:r * side + g, col * side:col * side + g] = sim[r, col]
    fig, ax = plots.subplots(figsize=(6.4, 5.8))
    im = ax.imshow(mosaic, cmap="viridis", vmin=-1, vmax=1, interpolation="nearest")
    centres = np.arange(g) * side + (g - 1) / 2
    step = max(1, g // 7)
    ax.set_xticks(centres[::step], [str(i) for i in range(0, g, step)])
    ax.set_yticks(centres[::step], [str(i) for i in range(0, g, step)])
    for set_label, key in ((ax.set_xlabel, "embedding.sim_xlabel"), (ax.set_ylabel, "embedding.sim_ylabel")):
        label, font = figure_words(key)
        set_label(label, **font)
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    label, font = figure_words("embedding.sim_colorbar")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).set_label(label, **font)
    fig.tight_layout()
    return plots.figure_png(fig)


c = ui.current()
cfg, a, model = c.model.config, c.analysis, c.model
P, C, g, N, T, D, PPC = (cfg.patch_size, cfg.num_channels, cfg.grid_size, cfg.num_patches, cfg.num_tokens,
                         cfg.hidden_size, cfg.patch_dim)
channel = (lambda ch: "RGB"[ch]) if C == 3 else str
patches = a.trace["patches"][0]  # (N, P·P·C)
embeddings = a.trace["patch_embeddings"][0]  # (N, D)
with_cls = a.trace["tokens_with_cls"][0]  # (N+1, D)
tokens = a.trace["tokens"][0]  # (N+1, D)
E = model.patch_embed.weight.detach().numpy()  # (D, P·P·C), as nn.Linear stores it: the paper's E transposed
pos = model.pos_embed.detach().numpy()[0]  # (N+1, D)
cls = model.cls_token.detach().numpy()[0, 0]  # (D,)


def patch_label(k: int) -> str:
    return t("embedding.patch_name", k=k, r=k // g, c=k % g)


def token_label(i: int) -> str:
    return t("embedding.cls_name") if i == 0 else t("embedding.token_name", i=i, patch=patch_label(i - 1))


def value_label(i: int) -> str:
    r, col, ch = value_name(i, P, C)
    return t("embedding.value_name", i=i, r=r, c=col, ch=channel(ch))


def dim_label(j: int) -> str:
    return t("embedding.dim_name", j=j)


def thin(n: int, keep: int, most: int) -> np.ndarray:
    """The indices of an axis of length n that are sent to the browser: all of them, or every k-th."""
    return np.arange(n) if n <= keep else np.arange(0, n, -(-n // most))


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
        ri, ci = thin(term.z.shape[0], **rows), thin(term.z.shape[1], **cols)
        thinned |= len(ri) < term.z.shape[0] or len(ci) < term.z.shape[1]
        ylab, xlab = [term.row_label(r) for r in ri], [term.col_label(c) for c in ci]
        m = float(np.abs(term.z).max()) or 1.0
        heat = plots.heatmap(term.z[np.ix_(ri, ci)], x=xlab, y=ylab, colorscale="RdBu_r", zmin=-m, zmax=m,
                             hovertemplate="%{y}<br>%{x}<br>%{z:.4f}").data[0]
        heat.showscale = False
        fig.add_trace(heat, row=1, col=i)
        for update, labels, idx, title in ((fig.update_xaxes, xlab, ci, term.xaxis),
                                           (fig.update_yaxes, ylab, ri, term.yaxis)):
            step = max(1, -(-len(labels) // 10))
            update(tickmode="array", tickvals=labels[::step], ticktext=[str(j) for j in idx[::step]],
                   title_text=title, title_font_size=11, row=1, col=i)
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
                           showarrow=False, font_size=30)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    fig.update_annotations(font_size=13, selector=dict(showarrow=False, yref="paper", y=1.0))
    return fig, thinned


def figure_words(key: str) -> tuple[str, dict]:
    """A label inside a matplotlib figure and its text properties: in a Hangul font where the label needs one, or
    the English label when this server has no such font (rather than empty boxes)."""
    text = t(key)
    if text.isascii():
        return text, {}
    font = hangul_font()
    return (text, {"fontfamily": font}) if font else (catalog("en")[key], {})


def thinned_note(thinned: bool) -> None:
    if thinned:
        st.caption(t("embedding.thinned"))


st.title(t("embedding.title", T=T, D=D))
st.markdown(t("embedding.intro", N=N, D=D, T=T))
st.latex(r"\mathbf{z}_0 = [\,\mathbf{x}_\text{class};\; \mathbf{x}^1_p\mathbf{E};\; \mathbf{x}^2_p\mathbf{E};\; \cdots;"
         r"\; \mathbf{x}^N_p\mathbf{E}\,] + \mathbf{E}_{pos}, \qquad \mathbf{E} \in \mathbb{R}^{(P^2 \cdot C)\times D},"
         r"\; \mathbf{E}_{pos} \in \mathbb{R}^{(N+1)\times D}")

# ---- the projection E ------------------------------------------------------------------------------------------
st.subheader(t("embedding.proj_title", PPC=PPC, D=D))
st.markdown(t("embedding.proj_intro", N=N, PPC=PPC, D=D))
fig, thinned = equation([
    Term(patches, patch_label, value_label, t("embedding.patches_title", N=N, PPC=PPC), t("embedding.axis_patch"),
         t("embedding.axis_value")),
    Term(E.T, value_label, dim_label, t("embedding.E_title", PPC=PPC, D=D), t("embedding.axis_value"),
         t("embedding.axis_dim")),
    Term(embeddings, patch_label, dim_label, t("embedding.emb_title", N=N, D=D), t("embedding.axis_patch"),
         t("embedding.axis_dim")),
], ["×", "="], rows=FULL, cols=FULL)
st.plotly_chart(fig, key="embedding_projection")
cols = st.columns(3)
with cols[0]:
    ui.shape("patches", a.trace["patches"].shape)
with cols[1]:
    ui.shape("patch_embed.weight", E.shape, t("embedding.shape_E_meaning"))
with cols[2]:
    ui.shape("patch_embeddings", a.trace["patch_embeddings"].shape)
st.caption(t("embedding.proj_caption", D=D))
thinned_note(thinned)

# ---- the cls token, prepended ----------------------------------------------------------------------------------
st.subheader(t("embedding.cls_title"))
st.markdown(t("embedding.cls_intro", D=D, B=BATCH_DEMO, N=N, T=T))
m = float(np.abs(cls).max()) or 1.0
strip = colormaps["RdBu_r"]((np.clip(cls, -m, m) / m + 1) / 2)[None, :, :3]  # (1, D, 3) colours of the cls vector
strip = (np.repeat(strip, BATCH_DEMO, axis=0) * 255).astype(np.uint8)  # (B, D, 3): one copy per picture
gap = np.full((1, D, 3), 255, np.uint8)
copies = np.concatenate([part for b in range(BATCH_DEMO) for part in (strip[b:b + 1], gap)][:-1])  # white gaps
st.image(np.repeat(np.repeat(copies, 14, axis=0), max(1, 640 // D), axis=1),
         caption=t("embedding.expand_caption", B=BATCH_DEMO, D=D))
st.code(f"cls = self.cls_token.expand(len(pixel_values), -1, -1)  # (1, 1, {D}) → (B, 1, {D})\n"
        f"with_cls = torch.cat([cls, patch_embeddings], dim=1)    # (B, 1, {D}) + (B, {N}, {D}) → (B, {T}, {D})",
        language="python")
st.caption(t("embedding.cls_check", ok="✓" if np.array_equal(with_cls[0], cls) else "✗"))

# ---- + position embeddings: a broadcast -------------------------------------------------------------------------
st.subheader(t("embedding.pos_title"))
st.markdown(t("embedding.pos_intro", T=T, D=D))
fig, thinned = equation([
    Term(with_cls, token_label, dim_label, "tokens_with_cls", t("embedding.axis_token"), t("embedding.axis_dim"), True),
    Term(pos, token_label, dim_label, "pos_embed (E_pos)", t("embedding.axis_token"), t("embedding.axis_dim"), True),
    Term(tokens, token_label, dim_label, "tokens (z₀)", t("embedding.axis_token"), t("embedding.axis_dim"), True),
], ["+", "="], rows=FULL, cols=SMALL, height=420)
st.plotly_chart(fig, key="embedding_broadcast")
cols = st.columns(3)
with cols[0]:
    ui.shape("tokens_with_cls", a.trace["tokens_with_cls"].shape, t("embedding.shape_batch"))
with cols[1]:
    ui.shape("pos_embed", tuple(model.pos_embed.shape), t("embedding.shape_one"))
with cols[2]:
    ui.shape("tokens", a.trace["tokens"].shape, t("embedding.shape_z0"))
st.markdown(t("embedding.broadcast", T=T, D=D, B=a.trace["tokens"].shape[0]))
thinned_note(thinned)
ui.source(ViT.embed)

# ---- what the position embeddings learned: paper Fig. 7 (centre) -----------------------------------------------
st.subheader(t("embedding.sim_title"))
st.markdown(t("embedding.sim_intro", g=g, N=N))
sim = a.position_similarity  # (g, g, g, g): [r, c] is the map of the patch at row r, column c
left, right = st.columns([3, 2])
with left:
    ui.figure(similarity_png(c.model_id, current_language()), "position_similarity", key="embedding_dl_sim")
    ui.shape("position_similarity", sim.shape, t("embedding.shape_sim"))


@st.fragment
def one_tile() -> None:
    k = st.slider(t("embedding.sim_pick"), 0, N - 1, min(N - 1, g * (g // 2) + g // 2), key="embedding_sim_patch")
    r, col = divmod(k, g)
    labels = [str(i) for i in range(g)]
    fig = plots.heatmap(sim[r, col], x=labels, y=labels, zmin=-1, zmax=1, height=380,
                        title=t("embedding.tile_title", k=k, r=r, c=col),
                        xaxis=t("embedding.sim_xlabel"), yaxis=t("embedding.sim_ylabel"),
                        hovertemplate=t("embedding.tile_hover", r=r, c=col))
    fig.add_shape(type="rect", x0=col - 0.5, x1=col + 0.5, y0=r - 0.5, y1=r + 0.5, line=dict(color="red", width=3))
    fig.update_layout(title_font_size=14)
    st.plotly_chart(fig, key="embedding_tile")
    st.caption(t("embedding.tile_caption"))


with right:
    one_tile()
st.markdown(t("embedding.sim_notice"))
ui.source(position_similarity)

# ---- what E learned: paper Fig. 7 (left) -------------------------------------------------------------------------
st.subheader(t("embedding.pca_title"))
comps, explained = filters_pca(c.model_id)  # (k, P, P, C), (k,)
k = len(comps)
st.markdown(t("embedding.pca_intro", D=D, PPC=PPC, k=k, P=P))
left, right = st.columns([3, 2])
with left:
    ui.figure(pca_png(c.model_id), "embedding_filters_pca", key="embedding_dl_pca")
with right:
    st.markdown(t("embedding.pca_notice", share=float(explained[:min(k, 3)].sum())))
ui.source(embedding_filters_pca)
