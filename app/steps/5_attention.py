"""Step 5 — attention: every layer and every head of the real model, for this picture.

The explorer (sliders, matrix, maps, grid, distances) is a fragment: a step reruns only it, and only indexes arrays
that `core.analyse` computed once. The small pure helpers at the top are tested directly (tests/test_app_attention.py).
"""
from __future__ import annotations

import io

import numpy as np
import plotly.colors as pcolors
import plotly.graph_objects as go
import streamlit as st
import torch
from matplotlib import colormaps
from PIL import Image, ImageDraw

from app import core, plots, ui
from app.i18n import t
from vit_core.analysis import attention_rollout, head_average, mean_attention_distance, pool_attention
from vit_core.model import attention

MAX_SIDE = 100  # the matrix heatmap shows at most 100 × 100 cells: 40 KB of float32, whatever the model
SPEEDS = [0.5, 1.0, 2.0]  # seconds per step in play mode
SIDE = 280  # overlays are drawn this many pixels wide
OUTLINE = (0, 229, 255)  # cyan: the current head in the grid, the query patch on the maps
# Plotly's Inferno starts at #000004, a colour Streamlit's chart theme reserves and repaints pink: start at black
INFERNO = ["#000000"] + list(pcolors.sequential.Inferno[1:])


# ---- small pure helpers -------------------------------------------------------------------------------------------
def step(layer: int, head: int, n_layers: int, n_heads: int, delta: int, wrap: bool = False) -> tuple[int, int]:
    """Move `delta` heads along layer 1 head 1, …, layer 1 head H, layer 2 head 1, … (all 1-based).
    Past either end: round to the other end when `wrap` (play mode), else stay at the end (the buttons)."""
    total = n_layers * n_heads
    pos = (layer - 1) * n_heads + (head - 1) + delta
    pos = pos % total if wrap else min(max(pos, 0), total - 1)
    return pos // n_heads + 1, pos % n_heads + 1


