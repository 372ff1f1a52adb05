"""Explanations and how far to trust them: one relevance value per patch for a target class, by five methods, and the
deletion and insertion curves that measure each method's faithfulness.

Methods (higher = more important for the target; shape (B, N), patches in the app's order, row-major from 0):
- `attention`: the last layer's cls row, averaged over the heads.
- `rollout`: attention rollout (Abnar & Zuidema, 2020), the cls row after the last layer (analysis.attention_rollout).
- `relevance`: class-specific relevance after Chefer, Gur & Wolf, "Generic Attention-model Explainability for
  Interpreting Bi-Modal and Encoder-Decoder Transformers" (ICCV 2021), their rule for self-attention: R = I, for
  each layer R ← R + Ā·R with Ā = mean over heads of (∇A ⊙ A)⁺, ∇A the gradient of the target logit with respect to
  that layer's attention A; the cls row of R.
- `gradient`: input × gradient of the target logit, summed over each patch's pixels and channels.
- `value`: the last layer's attention weighted by the norm of the transformed values (Kobayashi et al., EMNLP 2020,
  "Attention is Not Only a Weight"): for each head h, α₀ⱼʰ · ‖vⱼʰ W_Oʰ‖, averaged over the heads.

Faithfulness (`curves`): remove the patches most-relevant-first (fill 0 in the normalised input, the colour of the
preprocessing's image_mean: mid grey for the teaching model), or reveal them most-relevant-first from an all-masked
picture, and follow the target's probability over all N steps; the area under each curve (x from 0 to 1) is the
score. Deletion: lower is better; insertion: higher.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from einops import rearrange

from .analysis import attention_rollout
from .model import ViT, attention

METHODS = ("attention", "rollout", "relevance", "gradient", "value")


def forward_with_attentions(model: ViT, pixels: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor],
                                                                         list[torch.Tensor]]:
    """The forward pass of model.trace, with the graph kept: logits, every layer's attention (B, H, T, T) and every
    block's input (B, T, D). The attentions are the very tensors the output depends on, so gradients reach them."""
    *_, x = model.embed(pixels)
    attentions, inputs = [], []
    for block in model.blocks:
        inputs.append(x)
        q, k, v = block.attn.qkv(block.norm1(x))
        out, probs = attention(q, k, v)
        if probs.requires_grad:
            probs.retain_grad()
        attentions.append(probs)
        x = x + block.attn.proj(rearrange(out, "b h t d -> b t (h d)"))
        x = x + block.mlp(block.norm2(x))
    return model.classify(x), attentions, inputs


def targets_or_predicted(logits: torch.Tensor, targets) -> torch.Tensor:
    if targets is None:
        return logits.argmax(-1)
    t = torch.as_tensor(targets, dtype=torch.long).reshape(-1)
    return t.expand(len(logits)) if len(t) == 1 else t


