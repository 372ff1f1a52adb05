"""Train the teaching ViT on Fashion-MNIST.

The recipe: AdamW, linear warm-up then cosine decay, label smoothing, and augmentation that moves the
white-on-black Fashion-MNIST digits towards what users upload — shifts, small zooms, mirror images, inverted
backgrounds and random colour tints.

Snapshots: the weights after the epochs in `TrainConfig.snapshots` (0: the initial random weights, before any step)
go to `<out>/snapshots/epoch_NN.safetensors`, in the same layout as model.safetensors, with their test accuracy in
`<out>/snapshots/snapshots.json`. `stop_after` ends a run early, with the learning-rate schedule of the full
`epochs`: such a run writes only its snapshots, never the model, and is exactly the start of the full run (same
seed, same order of random numbers; on the same torch build and thread count it gives the same numbers bit for bit).
"""
from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from safetensors.torch import save_file

from .checkpoints import save_model, to_hf_state_dict
from .config import PreprocessConfig, ViTConfig
from .data import LABELS, load_split
from .model_card import write_model_card
from .model import ViT, init_weights


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 70
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: int = 5
    label_smoothing: float = 0.1
    seed: int = 0
    limit: int = 0  # use only the first `limit` training images (0: all), for quick runs and tests
    threads: int = 0  # torch threads (0: torch's default)
    snapshots: tuple[int, ...] = (0, 1, 2, 5, 10)  # epochs after which the weights are kept (0: before training)
    stop_after: int = 0  # stop after this many epochs, writing only the snapshots (0: train all `epochs`)


def teaching_config(**overrides) -> ViTConfig:
    return ViTConfig(**{"labels": LABELS, **overrides})


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """(B, 1, 28, 28) intensities in [0, 1] → (B, 3, 28, 28) RGB in [0, 1], randomly moved and coloured."""
    B = len(x)
    u = lambda *s: torch.rand(*s, generator=g)  # noqa: E731
    scale = 0.9 + 0.2 * u(B)
    flip = torch.where(u(B) < 0.5, -1.0, 1.0)
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1] = scale * flip, scale
    theta[:, :, 2] = (u(B, 2) - 0.5) * 2 * (2 / 14)  # shift up to ±2 pixels
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    m = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")  # (B, 1, 28, 28)
    # colours: 50 % as in the data set (white on black), 20 % inverted (black on white), 30 % random tints
    mode = u(B)
    fg, bg = u(B, 3), u(B, 3)
    lum = lambda c: c @ torch.tensor([0.299, 0.587, 0.114])  # noqa: E731
    low_contrast = (lum(fg) - lum(bg)).abs() < 0.3
    fg[low_contrast] = 1 - bg[low_contrast]
    fg[mode < 0.5], bg[mode < 0.5] = 1.0, 0.0
    inverted = (mode >= 0.5) & (mode < 0.7)
    fg[inverted], bg[inverted] = 0.0, 1.0
    return bg[:, :, None, None] * (1 - m) + fg[:, :, None, None] * m  # (B, 3, 28, 28)


def normalize(rgb: torch.Tensor, pre: PreprocessConfig) -> torch.Tensor:
    mean, std = torch.tensor(pre.image_mean)[:, None, None], torch.tensor(pre.image_std)[:, None, None]
    return (rgb - mean) / std


def to_model_input(images: np.ndarray, pre: PreprocessConfig) -> torch.Tensor:
    """Fashion-MNIST uint8 (n, 28, 28) → normalised (n, 3, 28, 28), grey replicated to RGB."""
    x = torch.from_numpy(images).float().div(255)[:, None].expand(-1, 3, -1, -1)
    return normalize(x, pre)


@torch.no_grad()
def evaluate(model: ViT, images: np.ndarray, pre: PreprocessConfig, batch_size: int = 1000) -> np.ndarray:
    """Predicted class of every test image, normalised as `pre` says."""
    model.eval()
    preds = [model(to_model_input(images[i:i + batch_size], pre)).argmax(-1) for i in range(0, len(images), batch_size)]
    return torch.cat(preds).numpy()


def machine() -> dict:
    """The machine that trains, for training.json and the model card: the CPU cores this process may use (nproc),
    the processor (/proc/cpuinfo's model name where there is one), the operating system and the architecture."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpus": cpus, "processor": cpu_name() or platform.processor() or platform.machine(),
            "system": platform.system(), "architecture": platform.machine()}


def cpu_name() -> str:
    """The processor's model name on Linux ("AMD EPYC 7B13"), "" elsewhere."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        return ""


def per_class_accuracy(preds: np.ndarray, labels: np.ndarray, names=LABELS) -> dict[str, float]:
    return {name: float((preds[labels == i] == i).mean()) for i, name in enumerate(names)}


SNAPSHOTS = "snapshots"


