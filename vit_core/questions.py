"""The answers to a lesson's questions, computed from this learner's picture and model (issue 26, §3).

A lesson file (app/lessons/lesson.py, docs/LESSONS.md) names an answer rule, never an answer: the rule runs here on
the learner's own analysis, so two learners with two pictures may have two different right answers. Each rule returns
an `Answer`: the answer (several on a tie), the numbers behind it (`facts`, for the reveal's sentence of why) and, for
a patch or a layer, the numbers of every possible answer (`table`), so that `Answer.judge` says what any learner's
answer scores, with its own numbers.

    a = views.analyse(loaded, picture)                  # the analysis every page draws
    ans = answer("cls_top_patch", loaded.model, a, layer="last", head=2)
    ans.correct             # (31,)
    ans.facts               # {"layer": 6, "head": 2, "patch": 31, "weight": 0.21, …}
    ans.judge(24)           # Verdict(given=24, right=False, facts={"patch": 24, "weight": 0.04})

Numbers are the app's: patches from 0, row by row; attention layers and heads from 1, as the explorer and the encoder
page show them ("last" is the last layer); the prediction page's layers from 0 (0: before the first block, L: after
the last one), which is what a layer question's answer is. Classes are indices into the model's labels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from .explain import relevance
from .interventions import Intervention, preset
from .model import ViT
from .views import Analysis

TIE = 1e-6  # two weights or probabilities this close are a tie: every one of them is a right answer
KINDS = ("patch", "number", "choice", "layer")


class NoAnswer(ValueError):
    """This rule has no answer for this model: `reason` "no_head" (it needs a classification head), or "beyond"
    (the question names a layer or head this model does not have; `values` say which)."""

    def __init__(self, rule: str, reason: str, **values):
        super().__init__(f"{rule}: {reason} {values or ''}".strip())
        self.rule, self.reason, self.values = rule, reason, values


@dataclass(frozen=True)
class Verdict:
    """A learner's answer, judged: right or not, and its own numbers ("you chose patch 24, weight 0.04")."""

    given: int | str
    right: bool
    facts: dict


@dataclass(frozen=True)
class Answer:
    """A rule's answer for one learner: `correct` holds every right answer (one, or several on a tie)."""

    rule: str
    kind: str  # "patch", "number", "choice" or "layer"
    correct: tuple[int | str, ...]
    facts: dict  # the numbers behind the answer: {"layer": 6, "head": 2, "patch": 31, "weight": 0.21}
    table: dict[str, np.ndarray] = field(default_factory=dict)  # per possible answer: its numbers (patch, layer)

    @property
    def value(self) -> int | str:
        """The answer (the first of a tie)."""
        return self.correct[0]

    def judge(self, given: int | str) -> Verdict:
        """What `given` scores: right or not, and its numbers from `table` ({"patch": 24, "weight": 0.04})."""
        if self.table and not 0 <= int(given) < len(next(iter(self.table.values()))):
            raise ValueError(f"{self.kind} {given} is not one of this model's")
        facts = {self.kind: given, **{name: column[int(given)].item() for name, column in self.table.items()}}
        if self.kind == "number":
            facts["off_by"] = int(given) - int(self.value)
        return Verdict(given, given in self.correct, facts)


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    compute: Callable[..., Answer]
    outcomes: tuple[str, ...] = ()  # a choice rule's possible answers: each option of a question names one


RULES: dict[str, Rule] = {}


def rule(kind: str, outcomes: tuple[str, ...] = ()):
    """Register a function as the answer rule of its name."""
    def register(fn):
        RULES[fn.__name__] = Rule(fn.__name__, kind, fn, outcomes)
        return fn
    return register


def answer(name: str, model: ViT, a: Analysis, **params) -> Answer:
    """The answer of rule `name` for this model and picture; `params` as the lesson's question gives them."""
    return RULES[name].compute(model, a, **params)


# ---- helpers: plain arrays in, the app's numbers out ----------------------------------------------------------------
def top_patches(weights: np.ndarray) -> tuple[int, ...]:
    """The patches of the largest weight (to TIE): one, or several on a tie."""
    return tuple(int(k) for k in np.flatnonzero(weights >= weights.max() - TIE))


