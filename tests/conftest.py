from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vit_core import LoadedModel, ViT, ViTConfig, load_model
from vit_core.model import init_weights

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "assets" / "models" / "fashion-vit"
TIERS = ("core", "app", "browser")  # tests/<tier>/: the marker every test there gets (pyproject.toml says what each is)


def pytest_collection_modifyitems(items):
    """Each test is marked with its folder's tier, so `-m core` (make test-fast) or `-m "not browser"` pick by speed."""
    for item in items:
        tier = Path(str(item.path)).resolve().relative_to(ROOT / "tests").parts[0]
        if tier in TIERS:
            item.add_marker(tier)


@pytest.fixture(scope="session")
def teaching() -> LoadedModel:
    """The shipped teaching model as load_model gives it: the ViT, its preprocessing, source, folder and card."""
    return load_model(TEACHING)


@pytest.fixture(scope="session")
def teaching_model(teaching) -> ViT:
    return teaching.model


@pytest.fixture
def tiny_model() -> ViT:
    """A random model at the teaching scale (28×28, P=4) but narrow, with non-trivial weights."""
    cfg = ViTConfig(hidden_size=24, num_hidden_layers=2, num_attention_heads=3, intermediate_size=48,
                    labels=tuple(f"class {i}" for i in range(5)))
    model = init_weights(ViT(cfg), seed=1)
    with torch.no_grad():  # init_weights leaves biases and LayerNorms trivial: make every parameter matter
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return model.eval()


@pytest.fixture
def pixels() -> torch.Tensor:
    return torch.randn(2, 3, 28, 28, generator=torch.Generator().manual_seed(0))


def hf_model(folder, head=True):
    """transformers' eager implementation of the checkpoint in `folder`, in eval mode."""
    import transformers

    cls = transformers.ViTForImageClassification if head else transformers.ViTModel
    return cls.from_pretrained(folder, attn_implementation="eager").eval()


def hf_outputs(folder, pixels, head=True, **kwargs):
    """transformers' eager implementation of the checkpoint in `folder`, every attention and hidden state kept."""
    with torch.no_grad():
        return hf_model(folder, head)(pixel_values=pixels, output_attentions=True, output_hidden_states=True, **kwargs)


def assert_parity(model, ref, pixels, head=True, atol=1e-5):
    """Our trace equals transformers' `ref`: logits (without a head, LN(z_L⁰)), attentions and hidden states."""
    ours = model.trace(pixels)
    if head:
        assert torch.allclose(ours.logits, ref.logits, atol=atol)
    else:
        assert ours.logits is None and model.head is None
        assert torch.allclose(model(pixels), ref.last_hidden_state[:, 0], atol=atol)  # LN(z_L⁰), Eq. 4
    assert len(ours.attentions) == len(ref.attentions)
    for a, b in zip(ours.attentions, ref.attentions):
        assert a.shape == b.shape and torch.allclose(a, b, atol=atol)
    for a, b in zip(ours.hidden_states, ref.hidden_states):
        assert torch.allclose(a, b, atol=atol)


def big_config(**extra):
    """A ViT-B/16-shaped config (224 px, 16 px patches: 196 patches, 197 tokens, 12 heads), kept narrow and shallow."""
    import transformers

    return transformers.ViTConfig(image_size=224, patch_size=16, hidden_size=96, num_hidden_layers=3,
                                  num_attention_heads=12, intermediate_size=192, **extra)


@pytest.fixture(scope="session")
def big_model(tmp_path_factory) -> str:
    """A random 224/16 classifier with 1000 classes, saved by transformers; as a model id for the app."""
    import transformers

    path = tmp_path_factory.mktemp("vit_b16_shape")
    transformers.ViTForImageClassification(big_config(num_labels=1000)).save_pretrained(path)
    return f"path:{path}"


@pytest.fixture(scope="session")
def headless_model(tmp_path_factory) -> str:
    """The same shape without a classification head (as DINO publishes it)."""
    import transformers

    path = tmp_path_factory.mktemp("vit_headless")
    transformers.ViTModel(big_config(), add_pooling_layer=False).save_pretrained(path)
    return f"path:{path}"


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    """An empty cache, downloads off. huggingface_hub read both variables when it was imported; hub.py reads them
    again on each call, so setting them now works."""
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


# ---- browser tests (harness/) ----
@pytest.fixture(scope="session")
def app_server():
    from harness import server

    with server.running() as srv:
        yield srv.url


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    from harness.browser import CHROMIUM, launch

    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}: apt-get install chromium"
    with sync_playwright() as p:
        b = launch(p.chromium)
        yield b
        b.close()
