"""Step 2 — every patch becomes one row of numbers: (B, N, P·P·C)."""
import inspect

import numpy as np
import pandas as pd
import streamlit as st
import torch

from app import core, plots, ui
from app.i18n import t
from vit_core.checkpoints import pick_tensors
from vit_core.patches import compare_methods, cpp_to_ppc, patchify, patchify_conv, patchify_loop, value_name

MAX_CELLS = 8192  # a patch matrix up to this size is sent whole (the teaching model's is 49 × 48)
WINDOW_COLS, WINDOW_CELLS = 192, 4608  # otherwise a window: 192 values (4 pixel rows of a 16×16 patch) × 24 patches
FIRST = 12  # how many values of a patch the tables list


@st.cache_data(max_entries=8, show_spinner=False)
def three_ways(image_bytes: bytes, model_id: str) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The three patchify functions on the picture the model saw, and compare_methods' differences."""
    x = torch.tensor(core.analyse(image_bytes, model_id).trace["pixel_values"])  # (1, C, S, S)
    p = core.get_model(model_id).config.patch_size
    outs = {"loop": patchify_loop(x, p), "einops": patchify(x, p), "conv": patchify_conv(x, p)}
    return {name: o[0].detach().numpy() for name, o in outs.items()}, compare_methods(x, p)


c = ui.current()
cfg, a = c.model.config, c.analysis
S, P, C, g, N, PPC = cfg.image_size, cfg.patch_size, cfg.num_channels, cfg.grid_size, cfg.num_patches, cfg.patch_dim
patches = a.trace["patches"][0]  # (N, P·P·C)
channel = (lambda ch: "RGB"[ch]) if C == 3 else str


