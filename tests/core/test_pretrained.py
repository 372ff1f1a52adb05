"""The paper's real pretrained ViTs load through the same code: Hugging Face and timm layouts, with and without a
head, E_pos resampled to other image sizes, and curated models found in the Hugging Face cache. No network: every
checkpoint is a small random model built here, checked against transformers' eager implementation."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from vit_core import CheckpointError, ModelNotFound, NoNetwork, load_model, save_model
from vit_core import hub
from vit_core.checkpoints import resample_pos_embed
from vit_core.cli import main
from vit_core.imagenet import imagenet_classes, imagenet_synsets

from tests.conftest import assert_parity, hf_outputs

transformers = pytest.importorskip("transformers")

# transformers.ViTConfig arguments: the paper's 224 px / 16 px patches, and smaller odd shapes
SHAPES = {
    "224px-P16-2layers": dict(image_size=224, patch_size=16, hidden_size=32, num_hidden_layers=2,
                              num_attention_heads=4, intermediate_size=64),
    "32px-P8-3layers": dict(image_size=32, patch_size=8, hidden_size=24, num_hidden_layers=3, num_attention_heads=3,
                            intermediate_size=40, layer_norm_eps=1e-6),
    "28px-P4-no-qkv-bias": dict(image_size=28, patch_size=4, hidden_size=16, num_hidden_layers=1,
                                num_attention_heads=2, intermediate_size=16, qkv_bias=False),
}


def random_hf_model(folder, head=True, num_labels=7, seed=0, **shape):
    """A transformers ViT with every parameter non-trivial, saved with save_pretrained."""
    torch.manual_seed(seed)
    config = transformers.ViTConfig(**shape, num_labels=num_labels)
    model = (transformers.ViTForImageClassification if head else transformers.ViTModel)(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    model.save_pretrained(folder)
    return model


def pixels_for(size, n=2, seed=0):
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


# ---- Hugging Face layout ----

@pytest.mark.parametrize("head", [True, False], ids=["classifier", "no-head"])
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_parity_with_transformers(shape, head, tmp_path):
    random_hf_model(tmp_path, head=head, **shape)
    pixels = pixels_for(shape["image_size"])
    loaded = load_model(tmp_path)
    assert (loaded.source, loaded.folder, loaded.card) == ("huggingface", tmp_path, None)  # save_pretrained: no card
    assert_parity(loaded.model, hf_outputs(tmp_path, pixels, head), pixels, head)


def test_headless_checkpoint_keeps_its_pooler_out_and_has_no_labels(tmp_path):
    random_hf_model(tmp_path, head=False, **SHAPES["32px-P8-3layers"])
    assert any(k.startswith("pooler.dense.") for k in load_file(tmp_path / "model.safetensors"))
    model = load_model(tmp_path / "model.safetensors").model  # the weights file itself works too
    assert model.head is None and model.config.labels == ()
    assert model.trace(pixels_for(32)).logits is None


@pytest.mark.parametrize("head", [True, False], ids=["classifier", "no-head"])
def test_transformers_5_tensor_names(head, tmp_path):
    """transformers 5 calls its modules layers.N.attention.q_proj; save_pretrained writes the old names, but a
    state_dict saved by hand keeps the new ones. Both load."""
    hf = random_hf_model(tmp_path, head=head, **SHAPES["32px-P8-3layers"])
    tensors = {k: v.contiguous() for k, v in hf.state_dict().items()}
    assert any(".layers.0.attention.q_proj." in "." + k for k in tensors)
    save_file(tensors, tmp_path / "model.safetensors")
    pixels = pixels_for(32)
    assert_parity(load_model(tmp_path).model, hf_outputs(tmp_path, pixels, head), pixels, head)


# ---- timm layout ----

def timm_tensors(hf: dict[str, torch.Tensor], depth: int) -> dict[str, torch.Tensor]:
    """transformers' tensors under timm's names, q, k and v fused into one qkv, written out name by name."""
    v = "vit." if "classifier.weight" in hf else ""
    out = {"cls_token": hf[f"{v}embeddings.cls_token"], "pos_embed": hf[f"{v}embeddings.position_embeddings"],
           "patch_embed.proj.weight": hf[f"{v}embeddings.patch_embeddings.projection.weight"],
           "patch_embed.proj.bias": hf[f"{v}embeddings.patch_embeddings.projection.bias"],
           "norm.weight": hf[f"{v}layernorm.weight"], "norm.bias": hf[f"{v}layernorm.bias"]}
    for i in range(depth):
        h, t = f"{v}encoder.layer.{i}.", f"blocks.{i}."
        for leaf in ("weight", "bias"):
            out[t + f"norm1.{leaf}"] = hf[h + f"layernorm_before.{leaf}"]
            out[t + f"attn.qkv.{leaf}"] = torch.cat([hf[h + f"attention.attention.{x}.{leaf}"]
                                                     for x in ("query", "key", "value")])
            out[t + f"attn.proj.{leaf}"] = hf[h + f"attention.output.dense.{leaf}"]
            out[t + f"norm2.{leaf}"] = hf[h + f"layernorm_after.{leaf}"]
            out[t + f"mlp.fc1.{leaf}"] = hf[h + f"intermediate.dense.{leaf}"]
            out[t + f"mlp.fc2.{leaf}"] = hf[h + f"output.dense.{leaf}"]
    if v:
        out["head.weight"], out["head.bias"] = hf["classifier.weight"], hf["classifier.bias"]
    return {k: t.contiguous() for k, t in out.items()}


def timm_config(num_classes, size=224, architecture="vit_base_patch16_224.test_in1k", **model_args):
    """A config.json as timm's push_to_hf_hub writes it."""
    return {"architecture": architecture, "num_classes": num_classes, "num_features": 32, "global_pool": "token",
            "pretrained_cfg": {"tag": "test_in1k", "custom_load": False, "input_size": [3, size, size],
                               "fixed_input_size": True, "interpolation": "bicubic", "crop_pct": 0.9,
                               "crop_mode": "center", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
                               "num_classes": num_classes, "pool_size": None, "first_conv": "patch_embed.proj",
                               "classifier": "head"},
            "model_args": {"embed_dim": 32, "depth": 2, "num_heads": 4, "mlp_ratio": 2.0, **model_args}}