def relevance(model: ViT, pixels: torch.Tensor, method: str, targets=None) -> tuple[np.ndarray, np.ndarray]:
    """(B, N) relevance of every patch for each picture's target (default: the predicted class), and the targets."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if model.head is None:
        raise ValueError("this model has no classification head: there is no class to explain")
    with torch.enable_grad():  # the input needs a gradient for the graph to reach the attentions (frozen weights)
        x = pixels.detach().clone().requires_grad_(method in ("relevance", "gradient"))
        logits, attentions, inputs = forward_with_attentions(model, x)
        target = targets_or_predicted(logits, targets)
        if method in ("relevance", "gradient"):
            logits.gather(1, target[:, None]).sum().backward()  # pictures do not interact: one backward for all
    with torch.no_grad():
        if method == "attention":
            out = attentions[-1].mean(1)[:, 0, 1:]
        elif method == "rollout":
            out = torch.stack([attention_rollout([a[b] for a in attentions])[-1, 0, 1:]
                               for b in range(len(pixels))])
        elif method == "relevance":
            T = attentions[0].shape[-1]
            R = torch.eye(T).expand(len(pixels), T, T).clone()
            for a in attentions:
                cam = (a.grad * a).clamp(min=0).mean(1)  # (B, T, T): Ā = E_h[(∇A ⊙ A)⁺]
                R = R + cam @ R
            out = R[:, 0, 1:]
        elif method == "gradient":
            P = model.config.patch_size
            per_pixel = (x.grad * x).sum(1)  # (B, S, S)
            out = rearrange(per_pixel, "b (h p1) (w p2) -> b (h w) p1 p2", p1=P, p2=P).sum((-2, -1))
        else:  # value
            block, a = model.blocks[-1], attentions[-1]
            _, _, v = block.attn.qkv(block.norm1(inputs[-1]))  # (B, H, T, d)
            d = v.shape[-1]
            W = rearrange(block.attn.proj.weight, "D (h d) -> h d D", d=d)  # each head's slice of W_O
            f_norm = torch.einsum("bhtd,hdD->bhtD", v, W).norm(dim=-1)  # (B, H, T): ‖vⱼʰ W_Oʰ‖
            out = (a[:, :, 0, :] * f_norm).mean(1)[:, 1:]
    return out.detach().float().numpy(), target.numpy()


# ---- faithfulness ------------------------------------------------------------------------------------------------
def masked_steps(pixels: torch.Tensor, patch: int, order: np.ndarray, insertion: bool) -> torch.Tensor:
    """(N+1, C, S, S): the picture with 0, 1, …, N patches of `order` removed (deletion), or with only those
    revealed on an all-zero picture (insertion). `pixels`: (1, C, S, S) normalised."""
    g = pixels.shape[-1] // patch
    N = g * g
    tiles = rearrange(pixels[0], "c (h p1) (w p2) -> (h w) c p1 p2", p1=patch, p2=patch)
    keep = torch.zeros(N + 1, N, dtype=torch.bool)  # step k: which patches are shown
    rank = torch.empty(N, dtype=torch.long)
    rank[torch.as_tensor(order)] = torch.arange(N)  # rank[p]: when patch p is removed (or revealed)
    steps = torch.arange(N + 1)[:, None]
    keep[:] = (rank[None, :] < steps) if insertion else (rank[None, :] >= steps)
    shown = tiles[None] * keep[:, :, None, None, None]
    return rearrange(shown, "k (h w) c p1 p2 -> k c (h p1) (w p2)", h=g)


def curves(predict, pixels: torch.Tensor, patch: int, order: np.ndarray, target: int) -> tuple[np.ndarray,
                                                                                                 np.ndarray]:
    """The target's probability over the N+1 steps of deletion and of insertion, most-relevant-first along `order`.
    `predict` maps a (K, C, S, S) batch to (K, classes) probabilities."""
    with torch.no_grad():
        out = []
        for insertion in (False, True):
            probs = predict(masked_steps(pixels, patch, order, insertion))[:, target]
            out.append(probs.float().numpy())
    return out[0], out[1]


def area(curve: np.ndarray) -> float:
    """The area under a curve sampled at N+1 evenly spaced steps from 0 to 1 (trapezoids)."""
    n = len(curve) - 1
    return float(((curve[1:] + curve[:-1]) / 2).sum() / n)


def ranking(scores: np.ndarray) -> np.ndarray:
    """Patches most-relevant-first (ties in patch order)."""
    return np.argsort(-scores, kind="stable")


@dataclass(frozen=True)
class Faithfulness:
    """Deletion and insertion AUC per method over a set of pictures: means, standard deviations, how many."""

    methods: tuple[str, ...]  # METHODS and "random"
    deletion: np.ndarray  # (methods, pictures)
    insertion: np.ndarray  # (methods, pictures)
    seconds: float

    def table(self) -> list[dict]:
        """One row per method: each AUC's mean and standard deviation over the pictures, and, against the random
        order on the same pictures, the mean paired difference with its 95 % interval (±1.96 standard errors) and
        the share of pictures where the method did better (lower deletion, higher insertion)."""
        n = self.deletion.shape[1]
        sd = lambda a: float(a.std(ddof=1)) if n > 1 else 0.0  # noqa: E731
        rand = self.methods.index("random")
        rows = []
        for i, m in enumerate(self.methods):
            row = {"method": m}
            for name, auc, sign in (("deletion", self.deletion, -1), ("insertion", self.insertion, 1)):
                diff = auc[i] - auc[rand]
                row |= {f"{name}_mean": float(auc[i].mean()), f"{name}_std": sd(auc[i]),
                        f"{name}_vs_random": float(diff.mean()), f"{name}_vs_random_ci95": 1.96 * sd(diff) / n ** 0.5,
                        f"{name}_better_share": float((sign * diff > 0).mean())}
            rows.append(row)
        return rows


def faithfulness(model: ViT, inputs: torch.Tensor, batch_size: int = 64, seed: int = 0, log=None) -> Faithfulness:
    """Every method and a random order (seeded), on every picture of `inputs` (normalised (n, C, S, S)), each
    explained for its predicted class."""
    import time

    start = time.time()
    methods = (*METHODS, "random")
    n, P = len(inputs), model.config.patch_size
    N = model.config.num_patches
    rng = np.random.default_rng(seed)
    deletion, insertion = np.zeros((len(methods), n)), np.zeros((len(methods), n))

    def predict(batch: torch.Tensor) -> torch.Tensor:
        return model(batch).softmax(-1)

    for lo in range(0, n, batch_size):
        batch = inputs[lo:lo + batch_size]
        maps = {m: relevance(model, batch, m) for m in METHODS}
        for j in range(len(batch)):
            target = int(maps["attention"][1][j])
            for i, m in enumerate(methods):
                order = rng.permutation(N) if m == "random" else ranking(maps[m][0][j])
                d, ins = curves(predict, batch[j:j + 1], P, order, target)
                deletion[i, lo + j], insertion[i, lo + j] = area(d), area(ins)
        if log:
            log(lo + len(batch), n)
    return Faithfulness(methods, deletion, insertion, time.time() - start)


def progress(done: int, total: int, width: int = 30) -> str:
    filled = math.floor(width * done / max(total, 1))
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


def markdown_table(rows: list[dict]) -> str:
    """The faithfulness table as docs/EXPLANATIONS.md shows it (a test keeps the two equal)."""
    head = ("| method | deletion AUC, mean ± sd (lower is better) | vs random, 95 % | better than random on "
            "| insertion AUC, mean ± sd (higher is better) | vs random, 95 % | better than random on |\n"
            "|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        cells = [r["method"]]
        for k in ("deletion", "insertion"):
            cells += [f"{r[f'{k}_mean']:.3f} ± {r[f'{k}_std']:.3f}",
                      "—" if r["method"] == "random"
                      else f"{r[f'{k}_vs_random']:+.3f} ± {r[f'{k}_vs_random_ci95']:.3f}",
                      "—" if r["method"] == "random" else f"{r[f'{k}_better_share']:.0%} of pictures"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---- for the Explanations page: one picture ------------------------------------------------------------------------
@dataclass(frozen=True)
class PictureExplanations:
    """Every method's map for one picture and one target class, on the patch grid."""

    target: int
    maps: dict  # method → (g, g) relevance, read-only
    probs: np.ndarray  # (classes,) the model's prediction for the picture


