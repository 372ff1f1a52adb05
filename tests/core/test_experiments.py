"""The experiments page's numbers (vit_core/experiments.py), the training run's snapshots, the head-importance
table, and the command line's interventions."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from vit_core import experiments, load_model, save_model, views
from vit_core.cli import main
from vit_core.interventions import Intervention
from vit_core.model import init_weights
from vit_core.train import TrainConfig, teaching_config, train

from tests.conftest import ROOT, TEACHING

DEMO = (ROOT / "assets" / "images" / "fubao_28.png").read_bytes()


@pytest.fixture(scope="module")
def analysed(teaching):
    return views.analyse(teaching, DEMO)


def test_a_run_is_the_trace_with_the_intervention(teaching, analysed):
    iv = Intervention(mask=(24,), shuffle_seed=2, ablate=((0, 1),))
    r = experiments.run(teaching.model, teaching.preprocess, analysed, iv)
    ref = teaching.model.trace(torch.from_numpy(np.array(analysed.trace.pixel_values)), iv)
    assert np.allclose(r.logits, ref.logits[0].numpy()) and np.allclose(r.probs.sum(), 1, atol=1e-6)
    assert r.attentions.shape == (6, 4, 50, 50) and r.rollout.shape == (6, 50, 50)
    assert np.array_equal(r.permutation, ref.permutation.numpy())
    assert not r.attentions.flags.writeable and not r.model_input.flags.writeable
    plain = experiments.run(teaching.model, teaching.preprocess, analysed, Intervention())
    assert np.array_equal(plain.model_input, analysed.model_view)  # in colours again: exactly the model's view
    assert np.allclose(plain.attentions, analysed.trace.attentions[:, 0], atol=1e-6)
    masked = experiments.run(teaching.model, teaching.preprocess, analysed, Intervention(mask=(0,)))
    mean = np.round(np.array(teaching.preprocess.image_mean) * 255)
    assert np.array_equal(masked.model_input[:4, :4], np.broadcast_to(mean, (4, 4, 3)))  # the mean colour
    ch = experiments.change(plain, r)
    assert ch.top_before == int(plain.probs.argmax()) and ch.largest_logit_change > 0
    assert experiments.change(plain, plain).largest_logit_change == 0
    assert experiments.cls_map(plain, 5, 2).shape == (7, 7)
    assert np.allclose(experiments.cls_map(plain, 5, None), plain.attentions[5, :, 0, 1:].mean(0).reshape(7, 7))
    assert np.allclose(experiments.cls_map(plain, 2, "rollout"), plain.rollout[2, 0, 1:].reshape(7, 7))
    assert [i for i, _ in experiments.top(plain, 3)] == list(np.argsort(plain.probs)[::-1][:3])


def test_the_mean_fill_is_the_preprocessings_mean_colour_not_black(teaching, analysed):
    """What page 6 names the `mean` fill (issue 28 §6): the colour a masked patch really shows."""
    from vit_core.config import PreprocessConfig

    masked = experiments.run(teaching.model, teaching.preprocess, analysed, Intervention(mask=(0,)))
    assert experiments.mean_fill(teaching.preprocess) == (128, 128, 128)  # image_mean 0.5: mid grey
    assert np.array_equal(masked.model_input[:4, :4], np.broadcast_to((128, 128, 128), (4, 4, 3)))
    imagenet = PreprocessConfig(image_mean=(0.485, 0.456, 0.406), image_std=(0.229, 0.224, 0.225))
    assert experiments.mean_fill(imagenet) == (124, 116, 104)


def test_the_permutation_test(teaching, analysed):
    pt = experiments.permutation_test(teaching.model, teaching.preprocess, analysed, seed=7,
                                      base=Intervention(ablate=((2, 2),)))
    assert pt.logits_without_pos < 1e-5 and pt.attention_without_pos < 1e-5  # a permutation, to rounding
    assert pt.exact
    assert pt.logits_with_pos > 1e-2 and pt.attention_with_pos > 1e-2  # with E_pos, both change
    assert pt.top["without_pos"] == pt.top["without_pos_shuffled"]
    assert sorted(pt.permutation) == list(range(49))


def test_head_importance_on_a_few_pictures(teaching):
    from vit_core.data import load_split
    from vit_core.train import to_model_input

    images, labels = load_split("test")
    result = experiments.head_importance(teaching.model, to_model_input(images[:200], teaching.preprocess),
                                         labels[:200], batch_size=64)
    assert result.ablated.shape == (6, 4) and result.images == 200
    preds = teaching.model(to_model_input(images[:200], teaching.preprocess)).argmax(-1).numpy()
    assert result.accuracy == float((preds == labels[:200]).mean())
    assert (result.ablated != result.accuracy).any()  # some head matters


def test_the_shipped_head_importance_table(teaching):
    data = experiments.load_head_importance(TEACHING)
    assert data is not None, "assets/models/fashion-vit/head_importance.json is missing"
    assert data["images"] == 10_000 and data["table"].shape == (6, 4)
    assert data["command"].startswith("python -m vit_core head-importance")
    summary = json.loads((TEACHING / "training.json").read_text())
    assert data["accuracy"] == pytest.approx(summary["test_accuracy"], abs=1e-4)  # the same model, the same test set


def test_a_broken_head_importance_file_is_refused(tmp_path):
    (tmp_path / experiments.HEAD_IMPORTANCE).write_text(json.dumps({"heads": [{"layer": 2, "head": 2,
                                                                               "accuracy": 0.5}]}))
    with pytest.raises(ValueError):
        experiments.load_head_importance(tmp_path)
    assert experiments.load_head_importance(tmp_path / "nowhere") is None


def test_training_writes_snapshots_and_a_short_run_only_snapshots(tmp_path):
    cfg = teaching_config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    tc = TrainConfig(epochs=3, limit=256, batch_size=64, warmup_epochs=1, snapshots=(0, 1, 3))
    full = train(tmp_path / "full", tc, cfg, log=lambda s: None)
    found = experiments.snapshots(tmp_path / "full")
    assert [s.epoch for s in found] == [0, 1, 3]
    assert all((tmp_path / "full" / "snapshots" / s.file).stat().st_size < 1_000_000 for s in found)
    first = experiments.load_snapshot(tmp_path / "full", found[0])
    untrained = experiments.untrained(full)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), untrained.state_dict().values()))
    last = experiments.load_snapshot(tmp_path / "full", found[-1])
    assert all(torch.equal(a, b) for a, b in zip(last.state_dict().values(), full.state_dict().values()))
    history = json.loads((tmp_path / "full" / "training.json").read_text())["history"]
    assert found[1].test_acc == history[0]["test_acc"]
    assert experiments.training_history(tmp_path / "full")[0] == (0, found[0].test_acc)
    # a run stopped after one epoch is the start of the full run, bit for bit, and writes no model
    train(tmp_path / "short", TrainConfig(**{**tc.__dict__, "stop_after": 1}), cfg, log=lambda s: None)
    assert not (tmp_path / "short" / "model.safetensors").exists()
    short = experiments.snapshots(tmp_path / "short")
    assert [s.epoch for s in short] == [0, 1]
    from vit_core.checkpoints import read_safetensors

    full_1 = read_safetensors(tmp_path / "full" / "snapshots" / found[1].file)
    short_1 = read_safetensors(tmp_path / "short" / "snapshots" / short[1].file)
    assert full_1.keys() == short_1.keys() and all(torch.equal(full_1[k], short_1[k]) for k in full_1)


def test_the_shipped_snapshots_are_the_training_runs(teaching):
    """Epochs 0, 1, 2, 5 and 10 of the run that made the teaching model (its training.json has their figures)."""
    found = experiments.snapshots(TEACHING)
    assert [s.epoch for s in found] == [0, 1, 2, 5, 10]
    history = {h["epoch"]: h for h in json.loads((TEACHING / "training.json").read_text())["history"]}
    index = json.loads((TEACHING / "snapshots" / "snapshots.json").read_text())["snapshots"]
    for s, entry in zip(found, index):
        assert (TEACHING / "snapshots" / s.file).stat().st_size < 1_000_000
        if s.epoch:
            assert entry["train_loss"] == history[s.epoch]["train_loss"]  # bit for bit: the same run
            assert s.test_acc == history[s.epoch]["test_acc"]
    untrained = experiments.untrained(teaching.model)
    first = experiments.load_snapshot(TEACHING, found[0])
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), untrained.state_dict().values()))
    assert all(torch.equal(a, b) for a, b in zip(untrained.state_dict().values(),
                                                 init_weights(type(teaching.model)(teaching.model.config),
                                                              0).state_dict().values()))


def test_snapshot_index_names_a_file_never_a_path(tmp_path, tiny_model):
    save_model(tiny_model, tmp_path)
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "snapshots.json").write_text(json.dumps(
        {"snapshots": [{"epoch": 1, "file": "../model.safetensors", "test_acc": 0.5}]}))
    assert experiments.snapshots(tmp_path) == []  # not in snapshots/: not listed, never read


# ---- the command line ------------------------------------------------------------------------------------------------
def test_cli_trace_with_interventions(tiny_model, tmp_path, capsys):
    folder = save_model(tiny_model, tmp_path / "model")
    img = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (28, 28, 3), dtype=np.uint8)).save(img)
    out = tmp_path / "t.npz"
    assert main(["trace", str(img), "--model", str(folder), "--out", str(out), "--mask-patches", "0,8,24,40",
                 "--shuffle-patches", "3", "--no-pos-embed", "--ablate-heads", "2.1,1.3"]) == 0
    z = np.load(out)
    assert list(z["masked_patches"]) == [0, 8, 24, 40] and z["ablated_heads"].tolist() == [[1, 3], [2, 1]]
    assert bool(z["no_pos_embed"]) and int(z["shuffle_seed"]) == 3 and str(z["mask_fill"]) == "mean"
    perm = z["permutation"]
    assert sorted(perm) == list(range(49)) and perm.dtype == np.int64
    plain = tiny_model.trace(torch.from_numpy(np.load(out)["pixel_values"]))  # the saved input is the changed one
    moved = np.where(perm == 0)[0][0]  # where the masked patch 0 went: its row of patches is 0
    assert np.all(z["patches"][0, moved] == 0) and np.allclose(plain.patches.numpy(), z["patches"])
    for bad, message in ((["--mask-patches", "60"], "patch numbers run from 0 to 48"),
                         (["--ablate-heads", "3.1"], "heads run from 1.1 to 2.3")):
        assert main(["trace", str(img), "--model", str(folder), "--out", str(out), *bad]) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["trace", str(img), "--out", str(out), "--ablate-heads", "two"])
    assert "layer.head" in capsys.readouterr().err


def test_cli_head_importance(tiny_model, tmp_path, capsys):
    folder = save_model(tiny_model, tmp_path / "model")
    assert main(["head-importance", "--model", str(folder), "--limit", "100"]) == 0
    data = experiments.load_head_importance(folder)
    assert data["table"].shape == (2, 3) and data["images"] == 100
    assert data["command"] == "python -m vit_core head-importance --limit 100"
    assert "no head ablated" in capsys.readouterr().out


def test_load_model_still_loads_a_folder_with_snapshots(tmp_path, tiny_model):
    save_model(tiny_model, tmp_path)
    (tmp_path / "snapshots").mkdir()
    assert load_model(tmp_path).model.config == tiny_model.config


# ---- the page's numbers, worked out by hand ----------------------------------------------------------------------
def a_run(probs, logits, attention: float) -> experiments.Run:
    """A run of a 1-layer, 1-head, 2-token model that only the comparison reads."""
    return experiments.Run(Intervention(), np.zeros((4, 4, 3), np.uint8), None if probs is None else np.array(probs),
                           None if logits is None else np.array(logits), np.full((1, 1, 2, 2), attention),
                           np.zeros((1, 2, 2)), None)


def test_a_change_in_percentage_points():
    before, after = a_run([0.7, 0.2, 0.1], [2.0, 0.7, 0.0], 0.5), a_run([0.4, 0.5, 0.1], [1.0, 1.2, 0.0], 0.25)
    ch = experiments.change(before, after)
    assert (ch.top_before, ch.top_after) == (0, 1)  # the unchanged run said class 0; the changed one says 1
    assert (ch.prob_before, ch.prob_after) == (0.7, 0.4) and ch.points == pytest.approx(-30.0)  # 70 % → 40 %
    assert ch.largest_logit_change == pytest.approx(1.0) and ch.largest_attention_change == 0.25
    headless = experiments.change(a_run(None, None, 0.5), a_run(None, None, 0.5))
    assert headless.top_before is None and headless.points == 0.0 and headless.largest_attention_change == 0


def test_the_permutation_test_is_exact_to_rounding():
    def pt(logits: float, attention: float) -> experiments.PermutationTest:
        return experiments.PermutationTest(0, np.arange(4), 0.5, 0.3, logits, attention, {})

    assert pt(0.0, experiments.EXACT).exact and pt(2e-6, 3e-7).exact  # float32 sums in another order
    assert not pt(2e-5, 0.0).exact and not pt(0.0, 2e-5).exact


def test_head_costs():
    # every head on: 90 %. Head 1.2 off: 85 % (−5 points, the worst); 2.1: 89.7 % (−0.3); 2.2: 90.01 % (+0.01)
    costs = experiments.head_costs(0.90, np.array([[0.90, 0.85], [0.897, 0.9001]]))
    assert np.allclose(costs.points, [[0.0, -5.0], [-0.3, 0.01]]) and not costs.points.flags.writeable
    assert costs.worst == (0, 1) and all(type(i) is int for i in costs.worst)
    assert costs.worst_accuracy == 0.85 and costs.worst_drop == pytest.approx(5.0)
    assert costs.harmless == 3  # 0, 0.3 and 0.01 points: each under HARMLESS_POINTS
    assert experiments.head_costs(0.5, np.array([[0.4, 0.3]])).harmless == 0


def test_the_centre_patchs_position_similarity():
    sim = np.arange(3 ** 4, dtype=np.float32).reshape(3, 3, 3, 3)  # sim[r, c] is patch (r, c)'s tile
    centre = experiments.centre_similarity(sim)
    assert centre.patch == 4 and np.array_equal(centre.similarity, sim[1, 1])
    even = experiments.centre_similarity(np.zeros((4, 4, 4, 4)))
    assert even.patch == 10 and even.similarity.shape == (4, 4)  # row 2, column 2: below and right of the middle


def test_the_training_run_a_learner_steps_through():
    snaps = [experiments.Snapshot(0, "epoch_0.safetensors", 0.10), experiments.Snapshot(2, "epoch_2.safetensors", 0.70)]
    history = [(0, 0.10), (1, 0.50), (2, 0.70), (3, 0.75)]
    run = experiments.training_run(snaps, history)
    assert run.epochs == (0, 2, 3) and run.last == 3  # the snapshots, then the model itself
    assert run.snapshots == {0: 0.10, 2: 0.70} and run.final_accuracy == 0.75
    assert run.marks == ((0, 0.10), (2, 0.70), (3, 0.75)) and run.history == tuple(history)
    assert experiments.training_run(snaps, history[:3]).epochs == (0, 2)  # a snapshot of the last epoch: once
    bare = experiments.training_run([], history[1:])  # no snapshots: the untrained model beside the model
    assert bare.epochs == (0,) and bare.last == 3 and bare.snapshots == {} and bare.marks == ()
    alone = experiments.training_run(snaps, [])  # no training.json
    assert alone.epochs == (0, 2) and alone.last is None and alone.final_accuracy is None and alone.marks == ()
