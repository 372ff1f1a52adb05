"""What the benchmarks ask of the app, beyond a server and a browser (those are harness.server and harness.browser):
the sidebar's words they click, the pictures their learners upload, a ViT-B/16-shaped model, and percentiles.

    from benchmarks import workload    # the repository on sys.path: every script in benchmarks/ puts it there
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from app.i18n import catalog
from app.steps import STEPS, step

ATTENTION = step("attention").title("en")  # sidebar link texts, from the app's list of steps
PATCHES = STEPS[0].title("en")
TEACHING = Path(__file__).resolve().parent.parent / "assets" / "models" / "fashion-vit"
LOCAL_FOLDER = catalog("en")["models.local"]  # the model picker's "local" option, as the app words it


def picture(seed: int, width: int = 1024, height: int = 768, fmt: str = "JPEG") -> bytes:
    """A different photo-like picture for every seed: smooth colour fields, a few shapes, some noise."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([np.sin(x / rng.uniform(40, 200) + rng.uniform(0, 6)) * np.cos(y / rng.uniform(40, 200))
                     for _ in range(3)], axis=-1)
    pixels = ((base * 0.5 + 0.5) * 200 + rng.normal(0, 12, base.shape)).clip(0, 255).astype(np.uint8)
    im = Image.fromarray(pixels)
    draw = ImageDraw.Draw(im)
    for _ in range(6):
        x0, y0 = rng.integers(0, width - 40), rng.integers(0, height - 40)
        x1, y1 = x0 + rng.integers(20, width // 3), y0 + rng.integers(20, height // 3)
        draw.ellipse((x0, y0, x1, y1), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    buf = io.BytesIO()
    im.save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def b16_model():
    """A random ViT-B/16-shaped model (224×224, P=16, D=768, 12 × 12 heads, MLP 3072, 1000 classes; seed 0)."""
    from vit_core import ViT, ViTConfig
    from vit_core.model import init_weights

    cfg = ViTConfig(image_size=224, patch_size=16, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, labels=tuple(f"class {i}" for i in range(1000)))
    return init_weights(ViT(cfg), seed=0)


def timed_model(key: str):
    """(a name, the model in eval mode without gradients) for a timing benchmark's --models: "teaching" (the shipped
    teaching model) or "b16" (b16_model())."""
    from vit_core import load_model

    if key == "teaching":
        return "teaching model (assets/models/fashion-vit, 28×28, P=4)", load_model(TEACHING).model
    if key == "b16":
        return ("random ViT-B/16 (224×224, P=16, D=768, MLP 3072, 1000 classes)",
                b16_model().eval().requires_grad_(False))
    raise SystemExit(f"--models: {key!r} is not a model here (teaching, b16)")


def b16_checkpoint(folder: Path) -> Path:
    """b16_model() saved in folder (what the app's "local folder" choice loads); the folder."""
    from vit_core import save_model

    return save_model(b16_model(), folder)


def percentile(xs, q: float) -> float:
    return float(np.percentile(xs, q)) if len(xs) else float("nan")
