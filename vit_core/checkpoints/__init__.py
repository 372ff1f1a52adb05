"""Checkpoints: a folder with config.json and model.safetensors (and maybe preprocessor_config.json and a README.md
model card), in one of two layouts that `load_model` tells apart by the tensor names:

- Hugging Face: transformers' ViTForImageClassification, or ViTModel without a head (hf.py; `save_model` writes
  it);
- timm: the paper's ViTs and DeiT as timm publishes them on the Hub (timm.py).

What both share is in common.py. Only safetensors are ever read: a pickle can run code, so it is refused.
"""
from __future__ import annotations

from pathlib import Path

from safetensors.torch import save_file

from ..config import PreprocessConfig
from ..errors import CheckpointError, ModelNotFound
from ..model import ViT
from .common import (CARD, CONFIG, PICKLE_NAMES, PREPROCESSOR, WEIGHTS, LoadedModel, at_image_size, locate,
                     pick_tensors, read_card, read_config, read_safetensors, resample_pos_embed)
from .hf import from_hf_state_dict, hf_name, load_hf, load_preprocess, saved_hf_names, to_hf_state_dict
from .timm import is_timm_layout, load_timm

__all__ = ["CARD", "CONFIG", "PICKLE_NAMES", "PREPROCESSOR", "WEIGHTS", "CheckpointError", "LoadedModel",
           "ModelNotFound", "at_image_size", "from_hf_state_dict", "hf_name", "is_timm_layout", "load_hf",
           "load_model", "load_preprocess", "load_timm", "locate", "pick_tensors", "read_card", "read_config",
           "read_safetensors", "resample_pos_embed", "save_model", "saved_hf_names", "to_hf_state_dict"]


def save_model(model: ViT, folder: str | Path, preprocess: PreprocessConfig | None = None) -> Path:
    """Write `model` to `folder` in the Hugging Face layout, with `preprocess` (default: a plain
    image_size × image_size centre crop) as its preprocessor_config.json."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = model.config
    cfg.save(folder / CONFIG)
    (preprocess or PreprocessConfig(crop_size=cfg.image_size, resize_to=cfg.image_size)).save(folder / PREPROCESSOR)
    save_file(to_hf_state_dict(model), str(folder / WEIGHTS), metadata={"format": "pt"})
    return folder


def load_model(path: str | Path, image_size: int | None = None) -> LoadedModel:
    """Load a checkpoint folder, or the .safetensors file inside one, in the Hugging Face or the timm layout.

    The model comes back in eval mode, in a LoadedModel with its preprocessing, its source ("huggingface" or
    "timm"), its folder and its model card. `image_size` runs it at another resolution than it was trained at:
    E_pos is resampled to the new grid.
    """
    folder, weights = locate(Path(path))
    raw_config = read_config(folder)
    tensors = read_safetensors(weights)
    if is_timm_layout(tensors):
        source, (model, preprocess) = "timm", load_timm(raw_config, tensors, image_size)
    else:
        source, (model, preprocess) = "huggingface", load_hf(folder, raw_config, tensors, image_size)
    return LoadedModel(model.eval().requires_grad_(False), preprocess, source, folder, read_card(folder))
