"""Step 9 — explanations you can trust: five relevance maps for any target class, two classes side by side, the
deletion and insertion curves of the picture on screen, the measured faithfulness table, and where one head's
queries and keys lie.

The numbers come from vit_core/explain.py (cached in app/core.py); this page only draws them.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import core, describe, labels, notes, numbers, plots, ranges, style, ui
from app.i18n import t
from app.labels import class_name
from vit_core.explain import METHODS, curves, qk_geometry, relevance

PICTURE_SIDE = 196  # each map over the model's view, this many pixels wide
CLASS_SPECIFIC = ("relevance", "gradient")  # the methods whose map depends on the target


def main() -> None:
    c = ui.current()
    ui.heading("explanations")
    notes.classes(c)  # a picture none of the model's classes: said, with one click to one that is
    notes.what_the_model_saw(c)
    st.markdown(t("explanations.intro"))
    if c.config.num_labels:
        target, other = pick_classes(c)
        e = core.explanations(c.image_bytes, c.model_id, target)
        method_maps(c, e)
        if other is not None:
            two_classes(c, e, core.explanations(c.image_bytes, c.model_id, other))
        this_picture(c, e)
        measured(c)
    else:
        st.info(t("explanations.no_head"))
    geometry(c)
    ui.source(relevance, curves, qk_geometry)


def fmt(c: ui.Current) -> str:
    """PNG or JPEG for a map over the model's view (style.picture_format)."""
    return style.picture_format(c.config.image_size, c.config.image_size)


def picture(c: ui.Current, heat: np.ndarray, patch: int | None = None) -> bytes:
    return style.encoded(plots.map_over(c.analysis.model_view, heat, PICTURE_SIDE, patch), fmt(c))


# ---- the target, and the maps -------------------------------------------------------------------------------------
def pick_classes(c: ui.Current) -> tuple[int, int | None]:
    cfg = c.config
    n = cfg.num_labels
    predicted = int(c.analysis.probs.argmax())
    ss = st.session_state
    if ranges.whole(ss.get("expl_target"), 0, n - 1) is None:
        ss["expl_target"] = predicted
    if ss.get("expl_other") is not None and ranges.whole(ss["expl_other"], 0, n - 1) is None:
        ss["expl_other"] = None
    names = {i: class_name(cfg, i) + (t("explanations.predicted_mark") if i == predicted else "") for i in range(n)}
    left, right = st.columns(2)
    target = left.selectbox(t("explanations.target"), list(range(n)), format_func=names.get, key="expl_target")
    other = right.selectbox(t("explanations.other"), [None, *range(n)], key="expl_other",
                            format_func=lambda i: t("explanations.other_none") if i is None else names[i])
    return target, (None if other == target else other)


def method_maps(c: ui.Current, e) -> None:
    st.header(t("explanations.maps_title", name=class_name(c.config, e.target), p=numbers.percent(e.probs[e.target])),
              anchor="explanations-maps")
    columns = st.columns(len(METHODS))
    for column, method in zip(columns, METHODS):
        with column:
            st.image(picture(c, e.maps[method]), output_format=fmt(c), caption=t(f"explanations.m_{method}"),
                     alt=describe.heat(t("alt.explanation", method=t(f"explanations.m_{method}"),
                                         name=class_name(c.config, e.target)), e.maps[method]))
    st.caption(t("explanations.maps_caption"))
    with st.expander(t("explanations.methods_title")):
        st.markdown(t("explanations.methods_body"))


def two_classes(c: ui.Current, a, b) -> None:
    cfg = c.config
    st.header(t("explanations.compare_title", a=class_name(cfg, a.target), b=class_name(cfg, b.target)),
              anchor="explanations-compare")
    st.markdown(t("explanations.compare_intro"))
    for method in CLASS_SPECIFIC:
        diff = a.maps[method] - b.maps[method]
        m = float(np.abs(diff).max()) or 1.0
        cols = st.columns(3)
        name = t(f"explanations.m_{method}")
        for col, side in ((cols[0], a), (cols[1], b)):
            col.image(picture(c, side.maps[method]), output_format=fmt(c),
                      caption=t("explanations.for_class", name=class_name(cfg, side.target), method=name),
                      alt=describe.heat(t("alt.explanation", method=name, name=class_name(cfg, side.target)),
                                        side.maps[method]))
        cols[2].image(style.png(plots.upscale(plots.coloured(diff, -m, m, "coolwarm"), PICTURE_SIDE)),
                      output_format="PNG",
                      caption=t("explanations.difference", a=class_name(cfg, a.target), b=class_name(cfg, b.target)),
                      alt=describe.difference(diff, name, class_name(cfg, a.target), class_name(cfg, b.target)))


