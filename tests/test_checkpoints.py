"""Our checkpoints are Hugging Face ViT checkpoints: transformers loads them unchanged, and we match it exactly."""
import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from vit_core import CheckpointError, PreprocessConfig, ViTConfig, load_model, save_model
from vit_core.data import LABELS

from .conftest import TEACHING

transformers = pytest.importorskip("transformers")


def hf_outputs(folder, pixels):
    hf = transformers.ViTForImageClassification.from_pretrained(folder, attn_implementation="eager").eval()
    with torch.no_grad():
        return hf(pixel_values=pixels, output_attentions=True, output_hidden_states=True)


def assert_parity(model, folder, pixels, atol=1e-5):
    ref, ours = hf_outputs(folder, pixels), model.trace(pixels)
    assert torch.allclose(ours.logits, ref.logits, atol=atol)
    assert len(ours.attentions) == len(ref.attentions)
    for a, b in zip(ours.attentions, ref.attentions):
        assert torch.allclose(a, b, atol=atol)
    for a, b in zip(ours.hidden_states, ref.hidden_states):
        assert torch.allclose(a, b, atol=atol)


def test_config_round_trips():
    cfg = ViTConfig(labels=("a", "b"), hidden_size=32, num_attention_heads=2)
    assert ViTConfig.from_hf_dict(json.loads(json.dumps(cfg.to_hf_dict()))) == cfg
    assert transformers.ViTConfig(**cfg.to_hf_dict()).hidden_size == 32
    for pre in (PreprocessConfig(), PreprocessConfig(crop_size=224, resize_to=248, resample="bicubic"),
                PreprocessConfig(crop_size=224, resize_to=224, squash=True, resample="bilinear")):
        assert PreprocessConfig.from_hf_dict(json.loads(json.dumps(pre.to_hf_dict()))) == pre


def test_transformers_loads_our_checkpoint(tiny_model, pixels, tmp_path):
    save_model(tiny_model, tmp_path)
    assert_parity(tiny_model, tmp_path, pixels)
    reloaded = load_model(tmp_path)
    assert torch.equal(reloaded(pixels), tiny_model(pixels))
    assert reloaded.config == tiny_model.config


def test_we_load_a_transformers_checkpoint(tmp_path, pixels):
    cfg = transformers.ViTConfig(image_size=28, patch_size=4, hidden_size=32, num_hidden_layers=3,
                                 num_attention_heads=4, intermediate_size=64, num_labels=7)
    torch.manual_seed(0)
    transformers.ViTForImageClassification(cfg).save_pretrained(tmp_path)
    assert_parity(load_model(tmp_path), tmp_path, pixels)


def test_shipped_teaching_model_matches_transformers(teaching_model, pixels):
    assert_parity(teaching_model, TEACHING, pixels)


def test_shipped_teaching_model_files(teaching_model):
    cfg = teaching_model.config
    assert (cfg.image_size, cfg.patch_size, cfg.num_patches, cfg.patch_dim) == (28, 4, 49, 48)
    assert cfg.labels == LABELS
    assert sum(p.numel() for p in teaching_model.parameters()) <= 500_000
    assert (TEACHING / "model.safetensors").stat().st_size <= 2_000_000
    card = (TEACHING / "README.md").read_text()
    assert "accuracy" in card.lower() and all(name in card for name in LABELS)
    pre = teaching_model.preprocess
    assert (pre.crop_size, pre.resize_to, pre.squash) == (28, 28, False)


def test_pickle_checkpoints_are_refused(tiny_model, tmp_path):
    torch.save(tiny_model.state_dict(), tmp_path / "pytorch_model.bin")
    tiny_model.config.save(tmp_path / "config.json")
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(tmp_path)
    (tmp_path / "pytorch_model.bin").rename(tmp_path / "model.safetensors")  # a pickle in disguise
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(tmp_path)


def test_wrong_shape_and_missing_tensors_are_refused(tiny_model, tmp_path):
    save_model(tiny_model, tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    tensors["vit.embeddings.position_embeddings"] = torch.zeros(1, 17, 24)
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(CheckpointError, match="position_embeddings.*shape"):
        load_model(tmp_path)
    del tensors["vit.embeddings.position_embeddings"]
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(CheckpointError, match="missing"):
        load_model(tmp_path)


def test_config_that_does_not_fit_the_weights_is_refused(tiny_model, tmp_path):
    save_model(tiny_model, tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["hidden_size"] = 48
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="shape"):
        load_model(tmp_path)


def test_missing_files_are_explained(tmp_path):
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_model(tmp_path)
    with pytest.raises(CheckpointError, match="not a checkpoint folder"):
        load_model(tmp_path / "nowhere")
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 100)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_model(tmp_path)
