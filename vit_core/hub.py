"""Pretrained ViTs from the Hugging Face Hub: a short curated list, downloaded into the standard HF cache.

Only `fetch` touches the network (and `hub_reachable`, which it asks first); `cached` and `local_path` only look in
the cache. The cache is huggingface_hub's own (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub) and
is looked up in the environment on every call: huggingface_hub reads these variables, and HF_HUB_OFFLINE, once when
it is imported, so a later change (a test, a classroom setup script) would otherwise be missed. Only config.json,
model.safetensors and preprocessor_config.json are downloaded, never a pickle, each from the commit its entry is
pinned to. Every error says what to do in English (MESSAGES) and carries a `kind` and `params` for a translation.
"""
from __future__ import annotations

import inspect
import os
import socket
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

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
    description: str  # in English, for the command line; the app shows its own translation (app/locales/*/models.toml)
    revision: str  # the commit its files are downloaded from (the repo's main moves; a commit does not)
    has_preprocessor: bool = False  # a preprocessor_config.json (timm repos keep preprocessing in config.json)

    @property
    def files(self) -> tuple[str, ...]:
        """What fetch downloads, weights last: a folder with the weights in the cache is complete."""
        return (CONFIG, PREPROCESSOR, WEIGHTS) if self.has_preprocessor else (CONFIG, WEIGHTS)


# Each entry is pinned to a commit of its repo's main branch that has model.safetensors. Sizes are model.safetensors
# in MB; the commits and sizes were read from public projects that pin the same files (their byte counts: DeiT-Ti
# 22,883,348, ViT-S 88,216,496, ViT-B augreg2 346,284,714). DINO is timm's export of the DINO ViT-S/16: its main is
# safetensors and head-less (num_classes 0), where facebook/dino-vits16's main holds only a pickle; its size is ViT-S's
# less the 1000-class head (385,000 floats).
CURATED = (
    Pretrained("vit-base-16", "google/vit-base-patch16-224", "huggingface", 346.0,
               "The paper's ViT-B/16 (Google): pre-trained on ImageNet-21k, fine-tuned on ImageNet-1k at 224 px. "
               "12 layers, 12 heads, D = 768.", revision="3f49326eb077187dfe1c2a2bb15fbd74e6ab91e3",
               has_preprocessor=True),
    Pretrained("vit-base-16-augreg2", "timm/vit_base_patch16_224.augreg2_in21k_ft_in1k", "timm", 346.3,
               "The same ViT-B/16 retrained by timm with stronger augmentation (AugReg): more accurate, timm layout.",
               revision="063c6c38a5d8510b2e57df480445e94b231dad2c"),
    Pretrained("vit-small-16", "timm/vit_small_patch16_224.augreg_in21k_ft_in1k", "timm", 88.2,
               "ViT-S/16 (AugReg, ImageNet-21k → 1k): 12 layers, 6 heads, D = 384; four times smaller than B/16.",
               revision="7e2c55630205e1266030f18370f4c6ed1a514b52"),
    Pretrained("deit-tiny-16", "timm/deit_tiny_patch16_224.fb_in1k", "timm", 22.9,
               "DeiT-Ti/16 (Facebook): the paper's architecture with 3 heads and D = 192, trained on ImageNet-1k "
               "alone. The one for slow machines.", revision="80e968688553f219e4a86f940ed945a23709c16f"),
    Pretrained("dino-small-16", "timm/vit_small_patch16_224.dino", "timm", 86.7,
               "DINO ViT-S/16 (Facebook): self-supervised, no classification head; known for attention maps that "
               "outline objects.", revision="10e440b8a34dfd657a90f2fcaa988c6b6a2f0da4"),
)
MODELS = {m.name: m for m in CURATED}


