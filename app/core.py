"""The app's only link to vit_core: cached models and cached analyses.

Models are shared by every session (`st.cache_resource`, read-only). An analysis is computed once per
(image bytes, model) and kept in a bounded cache, so stepping through layers and heads only indexes arrays that
already exist. Analyses are shared too (`st.cache_resource`), with every array read-only (vit_core.views makes them
so): `st.cache_data` would keep a pickled copy in the cache and unpickle a fresh copy for every run of every session
(36 MB for ViT-B/16), and each session's attention explorer (a fragment) holds on to the copy of its last full run —
measured, that doubled the server's memory with 30 learners on ViT-B/16 (docs/PERFORMANCE.md). Read-only arrays turn
an accidental in-place edit into an error instead of a copy that hides it.
"""
from __future__ import annotations

import io
import json
import threading
import zipfile
from pathlib import Path

import numpy as np
import streamlit as st

from vit_core import LoadedModel, ModelNotFound, experiments, explain, hub, lens, load_model, views
from vit_core.interventions import Intervention
from vit_core.model import ViT

ROOT = Path(__file__).resolve().parent.parent
TEACHING_ID = "teaching"
TEACHING_PATH = ROOT / "assets" / "models" / "fashion-vit"

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
    if model_id.startswith("hub:"):  # only ever from the cache: downloads happen when the user asks (app/models.py)
        return hub.cached(model_id.removeprefix("hub:"))
    raise ModelNotFound(f"unknown model {model_id!r}")


@st.cache_resource(max_entries=4, show_spinner=False)
def get_model(model_id: str) -> LoadedModel:
    return load_model(model_path(model_id))


# An analysis is kept for every picture a class is looking at, within a memory bound: a small model's (the teaching
# model's: 0.5 MB) in a cache of 256, a big one's (ViT-B/16: 36 MB) in a cache of 32. With one cache of 32, a class of
# 60, each learner with a picture of their own, pushed each other's analyses out and had them computed again on every
# page they opened (docs/PERFORMANCE.md).
SMALL_ATTENTIONS = 4 << 20  # bytes of float32 attention weights (L·H·T·T·4) up to which an analysis is small


def analyse(image_bytes: bytes, model_id: str) -> views.Analysis:
    """Raises vit_core.ImageError for a bad picture (not cached: it is cheap to find again)."""
    cfg = get_model(model_id).model.config
    small = cfg.num_hidden_layers * cfg.num_attention_heads * cfg.num_tokens ** 2 * 4 <= SMALL_ATTENTIONS
    return (_analyse_small if small else _analyse_big)(image_bytes, model_id)


@st.cache_resource(max_entries=256, show_spinner=False)
def _analyse_small(image_bytes: bytes, model_id: str) -> views.Analysis:
    return views.analyse(get_model(model_id), image_bytes, lock=FORWARD_LOCK)


@st.cache_resource(max_entries=32, show_spinner=False)
def _analyse_big(image_bytes: bytes, model_id: str) -> views.Analysis:
    return views.analyse(get_model(model_id), image_bytes, lock=FORWARD_LOCK)


@st.cache_resource(max_entries=16, show_spinner=False)
def block_detail(image_bytes: bytes, model_id: str, layer: int) -> views.BlockArrays:
    """Inside encoder block `layer` (0-based) for this picture: LN, Q, K, V, scores, softmax, …"""
    a = analyse(image_bytes, model_id)  # before the lock, which analyse takes itself
    with FORWARD_LOCK:
        return views.block_detail(get_model(model_id).model, a, layer)


# ---- the token lenses (step 8) -------------------------------------------------------------------------------------
@st.cache_resource(max_entries=32, show_spinner=False)  # ViT-B/16: 12 MB a picture (every token's 1000 logits)
def lenses(image_bytes: bytes, model_id: str) -> lens.Lenses:
    """The logit lens, the tokens' similarity and the residual stream of this picture (vit_core/lens.py), computed
    once per (picture, model) from the analysis' trace: a slider step only indexes them."""
    a = analyse(image_bytes, model_id)  # before the lock, which analyse takes itself
    with FORWARD_LOCK:
        return lens.lenses(get_model(model_id).model, a.trace)


# ---- the experiments page ------------------------------------------------------------------------------------------
@st.cache_resource(max_entries=16, show_spinner=False)
def experiment(image_bytes: bytes, model_id: str, iv: Intervention) -> experiments.Run:
    """The picture through the model with an intervention (none: the unchanged run, for comparison)."""
    a = analyse(image_bytes, model_id)  # before the lock, which analyse takes itself
    loaded = get_model(model_id)
    return experiments.run(loaded.model, loaded.preprocess, a, iv, FORWARD_LOCK)


