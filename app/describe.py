"""What each picture shows, in words and with its numbers, in the page's language: the text a screen reader reads for
it (st.image's `alt`, issue 17), written here, in one place, from the same records the picture is drawn from.

"attention map" says nothing; "Attention of layer 3, head 2, query patch 17: the strongest patch is 24 (row 3, column
3), 0.214 …" says what a sighted learner sees. Patches are named as everywhere in the app (app/labels.py): patch k,
0-based, at row k // g and column k % g. Catalog: locales/*/alt.toml. Tested on hand-made records in
tests/test_describe.py.
"""
from __future__ import annotations

import re

import numpy as np

from app import labels, numbers
from app.numbers import number  # describe.number: the reference of the explorer's port (shared/words.js)
from app.i18n import t


def _patch(k: int, g: int) -> str:
    return labels.patch(int(k), g)


def strongest(heat: np.ndarray, n: int = 3) -> list[tuple[int, float]]:
    """The `n` largest cells of a (g, g) map, largest first, as (patch number, value); ties by patch number."""
    flat = np.asarray(heat, dtype=np.float64).reshape(-1)
    order = np.lexsort((np.arange(flat.size), -flat))[:n]
    return [(int(k), float(flat[k])) for k in order]


def weakest(values: np.ndarray) -> int:
    """The index of the smallest value (the first, on a tie)."""
    return int(np.asarray(values).reshape(-1).argmin())


def peaks(rows: np.ndarray) -> tuple[tuple[int, float], tuple[int, float]]:
    """Of K rows (or maps) of weights, (K, …): the one with the largest single weight ("the most focused") and the one
    whose largest weight is smallest ("the most spread out"), each as (index, that weight); the first on a tie."""
    top = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1).max(-1)  # (K,)
    narrow, broad = int(top.argmax()), int(top.argmin())
    return (narrow, float(top[narrow])), (broad, float(top[broad]))


def heat(what: str, heat: np.ndarray, outlined: int | None = None) -> str:
    """A (g, g) map over the picture: `what` it is (a sentence, translated by the caller), then where it is strongest
    and weakest, and the patch outlined on it, if any."""
    g = heat.shape[0]
    (k1, v1), *rest = strongest(heat, 2)
    low = weakest(heat)
    text = t("alt.heat", what=what, top=_patch(k1, g), v=number(v1), low=_patch(low, g),
             vlow=number(float(np.asarray(heat).reshape(-1)[low])))
    if rest:
        text += " " + t("alt.heat_second", second=_patch(rest[0][0], g), v=number(rest[0][1]))
    if outlined is not None:
        text += " " + t("alt.outlined", patch=_patch(outlined, g))
    return text


# ---- step 1: the picture and the patches --------------------------------------------------------------------------
def original(name: str, size: tuple[int, int], crop: tuple[float, float, float, float], demo: bool = False) -> str:
    """The picture on page 1 with the model's crop outlined: an upload by its file's name, a demo by its own."""
    w, h = size
    cw, ch = round(crop[2] - crop[0]), round(crop[3] - crop[1])
    picture = t("alt.original_demo" if demo else "alt.original_upload", name=name, w=w, h=h)
    return t("alt.original", picture=picture, cw=cw, ch=ch)


def model_view(view: np.ndarray) -> str:
    """The model's input, S×S pixels: grey or in colour, and how bright."""
    S = view.shape[0]
    grey = view.ndim == 2 or view.shape[-1] == 1 or bool(np.all(view[..., 0] == view[..., -1]))
    return t("alt.model_view", S=S, colour=t("alt.grey" if grey else "alt.colour"),
             mean=round(float(np.asarray(view, dtype=np.float64).mean()) / 255 * 100))


def patch_grid(S: int, P: int, numbered: bool) -> str:
    g = S // P
    return t("alt.patch_grid_numbered" if numbered else "alt.patch_grid", S=S, P=P, g=g, N=g * g, last=g * g - 1)


def patches_apart(N: int, g: int) -> str:
    return t("alt.patches_apart", N=N, g=g)


# ---- step 2: one patch flattened ----------------------------------------------------------------------------------
def patch_place(k: int, g: int) -> str:
    return t("alt.patch_place", patch=_patch(k, g), g=g)


