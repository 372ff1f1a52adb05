"""A torch-only reference: the paper's Eq. 1–4 in plain torch, held equal to `vit_core.ViT`.

    z0 = [x_class; x_p¹E; …; x_pᴺE] + E_pos                  (1)
    z'_l = MSA(LN(z_{l-1})) + z_{l-1}                       (2)
    z_l = MLP(LN(z'_l)) + z'_l                              (3)
    y = LN(z_L⁰), logits = head(y)                          (4)

Nothing here comes from vit_core's maths (no einops, no vit_core functions): the reference reads the model's
parameters by name from its state_dict and recomputes everything. It catches a wrong pooling, a wrong attention
scale or misplaced position embeddings without transformers, which this module never imports; the last test proves
that by running this file where `import transformers` fails.
"""
from __future__ import annotations

import functools
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vit_core import ViT, ViTConfig, load_model
from vit_core.model import init_weights

ROOT = Path(__file__).resolve().parents[2]
ATOL = 1e-5


def linear(sd, name, x):
    bias = sd.get(f"{name}.bias")  # q/k/v have none when qkv_bias is False
    return x @ sd[f"{name}.weight"].T + (0 if bias is None else bias)


def layer_norm(sd, name, x, eps):
    mean, var = x.mean(-1, keepdim=True), x.var(-1, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * sd[f"{name}.weight"] + sd[f"{name}.bias"]


def gelu(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))  # exact GELU, not the tanh approximation


def split_heads(x, h):
    B, T, D = x.shape
    return x.reshape(B, T, h, D // h).transpose(1, 2)  # (B, h, T, D/h)


def eq1(sd, cfg, x):
    """z0 = [x_class; x_p¹E; …; x_pᴺE] + E_pos, with each patch flattened in (p1 p2 c) order."""
    B, C, H, W, P = *x.shape, cfg.patch_size
    grid = x.reshape(B, C, H // P, P, W // P, P)  # (B, C, rows, p1, cols, p2)
    patches = grid.permute(0, 2, 4, 3, 5, 1).reshape(B, -1, P * P * C)  # (B, N, P·P·C): row-major, (p1 p2 c)
    x_class = sd["cls_token"].expand(B, 1, -1)  # (B, 1, D)
    return torch.cat([x_class, linear(sd, "patch_embed", patches)], dim=1) + sd["pos_embed"]  # (1) (B, N+1, D)


def msa(sd, cfg, layer, x):
    """Multi-head self-attention: softmax(q kᵀ / √d_head) v for each head, heads concatenated, projected."""
    q, k, v = (split_heads(linear(sd, f"blocks.{layer}.attn.{n}", x), cfg.num_attention_heads) for n in "qkv")
    probs = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1)  # (B, h, T, T), d_head = D/h
    heads = (probs @ v).transpose(1, 2).reshape(x.shape)  # (B, T, D): heads concatenated
    return linear(sd, f"blocks.{layer}.attn.proj", heads), probs


def block(sd, cfg, layer, z):
    """Eq. 2 and 3: one pre-norm encoder layer. Returns z_l and the layer's attention probabilities."""
    eps, name = cfg.layer_norm_eps, f"blocks.{layer}"
    a, probs = msa(sd, cfg, layer, layer_norm(sd, f"{name}.norm1", z, eps))
    z = a + z  # (2) z'_l = MSA(LN(z_{l-1})) + z_{l-1}
    mlp = linear(sd, f"{name}.mlp.fc2", gelu(linear(sd, f"{name}.mlp.fc1", layer_norm(sd, f"{name}.norm2", z, eps))))
    return mlp + z, probs  # (3) z_l = MLP(LN(z'_l)) + z'_l


def eq4(sd, cfg, z_L):
    """y = LN(z_L⁰): the cls token, position 0, of the last layer; then the head (if the model has one)."""
    y = layer_norm(sd, "norm", z_L[:, 0], cfg.layer_norm_eps)  # (4)
    return linear(sd, "head", y) if "head.weight" in sd else y


def encoder(sd, cfg, z0):
    """Eq. 2–3 for every layer: the hidden states z0…zL and the attention probabilities of each layer."""
    hidden, attentions = [z0], []
    for layer in range(cfg.num_hidden_layers):
        z, probs = block(sd, cfg, layer, hidden[-1])
        hidden.append(z)
        attentions.append(probs)
    return hidden, attentions


@torch.no_grad()
def reference_forward(model: ViT, x: torch.Tensor):
    """Eq. 1–4 on the model's parameters: (logits or features, hidden states z0…zL, attentions)."""
    sd, cfg = model.state_dict(), model.config
    hidden, attentions = encoder(sd, cfg, eq1(sd, cfg, x))
    return eq4(sd, cfg, hidden[-1]), hidden, attentions


def random_vit(seed: int = 0, **config) -> ViT:
    """A random ViT with every parameter perturbed, so that biases and LayerNorms matter (as tiny_model)."""
    model = init_weights(ViT(ViTConfig(**config)), seed=seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.1)
    return model.eval()


@functools.cache
def teaching_model() -> ViT:
    loaded = load_model(ROOT / "assets" / "models" / "fashion-vit")
    return getattr(loaded, "model", loaded)  # load_model returns the ViT, or a LoadedModel record holding it


def fubao() -> torch.Tensor:
    """The demo picture, normalised as the teaching model's preprocessor says (mean = std = 0.5)."""
    rgb = np.asarray(Image.open(ROOT / "assets" / "images" / "fubao_28.png").convert("RGB"), dtype=np.float32)
    return ((torch.from_numpy(rgb).permute(2, 0, 1) / 255 - 0.5) / 0.5)[None]  # (1, 3, 28, 28)


SHAPES = {
    "28/4": dict(hidden_size=24, num_hidden_layers=2, num_attention_heads=3, intermediate_size=48,
                 labels=tuple("abcde")),
    "32/8, no qkv bias": dict(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                              intermediate_size=64, layer_norm_eps=1e-6, qkv_bias=False, labels=tuple("abc")),
    "224/16, no head": dict(image_size=224, patch_size=16, hidden_size=96, num_hidden_layers=3, num_attention_heads=12,
                            intermediate_size=192),
}


def random_input(batch, size, seed=7):
    return torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(seed))


