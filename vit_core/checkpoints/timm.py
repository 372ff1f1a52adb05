"""Checkpoints in timm's layout, as timm publishes the paper's ViTs and DeiT on the Hugging Face Hub
(timm/vit_base_patch16_224.augreg2_in21k_ft_in1k, timm/deit_tiny_patch16_224.fb_in1k, …): model.safetensors and

    config.json  {"architecture": "vit_base_patch16_224", "num_classes": 1000, "global_pool": "token",
                  "pretrained_cfg": {"tag": "augreg2_in21k_ft_in1k", "input_size": [3, 224, 224],
                                     "interpolation": "bicubic", "crop_pct": 0.9, "crop_mode": "center",
                                     "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], …},
                  "model_args": {…}, "label_names": […]}        (the last two only when an export needs them)

Our parameter names come from timm, so the tensors map one to one except two:
    patch_embed.proj.weight  (D, C, P, P), a Conv2d   → patch_embed.weight (D, P·P·C), our Linear
    blocks.N.attn.qkv        (3D, D) = [q; k; v]      → blocks.N.attn.q / .k / .v, (D, D) each
The weights cannot say into how many heads D is split: that comes from the architecture's name (timm's model
registry, copied below) or from model_args. timm's LayerNorms use eps 1e-6.
"""
from __future__ import annotations

import math
import re

import torch

from ..config import RESAMPLE_CODES, PreprocessConfig, ViTConfig
from ..imagenet import imagenet_classes, imagenet_synsets
from ..model import ViT
from .common import CheckpointError, at_image_size, pick_tensors

# timm 1.0 model sizes: name → (embed_dim D, depth L, num_heads H); the MLP is 4·D wide (mlp_ratio 4).
SIZES = {"tiny": (192, 12, 3), "small": (384, 12, 6), "base": (768, 12, 12), "large": (1024, 24, 16),
         "huge": (1280, 32, 16)}
# Every plain ViT and DeiT in timm/models/vision_transformer.py and deit.py: {family}_{size}_patch{P}_{image size}.
ARCHITECTURES = frozenset("""
    vit_tiny_patch16_224 vit_tiny_patch16_384 vit_small_patch32_224 vit_small_patch32_384 vit_small_patch16_224
    vit_small_patch16_384 vit_small_patch8_224 vit_base_patch32_224 vit_base_patch32_384 vit_base_patch16_224
    vit_base_patch16_384 vit_base_patch8_224 vit_large_patch32_224 vit_large_patch32_384 vit_large_patch16_224
    vit_large_patch16_384 vit_large_patch14_224 vit_huge_patch14_224
    deit_tiny_patch16_224 deit_small_patch16_224 deit_base_patch16_224 deit_base_patch16_384""".split())

# model_args that turn the paper's ViT into something else: the values we accept, and what the others add.
PAPER_ONLY = {
    "global_pool": (("token",), "pooling other than the cls token"),
    "class_token": ((True,), "a model without a cls token"),
    "no_embed_class": ((False,), "position embeddings without a cls position (no_embed_class)"),
    "reg_tokens": ((0,), "register tokens"),
    "pre_norm": ((False,), "a LayerNorm before the blocks (pre_norm, as in CLIP)"),
    "final_norm": ((True,), "no final LayerNorm"),
    "fc_norm": ((None, False), "a LayerNorm after pooling (fc_norm)"),
    "init_values": ((None,), "layer scale (init_values: ls1/ls2)"),
    "qk_norm": ((False,), "QK normalisation"),
    "scale_attn_norm": ((False,), "a LayerNorm inside attention"),
    "scale_mlp_norm": ((False,), "a LayerNorm inside the MLP"),
    "proj_bias": ((True,), "projections without bias"),
    "pos_embed": (("learn",), "position embeddings other than learned ones"),
    "in_chans": ((3,), "inputs that are not RGB"),
}
SHAPE_ARGS = {"img_size", "patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio", "qkv_bias", "num_classes"}
TRAINING_ONLY = {"drop_rate", "pos_drop_rate", "patch_drop_rate", "proj_drop_rate", "attn_drop_rate",
                 "drop_path_rate", "weight_init", "fix_init", "dynamic_img_size", "dynamic_img_pad"}
# Tensors timm writes only for variants we do not implement.
VARIANT_TENSORS = {
    "reg_token": "register tokens", "dist_token": "a distillation token (DeiT distilled)",
    "head_dist": "a distillation head (DeiT distilled)", "norm_pre": "a LayerNorm before the blocks (pre_norm)",
    "fc_norm": "average pooling with fc_norm", "attn_pool": "attention pooling", "ls1": "layer scale",
    "ls2": "layer scale", "q_norm": "QK normalisation", "k_norm": "QK normalisation", "gate": "gated attention",
}