def explain_picture(model: ViT, pixel_values: np.ndarray, target: int | None, lock=None) -> PictureExplanations:
    """`pixel_values`: the analysed picture's normalised input (1, C, S, S) (Analysis.trace.pixel_values);
    `target` None: the predicted class."""
    import contextlib

    g = model.config.grid_size
    pixels = torch.from_numpy(np.array(pixel_values))
    with lock or contextlib.nullcontext():
        with torch.no_grad():
            probs = model(pixels)[0].softmax(-1).numpy()
        target = int(probs.argmax()) if target is None else int(target)
        maps = {}
        for m in METHODS:
            r, _ = relevance(model, pixels, m, [target])
            maps[m] = _frozen(r[0].reshape(g, g))
    return PictureExplanations(target, maps, _frozen(probs))


@dataclass(frozen=True)
class PictureCurves:
    """Deletion and insertion for one picture, one method and a random order (N+1 steps each), and their areas."""

    deletion: np.ndarray
    insertion: np.ndarray
    random_deletion: np.ndarray
    random_insertion: np.ndarray
    areas: dict  # "deletion", "insertion", "random_deletion", "random_insertion" → AUC


def picture_curves(model: ViT, pixel_values: np.ndarray, scores: np.ndarray, target: int, seed: int = 0,
                   lock=None) -> PictureCurves:
    import contextlib

    P, N = model.config.patch_size, model.config.num_patches
    pixels = torch.from_numpy(np.array(pixel_values))

    def predict(batch):
        return model(batch).softmax(-1)

    with lock or contextlib.nullcontext():
        d, i = curves(predict, pixels, P, ranking(np.asarray(scores).reshape(-1)), target)
        rd, ri = curves(predict, pixels, P, np.random.default_rng(seed).permutation(N), target)
    arrays = {"deletion": d, "insertion": i, "random_deletion": rd, "random_insertion": ri}
    return PictureCurves(*(_frozen(a) for a in arrays.values()), {k: area(a) for k, a in arrays.items()})


@dataclass(frozen=True)
class QKGeometry:
    """One head's 2T query and key vectors projected together onto their first two principal components (the way
    AttentionViz draws them): rows 0…T−1 are the queries, T…2T−1 the keys; token 0 is cls."""

    points: np.ndarray  # (2T, 2)
    explained: np.ndarray  # (2,) the share of the variance each axis explains
    tokens: int


def qk_geometry(q: np.ndarray, k: np.ndarray) -> QKGeometry:
    """`q`, `k`: (T, d) one head's queries and keys (views.BlockArrays.q[head], .k[head])."""
    both = np.concatenate([q, k]).astype(np.float64)  # (2T, d)
    centred = both - both.mean(0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    points = centred @ vt[:2].T  # (2T, 2)
    var = s ** 2
    return QKGeometry(_frozen(points.astype(np.float32)), _frozen((var[:2] / var.sum()).astype(np.float32)), len(q))


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a