def random_case(seed, config):
    return lambda: (random_vit(seed, **config), random_input(2, config.get("image_size", 28)))


CASES = {name: random_case(seed, config) for seed, (name, config) in enumerate(SHAPES.items())}
CASES["fashion-vit, fubao_28.png"] = lambda: (teaching_model(), fubao())
CASES["fashion-vit, random"] = lambda: (teaching_model(), random_input(3, 28, seed=3))


@pytest.fixture(params=CASES)
def case(request):
    return CASES[request.param]()  # (model, pixel values)


def close(a, b):
    torch.testing.assert_close(a, b, atol=ATOL, rtol=ATOL)


def test_vit_equals_the_reference(case):
    model, x = case
    out, hidden, attentions = reference_forward(model, x)
    t = model.trace(x)
    with torch.no_grad():
        close(model(x), out)  # logits, or the features y of a model without a head
    if model.head is not None:
        close(t.logits, out)
    assert len(t.hidden_states) == len(hidden) and len(t.attentions) == len(attentions)
    for ours, theirs in zip(t.hidden_states, hidden):
        close(ours, theirs)
    for ours, theirs in zip(t.attentions, attentions):
        close(ours, theirs)


def test_each_layer_equals_the_reference_layer(case):
    """Eq. 2–3 layer by layer, each from the model's own z_{l-1}: nothing is added between layers."""
    model, x = case
    sd, t = model.state_dict(), model.trace(x)
    close(t.hidden_states[0], eq1(sd, model.config, x))
    for layer in range(model.config.num_hidden_layers):
        z, probs = block(sd, model.config, layer, t.hidden_states[layer])
        close(t.hidden_states[layer + 1], z)
        close(t.attentions[layer], probs)


# What the reference must catch even where transformers is absent. Each test also shows that the wrong variant is
# far from the right one on this model, so the comparison above can fail on it.

def far(a, b):
    return (a - b).abs().max() > 1000 * ATOL


def test_prediction_reads_the_cls_token_not_a_mean(case):
    model, x = case
    sd, t = model.state_dict(), model.trace(x)
    z_L = t.hidden_states[-1]  # (B, N+1, D)
    with torch.no_grad():
        out = model(x)
    close(out, eq4(sd, model.config, z_L))  # position 0
    assert far(out, eq4(sd, model.config, z_L.mean(dim=1, keepdim=True)))  # a mean of the tokens
    assert far(out, eq4(sd, model.config, z_L[:, 1:].mean(dim=1, keepdim=True)))  # a mean of the patches


def test_attention_scale_is_one_over_sqrt_head_dim(case):
    model, x = case
    cfg, sd, t = model.config, model.state_dict(), model.trace(x)
    ln = layer_norm(sd, "blocks.0.norm1", t.hidden_states[0], cfg.layer_norm_eps)
    q, k = (split_heads(linear(sd, f"blocks.0.attn.{n}", ln), cfg.num_attention_heads) for n in "qk")
    probs = lambda scale: (q @ k.transpose(-2, -1) * scale).softmax(-1)  # noqa: E731
    close(t.attentions[0], probs(1 / math.sqrt(cfg.head_dim)))  # 1/√d_head
    assert far(t.attentions[0], probs(1 / math.sqrt(cfg.hidden_size)))  # 1/√D
    assert far(t.attentions[0], probs(1.0))  # no scale


def test_position_embeddings_are_added_once_to_all_tokens_before_the_first_block(case):
    model, x = case
    sd, cfg, t = model.state_dict(), model.config, model.trace(x)
    z0, E_pos = eq1(sd, cfg, x), sd["pos_embed"]  # z0: E_pos added to all N+1 tokens, the cls token's included
    close(t.hidden_states[0], z0)
    z_L = encoder(sd, cfg, z0)[0][-1]
    close(t.hidden_states[-1], z_L)
    cls_only = torch.zeros_like(E_pos)
    cls_only[:, 0] = E_pos[:, 0]
    for wrong in (z0 - cls_only, z0 - E_pos, z0 + E_pos):  # the cls token without its E_pos; none; added twice
        assert far(z_L, encoder(sd, cfg, wrong)[0][-1])


def test_reference_passes_without_transformers_subprocess(tmp_path):
    """Run this file where `import transformers` fails: the reference needs torch alone."""
    (tmp_path / "transformers").mkdir()
    (tmp_path / "transformers" / "__init__.py").write_text("raise ImportError('transformers is hidden here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    hidden = subprocess.run([sys.executable, "-c", "import transformers"], env=env, capture_output=True, text=True)
    assert "transformers is hidden here" in hidden.stderr  # the stand-in shadows the installed package
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
                          "-k", "not subprocess"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert " passed" in run.stdout and "skipped" not in run.stdout, run.stdout