TIMM_SHAPE = dict(SHAPES["224px-P16-2layers"], layer_norm_eps=1e-6)  # timm's LayerNorms use eps 1e-6


def write_timm(folder, tensors, config):
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture
def timm_checkpoint(tmp_path):
    """A 224 px, P=16, 2-layer ViT with an ImageNet-sized head, in both layouts: (hf folder, timm folder)."""
    random_hf_model(tmp_path / "hf", num_labels=1000, seed=1, **TIMM_SHAPE)
    tensors = timm_tensors(load_file(tmp_path / "hf" / "model.safetensors"), depth=2)
    return tmp_path / "hf", write_timm(tmp_path / "timm", tensors, timm_config(1000))


def test_timm_layout_gives_the_same_numbers(timm_checkpoint):
    hf_folder, timm_folder = timm_checkpoint
    pixels = pixels_for(224, n=1)
    loaded = load_model(timm_folder)
    model = loaded.model
    assert (loaded.source, loaded.folder) == ("timm", timm_folder)
    cfg = model.config
    assert (cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size, cfg.layer_norm_eps) == (32, 4, 64, 1e-6)
    assert_parity(model, hf_outputs(hf_folder, pixels), pixels)
    assert torch.equal(model.trace(pixels).logits, load_model(hf_folder).model.trace(pixels).logits)
    converted = load_model(save_model(model, hf_folder.parent / "converted", loaded.preprocess))  # timm → HF layout
    assert converted.source == "huggingface"
    assert converted.model.config == cfg and converted.preprocess == loaded.preprocess
    assert torch.equal(converted.model(pixels), model(pixels))


