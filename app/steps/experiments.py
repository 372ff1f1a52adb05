"""Step 6 — experiments: change the input or the model, and watch what the ViT does.

Every change runs the real model again through `ViT.trace` with an `Intervention` (vit_core/interventions.py):
masked patches, shuffled patches, no position embeddings, ablated heads, in any combination, beside the unchanged
run. Below: the permutation test of the position embeddings, each head's share of the test accuracy, and the model
before and during its training. The numbers come from vit_core/experiments.py; this page only draws them.
"""
from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import core, describe, plots, style, ui
from app.i18n import t
from app.labels import class_name
from vit_core import experiments
from vit_core.interventions import FILLS, PRESETS, Intervention, preset
from vit_core.model import ViT, apply_to_pixels, head_keep

TOP = 3  # classes shown for each run
EXACT = 1e-5  # a difference this small is rounding: float32 sums in another order
PICTURE_SIDE = 224  # the model's input, shown this many pixels wide


def main() -> None:
    c = ui.current()
    ui.heading("experiments")
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
    ss["exp_mask"] = [k for k in ss.get("exp_mask", []) if isinstance(k, int) and 0 <= k < n_patches]
    ss["exp_heads"] = [h for h in ss.get("exp_heads", []) if h in head_names(layers, heads)]
    seed = ss.get("exp_seed")
    ss["exp_seed"] = int(seed) if isinstance(seed, (int, float)) and 0 <= seed <= 9999 else 0


def head_names(layers: int, heads: int) -> list[str]:
    """"1.1", "1.2", …: layer.head as the app shows them."""
    return [f"{layer}.{head}" for layer in range(1, layers + 1) for head in range(1, heads + 1)]


def controls(c: ui.Current) -> Intervention:
    cfg = c.config
    g, N, L, H = cfg.grid_size, cfg.num_patches, cfg.num_hidden_layers, cfg.num_attention_heads
    keep_valid(N, L, H)
    ss = st.session_state
    st.header(t("experiments.controls_title"))
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader(t("experiments.mask_title"))
        presets = {"none": t("experiments.preset_none"), **{k: t(f"experiments.preset_{k}") for k in PRESETS},
                   "own": t("experiments.preset_own")}
        st.selectbox(t("experiments.preset"), list(presets), format_func=presets.get, key="exp_preset",
                     on_change=on_preset, args=(g, c.analysis.model_view, cfg.patch_size))
        ui.chart(mask_chart(c.analysis.model_view, cfg.patch_size, ss["exp_mask"], t("experiments.mask_hover")),
                 key="exp_grid", title=t("experiments.mask_title"), data=False,
                 summary=describe.masked(ss["exp_mask"], cfg.grid_size), on_select=lambda: on_click(g),
                 selection_mode="points", config={"displaylogo": False, "displayModeBar": False})
        st.caption(style.pointer_hint(t("experiments.click_hint"), t("experiments.tap_hint")),
                   unsafe_allow_html=True)
        st.multiselect(t("experiments.mask_list", N=N - 1), list(range(N)), key="exp_mask",
                       on_change=lambda: st.session_state.update(exp_preset="own"),
                       placeholder=t("experiments.mask_none"))
        fills = {k: t(f"experiments.fill_{k}") for k in FILLS}
        st.radio(t("experiments.fill"), list(fills), format_func=fills.get, key="exp_fill", horizontal=True)
    with right:
        st.subheader(t("experiments.shuffle_title"))
        st.toggle(t("experiments.shuffle"), key="exp_shuffle")
        st.number_input(t("experiments.seed"), min_value=0, max_value=9999, step=1, key="exp_seed", width=200,
                        disabled=not ss.get("exp_shuffle"))
        st.subheader(t("experiments.pos_title"))
        st.toggle(t("experiments.nopos"), key="exp_nopos", help=t("experiments.nopos_help"))
        st.subheader(t("experiments.heads_title"))
        st.multiselect(t("experiments.heads", L=L, H=H), head_names(L, H), key="exp_heads",
                       placeholder=t("experiments.heads_none"))
        st.button(t("experiments.reset"), key="exp_reset", on_click=reset, icon=":material/restart_alt:")
    heads = tuple((int(h.split(".")[0]) - 1, int(h.split(".")[1]) - 1) for h in ss["exp_heads"])
    return Intervention(tuple(ss["exp_mask"]), ss.get("exp_fill") or "mean",
                        int(ss["exp_seed"]) if ss.get("exp_shuffle") else None, bool(ss.get("exp_nopos")), heads)