def first_lasting(leads: np.ndarray) -> int:
    """The first index from which `leads` is True to the end (len(leads) if the last one is False)."""
    lasting = np.logical_and.accumulate(leads[::-1])[::-1]  # lasting[i]: leads[i:] are all True
    return int(np.argmax(lasting)) if lasting.any() else len(leads)


def attention_layer(name: str, a: Analysis, layer: int | str) -> int:
    """An attention layer as a lesson writes it (from 1, or "last") → its index from 0."""
    L = a.config.num_hidden_layers
    number = L if layer == "last" else int(layer)
    if not 1 <= number <= L:
        raise NoAnswer(name, "beyond", layer=number, layers=L)
    return number - 1


def needs_head(name: str, a: Analysis) -> None:
    if a.probs is None:
        raise NoAnswer(name, "no_head")


def pixels(a: Analysis) -> torch.Tensor:
    """The normalised input the model saw: (1, C, S, S)."""
    return torch.from_numpy(np.array(a.trace.pixel_values))


@torch.no_grad()
def probs_with(model: ViT, a: Analysis, iv: Intervention) -> np.ndarray:
    """The class probabilities for the same picture, run again with an intervention (as the experiments page)."""
    return model(pixels(a), iv)[0].softmax(-1).numpy()


# ---- number: the model's sizes ------------------------------------------------------------------------------------
@rule("number")
def tokens(model: ViT, a: Analysis) -> Answer:
    """How many vectors enter the encoder: T = N + 1, the patches and the cls token."""
    N = a.config.num_patches
    return Answer("tokens", "number", (N + 1,), {"patches": N, "tokens": N + 1})


@rule("number")
def patches(model: ViT, a: Analysis) -> Answer:
    """How many patches: N = (S / P)²."""
    c = a.config
    return Answer("patches", "number", (c.num_patches,),
                  {"size": c.image_size, "patch": c.patch_size, "grid": c.grid_size, "patches": c.num_patches})


@rule("number")
def values_per_patch(model: ViT, a: Analysis) -> Answer:
    """How many numbers one flattened patch is: P·P·C."""
    c = a.config
    return Answer("values_per_patch", "number", (c.patch_dim,),
                  {"patch": c.patch_size, "channels": c.num_channels, "values": c.patch_dim})


@rule("number")
def width(model: ViT, a: Analysis) -> Answer:
    """How many numbers each token is: the width D."""
    return Answer("width", "number", (a.config.hidden_size,), {"width": a.config.hidden_size})


@rule("number")
def attention_matrices(model: ViT, a: Analysis) -> Answer:
    """How many attention matrices one picture makes: L layers × H heads."""
    L, H = a.config.num_hidden_layers, a.config.num_attention_heads
    return Answer("attention_matrices", "number", (L * H,), {"layers": L, "heads": H, "matrices": L * H})


# ---- patch: where the model looks -------------------------------------------------------------------------------
@rule("patch")
def cls_top_patch(model: ViT, a: Analysis, layer: int | str = "last", head: int | str = "mean") -> Answer:
    """The patch the cls token gives the most attention in `layer`: from one head, or the mean of the heads."""
    i = attention_layer("cls_top_patch", a, layer)
    heads = a.trace.attentions[i, 0]  # (H, T, T)
    if head != "mean" and not 1 <= int(head) <= len(heads):
        raise NoAnswer("cls_top_patch", "beyond", head=int(head), heads=len(heads))
    row = heads[:, 0].mean(axis=0) if head == "mean" else heads[int(head) - 1, 0]  # (T,): cls's row
    weights = row[1:]  # (N,): the patches, cls's weight on itself left out
    best = top_patches(weights)
    return Answer("cls_top_patch", "patch", best,
                  {"layer": i + 1, "head": head if head == "mean" else int(head), "patch": best[0],
                   "weight": float(weights[best[0]]), "cls_self": float(row[0]), "even": 1 / len(row)},
                  {"weight": weights})