def test_timm_labels_and_preprocessing(timm_checkpoint):
    loaded = load_model(timm_checkpoint[1])
    assert loaded.model.config.labels == imagenet_classes() and loaded.model.config.labels[388] == "giant panda"
    pre = loaded.preprocess  # shorter side to floor(224 / 0.9) = 248, centre crop 224, timm's mean/std
    assert (pre.crop_size, pre.resize_to, pre.squash, pre.resample) == (224, 248, False, "bicubic")
    assert pre.image_mean == (0.5, 0.5, 0.5) and pre.image_std == (0.5, 0.5, 0.5)


def test_imagenet_class_files():
    names, synsets = imagenet_classes(), imagenet_synsets()
    assert len(names) == len(synsets) == 1000
    assert (names[0], names[388], synsets[388]) == ("tench", "giant panda", "n02510455")


def test_timm_headless_and_named_labels(tmp_path):
    random_hf_model(tmp_path / "hf", head=False, **TIMM_SHAPE)
    tensors = timm_tensors(load_file(tmp_path / "hf" / "model.safetensors"), depth=2)
    model = load_model(write_timm(tmp_path / "none", tensors, timm_config(0))).model
    assert model.head is None and model.trace(pixels_for(224, n=1)).logits is None

    tensors["head.weight"], tensors["head.bias"] = torch.randn(2, 32), torch.zeros(2)
    config = {**timm_config(2), "label_names": ["n02510455", "n01440764"]}  # timm stores WordNet ids
    assert load_model(write_timm(tmp_path / "two", tensors, config)).model.config.labels == ("giant panda", "tench")
    config = {**config, "label_descriptions": {"n02510455": "panda bear, giant panda", "n01440764": "tench"}}
    assert load_model(write_timm(tmp_path / "desc", tensors, config)).model.config.labels == ("panda bear", "tench")


# ---- checkpoints we refuse, and why ----

def test_pickles_are_never_unpickled(timm_checkpoint, tmp_path):
    folder = tmp_path / "pickled"
    folder.mkdir()
    shutil.copy(timm_checkpoint[1] / "config.json", folder)
    torch.save(load_file(timm_checkpoint[1] / "model.safetensors"), folder / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(folder)
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(folder / "pytorch_model.bin")
    (folder / "pytorch_model.bin").rename(folder / "model.safetensors")  # a pickle in disguise
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(folder)


def test_corrupt_safetensors(timm_checkpoint):
    weights = timm_checkpoint[1] / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:5000])  # a download cut short
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_model(timm_checkpoint[1])


def edit_timm(folder, drop=(), add=None, config=None):
    tensors = load_file(folder / "model.safetensors")
    for key in drop:
        del tensors[key]
    tensors.update(add or {})
    write_timm(folder, tensors, {**json.loads((folder / "config.json").read_text()), **(config or {})})