def timm_name(ours: str) -> str:
    """Our parameter name → timm's (q, k and v live fused in timm's blocks.N.attn.qkv)."""
    return ours.replace("patch_embed.", "patch_embed.proj.", 1)


def split_qkv(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """blocks.N.attn.qkv.weight (3D, D) = [q; k; v] stacked on dim 0 → three (D, D) tensors (biases: 3 × (D,))."""
    out = {}
    for key, t in tensors.items():
        if ".attn.qkv." in key:
            for part, chunk in zip("qkv", t.chunk(3, dim=0)):
                out[key.replace(".qkv.", f".{part}.")] = chunk  # (D, D) or (D,)
        else:
            out[key] = t
    return out


def is_timm_layout(tensors: dict[str, torch.Tensor]) -> bool:
    """timm names tensors like ours (cls_token, blocks.0.attn.qkv …); Hugging Face's start with embeddings./vit."""
    return any(k == "cls_token" or k.startswith(("blocks.", "patch_embed.")) for k in tensors)


def load_timm(raw_config: dict, tensors: dict[str, torch.Tensor],
              image_size: int | None = None) -> tuple[ViT, PreprocessConfig]:
    """A timm checkpoint as our ViT, with timm's eval preprocessing; E_pos resampled as timm does."""
    refuse_variants(tensors)
    cfg = timm_config(raw_config, head_size(raw_config, tensors))
    cfg = at_image_size(cfg, image_size)
    model = ViT(cfg)
    tensors = split_qkv(tensors)
    unexpected = sorted(set(tensors) - {timm_name(name) for name in model.state_dict()})
    if unexpected:
        raise CheckpointError(f"{len(unexpected)} tensors that the paper's ViT does not have, e.g. {unexpected[:3]}")
    model.load_state_dict(pick_tensors(model, tensors, timm_name, resample=True))
    return model, timm_preprocess(raw_config.get("pretrained_cfg") or {}, cfg.image_size)


def architecture_args(architecture: str) -> dict:
    """timm's model_args for a registered name: "vit_base_patch16_224.augreg2_in21k_ft_in1k" → D=768, L=12, H=12…"""
    name = architecture.split(".")[0]  # the part after the dot is the pretrained tag
    if name not in ARCHITECTURES:
        why = ("DeiT distilled models add a distillation token" if "distilled" in name else
               "it is not one of the paper's ViTs or DeiT (vit|deit_{tiny,small,base,large,huge}_patchP_SIZE)")
        raise CheckpointError(f"unknown timm architecture {architecture!r}: {why}")
    size, patch, image = re.fullmatch(r"(?:vit|deit)_(\w+?)_patch(\d+)_(\d+)", name).groups()
    dim, depth, heads = SIZES[size]
    return dict(img_size=int(image), patch_size=int(patch), embed_dim=dim, depth=depth, num_heads=heads)


def model_args(raw_config: dict) -> dict:
    """config.json's model_args (and global_pool), refusing any that leave the paper's architecture."""
    args = {"global_pool": raw_config.get("global_pool") or "token", **(raw_config.get("model_args") or {})}
    for key, value in args.items():
        if key in PAPER_ONLY and value not in PAPER_ONLY[key][0]:
            raise CheckpointError(f"this timm model has {PAPER_ONLY[key][1]} ({key}={value!r}); "
                                  "only the paper's ViT is implemented here")
        if key not in PAPER_ONLY and key not in SHAPE_ARGS | TRAINING_ONLY:
            raise CheckpointError(f"unsupported timm model_args {key}={value!r}")
    return {k: v for k, v in args.items() if k in SHAPE_ARGS}


def timm_config(raw_config: dict, num_classes: int) -> ViTConfig:
    """Our config from the architecture's name, overridden by the input size and model_args, as timm builds it."""
    if not isinstance(raw_config.get("architecture"), str):
        raise CheckpointError("config.json names no timm architecture")
    args = architecture_args(raw_config["architecture"])
    input_size = (raw_config.get("pretrained_cfg") or {}).get("input_size")  # [3, H, W]; timm builds the model for it
    if input_size:
        if input_size[0] != 3:
            raise CheckpointError(f"this timm model takes {input_size[0]}-channel inputs, not RGB pictures")
        args["img_size"] = list(input_size[1:])
    args.update(model_args(raw_config))
    size = args["img_size"]
    if isinstance(size, (list, tuple)):
        if len(set(size)) != 1:
            raise CheckpointError(f"only square inputs are supported, not {size}")
        size = size[0]
    dim = args["embed_dim"]
    try:
        return ViTConfig(image_size=size, patch_size=args["patch_size"], hidden_size=dim,
                         num_hidden_layers=args["depth"], num_attention_heads=args["num_heads"],
                         intermediate_size=int(dim * args.get("mlp_ratio", 4.0)), layer_norm_eps=1e-6,
                         labels=timm_labels(raw_config, num_classes), qkv_bias=args.get("qkv_bias", True))
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"unsupported timm config.json: {e}") from None


