"""Explanations (issue 14, vit_core/explain.py): the five methods against their definitions, the deletion and
insertion curves on a toy model whose answer is known, and the command line."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from vit_core import ViTConfig, save_model
from vit_core.analysis import attention_rollout
from vit_core.cli import main
from vit_core.explain import (METHODS, area, curves, faithfulness, forward_with_attentions, markdown_table,
                              masked_steps, ranking, relevance)
from vit_core.model import ViT, init_weights

from tests.conftest import ROOT, TEACHING, hf_outputs


def small_vit(layers: int, seed: int = 0) -> ViT:
    cfg = ViTConfig(image_size=8, patch_size=4, hidden_size=16, num_hidden_layers=layers, num_attention_heads=2,
                    intermediate_size=32, labels=("a", "b", "c"))
    model = init_weights(ViT(cfg), seed).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.5)
    return model.requires_grad_(False)


def test_relevance_of_two_layers_is_the_rule_worked_out_by_hand():
    """R = (I + Ā₂)(I + Ā₁) = I + Ā₁ + Ā₂ + Ā₂Ā₁, with Āₗ = mean over heads of (∂y/∂Aₗ ⊙ Aₗ)⁺."""
    model = small_vit(2)
    x = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.enable_grad():
        logits, (a1, a2), _ = forward_with_attentions(model, x.clone().requires_grad_(True))
        target = int(logits.argmax())
        g1, g2 = torch.autograd.grad(logits[0, target], (a1, a2))
    A1, A2 = ((g * a).clamp(min=0).mean(1)[0] for g, a in ((g1, a1), (g2, a2)))  # (T, T)
    I = torch.eye(5)
    by_hand = (I + A1 + A2 + A2 @ A1)[0, 1:].detach()
    ours, t = relevance(model, x, "relevance")
    assert t[0] == target and np.allclose(ours[0], by_hand.numpy(), atol=1e-6)


def test_rollout_and_attention_are_their_definitions_and_match_transformers(teaching_model, pixels):
    ref = hf_outputs(TEACHING, pixels)  # transformers' eager attentions
    attn, _ = relevance(teaching_model, pixels, "attention")
    assert np.allclose(attn, ref.attentions[-1].mean(1)[:, 0, 1:].numpy(), atol=1e-5)
    roll, _ = relevance(teaching_model, pixels, "rollout")
    for b in range(len(pixels)):
        R = torch.eye(50)
        for a in ref.attentions:
            A = a[b].mean(0) + torch.eye(50)
            R = (A / A.sum(-1, keepdim=True)) @ R  # Abnar & Zuidema: average heads, add I, renormalise, multiply
        assert np.allclose(roll[b], R[0, 1:].numpy(), atol=1e-5)
        assert np.allclose(roll[b], attention_rollout([a[b] for a in ref.attentions])[-1, 0, 1:].numpy(), atol=1e-5)


def test_gradient_and_value_are_their_definitions():
    model = small_vit(2, seed=3)
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(4))
    grad_map, t = relevance(model, x, "gradient", targets=[1, 2])
    xr = x.clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model(xr)
        (logits[0, 1] + logits[1, 2]).backward()
    per_pixel = (xr.grad * xr).sum(1).detach()  # (B, 8, 8)
    by_patch = [[per_pixel[b, r * 4:(r + 1) * 4, c * 4:(c + 1) * 4].sum() for r in range(2) for c in range(2)]
                for b in range(2)]
    assert list(t) == [1, 2] and np.allclose(grad_map, np.array(by_patch, dtype=np.float32), atol=1e-5)
    value, _ = relevance(model, x, "value")
    trace = model.trace(x)
    block = model.blocks[-1]
    _, _, v = block.attn.qkv(block.norm1(trace.hidden_states[-2]))
    d, W = v.shape[-1], block.attn.proj.weight
    for b in range(2):
        for j in range(1, 5):
            terms = [float(trace.attentions[-1][b, h, 0, j]) * float((v[b, h, j] @ W[:, h * d:(h + 1) * d].T).norm())
                     for h in range(2)]
            assert value[b, j - 1] == pytest.approx(np.mean(terms), rel=1e-4)


def test_the_target_changes_the_map(teaching_model, pixels):
    for method in ("relevance", "gradient"):
        a, _ = relevance(teaching_model, pixels[:1], method, targets=[0])
        b, _ = relevance(teaching_model, pixels[:1], method, targets=[7])
        assert not np.allclose(a, b)
    a, _ = relevance(teaching_model, pixels[:1], "attention", targets=[0])  # class-agnostic methods do not change
    assert np.array_equal(a, relevance(teaching_model, pixels[:1], "attention", targets=[7])[0])
    with pytest.raises(ValueError):
        relevance(teaching_model, pixels, "saliency")


def test_the_curves_of_a_perfect_ordering_on_a_toy_model():
    """A toy "model" whose target probability is the sum of fixed weights of the patches it sees: deleting the
    heaviest first gives 1 − (running sum of the sorted weights); inserting them first gives the running sum."""
    w = torch.tensor([0.05, 0.4, 0.1, 0.45])  # four 4×4 patches of an 8×8 picture

    def predict(batch):
        shown = (batch.abs().sum(1).reshape(len(batch), 2, 4, 2, 4).sum((2, 4)) > 0).float().reshape(len(batch), 4)
        p = shown @ w
        return torch.stack([p, 1 - p], 1)

    x = torch.ones(1, 3, 8, 8)
    order = ranking(w.numpy())  # perfect: 3, 1, 2, 0
    assert list(order) == [3, 1, 2, 0]
    d, i = curves(predict, x, 4, order, 0)
    running = np.concatenate([[0], np.cumsum(np.sort(w.numpy())[::-1])])
    assert np.allclose(d, 1 - running) and np.allclose(i, running)
    worst_d, worst_i = curves(predict, x, 4, order[::-1].copy(), 0)
    assert area(d) < area(worst_d) and area(i) > area(worst_i)
    assert area(np.array([1.0, 1.0, 1.0])) == 1.0 and area(np.array([1.0, 0.0])) == 0.5
    steps = masked_steps(x, 4, order, insertion=False)
    assert steps.shape == (5, 3, 8, 8) and torch.equal(steps[0], x[0]) and not steps[-1].any()


def test_faithfulness_table_and_the_shipped_one(teaching_model, pixels):
    result = faithfulness(teaching_model, pixels, batch_size=2)
    rows = result.table()
    assert [r["method"] for r in rows] == [*METHODS, "random"] and result.deletion.shape == (6, 2)
    assert all(0 <= r["deletion_mean"] <= 1 and 0 <= r["insertion_mean"] <= 1 for r in rows)
    shipped = json.loads((TEACHING / "faithfulness.json").read_text())
    assert shipped["images"] >= 1000 and [r["method"] for r in shipped["rows"]] == [*METHODS, "random"]
    assert shipped["command"] == f"python -m vit_core faithfulness --n {shipped['images']}"
    doc = (ROOT / "docs" / "EXPLANATIONS.md").read_text(encoding="utf-8")
    assert markdown_table(shipped["rows"]) in doc  # the doc shows the shipped numbers, not numbers typed by hand
    for row in shipped["rows"][:-1]:  # the doc's reading rests on these: each method beats random, 95 % interval
        assert row["deletion_vs_random"] + row["deletion_vs_random_ci95"] < 0
        assert row["insertion_vs_random"] - row["insertion_vs_random_ci95"] > 0


def test_cli_explain(tiny_model, tmp_path, capsys):
    folder = save_model(tiny_model, tmp_path / "model")
    names = []
    for k in range(3):
        names.append(str(tmp_path / f"p{k}.png"))
        Image.fromarray(np.random.default_rng(k).integers(0, 255, (28, 28, 3), dtype=np.uint8)).save(names[-1])
    out = tmp_path / "r.npz"
    assert main(["explain", *names, "--model", str(folder), "--method", "rollout", "--batch-size", "2",
                 "--out", str(out)]) == 0
    z = np.load(out)
    assert z["relevance"].shape == (3, 49) and z["target"].shape == (3,) and str(z["method"]) == "rollout"
    (tmp_path / "targets.txt").write_text("0\n4\n2\n")
    assert main(["explain", *names, "--model", str(folder), "--target", str(tmp_path / "targets.txt"),
                 "--out", str(out)]) == 0
    assert list(np.load(out)["target"]) == [0, 4, 2]
    assert main(["explain", *names, "--model", str(folder), "--target", "3", "--out", str(out)]) == 0
    assert list(np.load(out)["target"]) == [3, 3, 3]
    for bad in (["--target", "9"], ["--target", str(tmp_path / "none.txt")]):
        assert main(["explain", *names, "--model", str(folder), *bad, "--out", str(out)]) == 2
        assert "--target" in capsys.readouterr().err
