"""Step 8 — inside the tokens: what every token carries after every layer (issue 27).

Three lenses of vit_core/lens.py over the picture's trace, computed once per (picture, model) by app/core.lenses: the
logit lens (the model's own final LayerNorm and head read from every patch), how alike the tokens are (cosine
similarity), and the size of the residual stream. What changes with the layer (the slider, the votes, the chosen
patch's similarity, the norms) is drawn in the browser by app/components/lens, sent every layer at once: a step of the
slider needs no server. The layer (from 0, the embeddings) and the patch are kept in the address as `layer` and
`query` (app/links.py).
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from app import core, describe, figures, labels, links, models, numbers, ranges, ui
from app.components import lens as lens_view
from app.i18n import t
from app.labels import class_name
from vit_core import lens as lenses_
from vit_core.lens import logit_lens, residual_stream, similarity
from vit_core.views import centre_patch

OUTLIER = 2.0  # a patch "stands out" when its norm is more than this many times the median patch's


def main() -> None:
    c = ui.current()
    cfg = c.config
    L, N = cfg.num_hidden_layers, cfg.num_patches
    ui.heading("tokens")
    st.markdown(t("tokens.intro", L=L, N=N, T=cfg.num_tokens))
    keep_in_range(L, N, cfg.grid_size)
    layer = st.session_state["lens_mount"] = st.session_state["lens_layer"]  # what the layer view opens on
    found = core.lenses(c.image_bytes, c.model_id)  # once per (picture, model)
    st.fragment(layer_slider)(c, found, layer)
    logit_lens_view(c, found, layer)
    similarity_view(c, found, layer)
    residual_view(c, found, layer)
    ui.source(logit_lens, similarity, residual_stream)


def layer_slider(c: ui.Current, found: lenses_.Lenses, layer: int) -> None:
    """The layer view's slider (app/components/lens: every part steps in the browser, from `layer` on) and the address
    bar: a fragment of its own, so that its report of the layer (debounced) reruns only these two, not the page."""
    lens_view.show("layer", c, found, layer)
    address_bar("url_state_tokens")


def address_bar(key: str) -> None:
    """The layer (its view's last report) and the patch in the address bar, from either fragment that changes them
    (each its own writer, `key`: the two write the same values)."""
    ss = st.session_state
    links.write(key=key, layer=ss["lens_layer"], query=ss["lens_patch"])


def keep_in_range(L: int, N: int, g: int) -> None:
    """Before the views exist: the layer (from a link, or another model) within 0…L, the patch within 0…N−1."""
    ss = st.session_state
    layer, patch = ss.get("lens_layer"), ss.get("lens_patch")
    ss["lens_layer"] = L if not isinstance(layer, int) else ranges.clamped(layer, 0, L)
    ss["lens_patch"] = ranges.clamped(patch, 0, N - 1) if isinstance(patch, int) else centre_patch(g)


def curve(fig, key: str, title: str, value=None) -> None:
    """A chart over the layers, its title above it (it wraps there, in a narrow column or on a phone); `value` writes
    its values in the "as text" table where they are not ordinary numbers (a share of patches)."""
    st.markdown(f"**{title}**")
    ui.chart(fig, key=key, title=title, value=value)


# ---- 1. the logit lens ----------------------------------------------------------------------------------------------
def logit_lens_view(c: ui.Current, found: lenses_.Lenses, layer: int) -> None:
    cfg = c.config
    N, L = cfg.num_patches, cfg.num_hidden_layers
    st.header(t("tokens.lens_title"), anchor="tokens-lens")
    if found.logit is None:
        st.info(models.explain(found.no_head))
        return
    lens = found.logit
    st.markdown(t("tokens.lens_intro"))
    names = {int(k): class_name(cfg, int(k)) for k in np.unique(lens.votes)}
    left, right = st.columns(2, gap="medium")
    with left:  # the votes at the layer in view, the share that agrees and the cls token's vote: in the browser
        lens_view.show("votes", c, found, layer)
    with right:
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
    sim = found.similarity
    st.header(t("tokens.sim_title"), anchor="tokens-similarity")
    st.markdown(t("tokens.sim_intro"))
    left, right = st.columns(2, gap="medium")
    with left:
        st.fragment(pick_patch)(c, found, layer)
        st.caption(t("tokens.sim_caption"))
    with right:
        curve(figures.layer_curves([(t("tokens.sim_series"), sim.patch_mean)], t("tokens.layer_axis"),
                                   t("tokens.sim_axis"), t("tokens.sim_hover")),
              "lens_sim_curve", t("tokens.sim_curve_title"))
        st.markdown(describe.alike_curve(sim.patch_mean))
    ui.shape("similarity", sim.cosine.shape, t("tokens.shape_similarity"))


def pick_patch(c: ui.Current, found: lenses_.Lenses, layer: int) -> None:
    """The patch, picked in the select box or on the map, and its similarity at every layer: a fragment, so that a
    pick reruns only this and the address bar."""
    g, N = c.config.grid_size, c.config.num_patches
    names = [labels.patch(k, g) for k in range(N)]  # formatted once, in this run's language
    st.selectbox(t("tokens.patch_select", n=N - 1), range(N), key="lens_patch", format_func=names.__getitem__)
    lens_view.show("similarity", c, found, layer)  # the patch's row at every layer; a click on it picks a patch
    address_bar("url_state_tokens_patch")


# ---- 3. the residual stream -----------------------------------------------------------------------------------------
def residual_view(c: ui.Current, found: lenses_.Lenses, layer: int) -> None:
    s = found.stream
    st.header(t("tokens.norm_title"), anchor="tokens-stream")
    st.markdown(t("tokens.norm_intro"))
    left, right = st.columns(2, gap="medium")
    with left:
        lens_view.show("norms", c, found, layer)
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
