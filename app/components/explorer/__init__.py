"""Step 5's attention explorer, in the browser: a Streamlit component (st.components.v2) whose JavaScript and CSS are
the files of this folder (JS, joined by app/components.register; no build step, nothing from a CDN). It holds the
picture's attentions and draws every view of a head on canvas, so that a step needs no round trip to the server
(issue 15, docs/PERFORMANCE.md).

What it is sent, once per picture, model and language (`payload`):
- the attentions quantised to 8 bits, each row on its own scale (vit_core.views.quantised): the teaching model's
  6 × 4 × 50 × 50 weights are 60 KB. A trace bigger than WHOLE_TRACE_BYTES (ViT-B/16: 12 × 12 × 197 × 197, 5.6 MB)
  is sent a layer at a time: `window`, the one in view and its neighbour on the side the learner is heading;
- every head's cls row, and the query patch's, and the rollout's: the grid of all heads needs no other layer;
- the model's view of the picture, the colour scales, the distances, and the catalog's templates it fills in.

What the browser computes from it (decoding, pooling, the head average, scaling, the sentences a screen reader hears,
the window of layers) is a declared port of the Python functions named in numbers.js and text.js, which are the
reference (with ../shared/words.js, the words and numbers step 8's layer view writes too):
tests/browser/test_explorer_parity.py runs both in Chromium on the same inputs.

It reports what it shows (layer, head, query patch, grid rows, pooling, play speed) back, debounced: `on_view` keeps
it in session state, for the address bar (app/links.py), the GIF and .npz downloads and a return to the page. The
page's data carries the view of the page's last full run, not each report's, so that a report (which reruns the
explorer's fragment) sends the same data again: the browser sees it unchanged and does nothing.
"""
from __future__ import annotations

import base64
import hashlib
import re

import numpy as np
import streamlit as st

from app import budget, components, core, labels, ranges, style
from app.components import lut
from app.i18n import current_language, t_in
from vit_core import views

PORTS = ("../shared/josa.js", "../shared/words.js", "numbers.js", "text.js")  # ports (tests/browser/*_parity.py)
JS_FILES = (*PORTS, "../shared/bytes.js", "data.js", "canvas.js", "template.js", "controls.js", "report.js",
            "views/matrix.js", "views/maps.js", "views/grid.js", "views/distances.js", "index.js")
CSS_FILES = ("explorer.css",)
JS = components.joined("explorer", JS_FILES)
COMPONENT = components.register("vit_explainer.attention_explorer", "explorer", JS_FILES, CSS_FILES,
                                isolate_styles=False)
KEY = "att_explorer"
SPEEDS = (0.5, 1.0, 2.0)  # seconds per step in play mode
WHOLE_TRACE_BYTES = 1 << 20  # a quantised trace up to this size is sent whole; a bigger one a layer at a time
ROWS = 12  # the strongest patches a map's table lists (as app/describe.ROWS)
MATRIX_CAP, MAP_CAP, GRID_CAP = 560, 300, 96  # px: the widest the matrix, a map and a cell of the grid are drawn
CANVAS_FONT = 12  # px: ticks and axis titles drawn on canvas
# the catalog keys the JavaScript fills in: every "namespace.name" string in it, and those it builds from a name
TEXT_KEYS = tuple(sorted(set(re.findall(r'"((?:attention|alt|labels|common)\.\w+)"', JS))
                         | {f"attention.pool_{k}" for k in ("mean", "amax")}
                         | {f"attention.tip_matrix_{k}" for k in ("mean", "amax")}))
FIELDS = ("layer", "head", "query", "rows", "pool", "speed")


def show(c, mount: dict, now: dict) -> None:
    """The explorer for this picture and model, opening on `mount` (the view of the page's last full run; the keys
    of FIELDS); `now`, the view of its last report, says which layers a big model needs."""
    COMPONENT(data=session_payload(c, mount, now), key=KEY, on_view_change=on_view, height="content")


def session_payload(c, mount: dict, now: dict) -> dict:
    """payload(), kept in the session for as long as it is the same: a report (every step, for every learner) then
    costs no cache lookup, which hashes the picture's bytes, and no copy out of st.cache_data."""
    cfg, ss = c.config, st.session_state
    whole = whole_trace(cfg)
    key = (c.image_bytes, c.model_id, current_language(), tuple(sorted(mount.items())),
           None if whole else (tuple(window(now["layer"], now["head"], cfg)), now["query"]))
    kept = ss.get("_att_payload")
    if kept is None or kept[0] != key:
        kept = ss["_att_payload"] = (key, payload(c, mount, now))
    return kept[1]


def payload(c, mount: dict, now: dict) -> dict:
    cfg, lang = c.config, current_language()
    whole = whole_trace(cfg)
    layers = range(cfg.num_hidden_layers) if whole else window(now["layer"], now["head"], cfg)
    data = dict(about(c.image_bytes, c.model_id, lang))
    data["layers"] = {str(li): layer_block(c.image_bytes, c.model_id, li) for li in layers}
    data["rows"] = rows(c.image_bytes, c.model_id, (mount if whole else now)["query"])
    data["complete"] = whole
    data["state"] = {k: mount[k] for k in FIELDS}
    return data


