"""Step 5 — attention: every layer and every head of the real model, for this picture.

The explorer (sliders, matrix, maps, grid, distances) is a fragment: a step reruns only it, and only indexes arrays
that `core.analyse` computed once. Each run puts what it shows (layer, head, query patch) in the address bar
(app/links.py), so a reload or a shared link opens the same view. The small pure helpers below the sections are
tested directly (tests/test_app_attention.py).
"""
from __future__ import annotations

import functools

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import budget, core, describe, labels, links, plots, style, ui
from app.i18n import t
from vit_core import views
from vit_core.analysis import attention_rollout, head_average, mean_attention_distance, pool_attention
from vit_core.model import attention

SPEEDS = [0.5, 1.0, 2.0]  # seconds per step in play mode
GIF_SIDE = 320  # px: a frame of the play-mode GIF (ViT-B/16: 144 frames, ~3 MB)
# The two heat maps keep square cells at every width, with a colour bar as tall as the map (len=1 of the plot area):
# each chart's box is as tall as its column is wide (100cqw, up to a cap), less the difference of its margins and a few
# pixels, so that its plot area is square or a little wider than tall. Plotly then narrows the map to square cells
# (constrain="domain") and the map keeps the plot area's full height, which is the colour bar's. The margins leave room
# for the ticks, the axis titles and a colour bar with five-character ticks ("0.005"): a margin Plotly has to widen
# would make the plot area taller than wide, and the bar taller than the map. The matrix's t keeps Plotly's tool bar
# (always shown on a touch screen) above the matrix rather than on it.
MATRIX_MARGIN, MATRIX_CAP = dict(l=72, r=52, t=34, b=60), 680
QUERY_MARGIN, QUERY_CAP = dict(l=30, r=52, t=8, b=34), 400
SLACK = 8  # px: the plot area this much wider than tall (a margin Plotly widens by up to this keeps the bar right)


def square_chart_css(key: str, margin: dict, cap: int) -> str:
    """CSS for the chart with this key: its box's height from its column's width (a container query)."""
    less = margin["l"] + margin["r"] - margin["t"] - margin["b"] + SLACK
    return (f'[data-testid="stVerticalBlock"]:has(> .st-key-{key}) {{ container-type: inline-size; }}'
            f" .st-key-{key} {{ max-width: {cap}px; height: calc(min(100cqw, {cap}px) - {less}px); }}")


PAGE_CSS = f"<style>{square_chart_css('att_matrix', MATRIX_MARGIN, MATRIX_CAP)}" \
           f" {square_chart_css('att_click', QUERY_MARGIN, QUERY_CAP)}</style>"


def main() -> None:
    st.html(style.PAGE_CSS + PAGE_CSS + enter_hint_css())
    c = ui.current()
    cfg, a = c.config, c.analysis
    st.title(t("attention.title"))
    st.markdown(t("attention.intro", L=cfg.num_hidden_layers, H=cfg.num_attention_heads, T=cfg.num_tokens,
                  n=cfg.num_hidden_layers * cfg.num_attention_heads, d=cfg.head_dim))
    ui.shape(t("attention.shape_attentions"), a.trace.attentions.shape, t("attention.shape_attentions_meaning"))
    playing, speed = play_controls()
    st.fragment(run_every=speed if playing else None)(explorer)(c)
    st.divider()
    ui.shape(t("attention.shape_rollout"), a.rollout.shape, t("attention.shape_rollout_meaning"))
    ui.shape(t("attention.shape_distances"), a.distances.shape, t("attention.shape_distances_meaning"))
    ui.source(attention, head_average, pool_attention, attention_rollout, mean_attention_distance)


def explorer(c: ui.Current) -> None:
    """What one step redraws."""
    cfg = c.config
    for note in keep_in_range(cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_patches, cfg.grid_size,
                              c.model_id):
        st.warning(note)
    layer, head = position(cfg)
    query = int(st.session_state["att_query"])
    hv = matrix_and_cls(c, layer, head, query)
    query_patch(c, hv)
    every_head(c, hv)
    distances(c, hv)
    st.session_state["att_saved"] = (layer, head, query)
    st.session_state["att_model"] = c.model_id
    links.write(key="url_state_attention", layer=layer, head=head, query=query)  # the address bar: no history entry


