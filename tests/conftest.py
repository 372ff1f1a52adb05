from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vit_core import ViT, ViTConfig, load_model
from vit_core.model import init_weights

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "assets" / "models" / "fashion-vit"


@pytest.fixture(scope="session")
def teaching_model() -> ViT:
    return load_model(TEACHING)


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
