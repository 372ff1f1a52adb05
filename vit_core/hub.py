"""Pretrained ViTs from the Hugging Face Hub: a short curated list, downloaded into the standard HF cache.

Only `fetch` touches the network; `cached` and `local_path` only look in the cache. The cache is huggingface_hub's
own (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub) and is looked up in the environment on every
call: huggingface_hub reads these variables, and HF_HUB_OFFLINE, once when it is imported, so a later change (a
test, a classroom setup script) would otherwise be missed. Only config.json, model.safetensors and
preprocessor_config.json are downloaded, never a pickle.
"""
from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .checkpoints import CONFIG, PREPROCESSOR, WEIGHTS
from .errors import ModelNotFound, NoNetwork

# progress(filename, bytes done, bytes in all or None if unknown), called as a download goes on
Progress = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True)
class Pretrained:
    name: str  # what `python -m vit_core fetch NAME` and the app call it
    repo_id: str  # on huggingface.co
    layout: str  # "huggingface" or "timm" (see checkpoints/)
    size_mb: float  # model.safetensors as the Hub lists it, in MB (10⁶ bytes)
    description: str
    revision: str = "main"
    has_preprocessor: bool = False  # a preprocessor_config.json (timm repos keep preprocessing in config.json)

    @property
    def files(self) -> tuple[str, ...]:
        """What fetch downloads, weights last: a folder with the weights in the cache is complete."""
        return (CONFIG, PREPROCESSOR, WEIGHTS) if self.has_preprocessor else (CONFIG, WEIGHTS)


# Sizes read from each repo's "Files and versions" page; vit-small-16's is inferred from the same architecture's
# other checkpoints (timm/vit_small_patch16_224.augreg_in1k, deit_small_patch16_224: 88.2 MB each).
CURATED = (
    Pretrained("vit-base-16", "google/vit-base-patch16-224", "huggingface", 346.0,
               "The paper's ViT-B/16 (Google): pre-trained on ImageNet-21k, fine-tuned on ImageNet-1k at 224 px. "
               "12 layers, 12 heads, D = 768.", has_preprocessor=True),
    Pretrained("vit-base-16-augreg2", "timm/vit_base_patch16_224.augreg2_in21k_ft_in1k", "timm", 346.0,
               "The same ViT-B/16 retrained by timm with stronger augmentation (AugReg): more accurate, timm layout."),
    Pretrained("vit-small-16", "timm/vit_small_patch16_224.augreg_in21k_ft_in1k", "timm", 88.2,
               "ViT-S/16 (AugReg, ImageNet-21k → 1k): 12 layers, 6 heads, D = 384; four times smaller than B/16."),
    Pretrained("deit-tiny-16", "timm/deit_tiny_patch16_224.fb_in1k", "timm", 22.9,
               "DeiT-Ti/16 (Facebook): the paper's architecture with 3 heads and D = 192, trained on ImageNet-1k "
               "alone. The one for slow machines."),
    # main holds only pytorch_model.bin, a pickle; the safetensors conversion is Hub PR #1, pinned to its commit
    Pretrained("dino-small-16", "facebook/dino-vits16", "huggingface", 86.7,
               "DINO ViT-S/16 (Facebook): self-supervised, no classification head; known for attention maps that "
               "outline objects.", revision="a7a4d161f5c0bd70478c05ca5777ec7cd8848021",
               has_preprocessor=True),
)
MODELS = {m.name: m for m in CURATED}


def get(name: str) -> Pretrained:
    """A curated model by its short name or its repo id; ModelNotFound for any other name."""
    found = MODELS.get(name) or next((m for m in CURATED if m.repo_id == name), None)
    if found is None:
        raise ModelNotFound(f"{name!r} is not a curated model; choose one of {', '.join(MODELS)}")
    return found