@pytest.mark.parametrize("drop, add, config, message", [
    (["blocks.1.mlp.fc2.bias"], None, None, "missing.*blocks.1.mlp.fc2.bias"),
    ([], {"blocks.0.attn.qkv.weight": torch.zeros(96, 31)}, None, "blocks.0.attn.q.weight has shape"),
    ([], {"pos_embed": torch.zeros(1, 197, 48)}, None, "pos_embed has shape"),
    ([], None, {"architecture": "vit_base_patch16_clip_224.openai"}, "unknown timm architecture"),
    ([], None, {"architecture": "deit_tiny_distilled_patch16_224.fb_in1k"}, "distillation token"),
    ([], {"dist_token": torch.zeros(1, 1, 32)}, None, "distillation token"),
    ([], {"reg_token": torch.zeros(1, 4, 32)}, None, "register tokens"),
    ([], {"blocks.0.ls1.gamma": torch.ones(32)}, None, "layer scale"),
    ([], {"fc_norm.weight": torch.ones(32)}, None, "fc_norm"),
    ([], {"blocks.0.attn.q_norm.weight": torch.ones(8)}, None, "QK normalisation"),
    ([], {"blocks.0.extra.weight": torch.ones(8)}, None, "does not have"),
    (["cls_token"], None, None, "no cls token"),
    ([], {"pos_embed": torch.zeros(1, 196, 32)}, None, "no_embed_class"),
    ([], None, {"global_pool": "avg"}, "pooling other than the cls token"),
    ([], None, {"model_args": {"embed_dim": 32, "depth": 2, "num_heads": 4, "mlp_ratio": 2.0, "reg_tokens": 4}},
     "register tokens"),
    ([], None, {"model_args": {"embed_dim": 32, "depth": 2, "num_heads": 4, "mlp_ratio": 2.0, "init_values": 1e-5}},
     "layer scale"),
    ([], None, {"model_args": {"embed_dim": 32, "depth": 2, "num_heads": 5, "mlp_ratio": 2.0}}, "divisible"),
    ([], None, {"model_args": {"embed_dim": 32, "depth": 2, "num_heads": 4, "mlp_ratio": 2.0, "rope": True}},
     "unsupported timm model_args rope"),
    ([], None, {"num_classes": 10}, "10 classes but the head has 1000"),
    ([], None, {"pretrained_cfg": {"input_size": [3, 224, 224], "crop_mode": "border"}}, "crop_mode 'border'"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_timm_checkpoints_are_explained(timm_checkpoint, drop, add, config, message):
    edit_timm(timm_checkpoint[1], drop, add, config)
    with pytest.raises(CheckpointError, match=message):
        load_model(timm_checkpoint[1])


def test_hf_checkpoint_with_a_missing_tensor(tmp_path):
    random_hf_model(tmp_path, head=False, **SHAPES["28px-P4-no-qkv-bias"])
    tensors = load_file(tmp_path / "model.safetensors")
    del tensors["encoder.layer.0.output.dense.weight"]
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(CheckpointError, match="missing"):
        load_model(tmp_path)


# ---- position embeddings at another image size ----

def timm_resample_reference(posemb, new_size):
    """timm.layers.resample_abs_pos_embed with its defaults (bicubic, antialias=True, one prefix token)."""
    prefix, grid = posemb[:, :1], posemb[:, 1:]
    old = int(grid.shape[1] ** 0.5)
    grid = grid.reshape(1, old, old, -1).permute(0, 3, 1, 2)
    grid = torch.nn.functional.interpolate(grid, size=new_size, mode="bicubic", antialias=True)
    return torch.cat([prefix, grid.permute(0, 2, 3, 1).reshape(1, -1, posemb.shape[-1])], dim=1)


@pytest.mark.parametrize("old, new", [(4, 8), (24, 14), (14, 24), (7, 7)])
def test_resample_pos_embed(old, new):
    pos = torch.randn(1, 1 + old * old, 5, generator=torch.Generator().manual_seed(old))
    out = resample_pos_embed(pos, new)
    assert out.shape == (1, 1 + new * new, 5)
    assert torch.equal(out[:, 0], pos[:, 0])  # the cls position is kept
    assert torch.allclose(out, timm_resample_reference(pos, (new, new)), atol=1e-6)
    constant = torch.full((1, 1 + old * old, 3), 0.7)
    assert torch.allclose(resample_pos_embed(constant, new), torch.full((1, 1 + new * new, 3), 0.7), atol=1e-5)


def test_resampled_positions_keep_their_place():
    """E_pos as a picture: a ramp over the old 8×8 grid is the same ramp over the 16×16 one, away from the edges."""
    centres = (torch.arange(8) + 0.5) / 8  # patch centres, as fractions of the image width
    ramp = centres.repeat(8)[None, :, None]  # (1, 64, 1): the x-coordinate of each patch
    out = resample_pos_embed(torch.cat([torch.zeros(1, 1, 1), ramp], dim=1), 16)[0, 1:, 0].reshape(16, 16)
    expected = (torch.arange(16) + 0.5) / 16
    assert torch.allclose(out[:, 4:12], expected[4:12].expand(16, 8), atol=1e-5)


def test_load_at_another_image_size(tmp_path):
    random_hf_model(tmp_path, **SHAPES["32px-P8-3layers"])  # trained on 4×4 patches
    loaded = load_model(tmp_path, image_size=64)
    model = loaded.model
    assert model.config.image_size == 64 and model.pos_embed.shape == (1, 1 + 64, 24)
    original = load_file(tmp_path / "model.safetensors")["vit.embeddings.position_embeddings"]
    assert torch.allclose(model.pos_embed, resample_pos_embed(original, 8))
    trace = model.trace(pixels_for(64))
    assert trace.attentions[0].shape == (2, 3, 65, 65) and trace.logits.shape == (2, 7)
    assert loaded.preprocess.crop_size == 64
    assert load_model(tmp_path, image_size=32).model.pos_embed.shape == (1, 17, 24)  # same size: nothing changes


def test_timm_checkpoint_trained_at_another_size_is_resampled(tmp_path):
    """A timm config asking for 384 px over weights from 224 px: timm resamples E_pos when loading; so do we."""
    random_hf_model(tmp_path / "hf", num_labels=1000, **TIMM_SHAPE)
    tensors = timm_tensors(load_file(tmp_path / "hf" / "model.safetensors"), depth=2)
    loaded = load_model(write_timm(tmp_path / "timm", tensors, timm_config(1000, size=384)))
    assert loaded.model.config.image_size == 384 and loaded.model.pos_embed.shape == (1, 1 + 24 * 24, 32)
    assert (loaded.preprocess.crop_size, loaded.preprocess.resize_to) == (384, 426)  # floor(384 / 0.9)
    small = load_model(tmp_path / "timm", image_size=224)  # and back down to the 14 × 14 grid it came from
    assert small.model.pos_embed.shape == (1, 197, 32) and small.preprocess.resize_to == 248


def test_sizes_that_cannot_match(tmp_path):
    random_hf_model(tmp_path, **SHAPES["32px-P8-3layers"])
    with pytest.raises(CheckpointError, match="not a multiple of patch_size"):
        load_model(tmp_path, image_size=60)
    tensors = load_file(tmp_path / "model.safetensors")
    tensors["vit.embeddings.position_embeddings"] = torch.zeros(1, 1 + 15, 24)  # 15 patches: no square grid
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(CheckpointError, match="square grid"):
        load_model(tmp_path, image_size=64)
    with pytest.raises(CheckpointError, match="position_embeddings has shape"):  # as transformers, no silent resize
        load_model(tmp_path)


# ---- curated models in the Hugging Face cache ----

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def put_in_cache(cache, entry, folder):
    """Lay `folder` out as huggingface_hub's cache does: models--org--name/snapshots/<commit>/…, refs/<branch>."""
    repo = cache / f"models--{entry.repo_id.replace('/', '--')}"
    commit = entry.revision if len(entry.revision) == 40 else COMMIT
    snapshot = repo / "snapshots" / commit
    shutil.copytree(folder, snapshot)
    if commit != entry.revision:
        (repo / "refs").mkdir()
        (repo / "refs" / entry.revision).write_text(commit)
    return snapshot


def test_cache_location_follows_the_environment(offline_cache, tmp_path, monkeypatch):
    import huggingface_hub.constants

    assert hub.cache_dir() == offline_cache and hub.offline()
    assert huggingface_hub.constants.HF_HUB_CACHE != str(offline_cache)  # read once, at import
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert hub.cache_dir() == tmp_path / "home" / "hub"


def test_curated_list():
    assert {"google/vit-base-patch16-224", "timm/deit_tiny_patch16_224.fb_in1k",
            "timm/vit_small_patch16_224.dino"} <= {m.repo_id for m in hub.CURATED}
    for m in hub.CURATED:
        assert m.layout in ("huggingface", "timm") and m.size_mb > 0 and m.description
        assert m.files[0] == "config.json" and m.files[-1] == "model.safetensors"
        assert not any(f.endswith((".bin", ".pt", ".pth", ".ckpt")) for f in m.files)
        assert len(m.revision) == 40 and int(m.revision, 16) >= 0, f"{m.name} is not pinned to a commit"
    assert hub.get("timm/deit_tiny_patch16_224.fb_in1k").name == "deit-tiny-16"
    assert hub.get("dino-small-16").layout == "timm"
    with pytest.raises(ModelNotFound, match="not a curated model") as raised:
        hub.get("nonsense")
    assert raised.value.kind == "not_curated" and raised.value.params["name"] == "nonsense"


def test_not_cached_and_offline(offline_cache):
    assert hub.local_path("deit-tiny-16") is None
    with pytest.raises(ModelNotFound, match=r"not on this computer.*python -m vit_core fetch deit-tiny-16") as raised:
        hub.cached("deit-tiny-16")
    assert raised.value.kind == "not_cached"
    assert raised.value.params["command"] == "python -m vit_core fetch deit-tiny-16"
    with pytest.raises(NoNetwork, match=r"HF_HUB_OFFLINE=1.*python -m vit_core fetch deit-tiny-16") as raised:
        hub.fetch("deit-tiny-16")
    assert not isinstance(raised.value, CheckpointError)  # nothing is wrong with any file: there is none yet
    assert isinstance(raised.value, ConnectionError)
    assert raised.value.kind == "offline_mode" and raised.value.params["name"] == "deit-tiny-16"


def test_cached_models_load_offline(offline_cache, timm_checkpoint, tmp_path):
    snapshot = put_in_cache(offline_cache, hub.get("deit-tiny-16"), timm_checkpoint[1])
    assert hub.local_path("deit-tiny-16") == snapshot
    assert hub.fetch("deit-tiny-16") == snapshot == hub.cached("deit-tiny-16")  # no download needed
    assert load_model(hub.resolve("deit-tiny-16")).source == "timm"

    random_hf_model(tmp_path / "hf", head=False, **TIMM_SHAPE)
    dino = write_timm(tmp_path / "dino", timm_tensors(load_file(tmp_path / "hf" / "model.safetensors"), depth=2),
                      timm_config(0))
    snapshot = put_in_cache(offline_cache, hub.get("dino-small-16"), dino)  # pinned to a commit
    loaded = load_model(hub.fetch("dino-small-16"))
    assert loaded.source == "timm" and loaded.model.head is None and loaded.folder == snapshot


def test_progress_reaches_the_callback():
    seen = []
    bar = hub._progress_bar("model.safetensors", lambda *a: seen.append(a))(total=300, initial=0, desc="x")
    bar.update(100)
    bar.update(200)
    bar.close()
    assert seen == [("model.safetensors", 100, 300), ("model.safetensors", 300, 300)]


def test_cli_on_curated_names(offline_cache, timm_checkpoint, tmp_path, capsys):
    put_in_cache(offline_cache, hub.get("deit-tiny-16"), timm_checkpoint[1])
    image = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 260, 3), dtype=np.uint8)).save(image)
    out = tmp_path / "trace.npz"
    assert main(["trace", str(image), "--model", "deit-tiny-16", "--out", str(out)]) == 0
    with np.load(out) as z:
        assert z["attentions"].shape == (2, 1, 4, 197, 197) and z["logits"].shape == (1, 1000)
        assert z["labels"][388] == "giant panda"
    assert "prediction:" in capsys.readouterr().out

    assert main(["trace", str(image), "--model", "vit-base-16", "--out", str(out)]) == 2
    assert "python -m vit_core fetch vit-base-16" in capsys.readouterr().err
    assert main(["fetch", "vit-base-16"]) == 2
    assert "HF_HUB_OFFLINE" in capsys.readouterr().err
    assert main(["list-models"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line[:1].strip()}
    assert " cached" in rows["deit-tiny-16"] and "not cached" not in rows["deit-tiny-16"]
    assert "not cached" in rows["vit-base-16"]


def test_fetch_downloads_weights_last_and_reports_progress(tmp_path, monkeypatch):
    """hf_hub_download replaced by a stand-in that writes into the cache as the real one does."""
    import huggingface_hub

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    calls, seen = [], []

    def fake_download(repo_id, filename, *, revision, cache_dir, tqdm_class=None, **kwargs):
        calls.append((repo_id, filename, revision, Path(cache_dir)))
        repo = Path(cache_dir) / f"models--{repo_id.replace('/', '--')}"
        (repo / "snapshots" / COMMIT).mkdir(parents=True, exist_ok=True)
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / revision).write_text(COMMIT)
        (repo / "snapshots" / COMMIT / filename).write_bytes(b"x" * 10)
        bar = tqdm_class(total=10, initial=0, desc=filename)  # as http_get reports bytes
        bar.update(4)
        bar.update(6)
        return str(repo / "snapshots" / COMMIT / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=hub.PROBE_TIMEOUT: True)
    folder = hub.fetch("vit-base-16", progress=lambda *a: seen.append(a))
    assert [c[1] for c in calls] == ["config.json", "preprocessor_config.json", "model.safetensors"]
    assert all(c[3] == tmp_path / "hub" and c[2] == hub.get("vit-base-16").revision for c in calls)
    assert hub.local_path("vit-base-16") == folder
    assert seen[-3:] == [("model.safetensors", 4, 10), ("model.safetensors", 10, 10), ("model.safetensors", 10, 10)]


