"""Our checkpoints are Hugging Face ViT checkpoints: transformers loads them unchanged, and we match it exactly."""
import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from vit_core import (CheckpointError, LoadedModel, ModelError, ModelNotFound, NoNetwork, PreprocessConfig, ViTConfig,
                      load_model, save_model)
from vit_core.data import LABELS

from tests.conftest import TEACHING, assert_parity, hf_outputs

transformers = pytest.importorskip("transformers")


def test_config_round_trips():
    cfg = ViTConfig(labels=("a", "b"), hidden_size=32, num_attention_heads=2)
    assert ViTConfig.from_hf_dict(json.loads(json.dumps(cfg.to_hf_dict()))) == cfg
    assert transformers.ViTConfig(**cfg.to_hf_dict()).hidden_size == 32
    for pre in (PreprocessConfig(), PreprocessConfig(crop_size=224, resize_to=248, resample="bicubic"),
                PreprocessConfig(crop_size=224, resize_to=224, squash=True, resample="bilinear")):
        assert PreprocessConfig.from_hf_dict(json.loads(json.dumps(pre.to_hf_dict()))) == pre


def test_transformers_loads_our_checkpoint(tiny_model, pixels, tmp_path):
    save_model(tiny_model, tmp_path)
    assert_parity(tiny_model, hf_outputs(tmp_path, pixels), pixels)
    reloaded = load_model(tmp_path)
    assert torch.equal(reloaded.model(pixels), tiny_model(pixels))
    assert reloaded.model.config == tiny_model.config


def test_we_load_a_transformers_checkpoint(tmp_path, pixels):
    cfg = transformers.ViTConfig(image_size=28, patch_size=4, hidden_size=32, num_hidden_layers=3,
                                 num_attention_heads=4, intermediate_size=64, num_labels=7)
    torch.manual_seed(0)
    transformers.ViTForImageClassification(cfg).save_pretrained(tmp_path)
    assert_parity(load_model(tmp_path).model, hf_outputs(tmp_path, pixels), pixels)


def test_shipped_teaching_model_matches_transformers(teaching_model, pixels):
    assert_parity(teaching_model, hf_outputs(TEACHING, pixels), pixels)


def test_shipped_teaching_model_files(teaching):
    assert isinstance(teaching, LoadedModel)
    assert (teaching.source, teaching.folder) == ("huggingface", TEACHING)
    cfg = teaching.model.config
    assert (cfg.image_size, cfg.patch_size, cfg.num_patches, cfg.patch_dim) == (28, 4, 49, 48)
    assert cfg.labels == LABELS
    assert sum(p.numel() for p in teaching.model.parameters()) <= 500_000
    assert (TEACHING / "model.safetensors").stat().st_size <= 2_000_000
    assert not teaching.model.training and not any(p.requires_grad for p in teaching.model.parameters())
    pre = teaching.preprocess
    assert (pre.crop_size, pre.resize_to, pre.squash) == (28, 28, False)


def test_shipped_model_card_says_what_training_measured(teaching):
    """The card comes with the model, and its figures are training.json's, not figures typed by hand."""
    assert teaching.card == (TEACHING / "README.md").read_text(encoding="utf-8")
    summary = json.loads((TEACHING / "training.json").read_text())
    assert f"**Accuracy: {summary['test_accuracy']:.2%}**" in teaching.card
    for name, acc in summary["per_class_accuracy"].items():
        assert f"| {name} | {acc:.2%} |" in teaching.card
    machine = summary["machine"]
    assert f"on a {machine['cpus']}-core {machine['processor']} machine ({machine['system']}" in teaching.card


def test_loaded_model_is_a_frozen_record(teaching):
    with pytest.raises(AttributeError):
        teaching.preprocess = PreprocessConfig()
    assert not hasattr(teaching.model, "preprocess") and not hasattr(teaching.model, "source")


def test_card_is_none_without_readme_and_read_leniently(tiny_model, tmp_path):
    loaded = load_model(save_model(tiny_model, tmp_path))
    assert loaded.card is None and loaded.folder == tmp_path and loaded.source == "huggingface"
    (tmp_path / "README.md").write_bytes(b"# caf\xc3\xa9 \xff card\n")  # \xff is not UTF-8: replaced, not refused
    assert load_model(tmp_path).card == "# caf\u00e9 \ufffd card\n"


def test_save_model_writes_the_given_or_the_default_preprocessing(tiny_model, tmp_path):
    """Without a preprocess argument the default for the model's image size is written, whatever hangs on the
    module; with one, that one."""
    tiny_model.preprocess = PreprocessConfig(crop_size=28, resize_to=40)  # an attribute that is not read
    default = PreprocessConfig(crop_size=28, resize_to=28)
    assert load_model(save_model(tiny_model, tmp_path / "plain")).preprocess == default
    given = PreprocessConfig(crop_size=28, resize_to=32, resample="bicubic", image_mean=(0.1, 0.2, 0.3))
    assert load_model(save_model(tiny_model, tmp_path / "given", given)).preprocess == given


def test_pickle_checkpoints_are_refused(tiny_model, tmp_path):
    torch.save(tiny_model.state_dict(), tmp_path / "pytorch_model.bin")
    tiny_model.config.save(tmp_path / "config.json")
    with pytest.raises(CheckpointError, match="only pytorch_model.bin, a pickle"):
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
    with pytest.raises(CheckpointError, match="no model.safetensors"):
        load_model(tmp_path)
    with pytest.raises(ModelNotFound, match="no checkpoint folder at .*nowhere"):
        load_model(tmp_path / "nowhere")
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 100)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_model(tmp_path)


def test_error_types_say_what_went_wrong(tmp_path):
    """A missing model, an unusable file and a download that cannot happen are three different things for a caller,
    all of them a ModelError; each is also the built-in error one would expect."""
    assert issubclass(CheckpointError, ValueError) and issubclass(ModelNotFound, LookupError)
    assert issubclass(NoNetwork, ConnectionError)
    for error in (CheckpointError, ModelNotFound, NoNetwork):
        assert issubclass(error, ModelError)
        assert {CheckpointError, ModelNotFound, NoNetwork} & set(error.__mro__) == {error}  # none is another
    with pytest.raises(ModelNotFound):
        load_model(tmp_path / "missing")
    with pytest.raises(ModelNotFound):
        load_model(tmp_path / "missing" / "model.safetensors")
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(CheckpointError):  # something is there, but not a checkpoint
        load_model(tmp_path / "file")
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    torch.save({"w": torch.zeros(2)}, pickled / "pytorch_model.bin")  # nothing else in the folder
    with pytest.raises(CheckpointError, match="only pytorch_model.bin"):
        load_model(pickled)