# ---- sections -----------------------------------------------------------------------------------------------------
def play_controls() -> tuple[bool, float]:
    with st.container(horizontal=True, vertical_alignment="center", gap="large"):  # the toggle as wide as its words
        playing = st.toggle(t("attention.play"), key="att_play", help=t("attention.play_help"))
        names = {s: t("attention.seconds", s=s) for s in SPEEDS}
        speed = st.select_slider(t("attention.speed"), SPEEDS, value=1.0, key="att_speed", format_func=names.get,
                                 width=260)
    return playing, speed


def position(cfg) -> tuple[int, int]:
    """The layer and head sliders, ◀ / ▶, and one tick of play mode."""
    L, H, N = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_patches
    ss = st.session_state
    playing = bool(ss.get("att_play"))
    if playing:  # one tick of play mode: the next head, round and round
        ss["att_layer"], ss["att_head"] = step(ss["att_layer"], ss["att_head"], L, H, +1, wrap=True)
    left, mid = st.columns(2)
    with left:
        layer = pick(t("attention.layer_slider", L=L), 1, L, "att_layer", playing)
    with mid:
        head = pick(t("attention.head_slider", H=H), 1, H, "att_head", playing)
    # the buttons as wide as their words (a narrow column cut them to "◀ Previ…"), the caption beside them, or below
    # them where the row is too narrow
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button(t("attention.prev"), key="att_prev", on_click=on_step, args=(-1, L, H),
                  disabled=playing or (layer, head) == (1, 1))
        st.button(t("attention.next"), key="att_next", on_click=on_step, args=(+1, L, H),
                  disabled=playing or (layer, head) == (L, H))
        st.caption(t("attention.position", layer=layer, L=L, head=head, H=H, l0=layer - 1, h0=head - 1, T=N + 1)
                   + " " + (t("attention.playing") if playing else t("attention.ends")))
    return layer, head


