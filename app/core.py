"""The app's only link to vit_core: cached models and cached analyses, returned as plain arrays.

Models are shared by every session (`st.cache_resource`, read-only). An analysis is computed once per
(image bytes, model) and kept in a bounded cache, so stepping through layers and heads only indexes arrays that
already exist. Analyses are shared too (`st.cache_resource`), with every array made read-only: `st.cache_data` would
keep a pickled copy in the cache and unpickle a fresh copy for every run of every session (36 MB for ViT-B/16), and
each session's attention explorer (a fragment) holds on to the copy of its last full run — measured, that doubled the
server's memory with 30 learners on ViT-B/16 (docs/PERFORMANCE.md). Read-only arrays turn an accidental in-place
edit into an error instead of a copy that hides it.
"""
from __future__ import annotations

import io
import threading
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType

import numpy as np
import streamlit as st
import torch

from vit_core import ViT, hub, load_image, load_model, preprocess
from vit_core.analysis import attention_rollout, layer_predictions, mean_attention_distance, position_similarity
from vit_core.images import crop_box, model_view
from vit_core.model import explain_block, save_trace_npz

ROOT = Path(__file__).resolve().parent.parent
TEACHING_ID = "teaching"
TEACHING_PATH = ROOT / "assets" / "models" / "fashion-vit"
DISPLAY_SIDE = 512  # the original picture is shown at most this big

# One model computation at a time, for the whole server. torch already spreads a single forward over every core, so
# forwards that run side by side (a class uploading at once) only share the cores, and their threads crowd out every
# other learner's steps. Queued, the first upload is analysed first and steps keep flowing: with 30 learners uploading
# ViT-B/16 pictures at once, the longest step fell from about 3 s to 0.5-0.7 s (docs/PERFORMANCE.md).
FORWARD_LOCK = threading.Lock()


def model_path(model_id: str) -> Path:
    if model_id == TEACHING_ID:
        return TEACHING_PATH
    if model_id.startswith("path:"):
        return Path(model_id.removeprefix("path:"))
    if model_id.startswith("hub:"):  # only ever from the cache: downloads happen when the user asks (ui.model_picker)
        folder = hub.local_path(model_id.removeprefix("hub:"))
        if folder is None:
            raise hub.ModelUnavailable(f"{model_id.removeprefix('hub:')} has not been downloaded")
        return folder
    raise KeyError(model_id)


@st.cache_resource(max_entries=4, show_spinner=False)
def get_model(model_id: str) -> ViT:
    return load_model(model_path(model_id))


@dataclass(frozen=True)
class Analysis:
    """Everything the pages draw for one image, as numpy arrays (B = 1 is dropped where noted)."""

    original: np.ndarray  # (h, w, 3) uint8, the upload shrunk to at most DISPLAY_SIDE
    original_size: tuple[int, int]  # (width, height) of the upload as decoded
    crop: tuple[float, float, float, float]  # the model's crop, in `original` pixel coordinates
    model_view: np.ndarray  # (S, S, 3) uint8, what the model sees before normalisation
    trace: MappingProxyType[str, np.ndarray]  # Trace.to_numpy(): pixel_values, patches, …, attentions (L, 1, H, T, T)
    probs: np.ndarray | None  # (classes,) final prediction
    layer_probs: np.ndarray | None  # (L+1, classes): the head applied to the cls token after each layer
    rollout: np.ndarray  # (L, T, T) attention rollout after each layer
    distances: np.ndarray  # (L, H) mean attention distance in pixels
    position_similarity: np.ndarray  # (g, g, g, g)

    def __post_init__(self) -> None:
        """Shared by every session that shows this picture: nothing in it can change."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        for array in self.trace.values():
            array.setflags(write=False)
        object.__setattr__(self, "trace", MappingProxyType(dict(self.trace)))


@st.cache_resource(max_entries=32, show_spinner=False)
def analyse(image_bytes: bytes, model_id: str) -> Analysis:
    """Raises vit_core.ImageError for a bad picture (not cached: it is cheap to find again)."""
    model = get_model(model_id)
    cfg, pre = model.config, model.preprocess
    image = load_image(image_bytes)
    shown = image.copy()
    shown.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE))
    scale = shown.width / image.width
    pixels = preprocess(image, pre)
    with FORWARD_LOCK:  # only the model's work: the pictures below need no queue
        trace = model.trace(pixels)
        attentions = [a[0] for a in trace.attentions]  # L × (H, T, T)
        has_head = trace.logits is not None
        probs = trace.logits[0].softmax(-1).numpy() if has_head else None
        layer_probs = layer_predictions(model, trace.hidden_states)[:, 0].numpy() if has_head else None
        rollout = attention_rollout(attentions).numpy()
        distances = torch.stack([mean_attention_distance(a, cfg.grid_size, cfg.patch_size) for a in attentions]).numpy()
        similarity = position_similarity(model.pos_embed.detach(), cfg.grid_size).numpy()
    return Analysis(
        original=np.asarray(shown),
        original_size=image.size,
        crop=tuple(v * scale for v in crop_box(image.size, pre)),
        model_view=np.asarray(model_view(image, pre)),
        trace=trace.to_numpy(),
        probs=probs,
        layer_probs=layer_probs,
        rollout=rollout,
        distances=distances,
        position_similarity=similarity,
    )


@st.cache_data(max_entries=16, show_spinner=False)
def block_detail(image_bytes: bytes, model_id: str, layer: int) -> dict[str, np.ndarray]:
    """Inside encoder block `layer` for this image: LN, Q, K, V, scores, softmax, … (batch axis dropped)."""
    model = get_model(model_id)
    x = torch.tensor(analyse(image_bytes, model_id).trace["hidden_states"][layer])  # (1, T, D), a copy
    with FORWARD_LOCK:
        bt = explain_block(model.blocks[layer], x)
    return {name: value[0].numpy() for name, value in vars(bt).items()}


def trace_npz(a: Analysis, labels: tuple[str, ...]) -> bytes:
    """The whole trace as a .npz file, with the same keys as `python -m vit_core trace`."""
    buf = io.BytesIO()
    save_trace_npz(buf, a.trace, labels)
    return buf.getvalue()