def mask_chart(view: np.ndarray, patch: int, masked: list[int], hover: str) -> go.Figure:
    """The model's view with the masked patches shaded and crossed; every patch a clickable point."""
    S = view.shape[0]
    g = S // patch
    rows, cols = np.divmod(np.arange(g * g), g)
    centre = lambda k: (k * patch + (patch - 1) / 2)  # noqa: E731 — a patch's middle, in view pixels
    shapes = []
    for k in masked:
        r, col = divmod(k, g)
        box = dict(x0=col * patch - 0.5, x1=(col + 1) * patch - 0.5, y0=r * patch - 0.5, y1=(r + 1) * patch - 0.5)
        shapes.append(dict(type="rect", **box, fillcolor="rgba(0,0,0,0.55)", line=dict(color=style.HIGHLIGHT_CSS,
                                                                                           width=2, dash="dot")))
        shapes.append(dict(type="line", x0=box["x0"], y0=box["y0"], x1=box["x1"], y1=box["y1"],
                           line=dict(color=style.HIGHLIGHT_CSS, width=1)))
    return go.Figure(
        [go.Image(source=data_uri(view), hoverinfo="skip"),  # an encoded picture: a few KB, not a list of pixels
         go.Scatter(x=centre(cols).astype(np.float32), y=centre(rows).astype(np.float32), mode="markers",
                    marker=dict(size=max(6, 300 // g), symbol="square", color="rgba(0,0,0,0)"),
                    text=[str(k) for k in range(g * g)], hovertemplate=hover + "<extra></extra>", showlegend=False,
                    selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)))],
        dict(shapes=shapes, height=340, margin=dict(l=0, r=0, t=0, b=0), hovermode="closest",
             clickmode="event+select", dragmode=False, template=style.NO_TEMPLATE,
             xaxis=dict(visible=False, range=(-0.5, S - 0.5), constrain="domain"),
             yaxis=dict(visible=False, range=(S - 0.5, -0.5), scaleanchor="x", constrain="domain")))


def data_uri(picture: np.ndarray) -> str:
    fmt = style.picture_format(picture.shape[1], picture.shape[0])
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(style.encoded(picture, fmt)).decode()


def shown(picture: np.ndarray, size: int) -> bytes:
    return style.encoded(picture, style.picture_format(size, size))


def on_preset(g: int, view: np.ndarray, patch: int) -> None:
    chosen = st.session_state.get("exp_preset")
    if chosen in PRESETS:
        st.session_state["exp_mask"] = list(preset(chosen, g, view, patch))
    elif chosen == "none":
        st.session_state["exp_mask"] = []