class Snapshots:
    """The weights after the epochs of `tc.snapshots`, and an index of them (snapshots.json): epoch, file, test
    accuracy, and the epoch's training figures as training.json has them."""

    def __init__(self, folder: Path, tc: TrainConfig):
        self.folder, self.epochs, self.index = folder, set(tc.snapshots), []
        self.about = {"train_config": asdict(tc), "torch": torch.__version__, "threads": torch.get_num_threads()}

    def keep(self, model: ViT, epoch: int, test_acc: float, log=print, figures: dict | None = None) -> None:
        if epoch not in self.epochs:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"epoch_{epoch:02d}.safetensors"
        save_file(to_hf_state_dict(model), str(self.folder / name),
                  metadata={"format": "pt", "epoch": str(epoch), "test_accuracy": f"{test_acc:.4f}"})
        self.index.append({"epoch": epoch, "file": name, "test_acc": test_acc, **(figures or {})})
        (self.folder / "snapshots.json").write_text(json.dumps({**self.about, "snapshots": self.index}, indent=2)
                                                    + "\n")
        log(f"snapshot after epoch {epoch}: {self.folder / name} (test acc {test_acc:.4f})")


def train(out_dir: str | Path, tc: TrainConfig = TrainConfig(), cfg: ViTConfig | None = None,
          data_dir: str | Path | None = None, log=print) -> ViT:
    if tc.threads:
        torch.set_num_threads(tc.threads)
    torch.manual_seed(tc.seed)
    g = torch.Generator().manual_seed(tc.seed)
    cfg = cfg or teaching_config()
    pre = PreprocessConfig(crop_size=cfg.image_size, resize_to=cfg.image_size)
    x_train, y_train = load_split("train", data_dir)
    x_test, y_test = load_split("test", data_dir)
    if tc.limit:
        x_train, y_train = x_train[:tc.limit], y_train[:tc.limit]
    x_all = torch.from_numpy(x_train).float().div(255)[:, None]  # (n, 1, 28, 28)
    y_all = torch.from_numpy(y_train.astype(np.int64))
    model = init_weights(ViT(cfg), tc.seed)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1 and n not in ("cls_token", "pos_embed")]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim > 1 and n not in ("cls_token", "pos_embed"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": tc.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=tc.lr)
    steps_per_epoch = math.ceil(len(x_all) / tc.batch_size)
    total, warmup = tc.epochs * steps_per_epoch, tc.warmup_epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / max(1, warmup) if s < warmup else
                                              0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, total - warmup))))
    n_params = sum(p.numel() for p in model.parameters())
    log(f"training {n_params:,} parameters on {len(x_all):,} images for {tc.epochs} epochs "
        f"({steps_per_epoch} steps each), {torch.get_num_threads()} threads")
    start, history = time.time(), []
    snapshots = Snapshots(Path(out_dir) / SNAPSHOTS, tc)
    snapshots.keep(model, 0, float((evaluate(model, x_test, pre) == y_test).mean()), log)
    for epoch in range(tc.stop_after or tc.epochs):
        model.train()
        order = torch.randperm(len(x_all), generator=g)
        t0, seen, loss_sum, correct = time.time(), 0, 0.0, 0
        for i in range(0, len(order), tc.batch_size):
            idx = order[i:i + tc.batch_size]
            x, y = normalize(augment(x_all[idx], g), pre), y_all[idx]
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=tc.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(-1) == y).sum().item()
        acc = float((evaluate(model, x_test, pre) == y_test).mean())
        history.append({"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_acc": correct / seen,
                        "test_acc": acc, "seconds": time.time() - t0})
        log(f"epoch {epoch + 1}/{tc.epochs}  loss {loss_sum / seen:.4f}  train acc {correct / seen:.4f}  "
            f"test acc {acc:.4f}  lr {sched.get_last_lr()[0]:.2e}  {time.time() - t0:.0f} s")
        snapshots.keep(model, epoch + 1, acc, log, history[-1])
    model.eval().requires_grad_(False)
    if tc.stop_after:
        log(f"stopped after {tc.stop_after} epochs: snapshots in {snapshots.folder}, the model is not written")
        return model
    out = save_model(model, out_dir, pre)
    preds = evaluate(model, x_test, pre)
    summary = {"train_config": asdict(tc), "parameters": n_params, "wall_time_s": round(time.time() - start, 1),
               "test_accuracy": float((preds == y_test).mean()),
               "per_class_accuracy": per_class_accuracy(preds, y_test), "history": history,
               "torch": torch.__version__, "threads": torch.get_num_threads(), "machine": machine()}
    (out / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
    write_model_card(out)
    log(f"saved to {out}: test accuracy {summary['test_accuracy']:.4f}, {summary['wall_time_s']:.0f} s")
    return model