def cache_dir() -> Path:
    """huggingface_hub's cache folder, as the environment says now."""
    env = os.environ
    if env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE"):
        return Path(os.path.expandvars(env.get("HF_HUB_CACHE") or env["HUGGINGFACE_HUB_CACHE"])).expanduser()
    home = env.get("HF_HOME") or os.path.join(env.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(os.path.expandvars(home)).expanduser() / "hub"


def offline() -> bool:
    """HF_HUB_OFFLINE=1 (or TRANSFORMERS_OFFLINE=1), read now."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in {"1", "ON", "YES", "TRUE"}


def local_path(name: str) -> Path | None:
    """The cached snapshot folder of a curated model, or None if a needed file is missing. Never uses the network."""
    from huggingface_hub import try_to_load_from_cache

    entry = get(name)
    found = [try_to_load_from_cache(entry.repo_id, f, cache_dir=cache_dir(), revision=entry.revision)
             for f in (CONFIG, WEIGHTS)]
    return Path(found[0]).parent if all(isinstance(p, str) for p in found) else None


def cached(name: str) -> Path:
    """The cached snapshot folder of a curated model, or ModelNotFound saying how to download it. No network."""
    folder = local_path(name)
    if folder is None:
        raise ModelNotFound(_not_cached(get(name)))
    return folder


def fetch(name: str, progress: Progress | None = None) -> Path:
    """The folder of a curated model: from the cache if it is there, else downloaded into it first.

    NoNetwork if it has to be downloaded and cannot be now (offline mode, no connection, the Hub refusing).
    """
    entry = get(name)
    folder = local_path(name)
    if folder is not None:
        return folder
    if offline():
        raise NoNetwork(_not_cached(entry, "downloads are switched off (HF_HUB_OFFLINE=1)"))
    paths = [_download(entry, f, progress) for f in entry.files]
    return Path(paths[-1]).parent


def _download(entry: Pretrained, filename: str, progress: Progress | None) -> str:
    from huggingface_hub import hf_hub_download

    bar = {}  # byte-level progress where huggingface_hub offers it (tqdm_class); otherwise one report per file
    if progress and "tqdm_class" in inspect.signature(hf_hub_download).parameters:
        bar = {"tqdm_class": _progress_bar(filename, progress)}
    try:
        path = hf_hub_download(entry.repo_id, filename, revision=entry.revision, cache_dir=cache_dir(), **bar)
    except Exception as e:  # no network, offline mode, a proxy, a vanished repo: all mean "not available now"
        raise NoNetwork(_not_cached(entry, f"the download failed ({type(e).__name__}: {e})")) from None
    if progress:
        size = os.path.getsize(path)
        progress(filename, size, size)
    return path


def _not_cached(entry: Pretrained, why: str = "") -> str:
    return (f"{entry.name} ({entry.repo_id}, {entry.size_mb:g} MB) is not in the Hugging Face cache ({cache_dir()})"
            f"{' and ' + why if why else ''}. Download it once on a machine with network access: python -m vit_core "
            f"fetch {entry.name} (set HF_HUB_CACHE or HF_HOME to share the cache with this machine).")


def _progress_bar(filename: str, progress: Progress):
    """huggingface_hub reports bytes to a tqdm class; this one passes them on to `progress` and prints nothing."""
    from tqdm import tqdm

    class Bar(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs.pop("name", None)
            self.done = kwargs.get("initial") or 0
            super().__init__(*args, **{**kwargs, "disable": True})

        def update(self, n=1):  # bytes written to the file
            self.done += n or 0
            progress(filename, self.done, self.total)

        def update_transfer(self, n=1):  # Xet downloads also count network bytes on the same bar: not shown
            pass

        def set_transfer_postfix_str(self, *args, **kwargs):
            pass

    return Bar


def is_curated(name: str) -> bool:
    return name in MODELS or any(m.repo_id == name for m in CURATED)


def resolve(model: str | Path) -> Path:
    """A checkpoint folder or file as given, or a curated model's cached folder (downloaded if need be)."""
    if Path(model).exists() or not is_curated(str(model)):
        return Path(model)
    return fetch(str(model))