def test_network_failure_is_no_network(tmp_path, monkeypatch):
    import huggingface_hub

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=hub.PROBE_TIMEOUT: True)  # the Hub answers, then fails

    def no_network(*args, **kwargs):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_network)
    with pytest.raises(NoNetwork, match="could not be downloaded.*python -m vit_core fetch dino-small-16") as raised:
        hub.fetch("dino-small-16")
    assert raised.value.kind == "download_failed" and "Name or service not known" in raised.value.params["why"]


@pytest.fixture
def listening():
    """A TCP port on 127.0.0.1 that accepts connections, and one where nothing listens."""
    import socket

    with socket.socket() as server, socket.socket() as closed:
        server.bind(("127.0.0.1", 0))
        server.listen()
        closed.bind(("127.0.0.1", 0))
        yield server.getsockname()[1], closed.getsockname()[1]


def test_an_unreachable_hub_is_said_at_once_without_retries(tmp_path, monkeypatch, listening):
    """No network: fetch answers within the probe's timeout and never starts huggingface_hub's retries."""
    import threading

    import huggingface_hub

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: pytest.fail("tried to download"))
    open_port, closed_port = listening
    monkeypatch.setattr(hub, "endpoint", lambda: f"http://127.0.0.1:{open_port}")
    assert hub.hub_reachable()
    monkeypatch.setattr(hub, "endpoint", lambda: f"http://127.0.0.1:{closed_port}")
    assert not hub.hub_reachable()
    with pytest.raises(NoNetwork, match=r"cannot reach 127.0.0.1.*python -m vit_core fetch vit-small-16") as raised:
        hub.fetch("vit-small-16")
    assert raised.value.kind == "no_network" and raised.value.params["host"] == "127.0.0.1"

    release, finished = threading.Event(), []

    def hanging_lookup(*args, **kwargs):  # a resolver that does not answer (no network, a DNS server far away)
        release.wait(30)
        finished.append(True)
        raise OSError("timed out")

    monkeypatch.setattr(hub.socket, "create_connection", hanging_lookup)
    assert not hub.hub_reachable(timeout=0.2)
    assert not finished  # the answer came while the lookup still hung: bounded by the probe, not by the resolver
    release.set()