# ---- faithfulness ------------------------------------------------------------------------------------------------
def this_picture(c: ui.Current, e) -> None:
    st.header(t("explanations.curves_title"), anchor="explanations-curves")
    st.markdown(t("explanations.curves_intro"))
    names = {m: t(f"explanations.m_{m}") for m in METHODS}
    method = st.radio(t("explanations.curves_method"), list(METHODS), format_func=names.get, key="expl_method",
                      horizontal=True)
    pc = core.picture_curves(c.image_bytes, c.model_id, method, e.target)
    N = len(pc.deletion) - 1
    x = (np.arange(N + 1) / N).astype(np.float32)
    lines = [(pc.deletion, "deletion", "solid", style.RED), (pc.insertion, "insertion", "solid", style.BLUE),
             (pc.random_deletion, "random_deletion", "dash", style.RED),
             (pc.random_insertion, "random_insertion", "dash", style.BLUE)]
    fig = go.Figure(
        [go.Scatter(x=x, y=y.astype(np.float32), mode="lines", line=dict(dash=dash, color=colour),
                    name=t(f"explanations.curve_{key}", auc=numbers.number(pc.areas[key])),
                    hovertemplate=t("explanations.curve_hover") + "<extra></extra>")
         for y, key, dash, colour in lines],
        dict(height=340, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.3),
             xaxis=dict(title=t("explanations.curve_x"), tickformat=".0%"),
             yaxis=dict(title=t("explanations.curve_y", name=class_name(c.config, e.target)), range=[0, 1]),
             template=style.NO_TEMPLATE))
    ui.chart(fig, key="expl_curves", title=t("explanations.curves_title"), config={"displaylogo": False},
             place=lambda share: numbers.share(round(share * N), N))  # 31/49 (63%) of the patches
    better = (pc.areas["deletion"] < pc.areas["random_deletion"], pc.areas["insertion"] > pc.areas["random_insertion"])
    readings = {(True, True): t("explanations.curves_reading_both", method=names[method]),
                (False, False): t("explanations.curves_reading_neither", method=names[method])}
    st.caption(readings.get(better) or t("explanations.curves_reading_one", method=names[method]))


def measured(c: ui.Current) -> None:
    st.header(t("explanations.table_title"), anchor="explanations-table")
    data = core.faithfulness_table(c.model_id)
    if data is None:
        st.info(t("explanations.table_none"))
        return
    rows = data["rows"]
    st.markdown(t("explanations.table_intro", n=data["images"]))
    names = {m: t(f"explanations.m_{m}") for m in (*METHODS, "random")}
    st.dataframe({t("explanations.col_method"): [names.get(r["method"], r["method"]) for r in rows],
                  t("explanations.col_deletion"): [spread(r, "deletion") for r in rows],
                  t("explanations.col_deletion_vs"): [vs(r, "deletion") for r in rows],
                  t("explanations.col_insertion"): [spread(r, "insertion") for r in rows],
                  t("explanations.col_insertion_vs"): [vs(r, "insertion") for r in rows]},
                 hide_index=True, key="expl_table")
    st.markdown("  \n".join(reading(r, names[r["method"]]) for r in rows if r["method"] != "random"))
    st.caption(t("explanations.table_source", command=data.get("command", ""), seconds=data.get("seconds", 0)))


def spread(row: dict, kind: str) -> str:
    return f"{numbers.number(row[f'{kind}_mean'])} ± {numbers.number(row[f'{kind}_std'])}"


def vs(row: dict, kind: str) -> str:
    if row["method"] == "random":
        return "—"
    return t("explanations.vs_cell", d=numbers.signed(row[f"{kind}_vs_random"]),
             ci=numbers.number(row[f"{kind}_vs_random_ci95"]), share=row[f"{kind}_better_share"])


def reading(row: dict, name: str) -> str:
    """What the table says of one method, in words chosen by its numbers: better than random only where the 95 %
    interval of the paired difference excludes zero in the good direction."""
    deletion = row["deletion_vs_random"] + row["deletion_vs_random_ci95"] < 0
    insertion = row["insertion_vs_random"] - row["insertion_vs_random_ci95"] > 0
    key = {(True, True): "both", (False, False): "neither"}.get((deletion, insertion),
                                                               "deletion_only" if deletion else "insertion_only")
    return t(f"explanations.read_{key}", name=name, d=numbers.number(-row["deletion_vs_random"]),
             i=numbers.number(row["insertion_vs_random"]))