@rule("patch")
def rollout_top_patch(model: ViT, a: Analysis, layer: int | str = "last") -> Answer:
    """The patch that has flowed most into the cls token up to `layer`, by attention rollout."""
    i = attention_layer("rollout_top_patch", a, layer)
    weights = a.rollout[i, 0, 1:]  # (N,)
    best = top_patches(weights)
    return Answer("rollout_top_patch", "patch", best,
                  {"layer": i + 1, "patch": best[0], "weight": float(weights[best[0]])}, {"weight": weights})


@rule("patch")
def relevance_top_patch(model: ViT, a: Analysis, method: str = "relevance") -> Answer:
    """The patch an explanation method (the explanations page's) finds most relevant for the predicted class."""
    needs_head("relevance_top_patch", a)
    scores, target = relevance(model, pixels(a), method)  # (1, N), (1,)
    best = top_patches(scores[0])
    return Answer("relevance_top_patch", "patch", best,
                  {"method": method, "class": int(target[0]), "patch": best[0], "score": float(scores[0, best[0]])},
                  {"score": scores[0]})


# ---- choice: what an experiment will do ---------------------------------------------------------------------------
@rule("choice", outcomes=("changes", "stays"))
def mask_changes_top(model: ViT, a: Analysis, mask: str | list[int] = "centre", fill: str = "mean") -> Answer:
    """Whether masking patches (a preset of the experiments page, or patch numbers) changes the predicted class."""
    needs_head("mask_changes_top", a)
    c = a.config
    iv = Intervention(preset(mask, c.grid_size, a.model_view, c.patch_size) if isinstance(mask, str) else mask, fill)
    if any(not 0 <= k < c.num_patches for k in iv.mask):
        raise NoAnswer("mask_changes_top", "beyond", patches=c.num_patches)
    after = probs_with(model, a, iv)
    before, now = int(a.probs.argmax()), int(after.argmax())
    return Answer("mask_changes_top", "choice", ("changes" if now != before else "stays",),
                  {"masked": len(iv.mask), "patches": iv.mask, "fill": fill, "before": before, "after": now,
                   "prob_before": float(a.probs[before]), "prob_after": float(after[before])})


@rule("choice", outcomes=("changes", "stays"))
def shuffle_changes_top(model: ViT, a: Analysis, seed: int = 0, positions: bool = True) -> Answer:
    """Whether shuffling the patches changes the predicted class: with the position embeddings (the model as it is),
    or without them (the same model without E_pos, in place against shuffled: the permutation test)."""
    needs_head("shuffle_changes_top", a)
    plain = a.probs if positions else probs_with(model, a, Intervention(no_pos_embed=True))
    shuffled = probs_with(model, a, Intervention(shuffle_seed=seed, no_pos_embed=not positions))
    before, now = int(plain.argmax()), int(shuffled.argmax())
    return Answer("shuffle_changes_top", "choice", ("changes" if now != before else "stays",),
                  {"seed": seed, "positions": positions, "before": before, "after": now,
                   "prob_before": float(plain[before]), "prob_after": float(shuffled[before]),
                   "largest_change": float(np.abs(shuffled - plain).max())})


# ---- layer: when the answer forms ---------------------------------------------------------------------------------
@rule("layer")
def final_class_layer(model: ViT, a: Analysis) -> Answer:
    """The first layer (0: before the first block, as the prediction page counts) from which the final class leads,
    and keeps leading to the last layer. A class leads when no class is more likely there (a tie counts)."""
    needs_head("final_class_layer", a)
    probs = a.layer_probs  # (L+1, classes): the head on the cls token after each layer
    final = int(a.probs.argmax())
    leads = probs[:, final] >= probs.max(axis=1) - TIE  # (L+1,)
    layer = first_lasting(leads)
    return Answer("final_class_layer", "layer", (layer,),
                  {"layer": layer, "class": final, "prob": float(probs[layer, final]), "layers": len(probs) - 1,
                   "final_prob": float(a.probs[final])},
                  {"top": probs.argmax(axis=1), "prob": probs[:, final]})