def on_click(g: int) -> None:
    """A click on a patch masks it, or unmasks it when it was masked."""
    points = ((st.session_state.get("exp_grid") or {}).get("selection") or {}).get("points") or []
    try:
        k = int(points[0]["text"]) if points else None
    except (KeyError, TypeError, ValueError):
        k = None
    if k is None or not 0 <= k < g * g:
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
    left, right = st.columns(2, gap="large")
    for column, run, title in ((left, base, t("experiments.unchanged")), (right, changed, t("experiments.changed"))):
        with column:
            st.subheader(title)
            pictures = st.columns(2)
            S = cfg.image_size
            pictures[0].image(shown(plots.upscale(run.model_input, PICTURE_SIDE), S),
                              output_format=style.picture_format(S, S), caption=t("experiments.input_caption"),
                              alt=describe.model_input(describe.intervention(
                                  run.intervention, t(f"experiments.fill_{run.intervention.fill}")), S))
            heat = experiments.cls_map(run, layer - 1, which)
            pictures[1].image(shown(plots.map_over(run.model_input, heat, PICTURE_SIDE), S),
                              output_format=style.picture_format(S, S),
                              caption=t(f"experiments.map_caption_{what}", layer=layer, head=head),
                              alt=describe.heat(t("alt.experiment_map", view=t(f"experiments.map_caption_{what}",
                                                                               layer=layer, head=head)), heat))
            ranked = experiments.top(run, TOP)
            if ranked:
                st.markdown("  \n".join(t("experiments.top_line", n=n + 1, name=class_name(cfg, i), p=p)
                                        for n, (i, p) in enumerate(ranked)))
    ch = experiments.change(base, changed)
    with st.container(key=style.metric_grid("experiments_change", wide=True)):
        if ch.top_before is not None:
            st.metric(t("experiments.m_top"), class_name(cfg, ch.top_after),
                      t("experiments.m_top_delta", before=class_name(cfg, ch.top_before)), delta_color="off",
                      delta_arrow="off")
            moved = (ch.prob_after - ch.prob_before) * 100
            st.metric(t("experiments.m_prob", name=class_name(cfg, ch.top_before)), f"{ch.prob_after:.1%}",
                      t("experiments.pp", v=moved), delta_color="off",
                      delta_arrow="auto" if abs(moved) >= 0.05 else "off")
            st.metric(t("experiments.m_logit"), f"{ch.largest_logit_change:.2e}")
        st.metric(t("experiments.m_attention"), f"{ch.largest_attention_change:.2e}")
    if changed.permutation is not None:
        st.caption(t("experiments.shuffled_caption"))


# ---- the permutation test ------------------------------------------------------------------------------------------
def permutation_test(c: ui.Current, iv: Intervention) -> None:
    """Shuffle with and without E_pos, everything else as chosen above."""
    cfg = c.config
    seed = int(st.session_state.get("exp_seed") or 0)
    base = Intervention(iv.mask, iv.fill, None, False, iv.ablate)
    pt = core.permutation_test(c.image_bytes, c.model_id, seed, base)
    st.header(t("experiments.perm_title"))
    st.markdown(t("experiments.perm_intro", seed=seed))
    name = lambda key: class_name(cfg, pt.top[key]) if pt.top[key] is not None else "—"  # noqa: E731
    rows = {t("experiments.perm_with"): (pt.logits_with_pos, pt.attention_with_pos, name("with_pos"),
                                         name("with_pos_shuffled")),
            t("experiments.perm_without"): (pt.logits_without_pos, pt.attention_without_pos, name("without_pos"),
                                            name("without_pos_shuffled"))}
    st.dataframe({t("experiments.perm_col_run"): list(rows),
                  t("experiments.perm_col_logits"): [f"{r[0]:.1e}" for r in rows.values()],
                  t("experiments.perm_col_attention"): [f"{r[1]:.1e}" for r in rows.values()],
                  t("experiments.perm_col_top"): [f"{r[2]} → {r[3]}" for r in rows.values()]},
                 hide_index=True, key="exp_perm_table")
    exact = pt.logits_without_pos <= EXACT and pt.attention_without_pos <= EXACT
    if cfg.labels and exact:
        st.success(t("experiments.perm_exact", logits=pt.logits_without_pos, attention=pt.attention_without_pos,
                     with_logits=pt.logits_with_pos, with_attention=pt.attention_with_pos))
    elif exact:
        st.success(t("experiments.perm_exact_nohead", attention=pt.attention_without_pos,
                     with_attention=pt.attention_with_pos))
    else:
        st.warning(t("experiments.perm_not_exact", logits=pt.logits_without_pos, attention=pt.attention_without_pos))
    st.caption(t("experiments.perm_caption", exact=EXACT))