# ---- queries and keys ---------------------------------------------------------------------------------------------
def geometry(c: ui.Current) -> None:
    cfg = c.config
    L, H, T, g = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_tokens, cfg.grid_size
    st.header(t("explanations.qk_title"), anchor="explanations-geometry")
    st.markdown(t("explanations.qk_intro", T=T))
    cols = st.columns(2)
    layer = cols[0].slider(t("explanations.qk_layer", L=L), 1, L, L, key="expl_layer") if L > 1 else 1
    head = cols[1].slider(t("explanations.qk_head", H=H), 1, H, 1, key="expl_head") if H > 1 else 1
    block = core.block_detail(c.image_bytes, c.model_id, layer - 1)
    geo = qk_geometry(block.q[head - 1], block.k[head - 1])
    ss = st.session_state
    if ss.get("expl_token") is not None and ranges.whole(ss["expl_token"], 0, T - 1) is None:
        ss["expl_token"] = None  # another model, or a token a link cannot give
    left, right = st.columns([3, 2], gap="large")
    with right:  # a click on the chart picks a token; this picks one without a pointer, and shows the pick
        token = st.selectbox(t("explanations.qk_pick"), [None, *range(T)], key="expl_token",
                             format_func=lambda i: t("explanations.qk_pick_none") if i is None else
                             labels.token_in_words(i, g))
    with left:
        ui.chart(qk_chart(geo, g, token), key="expl_qk", title=t("explanations.qk_title"), data=False,
                 summary=describe.qk(geo, token, g), on_select=lambda: on_point(T),
                 selection_mode="points", config={"displaylogo": False})
        st.caption(style.pointer_hint(t("explanations.qk_hint_click"), t("explanations.qk_hint_tap")) + " "
                   + t("explanations.qk_caption", a=float(geo.explained[0]), b=float(geo.explained[1])),
                   unsafe_allow_html=True)
    with right:
        patch = None if token in (None, 0) else token - 1
        shown = plots.outlined(c.analysis.model_view, g, PICTURE_SIDE, patch)
        st.image(style.encoded(shown, fmt(c)), output_format=fmt(c),
                 caption=t("explanations.qk_picked_cls") if token == 0 else
                 t("explanations.qk_picked", patch=labels.patch(patch, g)) if patch is not None else
                 t("explanations.qk_picked_none"), alt=describe.picked_token(token, g))
        st.markdown(t("explanations.qk_nearness"))


def qk_chart(geo, g: int, token: int | None) -> go.Figure:
    T = geo.tokens
    idx = np.arange(1, T)
    names = [labels.patch(k, g) for k in range(T - 1)]  # each point's patch, in words, for its hover
    traces = []
    for part, offset, symbol in (("q", 0, "circle"), ("k", T, "x")):
        pts = geo.points[offset + 1:offset + T]
        traces.append(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=t(f"explanations.qk_{part}"),
                                 marker=dict(symbol=symbol, size=9, color=idx, colorscale="Viridis", cmin=1, cmax=T - 1,
                                             line=dict(width=1, color="white") if symbol == "circle" else None),
                                 customdata=names, text=[str(i) for i in idx],  # text: the token a click picks
                                 hovertemplate="%{customdata}<extra></extra>"))
        cls = geo.points[offset]
        traces.append(go.Scatter(x=[cls[0]], y=[cls[1]], mode="markers", text=["0"],
                                 name=t(f"explanations.qk_cls_{part}"), hovertemplate=t(f"explanations.qk_cls_{part}")
                                 + "<extra></extra>", marker=dict(symbol="star" if part == "q" else "star-open",
                                                                   size=16, color="black")))
    if token is not None:
        for offset in (0, T):
            p = geo.points[offset + token]
            traces.append(go.Scatter(x=[p[0]], y=[p[1]], mode="markers", hoverinfo="skip", showlegend=False,
                                     marker=dict(size=20, color="rgba(0,0,0,0)",
                                                 line=dict(width=3, color=style.HIGHLIGHT_CSS))))
    return go.Figure(traces, dict(height=420, margin=dict(l=10, r=10, t=10, b=10), clickmode="event+select",
                                  legend=dict(orientation="h", y=-0.15), hovermode="closest", dragmode=False,
                                  xaxis=dict(title="PC 1", zeroline=False), yaxis=dict(title="PC 2", zeroline=False),
                                  template=style.NO_TEMPLATE))


def on_point(T: int) -> None:
    token = ranges.clicked(st.session_state.get("expl_qk"), 0, T - 1)
    if token is not None:
        st.session_state["expl_token"] = token


if __name__ == "__main__":  # Streamlit runs a page as __main__; tests import its sections without running it
    main()