@st.cache_resource(max_entries=16, show_spinner=False)
def permutation_test(image_bytes: bytes, model_id: str, seed: int, base: Intervention) -> experiments.PermutationTest:
    a = analyse(image_bytes, model_id)
    loaded = get_model(model_id)
    return experiments.permutation_test(loaded.model, loaded.preprocess, a, seed, base, FORWARD_LOCK)


def snapshots(model_id: str) -> list[experiments.Snapshot]:
    """The training run's snapshots shipped beside the model ([] for a model without them)."""
    return experiments.snapshots(get_model(model_id).folder)


@st.cache_resource(max_entries=3, show_spinner=False)  # a ViT-B/16's untrained twin is as big as the model
def snapshot(model_id: str, epoch: int) -> ViT:
    """The model as it was after `epoch` epochs of its training run (0: untrained), on no picture yet: its weights.
    Epoch 0 without a shipped snapshot is the training script's initial weights (seed 0)."""
    loaded = get_model(model_id)
    found = {s.epoch: s for s in experiments.snapshots(loaded.folder)}
    if epoch in found:
        return experiments.load_snapshot(loaded.folder, found[epoch])
    if epoch == 0:
        return experiments.untrained(loaded.model)
    raise ModelNotFound(f"no snapshot after epoch {epoch}")


@st.cache_resource(max_entries=16, show_spinner=False)
def snapshot_run(image_bytes: bytes, model_id: str, epoch: int) -> tuple[experiments.Run, np.ndarray]:
    """The picture through the model of `snapshot(model_id, epoch)`, and its position-embedding similarity."""
    a = analyse(image_bytes, model_id)
    model = snapshot(model_id, epoch)
    return (experiments.run(model, get_model(model_id).preprocess, a, Intervention(), FORWARD_LOCK),
            experiments.pos_similarity(model))


@st.cache_data(max_entries=4, show_spinner=False)
def head_importance(model_id: str) -> dict | None:
    """The head-importance table shipped beside the model, or None (none shipped, or not readable)."""
    try:
        return experiments.load_head_importance(get_model(model_id).folder)
    except (OSError, ValueError, KeyError, TypeError):
        return None


@st.cache_data(max_entries=4, show_spinner=False)
def training_history(model_id: str) -> list[tuple[int, float]]:
    """(epoch, test accuracy) of the model's whole training run, from its training.json ([] without one)."""
    return experiments.training_history(get_model(model_id).folder)


# ---- the explanations page ----------------------------------------------------------------------------------------
@st.cache_resource(max_entries=16, show_spinner=False)
def explanations(image_bytes: bytes, model_id: str, target: int | None) -> explain.PictureExplanations:
    """Every method's map for this picture and target (None: the predicted class)."""
    pixels = analyse(image_bytes, model_id).trace.pixel_values
    return explain.explain_picture(get_model(model_id).model, pixels, target, FORWARD_LOCK)


@st.cache_resource(max_entries=16, show_spinner=False)
def picture_curves(image_bytes: bytes, model_id: str, method: str, target: int) -> explain.PictureCurves:
    scores = explanations(image_bytes, model_id, target).maps[method]
    return explain.picture_curves(get_model(model_id).model, analyse(image_bytes, model_id).trace.pixel_values,
                                  scores, target, lock=FORWARD_LOCK)


@st.cache_data(max_entries=4, show_spinner=False)
def faithfulness_table(model_id: str) -> dict | None:
    """The faithfulness table shipped beside the model (vit_core faithfulness), or None."""
    try:
        data = json.loads((Path(get_model(model_id).folder) / "faithfulness.json").read_text(encoding="utf-8"))
        return data if isinstance(data.get("rows"), list) else None
    except (OSError, ValueError, AttributeError):
        return None


def trace_npz(a: views.Analysis, labels: tuple[str, ...], about: dict[str, object] | None = None) -> bytes:
    """The whole trace as a .npz file, with the same keys as `python -m vit_core trace`, and what was traced: one
    more entry per item of `about` (a name and a str, int or tuple of ints: np.load(f)["picture_name"].item())."""
    buf = io.BytesIO()
    a.trace.save_npz(buf, labels)
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as npz:  # an .npz is a zip of .npy files
        for name, value in (about or {}).items():
            entry = io.BytesIO()
            np.lib.format.write_array(entry, np.asarray(value), allow_pickle=False)
            npz.writestr(f"{name}.npy", entry.getvalue())
    return buf.getvalue()
