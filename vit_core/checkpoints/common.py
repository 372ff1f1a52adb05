"""What both layouts share: the file names, reading a checkpoint folder's files, matching tensors to our
parameters, E_pos at another image size, and the record `load_model` returns."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from einops import rearrange
from safetensors import SafetensorError
from safetensors.torch import load_file

from ..config import PreprocessConfig, ViTConfig
from ..errors import CheckpointError, ModelNotFound
from ..model import ViT

WEIGHTS, CONFIG, PREPROCESSOR, CARD = "model.safetensors", "config.json", "preprocessor_config.json", "README.md"
PICKLE_NAMES = ("pytorch_model.bin", "model.pt", "model.pth", "model.ckpt")


@dataclass(frozen=True)
class LoadedModel:
    """A checkpoint as loaded: the model (eval mode, no gradients) and what came with it."""

    model: ViT
    preprocess: PreprocessConfig  # how a picture becomes this model's input
    source: str  # the layout it was read from: "huggingface" or "timm"
    folder: Path | None = None  # where it was read from
    card: str | None = None  # the folder's README.md (its model card), if it has one


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


def locate(path: Path) -> tuple[Path, Path]:
    """The checkpoint folder and its weights file; ModelNotFound if there is nothing at `path`, CheckpointError if
    what is there has no model.safetensors."""
    if path.is_file():
        return path.parent, path
    if not path.exists():
        raise ModelNotFound(f"there is no checkpoint folder at {path}")
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


def read_card(folder: Path) -> str | None:
    """The folder's model card (README.md), None if it has none."""
    path = folder / CARD
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None


def at_image_size(cfg: ViTConfig, image_size: int | None) -> ViTConfig:
    """The same model for image_size × image_size inputs (None: as trained)."""
    try:
        return replace(cfg, image_size=image_size) if image_size else cfg
    except ValueError as e:
        raise CheckpointError(f"cannot run this model on {image_size}px images: {e}") from None
