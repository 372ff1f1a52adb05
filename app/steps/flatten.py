"""Step 2 — every patch becomes one row of numbers: (B, N, P·P·C)."""
import inspect

import pandas as pd
import streamlit as st

from app import budget, core, describe, labels, numbers, plots, style, ui
from app.i18n import t
from vit_core import views
from vit_core.checkpoints import pick_tensors
from vit_core.patches import compare_methods, cpp_to_ppc, patchify, patchify_conv, patchify_loop, value_name

FIRST = 12  # how many values of a patch the tables list
METHODS = [("loop", patchify_loop, "c p1 p2"), ("einops", patchify, "p1 p2 c"), ("conv", patchify_conv, "c p1 p2")]


def main() -> None:
    c = ui.current()
    cfg = c.config
    ui.heading("flatten")
    st.markdown(t("flatten.intro", N=cfg.num_patches, P=cfg.patch_size, C=cfg.num_channels, PPC=cfg.patch_dim,
                  g=cfg.grid_size) + " " + style.pointer_hint(t("flatten.matrix_hint_hover"),
                                                              t("flatten.matrix_hint_tap")), unsafe_allow_html=True)
    patch_matrix(c)
    k = one_patch(c)
    ways = three_ways(c.image_bytes, c.model_id)
    three_implementations(c, ways, k)
    with st.container(key="flatten-check"):  # the check has no heading: its container is its anchor
        the_check(ways)
    the_permutation(c, ways)
    one_conv2d(c)
    ui.source(patchify, patchify_loop, patchify_conv, cpp_to_ppc, compare_methods, value_name, pick_tensors)


@st.cache_resource(max_entries=8, show_spinner=False)
def three_ways(image_bytes: bytes, model_id: str) -> views.ThreeWays:
    """The three patchify functions on the picture the model saw: once per picture and model, shared read-only."""
    return views.three_ways(core.analyse(image_bytes, model_id))


def patch_matrix(c: ui.Current) -> None:
    """The whole (N, P·P·C) matrix, or a window of it that stays inside the payload budget."""
    cfg, a = c.config, c.analysis
    N, PPC, P, C, g = cfg.num_patches, cfg.patch_dim, cfg.patch_size, cfg.num_channels, cfg.grid_size
    patches = a.trace.patches[0]  # (N, P·P·C)
    st.subheader(t("flatten.matrix_title", N=N, PPC=PPC), anchor="flatten-matrix")
    rows_shown, cols_shown = budget.patch_window(N, PPC)
    windowed = rows_shown < N or cols_shown < PPC
    r0 = c0 = 0
    if windowed:
        st.info(t("flatten.window_note", N=N, PPC=PPC, cells=N * PPC, rows=rows_shown, cols=cols_shown))
        left, right = st.columns(2)
        if rows_shown < N:
            r0 = left.slider(t("flatten.window_rows"), 0, N - rows_shown, 0, key="flatten_row0")
        if cols_shown < PPC:
            c0 = right.slider(t("flatten.window_cols"), 0, PPC - cols_shown, 0, step=C, key="flatten_col0")
    rows, cols = range(r0, r0 + rows_shown), range(c0, c0 + cols_shown)
    ylab, xlab = [labels.patch(k, g, short=True) for k in rows], [labels.value(i, P, C) for i in cols]
    zmin, zmax = style.symmetric(patches)
    fig = plots.heatmap(patches[r0:r0 + rows_shown, c0:c0 + cols_shown], x=xlab, y=ylab,
                        colorscale=style.DIVERGING, zmin=zmin, zmax=zmax, height=520,
                        xaxis=t("flatten.axis_values"), yaxis=t("flatten.axis_patches"),
                        hovertemplate="%{y}<br>%{x}<br>" + t("flatten.hover_value") + f" %{{z:{numbers.D3}}}",
                        layout=dict(xaxis=style.ticks(xlab, cols, 24), yaxis=style.ticks(ylab, rows, 24)))
    ui.chart(fig, key="flatten_matrix", title=t("flatten.matrix_title", N=N, PPC=PPC))
    if windowed:
        st.caption(t("flatten.window_caption", r0=r0, r1=r0 + rows_shown - 1, c0=c0, c1=c0 + cols_shown - 1,
                     N_last=N - 1, PPC_last=PPC - 1))
    st.caption(t("flatten.matrix_caption", mean=numbers.vector(a.preprocess.image_mean),
                 std=numbers.vector(a.preprocess.image_std)))
    ui.shape(t("flatten.shape_pixels"), a.trace.pixel_values.shape, t("flatten.shape_pixels_meaning"))
    ui.shape(t("flatten.shape_patches"), a.trace.patches.shape, t("flatten.shape_patches_meaning", P=P, C=C))