def whole_trace(cfg) -> bool:
    L, H, T = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_tokens
    return L * H * T * T <= WHOLE_TRACE_BYTES


def window(layer: int, head: int, cfg) -> list[int]:
    """The layers (0-based) sent to a big model's explorer: the one in view, and the one before or after it, on the
    side its head is nearer (where ◀ / ▶ would go next). The browser asks for a layer it lacks by the same rule
    (numbers.js, layerWindow: a tested port)."""
    other = layer if head > cfg.num_attention_heads / 2 else layer - 2
    return sorted({layer - 1} | ({other} if 0 <= other < cfg.num_hidden_layers else set()))


def b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


@st.cache_data(max_entries=128, show_spinner=False)
def about(image_bytes: bytes, model_id: str, lang: str) -> dict:
    """What does not change while stepping: sizes, the picture, colours, distances, labels and texts."""
    a = core.analyse(image_bytes, model_id)
    cfg = a.config
    block = views.pool_block(cfg.num_patches, budget.ATTENTION_SIDE)
    fmt = style.picture_format(cfg.image_size, cfg.image_size)
    picture = style.encoded(a.model_view, fmt)
    texts = {k: t_in(lang, k) for k in TEXT_KEYS}
    return {
        "base": f"{hashlib.sha1(image_bytes).hexdigest()[:16]}:{model_id}:{lang}",
        "uid": hashlib.sha1(f"{model_id}:{lang}".encode()).hexdigest()[:8],
        "L": cfg.num_hidden_layers, "H": cfg.num_attention_heads, "T": cfg.num_tokens, "g": cfg.grid_size,
        "block": block, "speeds": list(SPEEDS), "rows_n": ROWS, "font": CANVAS_FONT,
        "matrix_cap": MATRIX_CAP, "map_cap": MAP_CAP, "grid_cap": GRID_CAP, "highlight": style.HIGHLIGHT_CSS,
        "view": f"data:image/{fmt.lower()};base64,{base64.b64encode(picture).decode('ascii')}",
        "lut": {"heat": b64(lut(style.HEAT)), "seq": b64(lut("viridis"))},
        "dist": [round(float(v), 3) for v in a.distances.reshape(-1)], "uniform": round(a.uniform_distance, 3),
        "labels_cls": t_in(lang, "labels.cls"),
        "matrix_labels": labels.matrix_labels(cfg.grid_size, block),  # in `lang`: the session's language
        "text": texts,
    }


@st.cache_data(max_entries=256, show_spinner=False)  # the teaching model: 16 KB a layer; ViT-B/16 620 KB
def layer_block(image_bytes: bytes, model_id: str, layer: int) -> dict:
    """One layer (0-based): every head's attention matrix and the rollout so far, 8 bits a weight."""
    a = core.analyse(image_bytes, model_id)
    return encoded_layer(a.trace.attentions[layer, 0], a.rollout[layer])


def encoded_layer(attentions: np.ndarray, rollout: np.ndarray) -> dict:
    """A layer as the browser's store reads it (data.js): (H, T, T) attentions and the (T, T) rollout so far."""
    att, scale = views.quantised(attentions)  # (H, T, T), (H, T)
    roll, rscale = views.quantised(rollout)  # (T, T), (T,)
    return {"att": b64(att), "scale": b64(scale), "roll": b64(roll), "rscale": b64(rscale)}


@st.cache_data(max_entries=128, show_spinner=False)
def rows(image_bytes: bytes, model_id: str, query: int) -> dict:
    """The cls token's row and the query patch's, of every head of every layer (8 bits, a scale per head), and of
    the rollout after every layer (float32): (L, H, T) and (L, T) each."""
    a = core.analyse(image_bytes, model_id)
    return encoded_rows(a.trace.attentions[:, 0], a.rollout, query)


def encoded_rows(attentions: np.ndarray, rollout: np.ndarray, query: int) -> dict:
    """The rows of (L, H, T, T) attentions and the (L, T, T) rollout that the browser keeps for every layer."""
    def one(r: int) -> dict:
        q, s = views.quantised(attentions[:, :, r])  # (L, H, T), (L, H)
        return {"q": b64(q), "s": b64(s), "roll": b64(np.asarray(rollout[:, r], dtype=np.float32))}

    return {"cls": one(0), "query": {"k": query, **one(query + 1)}}


def on_view() -> None:
    """The explorer's report (input from the browser: only values in range are kept)."""
    report = (st.session_state.get(KEY) or {}).get("view")
    if not isinstance(report, dict):
        return
    ss = st.session_state
    for name in ("layer", "head", "query"):  # the page brings them into the model's range (keep_in_range)
        value = report.get(name)
        if ranges.whole(value, 0, 99_999) is not None:
            ss[f"att_{name}"] = value
    if report.get("rows") in ("cls", "query"):
        ss["att_grid_rows"] = report["rows"]
    if report.get("pool") in ("mean", "amax"):
        ss["att_pool"] = report["pool"]
    if report.get("speed") in SPEEDS:
        ss["att_speed"] = float(report["speed"])
