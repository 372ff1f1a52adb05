"""Step 5 — attention: every layer and every head of the real model, for this picture.

The explorer (buttons, sliders, matrix, maps, grid of every head, distances) is a component that draws every step in
the browser from the picture's attentions, sent once (app/components/explorer/): a step needs no server. It
reports what it shows, debounced; the report reruns only the explorer's fragment, which puts the layer, head and query
patch in the address bar (app/links.py), so a reload or a shared link opens the same view.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app import core, links, plots, ranges, ui
from app.components import explorer
from app.i18n import current_language, t, t_in
from vit_core import views
from vit_core.analysis import attention_rollout, head_average, mean_attention_distance, pool_attention
from vit_core.model import attention

GIF_SIDE = 320  # px: a frame of the play-mode GIF (ViT-B/16: 144 frames, ~3 MB)


def main() -> None:
    c = ui.current()
    cfg, a = c.config, c.analysis
    ui.heading("attention")
    st.markdown(t("attention.intro", L=cfg.num_hidden_layers, H=cfg.num_attention_heads, T=cfg.num_tokens,
                  n=cfg.num_hidden_layers * cfg.num_attention_heads, d=cfg.head_dim))
    ui.shape(t("attention.shape_attentions"), a.trace.attentions.shape, t("attention.shape_attentions_meaning"))
    for note in keep_in_range(cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_patches, cfg.grid_size,
                              c.model_id):
        st.warning(note)
    st.session_state["att_mount"] = in_view()  # what the explorer opens on (app/components/explorer says why)
    st.fragment(explore)(c)
    distances_note(c)
    gif_download(c)
    st.divider()
    ui.shape(t("attention.shape_rollout"), a.rollout.shape, t("attention.shape_rollout_meaning"))
    ui.shape(t("attention.shape_distances"), a.distances.shape, t("attention.shape_distances_meaning"))
    ui.source(attention, attention_rollout, mean_attention_distance, ported=(head_average, pool_attention),
              port="app/components/explorer/numbers.js")


def explore(c: ui.Current) -> None:
    """The explorer (a component: every step is drawn in the browser), and the address bar from its last report.
    A report reruns only this fragment."""
    cfg = c.config
    keep_in_range(cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_patches, cfg.grid_size, c.model_id)
    now = in_view()  # a report's values in range (the browser keeps them so; anything else is brought back)
    explorer.show(c, st.session_state["att_mount"], now)
    st.session_state["att_model"] = c.model_id
    links.write(key="url_state_attention", layer=now["layer"], head=now["head"], query=now["query"])


def in_view() -> dict:
    """The explorer's view as the server knows it: the link's, or the explorer's last report (explorer.on_view)."""
    ss = st.session_state
    return {"layer": ss["att_layer"], "head": ss["att_head"], "query": ss["att_query"],
            "rows": ss.get("att_grid_rows", "cls"), "pool": ss.get("att_pool", "mean"),
            "speed": ss.get("att_speed", 1.0)}


# ---- sections -----------------------------------------------------------------------------------------------------
def distances_note(c: ui.Current) -> None:
    """What the explorer's distance chart means (paper Fig. 7, right), and how far apart this model's patches are."""
    cfg = c.config
    left, right = st.columns(2)
    with left:
        st.markdown(t("attention.distance_paper"))
    with right:
        far = (cfg.grid_size - 1) * cfg.patch_size * 2 ** 0.5  # corner to corner, in pixels
        small = cfg.image_size < 224  # the paper's smallest input
        st.info(t("attention.distance_note_small" if small else "attention.distance_note", S=cfg.image_size,
                  P=cfg.patch_size, far=far))


def gif_download(c: ui.Current) -> None:
    """Play mode as an animated GIF, made on click for the grid rows, query patch and speed in view then: read from
    the session's state, which the click's request (not a script run) reaches through the run's context."""
    cfg = c.config
    L, H = cfg.num_hidden_layers, cfg.num_attention_heads
    ctx = get_script_run_ctx()
    state = ctx.session_state if ctx is not None else st.session_state
    lang = current_language()

    def gif() -> bytes:
        view = {k: state[f"att_{k}"] for k in ("query", "grid_rows", "speed") if f"att_{k}" in state}
        query = int(view.get("query", 0)) if view.get("grid_rows") == "query" else None
        return play_gif(c.image_bytes, c.model_id, query, frame_labels(lang, L, H, query),
                        round(1000 * float(view.get("speed", 1.0))))

    st.download_button(t("attention.gif_download"), gif, file_name="attention_play.gif", mime="image/gif",
                       key="att_dl_gif", on_click="ignore", help=t("attention.gif_help", n=L * H))


def frame_labels(lang: str, L: int, H: int, query: int | None) -> tuple[str, ...]:
    """Each frame's label in `lang`, in play mode's order: "layer 2 of 6, head 3 of 4: where the cls token looks"."""
    row = t_in(lang, "attention.grid_rows_cls") if query is None else t_in(lang, "attention.grid_rows_query", q=query)
    return tuple(t_in(lang, "attention.gif_frame", layer=i + 1, L=L, head=j + 1, H=H, row=row)
                 for i in range(L) for j in range(H))


@st.cache_data(max_entries=8, show_spinner=False)
def play_gif(image_bytes: bytes, model_id: str, query: int | None, labels: tuple[str, ...], ms: int) -> bytes:
    """Play mode as an animated GIF (plots.animation), made only when a teacher clicks its download button."""
    a = core.analyse(image_bytes, model_id)
    return plots.animation(a.model_view, views.all_heads_maps(a, query), list(labels), GIF_SIDE, ms, query)


# ---- session state: the view (layer, head, query patch) -----------------------------------------------------------
def keep_in_range(L: int, H: int, N: int, g: int, model_id: str) -> list[str]:
    """Before the explorer is drawn: start, or bring a value back into this model's range. Returns what had to change,
    in the page's language: a link's layer, head or query patch beyond the model (read into session state by
    links.start), or the view under a new model."""
    ss = st.session_state
    seen = ss.get("att_model")  # the model of the explorer's last run in this session (None: its first run)
    why = "link" if seen is None else "model" if seen != model_id else "typed"
    notes = []
    for name, lo, hi, default in (("layer", 1, L, 1), ("head", 1, H, 1), ("query", 0, N - 1, views.centre_patch(g))):
        key = f"att_{name}"
        asked = ss.get(key)
        asked = default if asked is None else int(asked)
        shown = ss[key] = ranges.clamped(asked, lo, hi)
        if shown != asked:
            notes.append(range_note(why, name, asked, shown, hi))
    return notes


def range_note(why: str, name: str, asked: int, shown: int, last: int) -> str:
    """What a value out of range was changed to, and why: "link", "model" (a new model) or "typed"."""
    if why == "typed" and name != "query":  # the explorer keeps layer and head in range: only a typed patch cannot
        why = "model"
    return t(f"attention.clamped_{why}_{name}", asked=asked, shown=shown, last=last)


if __name__ == "__main__":  # Streamlit runs pages as __main__; tests import the helpers above without running this
    main()
