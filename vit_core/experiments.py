"""The experiments page as numbers: the model run again on the analysed picture with an intervention, the
permutation test of the position embeddings, each head's share of the test accuracy, and the teaching model's
snapshots from its training run.

Records are frozen dataclasses of read-only numpy arrays, like views.py's. Layers, heads and patches count from 0.
"""
from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .analysis import attention_rollout, position_similarity
from .checkpoints import load_hf, read_config, read_safetensors
from .config import PreprocessConfig
from .interventions import Intervention, token_order
from .model import ViT, init_weights
from .views import Analysis, centre_patch, frozen

SNAPSHOTS = "snapshots"  # the training run's snapshots, beside the model (vit_core/train.py writes them)
HEAD_IMPORTANCE = "head_importance.json"  # beside the model: `python -m vit_core head-importance` writes it
EXACT = 1e-5  # a difference this small is rounding: float32 sums in another order
HARMLESS_POINTS = 0.5  # a head whose ablation moves the accuracy by less than this many percentage points


@dataclass(frozen=True)
class Run:
    """The model on the analysed picture, with an intervention (or none)."""

    intervention: Intervention
    model_input: np.ndarray  # (S, S, 3) uint8: what the model saw, masked and shuffled, in colours again
    probs: np.ndarray | None  # (classes,); None for a model without a head
    logits: np.ndarray | None  # (classes,)
    attentions: np.ndarray  # (L, H, T, T)
    rollout: np.ndarray  # (L, T, T)
    permutation: np.ndarray | None  # (N,): the original patch now at position i, when shuffled


