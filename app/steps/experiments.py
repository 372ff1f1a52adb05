"""Step 6 — experiments: change the input or the model, and watch what the ViT does.

Every change runs the real model again through `ViT.trace` with an `Intervention` (vit_core/interventions.py):
masked patches, shuffled patches, no position embeddings, ablated heads, in any combination, beside the unchanged
run. Below: the permutation test of the position embeddings, each head's share of the test accuracy, and the model
before and during its training. The numbers come from vit_core/experiments.py; this page only draws them.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from app import core, describe, figures, labels, notes, numbers, plots, ranges, style, ui
from app.i18n import t
from app.labels import class_name
from vit_core import experiments
from vit_core.interventions import FILLS, PRESETS, Intervention, parse_heads, preset
from vit_core.model import ViT, apply_to_pixels, head_keep

TOP = 3  # classes shown for each run
PICTURE_SIDE = 224  # the model's input, shown this many pixels wide


def main() -> None:
    c = ui.current()
    ui.heading("experiments")
    notes.classes(c)  # a picture none of the model's classes: said, with one click to one that is
    notes.what_the_model_saw(c)
    st.markdown(t("experiments.intro"))
    iv = controls(c)
    base = core.experiment(c.image_bytes, c.model_id, Intervention())
    changed = core.experiment(c.image_bytes, c.model_id, iv)
    side_by_side(c, base, changed)
    permutation_test(c, iv)
    head_importance(c)
    training(c)
    ui.source(ViT.trace, apply_to_pixels, head_keep, experiments.permutation_test)


# ---- the controls ------------------------------------------------------------------------------------------------
def keep_valid(n_patches: int, layers: int, heads: int) -> None:
    """Before the widgets exist: drop patches and heads this model does not have (after a change of model)."""
    ss = st.session_state
    ss["exp_mask"] = [k for k in ss.get("exp_mask", []) if ranges.whole(k, 0, n_patches - 1) is not None]
    ss["exp_heads"] = [h for h in ss.get("exp_heads", []) if h in head_names(layers, heads)]
    ss["exp_seed"] = ranges.whole(ss.get("exp_seed"), 0, 9999) or 0


def head_names(layers: int, heads: int) -> list[str]:
    """"1.1", "1.2", …: layer.head as the app shows them."""
    return [f"{layer}.{head}" for layer in range(1, layers + 1) for head in range(1, heads + 1)]


def controls(c: ui.Current) -> Intervention:
    cfg = c.config
    g, N, L, H = cfg.grid_size, cfg.num_patches, cfg.num_hidden_layers, cfg.num_attention_heads
    keep_valid(N, L, H)
    ss = st.session_state
    st.header(t("experiments.controls_title"), anchor="experiments-changes")
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader(t("experiments.mask_title"))
        presets = {"none": t("experiments.preset_none"), **{k: t(f"experiments.preset_{k}") for k in PRESETS},
                   "own": t("experiments.preset_own")}
        st.selectbox(t("experiments.preset"), list(presets), format_func=presets.get, key="exp_preset",
                     on_change=on_preset, args=(g, c.analysis.model_view, cfg.patch_size))
        ui.chart(figures.mask_chart(c.analysis.model_view, cfg.patch_size, ss["exp_mask"], t("experiments.mask_hover")),
                 key="exp_grid", title=t("experiments.mask_title"), data=False,
                 summary=describe.masked(ss["exp_mask"], cfg.grid_size), on_select=lambda: on_click(g),
                 selection_mode="points", config={"displaylogo": False, "displayModeBar": False})
        st.caption(style.pointer_hint(t("experiments.click_hint"), t("experiments.tap_hint")),
                   unsafe_allow_html=True)
        st.multiselect(t("experiments.mask_list", N=N - 1), list(range(N)), key="exp_mask",
                       on_change=lambda: st.session_state.update(exp_preset="own"),
                       placeholder=t("experiments.mask_none"))
        fills = fill_names(c)
        st.radio(t("experiments.fill"), list(fills), format_func=fills.get, key="exp_fill", horizontal=True,
                 help=t("experiments.fill_help", rgb=mean_rgb(c)))
    with right:
        st.subheader(t("experiments.shuffle_title"))
        st.toggle(t("experiments.shuffle"), key="exp_shuffle")
        st.number_input(t("experiments.seed"), min_value=0, max_value=9999, step=1, key="exp_seed", width=200,
                        disabled=not ss.get("exp_shuffle"))
        st.subheader(t("experiments.pos_title"))
        st.toggle(t("experiments.nopos"), key="exp_nopos", help=t("experiments.nopos_help"))
        st.subheader(t("experiments.heads_title"))
        # no "Select all": one tap would switch off every head, never the experiment (the masks keep theirs: mask
        # everything, then unmask the few patches to keep)
        st.multiselect(t("experiments.heads", L=L, H=H), head_names(L, H), key="exp_heads",
                       placeholder=t("experiments.heads_none"), select_all=False)
        st.button(t("experiments.reset"), key="exp_reset", on_click=reset, icon=":material/restart_alt:")
    return Intervention(tuple(ss["exp_mask"]), ss.get("exp_fill") or "mean",
                        int(ss["exp_seed"]) if ss.get("exp_shuffle") else None, bool(ss.get("exp_nopos")),
                        parse_heads(",".join(ss["exp_heads"]), L, H))


def fill_names(c: ui.Current) -> dict[str, str]:
    """Each fill of FILLS as the page names it, the `mean` fill with its colour (mean_rgb)."""
    return {k: t(f"experiments.fill_{k}", rgb=mean_rgb(c)) for k in FILLS}


def mean_rgb(c: ui.Current) -> str:
    """The colour of the `mean` fill, "128, 128, 128": 0 in the normalised input is the preprocessing's mean colour
    (experiments.mean_fill), mid grey for the teaching model, never black."""
    return ", ".join(map(str, experiments.mean_fill(c.model.preprocess)))


def on_preset(g: int, view: np.ndarray, patch: int) -> None:
    chosen = st.session_state.get("exp_preset")
    if chosen in PRESETS:
        st.session_state["exp_mask"] = list(preset(chosen, g, view, patch))
    elif chosen == "none":
        st.session_state["exp_mask"] = []


def on_click(g: int) -> None:
    """A click on a patch masks it, or unmasks it when it was masked."""
    k = ranges.clicked(st.session_state.get("exp_grid"), 0, g * g - 1)
    if k is None:
        return
    masked = list(st.session_state.get("exp_mask", []))
    st.session_state["exp_mask"] = sorted(set(masked) ^ {k})
    st.session_state["exp_preset"] = "own"


def reset() -> None:
    ss = st.session_state
    ss.update(exp_preset="none", exp_mask=[], exp_fill="mean", exp_shuffle=False, exp_seed=0, exp_nopos=False,
              exp_heads=[])


# ---- the unchanged run beside the changed one ---------------------------------------------------------------------
def side_by_side(c: ui.Current, base: experiments.Run, changed: experiments.Run) -> None:
    cfg = c.config
    L, H = cfg.num_hidden_layers, cfg.num_attention_heads
    st.header(t("experiments.compare_title"))
    if changed.intervention.is_none:
        st.info(t("experiments.nothing_changed"))
    views_ = {"head": t("experiments.view_head"), "mean": t("experiments.view_mean"),
              "rollout": t("experiments.view_rollout")}
    picks = st.columns([2, 1, 1], gap="medium")
    with picks[0]:
        what = st.radio(t("experiments.view"), list(views_), format_func=views_.get, key="exp_view", horizontal=True)
    with picks[1]:
        layer = st.slider(t("experiments.layer", L=L), 1, L, L, key="exp_layer") if L > 1 else 1
    with picks[2]:
        head = st.slider(t("experiments.head", H=H), 1, H, 1, key="exp_head", disabled=what != "head") if H > 1 else 1
    which = head - 1 if what == "head" else None if what == "mean" else "rollout"
    caption = t(f"experiments.map_caption_{what}", layer=layer, head=head)
    left, right = st.columns(2, gap="large")
    for column, run, title in ((left, base, t("experiments.unchanged")), (right, changed, t("experiments.changed"))):
        with column:
            one_run(c, run, title, experiments.cls_map(run, layer - 1, which), caption)
    what_changed(c, experiments.change(base, changed))
    if changed.permutation is not None:
        st.caption(t("experiments.shuffled_caption"))


def one_run(c: ui.Current, run: experiments.Run, title: str, heat: np.ndarray, caption: str) -> None:
    """One run: the picture the model saw, where its cls token looks (`heat`), and its most likely classes."""
    cfg = c.config
    st.subheader(title)
    pictures = st.columns(2)
    S = cfg.image_size
    pictures[0].image(shown(plots.upscale(run.model_input, PICTURE_SIDE), S), output_format=style.picture_format(S, S),
                      caption=t("experiments.input_caption"),
                      alt=describe.model_input(describe.intervention(
                          run.intervention, fill_names(c)[run.intervention.fill]), S))
    cls_picture(pictures[1], run, heat, caption)
    ranked = experiments.top(run, TOP)
    if ranked:
        st.markdown("  \n".join(t("experiments.top_line", n=n + 1, name=class_name(cfg, i), p=numbers.percent(p))
                                for n, (i, p) in enumerate(ranked)))


def cls_picture(where, run: experiments.Run, heat: np.ndarray, caption: str) -> None:
    """Where the cls token looks in `run` (`heat`: experiments.cls_map), over the picture the model saw."""
    S = run.model_input.shape[0]
    where.image(shown(plots.map_over(run.model_input, heat, PICTURE_SIDE), S), output_format=style.picture_format(S, S),
                caption=caption, alt=describe.heat(t("alt.experiment_map", view=caption), heat))


def shown(picture: np.ndarray, size: int) -> bytes:
    """`picture` encoded as style.picture_format says for a model's input `size` pixels wide (PNG or JPEG)."""
    return style.encoded(picture, style.picture_format(size, size))