def block_size(n_patches: int, max_side: int = MAX_SIDE) -> int:
    """The smallest run of patch tokens to average so that the matrix (cls + runs) is at most max_side wide."""
    return max(1, -(-n_patches // (max_side - 1)))


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


def token_labels(grid: int, block: int) -> list[str]:
    """One name per row/column of the (pooled) matrix: "cls", then "patch k (row, col)" or a run of patches."""
    n = grid * grid
    out = [t("attention.cls")]
    for first in range(0, n, block):
        last = min(first + block, n) - 1
        r0, c0 = divmod(first, grid)
        if first == last:
            out.append(t("attention.patch_label", i=first, r=r0, c=c0))
        else:
            r1, c1 = divmod(last, grid)
            out.append(t("attention.patches_label", i=first, j=last, r0=r0, c0=c0, r1=r1, c1=c1))
    return out


# In a chart's layout: no Plotly template (the default one is about 6 KB a chart); Streamlit's theme styles the chart
# in the browser. Given to the constructor, not set afterwards: every change to a built figure is validated again.
NO_TEMPLATE = {}


# ---- pictures -----------------------------------------------------------------------------------------------------
def overlay(view: np.ndarray, heat: np.ndarray, patch: int | None = None) -> np.ndarray:
    """A (g, g) map over the model's view, SIDE pixels wide, with one patch outlined if asked. Blended at the view's
    own size, then blown up with hard edges: the same picture as blending at SIDE pixels when SIDE is a multiple of
    the view (the teaching model), a hundred times fewer pixels to blend (this runs four times a step)."""
    picture = plots.upscale(plots.heat_overlay(view, heat), SIDE)
    if patch is None:
        return picture
    g = heat.shape[0]
    r, c = divmod(patch, g)
    cell = picture.shape[1] / g
    im = Image.fromarray(picture)
    ImageDraw.Draw(im).rectangle((c * cell, r * cell, (c + 1) * cell - 1, (r + 1) * cell - 1), outline=OUTLINE,
                                 width=max(2, round(cell / 8)))
    return np.asarray(im)


@st.cache_data(max_entries=32, show_spinner=False)
def grid_picture(image_bytes: bytes, model_id: str, query: int | None, names: tuple[str, str]):
    """Every head of every layer as a small map, in one picture drawn with PIL (cached: it changes only with the
    picture, the query and the language, not with the step). Rows are layers and columns heads, numbered from 1; `names` are
    the axis titles ("layer", "head"). Returns the picture (RGB), each map's box in its pixels, and the PNG."""
    att = core.analyse(image_bytes, model_id).trace["attentions"][:, 0]  # (L, H, T, T)
    L, H, T, _ = att.shape
    g = round((T - 1) ** 0.5)
    maps = att[:, :, 0 if query is None else query + 1, 1:].reshape(L, H, g, g)  # (L, H, g, g)
    maps = maps - maps.min(axis=(2, 3), keepdims=True)
    maps = maps / np.maximum(maps.max(axis=(2, 3), keepdims=True), 1e-12)  # each map to [0, 1], like heat_overlay
    zoom = max(1, round(48 / g))
    cell, gap = g * zoom, 6
    mosaic = np.full((L * (cell + gap) - gap, H * (cell + gap) - gap, 3), 255, np.uint8)
    colored = (colormaps["inferno"](maps)[..., :3] * 255).astype(np.uint8)  # (L, H, g, g, 3)
    for i in range(L):
        for j in range(H):
            y, x = i * (cell + gap), j * (cell + gap)
            mosaic[y:y + cell, x:x + cell] = colored[i, j].repeat(zoom, 0).repeat(zoom, 1)
    scale = max(1, round(560 / max(mosaic.shape[:2])))
    left, top, gap_px = 74, 46, 8  # room for the layer numbers and title (left), the head numbers and title (top)
    big = mosaic.repeat(scale, 0).repeat(scale, 1)
    im = Image.new("RGB", (left + big.shape[1] + gap_px, top + big.shape[0] + gap_px), "white")
    im.paste(Image.fromarray(big), (left, top))
    draw = ImageDraw.Draw(im)
    number, title = plots.pil_font(14), plots.pil_font(15, names[0] + names[1])
    centre = lambda k: (k * (cell + gap) + cell / 2) * scale  # noqa: E731 — a map's middle, in picture pixels
    for j in range(H):
        draw.text((left + centre(j), top - 6), str(j + 1), font=number, fill="black", anchor="md")
    for i in range(L):
        draw.text((left - 8, top + centre(i)), str(i + 1), font=number, fill="black", anchor="rm")
    draw.text((left + big.shape[1] / 2, top - 26), names[1], font=title, fill="black", anchor="md")
    draw.text((left - 32, top + big.shape[0] / 2), names[0], font=title, fill="black", anchor="rm")  # upright
    picture = np.asarray(im)
    boxes = {(i, j): (left + j * (cell + gap) * scale, top + i * (cell + gap) * scale,
                      left + (j * (cell + gap) + cell) * scale, top + (i * (cell + gap) + cell) * scale)
             for i in range(L) for j in range(H)}
    return picture, boxes, plots.png(picture)


@st.cache_data(show_spinner=False)
def uniform_distance(g: int, P: int) -> float:
    """The mean attention distance of a head that looks everywhere equally (cached: it depends only on the grid, and
    computing it costs a few ms on every step)."""
    T = g * g + 1
    even = torch.full((1, T, T), 1.0 / T)  # (1, T, T): a head that looks everywhere equally
    return float(mean_attention_distance(even, g, P)[0])


def encoded(picture: np.ndarray, fmt: str) -> bytes:
    """A picture as the bytes st.image serves. JPEG (quality 90) for maps over a photo: a few KB, and ten times
    quicker to make than PNG, which matters on every step; PNG for hard-edged pictures (the grid, and maps over a
    tiny picture blown up), where it is both smaller and exact."""
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, format=fmt, **(dict(quality=90) if fmt == "JPEG" else {}))
    return buf.getvalue()


def outlined(picture: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The grid picture with one map framed (drawn in the gap around it)."""
    im = Image.fromarray(picture)
    x0, y0, x1, y1 = box
    ImageDraw.Draw(im).rectangle((x0 - 3, y0 - 3, x1 + 2, y1 + 2), outline=OUTLINE, width=3)
    return np.asarray(im)


# ---- charts -------------------------------------------------------------------------------------------------------
def matrix_chart(z: np.ndarray, labels: list[str], grid: int, block: int, query_row: int, hover: str) -> go.Figure:
    """The (pooled) attention matrix: queries down, keys across, the chosen query's row outlined."""
    rows = list(range(0, grid, max(1, -(-grid // 8))))[1:]  # ticks at the first patch of some image rows
    ticks = [labels[0]] + [labels[1 + (r * grid) // block] for r in rows]
    text = [t("attention.cls")] + [str(r * grid) for r in rows]
    # all in the one constructor call (this runs on every step; a later update_layout cost 3 ms more)
    return plots.heatmap(z, x=labels, y=labels, hovertemplate=hover, zmin=0, height=560,
                         xaxis=t("attention.axis_key"), yaxis=t("attention.axis_query"), layout=dict(
                             xaxis=dict(tickvals=ticks, ticktext=text, tickangle=0, constrain="domain"),
                             yaxis=dict(tickvals=ticks, ticktext=text, scaleanchor="x", constrain="domain"),
                             shapes=[dict(type="rect", x0=-0.5, x1=len(labels) - 0.5, y0=query_row - 0.5,
                                          y1=query_row + 0.5, line=dict(color="#00e5ff", width=2))],
                             template=NO_TEMPLATE))


def query_chart(weights: np.ndarray, query: int, hover: str) -> go.Figure:
    """The chosen query's attention over the image grid; every cell is a clickable point."""
    g = weights.shape[0]
    rows, cols = np.divmod(np.arange(g * g), g)
    r, c = divmod(query, g)
    return go.Figure(  # built in one call, as in distance_chart
        [go.Heatmap(z=weights.astype(np.float32), colorscale=INFERNO, hoverinfo="skip",
                    colorbar=dict(thickness=10, len=0.9)),
         go.Scatter(x=cols.astype(np.int16), y=rows.astype(np.int16), mode="markers",
                    marker=dict(size=max(6, 300 // g), symbol="square", color="rgba(0,0,0,0)"),
                    customdata=weights.reshape(-1).astype(np.float32), text=[str(k) for k in range(g * g)],
                    hovertemplate=hover + "<extra></extra>", showlegend=False,
                    selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)))],
        dict(shapes=[dict(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                          line=dict(color="#00e5ff", width=3))],
             xaxis=dict(range=(-0.5, g - 0.5), showgrid=False, zeroline=False, constrain="domain"),
             yaxis=dict(range=(g - 0.5, -0.5), showgrid=False, zeroline=False, scaleanchor="x", constrain="domain"),
             height=340, margin=dict(l=10, r=10, t=10, b=10), hovermode="closest", clickmode="event+select",
             dragmode=False, template=NO_TEMPLATE))


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
             yaxis=dict(title=t("attention.distance_y"), rangemode="tozero"), template=NO_TEMPLATE))


# ---- session state: the position (layer, head) and the query patch -------------------------------------------------
def keep_in_range(L: int, H: int, N: int, g: int) -> None:
    """Before the widgets exist in this run: start, restore after a page change, or clamp for a new model."""
    ss = st.session_state
    saved = ss.get("att_saved", (1, 1, (g // 2) * g + g // 2))
    ss["att_layer"] = min(max(int(ss.get("att_layer", saved[0])), 1), L)
    ss["att_head"] = min(max(int(ss.get("att_head", saved[1])), 1), H)
    ss["att_query"] = min(max(int(ss.get("att_query", saved[2])), 0), N - 1)


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


# ---- the explorer: what one step redraws --------------------------------------------------------------------------
def explorer(c: ui.Current) -> None:
    cfg, a = c.model.config, c.analysis
    L, H, g, P, N = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.grid_size, cfg.patch_size, cfg.num_patches
    T = N + 1
    ss = st.session_state
    keep_in_range(L, H, N, g)
    playing = bool(ss.get("att_play"))
    if playing:  # one tick of play mode: the next head, round and round
        ss["att_layer"], ss["att_head"] = step(ss["att_layer"], ss["att_head"], L, H, +1, wrap=True)

    left, mid, b1, b2 = st.columns([4, 4, 1, 1], vertical_alignment="bottom")
    with left:
        layer = pick(t("attention.layer_slider", L=L), 1, L, "att_layer", playing)
    with mid:
        head = pick(t("attention.head_slider", H=H), 1, H, "att_head", playing)
    b1.button(t("attention.prev"), key="att_prev", on_click=on_step, args=(-1, L, H),
              disabled=playing or (layer, head) == (1, 1), width="stretch")
    b2.button(t("attention.next"), key="att_next", on_click=on_step, args=(+1, L, H),
              disabled=playing or (layer, head) == (L, H), width="stretch")
    st.caption(t("attention.position", layer=layer, L=L, head=head, H=H, l0=layer - 1, h0=head - 1, T=T)
               + " " + (t("attention.playing") if playing else t("attention.ends")))

    att = a.trace["attentions"][:, 0]  # (L, H, T, T)
    attn = att[layer - 1, head - 1]  # (T, T): this head's matrix, rows are queries
    query = int(ss["att_query"])
    view = a.model_view
    fmt = "PNG" if 2 * cfg.image_size <= SIDE else "JPEG"  # a tiny picture blown up has hard edges; a photo has not

    # -- the matrix, and where cls looks --
    st.subheader(t("attention.matrix_title", layer=layer, head=head))
    left, right = st.columns([3, 2])
    with left:
        block = block_size(N)
        labels = token_labels(g, block)
        if block > 1:
            names = {k: t(f"attention.pool_{k}") for k in ("mean", "amax")}
            how = st.radio(t("attention.pool_label"), list(names), key="att_pool", horizontal=True,
                           format_func=names.get)
            z = pool_attention(torch.tensor(attn), block, how).numpy()
            hover = t(f"attention.hover_matrix_{how}")
        else:
            how, z, hover = None, attn, t("attention.hover_matrix")
        st.plotly_chart(matrix_chart(z, labels, g, block, 1 + query // block, hover), key="att_matrix",
                        config={"displaylogo": False})
        st.caption(t("attention.matrix_caption", T=T, top=float(attn.max()), qsum=float(attn[query + 1].sum()),
                     q=query))
        if block > 1:
            st.caption(t("attention.pooled_caption", T=T, b=block, G=len(labels), how=t(f"attention.pool_{how}")))
    with right:
        cls_row = attn[0, 1:].reshape(g, g)  # (g, g): what the cls token reads from each patch
        st.markdown(t("attention.cls_title"))
        st.image(encoded(overlay(view, cls_row), fmt), output_format=fmt,
                 caption=t("attention.cls_caption", self=float(attn[0, 0]), top=float(cls_row.max()),
                           at=int(cls_row.argmax())))

    # -- any query patch: click it or type it --
    st.subheader(t("attention.query_title"))
    st.markdown(t("attention.query_intro"))
    qmap = attn[query + 1, 1:].reshape(g, g)  # (g, g): what the query patch reads from each patch
    left, mid, right = st.columns([3, 3, 2])
    with left:
        st.plotly_chart(query_chart(qmap, query, t("attention.hover_query")), key="att_click",
                        on_select=lambda: on_click(g), selection_mode="points",
                        config={"displaylogo": False, "displayModeBar": False})
        st.caption(t("attention.click_caption"))
    with mid:
        st.image(encoded(overlay(view, qmap, query), fmt), output_format=fmt,
                 caption=t("attention.query_caption", q=query, r=query // g, c=query % g))
    with right:
        st.number_input(t("attention.query_input", N=N - 1), 0, N - 1, step=1, key="att_query")
        st.metric(t("attention.on_cls"), f"{attn[query + 1, 0]:.3f}")
        st.metric(t("attention.on_self"), f"{attn[query + 1, query + 1]:.3f}")
        st.metric(t("attention.distance_metric"), f"{a.distances[layer - 1, head - 1]:.1f} px")

    # -- all heads of all layers, their average, and the rollout --
    st.subheader(t("attention.grid_title", L=L, H=H))
    names = {k: t(f"attention.grid_rows_{k}", q=query) for k in ("cls", "query")}
    what = st.radio(t("attention.grid_rows"), list(names), key="att_grid_rows", horizontal=True, format_func=names.get)
    q = None if what == "cls" else query
    row = 0 if q is None else q + 1
    left, right = st.columns([3, 2])
    with left:
        picture, boxes, png = grid_picture(c.image_bytes, c.model_id, q,
                                           (t("attention.grid_layer"), t("attention.grid_head")))
        framed = plots.png(outlined(picture, boxes[(layer - 1, head - 1)]), compress_level=1)  # 30 % quicker, every step
        st.image(framed, output_format="PNG",
                 caption=t("attention.grid_caption", layer=layer, head=head, L=L, H=H))
        st.download_button(t("common.download_png"), png, file_name=f"attention_grid_{what}.png", mime="image/png",
                           key="att_dl_grid", on_click="ignore")
    with right:
        avg = head_average(torch.tensor(att[layer - 1])).numpy()  # (T, T)
        st.markdown(t("attention.average_title", layer=layer, H=H))
        st.image(encoded(overlay(view, avg[row, 1:].reshape(g, g), q), fmt), output_format=fmt,
                 caption=t("attention.average_caption", H=H))
        st.markdown(t("attention.rollout_title", layer=layer))
        st.image(encoded(overlay(view, a.rollout[layer - 1, row, 1:].reshape(g, g), q), fmt), output_format=fmt,
                 caption=t("attention.rollout_caption", layer=layer))

    # -- how far each head looks (paper Fig. 7, right) --
    st.subheader(t("attention.distance_title"))
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(distance_chart(a.distances, layer, head, uniform_distance(g, P)), key="att_distance",
                        config={"displaylogo": False})
    with right:
        st.markdown(t("attention.distance_paper"))
        far = (g - 1) * P * 2 ** 0.5
        small = cfg.image_size < 224  # the paper's smallest input
        st.info(t("attention.distance_note_small" if small else "attention.distance_note", S=cfg.image_size, P=P,
                  far=far))
    ss["att_saved"] = (layer, head, query)


# ---- the page -----------------------------------------------------------------------------------------------------
def main() -> None:
    c = ui.current()
    cfg, a = c.model.config, c.analysis
    L, H, T = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_tokens

    st.title(t("attention.title"))
    st.markdown(t("attention.intro", L=L, H=H, T=T, n=L * H, d=cfg.head_dim))
    ui.shape(t("attention.shape_attentions"), a.trace["attentions"].shape, t("attention.shape_attentions_meaning"))

    left, right, _ = st.columns([1, 2, 3], vertical_alignment="center")
    with left:
        playing = st.toggle(t("attention.play"), key="att_play", help=t("attention.play_help"))
    with right:
        names = {s: t("attention.seconds", s=s) for s in SPEEDS}
        speed = st.select_slider(t("attention.speed"), SPEEDS, value=1.0, key="att_speed", format_func=names.get)
    st.fragment(run_every=speed if playing else None)(explorer)(c)

    st.divider()
    ui.shape(t("attention.shape_rollout"), a.rollout.shape, t("attention.shape_rollout_meaning"))
    ui.shape(t("attention.shape_distances"), a.distances.shape, t("attention.shape_distances_meaning"))
    ui.source(attention, head_average, pool_attention, attention_rollout, mean_attention_distance)


if __name__ == "__main__":  # Streamlit runs pages as __main__; tests import the helpers above without running this
    main()