def in_colours(pixel_values: torch.Tensor, pre: PreprocessConfig) -> np.ndarray:
    """(1, 3, S, S) normalised → (S, S, 3) uint8, as a picture (a masked patch of 0 shows mean_fill's colour)."""
    mean, std = torch.tensor(pre.image_mean)[:, None, None], torch.tensor(pre.image_std)[:, None, None]
    rgb = (pixel_values[0] * std + mean).clamp(0, 1)
    return (rgb.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()


def mean_fill(pre: PreprocessConfig) -> tuple[int, int, int]:
    """The colour of a patch masked with the `mean` fill, as in_colours draws it: 0 in the normalised input,
    (x − mean) / std = 0, is x = the preprocessing's image_mean. Not black, and not the training pictures' average:
    (128, 128, 128), a mid grey, for the teaching model (mean 0.5); (124, 116, 104) for ImageNet's mean."""
    return tuple(int(v) for v in in_colours(torch.zeros(1, 3, 1, 1), pre)[0, 0])


def run(model: ViT, pre: PreprocessConfig, a: Analysis, iv: Intervention,
        lock: contextlib.AbstractContextManager | None = None) -> Run:
    """The same picture as `a` (its normalised input), through `model` with `iv`."""
    pixels = torch.from_numpy(np.array(a.trace.pixel_values))
    with lock or contextlib.nullcontext():
        trace = model.trace(pixels, iv)
        attentions = torch.stack([x[0] for x in trace.attentions])  # (L, H, T, T)
        rollout = attention_rollout(list(attentions))
    logits = None if trace.logits is None else trace.logits[0]
    return Run(iv, frozen(in_colours(trace.pixel_values, pre)),
               None if logits is None else frozen(logits.softmax(-1).numpy()),
               None if logits is None else frozen(logits.numpy()),
               frozen(attentions.numpy()), frozen(rollout.numpy()),
               None if trace.permutation is None else frozen(trace.permutation.numpy()))


def cls_map(r: Run, layer: int, head: int | None) -> np.ndarray:
    """(g, g): what the cls token reads from each position in `layer`, from one head, or the mean of the heads
    (`head` None), or the rollout up to that layer (`head` "rollout"). Positions, not patches: after a shuffle,
    position i holds patch permutation[i]."""
    if head == "rollout":
        row = r.rollout[layer, 0, 1:]
    elif head is None:
        row = r.attentions[layer, :, 0, 1:].mean(axis=0)
    else:
        row = r.attentions[layer, head, 0, 1:]
    g = int(round(len(row) ** 0.5))
    return frozen(np.asarray(row, dtype=np.float32).reshape(g, g).copy())


def top(r: Run, k: int) -> list[tuple[int, float]]:
    """The k most likely classes and their probabilities, most likely first ([] without a head)."""
    if r.probs is None:
        return []
    order = np.argsort(r.probs)[::-1][:k]
    return [(int(i), float(r.probs[i])) for i in order]


@dataclass(frozen=True)
class Change:
    """How a run differs from the unchanged one."""

    top_before: int | None  # the predicted class
    top_after: int | None
    prob_before: float  # the unchanged run's predicted class: its probability before and after
    prob_after: float
    points: float  # prob_after − prob_before, in percentage points
    largest_logit_change: float  # max |Δ logit|
    largest_attention_change: float  # max |Δ| over every attention weight, tokens in their own positions


def change(before: Run, after: Run) -> Change:
    attention = float(np.abs(after.attentions - before.attentions).max())
    if before.probs is None or after.probs is None:
        return Change(None, None, 0.0, 0.0, 0.0, 0.0, attention)
    top = int(before.probs.argmax())
    prob_before, prob_after = float(before.probs[top]), float(after.probs[top])
    return Change(top, int(after.probs.argmax()), prob_before, prob_after, (prob_after - prob_before) * 100,
                  float(np.abs(after.logits - before.logits).max()), attention)


@dataclass(frozen=True)
class PermutationTest:
    """Shuffling the patches, with and without position embeddings, everything else as in `base`.

    Without E_pos a Transformer cannot tell where a token sits: the shuffled run gives the same logits, and its
    attention is the unshuffled run's with rows and columns permuted. With E_pos both change."""

    seed: int
    permutation: np.ndarray  # (N,)
    logits_with_pos: float  # max |logit(shuffled) − logit(not shuffled)|, with E_pos
    attention_with_pos: float  # max |A(shuffled) − A(not shuffled) with rows and columns permuted the same way|
    logits_without_pos: float  # the same two, without E_pos
    attention_without_pos: float
    top: dict[str, int | None]  # the predicted class: "with_pos", "with_pos_shuffled", "without_pos", …

    @property
    def exact(self) -> bool:
        """Without E_pos, the shuffle changed nothing but the order, to rounding (EXACT)."""
        return self.logits_without_pos <= EXACT and self.attention_without_pos <= EXACT


def permutation_test(model: ViT, pre: PreprocessConfig, a: Analysis, seed: int, base: Intervention = Intervention(),
                     lock: contextlib.AbstractContextManager | None = None) -> PermutationTest:
    def with_(shuffled: bool, pos: bool) -> Run:
        return run(model, pre, a, Intervention(base.mask, base.fill, seed if shuffled else None, not pos,
                                               base.ablate), lock)

    runs = {(s, p): with_(s, p) for s in (False, True) for p in (True, False)}
    perm = runs[True, True].permutation
    order = token_order(perm)

    def gaps(pos: bool) -> tuple[float, float]:
        plain, shuffled = runs[False, pos], runs[True, pos]
        logits = 0.0 if plain.logits is None else float(np.abs(shuffled.logits - plain.logits).max())
        moved = plain.attentions[:, :, order][:, :, :, order]  # (L, H, T, T), tokens where the shuffle put them
        return logits, float(np.abs(shuffled.attentions - moved).max())

    names = {(False, True): "with_pos", (True, True): "with_pos_shuffled", (False, False): "without_pos",
             (True, False): "without_pos_shuffled"}
    top = {names[k]: None if r.probs is None else int(r.probs.argmax()) for k, r in runs.items()}
    return PermutationTest(int(seed), perm, *gaps(True), *gaps(False), top)


# ---- each head's share of the test accuracy ------------------------------------------------------------------------
@dataclass(frozen=True)
class HeadImportance:
    accuracy: float  # no head ablated
    ablated: np.ndarray  # (L, H): the accuracy with that one head ablated
    images: int
    seconds: float


@torch.no_grad()
def head_importance(model: ViT, inputs: torch.Tensor, labels: np.ndarray, batch_size: int = 1000,
                    log=None) -> HeadImportance:
    """The accuracy on `inputs` (normalised (n, 3, S, S)) with no head ablated, and with each head ablated alone."""
    start = time.time()
    L, H = model.config.num_hidden_layers, model.config.num_attention_heads

    def accuracy(iv: Intervention) -> float:
        preds = torch.cat([model(inputs[i:i + batch_size], iv).argmax(-1) for i in range(0, len(inputs), batch_size)])
        return float((preds.numpy() == labels).mean())

    base = accuracy(Intervention())
    ablated = np.zeros((L, H))
    for layer in range(L):
        for head in range(H):
            ablated[layer, head] = accuracy(Intervention(ablate=((layer, head),)))
            if log:
                log(f"  head {layer + 1}.{head + 1} ablated: accuracy {ablated[layer, head]:.4f} "
                    f"({ablated[layer, head] - base:+.4f})")
    return HeadImportance(base, frozen(ablated), len(labels), time.time() - start)


@dataclass(frozen=True)
class HeadCosts:
    """What switching off each head alone does to the test accuracy (a head-importance table, read for the page)."""

    accuracy: float  # every head on
    ablated: np.ndarray  # (L, H): the accuracy with that head off
    points: np.ndarray  # (L, H): ablated − accuracy, in percentage points (negative: the head helped)
    worst: tuple[int, int]  # (layer, head) from 0: the head whose loss costs the most (the lowest accuracy)
    worst_accuracy: float  # the accuracy without it
    worst_drop: float  # the percentage points lost without it
    harmless: int  # how many heads move the accuracy by less than HARMLESS_POINTS when switched off


def head_costs(accuracy: float, ablated: np.ndarray) -> HeadCosts:
    points = (ablated - accuracy) * 100  # (L, H)
    worst = tuple(int(i) for i in np.unravel_index(np.argmin(ablated), ablated.shape))
    return HeadCosts(accuracy, ablated, frozen(points), worst, float(ablated[worst]), float(-points[worst]),
                     int((np.abs(points) < HARMLESS_POINTS).sum()))


def save_head_importance(result: HeadImportance, path: Path, about: dict) -> None:
    L, H = result.ablated.shape
    data = {**about, "images": result.images, "seconds": round(result.seconds, 1), "accuracy": result.accuracy,
            "heads": [{"layer": l + 1, "head": h + 1, "accuracy": float(result.ablated[l, h])}
                      for l in range(L) for h in range(H)]}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def load_head_importance(folder: Path) -> dict | None:
    """The table shipped beside a model, or None. Raises ValueError for a file that is not one."""
    path = Path(folder) / HEAD_IMPORTANCE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    heads = data["heads"]
    L, H = max(h["layer"] for h in heads), max(h["head"] for h in heads)
    table = np.full((L, H), np.nan)
    for h in heads:
        table[int(h["layer"]) - 1, int(h["head"]) - 1] = float(h["accuracy"])
    if np.isnan(table).any():
        raise ValueError(f"{path}: not every head has an accuracy")
    return {**data, "table": frozen(table)}


# ---- the training run's snapshots, and the untrained model -------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    epoch: int
    file: str
    test_acc: float


def snapshots(folder: Path) -> list[Snapshot]:
    """The snapshots listed in `folder`/snapshots/snapshots.json whose file is there, by epoch ([] if none)."""
    index = Path(folder) / SNAPSHOTS / "snapshots.json"
    if not index.is_file():
        return []
    items = json.loads(index.read_text(encoding="utf-8"))["snapshots"]
    return sorted((Snapshot(int(s["epoch"]), str(s["file"]), float(s["test_acc"])) for s in items
                   if (index.parent / Path(str(s["file"])).name).is_file()), key=lambda s: s.epoch)


def load_snapshot(folder: Path, snapshot: Snapshot) -> ViT:
    """The model of `folder` with the weights of one snapshot (the same layout as its model.safetensors)."""
    folder = Path(folder)
    tensors = read_safetensors(folder / SNAPSHOTS / Path(snapshot.file).name)  # a name, never a path from the file
    model, _ = load_hf(folder, read_config(folder), tensors)
    return model.eval().requires_grad_(False)


def untrained(model: ViT, seed: int = 0) -> ViT:
    """The same architecture with the training script's initial weights (vit_core.train: init_weights, seed 0)."""
    return init_weights(ViT(model.config), seed).eval().requires_grad_(False)


def pos_similarity(model: ViT) -> np.ndarray:
    """(g, g, g, g): the cosine similarity of the position embeddings (paper Fig. 7, centre)."""
    return frozen(position_similarity(model.pos_embed.detach(), model.config.grid_size).numpy())


@dataclass(frozen=True)
class CentreSimilarity:
    """How alike the centre patch's position embedding is to every position's (paper Fig. 7, centre, one tile)."""

    patch: int  # the centre patch (views.centre_patch), row-major from 0
    similarity: np.ndarray  # (g, g): cosine similarity, from −1 to 1


def centre_similarity(similarity: np.ndarray) -> CentreSimilarity:
    """(g, g, g, g) similarities (pos_similarity, Analysis.position_similarity) → the centre patch's tile."""
    g = similarity.shape[0]
    patch = centre_patch(g)
    return CentreSimilarity(patch, similarity.reshape(g * g, g, g)[patch])


def training_history(folder: Path) -> list[tuple[int, float]]:
    """(epoch, test accuracy) of every epoch of the run that trained the model in `folder` (its training.json), with
    epoch 0 from the snapshots when there is one; [] without a training.json or with one that is not readable."""
    try:
        data = json.loads((Path(folder) / "training.json").read_text(encoding="utf-8"))
        out = [(int(h["epoch"]), float(h["test_acc"])) for h in data["history"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    first = [s for s in snapshots(folder) if s.epoch == 0]
    return [(0, first[0].test_acc)] + out if first else out


@dataclass(frozen=True)
class TrainingRun:
    """The models of a training run a learner can step through (its snapshots and the model itself), and their test
    accuracy."""

    epochs: tuple[int, ...]  # the snapshots' epochs, then the run's last epoch if no snapshot is of it; (0,) with
    #                          no snapshots: the untrained model (seed 0) beside the model
    last: int | None  # the run's last epoch: the model itself (None without a training history)
    snapshots: dict[int, float]  # each snapshot's test accuracy, by epoch ({} without snapshots)
    final_accuracy: float | None  # the model's own test accuracy, after the last epoch
    history: tuple[tuple[int, float], ...]  # (epoch, test accuracy) of every epoch (training_history)
    marks: tuple[tuple[int, float], ...]  # the epochs on offer that the history has, with their accuracy


def training_run(snaps: list[Snapshot], history: list[tuple[int, float]]) -> TrainingRun:
    """`snaps` (snapshots) and `history` (training_history) of one model, read together."""
    last = history[-1][0] if history else None
    epochs = [s.epoch for s in snaps] or [0]
    if snaps and last is not None and last not in epochs:  # the end of the run is the model itself
        epochs.append(last)
    first = {}  # an epoch's accuracy, from its first line in the history
    for epoch, acc in history:
        first.setdefault(epoch, acc)
    return TrainingRun(tuple(epochs), last, {s.epoch: s.test_acc for s in snaps},
                       history[-1][1] if history else None, tuple((e, acc) for e, acc in history),
                       tuple((e, first[e]) for e in epochs if e in first))