def what_changed(c: ui.Current, ch: experiments.Change) -> None:
    """The changed run against the unchanged one: the predicted class, its probability, the logits, the attention."""
    cfg = c.config
    with st.container(key=style.metric_grid("experiments_change", wide=True)):
        if ch.top_before is not None:
            st.metric(t("experiments.m_top"), class_name(cfg, ch.top_after),
                      t("experiments.m_top_delta", before=class_name(cfg, ch.top_before)), delta_color="off",
                      delta_arrow="off")
            st.metric(t("experiments.m_prob", name=class_name(cfg, ch.top_before)), numbers.percent(ch.prob_after),
                      t("experiments.pp", v=figures.points(ch.points)), delta_color="off",
                      delta_arrow="auto" if figures.points(ch.points) != "0" else "off")  # no arrow beside "0"
            st.metric(t("experiments.m_logit"), numbers.roundoff(ch.largest_logit_change))
        st.metric(t("experiments.m_attention"), numbers.roundoff(ch.largest_attention_change))


# ---- the permutation test ------------------------------------------------------------------------------------------
def permutation_test(c: ui.Current, iv: Intervention) -> None:
    """Shuffle with and without E_pos, everything else as chosen above."""
    cfg = c.config
    seed = int(st.session_state.get("exp_seed") or 0)
    pt = core.permutation_test(c.image_bytes, c.model_id, seed,
                               dataclasses.replace(iv, shuffle_seed=None, no_pos_embed=False))
    st.header(t("experiments.perm_title"), anchor="experiments-permutation")
    st.markdown(t("experiments.perm_intro", seed=seed))
    name = lambda key: class_name(cfg, pt.top[key]) if pt.top[key] is not None else "—"  # noqa: E731
    rows = {t("experiments.perm_with"): (pt.logits_with_pos, pt.attention_with_pos, name("with_pos"),
                                         name("with_pos_shuffled")),
            t("experiments.perm_without"): (pt.logits_without_pos, pt.attention_without_pos, name("without_pos"),
                                            name("without_pos_shuffled"))}
    st.dataframe({t("experiments.perm_col_run"): list(rows),
                  t("experiments.perm_col_logits"): [numbers.roundoff(r[0]) for r in rows.values()],
                  t("experiments.perm_col_attention"): [numbers.roundoff(r[1]) for r in rows.values()],
                  t("experiments.perm_col_top"): [f"{r[2]} → {r[3]}" for r in rows.values()]},
                 hide_index=True, key="exp_perm_table")
    if cfg.labels and pt.exact:
        st.success(t("experiments.perm_exact", logits=numbers.roundoff(pt.logits_without_pos),
                     attention=numbers.roundoff(pt.attention_without_pos),
                     with_logits=numbers.number(pt.logits_with_pos),
                     with_attention=numbers.number(pt.attention_with_pos)))
    elif pt.exact:
        st.success(t("experiments.perm_exact_nohead", attention=numbers.roundoff(pt.attention_without_pos),
                     with_attention=numbers.number(pt.attention_with_pos)))
    else:
        st.warning(t("experiments.perm_not_exact", logits=numbers.roundoff(pt.logits_without_pos),
                     attention=numbers.roundoff(pt.attention_without_pos)))
    st.caption(t("experiments.perm_caption", exact=numbers.roundoff(experiments.EXACT)))