# Every way asking for a curated model can fail, in English; the app shows its own translation of the same kind.
MESSAGES = {
    "not_curated": "{name!r} is not a curated model; choose one of {choices}.",
    "not_cached": "{name} ({repo}, {size_mb} MB) is not on this computer yet (Hugging Face cache: {cache}). "
                  "Download it with: {command}",
    "offline_mode": "{name} is not on this computer, and downloads are switched off (HF_HUB_OFFLINE=1). "
                    "Download it where there is a network: {command}",
    "no_network": "{name} cannot be downloaded: this computer cannot reach {host}. Download it where there is a "
                  "network: {command} (then copy the Hugging Face cache, {cache}, to this computer).",
    "download_failed": "{name} could not be downloaded ({why}). Try again later, or download it with: {command}",
}
PROBE_TIMEOUT = 1.5  # seconds to reach the Hub before a download is given up as impossible now


def error(cls: type, kind: str, entry: Pretrained | None = None, **params):
    """A ModelNotFound or NoNetwork of `kind` (see MESSAGES), with the entry's name, command and cache filled in."""
    if entry is not None:
        params = {"name": entry.name, "repo": entry.repo_id, "size_mb": f"{entry.size_mb:g}",
                  "command": f"python -m vit_core fetch {entry.name}", "cache": str(cache_dir()), **params}
    return cls(MESSAGES[kind].format(**params), kind=kind, params=params)


def get(name: str) -> Pretrained:
    """A curated model by its short name or its repo id; ModelNotFound for any other name."""
    found = MODELS.get(name) or next((m for m in CURATED if m.repo_id == name), None)
    if found is None:
        raise error(ModelNotFound, "not_curated", name=name, choices=", ".join(MODELS))
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
        raise error(ModelNotFound, "not_cached", get(name))
    return folder


def fetch(name: str, progress: Progress | None = None) -> Path:
    """The folder of a curated model: from the cache if it is there, else downloaded into it first.

    NoNetwork if it has to be downloaded and cannot be now: offline mode, or the Hub not reachable within
    PROBE_TIMEOUT (said at once, where huggingface_hub would retry for half a minute), or the download failing.
    """
    entry = get(name)
    folder = local_path(name)
    if folder is not None:
        return folder
    if offline():
        raise error(NoNetwork, "offline_mode", entry)
    if not hub_reachable():
        raise error(NoNetwork, "no_network", entry, host=urlsplit(endpoint()).hostname or endpoint())
    paths = [_download(entry, f, progress) for f in entry.files]
    return Path(paths[-1]).parent


def endpoint() -> str:
    """The Hub's address as huggingface_hub uses it (HF_ENDPOINT when it was imported, else huggingface.co)."""
    from huggingface_hub import constants

    return constants.ENDPOINT


def hub_reachable(timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether a TCP connection to the Hub (or to the proxy the environment names for it) opens within `timeout`
    seconds, name lookup included: the lookup runs in a thread, as the resolver's own timeouts are far longer."""
    url = urlsplit(endpoint())
    host, port = url.hostname or "", url.port or (443 if url.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(url.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        proxy_url = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host, port = proxy_url.hostname or "", proxy_url.port or 80
    done, opened = threading.Event(), []

    def connect() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            opened.append(True)
        except (OSError, UnicodeError):  # no such name, no route, refused, timed out
            pass
        done.set()

    threading.Thread(target=connect, name="hub-probe", daemon=True).start()
    done.wait(timeout)
    return bool(opened)


def _download(entry: Pretrained, filename: str, progress: Progress | None) -> str:
    from huggingface_hub import hf_hub_download

    bar = {}  # byte-level progress where huggingface_hub offers it (tqdm_class); otherwise one report per file
    if progress and "tqdm_class" in inspect.signature(hf_hub_download).parameters:
        bar = {"tqdm_class": _progress_bar(filename, progress)}
    try:
        path = hf_hub_download(entry.repo_id, filename, revision=entry.revision, cache_dir=cache_dir(), **bar)
    except Exception as e:  # the network gone mid-way, a proxy, a vanished repo: all mean "not available now"
        raise error(NoNetwork, "download_failed", entry, why=f"{type(e).__name__}: {str(e)[:200]}") from None
    if progress:
        size = os.path.getsize(path)
        progress(filename, size, size)
    return path


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