def patch_pixels(k: int, g: int, pixels: np.ndarray) -> str:
    """A patch's pixels (P, P, C) uint8 enlarged: its size and how dark and bright it is."""
    values = np.asarray(pixels, dtype=np.int64)
    return t("alt.patch_pixels", patch=_patch(k, g), P=values.shape[0], lo=int(values.min()), hi=int(values.max()),
             mean=round(float(values.mean())))


def patch_line(k: int, P: int, C: int) -> str:
    return t("alt.patch_line", k=k, PP=P * P, P=P, PPC=P * P * C)


# ---- step 3: embedding --------------------------------------------------------------------------------------------
def cls_copies(cls: np.ndarray, B: int) -> str:
    return t("alt.cls_copies", B=B, D=cls.shape[0], lo=number(float(cls.min())), hi=number(float(cls.max())))


def position_similarity(sim: np.ndarray) -> str:
    """Paper Fig. 7 (centre): (g, g, g, g) cosine similarities; how much more alike neighbours are than the rest."""
    g = sim.shape[0]
    r, c = np.divmod(np.arange(g * g), g)
    d = np.abs(r[:, None] - r[None]) + np.abs(c[:, None] - c[None])  # (N, N): steps between two patches
    flat = np.asarray(sim, dtype=np.float64).reshape(g * g, g * g)
    near, far = flat[d == 1], flat[d > 1]
    return t("alt.position_similarity", g=g, N=g * g, near=number(float(np.mean(near))),
             far=number(float(np.mean(far))))


def filters_pca(k: int, P: int, explained: np.ndarray) -> str:
    return t("alt.filters_pca", k=k, P=P, share=round(float(np.sum(explained)) * 100),
             first=round(float(explained[0]) * 100))


# ---- step 4: the encoder ------------------------------------------------------------------------------------------
def block_diagram(kind: str) -> str:
    """The pre-norm or post-norm block drawn as boxes and arrows (a diagram that depends on nothing else)."""
    return t(f"alt.block_{kind}")


def flow(layer: int, points) -> str:
    """The data flow through one block (views.FlowPoint records): how long the patch tokens are where it enters and
    where it leaves."""
    first, last = points[0], points[-1]
    return t("alt.flow", layer=layer, n=len(points), a=number(float(first.patch_norms.mean())),
             b=number(float(last.patch_norms.mean())), lo=number(last.shortest), hi=number(last.longest))


def qkv(layer: int, head: int, query: str, key: str, T: int, d: int) -> str:
    return t("alt.qkv", layer=layer, head=head, q=query, k=key, T=T, d=d)


# ---- step 5: attention --------------------------------------------------------------------------------------------
# The explorer draws step 5 in the browser: these are the reference of its sentences (ports in
# app/components/explorer/text.js, held equal by tests/browser/test_explorer_parity.py).
def cls_map(layer: int, head: int, heat_: np.ndarray, cls_self: float) -> str:
    return heat(t("alt.cls_map", layer=layer, head=head, self=number(cls_self)), heat_)


def query_map(layer: int, head: int, query: int, heat_: np.ndarray) -> str:
    g = heat_.shape[0]
    return heat(t("alt.query_map", layer=layer, head=head, patch=_patch(query, g)), heat_, outlined=query)