def test_hub_reachable_asks_the_proxy_the_environment_names(monkeypatch, listening):
    open_port, closed_port = listening
    monkeypatch.setattr(hub, "endpoint", lambda: "https://hub.invalid")
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{open_port}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert hub.hub_reachable()  # hub.invalid is never looked up: the proxy is asked instead
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{closed_port}")
    assert not hub.hub_reachable()


# ---- DINO as timm publishes it (timm/vit_small_patch16_224.dino): ViT-S/16 without a head ----

DINO_CONFIG = {  # config.json of timm/vit_small_patch16_224.dino, as timm's push_to_hf_hub writes it
    "architecture": "vit_small_patch16_224", "num_classes": 0, "num_features": 384, "global_pool": "token",
    "pretrained_cfg": {"tag": "dino", "custom_load": False, "input_size": [3, 224, 224], "fixed_input_size": True,
                       "interpolation": "bicubic", "crop_pct": 0.9, "crop_mode": "center",
                       "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "num_classes": 0,
                       "pool_size": None, "first_conv": "patch_embed.proj", "classifier": "head",
                       "license": "apache-2.0"}}


def dino_tensors(depth=12, dim=384, seed=0) -> dict[str, torch.Tensor]:
    """Random tensors under timm's names for a ViT-S/16 without head, as timm's DINO export holds them."""
    g = torch.Generator().manual_seed(seed)
    shapes = {"cls_token": (1, 1, dim), "pos_embed": (1, 197, dim), "patch_embed.proj.weight": (dim, 3, 16, 16),
              "patch_embed.proj.bias": (dim,), "norm.weight": (dim,), "norm.bias": (dim,)}
    for i in range(depth):
        for name, shape in {"norm1": (dim,), "attn.qkv": (3 * dim, dim), "attn.proj": (dim, dim), "norm2": (dim,),
                            "mlp.fc1": (4 * dim, dim), "mlp.fc2": (dim, 4 * dim)}.items():
            shapes[f"blocks.{i}.{name}.weight"] = shape
            shapes[f"blocks.{i}.{name}.bias"] = shape[:1]
    return {k: torch.randn(shape, generator=g) * 0.02 for k, shape in shapes.items()}


