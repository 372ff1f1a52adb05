import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from vit_core import load_model, preprocess
from vit_core.cli import main
from vit_core.data import LABELS, class_names, load_split
from vit_core.model_card import write_model_card
from vit_core.train import TrainConfig, augment, evaluate, machine, per_class_accuracy, teaching_config, train

from tests.conftest import TEACHING


def test_augment_is_reproducible_and_in_range():
    x = torch.rand(16, 1, 28, 28)
    a = augment(x, torch.Generator().manual_seed(3))
    b = augment(x, torch.Generator().manual_seed(3))
    assert a.shape == (16, 3, 28, 28) and torch.equal(a, b)
    assert a.min() >= 0 and a.max() <= 1
    assert not torch.equal(a, augment(x, torch.Generator().manual_seed(4)))


def test_training_runs_end_to_end_on_a_subset(tmp_path):
    cfg = teaching_config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    train(tmp_path, TrainConfig(epochs=2, limit=512, batch_size=64, warmup_epochs=1), cfg, log=lambda s: None)
    summary = json.loads((tmp_path / "training.json").read_text())
    assert [h["epoch"] for h in summary["history"]] == [1, 2]
    assert all(np.isfinite(h["train_loss"]) for h in summary["history"])
    assert summary["history"][-1]["train_loss"] < summary["history"][0]["train_loss"]
    loaded = load_model(tmp_path)
    assert loaded.model.config == cfg
    # the figures in training.json are those of the saved weights, with the saved preprocessing, on all 10,000
    images, labels = load_split("test")
    preds = evaluate(loaded.model, images, loaded.preprocess)
    assert summary["test_accuracy"] == float((preds == labels).mean()) == summary["history"][-1]["test_acc"]
    assert summary["per_class_accuracy"] == per_class_accuracy(preds, labels)
    assert summary["machine"] == machine()
    card = (tmp_path / "README.md").read_text()
    assert f"**Accuracy: {summary['test_accuracy']:.2%}**" in card
    assert f"on a {machine()['cpus']}-core {machine()['processor']} machine" in card


def test_card_says_nothing_of_a_machine_it_has_no_record_of(tmp_path):
    folder = shutil.copytree(TEACHING, tmp_path / "model")
    summary = json.loads((folder / "training.json").read_text())
    del summary["machine"]
    (folder / "training.json").write_text(json.dumps(summary))
    card = write_model_card(folder).read_text()
    minutes = round(summary["wall_time_s"] / 60)
    assert f"- Wall time: {minutes} min.\n" in card
    assert "-core" not in card and "machine" not in card
    assert card.replace(f"{minutes} min.", "") == (TEACHING / "README.md").read_text().replace(
        f"{minutes} min on a 2-core AMD EPYC machine (Linux, x86_64), shared with other work while it ran.", "")


def test_cli_train_then_evaluate(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path), "--epochs", "1", "--limit", "256", "--dim", "16", "--depth", "1",
                 "--heads", "2", "--mlp", "32"]) == 0
    cfg = load_model(tmp_path).model.config
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads, cfg.intermediate_size) == (16, 1, 2, 32)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(TEACHING), "--limit", "500"]) == 0
    out = capsys.readouterr().out.splitlines()
    # the same 500 pictures through the app's path (PIL picture → vit_core.images.preprocess → model)
    loaded = load_model(TEACHING)
    images, labels = (a[:500] for a in load_split("test"))
    with torch.no_grad():
        preds = np.array([int(loaded.model(preprocess(Image.fromarray(im).convert("RGB"), loaded.preprocess)).argmax())
                          for im in images])
    per_class = per_class_accuracy(preds, labels)
    assert out == [f"  {name:<12} {per_class[name]:.4f}" for name in LABELS] + [
        "images: 500", f"accuracy: {(preds == labels).mean():.4f}"]


@pytest.mark.slow
def test_shipped_model_reaches_91_percent(capsys):
    """The full Fashion-MNIST test set (10,000 images) through the CLI, as the README tells users to run it."""
    assert main(["evaluate"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-2] == "images: 10000"
    accuracy = float(out[-1].removeprefix("accuracy: "))
    assert accuracy >= 0.91, out
    summary = json.loads((TEACHING / "training.json").read_text())
    assert accuracy == round(summary["test_accuracy"], 4)  # the card's figure is the one a user gets


def test_korean_card_has_the_english_cards_numbers(tmp_path):
    """README.ko.md is written by the same code from the same training.json: the shipped one is what it writes, its
    figures are the English card's, and its class names are those of class_names.json beside the model."""
    folder = shutil.copytree(TEACHING, tmp_path / "model")
    write_model_card(folder)
    for name in ("README.md", "README.ko.md"):
        assert (folder / name).read_text(encoding="utf-8") == (TEACHING / name).read_text(encoding="utf-8"), name
    ko = (folder / "README.ko.md").read_text(encoding="utf-8")
    summary = json.loads((folder / "training.json").read_text())
    assert f"**정확도: {summary['test_accuracy']:.2%}**" in ko
    assert f"| 파라미터 수 | {summary['parameters']:,} |" in ko
    for name, acc in summary["per_class_accuracy"].items():
        assert f"| {class_names('ko')[name]} | {acc:.2%} |" in ko
    assert "걸린 시간: 89분 (2코어 AMD EPYC 컴퓨터, Linux, x86_64; 학습하는 동안 다른 작업도 함께 돌았습니다)." in ko
    del summary["machine"]
    (folder / "training.json").write_text(json.dumps(summary))
    assert "- 걸린 시간: 89분.\n" in (write_model_card(folder).parent / "README.ko.md").read_text(encoding="utf-8")