# ---- each head's share -----------------------------------------------------------------------------------------
def head_importance(c: ui.Current) -> None:
    st.header(t("experiments.importance_title"))
    data = core.head_importance(c.model_id)
    if data is None:
        st.info(t("experiments.importance_none"))
        return
    table = data["table"]  # (L, H) accuracy with that head ablated
    drop = (table - data["accuracy"]) * 100  # percentage points
    L, H = table.shape
    st.markdown(t("experiments.importance_intro", n=data["images"], acc=data["accuracy"]))
    fig = plots.heatmap(drop, x=[str(h) for h in range(1, H + 1)], y=[str(layer) for layer in range(1, L + 1)],
                        hovertemplate=t("experiments.importance_hover"), colorscale="Cividis_r", height=340,
                        xaxis=t("experiments.importance_x"), yaxis=t("experiments.importance_y"),
                        layout=dict(xaxis=dict(type="category"), yaxis=dict(type="category")))
    fig.data[0].colorbar = dict(title=dict(text=t("experiments.importance_unit")), tickfont=dict(size=style.CHART_TICK))
    # each cell's value written in it, dark on the light (yellow) end of the scale and white on the dark end
    light = (drop - drop.max()) / min(drop.min() - drop.max(), -1e-9) > 0.5  # nearer the largest drop
    fig.add_trace(go.Scatter(x=[str(h) for _ in range(L) for h in range(1, H + 1)],
                             y=[str(layer + 1) for layer in range(L) for _ in range(H)], mode="text",
                             text=[points(v) for v in drop.reshape(-1)], hoverinfo="skip", showlegend=False,
                             textfont=dict(size=13, color=["black" if x else "white" for x in light.reshape(-1)])))
    left, right = st.columns([3, 2], gap="large")
    with left:
        ui.chart(fig, key="exp_importance", title=t("experiments.importance_title"), config={"displaylogo": False})
    with right:
        worst = np.unravel_index(np.argmin(table), table.shape)
        harmless = int((np.abs(drop) < 0.5).sum())
        st.markdown(t("experiments.importance_read", layer=worst[0] + 1, head=worst[1] + 1,
                      acc=float(table[worst]), drop=float(-drop[worst]), harmless=harmless, n=L * H))
        st.caption(t("experiments.importance_source", command=data.get("command", ""),
                     seconds=data.get("seconds", 0)))


def points(v: float) -> str:
    """A change in percentage points, one decimal, with its sign; a change that rounds to 0 is 0.0."""
    return "0.0" if round(v, 1) == 0 else f"{v:+.1f}"


# ---- before and during training ---------------------------------------------------------------------------------
def training(c: ui.Current) -> None:
    cfg = c.config
    st.header(t("experiments.training_title"))
    snaps = core.snapshots(c.model_id)
    epochs = [s.epoch for s in snaps]
    history = core.training_history(c.model_id)
    last = history[-1][0] if history else None
    if snaps and last is not None and last not in epochs:  # the end of the run is the model itself
        epochs.append(last)
    if not snaps:
        st.markdown(t("experiments.untrained_intro"))
        epochs = [0]
    else:
        st.markdown(t("experiments.training_intro", epochs=", ".join(map(str, epochs)), last=last))
    L = cfg.num_hidden_layers
    layer = int(st.session_state.get("exp_layer", L))
    head = int(st.session_state.get("exp_head", 1))
    epoch = (st.select_slider(t("experiments.epoch"), epochs, value=epochs[-1], key="exp_epoch",
                              format_func=lambda e: t("experiments.epoch_value", e=e)) if len(epochs) > 1 else None)
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(t("experiments.untrained"))
        one_model(c, core.snapshot_run(c.image_bytes, c.model_id, 0), layer, head, accuracy(snaps, 0), "before")
    with right:
        if epoch is None or epoch == last:
            st.subheader(t("experiments.trained", e=last) if last else t("experiments.trained_plain"))
            one_model(c, (core.experiment(c.image_bytes, c.model_id, Intervention()),
                          c.analysis.position_similarity), layer, head, dict(history).get(last), "after")
        else:
            st.subheader(t("experiments.after_epoch", e=epoch))
            one_model(c, core.snapshot_run(c.image_bytes, c.model_id, epoch), layer, head, accuracy(snaps, epoch),
                      "after")
    if history:
        ui.chart(accuracy_chart(history, epochs, epoch), key="exp_accuracy", title=t("alt.t_accuracy"),
                 config={"displaylogo": False})
        st.caption(t("experiments.accuracy_caption"))


