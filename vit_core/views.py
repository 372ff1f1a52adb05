"""What the explainer shows, as numbers: one call runs the model on a picture (`analyse`), and pure functions turn that
analysis into the record each section of the app draws.

Every record is a frozen dataclass of numpy arrays (read-only, since one analysis is shared by every learner who
looks at the same picture). The maths itself lives in `analysis.py`, `patches.py` and `model.py`, whose source the
app shows; this module only runs it and picks out what a section needs. Layers, heads and patches are numbered as
the arrays are (from 0) unless a name says otherwise.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch

from .analysis import (attention_rollout, embedding_filters_pca, layer_predictions, mean_attention_distance, patch_map,
                       position_similarity, token_norms)
from .checkpoints import LoadedModel
from .config import PreprocessConfig, ViTConfig
from .images import Preparation, crop_box, load_picture, model_view, preparation, preprocess
from .model import ViT, TraceArrays, explain_block
from .patches import compare_methods, cpp_to_ppc, patchify, patchify_conv, patchify_loop

DISPLAY_SIDE = 512  # the uploaded picture is kept for display within a square this big


def frozen(array: np.ndarray) -> np.ndarray:
    """The array, made read-only: a shared record must not be edited in place."""
    array.setflags(write=False)
    return array


# ---- the one model call ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Analysis:
    """Everything the walkthrough draws for one picture and one model (B = 1)."""

    config: ViTConfig
    preprocess: PreprocessConfig
    original: np.ndarray  # (h, w, 3) uint8, the picture shrunk to fit a DISPLAY_SIDE square (a strip stays thin)
    original_size: tuple[int, int]  # (width, height) of the picture as uploaded, the right way up
    crop: tuple[float, float, float, float]  # the model's crop, in `original` pixel coordinates
    preparation: Preparation  # what the crop and resize did to the picture as uploaded: the share seen, the scale
    model_view: np.ndarray  # (S, S, 3) uint8, what the model sees before normalisation
    trace: TraceArrays  # every intermediate of the forward pass
    probs: np.ndarray | None  # (classes,) the prediction; None for a model without a head
    layer_probs: np.ndarray | None  # (L+1, classes) the head applied to the cls token after each layer
    rollout: np.ndarray  # (L, T, T) attention rollout after each layer
    distances: np.ndarray  # (L, H) mean attention distance in pixels
    uniform_distance: float  # the distance of a head that attends to every patch equally
    position_similarity: np.ndarray  # (g, g, g, g) cosine similarity of the position embeddings


def analyse(loaded: LoadedModel, image_bytes: bytes, lock: contextlib.AbstractContextManager | None = None) -> Analysis:
    """Decode the picture, run the model once, and compute everything derived from the whole forward pass.
    `lock` (held only around the model's work) lets a server run one model computation at a time.
    Raises ImageError for a file that is not a usable picture."""
    model, pre = loaded.model, loaded.preprocess
    cfg = model.config
    # shrunk while decoding, but never below what the model's resize and the display need on the shorter side
    picture = load_picture(image_bytes, short_side=max(pre.resize_to, pre.crop_size, DISPLAY_SIDE))
    image = picture.image
    shown = image.copy()
    shown.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE))
    sx, sy = shown.width / image.width, shown.height / image.height
    left, top, right, bottom = crop_box(image.size, pre)
    pixels = preprocess(image, pre)  # (1, 3, S, S)
    with lock or contextlib.nullcontext():
        trace = model.trace(pixels)
        attentions = [a[0] for a in trace.attentions]  # L × (H, T, T)
        has_head = trace.logits is not None
        probs = trace.logits[0].softmax(-1).numpy() if has_head else None  # (classes,)
        layer_probs = layer_predictions(model, trace.hidden_states)[:, 0].numpy() if has_head else None
        rollout = attention_rollout(attentions).numpy()  # (L, T, T)
        distances = torch.stack([mean_attention_distance(a, cfg.grid_size, cfg.patch_size) for a in attentions])
        similarity = position_similarity(model.pos_embed.detach(), cfg.grid_size).numpy()  # (g, g, g, g)
    even = torch.full((1, cfg.num_tokens, cfg.num_tokens), 1.0 / cfg.num_tokens)  # (1, T, T): looks everywhere
    return Analysis(
        config=cfg, preprocess=pre,
        original=frozen(np.asarray(shown)), original_size=picture.size,
        crop=(left * sx, top * sy, right * sx, bottom * sy), preparation=preparation(picture.size, pre),
        model_view=frozen(np.asarray(model_view(image, pre))),
        trace=trace.numpy(),
        probs=None if probs is None else frozen(probs),
        layer_probs=None if layer_probs is None else frozen(layer_probs),
        rollout=frozen(rollout), distances=frozen(distances.numpy()),
        uniform_distance=float(mean_attention_distance(even, cfg.grid_size, cfg.patch_size)[0]),
        position_similarity=frozen(similarity),
    )


# ---- step 1: patches -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PatchSizeChoice:
    """What another patch size would make of the same picture (the model itself keeps its own)."""

    patch_size: int
    grid: int  # patches per side
    patches: int  # N
    tokens: int  # N + 1
    values: int  # P·P·C numbers per patch
    attention_cells: int  # (N+1)²: one attention weight per pair of tokens, per head
    cost_ratio: float  # attention_cells relative to the model's own patch size


def patch_sizes(cfg: ViTConfig) -> list[int]:
    """The patch sizes that cut the picture into a whole grid of at least 2 × 2 patches."""
    return [p for p in range(2, cfg.image_size // 2 + 1) if cfg.image_size % p == 0] or [cfg.patch_size]


def patch_size_choice(cfg: ViTConfig, p: int) -> PatchSizeChoice:
    grid = cfg.image_size // p
    n = grid * grid
    return PatchSizeChoice(p, grid, n, n + 1, p * p * cfg.num_channels, (n + 1) ** 2,
                           (n + 1) ** 2 / cfg.num_tokens ** 2)


def patch_box(cfg: ViTConfig, k: int) -> tuple[int, int, int, int]:
    """Patch k's (left, top, right, bottom) in model-view pixels."""
    r, c = divmod(k, cfg.grid_size)
    P = cfg.patch_size
    return c * P, r * P, (c + 1) * P, (r + 1) * P


def centre_patch(grid: int) -> int:
    """The patch in the middle of a grid of grid × grid patches, row-major from 0 (on an even grid, the one below and
    to the right of the middle): 24 of 7 × 7, 105 of 14 × 14."""
    return (grid // 2) * grid + grid // 2


def patch_pixels(a: Analysis, k: int) -> np.ndarray:
    """The (P, P, 3) uint8 pixels of patch k of the model's view."""
    left, top, right, bottom = patch_box(a.config, k)
    return a.model_view[top:bottom, left:right]


def mosaic(tiles: np.ndarray, gap: int, fill: float | int) -> np.ndarray:
    """Tiles (R, C, h, w, …) laid out on one canvas in their grid order, `gap` cells of `fill` between them:
    (R·(h+gap) − gap, C·(w+gap) − gap, …)."""
    R, C, h, w = tiles.shape[:4]
    canvas = np.full((R * (h + gap) - gap, C * (w + gap) - gap, *tiles.shape[4:]), fill, tiles.dtype)
    for r in range(R):
        for c in range(C):
            canvas[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = tiles[r, c]
    return canvas


def patches_apart(a: Analysis, zoom: int, gap: int = 6) -> np.ndarray:
    """Every patch of the model's view blown up `zoom` times, with white space between them, in grid order."""
    g, P = a.config.grid_size, a.config.patch_size
    big = a.model_view[:g * P, :g * P].repeat(zoom, 0).repeat(zoom, 1)  # (g·P·zoom, g·P·zoom, 3)
    side = P * zoom
    tiles = big.reshape(g, side, g, side, 3).transpose(0, 2, 1, 3, 4)  # (g, g, side, side, 3)
    return mosaic(tiles, gap, 255)


# ---- step 2: flatten -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThreeWays:
    """The three patchify implementations on the picture the model saw, and how far apart they are."""

    loop: np.ndarray  # (N, C·P·P), (c p1 p2) order
    einops: np.ndarray  # (N, P·P·C), (p1 p2 c) order: the model's input
    conv: np.ndarray  # (N, C·P·P), (c p1 p2) order
    differences: dict[str, float]  # compare_methods: largest absolute differences, after the permutation
    permutation: np.ndarray  # (P·P·C,): loop[..., permutation] == einops


def three_ways(a: Analysis) -> ThreeWays:
    x = torch.from_numpy(np.array(a.trace.pixel_values))  # (1, C, S, S), a writable copy
    p, C = a.config.patch_size, a.config.num_channels
    outs = {name: frozen(fn(x, p)[0].detach().numpy())
            for name, fn in (("loop", patchify_loop), ("einops", patchify), ("conv", patchify_conv))}
    return ThreeWays(**outs, differences=compare_methods(x, p), permutation=frozen(cpp_to_ppc(p, C).numpy()))


# ---- step 3: embedding -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EmbeddingWeights:
    """The learned parameters of Eq. 1, as the model stores them."""

    E: np.ndarray  # (D, P·P·C): nn.Linear's weight, the paper's E transposed
    cls: np.ndarray  # (D,) x_class
    pos: np.ndarray  # (N+1, D) E_pos
    cls_prepended: bool  # row 0 of tokens_with_cls is exactly the cls token
    pos_shape: tuple[int, ...]  # (1, N+1, D): the parameter's own shape, one set of positions for the whole batch


def embedding_weights(model: ViT, a: Analysis) -> EmbeddingWeights:
    cls = model.cls_token.detach().numpy()[0, 0]  # (D,)
    return EmbeddingWeights(frozen(model.patch_embed.weight.detach().numpy().copy()), frozen(cls.copy()),
                            frozen(model.pos_embed.detach().numpy()[0].copy()),
                            bool(np.array_equal(a.trace.tokens_with_cls[0, 0], cls)), tuple(model.pos_embed.shape))


@dataclass(frozen=True)
class FiltersPCA:
    """Paper Fig. 7 (left): the principal components of E."""

    components: np.ndarray  # (k, P, P, C), each scaled to [0, 1]
    explained: np.ndarray  # (k,) the fraction of variance each explains


def filters_pca(model: ViT, k: int) -> FiltersPCA:
    comps, explained = embedding_filters_pca(model, k)
    return FiltersPCA(frozen(comps.numpy()), frozen(explained.numpy()))


def explained_by_first(pca: FiltersPCA, n: int) -> float:
    """The share of the filters' variance that the first n components explain together (all k of them if n > k)."""
    return float(pca.explained[:n].sum())


def similarity_mosaic(similarity: np.ndarray) -> np.ndarray:
    """Paper Fig. 7 (centre) as one array: the (g, g) map of every patch placed at that patch's place in the grid,
    a NaN cell between maps. (g, g, g, g) → (g·(g+1) − 1, g·(g+1) − 1)."""
    return mosaic(similarity.astype(np.float32), 1, np.nan)


# ---- step 4: one encoder block ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BlockArrays:
    """Inside encoder block `layer` (0-based) for one picture: BlockTrace without the batch axis."""

    x: np.ndarray  # (T, D) input z_{l-1}
    ln1: np.ndarray  # (T, D)
    q: np.ndarray  # (H, T, d)
    k: np.ndarray  # (H, T, d)
    v: np.ndarray  # (H, T, d)
    scores: np.ndarray  # (H, T, T) = QKᵀ/√d
    probs: np.ndarray  # (H, T, T) = softmax(scores)
    heads_out: np.ndarray  # (H, T, d) = probs · V
    attn_out: np.ndarray  # (T, D) after concat and projection
    after_attn: np.ndarray  # (T, D) z'_l
    ln2: np.ndarray  # (T, D)
    mlp_hidden: np.ndarray  # (T, MLP) after GELU
    mlp_out: np.ndarray  # (T, D)
    out: np.ndarray  # (T, D) z_l


def block_detail(model: ViT, a: Analysis, layer: int) -> BlockArrays:
    x = torch.from_numpy(np.array(a.trace.hidden_states[layer]))  # (1, T, D), a writable copy
    bt = explain_block(model.blocks[layer], x)
    return BlockArrays(**{name: frozen(value[0].numpy()) for name, value in vars(bt).items()})


# the points of a block that step 4 draws as a row, in the order the data flows (fields of BlockArrays)
FLOW = ("x", "ln1", "attn_out", "after_attn", "ln2", "mlp_hidden", "mlp_out", "out")


@dataclass(frozen=True)
class FlowPoint:
    """One point of the block's data flow: the tensor, and how long each token's vector is there."""

    name: str  # a field of BlockArrays
    values: np.ndarray  # (T, width)
    norms: np.ndarray  # (T,)
    patch_norms: np.ndarray  # (g, g): the patch tokens' lengths on the image grid
    shortest: float  # the smallest and the largest patch-token length
    longest: float


def flow(block: BlockArrays, names: tuple[str, ...], grid: int) -> list[FlowPoint]:
    out = []
    for name in names:
        values = getattr(block, name)
        norms = token_norms(torch.from_numpy(np.array(values))).numpy()  # (T,)
        patch_norms = frozen(patch_map(norms, grid))  # (g, g)
        out.append(FlowPoint(name, values, frozen(norms), patch_norms, float(patch_norms.min()),
                             float(patch_norms.max())))
    return out


@dataclass(frozen=True)
class QueryRow:
    """One head, one query token: its row of scores and weights, and what it reads."""

    scores: np.ndarray  # (T,) QKᵀ/√d
    probs: np.ndarray  # (T,) softmax of the scores
    strongest: int  # the key with the largest weight
    out: np.ndarray  # (d,) this token's output of the head: probs · V
    patch_map: np.ndarray  # (g, g) the weights on the image's patches


def query_row(block: BlockArrays, head: int, query: int, grid: int) -> QueryRow:
    probs = block.probs[head, query]
    return QueryRow(block.scores[head, query], probs, int(np.argmax(probs)), block.heads_out[head, query],
                    patch_map(probs, grid))


MATCH = 1e-5  # a worked example agrees with the model within this (float32 round-off; page 4 says it)


@dataclass(frozen=True)
class WorkedExample:
    """One query–key pair of one head, worked out by hand in float64 and held against the model's own numbers."""

    q: np.ndarray  # (d,)
    k: np.ndarray  # (d,)
    products: np.ndarray  # (d,) q_m · k_m
    dot: float  # q · k
    score: float  # s = q · k / √d
    row: np.ndarray  # (T,) this query's score against every key
    shift: float  # m = max_j s_j: e^(s−m) / Σ e^(s_j−m) is the same fraction and never overflows
    weight: float  # w = e^s / Σ_j e^(s_j)
    exp_score: float  # e^s (inf when it overflows float64)
    exp_total: float  # Σ_j e^(s_j) (inf when it overflows float64)
    model_score: float  # what the model computed for the same pair
    model_weight: float
    score_gap: float  # |score − model_score|
    weight_gap: float  # |weight − model_weight|
    matches: bool  # within MATCH (relative for the score)


def worked_example(block: BlockArrays, head: int, query: int, key: int) -> WorkedExample:
    q = block.q[head, query].astype(np.float64)  # (d,)
    k = block.k[head, key].astype(np.float64)  # (d,)
    d = len(q)
    products = q * k  # (d,)
    dot = float(products.sum())
    score = dot / np.sqrt(d)
    row = block.k[head].astype(np.float64) @ q / np.sqrt(d)  # (T,)
    shift = float(row.max())
    weight = float(np.exp(score - shift) / np.exp(row - shift).sum())
    with np.errstate(over="ignore"):
        exp_score, exp_total = float(np.exp(score)), float(np.exp(row).sum())
    model_score, model_weight = float(block.scores[head, query, key]), float(block.probs[head, query, key])
    score_gap, weight_gap = abs(score - model_score), abs(weight - model_weight)
    matches = bool(score_gap <= MATCH * max(1.0, abs(model_score)) and weight_gap <= MATCH)
    return WorkedExample(frozen(q), frozen(k), frozen(products), dot, float(score), frozen(row), shift, weight,
                         exp_score, exp_total, model_score, model_weight, float(score_gap), weight_gap, matches)


# ---- step 5: attention -----------------------------------------------------------------------------------------------
def pool_block(n_patches: int, max_side: int) -> int:
    """The smallest run of patch tokens to average so that the matrix (cls + runs) is at most max_side wide."""
    return max(1, -(-n_patches // (max_side - 1)))


def quantised(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights ≥ 0 (attention rows) in 8 bits for the browser's explorer, each row (the last axis) on its own scale:
    q = round(255 · w / max(row)), so w ≈ q · max(row) / 255, within max(row) / 510. Returns (q as uint8, the rows'
    maxima as float32): (…, T) → (…, T), (…)."""
    w = np.asarray(weights, dtype=np.float32)
    top = w.max(axis=-1)  # (…,)
    q = np.rint(w / np.maximum(top, 1e-30)[..., None] * 255)  # (…, T)
    return np.clip(q, 0, 255).astype(np.uint8), top.astype(np.float32)


def dequantised(q: np.ndarray, top: np.ndarray) -> np.ndarray:
    """quantised's rows as weights again, as the browser's explorer reads them (numbers.js, dequantised: a tested port):
    q · top / 255, computed in float64 and kept as float32. (…, T), (…) → (…, T)."""
    return (np.asarray(q, dtype=np.float64) * (np.asarray(top, dtype=np.float64)[..., None] / 255)).astype(np.float32)


def all_heads_rows(a: Analysis, query: int | None) -> np.ndarray:
    """The row of every head of every layer over the image grid, as the model computed it: (L, H, g, g). `query`
    None: the cls token's row (its weight on cls itself is not on the grid)."""
    g = a.config.grid_size
    rows = a.trace.attentions[:, 0, :, 0 if query is None else query + 1, 1:]  # (L, H, N)
    return rows.reshape(*rows.shape[:2], g, g)  # (L, H, g, g)


def all_heads_maps(a: Analysis, query: int | None) -> np.ndarray:
    """all_heads_rows, each map scaled to [0, 1] on its own (as the overlays are): (L, H, g, g)."""
    return frozen(scaled(all_heads_rows(a, query), axis=(2, 3)))


def scaled(values: np.ndarray, axis=None) -> np.ndarray:
    """Values scaled to [0, 1] over `axis` (None: all), as a map's colours are: (v − min) / (max − min), and 0 where
    they are all equal. The explorer's port: app/components/explorer/numbers.js, scaled (one map)."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi = v.min(axis=axis, keepdims=True), v.max(axis=axis, keepdims=True)
    span = hi - lo
    return np.where(span > 0, (v - lo) / np.where(span > 0, span, 1), 0.0).astype(np.float32)


# ---- step 6: prediction ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Predictions:
    """The k most likely classes, and how the prediction forms layer by layer."""

    top: np.ndarray  # (k,) class indices, most likely first
    top_probs: np.ndarray  # (k,)
    rest: float  # the probability of every other class together
    layer_top: np.ndarray  # (L+1, k): the final top-k classes' probabilities after each layer
    layer_best: np.ndarray  # (L+1,): the most likely class after each layer, among all classes
    layer_best_probs: np.ndarray  # (L+1,)


def predictions(a: Analysis, k: int) -> Predictions | None:
    """None for a model without a classification head."""
    if a.probs is None:
        return None
    top = np.argsort(a.probs)[::-1][:min(k, len(a.probs))]  # (k,)
    best = a.layer_probs.argmax(axis=1)  # (L+1,)
    return Predictions(frozen(top.copy()), frozen(a.probs[top]), float(1 - a.probs[top].sum()),
                       frozen(a.layer_probs[:, top]), frozen(best), frozen(a.layer_probs[np.arange(len(best)), best]))


def cls_norms(a: Analysis) -> np.ndarray:
    """The cls token's length after every layer (before the final LayerNorm): (L+1,)."""
    return frozen(token_norms(torch.from_numpy(np.array(a.trace.hidden_states[:, 0, 0]))).numpy())


# ---- the model itself ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParameterGroup:
    part: str  # a top-level part of the model: patch_embed, cls_token, pos_embed, blocks, norm, head
    shapes: tuple[tuple[int, ...], ...]  # its tensors' shapes
    count: int


FORWARD_ORDER = ("patch_embed", "cls_token", "pos_embed", "blocks", "norm", "head")


def parameter_groups(model: ViT) -> list[ParameterGroup]:
    """The model's parameters grouped by part, in the order of the forward pass."""
    groups: dict[str, list[torch.Tensor]] = {}
    for name, p in model.named_parameters():
        groups.setdefault(name.split(".")[0], []).append(p)
    rank = lambda part: FORWARD_ORDER.index(part) if part in FORWARD_ORDER else len(FORWARD_ORDER)  # noqa: E731
    return [ParameterGroup(part, tuple(tuple(p.shape) for p in groups[part]), sum(p.numel() for p in groups[part]))
            for part in sorted(groups, key=rank)]


def parameter_count(model: ViT) -> int:
    return sum(p.numel() for p in model.parameters())
