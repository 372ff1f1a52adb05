"""The teaching model's card (README.md next to its weights), written from what training measured."""
from __future__ import annotations

import json
from pathlib import Path

from .config import ViTConfig

CARD = """---
license: mit
library_name: transformers
pipeline_tag: image-classification
datasets:
- fashion_mnist
metrics:
- accuracy
---
# fashion-vit: the ViT Explainer's teaching model

A Vision Transformer exactly as in Dosovitskiy et al. (ICLR 2021) — pre-norm blocks, learned cls token and 1-D
position embeddings, qkv bias, exact GELU, final LayerNorm, linear head on the cls token — at the scale of the
lesson: {S}×{S} RGB input cut into {P}×{P} patches, so {N} patches + 1 cls token = {T} tokens. It is a Hugging Face
ViT checkpoint: `transformers.ViTForImageClassification.from_pretrained(<this folder>)` loads it unchanged.

| | |
|---|---|
| input | {S}×{S}×3, normalised with mean {mean}, std {std} |
| patches | {P}×{P} → {N} patches of {PPC} values |
| width D / depth L / heads H / MLP | {D} / {L} / {H} / {MLP} |
| parameters | {params:,} |
| checkpoint | `model.safetensors`, {size_kb:.0f} KB (float32) |
| classes | {classes} |

## Data
Fashion-MNIST (Xiao, Rasul & Vollgraf 2017; © Zalando SE, MIT licence), from Debian's `dataset-fashion-mnist`:
60,000 training and 10,000 test images, 28×28 grey. Grey is repeated into the three RGB channels.

## Training recipe
- {epochs} epochs, batch {batch}, AdamW (lr {lr}, weight decay {wd} on matrices only), {warmup} warm-up epochs then
  cosine decay, label smoothing {ls}, gradient clipping at 1.0, seed {seed}, no dropout.
- Augmentation, so that the photos users upload are closer to the training distribution: random shifts (±2 px),
  zoom (0.9–1.1×) and mirror images; 50 % of images as in the data set (white on black), 20 % inverted (black on
  white) and 30 % with a random foreground and background colour (tints).
- Reproduce: `python -m vit_core train --out assets/models/fashion-vit` (torch {torch}, CPU, {threads} threads).
- Wall time: {wall_min:.0f} min{on_machine}.

## Results on the Fashion-MNIST test set (10,000 images, un-augmented)
**Accuracy: {acc:.2%}**

| class | accuracy |
|---|---|
{per_class}

Check it: `python -m vit_core evaluate` (the last line printed is `accuracy: …`).

## Limits
It knows ten kinds of clothing at 28×28 pixels and nothing else: a panda, a cat or a car gets one of these ten
labels. It exists to make every tensor of a real trained ViT small enough to show; its attention patterns are
cruder than a large pre-trained ViT's.
"""


def write_model_card(folder: str | Path) -> Path:
    folder = Path(folder)
    cfg = ViTConfig.from_hf_dict(json.loads((folder / "config.json").read_text()))
    pre = json.loads((folder / "preprocessor_config.json").read_text())
    s = json.loads((folder / "training.json").read_text())
    tc = s["train_config"]
    text = CARD.format(
        S=cfg.image_size, P=cfg.patch_size, N=cfg.num_patches, T=cfg.num_tokens, PPC=cfg.patch_dim,
        D=cfg.hidden_size, L=cfg.num_hidden_layers, H=cfg.num_attention_heads, MLP=cfg.intermediate_size,
        mean=pre["image_mean"], std=pre["image_std"], params=s["parameters"],
        size_kb=(folder / "model.safetensors").stat().st_size / 1024, classes=", ".join(cfg.labels),
        epochs=tc["epochs"], batch=tc["batch_size"], lr=tc["lr"], wd=tc["weight_decay"], warmup=tc["warmup_epochs"],
        ls=tc["label_smoothing"], seed=tc["seed"], torch=s["torch"], threads=s["threads"],
        wall_min=s["wall_time_s"] / 60, on_machine=on_machine(s.get("machine")), acc=s["test_accuracy"],
        per_class="\n".join(f"| {name} | {acc:.2%} |" for name, acc in s["per_class_accuracy"].items()),
    )
    path = folder / "README.md"
    path.write_text(text)
    return path


def on_machine(record: dict | None) -> str:
    """training.json's machine record in words (" on a 2-core AMD EPYC machine (Linux, x86_64)"), "" without one.
    A "note" written into the record by hand (what else the machine was doing) follows after a comma."""
    if not record:
        return ""
    system = [x for x in (record.get("system"), record.get("architecture")) if x and x != record.get("processor")]
    words = f" on a {record['cpus']}-core {record['processor']} machine" + (f" ({', '.join(system)})" if system else "")
    return words + (f", {record['note']}" if record.get("note") else "")