def accuracy(snaps: list[experiments.Snapshot], epoch: int) -> float | None:
    return {s.epoch: s.test_acc for s in snaps}.get(epoch)


def one_model(c: ui.Current, run_and_sim, layer: int, head: int, acc: float | None, side: str) -> None:
    """One model of the training run on this picture: its guess, its test accuracy, where cls looks, and how alike
    the centre patch's position embedding is to every other."""
    cfg = c.config
    run, sim = run_and_sim
    ranked = experiments.top(run, 1)
    with st.container(key=style.metric_grid(f"exp_model_{side}")):
        if ranked:
            st.metric(t("experiments.m_guess"), class_name(cfg, ranked[0][0]), f"{ranked[0][1]:.1%}",
                      delta_color="off", delta_arrow="off")
        if acc is not None:
            st.metric(t("experiments.m_test_acc"), f"{acc:.1%}")
    pictures = st.columns(2)
    heat = experiments.cls_map(run, layer - 1, head - 1)
    S = cfg.image_size
    pictures[0].image(shown(plots.map_over(run.model_input, heat, PICTURE_SIDE), S),
                      output_format=style.picture_format(S, S),
                      caption=t("experiments.map_caption_head", layer=layer, head=head),
                      alt=describe.heat(t("alt.experiment_map", view=t("experiments.map_caption_head", layer=layer,
                                                                       head=head)), heat))
    g = cfg.grid_size
    centre = (g // 2) * g + g // 2
    pictures[1].image(style.png(plots.upscale(plots.coloured(sim.reshape(g * g, g, g)[centre], -1, 1),
                                              PICTURE_SIDE)), output_format="PNG",
                      caption=t("experiments.sim_caption", k=centre),
                      alt=describe.similarity_row(sim.reshape(g * g, g, g)[centre], centre))


def accuracy_chart(history: list[tuple[int, float]], marked: list[int], epoch: int | None) -> go.Figure:
    x, y = zip(*history)
    keep = [e for e in marked if e in x]
    at = [y[x.index(e)] for e in keep]
    return go.Figure(
        [go.Scatter(x=list(x), y=np.asarray(y, np.float32), mode="lines", name=t("experiments.acc_line"),
                    hovertemplate=t("experiments.acc_hover") + "<extra></extra>"),
         go.Scatter(x=keep, y=np.asarray(at, np.float32), mode="markers", name=t("experiments.acc_snapshots"),
                    marker=dict(size=[14 if e == epoch else 8 for e in keep], color=style.RED,
                                symbol="diamond"), hovertemplate=t("experiments.acc_hover") + "<extra></extra>")],
        dict(height=300, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.3),
             xaxis=dict(title=t("experiments.acc_x")),
             yaxis=dict(title=t("experiments.acc_y"), tickformat=".0%", range=[0, 1]), template=style.NO_TEMPLATE))


if __name__ == "__main__":  # Streamlit runs a page as __main__; tests import its sections without running it
    main()
