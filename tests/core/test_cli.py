import numpy as np
import pytest
from PIL import Image

from vit_core import PreprocessConfig, load_image, preprocess, save_model
from vit_core.cli import main


@pytest.fixture
def checkpoint(tiny_model, tmp_path):
    return save_model(tiny_model, tmp_path / "model")


def test_trace_writes_every_array(checkpoint, tiny_model, tmp_path, capsys):
    img = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 40, 3), dtype=np.uint8)).save(img)
    out = tmp_path / "trace.npz"
    assert main(["trace", str(img), "--model", str(checkpoint), "--out", str(out)]) == 0
    z = np.load(out)
    shapes = {k: z[k].shape for k in z.files}
    assert shapes == {"pixel_values": (1, 3, 28, 28), "patches": (1, 49, 48), "patch_embeddings": (1, 49, 24),
                      "tokens": (1, 50, 24), "attentions": (2, 1, 3, 50, 50), "hidden_states": (3, 1, 50, 24),
                      "logits": (1, 5), "labels": (5,)}
    assert all(z[k].dtype == np.float32 for k in z.files if k != "labels")
    assert list(z["labels"]) == list(tiny_model.config.labels)
    x = preprocess(load_image(img), PreprocessConfig(crop_size=28, resize_to=28))  # what save_model wrote
    assert np.array_equal(z["pixel_values"], x.numpy())
    assert np.allclose(z["logits"], tiny_model(x).detach().numpy(), atol=1e-6)
    assert np.allclose(z["attentions"].sum(-1), 1, atol=1e-5)
    assert "prediction:" in capsys.readouterr().out


def test_trace_reports_bad_inputs_cleanly(checkpoint, tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    assert main(["trace", str(bad), "--model", str(checkpoint), "--out", str(tmp_path / "x.npz")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert main(["trace", str(bad), "--model", str(tmp_path), "--out", str(tmp_path / "x.npz")]) == 2
    assert "no model.safetensors" in capsys.readouterr().err
    assert main(["trace", str(bad), "--model", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.npz")]) == 2
    assert "no checkpoint folder at" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_explain_offers_exactly_the_methods_of_vit_core_explain():
    """`explain --method` offers vit_core.explain.METHODS, the tuple itself: the CLI holds no copy of it."""
    import argparse

    from vit_core import explain
    from vit_core.cli import METHODS, build_parser

    assert METHODS is explain.METHODS
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    method = next(a for a in commands["explain"]._actions if a.dest == "method")
    assert tuple(method.choices) == explain.METHODS