def test_dino_in_timms_layout_loads_headless_with_imagenet_preprocessing(tmp_path):
    """The curated DINO: timm's config (num_classes 0, no model_args: the sizes come from the architecture's name)
    over a full-size ViT-S/16 without head.weight (parity of the timm layout with transformers: above)."""
    tensors = dino_tensors()
    loaded = load_model(write_timm(tmp_path / "dino", tensors, DINO_CONFIG))
    model, cfg, pre = loaded.model, loaded.model.config, loaded.preprocess
    assert loaded.source == "timm" and model.head is None and cfg.labels == ()
    assert (cfg.image_size, cfg.patch_size, cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads,
            cfg.intermediate_size, cfg.layer_norm_eps) == (224, 16, 384, 12, 6, 1536, 1e-6)
    assert (pre.crop_size, pre.resize_to, pre.resample) == (224, 248, "bicubic")  # floor(224 / 0.9)
    assert pre.image_mean == (0.485, 0.456, 0.406) and pre.image_std == (0.229, 0.224, 0.225)
    assert torch.equal(model.pos_embed, tensors["pos_embed"])
    assert torch.equal(model.blocks[11].attn.v.weight, tensors["blocks.11.attn.qkv.weight"][768:])  # [q; k; v]
    trace = model.trace(pixels_for(224, n=1))
    assert trace.logits is None and trace.attentions[11].shape == (1, 6, 197, 197)