# ---- each head's share -----------------------------------------------------------------------------------------
def head_importance(c: ui.Current) -> None:
    st.header(t("experiments.importance_title"), anchor="experiments-heads")
    data = core.head_importance(c.model_id)
    if data is None:
        st.info(t("experiments.importance_none"))
        return
    costs = experiments.head_costs(data["accuracy"], data["table"])
    st.markdown(t("experiments.importance_intro", n=data["images"], acc=numbers.percent(data["accuracy"])))
    left, right = st.columns([3, 2], gap="large")
    with left:
        ui.chart(figures.importance_chart(costs), key="exp_importance", title=t("experiments.importance_title"),
                 cell=labels.head, config={"displaylogo": False})
    with right:
        layer, head = costs.worst
        st.markdown(t("experiments.importance_read", layer=layer + 1, head=head + 1,
                      acc=numbers.percent(costs.worst_accuracy),
                      drop=numbers.number(costs.worst_drop), harmless=costs.harmless, n=costs.ablated.size))
        st.caption(t("experiments.importance_source", command=data.get("command", ""),
                     seconds=data.get("seconds", 0)))


# ---- before and during training ---------------------------------------------------------------------------------
def training(c: ui.Current) -> None:
    cfg = c.config
    st.header(t("experiments.training_title"), anchor="experiments-training")
    run = experiments.training_run(core.snapshots(c.model_id), core.training_history(c.model_id))
    if not run.snapshots:
        st.markdown(t("experiments.untrained_intro"))
    else:
        st.markdown(t("experiments.training_intro", epochs=", ".join(map(str, run.epochs)), last=run.last))
    L = cfg.num_hidden_layers
    layer = int(st.session_state.get("exp_layer", L))
    head = int(st.session_state.get("exp_head", 1))
    epoch = (st.select_slider(t("experiments.epoch"), list(run.epochs), value=run.epochs[-1], key="exp_epoch",
                              format_func=lambda e: t("experiments.epoch_value", e=e))
             if len(run.epochs) > 1 else None)
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(t("experiments.untrained"))
        one_model(c, core.snapshot_run(c.image_bytes, c.model_id, 0), layer, head, run.snapshots.get(0), "before")
    with right:
        if epoch is None or epoch == run.last:
            st.subheader(t("experiments.trained", e=run.last) if run.last else t("experiments.trained_plain"))
            one_model(c, (core.experiment(c.image_bytes, c.model_id, Intervention()),
                          c.analysis.position_similarity), layer, head, run.final_accuracy, "after")
        else:
            st.subheader(t("experiments.after_epoch", e=epoch))
            one_model(c, core.snapshot_run(c.image_bytes, c.model_id, epoch), layer, head, run.snapshots.get(epoch),
                      "after")
    if run.history:
        ui.chart(figures.accuracy_chart(run, epoch), key="exp_accuracy", title=t("alt.t_accuracy"),
                 config={"displaylogo": False})
        st.caption(t("experiments.accuracy_caption"))


