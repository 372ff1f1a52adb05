"""Checkpoints: a folder with config.json and model.safetensors (and maybe preprocessor_config.json), in one of
two layouts that `load_model` tells apart by the tensor names:

- Hugging Face: transformers' ViTForImageClassification, or ViTModel without a head (this module; `save_model`
  writes it);
- timm: the paper's ViTs and DeiT as timm publishes them on the Hub (timm_layout.py).

Only safetensors are ever read: a pickle can run code, so it is refused.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
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


def resample_pos_embed(pos_embed: torch.Tensor, grid: int) -> torch.Tensor:
    """E_pos for a grid × grid image, as timm's resample_abs_pos_embed does it.

    The cls position is kept; the patch positions, seen as a D-channel picture of the old grid, are resized
    bicubically (antialiased when shrinking), so each patch keeps the position of the place it covers.
    """
    cls_pos, patch_pos = pos_embed[:, :1], pos_embed[:, 1:]  # (1, 1, D), (1, n·n, D)
    old = math.isqrt(patch_pos.shape[1])
    if old * old != patch_pos.shape[1]:
        raise CheckpointError(f"the position embedding has {pos_embed.shape[1]} tokens, not 1 + a square grid, "
                              "so it cannot be resampled")
    if old == grid:
        return pos_embed
    image = rearrange(patch_pos.float(), "b (h w) d -> b d h w", h=old)  # (1, D, n, n)
    image = F.interpolate(image, size=(grid, grid), mode="bicubic", align_corners=False, antialias=True)  # (1, D, g, g)
    patch_pos = rearrange(image, "b d h w -> b (h w) d").to(pos_embed.dtype)  # (1, g·g, D)
    return torch.cat([cls_pos, patch_pos], dim=1)  # (1, 1 + g·g, D)


def pick_tensors(model: ViT, tensors: dict[str, torch.Tensor], key_of: Callable[[str], str],
                 resample: bool = False) -> dict[str, torch.Tensor]:
    """Our state dict out of a checkpoint's tensors, `key_of(our name)` naming each one there.

    A Conv2d patch weight becomes our Linear one; E_pos is resampled to our grid when `resample`; anything
    missing or of another shape is a CheckpointError.
    """
    ours, missing = {}, []
    for name, param in model.state_dict().items():
        key = key_of(name)
        if key not in tensors:
            missing.append(key)
            continue
        t = tensors[key]
        if name == "patch_embed.weight" and t.ndim == 4:
            t = rearrange(t, "d c p1 p2 -> d (p1 p2 c)")  # Conv2d weight (D, C, P, P) → Linear over (p1 p2 c)
        if name == "pos_embed" and resample:
            t = resample_pos_embed(t, model.config.grid_size)  # (1, 1 + n·n, D) → (1, 1 + g·g, D)
        if tuple(t.shape) != tuple(param.shape):
            raise CheckpointError(f"tensor {key} has shape {tuple(t.shape)}, "
                                  f"but config.json implies {tuple(param.shape)}")
        ours[name] = t.to(param.dtype)
    if missing:
        raise CheckpointError(f"{len(missing)} tensors missing from the checkpoint, e.g. {missing[:3]}")
    return ours


def from_hf_state_dict(model: ViT, tensors: dict[str, torch.Tensor], resample: bool = False) -> dict[str, torch.Tensor]:
    """Pick and reshape the Hugging Face tensors into our names; raise CheckpointError on any mismatch."""
    with_head = model.head is not None

    def key_of(name: str) -> str:
        key = hf_name(name, with_head)  # a classifier checkpoint loaded without its head keeps "vit."
        return "vit." + key if key not in tensors and not with_head and "vit." + key in tensors else key

    return pick_tensors(model, tensors, key_of, resample)


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    with open(path, "rb") as f:
        head = f.read(16)
    # torch.save writes a zip (PK…) or a bare pickle (\x80 + protocol); safetensors: an 8-byte length, then "{"
    if head[8:9] != b"{" and (head[:4] == b"PK\x03\x04" or head[:1] == b"\x80"):
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


def load_model(path: str | Path, image_size: int | None = None) -> ViT:
    """Load a checkpoint folder, or the .safetensors file inside one, in the Hugging Face or the timm layout.

    The model comes back in eval mode with `.preprocess` and `.source` ("huggingface" or "timm") attached.
    `image_size` runs it at another resolution than it was trained at: E_pos is resampled to the new grid.
    """
    folder, weights = locate(Path(path))
    raw_config = read_config(folder)
    tensors = read_safetensors(weights)
    if is_timm_layout(tensors):
        from .timm_layout import load_timm  # imported here because timm_layout builds on this module

        model = load_timm(raw_config, tensors, image_size)
    else:
        model = load_hf(folder, raw_config, tensors, image_size)
    return model.eval().requires_grad_(False)


def locate(path: Path) -> tuple[Path, Path]:
    """The checkpoint folder and its weights file, or a CheckpointError that says what is missing."""
    if path.is_file():
        return path.parent, path
    if not path.is_dir():
        raise CheckpointError(f"{path} is not a checkpoint folder")
    if not (path / WEIGHTS).exists():
        pickles = [n for n in PICKLE_NAMES if (path / n).exists()]
        why = f"only {pickles[0]}, a pickle file that is never loaded" if pickles else "no model.safetensors"
        raise CheckpointError(f"{path} has {why}; a model.safetensors is required")
    return path, path / WEIGHTS


def read_config(folder: Path) -> dict:
    try:
        raw = json.loads((folder / CONFIG).read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{folder} has no config.json") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{folder / CONFIG} is not valid JSON: {e}") from None
    if not isinstance(raw, dict):
        raise CheckpointError(f"{folder / CONFIG} is not a JSON object")
    return raw


def is_timm_layout(tensors: dict[str, torch.Tensor]) -> bool:
    """timm names tensors like ours (cls_token, blocks.0.attn.qkv …); Hugging Face's start with embeddings./vit."""
    return any(k == "cls_token" or k.startswith(("blocks.", "patch_embed.")) for k in tensors)


def load_hf(folder: Path, raw_config: dict, tensors: dict[str, torch.Tensor], image_size: int | None = None) -> ViT:
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
    model.preprocess = load_preprocess(folder, cfg, rescale=image_size is not None)
    model.source = "huggingface"
    return model


def at_image_size(cfg: ViTConfig, image_size: int | None) -> ViTConfig:
    """The same model for image_size × image_size inputs (None: as trained)."""
    try:
        return replace(cfg, image_size=image_size) if image_size else cfg
    except ValueError as e:
        raise CheckpointError(f"cannot run this model on {image_size}px images: {e}") from None


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