def heads_grid(rows: np.ndarray, layer: int, head: int, query: int | None) -> str:
    """Every head of every layer as small maps of one row's weights on the patches (`rows`: (L, H, N) or (L, H, g, g),
    the weights as the model computed them, not scaled); the one in view framed. Says which head looks most narrowly (the
    largest single weight) and which most broadly (the smallest largest weight)."""
    L, H = rows.shape[:2]
    (narrow, nv), (broad, bv) = peaks(np.reshape(rows, (L * H, -1)))
    row = t("alt.row_cls") if query is None else t("alt.row_query", k=query)
    return t("alt.heads_grid", L=L, H=H, row=row, layer=layer, head=head, nl=narrow // H + 1, nh=narrow % H + 1,
             nv=number(nv), bl=broad // H + 1, bh=broad % H + 1, bv=number(bv))


def matrix(z: np.ndarray, names: list[str], query: int, g: int) -> str:
    """The (G, G) attention matrix in view (pooled or not; `names`: its rows' and columns' labels): its brightest
    cell, and the query patch whose row is outlined."""
    G = z.shape[0]
    best, value = strongest(z, 1)[0]
    return t("alt.matrix", G=G, top=number(value), q=names[best // G], k=names[best % G], query=_patch(query, g))


def distances(L: int, H: int, layer: int, head: int, px: float, uniform: float) -> str:
    """The chart of every head's mean attention distance, the head in view on it, and the uniform head's."""
    return t("alt.distances", L=L, H=H, layer=layer, head=head, px=number(px), u=number(uniform))


def head_average(layer: int, H: int, heat_: np.ndarray, query: int | None) -> str:
    return heat(t("alt.average", layer=layer, H=H), heat_, outlined=query)


def rollout(layer: int, heat_: np.ndarray, query: int | None) -> str:
    return heat(t("alt.rollout", layer=layer), heat_, outlined=query)


# ---- steps 6 to 8 ---------------------------------------------------------------------------------------------------
def model_input(change: str, S: int) -> str:
    """The picture as the model gets it in an experiment; `change` says in words what was done to it."""
    return t("alt.model_input", S=S, change=change)


def qr(url: str) -> str:
    return t("alt.qr", url=url)


def intervention(iv, fill_name: str) -> str:
    """An experiments.Intervention in words (`fill_name`: its fill, as the page names it)."""
    parts = []
    if iv.mask:
        parts.append(t("alt.masked", n=len(iv.mask), fill=fill_name))
    if iv.shuffle_seed is not None:
        parts.append(t("alt.shuffled", seed=iv.shuffle_seed))
    if iv.no_pos_embed:
        parts.append(t("alt.no_pos"))
    if iv.ablate:
        parts.append(t("alt.ablated", n=len(iv.ablate)))
    if parts and not iv.mask and iv.shuffle_seed is None:  # only the model changed
        parts.append(t("alt.picture_same"))
    return "; ".join(parts) or t("alt.unchanged")


def similarity_row(sim_row: np.ndarray, k: int) -> str:
    """One patch's (g, g) map of position similarity: its nearest neighbours against the rest."""
    g = sim_row.shape[0]
    r, c = divmod(k, g)
    rr, cc = np.divmod(np.arange(g * g), g)
    d = np.abs(rr - r) + np.abs(cc - c)
    flat = np.asarray(sim_row, dtype=np.float64).reshape(-1)
    return t("alt.experiment_sim", k=k, near=number(float(flat[d == 1].mean())), far=number(float(flat[d > 1].mean())))


def difference(diff: np.ndarray, method: str, a: str, b: str) -> str:
    g = diff.shape[0]
    k = int(np.abs(diff).reshape(-1).argmax())
    return t("alt.difference", method=method, a=a, b=b, m=number(float(diff.reshape(-1)[k])), top=_patch(k, g))


def picked_token(token: int | None, g: int) -> str:
    what = t("alt.qk_none") if token is None else t("alt.qk_cls") if token == 0 else _patch(token - 1, g)
    return t("alt.qk_picked", what=what)


# ---- charts: a text alternative from the figure's own data ----------------------------------------------------------
ROWS = 12  # the most rows a chart's table shows


def _names(values, n: int, place=None) -> list[str]:
    """The places along an axis as words: its category names, or its numbers as `place` writes them (`number`)."""
    if values is None:
        return [str(i) for i in range(n)]
    values = list(values)
    if all(isinstance(v, str) for v in values):
        return values
    return [(place or number)(float(v)) if not isinstance(v, str) else v for v in values]


def _axis_title(fig, axis: str) -> str:
    title = getattr(getattr(fig.layout, axis), "title", None)
    return (getattr(title, "text", None) or "") if title is not None else ""


def _cell(tr, xs: list[str], ys: list[str], i: int, j: int, cell=None) -> str:
    """A heat map's cell (i, j) in words: as the page names it (`cell(row, column)`: "layer 2, head 3",
    labels.head), as the trace names it (its `text`, one per cell), at a place on the grid where its row and column
    are numbers ("row 2, column 3", labels.place), or by its row's and column's names."""
    if cell is not None:
        return cell(ys[i], xs[j])
    if tr.text is not None and np.ndim(tr.text) == 2:
        return str(tr.text[i][j])
    if ys[i].isdigit() and xs[j].isdigit():
        return labels.place(ys[i], xs[j])
    return t("alt.chart_cell", y=ys[i], x=xs[j])


def chart(fig, value=number, place=None, cell=None) -> tuple[str, list[dict[str, str]]]:
    """A Plotly figure in words and as a short table, from the data it draws: for a heat map its largest cells, for
    bars their values, for lines and points a sample along x with the highest and lowest. Values are written by
    `value`, numbered places along an axis by `place` (both `number` unless the page says otherwise: the paper's
    values as it prints them, a share of patches as 31/49 (63%); app/numbers.py). Returns (a sentence for each trace,
    table rows)."""
    sentences, rows = [], []
    col_series, col_x, col_y, col_v = (t("alt.col_series"), _axis_title(fig, "xaxis") or t("alt.col_x"),
                                       _axis_title(fig, "yaxis") or t("alt.col_y"), t("alt.col_value"))
    # a scatter trace drawn as text only (mode "text") is labels written over another trace's cells (the head-importance
    # chart's values in its heat map): no data of its own, so no sentence and no rows of its own
    drawn = [tr for tr in fig.data if tr.type in ("heatmap", "bar", "scatter") and tr.visible is not False
             and not (tr.type == "scatter" and tr.mode == "text")]
    for tr in drawn:
        name = tr.name or ""
        if tr.type == "heatmap":
            z = np.asarray(tr.z, dtype=np.float64)
            z = z[None] if z.ndim == 1 else z
            xs, ys = _names(tr.x, z.shape[1], place), _names(tr.y, z.shape[0], place)
            finite = np.where(np.isfinite(z), z, -np.inf)
            order = np.argsort(-finite, axis=None, kind="stable")[:ROWS]
            hi, lo = np.unravel_index(order[0], z.shape), np.unravel_index(np.nanargmin(z), z.shape)
            sentences.append(t("alt.chart_heatmap", rows=z.shape[0], cols=z.shape[1], hi=value(z[hi]),
                               hiat=_cell(tr, xs, ys, *hi, cell), lo=value(z[lo]), loat=_cell(tr, xs, ys, *lo, cell)))
            rows += [{col_y: ys[i], col_x: xs[j], col_v: value(z[i, j])}
                     for i, j in zip(*np.unravel_index(order, z.shape)) if np.isfinite(z[i, j])]
            continue
        horizontal = tr.type == "bar" and tr.orientation == "h"
        values = np.asarray(tr.x if horizontal else tr.y, dtype=np.float64)
        if values.size == 0:
            continue
        places = _names(tr.y if horizontal else tr.x, values.size, place)
        hi, lo = int(np.nanargmax(values)), int(np.nanargmin(values))
        sentences.append(t("alt.chart_series" if name else "alt.chart_values", name=name, n=values.size,
                           hi=value(values[hi]), hiat=places[hi], lo=value(values[lo]), loat=places[lo]))
        keep = sorted({hi, lo, *np.linspace(0, values.size - 1, min(values.size, ROWS)).round().astype(int)})
        place_col = col_y if horizontal else col_x
        value_col = col_x if horizontal else col_y
        rows += [{**({col_series: name} if len(drawn) > 1 else {}), place_col: places[i], value_col: value(values[i])}
                 for i in keep]
    return " ".join(sentences), rows


def map_rows(heat: np.ndarray, n: int = ROWS) -> list[dict[str, str]]:
    """A (g, g) map's `n` largest cells as table rows: the patch, in words, and its value."""
    g = heat.shape[0]
    return [{t("alt.col_patch"): _patch(k, g), t("alt.col_value"): number(v)} for k, v in strongest(heat, n)]


def markdown_table(rows: list[dict[str, str]]) -> str:
    """describe.chart's rows as a Markdown table (the columns of the first row), its cells escaped for Markdown."""
    cols = list(rows[0])
    cell = lambda v: re.sub(r"([\\|*_`\[\]<>#~$])", r"\\\1", str(v))  # noqa: E731 — text, never markup
    lines = ["| " + " | ".join(cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    return "\n".join(lines + ["| " + " | ".join(cell(r.get(c, "")) for c in cols) + " |" for r in rows])


def masked(patches, g: int) -> str:
    """The experiments' mask chart: which patches are masked."""
    if not patches:
        return t("alt.mask_none")
    return t("alt.mask_some", n=len(patches), patches=", ".join(str(int(k)) for k in sorted(patches)))


def qk(geo, token: int | None, g: int) -> str:
    """explain.QKGeometry: queries and keys on two principal components, and the token picked on it (None: none;
    0: cls; k: patch k − 1), with the key nearest to its query there."""
    T = geo.tokens
    picked = t("alt.qk_none") if token is None else t("alt.row_cls") if token == 0 else _patch(token - 1, g)
    if token is not None:
        keys = np.asarray(geo.points[T:], dtype=np.float64)  # (T, 2)
        j = int(np.linalg.norm(keys - geo.points[token], axis=1).argmin())
        picked = t("alt.qk_nearest", picked=picked, nearest=t("alt.row_cls") if j == 0 else _patch(j - 1, g))
    return t("alt.qk", N=T - 1, a=round(float(geo.explained[0]) * 100), b=round(float(geo.explained[1]) * 100),
             picked=picked)


# ---- step 8: inside the tokens (catalog: locales/*/tokens.toml) ------------------------------------------------------
# The layer view draws these in the browser: they are the reference of its ports (app/components/lens/text.js, held
# equal by tests/browser/test_lens_parity.py).
def layer_in_view(layer: int, L: int) -> str:
    """The sentence under the layer slider: layer 0 is the embeddings, layer ℓ the tokens after block ℓ."""
    return t("tokens.layer_caption") if layer == 0 else t("tokens.layer_block", layer=layer, L=L)


def votes(layer: int, votes_: np.ndarray, names: dict[int, str], answer: int, cls_vote: int) -> str:
    """The logit lens's map in words: how many patches vote for the model's answer, the classes voted for most, and
    the cls token's vote."""
    classes, counts = np.unique(votes_, return_counts=True)
    order = np.lexsort((classes, -counts))[:3]
    most = ", ".join(t("tokens.alt_count", name=names[int(classes[i])], n=int(counts[i])) for i in order)
    return t("tokens.alt_votes", layer=layer, share=numbers.share(int((votes_ == answer).sum()), votes_.size),
             answer=names[answer], most=most, cls=names[cls_vote])


def vote_rows(votes_: np.ndarray, names: dict[int, str], n: int = ROWS) -> list[dict[str, str]]:
    """The classes the patches vote for, most voted first, as table rows: the class and its number of patches."""
    classes, counts = np.unique(votes_, return_counts=True)
    return [{t("tokens.col_class"): names[int(classes[i])], t("tokens.col_patches"): str(int(counts[i]))}
            for i in np.lexsort((classes, -counts))[:n]]


def similar(layer: int, patch: int, row: np.ndarray) -> str:
    """One patch's similarity to every patch (g, g): the most and least alike of the others."""
    g = row.shape[0]
    flat = np.asarray(row, dtype=np.float64).reshape(-1).copy()
    flat[patch] = -np.inf  # itself: always 1
    k = int(flat.argmax())
    flat[patch] = np.inf
    low = int(flat.argmin())
    return t("tokens.alt_similar", layer=layer, patch=_patch(patch, g), top=_patch(k, g),
             v=number(float(row.flat[k])), low=_patch(low, g), vlow=number(float(row.flat[low])))


def alike_curve(mean: np.ndarray) -> str:
    """The learner's own curve of mean patch-pair similarity, read: where it starts, ends and peaks."""
    peak = int(np.argmax(mean))
    return t("tokens.alike_reading", first=number(float(mean[0])), last=number(float(mean[-1])), peak=peak,
             top=number(float(mean[peak])), L=len(mean) - 1)


def norm_map(layer: int, norms: np.ndarray, largest: tuple[int, ...]) -> str:
    """The patches' norms (g, g) at one layer, the largest outlined."""
    g = norms.shape[0]
    flat = np.asarray(norms, dtype=np.float64).reshape(-1)
    named = ", ".join(f"{_patch(k, g)} {number(float(flat[k]))}" for k in largest)
    return t("tokens.alt_norms", layer=layer, largest=named, median=number(float(np.median(flat))))