def one_model(c: ui.Current, run_and_sim, layer: int, head: int, acc: float | None, side: str) -> None:
    """One model of the training run on this picture: its guess, its test accuracy, where cls looks, and how alike
    the centre patch's position embedding is to every other."""
    cfg = c.config
    run, sim = run_and_sim
    ranked = experiments.top(run, 1)
    with st.container(key=style.metric_grid(f"exp_model_{side}")):
        if ranked:
            st.metric(t("experiments.m_guess"), class_name(cfg, ranked[0][0]), numbers.percent(ranked[0][1]),
                      delta_color="off", delta_arrow="off")
        if acc is not None:
            st.metric(t("experiments.m_test_acc"), numbers.percent(acc))
    pictures = st.columns(2)
    cls_picture(pictures[0], run, experiments.cls_map(run, layer - 1, head - 1),
                t("experiments.map_caption_head", layer=layer, head=head))
    centre = experiments.centre_similarity(sim)
    pictures[1].image(style.png(plots.upscale(plots.coloured(centre.similarity, -1, 1), PICTURE_SIDE)),
                      output_format="PNG", caption=t("experiments.sim_caption", k=centre.patch),
                      alt=describe.similarity_row(centre.similarity, centre.patch))


if __name__ == "__main__":  # Streamlit runs a page as __main__; tests import its sections without running it
    main()
