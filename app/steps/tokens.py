"""Step 8 — inside the tokens: what every token carries after every layer (issue 27).

Three lenses of vit_core/lens.py over the picture's trace, computed once per (picture, model) by app/core.lenses, so
that a step of the layer slider only indexes them: the logit lens (the model's own final LayerNorm and head read from
every patch), how alike the tokens are (cosine similarity), and the size of the residual stream. The layer (from 0,
the embeddings) and the patch are kept in the address as `layer` and `query` (app/links.py).
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from app import budget, core, describe, figures, labels, links, models, numbers, ranges, style, ui
from app.i18n import t
from app.labels import class_name
from vit_core import lens as lenses_
from vit_core.lens import logit_lens, residual_stream, similarity
from vit_core.views import centre_patch

SIDE = budget.OVERLAY_SIDE  # px: every map over the picture
MARKED = 3  # the largest tokens outlined on the residual stream's map
OUTLIER = 2.0  # a patch "stands out" when its norm is more than this many times the median patch's
PLAIN = {"displaylogo": False, "displayModeBar": False}


def main() -> None:
    c = ui.current()
    cfg = c.config
    L, N = cfg.num_hidden_layers, cfg.num_patches
    ui.heading("tokens")
    st.markdown(t("tokens.intro", L=L, N=N, T=cfg.num_tokens))
    keep_in_range(L, N, cfg.grid_size)
    st.fragment(lenses_in_view)(c)
    ui.source(logit_lens, similarity, residual_stream)


def lenses_in_view(c: ui.Current) -> None:
    """The layer slider and the three lenses at the layer in view: a fragment, so that a step of the slider or a
    patch picked reruns only this, not the sidebar and the page around it; and the address bar from it."""
    L = c.config.num_hidden_layers
    found = core.lenses(c.image_bytes, c.model_id)  # once per (picture, model): a step only indexes it
    layer = st.slider(t("tokens.layer_slider", L=L), 0, L, key="lens_layer", help=t("tokens.layer_help"))
    st.caption(t("tokens.layer_caption") if layer == 0 else t("tokens.layer_block", layer=layer, L=L))
    logit_lens_view(c, found, layer)
    similarity_view(c, found, layer)
    residual_view(c, found, layer)
    links.write(key="url_state_tokens", layer=layer, query=st.session_state["lens_patch"])


def keep_in_range(L: int, N: int, g: int) -> None:
    """Before the widgets exist: the layer (from a link, or from another model) within 0…L, the patch within 0…N−1."""
    ss = st.session_state
    layer, patch = ss.get("lens_layer"), ss.get("lens_patch")
    ss["lens_layer"] = L if not isinstance(layer, int) else ranges.clamped(layer, 0, L)
    ss["lens_patch"] = ranges.clamped(patch, 0, N - 1) if isinstance(patch, int) else centre_patch(g)


def on_pick(g: int) -> None:
    """A click on the similarity map picks that patch."""
    k = ranges.clicked(st.session_state.get("lens_sim_map"), 0, g * g - 1)
    if k is not None:
        st.session_state["lens_patch"] = k


def fmt(c: ui.Current) -> str:
    return style.picture_format(c.config.image_size, c.config.image_size)


def curve(fig, key: str, title: str, value=None) -> None:
    """A chart over the layers, its title above it (it wraps there, in a narrow column or on a phone); `value` writes
    its values in the "as text" table where they are not ordinary numbers (a share of patches)."""
    st.markdown(f"**{title}**")
    ui.chart(fig, key=key, title=title, value=value)


def map_chart(fig, key: str, title: str, sentences: str, rows: list[dict[str, str]], **kwargs) -> None:
    """A map drawn as a chart (hover, click) and its text alternative: what it shows, and a table of it."""
    ui.chart(fig, key=key, title=title, summary=sentences + "\n\n" + describe.markdown_table(rows), data=False,
             config=PLAIN, **kwargs)


# ---- 1. the logit lens ----------------------------------------------------------------------------------------------
def logit_lens_view(c: ui.Current, found: lenses_.Lenses, layer: int) -> None:
    cfg = c.config
    g, N, L = cfg.grid_size, cfg.num_patches, cfg.num_hidden_layers
    st.header(t("tokens.lens_title"), anchor="tokens-lens")
    if found.logit is None:
        st.info(models.explain(found.no_head))
        return
    lens = found.logit
    st.markdown(t("tokens.lens_intro"))
    votes = lens.votes[layer, 1:]  # (N,)
    names = {int(k): class_name(cfg, int(k)) for k in np.unique(lens.votes)}
    coloured = figures.class_colours(lens.votes[:, 1:])
    legend = [(names[k], style.CLASSES[i]) for i, k in enumerate(coloured)]
    if len(names) > len(coloured) or set(votes.tolist()) - set(coloured):
        legend.append((t("tokens.other_classes"), style.OTHER_CLASS))
    agree = int((votes == lens.prediction).sum())
    title = t("tokens.votes_title", layer=layer)
    left, right = st.columns(2, gap="medium")
    with left:
        picture = figures.votes_picture(c.analysis.model_view, votes.reshape(g, g), coloured, SIDE)
        hover = [f"{labels.patch(k, g, short=True)}: {names[int(v)]}" for k, v in enumerate(votes)]
        map_chart(figures.patch_picture_chart(picture, g, hover, legend), "lens_votes", title,
                  describe.votes(layer, votes, names, lens.prediction, int(lens.votes[layer, 0])),
                  describe.vote_rows(votes, names))
    with right:
        row = st.container(key=style.metric_grid("lens_metrics"))
        row.metric(t("tokens.agree_metric", answer=names[lens.prediction]), numbers.share(agree, N))
        row.metric(t("tokens.cls_metric"), names[int(lens.votes[layer, 0])])
        curve(figures.layer_curves([(t("tokens.agree_series"), lens.agreement)], t("tokens.layer_axis"),
                                   t("tokens.agree_axis"), t("tokens.agree_hover"), percent=True),
              "lens_agreement", t("tokens.agree_title"), value=lambda a: numbers.share(int(round(a * N)), N))
    st.caption(t("tokens.votes_caption", answer=names[lens.prediction]))
    st.markdown(f"**{t('tokens.cls_row_title')}**")
    st.dataframe({t("tokens.col_layer"): list(range(L + 1)),
                  t("tokens.col_cls"): [names[int(k)] for k in lens.votes[:, 0]],
                  t("tokens.col_agree"): [numbers.share(int(round(a * N)), N) for a in lens.agreement]},
                 hide_index=True, key="lens_table")
    ui.shape("logits", lens.logits.shape, t("tokens.shape_logits"))


# ---- 2. how alike the tokens grow -----------------------------------------------------------------------------------
def similarity_view(c: ui.Current, found: lenses_.Lenses, layer: int) -> None:
    cfg = c.config
    g, N = cfg.grid_size, cfg.num_patches
    sim = found.similarity
    st.header(t("tokens.sim_title"), anchor="tokens-similarity")
    st.markdown(t("tokens.sim_intro"))
    left, right = st.columns(2, gap="medium")
    with left:
        names = [labels.patch(k, g) for k in range(N)]  # formatted once, in this run's language
        patch = st.selectbox(t("tokens.patch_select", n=N - 1), range(N), key="lens_patch",
                             format_func=names.__getitem__)
        row = sim.cosine[layer, 1 + patch, 1:].reshape(g, g)  # (g, g): the patch against every patch
        picture = figures.values_picture(c.analysis.model_view, row, -1.0, 1.0, style.DIVERGING, SIDE,
                                         marked=(patch,))
        hover = [f"{labels.patch(k, g, short=True)}: {describe.number(float(v))}" for k, v in enumerate(row.flat)]
        title = t("tokens.sim_map_title", patch=labels.patch(patch, g), layer=layer)
        map_chart(figures.patch_picture_chart(picture, g, hover), "lens_sim_map", title,
                  describe.similar(layer, patch, row), describe.map_rows(row),
                  on_select=lambda: on_pick(g), selection_mode="points")
        st.caption(style.pointer_hint(t("tokens.click_hint"), t("tokens.tap_hint")), unsafe_allow_html=True)
        st.caption(t("tokens.sim_caption"))
    with right:
        curve(figures.layer_curves([(t("tokens.sim_series"), sim.patch_mean)], t("tokens.layer_axis"),
                                   t("tokens.sim_axis"), t("tokens.sim_hover")),
              "lens_sim_curve", t("tokens.sim_curve_title"))
        st.markdown(describe.alike_curve(sim.patch_mean))
    ui.shape("similarity", sim.cosine.shape, t("tokens.shape_similarity"))


# ---- 3. the residual stream -----------------------------------------------------------------------------------------
def residual_view(c: ui.Current, found: lenses_.Lenses, layer: int) -> None:
    cfg = c.config
    g = cfg.grid_size
    s = found.stream
    st.header(t("tokens.norm_title"), anchor="tokens-stream")
    st.markdown(t("tokens.norm_intro"))
    left, right = st.columns(2, gap="medium")
    with left:
        norms = s.norms[layer, 1:].reshape(g, g)
        largest = tuple(int(k) for k in s.largest[layer][:MARKED])
        picture = figures.values_picture(c.analysis.model_view, norms, 0.0, float(s.patch_max.max()), style.HEAT,
                                         SIDE, marked=largest)
        st.image(style.encoded(picture, fmt(c)), caption=t("tokens.norm_map_caption", layer=layer, k=len(largest)),
                 alt=describe.norm_map(layer, norms, largest), width=SIDE)
    with right:
        curve(figures.layer_curves([(t("tokens.series_cls"), s.cls), (t("tokens.series_median"), s.patch_median),
                                    (t("tokens.series_max"), s.patch_max)], t("tokens.layer_axis"),
                                   t("tokens.norm_axis"), t("tokens.norm_hover")),
              "lens_norms", t("tokens.norm_curve_title"))
    added = [(t("tokens.series_attn"), np.median(s.attention_added[:, 1:], axis=1)),
             (t("tokens.series_mlp"), np.median(s.mlp_added[:, 1:], axis=1)),
             (t("tokens.series_attn_cls"), s.attention_added[:, 0]), (t("tokens.series_mlp_cls"), s.mlp_added[:, 0])]
    curve(figures.layer_curves(added, t("tokens.block_axis"), t("tokens.norm_axis"), t("tokens.added_hover"),
                               first=1), "lens_added", t("tokens.added_title"))
    st.caption(t("tokens.added_caption"))
    registers(c, s)
    ui.shape("norms", s.norms.shape, t("tokens.shape_norms"))


def registers(c: ui.Current, s: lenses_.ResidualStream) -> None:
    """What Darcet et al. found in big pretrained ViTs, and what this model shows, in its own numbers."""
    g, L = c.config.grid_size, c.config.num_hidden_layers
    top, median = float(s.patch_max[-1]), float(s.patch_median[-1])
    ratio = top / median if median > 0 else float("inf")
    k = int(s.largest[-1][0])
    st.subheader(t("tokens.registers_title"))
    st.markdown(t("tokens.registers_paper"))
    here = dict(L=L, patch=labels.patch(k, g), top=describe.number(top), median=describe.number(median),
                ratio=describe.number(ratio), x=f"{OUTLIER:g}")
    st.info(t("tokens.registers_outlier" if ratio > OUTLIER else "tokens.registers_none", **here))


if __name__ == "__main__":  # Streamlit runs a page as __main__; tests import its sections without running it
    main()