def matrix_and_cls(c: ui.Current, layer: int, head: int, query: int) -> views.HeadView:
    """The head's attention matrix (pooled for large models), and where the cls token looks."""
    cfg, a = c.config, c.analysis
    st.subheader(t("attention.matrix_title", layer=layer, head=head))
    left, right = st.columns([3, 2])
    with left:
        block = views.pool_block(cfg.num_patches, budget.ATTENTION_SIDE)
        how = None
        if block > 1:
            names = {k: t(f"attention.pool_{k}") for k in ("mean", "amax")}
            how = st.radio(t("attention.pool_label"), list(names), key="att_pool", horizontal=True,
                           format_func=names.get)
        hv = views.head_view(a, layer, head, query, how or "mean", budget.ATTENTION_SIDE)
        names = labels.matrix_labels(cfg.grid_size, hv.block)
        hover = t(f"attention.hover_matrix_{how}") if how else t("attention.hover_matrix")
        ui.chart(matrix_chart(hv.matrix, names, cfg.grid_size, hv.block, 1 + query // hv.block, hover),
                 key="att_matrix", title=t("attention.matrix_title", layer=layer, head=head),
                 config={"displaylogo": False}, height="stretch")  # sized by PAGE_CSS
        st.caption(t("attention.matrix_caption", T=cfg.num_tokens, top=hv.top, qsum=hv.query_sum, q=query) + " "
                   + style.pointer_hint(t("attention.matrix_hint_hover"), t("attention.matrix_hint_tap")),
                   unsafe_allow_html=True)
        if how:
            st.caption(t("attention.pooled_caption", T=cfg.num_tokens, b=hv.block, G=len(names),
                         how=t(f"attention.pool_{how}")))
    with right:
        st.markdown(t("attention.cls_title"))
        said = describe.cls_map(hv.layer, hv.head, hv.cls_map, hv.cls_self)
        st.image(overlay(c, hv.cls_map), output_format=picture_format(cfg),
                 caption=t("attention.cls_caption", self=hv.cls_self, top=float(hv.cls_map.max()),
                           at=int(hv.cls_map.argmax())), alt=said)
        ui.as_text(t("alt.t_cls_map", layer=hv.layer, head=hv.head), said, describe.map_rows(hv.cls_map))
    return hv


def query_patch(c: ui.Current, hv: views.HeadView) -> None:
    """Any query patch: click it on the map or type its number."""
    cfg, g, q = c.config, c.config.grid_size, hv.query
    st.subheader(t("attention.query_title"))
    st.markdown(t("attention.query_intro", how=style.pointer_hint(t("attention.query_intro_click"),
                                                                  t("attention.query_intro_tap"))),
                unsafe_allow_html=True)
    left, right = st.columns(2)
    with left:
        ui.chart(query_chart(hv.query_map, q, t("attention.hover_query")), key="att_click",
                 title=t("alt.t_query_map", k=q),
                 on_select=lambda: on_click(g), selection_mode="points", height="stretch",  # by PAGE_CSS
                 config={"displaylogo": False, "displayModeBar": False})
        st.caption(style.pointer_hint(t("attention.click_hint"), t("attention.tap_hint")) + " "
                   + t("attention.click_caption"), unsafe_allow_html=True)
        # any whole number: keep_in_range brings one out of range back and says so in the page's language
        # (with min_value / max_value, Streamlit would answer with its own English message)
        st.number_input(t("attention.query_input", N=cfg.num_patches - 1), step=1, key="att_query", width=200)
    with right:
        st.image(overlay(c, hv.query_map, q), output_format=picture_format(cfg),
                 caption=t("attention.query_caption", q=q, r=q // g, c=q % g),
                 alt=describe.query_map(hv.layer, hv.head, q, hv.query_map))
    with st.container(horizontal=True, gap="medium"):  # side by side where they fit, else on the next row
        st.metric(t("attention.on_cls"), f"{hv.query_on_cls:.3f}", width="content")
        st.metric(t("attention.on_self"), f"{hv.query_on_self:.3f}", width="content")
        st.metric(t("attention.distance_metric"), f"{hv.distance:.1f} px", width="content")


def every_head(c: ui.Current, hv: views.HeadView) -> None:
    """All heads of all layers for one row (cls or the query), this layer's head average, and the rollout."""
    cfg, layer, head = c.config, hv.layer, hv.head
    L, H = cfg.num_hidden_layers, cfg.num_attention_heads
    st.subheader(t("attention.grid_title", L=L, H=H))
    names = {k: t(f"attention.grid_rows_{k}", q=hv.query) for k in ("cls", "query")}
    what = st.radio(t("attention.grid_rows"), list(names), key="att_grid_rows", horizontal=True, format_func=names.get)
    q = None if what == "cls" else hv.query
    left, right = st.columns([3, 2])
    with left:
        picture, boxes, png, alt = heads_grid(c.image_bytes, c.model_id, q,
                                              (t("attention.grid_layer"), t("attention.grid_head")))
        framed = plots.framed(picture, boxes[(layer - 1, head - 1)])
        st.image(style.png(framed, compress_level=1), output_format="PNG",  # the quickest level: drawn every step
                 caption=t("attention.grid_caption", layer=layer, head=head, L=L, H=H), alt=alt(layer, head))
        st.download_button(t("common.download_png"), png, file_name=f"attention_grid_{what}.png", mime="image/png",
                           key="att_dl_grid", on_click="ignore")
        labels = tuple(t("attention.gif_frame", layer=i + 1, L=L, head=j + 1, H=H, row=names[what])
                       for i in range(L) for j in range(H))
        ms = round(1000 * float(st.session_state.get("att_speed", 1.0)))
        st.download_button(t("attention.gif_download"), functools.partial(play_gif, c.image_bytes, c.model_id, q,
                                                                          labels, ms),
                           file_name=f"attention_play_{what}.gif", mime="image/gif", key="att_dl_gif",
                           on_click="ignore", help=t("attention.gif_help", n=L * H))
    with right:
        maps = views.layer_maps(c.analysis, layer, q)
        st.markdown(t("attention.average_title", layer=layer, H=H))
        st.image(overlay(c, maps.average, q), output_format=picture_format(cfg),
                 caption=t("attention.average_caption", H=H), alt=describe.head_average(layer, H, maps.average, q))
        st.markdown(t("attention.rollout_title", layer=layer))
        st.image(overlay(c, maps.rollout, q), output_format=picture_format(cfg),
                 caption=t("attention.rollout_caption_first") if layer == 1 else
                 t("attention.rollout_caption", layer=layer), alt=describe.rollout(layer, maps.rollout, q))


def distances(c: ui.Current, hv: views.HeadView) -> None:
    """How far each head looks (paper Fig. 7, right)."""
    cfg, a = c.config, c.analysis
    st.subheader(t("attention.distance_title"))
    left, right = st.columns([3, 2])
    with left:
        ui.chart(distance_chart(a.distances, hv.layer, hv.head, a.uniform_distance), key="att_distance",
                 title=t("attention.distance_title"),
                 config={"displaylogo": False})
    with right:
        st.markdown(t("attention.distance_paper"))
        far = (cfg.grid_size - 1) * cfg.patch_size * 2 ** 0.5  # corner to corner, in pixels
        small = cfg.image_size < 224  # the paper's smallest input
        st.info(t("attention.distance_note_small" if small else "attention.distance_note", S=cfg.image_size,
                  P=cfg.patch_size, far=far))


def enter_hint_css() -> str:
    """Streamlit's own "Press Enter to apply" under the patch number while it is being typed, in the page's language
    (Streamlit has it in English only): its text hidden, ours shown in its place."""
    text = t("attention.press_enter").replace("\\", "\\\\").replace('"', '\\"')
    hint = '.st-key-att_query [data-testid="InputInstructions"]'
    return f'<style>{hint} span {{ display: none; }} {hint}::after {{ content: "{text}"; }}</style>'


# ---- pictures -----------------------------------------------------------------------------------------------------
def picture_format(cfg) -> str:
    """PNG for a tiny picture blown up (hard edges), JPEG for maps over a photo (a few KB, quick on every step)."""
    return "PNG" if 2 * cfg.image_size <= budget.OVERLAY_SIDE else "JPEG"


def overlay(c: ui.Current, heat: np.ndarray, patch: int | None = None) -> bytes:
    """A (g, g) map over the model's view, encoded as the page serves it."""
    picture = plots.map_over(c.analysis.model_view, heat, budget.OVERLAY_SIDE, patch)
    return style.encoded(picture, picture_format(c.config))


@st.cache_data(max_entries=32, show_spinner=False)
def heads_grid(image_bytes: bytes, model_id: str, query: int | None, names: tuple[str, str]):
    """Every head of every layer as one picture, cached: it changes only with the picture, the query and the language,
    not with the step. Returns the picture, each map's box in it, its PNG, and its alt text for the head in view."""
    a = core.analyse(image_bytes, model_id)
    picture, boxes = plots.heads_grid(views.all_heads_maps(a, query), names)
    return picture, boxes, style.png(picture), functools.partial(describe.heads_grid, views.all_heads_rows(a, query),
                                                                  query=query)


@st.cache_data(max_entries=8, show_spinner=False)
def play_gif(image_bytes: bytes, model_id: str, query: int | None, labels: tuple[str, ...], ms: int) -> bytes:
    """Play mode as an animated GIF (plots.animation), made only when a teacher clicks its download button."""
    a = core.analyse(image_bytes, model_id)
    return plots.animation(a.model_view, views.all_heads_maps(a, query), list(labels), GIF_SIDE, ms, query)


# ---- charts -------------------------------------------------------------------------------------------------------
def colour_bar(thickness: int) -> dict:
    """A colour bar exactly as tall as the plot area beside it (no padding), just right of it."""
    return dict(thickness=thickness, len=1, lenmode="fraction", y=0.5, yanchor="middle", ypad=0, x=1, xanchor="left",
                xpad=4, outlinewidth=0, tickfont=dict(size=style.CHART_TICK))


def matrix_chart(z: np.ndarray, labels: list[str], grid: int, block: int, query_row: int, hover: str) -> go.Figure:
    """The (pooled) attention matrix: queries down, keys across, the chosen query's row outlined. Its margins are
    fixed (MATRIX_MARGIN) for PAGE_CSS to keep its cells square and its colour bar as tall as the matrix."""
    rows = list(range(0, grid, max(1, -(-grid // 8))))[1:]  # ticks at the first patch of some image rows
    ticks = [labels[0]] + [labels[1 + (r * grid) // block] for r in rows]
    text = [t("labels.cls")] + [str(r * grid) for r in rows]
    # built in one constructor call, as plots.heatmap does (float32, one label per row and column), with this chart's
    # own margins and colour bar: a later update_layout validates the whole figure again (3 ms, every step)
    return go.Figure(
        go.Heatmap(z=np.asarray(z, dtype=np.float32), x=labels, y=labels, colorscale=style.SEQUENTIAL, zmin=0,
                   hoverongaps=False, hovertemplate=hover + "<extra></extra>", colorbar=colour_bar(10)),
        dict(height=560, margin=MATRIX_MARGIN,
             # automargin only widens a margin too small for its labels (these are not): it keeps the titles at
             # their standoff from the ticks, where without it a title runs into them
             xaxis=dict(title=dict(text=t("attention.axis_key"), standoff=6), tickvals=ticks, ticktext=text,
                        tickangle=0, constrain="domain", automargin=True),
             yaxis=dict(title=dict(text=t("attention.axis_query"), standoff=14), tickvals=ticks, ticktext=text,
                        autorange="reversed", scaleanchor="x", constrain="domain", automargin=True),
             shapes=[dict(type="rect", x0=-0.5, x1=len(labels) - 0.5, y0=query_row - 0.5, y1=query_row + 0.5,
                          line=dict(color=style.HIGHLIGHT_CSS, width=2, dash="dash"))],
             template=style.NO_TEMPLATE))


def query_chart(weights: np.ndarray, query: int, hover: str) -> go.Figure:
    """The chosen query's attention over the image grid; every cell is a clickable point."""
    g = weights.shape[0]
    rows, cols = np.divmod(np.arange(g * g), g)
    r, c = divmod(query, g)
    return go.Figure(  # built in one call, as in distance_chart
        [go.Heatmap(z=weights.astype(np.float32), colorscale=style.INFERNO, hoverinfo="skip",
                    colorbar=colour_bar(10)),
         go.Scatter(x=cols.astype(np.int16), y=rows.astype(np.int16), mode="markers",
                    marker=dict(size=max(6, 300 // g), symbol="square", color="rgba(0,0,0,0)"),
                    customdata=weights.reshape(-1).astype(np.float32), text=[str(k) for k in range(g * g)],
                    hovertemplate=hover + "<extra></extra>", showlegend=False,
                    selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)))],
        dict(shapes=[dict(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                          line=dict(color=style.HIGHLIGHT_CSS, width=3, dash="dash"))],
             xaxis=dict(range=(-0.5, g - 0.5), showgrid=False, zeroline=False, constrain="domain", automargin=False),
             yaxis=dict(range=(g - 0.5, -0.5), showgrid=False, zeroline=False, scaleanchor="x", constrain="domain",
                        automargin=False),
             height=340, margin=QUERY_MARGIN, hovermode="closest", clickmode="event+select",
             dragmode=False, template=style.NO_TEMPLATE))


def distance_chart(dist: np.ndarray, layer: int, head: int, uniform: float) -> go.Figure:
    """Paper Fig. 7 (right) for this picture: one dot per head, layer on x, the current head highlighted, and the
    distance of a head that would spread its attention evenly as a dashed line. Built in one call: Plotly validates
    the whole figure on every add_trace / update_* call, and this runs on every step."""
    L, H = dist.shape
    layers, heads = np.divmod(np.arange(L * H), H)
    hover = t("attention.hover_distance") + "<extra></extra>"
    return go.Figure(
        [go.Scatter(x=[0.5, L + 0.5], y=[uniform, uniform], mode="lines", hoverinfo="skip",
                    line=dict(color="rgba(230,40,40,0.45)", dash="dash"),
                    name=t("attention.distance_uniform", u=uniform)),
         go.Scatter(x=np.arange(1, L + 1), y=dist.mean(axis=1).astype(np.float32), mode="lines",
                    line=dict(color="rgba(120,120,120,0.5)", dash="dot"), name=t("attention.distance_mean"),
                    hoverinfo="skip"),
         go.Scatter(x=(layers + 1).astype(np.int16), y=dist.reshape(-1).astype(np.float32), mode="markers",
                    marker=dict(size=8, color="#4c78a8", opacity=0.75), hovertemplate=hover,
                    customdata=(heads + 1).astype(np.int16), name=t("attention.distance_heads")),
         go.Scatter(x=[layer], y=[float(dist[layer - 1, head - 1])], mode="markers",
                    marker=dict(size=16, color="#e62828", line=dict(color="black", width=1.5)),
                    customdata=[head], hovertemplate=hover, name=t("attention.distance_current"))],
        dict(height=380, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.2),
             xaxis=dict(title=t("attention.distance_x"), dtick=1),
             yaxis=dict(title=t("attention.distance_y"), rangemode="tozero"), template=style.NO_TEMPLATE))


# ---- session state: the position (layer, head) and the query patch -------------------------------------------------
def keep_in_range(L: int, H: int, N: int, g: int, model_id: str) -> list[str]:
    """Before the widgets exist in this run: start, restore after a page change, or bring a value back into this
    model's range. Returns what had to change, in the page's language: a link's layer, head or query patch beyond
    the model (read into session state by links.start), a typed patch number, or the position under a new model."""
    ss = st.session_state
    saved = ss.get("att_saved", (1, 1, (g // 2) * g + g // 2))
    seen = ss.get("att_model")  # the model of the explorer's last run in this session (None: its first run)
    why = "link" if seen is None else "model" if seen != model_id else "typed"
    notes = []
    for name, key, lo, hi, default in (("layer", "att_layer", 1, L, saved[0]), ("head", "att_head", 1, H, saved[1]),
                                       ("query", "att_query", 0, N - 1, saved[2])):
        asked = ss.get(key)
        asked = default if asked is None else int(asked)
        shown = ss[key] = min(max(asked, lo), hi)
        if shown != asked:
            notes.append(range_note(why, name, asked, shown, hi))
    return notes


def range_note(why: str, name: str, asked: int, shown: int, last: int) -> str:
    """What a value out of range was changed to, and why: "link", "model" (a new model) or "typed"."""
    if why == "typed" and name != "query":  # the sliders cannot leave their range: only a typed patch number can
        why = "model"
    return t(f"attention.clamped_{why}_{name}", asked=asked, shown=shown, last=last)


def on_step(delta: int, L: int, H: int) -> None:
    """The ◀ / ▶ buttons (a callback: it runs before the sliders exist, so it may set their values)."""
    ss = st.session_state
    ss["att_layer"], ss["att_head"] = step(ss["att_layer"], ss["att_head"], L, H, delta)


def on_click(g: int) -> None:
    q = query_from_selection(st.session_state.get("att_click"), g)
    if q is not None:
        st.session_state["att_query"] = q


def pick(label: str, lo: int, hi: int, key: str, disabled: bool) -> int:
    """A slider from lo to hi, or just lo when there is nothing to choose (a slider needs lo < hi)."""
    return st.slider(label, lo, hi, key=key, disabled=disabled) if hi > lo else lo


# ---- small pure helpers -------------------------------------------------------------------------------------------
def step(layer: int, head: int, n_layers: int, n_heads: int, delta: int, wrap: bool = False) -> tuple[int, int]:
    """Move `delta` heads along layer 1 head 1, …, layer 1 head H, layer 2 head 1, … (all 1-based).
    Past either end: round to the other end when `wrap` (play mode), else stay at the end (the buttons)."""
    total = n_layers * n_heads
    pos = (layer - 1) * n_heads + (head - 1) + delta
    pos = pos % total if wrap else min(max(pos, 0), total - 1)
    return pos // n_heads + 1, pos % n_heads + 1


def query_from_selection(state, grid: int) -> int | None:
    """The patch a click on the query map picked, from st.plotly_chart's selection state (None: no click)."""
    points = ((state or {}).get("selection") or {}).get("points") or []
    if not points:
        return None
    try:
        row, col = round(float(points[0]["y"])), round(float(points[0]["x"]))
    except (KeyError, TypeError, ValueError):
        return None
    return row * grid + col if 0 <= row < grid and 0 <= col < grid else None


if __name__ == "__main__":  # Streamlit runs pages as __main__; tests import the helpers above without running this
    main()
