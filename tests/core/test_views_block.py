"""The records of steps 4 and 6 (vit_core.views) on small cases worked out by hand: no model, no picture."""
from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from vit_core import views
from vit_core.model import TraceArrays

# by hand: s = q·k/√d with q = (1, 0), k = (1, 0), d = 2 is 1/√2; the other key (0, 1) scores 0, so
# w = e^(1/√2) / (e^(1/√2) + e^0) = 2.0281149816… / 3.0281149816… = 0.6697615493…
ROOT_HALF = 0.7071067811865475
E_ROOT_HALF = 2.028114981647472
WEIGHT = 0.6697615493266569


def f32(rows) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def block(q, k, scores, probs, v=None, heads_out=None, x=None) -> views.BlockArrays:
    """A BlockArrays of one head built by hand: q, k, v, heads_out (T, d); scores, probs (T, T); x (T, D)."""
    q, k, scores, probs = f32([q]), f32([k]), f32([scores]), f32([probs])  # the head axis: (1, T, …)
    T = q.shape[1]
    rest = np.zeros((T, 2), np.float32) if x is None else f32(x)
    return views.BlockArrays(x=rest, ln1=rest, q=q, k=k, v=np.zeros_like(q) if v is None else f32([v]),
                             scores=scores, probs=probs,
                             heads_out=np.zeros_like(q) if heads_out is None else f32([heads_out]),
                             attn_out=rest, after_attn=rest, ln2=rest, mlp_hidden=rest, mlp_out=rest, out=rest)


TWO_TOKENS = block(q=[[1, 0], [0, 1]], k=[[1, 0], [0, 1]],
                   scores=[[ROOT_HALF, 0], [0, ROOT_HALF]],
                   probs=[[WEIGHT, 1 - WEIGHT], [1 - WEIGHT, WEIGHT]])


def test_worked_example_two_tokens_by_hand():
    we = views.worked_example(TWO_TOKENS, head=0, query=0, key=0)
    assert we.q.tolist() == [1, 0] and we.k.tolist() == [1, 0]
    assert we.products.tolist() == [1, 0] and we.dot == 1
    assert we.score == pytest.approx(ROOT_HALF, abs=1e-15)
    assert we.row == pytest.approx([ROOT_HALF, 0], abs=1e-15)  # the query against both keys
    assert we.shift == pytest.approx(ROOT_HALF, abs=1e-15)
    assert we.exp_score == pytest.approx(E_ROOT_HALF, rel=1e-14)
    assert we.exp_total == pytest.approx(E_ROOT_HALF + 1, rel=1e-14)  # e^(1/√2) + e^0
    assert we.weight == pytest.approx(WEIGHT, rel=1e-14)
    assert we.model_score == pytest.approx(ROOT_HALF, rel=1e-7)  # read from the (float32) matrices
    assert we.model_weight == pytest.approx(WEIGHT, rel=1e-7)
    assert we.score_gap < 1e-7 and we.weight_gap < 1e-7 and we.matches is True


def test_worked_example_other_key_shares_the_denominator():
    we = views.worked_example(TWO_TOKENS, head=0, query=0, key=1)
    assert we.products.tolist() == [0, 0] and we.dot == 0 and we.score == 0
    assert we.exp_score == 1
    assert we.exp_total == pytest.approx(E_ROOT_HALF + 1, rel=1e-14)  # the same sum for every key of the row
    assert we.weight == pytest.approx(1 / (E_ROOT_HALF + 1), rel=1e-14)
    assert we.weight == pytest.approx(1 - WEIGHT, rel=1e-14)
    assert we.matches


def test_worked_example_scores_too_large_for_exp():
    """Scores 1000 and 999: e^1000 overflows float64, so the sums are inf, but the shifted form gives the weight
    e^1 / (e^1 + e^0) = 0.7310585786…"""
    # d = 4, so √d = 2 and every number is exact: q·k0/2 = 2000/2, q·k1/2 = 1998/2
    big = block(q=[[2000, 1998, 0, 0], [0, 0, 0, 0]], k=[[1, 0, 0, 0], [0, 1, 0, 0]], scores=[[1000, 999], [0, 0]],
                probs=[[0.7310585786, 0.2689414214], [0.5, 0.5]])
    we = views.worked_example(big, head=0, query=0, key=0)
    assert we.products.tolist() == [2000, 0, 0, 0] and we.dot == 2000
    assert we.score == 1000 and we.shift == 1000 and we.row.tolist() == [1000, 999]
    assert we.exp_score == float("inf") and we.exp_total == float("inf")
    assert we.weight == pytest.approx(np.e / (np.e + 1), rel=1e-14)
    assert we.matches
    other = views.worked_example(big, head=0, query=0, key=1)
    assert other.score == 999 and other.weight == pytest.approx(1 / (np.e + 1), rel=1e-14)
    assert other.exp_score == float("inf")  # e^999 overflows too


def test_worked_example_says_when_the_model_disagrees():
    wrong = block(q=[[1, 0], [0, 1]], k=[[1, 0], [0, 1]], scores=[[ROOT_HALF, 0], [0, ROOT_HALF]],
                  probs=[[0.5, 0.5], [0.5, 0.5]])  # not the softmax of the scores
    we = views.worked_example(wrong, head=0, query=0, key=0)
    assert not we.matches
    assert we.score_gap < 1e-7 and we.weight_gap == pytest.approx(WEIGHT - 0.5, abs=1e-7)
    off = block(q=[[1, 0], [0, 1]], k=[[1, 0], [0, 1]], scores=[[ROOT_HALF + 1e-3, 0], [0, ROOT_HALF]],
                probs=[[WEIGHT, 1 - WEIGHT], [1 - WEIGHT, WEIGHT]])  # a score off by 1e-3
    we = views.worked_example(off, head=0, query=0, key=0)
    assert not we.matches and we.score_gap == pytest.approx(1e-3, rel=1e-3)