def head_size(raw_config: dict, tensors: dict[str, torch.Tensor]) -> int:
    """Number of classes, 0 for a model exported without a head (num_classes 0)."""
    declared = raw_config.get("num_classes", (raw_config.get("pretrained_cfg") or {}).get("num_classes", 0))
    found = tensors["head.weight"].shape[0] if "head.weight" in tensors else 0
    if declared and found != declared:
        raise CheckpointError(f"config.json says {declared} classes but the head has {found or 'no'} outputs")
    return found


def timm_labels(raw_config: dict, n: int) -> tuple[str, ...]:
    """Class names: the config's label_names (or their descriptions), else ImageNet's for 1000 classes."""
    pre = raw_config.get("pretrained_cfg") or {}
    names = raw_config.get("label_names") or pre.get("label_names") or []
    descriptions = raw_config.get("label_descriptions") or pre.get("label_descriptions") or {}
    if isinstance(names, dict):  # {index: name} when there are gaps
        names = [names[k] for k in sorted(names, key=int)]
    if len(names) == n:  # ImageNet ones are WordNet ids (n02510455): show their short names
        short = dict(zip(imagenet_synsets(), imagenet_classes()))
        return tuple(descriptions.get(x, "").split(",")[0].split(":")[0].strip() or short.get(x, x) for x in names)
    if n == 1000:
        return imagenet_classes()
    return tuple(f"class {i}" for i in range(n))


def timm_preprocess(pretrained_cfg: dict, size: int) -> PreprocessConfig:
    """timm's eval transform: shorter side → floor(size / crop_pct), centre size × size crop, mean/std."""
    crop_pct = pretrained_cfg.get("crop_pct") or 0.875  # timm's DEFAULT_CROP_PCT
    mode = pretrained_cfg.get("crop_mode") or "center"
    resample = pretrained_cfg.get("interpolation") or "bicubic"
    mean = tuple(pretrained_cfg.get("mean") or (0.485, 0.456, 0.406))  # timm's IMAGENET_DEFAULT_MEAN / _STD
    std = tuple(pretrained_cfg.get("std") or (0.229, 0.224, 0.225))
    if resample not in RESAMPLE_CODES:
        raise CheckpointError(f"unsupported timm interpolation {resample!r}")
    if mode == "squash" and crop_pct == 1.0:  # resize to size × size, ignoring the aspect ratio
        return PreprocessConfig(crop_size=size, resize_to=size, squash=True, resample=resample,
                                image_mean=mean, image_std=std)
    if mode != "center":
        raise CheckpointError(f"unsupported timm crop_mode {mode!r} (crop_pct {crop_pct})")
    return PreprocessConfig(crop_size=size, resize_to=math.floor(size / crop_pct), resample=resample,
                            image_mean=mean, image_std=std)


def refuse_variants(tensors: dict[str, torch.Tensor]) -> None:
    """A clear CheckpointError for the timm ViT variants we do not implement, recognised by their tensors."""
    for key in tensors:
        parts = key.split(".")
        found = next((VARIANT_TENSORS[p] for p in parts if p in VARIANT_TENSORS), None)
        if found is None and re.fullmatch(r"blocks\.\d+\.(attn|mlp)\.norm\.\w+", key):
            found = "a LayerNorm inside attention or the MLP (scale_norm)"
        if found:
            raise CheckpointError(f"this timm model has {found} (tensor {key}); only the paper's ViT is "
                                  "implemented here")
    if "cls_token" not in tensors:
        raise CheckpointError("this timm model has no cls token (class_token=False); the paper's ViT classifies it")
    if "pos_embed" not in tensors:
        raise CheckpointError("this timm model has no learned position embedding (pos_embed)")
    tokens = tensors["pos_embed"].shape[1] if tensors["pos_embed"].ndim == 3 else -1  # (1, 1 + N, D)
    if tokens >= 0 and math.isqrt(tokens) ** 2 == tokens:
        raise CheckpointError("this timm model has no position for the cls token (no_embed_class): "
                              "only the paper's ViT is implemented here")
