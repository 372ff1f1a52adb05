"""The Hugging Face layout: transformers' ViTForImageClassification, or ViTModel without a head. `save_model`
writes it; our parameters map one to one onto its names."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import torch
from einops import rearrange

from ..config import PreprocessConfig, ViTConfig
from ..model import ViT
from .common import PREPROCESSOR, CheckpointError, at_image_size, pick_tensors

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
# transformers 5 names its modules `layers.N.attention.q_proj` …; save_pretrained still writes the names above.
_HF5 = {
    "attention.q_proj": "attention.attention.query", "attention.k_proj": "attention.attention.key",
    "attention.v_proj": "attention.attention.value", "attention.o_proj": "attention.output.dense",
    "mlp.fc1": "intermediate.dense", "mlp.fc2": "output.dense",
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


def saved_hf_names(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename transformers-5 in-memory names (`vit.layers.0.attention.q_proj.weight`) to the saved ones."""
    out = {}
    for key, t in tensors.items():
        m = re.fullmatch(r"(vit\.)?layers\.(\d+)\.(.+)\.(weight|bias)", key)
        out[f"{m[1] or ''}encoder.layer.{m[2]}.{_HF5.get(m[3], m[3])}.{m[4]}" if m else key] = t
    return out


def to_hf_state_dict(model: ViT) -> dict[str, torch.Tensor]:
    cfg, with_head = model.config, model.head is not None
    out = {}
    for name, t in model.state_dict().items():
        if name == "patch_embed.weight":  # Linear over (p1 p2 c) → Conv2d weight (D, C, P, P)
            t = rearrange(t, "d (p1 p2 c) -> d c p1 p2", p1=cfg.patch_size, p2=cfg.patch_size)
        out[hf_name(name, with_head)] = t.detach().contiguous().clone()
    return out


def from_hf_state_dict(model: ViT, tensors: dict[str, torch.Tensor], resample: bool = False) -> dict[str, torch.Tensor]:
    """Pick and reshape the Hugging Face tensors into our names; raise CheckpointError on any mismatch."""
    with_head = model.head is not None

    def key_of(name: str) -> str:
        key = hf_name(name, with_head)  # a classifier checkpoint loaded without its head keeps "vit."
        return "vit." + key if key not in tensors and not with_head and "vit." + key in tensors else key

    return pick_tensors(model, tensors, key_of, resample)


def load_hf(folder: Path, raw_config: dict, tensors: dict[str, torch.Tensor],
            image_size: int | None = None) -> tuple[ViT, PreprocessConfig]:
    """A Hugging Face checkpoint as our ViT, with its preprocessor_config.json (or ViTImageProcessor's defaults)."""
    tensors = saved_hf_names(tensors)
    has_head = "classifier.weight" in tensors  # ViTModel (e.g. DINO) has none: attention maps only
    try:
        cfg = ViTConfig.from_hf_dict(raw_config, with_labels=has_head)
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"unsupported config.json: {e}") from None
    cfg = at_image_size(cfg, image_size)
    if has_head and cfg.num_labels != tensors["classifier.weight"].shape[0]:
        n = tensors["classifier.weight"].shape[0]
        cfg = replace(cfg, labels=tuple(f"class {i}" for i in range(n)))
    model = ViT(cfg)
    model.load_state_dict(from_hf_state_dict(model, tensors, resample=image_size is not None))
    return model, load_preprocess(folder, cfg, rescale=image_size is not None)


def load_preprocess(folder: Path, cfg: ViTConfig, rescale: bool = False) -> PreprocessConfig:
    path = folder / PREPROCESSOR
    if not path.exists():  # Hugging Face's ViTImageProcessor defaults
        return PreprocessConfig(crop_size=cfg.image_size, resize_to=cfg.image_size, squash=True, resample="bilinear")
    try:
        pre = PreprocessConfig.from_hf_dict(json.loads(path.read_text()))
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"unsupported {PREPROCESSOR}: {e}") from None
    if pre.crop_size != cfg.image_size and rescale:  # the same recipe at the new size
        return replace(pre, crop_size=cfg.image_size, resize_to=round(pre.resize_to * cfg.image_size / pre.crop_size))
    if pre.crop_size != cfg.image_size:
        raise CheckpointError(f"{PREPROCESSOR} makes {pre.crop_size}px inputs but the model expects {cfg.image_size}px")
    return pre