def test_worked_example_is_read_only():
    we = views.worked_example(TWO_TOKENS, head=0, query=0, key=0)
    for array in (we.q, we.k, we.products, we.row):
        assert not array.flags.writeable


# ---- one query's row, and the flow through the block --------------------------------------------------------------
FIVE_TOKENS = block(  # cls + a 2×2 grid of patches
    q=np.zeros((5, 2)), k=np.zeros((5, 2)),
    scores=np.zeros((5, 5)),
    probs=[[0.2] * 5, [0.2] * 5, [0.1, 0.2, 0.6, 0.1, 0.0], [0.2] * 5, [0.2] * 5],
    heads_out=[[0, 0], [0, 0], [1.5, -2.5], [0, 0], [0, 0]],
    x=[[3, 4], [0, 1], [1, 0], [0, 2], [2, 0]])


def test_query_row_by_hand():
    row = views.query_row(FIVE_TOKENS, head=0, query=2, grid=2)
    assert row.probs.tolist() == pytest.approx([0.1, 0.2, 0.6, 0.1, 0.0])
    assert row.scores.tolist() == [0] * 5
    assert row.strongest == 2  # patch 1: the largest weight, 0.6
    assert row.out.tolist() == [1.5, -2.5]
    np.testing.assert_allclose(row.patch_map, [[0.2, 0.6], [0.1, 0.0]])  # cls left out, row by row


def test_flow_norms_by_hand():
    x, out = views.flow(FIVE_TOKENS, ("x", "out"), grid=2)
    assert x.name == "x" and x.values is FIVE_TOKENS.x
    assert x.norms.tolist() == [5, 1, 1, 2, 2]  # ‖(3, 4)‖ = 5 for cls, then the four patches
    assert x.patch_norms.tolist() == [[1, 1], [2, 2]] and (x.shortest, x.longest) == (1, 2)
    assert out.name == "out" and out.norms.tolist() == [5, 1, 1, 2, 2]
    assert not x.norms.flags.writeable and not x.patch_norms.flags.writeable


def test_block_arrays_fields_are_the_steps_in_order():
    assert [f.name for f in fields(views.BlockArrays)] == [
        "x", "ln1", "q", "k", "v", "scores", "probs", "heads_out", "attn_out", "after_attn", "ln2", "mlp_hidden",
        "mlp_out", "out"]


def test_the_flow_step_4_draws_is_the_block_in_order():
    """views.FLOW: the points of a block the data passes through, in the order of BlockArrays' fields."""
    names = [f.name for f in fields(views.BlockArrays)]
    assert views.FLOW[0] == "x" and views.FLOW[-1] == "out" and "ln1" in views.FLOW and "ln2" in views.FLOW
    assert [names.index(n) for n in views.FLOW] == sorted(names.index(n) for n in views.FLOW)


# ---- step 6 -------------------------------------------------------------------------------------------------------
def analysis(**given) -> views.Analysis:
    """An Analysis with only the given fields set (the rest None): what the step-6 views read."""
    return views.Analysis(**{f.name: None for f in fields(views.Analysis)} | given)


PROBS = f32([0.1, 0.5, 0.05, 0.3, 0.05])  # 5 classes
LAYER_PROBS = f32([[0.2, 0.2, 0.2, 0.2, 0.2],  # layer 0: a tie, the first class wins
                   [0.1, 0.1, 0.6, 0.1, 0.1],
                   [0.1, 0.5, 0.05, 0.3, 0.05]])  # the last layer is the prediction


def test_predictions_top_k_and_rest():
    p = views.predictions(analysis(probs=PROBS, layer_probs=LAYER_PROBS), k=2)
    assert p.top.tolist() == [1, 3]
    assert p.top_probs.tolist() == pytest.approx([0.5, 0.3])
    assert p.rest == pytest.approx(0.2, abs=1e-6)  # 0.1 + 0.05 + 0.05
    np.testing.assert_allclose(p.layer_top, [[0.2, 0.2], [0.1, 0.1], [0.5, 0.3]])
    assert p.layer_best.tolist() == [0, 2, 1]
    assert p.layer_best_probs.tolist() == pytest.approx([0.2, 0.6, 0.5])
    for array in (p.top, p.top_probs, p.layer_top, p.layer_best, p.layer_best_probs):
        assert not array.flags.writeable


def test_predictions_k_beyond_the_classes():
    p = views.predictions(analysis(probs=PROBS, layer_probs=LAYER_PROBS), k=10)
    assert len(p.top) == 5 and p.top[:3].tolist() == [1, 3, 0] and set(p.top[3:].tolist()) == {2, 4}
    assert p.top_probs.tolist() == pytest.approx([0.5, 0.3, 0.1, 0.05, 0.05])
    assert p.rest == pytest.approx(0, abs=1e-6)
    assert p.layer_top.shape == (3, 5)


def test_predictions_without_a_head():
    assert views.predictions(analysis(probs=None, layer_probs=None), k=5) is None


def test_cls_norms_by_hand():
    hidden = f32([[[[3, 4], [9, 9]]],  # (L+1, B, T, D) = (3, 1, 2, 2): the cls token is [layer, 0, 0]
                  [[[6, 8], [9, 9]]],
                  [[[0, 0], [9, 9]]]])
    trace = TraceArrays(**{f.name: None for f in fields(TraceArrays)} | dict(hidden_states=hidden))
    norms = views.cls_norms(analysis(trace=trace))
    assert norms.tolist() == [5, 10, 0]
    assert not norms.flags.writeable
