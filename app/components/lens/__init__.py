"""Step 8's layer in the browser (issue 27): a Streamlit component (st.components.v2) mounted once per part of the
page, whose JavaScript and CSS are the files of this folder (joined by app/components.register; no build step,
nothing from a CDN): the layer part carries the code (JS_FILES), each map part a few lines that hand it over
(part.js), so that a page is sent the code once. The layer slider and the three maps that change with it (the logit
lens's votes, the chosen patch's similarity, the patches' norms) are drawn in the browser, so that a step of the
layer needs no round trip to the server (docs/PERFORMANCE.md); every part on the page follows the one layer
(store.js).

What each part is sent, once per picture, model, language and chosen patch (`payload`), for every layer at once:
- "layer": the slider (0 … L) and the sentence that says which layer is in view; and, for every part, the model's
  view of the picture and the catalog's templates, sent once;
- "votes": the class each token votes for at every layer (L+1, T), as indices into the classes voted for, with
  their names and colours and the model's answer;
- "similarity": the chosen patch's row of cosine similarities at every layer (L+1, N), float32: not T × T a layer;
- "norms": every patch's norm at every layer (L+1, N), float32, and the MARKED largest of each layer;
- the colour scale of a map (256 RGB triples).

What the browser writes from it (the sentences a screen reader hears, the tables "as text", the shares) is a declared
port of the Python functions named in text.js and ../shared/words.js, which are the reference:
tests/browser/test_lens_parity.py runs both in Chromium on the same inputs.

The layer part reports the layer it shows, debounced, and the similarity part a patch picked on its map (`on_view`):
kept in session state as lens_layer and lens_patch, for the address bar (app/links.py) and a return to the page. The
data carries the layer of the page's last full run (`mount`), not each report's, so that a report (which reruns the
page's fragment) sends the same data again: the browser sees it unchanged and keeps the layer it shows.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import re

import numpy as np
import streamlit as st

from app import budget, components, figures, ranges, style
from app.components import lut
from app.i18n import current_language, t_in
from app.labels import class_name

PORTS = ("../shared/josa.js", "../shared/words.js", "text.js")  # ports of the Python reference (test_lens_parity.py)
JS_FILES = (*PORTS, "../shared/bytes.js", "store.js", "maps.js", "index.js")
CSS_FILES = ("lens.css",)
JS = components.joined("lens", JS_FILES)
COMPONENT = components.register("vit_explainer.lens_layer", "lens", JS_FILES, CSS_FILES, isolate_styles=False)
# the maps: their code is the layer part's (index.js), which a page is sent once, not once a part
MAP = components.register("vit_explainer.lens_map", "lens", ("part.js",), isolate_styles=False)
PARTS = ("layer", "votes", "similarity", "norms")
MARKED = 3  # the largest tokens outlined on the residual stream's map
ROWS = 12  # the strongest patches a map's table lists (as app/describe.ROWS)
TEXT_KEYS = tuple(sorted(set(re.findall(r'"((?:tokens|alt|labels)\.\w+)"', JS))))


def key(part: str) -> str:
    return f"lens_view_{part}"


def show(part: str, c, found, mount: int) -> None:
    """One part of the layer view for this picture and model, opening on layer `mount` (the page's last full run)."""
    mounting = COMPONENT if part == "layer" else MAP
    mounting(data=session_payload(part, c, found, mount), key=key(part),
             on_view_change=functools.partial(on_view, part), height="content")


def session_payload(part: str, c, found, mount: int) -> dict:
    """payload(), kept in the session for as long as it is the same: a report (every step, for every learner) then
    costs no cache lookup, which hashes the picture's bytes."""
    ss = st.session_state
    patch = ss["lens_patch"] if part == "similarity" else None
    wanted = (c.image_bytes, c.model_id, current_language(), part, patch, mount)
    kept = ss.get(f"_lens_payload_{part}")
    if kept is None or kept[0] != wanted:
        kept = ss[f"_lens_payload_{part}"] = (wanted, payload(part, c, found, mount, patch))
    return kept[1]


def b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def payload(part: str, c, found, mount: int, patch: int | None = None) -> dict:
    cfg, lang = c.config, current_language()
    L, g = cfg.num_hidden_layers, cfg.grid_size
    data = {"base": f"{hashlib.sha1(c.image_bytes).hexdigest()[:16]}:{c.model_id}:{lang}", "part": part,
            "L": L, "g": g, "N": cfg.num_patches, "rows_n": ROWS, "highlight": style.HIGHLIGHT_CSS,
            "side": budget.OVERLAY_SIDE, "mount": mount}
    if part == "layer":  # what every part needs, sent once: the templates and the picture (store.js keeps them)
        data["text"] = {k: t_in(lang, k) for k in TEXT_KEYS}
        data["view"] = view_uri(c)
    elif part == "votes":
        data.update(votes(cfg, found.logit))
    elif part == "similarity":
        data["patch"] = patch
        data["sim"] = b64(np.asarray(found.similarity.cosine[:, 1 + patch, 1:], dtype=np.float32))  # (L+1, N)
        data["lut"] = b64(lut(style.DIVERGING))
    elif part == "norms":
        s = found.stream
        data["norms"] = b64(np.asarray(s.norms[:, 1:], dtype=np.float32))  # (L+1, N)
        data["largest"] = [[int(k) for k in row[:MARKED]] for row in s.largest]  # (L+1, MARKED)
        data["top"] = float(s.patch_max.max())
        data["lut"] = b64(lut(style.HEAT))
    return data


def view_uri(c) -> str:
    fmt = style.picture_format(c.config.image_size, c.config.image_size)
    picture = style.encoded(c.analysis.model_view, fmt)
    return f"data:image/{fmt.lower()};base64,{base64.b64encode(picture).decode('ascii')}"


def votes(cfg, lens) -> dict:
    """The logit lens as the votes part reads it: every token's vote at every layer as an index into `classes` (the
    classes voted for, in ascending class number, so that a tie in the count goes to the lower index as in Python),
    their names and colours (figures.class_colours: one per class on every layer), the legend and the answer."""
    classes = np.unique(lens.votes)  # ascending
    index = np.searchsorted(classes, lens.votes).astype(np.uint16)  # (L+1, T)
    coloured = figures.class_colours(lens.votes[:, 1:])
    palette = {k: style.CLASSES[i] for i, k in enumerate(coloured)}
    names = [class_name(cfg, int(k)) for k in classes]
    legend = [[class_name(cfg, k), style.CLASSES[i]] for i, k in enumerate(coloured)]
    if len(classes) > len(coloured):
        legend.append([None, style.OTHER_CLASS])  # "other classes", in the browser's language (tokens.other_classes)
    return {"votes": b64(index), "names": names, "colours": [palette.get(int(k), style.OTHER_CLASS) for k in classes],
            "legend": legend, "answer": int(np.searchsorted(classes, lens.prediction)), "T": cfg.num_tokens}


def on_view(part: str) -> None:
    """A part's report (input from the browser: only values in range are kept; the page brings them into the model's
    range, keep_in_range): the layer part's layer, the similarity part's patch picked on its map."""
    report = (st.session_state.get(key(part)) or {}).get("view")
    if not isinstance(report, dict):
        return
    ss = st.session_state
    if part == "layer" and ranges.whole(report.get("layer"), 0, 99_999) is not None:
        ss["lens_layer"] = report["layer"]
    if part == "similarity" and ranges.whole(report.get("patch"), 0, 99_999) is not None:
        ss["lens_patch"] = report["patch"]