def patch_label(k: int) -> str:
    return t("flatten.patch_name", k=k, r=k // g, c=k % g)


def where(i: int, order: str = "p1 p2 c") -> str:
    """The pixel and channel that value i of a flattened patch comes from, e.g. "row 1, col 1, G"."""
    r, col, ch = value_name(i, P, C, order)
    return t("flatten.where", r=r, c=col, ch=channel(ch))


def value_label(i: int) -> str:
    return t("flatten.value_name", i=i, where=where(i))


def sparse_ticks(fig, axis: str, labels: list[str], numbers, most: int = 24) -> None:
    """Tick a categorical axis with plain index numbers, at most `most` of them; the hover keeps the full names."""
    step = max(1, -(-len(labels) // most))
    ticks = dict(tickmode="array", tickvals=labels[::step], ticktext=[str(n) for n in list(numbers)[::step]])
    (fig.update_xaxes if axis == "x" else fig.update_yaxes)(**ticks)


st.title(t("flatten.title"))
st.markdown(t("flatten.intro", N=N, P=P, C=C, PPC=PPC, g=g))

# ---- the whole patch matrix, or a window of it -------------------------------------------------------------
st.subheader(t("flatten.matrix_title", N=N, PPC=PPC))
rows_shown, cols_shown = N, PPC
if N * PPC > MAX_CELLS:
    cols_shown = min(PPC, WINDOW_COLS)
    rows_shown = min(N, WINDOW_CELLS // cols_shown)
r0 = c0 = 0
if rows_shown < N or cols_shown < PPC:
    st.info(t("flatten.window_note", N=N, PPC=PPC, cells=N * PPC, rows=rows_shown, cols=cols_shown))
    left, right = st.columns(2)
    if rows_shown < N:
        r0 = left.slider(t("flatten.window_rows"), 0, N - rows_shown, 0, key="flatten_row0")
    if cols_shown < PPC:
        c0 = right.slider(t("flatten.window_cols"), 0, PPC - cols_shown, 0, step=C, key="flatten_col0")
rows, cols = range(r0, r0 + rows_shown), range(c0, c0 + cols_shown)
ylab, xlab = [patch_label(k) for k in rows], [value_label(i) for i in cols]
m = float(np.abs(patches).max()) or 1.0
fig = plots.heatmap(patches[r0:r0 + rows_shown, c0:c0 + cols_shown], x=xlab, y=ylab, colorscale="RdBu_r",
                    zmin=-m, zmax=m, height=520, xaxis=t("flatten.axis_values"), yaxis=t("flatten.axis_patches"),
                    hovertemplate="%{y}<br>%{x}<br>" + t("flatten.hover_value") + " %{z:.3f}")
sparse_ticks(fig, "x", xlab, cols)
sparse_ticks(fig, "y", ylab, rows)
st.plotly_chart(fig, key="flatten_matrix")
if rows_shown < N or cols_shown < PPC:
    st.caption(t("flatten.window_caption", r0=r0, r1=r0 + rows_shown - 1, c0=c0, c1=c0 + cols_shown - 1,
                 N_last=N - 1, PPC_last=PPC - 1))
st.caption(t("flatten.matrix_caption", mean=c.model.preprocess.image_mean, std=c.model.preprocess.image_std))
ui.shape(t("flatten.shape_pixels"), a.trace["pixel_values"].shape, t("flatten.shape_pixels_meaning"))
ui.shape(t("flatten.shape_patches"), a.trace["patches"].shape, t("flatten.shape_patches_meaning", P=P, C=C))

# ---- one patch: pixels → one line of numbers ------------------------------------------------------------------
st.subheader(t("flatten.one_title"))
k = st.slider(t("flatten.pick_patch"), 0, N - 1, min(N // 2, N - 1), key="flatten_patch")
r, col = divmod(k, g)
pixels = a.model_view[r * P:(r + 1) * P, col * P:(col + 1) * P]  # (P, P, 3) uint8
left, mid, right = st.columns([1, 1, 2])
with left:
    zoom = 280 / S
    st.image(plots.crop_overlay(plots.upscale(a.model_view, 280), (col * P * zoom, r * P * zoom,
                                                                    (col + 1) * P * zoom, (r + 1) * P * zoom)),
             caption=t("flatten.where_caption", k=k, r=r, c=col))
with mid:
    st.image(plots.upscale(pixels, 200), caption=t("flatten.pixels_caption", P=P))
with right:
    line = pixels.reshape(1, P * P, 3)  # the pixels read row by row into one line
    width = max(2, 640 // (P * P))
    st.image(np.repeat(np.repeat(line, 40, axis=0), width, axis=1),
             caption=t("flatten.line_caption", PP=P * P, C=C, PPC=PPC))
    vec_labels = [value_label(i) for i in range(PPC)]
    fig = plots.heatmap(patches[k][None], x=vec_labels, y=[patch_label(k)], colorscale="RdBu_r", zmin=-m, zmax=m,
                        height=150, hovertemplate="%{x}<br>" + t("flatten.hover_value") + " %{z:.3f}")
    sparse_ticks(fig, "x", vec_labels, range(PPC))
    fig.update_yaxes(showticklabels=False)
    fig.update_traces(showscale=False)  # the colours of the matrix above
    st.plotly_chart(fig, key="flatten_vector")
    st.caption(t("flatten.vector_caption", k=k, PPC=PPC))

# ---- three implementations -----------------------------------------------------------------------------------
st.subheader(t("flatten.three_title"))
st.markdown(t("flatten.three_intro"))
outs, diffs = three_ways(c.image_bytes, c.model_id)
n_first = min(FIRST, PPC)
methods = [("loop", patchify_loop, "c p1 p2"), ("einops", patchify, "p1 p2 c"), ("conv", patchify_conv, "c p1 p2")]
for column, (name, fn, order) in zip(st.columns(3), methods):
    with column:
        st.markdown(f"**`{fn.__name__}`** — `({order})`")
        st.code(inspect.getsource(fn), language="python", wrap_lines=True)
        st.caption(t("flatten.first_values", n=n_first, k=k))
        st.dataframe(pd.DataFrame({
            t("flatten.col_position"): range(n_first),
            t("flatten.col_meaning"): [where(i, order) for i in range(n_first)],
            t("flatten.col_value"): outs[name][k, :n_first],
        }), hide_index=True, height="content", key=f"flatten_first_{name}")

st.markdown(t("flatten.check_intro"))
cols4 = st.columns(4)
cols4[0].metric(t("flatten.diff_loop_einops"), f"{diffs['loop_vs_einops']:.3g}")
cols4[1].metric(t("flatten.diff_conv_einops"), f"{diffs['conv_vs_einops']:.3g}")
cols4[2].metric(t("flatten.diff_loop_conv"), f"{diffs['loop_vs_conv']:.3g}")
cols4[3].metric(t("flatten.diff_unpermuted"), f"{diffs['einops_vs_loop_unpermuted']:.3g}")
st.caption(t("flatten.check_caption"))

# ---- the permutation -------------------------------------------------------------------------------------------
st.subheader(t("flatten.perm_title"))
st.markdown(t("flatten.perm_intro", P=P, C=C, PP=P * P))
perm = cpp_to_ppc(P, C).numpy()  # (P·P·C,)
st.dataframe(pd.DataFrame({
    t("flatten.col_position"): range(n_first),
    t("flatten.col_ppc"): [where(i) for i in range(n_first)],
    t("flatten.col_perm"): perm[:n_first],
    t("flatten.col_cpp"): [where(i, "c p1 p2") for i in range(n_first)],
}), hide_index=True, height="content", key="flatten_perm_table")
st.caption(t("flatten.perm_caption", n=n_first, PPC=PPC))

# ---- the real ViT: patchify and E in one Conv2d ----------------------------------------------------------------
st.subheader(t("flatten.conv_title"))
st.markdown(t("flatten.conv_intro", P=P, C=C, PPC=PPC, D=cfg.hidden_size))
st.code('t = rearrange(t, "d c p1 p2 -> d (p1 p2 c)")  # Conv2d weight (D, C, P, P) → Linear over (p1 p2 c)',
        language="python")

ui.source(patchify, patchify_loop, patchify_conv, cpp_to_ppc, compare_methods, value_name, pick_tensors)
