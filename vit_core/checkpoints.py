"""Checkpoints in the Hugging Face ViT layout: a folder with config.json, model.safetensors and
preprocessor_config.json. Only safetensors are ever read: a pickle can run code, so it is refused.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from einops import rearrange
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .config import PreprocessConfig, ViTConfig
from .model import ViT

WEIGHTS, CONFIG, PREPROCESSOR = "model.safetensors", "config.json", "preprocessor_config.json"
PICKLE_NAMES = ("pytorch_model.bin", "model.pt", "model.pth", "model.ckpt")


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message says why, in words a user can act on."""


# Our parameter names → Hugging Face ViTModel names (ViTForImageClassification adds "vit." in front).
_BLOCK = {
    "norm1": "layernorm_before", "attn.q": "attention.attention.query", "attn.k": "attention.attention.key",
    "attn.v": "attention.attention.value", "attn.proj": "attention.output.dense", "norm2": "layernorm_after",
    "mlp.fc1": "intermediate.dense", "mlp.fc2": "output.dense",
}
_TOP = {
    "patch_embed": "embeddings.patch_embeddings.projection", "cls_token": "embeddings.cls_token",
    "pos_embed": "embeddings.position_embeddings", "norm": "layernorm",
}


def hf_name(ours: str, with_head: bool) -> str:
    prefix = "vit." if with_head else ""
    if ours.startswith("head."):
        return "classifier." + ours.split(".", 1)[1]
    m = re.fullmatch(r"blocks\.(\d+)\.(.+)\.(weight|bias)", ours)
    if m:
        return f"{prefix}encoder.layer.{m[1]}.{_BLOCK[m[2]]}.{m[3]}"
    stem, _, leaf = ours.rpartition(".") if ours.count(".") else (ours, "", "")
    return prefix + (f"{_TOP[stem]}.{leaf}" if leaf else _TOP[ours])


def to_hf_state_dict(model: ViT) -> dict[str, torch.Tensor]:
    cfg, with_head = model.config, model.head is not None
    out = {}
    for name, t in model.state_dict().items():
        if name == "patch_embed.weight":  # Linear over (p1 p2 c) → Conv2d weight (D, C, P, P)
            t = rearrange(t, "d (p1 p2 c) -> d c p1 p2", p1=cfg.patch_size, p2=cfg.patch_size)
        out[hf_name(name, with_head)] = t.detach().contiguous().clone()
    return out


def from_hf_state_dict(model: ViT, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Pick and reshape the Hugging Face tensors into our names; raise CheckpointError on any mismatch."""
    with_head = model.head is not None
    ours, missing = {}, []
    for name, param in model.state_dict().items():
        key = hf_name(name, with_head)
        if key not in tensors and not with_head and "vit." + key in tensors:
            key = "vit." + key  # a classifier checkpoint loaded without its head
        if key not in tensors:
            missing.append(key)
            continue
        t = tensors[key]
        if name == "patch_embed.weight" and t.ndim == 4:
            t = rearrange(t, "d c p1 p2 -> d (p1 p2 c)")  # Conv2d weight → Linear over (p1 p2 c)
        if tuple(t.shape) != tuple(param.shape):
            raise CheckpointError(f"tensor {key} has shape {tuple(t.shape)}, but config.json implies {tuple(param.shape)}")
        ours[name] = t.to(param.dtype)
    if missing:
        raise CheckpointError(f"{len(missing)} tensors missing from the checkpoint, e.g. {missing[:3]}")
    return ours


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    with open(path, "rb") as f:
        head = f.read(16)
    if head[:2] == b"\x80\x02" or head[:4] == b"PK\x03\x04":
        raise CheckpointError(f"{path.name} is a pickle/zip (torch.save) file, not safetensors; it is never unpickled. "
                              "Convert it to safetensors first.")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path.name} is not a valid safetensors file: {e}") from None


def save_model(model: ViT, folder: str | Path, preprocess: PreprocessConfig | None = None) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.config.save(folder / CONFIG)
    (preprocess or getattr(model, "preprocess", None) or PreprocessConfig()).save(folder / PREPROCESSOR)
    save_file(to_hf_state_dict(model), str(folder / WEIGHTS), metadata={"format": "pt"})
    return folder


def load_model(folder: str | Path) -> ViT:
    """Load a Hugging Face ViT folder. The model comes back in eval mode, with `.preprocess` attached."""
    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a checkpoint folder")
    weights = folder / WEIGHTS
    if not weights.exists():
        pickles = [n for n in PICKLE_NAMES if (folder / n).exists()]
        why = f"only {pickles[0]}, a pickle file that is never loaded" if pickles else "no model.safetensors"
        raise CheckpointError(f"{folder} has {why}; a model.safetensors is required")
    try:
        raw_config = json.loads((folder / CONFIG).read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{folder} has no config.json") from None
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{folder / CONFIG} is not valid JSON: {e}") from None
    tensors = read_safetensors(weights)
    has_head = "classifier.weight" in tensors
    try:
        cfg = ViTConfig.from_hf_dict(raw_config, with_labels=has_head)
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"unsupported config.json: {e}") from None
    if has_head and cfg.num_labels != tensors["classifier.weight"].shape[0]:
        n = tensors["classifier.weight"].shape[0]
        cfg = ViTConfig(**{**cfg.__dict__, "labels": tuple(f"class {i}" for i in range(n))})
    model = ViT(cfg)
    model.load_state_dict(from_hf_state_dict(model, tensors))
    model.preprocess = load_preprocess(folder, cfg)
    return model.eval().requires_grad_(False)


def load_preprocess(folder: Path, cfg: ViTConfig) -> PreprocessConfig:
    path = folder / PREPROCESSOR
    if not path.exists():  # Hugging Face's ViTImageProcessor defaults
        return PreprocessConfig(crop_size=cfg.image_size, resize_to=cfg.image_size, squash=True, resample="bilinear")
    try:
        pre = PreprocessConfig.from_hf_dict(json.loads(path.read_text()))
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"unsupported {PREPROCESSOR}: {e}") from None
    if pre.crop_size != cfg.image_size:
        raise CheckpointError(f"{PREPROCESSOR} makes {pre.crop_size}px inputs but the model expects {cfg.image_size}px")
    return pre
