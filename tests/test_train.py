import json

import numpy as np
import pytest
import torch

from vit_core import load_model
from vit_core.cli import main
from vit_core.train import TrainConfig, augment, teaching_config, train


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
    assert "Accuracy" in (tmp_path / "README.md").read_text()
    model = load_model(tmp_path)
    assert model.config == cfg
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and len(summary["per_class_accuracy"]) == 10


def test_cli_train_then_evaluate(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path), "--epochs", "1", "--limit", "256", "--dim", "16", "--depth", "1",
                 "--heads", "2", "--mlp", "32"]) == 0
    assert main(["evaluate", "--model", str(tmp_path), "--limit", "500"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("accuracy: 0.")


@pytest.mark.slow
def test_shipped_model_reaches_91_percent(capsys):
    """The full Fashion-MNIST test set (10,000 images) through the CLI, as the README tells users to run it."""
    assert main(["evaluate"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-2] == "images: 10000"
    accuracy = float(out[-1].removeprefix("accuracy: "))
    assert accuracy >= 0.91, out
