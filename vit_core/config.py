"""Model and preprocessing configuration.

`ViTConfig` mirrors the Hugging Face ViT `config.json`; `PreprocessConfig` mirrors `preprocessor_config.json`.
Both are frozen so one cached model can be shared safely by every session of the app.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# PIL resampling codes, as stored in Hugging Face preprocessor configs.
RESAMPLE_CODES = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}


@dataclass(frozen=True)
class ViTConfig:
    image_size: int = 28
    patch_size: int = 4
    num_channels: int = 3
    hidden_size: int = 64  # D
    num_hidden_layers: int = 6  # L
    num_attention_heads: int = 4  # H
    intermediate_size: int = 128  # MLP width
    layer_norm_eps: float = 1e-12
    labels: tuple[str, ...] = ()  # class names; empty for a model without a classification head
    qkv_bias: bool = True

    def __post_init__(self):
        if self.image_size % self.patch_size:
            raise ValueError(f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"hidden_size {self.hidden_size} is not divisible by {self.num_attention_heads} heads")

    @property
    def grid_size(self) -> int:
        return self.image_size // self.patch_size  # 28 // 4 = 7

    @property
    def num_patches(self) -> int:
        return self.grid_size**2  # N = 49

    @property
    def num_tokens(self) -> int:
        return self.num_patches + 1  # N + 1 = 50, with the cls token

    @property
    def patch_dim(self) -> int:
        return self.patch_size**2 * self.num_channels  # P·P·C = 48

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def num_labels(self) -> int:
        return len(self.labels)

    # ---- Hugging Face config.json ----
    def to_hf_dict(self) -> dict:
        d = {
            "architectures": ["ViTForImageClassification" if self.labels else "ViTModel"],
            "model_type": "vit",
            "image_size": self.image_size,
            "patch_size": self.patch_size,
            "num_channels": self.num_channels,
            "hidden_size": self.hidden_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "intermediate_size": self.intermediate_size,
            "hidden_act": "gelu",
            "layer_norm_eps": self.layer_norm_eps,
            "qkv_bias": self.qkv_bias,
            "hidden_dropout_prob": 0.0,
            "attention_probs_dropout_prob": 0.0,
            "initializer_range": 0.02,
            "encoder_stride": self.patch_size,
        }
        if self.labels:
            d["id2label"] = {str(i): name for i, name in enumerate(self.labels)}
            d["label2id"] = {name: i for i, name in enumerate(self.labels)}
        return d

    @classmethod
    def from_hf_dict(cls, d: dict, with_labels: bool = True) -> "ViTConfig":
        if d.get("model_type", "vit") not in ("vit", "deit", "dino"):
            raise ValueError(f"unsupported model_type {d.get('model_type')!r}: only ViT checkpoints are supported")
        if d.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"unsupported hidden_act {d.get('hidden_act')!r}: only exact GELU is supported")
        image_size, patch_size = d.get("image_size", 224), d.get("patch_size", 16)
        if isinstance(image_size, (list, tuple)) or isinstance(patch_size, (list, tuple)):
            raise ValueError("only square images and patches are supported")
        id2label = d.get("id2label") or {}
        labels = tuple(id2label[k] for k in sorted(id2label, key=int)) if with_labels else ()
        return cls(
            image_size=image_size,
            patch_size=patch_size,
            num_channels=d.get("num_channels", 3),
            hidden_size=d.get("hidden_size", 768),
            num_hidden_layers=d.get("num_hidden_layers", 12),
            num_attention_heads=d.get("num_attention_heads", 12),
            intermediate_size=d.get("intermediate_size", 3072),
            layer_norm_eps=d.get("layer_norm_eps", 1e-12),
            labels=labels,
            qkv_bias=d.get("qkv_bias", True),
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_hf_dict(), indent=2, ensure_ascii=False) + "\n")


@dataclass(frozen=True)
class PreprocessConfig:
    """How an RGB picture becomes the model's (3, H, W) input.

    resize: the shorter side goes to `resize_to` pixels (keeping the aspect ratio), then the centre
    `crop_size` × `crop_size` square is cut out. With resize_to == crop_size this takes the largest centred
    square of any picture, which is how a non-square photo becomes 28×28 for the teaching model.
    With `squash` the picture is resized to crop_size × crop_size directly, as Hugging Face's ViTImageProcessor does.
    Pixel values are scaled to [0, 1], then normalised with (x - mean) / std per channel.
    """

    crop_size: int = 28
    resize_to: int = 28
    squash: bool = False
    resample: str = "bicubic"
    image_mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    image_std: tuple[float, float, float] = (0.5, 0.5, 0.5)

    def __post_init__(self):
        if self.resample not in RESAMPLE_CODES:
            raise ValueError(f"unknown resample {self.resample!r}")

    def to_hf_dict(self) -> dict:
        d = {
            "image_processor_type": "ViTImageProcessor",
            "do_resize": True,
            "resample": RESAMPLE_CODES[self.resample],
            "do_rescale": True,
            "rescale_factor": 1 / 255,
            "do_normalize": True,
            "image_mean": list(self.image_mean),
            "image_std": list(self.image_std),
        }
        if self.squash:
            d["size"] = {"height": self.crop_size, "width": self.crop_size}
        else:
            d["size"] = {"shortest_edge": self.resize_to}
            d["do_center_crop"] = True
            d["crop_size"] = {"height": self.crop_size, "width": self.crop_size}
        return d

    @classmethod
    def from_hf_dict(cls, d: dict) -> "PreprocessConfig":
        size = d.get("size", 224)
        if isinstance(size, int):
            size = {"height": size, "width": size}
        codes = {v: k for k, v in RESAMPLE_CODES.items()}
        resample = codes.get(d.get("resample", 2), "bilinear")
        mean = tuple(d.get("image_mean", (0.5, 0.5, 0.5)))
        std = tuple(d.get("image_std", (0.5, 0.5, 0.5)))
        if not d.get("do_normalize", True):
            mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
        if d.get("do_center_crop") and "crop_size" in d:
            crop = d["crop_size"]
            crop = crop if isinstance(crop, int) else crop["height"]
            resize_to = size.get("shortest_edge") or min(size.get("height", crop), size.get("width", crop))
            return cls(crop_size=crop, resize_to=resize_to, resample=resample, image_mean=mean, image_std=std)
        side = size.get("shortest_edge") or size["height"]
        return cls(crop_size=side, resize_to=side, squash=True, resample=resample, image_mean=mean, image_std=std)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_hf_dict(), indent=2) + "\n")