def one_patch(c: ui.Current) -> int:
    """One patch: where it is, its pixels, the pixels in one line, its row of the matrix. Returns the patch chosen."""
    cfg, a = c.config, c.analysis
    S, P, C, g, N, PPC = (cfg.image_size, cfg.patch_size, cfg.num_channels, cfg.grid_size, cfg.num_patches,
                          cfg.patch_dim)
    st.subheader(t("flatten.one_title"), anchor="flatten-patch")
    k = st.slider(t("flatten.pick_patch"), 0, N - 1, min(N // 2, N - 1), key="flatten_patch")
    pixels = views.patch_pixels(a, k)  # (P, P, 3) uint8
    left, mid, right = st.columns([1, 1, 2])
    with left:
        zoom = 280 / S
        box = tuple(v * zoom for v in views.patch_box(cfg, k))
        st.image(plots.crop_overlay(plots.upscale(a.model_view, 280), box),
                 caption=t("flatten.where_caption", patch=labels.patch(k, g)), alt=describe.patch_place(k, g))
    with mid:
        st.image(plots.upscale(pixels, 200), caption=t("flatten.pixels_caption", P=P),
                 alt=describe.patch_pixels(k, g, pixels))
    with right:
        line = pixels.reshape(1, P * P, 3)  # the pixels read row by row into one line
        st.image(line.repeat(40, axis=0).repeat(max(2, 640 // (P * P)), axis=1),
                 caption=t("flatten.line_caption", PP=P * P, C=C, PPC=PPC), alt=describe.patch_line(k, P, C))
        patches = a.trace.patches[0]  # (N, P·P·C)
        vec_labels = [labels.value(i, P, C) for i in range(PPC)]
        zmin, zmax = style.symmetric(patches)  # the colours of the matrix above
        fig = plots.heatmap(patches[k][None], x=vec_labels, y=[labels.patch(k, g, short=True)],
                            colorscale=style.DIVERGING, zmin=zmin, zmax=zmax, height=150,
                            hovertemplate="%{x}<br>" + t("flatten.hover_value") + f" %{{z:{numbers.D3}}}",
                            layout=dict(xaxis=style.ticks(vec_labels, range(PPC), 24),
                                        yaxis=dict(showticklabels=False)))
        fig.update_traces(showscale=False)
        ui.chart(fig, key="flatten_vector", title=t("alt.t_patch_values", k=k, PPC=PPC))
        st.caption(t("flatten.vector_caption", k=k, PPC=PPC, first=labels.place(0, 0, short=True),
                     second=labels.place(0, 1, short=True)) + " " + style.pointer_hint(
            t("flatten.vector_hint_hover"), t("flatten.vector_hint_tap")), unsafe_allow_html=True)
    return k


def three_implementations(c: ui.Current, ways: views.ThreeWays, k: int) -> None:
    """The code of the loop, einops and conv ways, and the first values of patch k that each returns."""
    P, C, n_first = c.config.patch_size, c.config.num_channels, min(FIRST, c.config.patch_dim)
    st.subheader(t("flatten.three_title"), anchor="flatten-ways")
    st.markdown(t("flatten.three_intro"))
    for column, (name, fn, order) in zip(st.columns(3), METHODS):
        with column:
            st.markdown(f"**`{fn.__name__}`** — `({order})`")
            st.code(inspect.getsource(fn), language="python", wrap_lines=True)
            st.caption(t("flatten.first_values", n=n_first, k=k))
            st.dataframe(pd.DataFrame({
                t("flatten.col_position"): range(n_first),
                t("flatten.col_meaning"): [labels.where(i, P, C, order) for i in range(n_first)],
                t("flatten.col_value"): getattr(ways, name)[k, :n_first],
            }), hide_index=True, height="content", key=f"flatten_first_{name}",
                column_config={t("flatten.col_value"): st.column_config.NumberColumn(format=numbers.PRINTF)})


def the_check(ways: views.ThreeWays) -> None:
    """compare_methods' largest differences: 0 after the permutation, large without it."""
    diffs = ways.differences
    st.markdown(t("flatten.check_intro"))
    row = st.container(key=style.metric_grid("flatten_check", wide=True))  # as many columns as fit
    for label, key in (("diff_loop_einops", "loop_vs_einops"), ("diff_conv_einops", "conv_vs_einops"),
                       ("diff_loop_conv", "loop_vs_conv"), ("diff_unpermuted", "einops_vs_loop_unpermuted")):
        row.metric(t(f"flatten.{label}"), numbers.number(diffs[key]))
    st.caption(t("flatten.check_caption"))


def the_permutation(c: ui.Current, ways: views.ThreeWays) -> None:
    """(p1 p2 c) versus (c p1 p2): what each position holds, and cpp_to_ppc between them."""
    P, C, PPC = c.config.patch_size, c.config.num_channels, c.config.patch_dim
    n_first = min(FIRST, PPC)
    st.subheader(t("flatten.perm_title"), anchor="flatten-order")
    st.markdown(t("flatten.perm_intro", P=P, C=C, PP=P * P))
    st.dataframe(pd.DataFrame({
        t("flatten.col_position"): range(n_first),
        t("flatten.col_ppc"): [labels.where(i, P, C) for i in range(n_first)],
        t("flatten.col_perm"): ways.permutation[:n_first],
        t("flatten.col_cpp"): [labels.where(i, P, C, "c p1 p2") for i in range(n_first)],
    }), hide_index=True, height="content", key="flatten_perm_table")
    st.caption(t("flatten.perm_caption", n=n_first, PPC=PPC))


def one_conv2d(c: ui.Current) -> None:
    """The real ViT: patchify and E in one Conv2d, whose weight the loader rearranges into E."""
    cfg = c.config
    st.subheader(t("flatten.conv_title"), anchor="flatten-conv")
    st.markdown(t("flatten.conv_intro", P=cfg.patch_size, C=cfg.num_channels, PPC=cfg.patch_dim, D=cfg.hidden_size))
    st.code('t = rearrange(t, "d c p1 p2 -> d (p1 p2 c)")  # Conv2d weight (D, C, P, P) → Linear over (p1 p2 c)',
            language="python")


if __name__ == "__main__":  # Streamlit runs a page as __main__; tests import its sections without running it
    main()
