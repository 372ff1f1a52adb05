"""Experiments (issue 13): masked and shuffled patches, no position embeddings and ablated heads, as flags on the
model's own trace — properties on random small ViTs (hypothesis), and parity with transformers' ViT doing the same
by other means (zeroed position_embeddings, a pre-hook on the output projection, shuffled pixel tiles)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from einops import rearrange
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vit_core import ViTConfig
from vit_core.interventions import (FILLS, Intervention, border_patches, centre_patches, object_centre,
                                    object_centre_patches, parse_heads, parse_patches, permutation, preset,
                                    random_half, token_order)
from vit_core.model import ViT, init_weights

from tests.conftest import TEACHING, hf_outputs

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def small_vits(draw):
    """A random ViT with non-trivial weights (position embeddings and biases not zero), and a batch of pictures."""
    P = draw(st.sampled_from([2, 4]))
    g = draw(st.integers(2, 4))
    H = draw(st.sampled_from([1, 2, 4]))
    cfg = ViTConfig(image_size=P * g, patch_size=P, hidden_size=8 * H, num_hidden_layers=draw(st.integers(1, 3)),
                    num_attention_heads=H, intermediate_size=16, labels=("a", "b", "c"))
    seed = draw(st.integers(0, 2**16))
    model = init_weights(ViT(cfg), seed).eval()
    g_ = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g_) * 0.3)
    pixels = torch.randn(2, 3, cfg.image_size, cfg.image_size, generator=g_)
    return model, pixels


@PROPERTY
@given(small_vits(), st.integers(0, 10_000))
def test_without_position_embeddings_a_shuffle_only_permutes(vit, seed):
    model, pixels = vit
    plain = model.trace(pixels, Intervention(no_pos_embed=True))
    shuffled = model.trace(pixels, Intervention(no_pos_embed=True, shuffle_seed=seed))
    assert torch.allclose(shuffled.logits, plain.logits, atol=1e-5)
    order = torch.from_numpy(token_order(shuffled.permutation.numpy()))
    for a, b in zip(shuffled.attentions, plain.attentions):
        assert torch.allclose(a, b[:, :, order][:, :, :, order], atol=1e-6)


@PROPERTY
@given(small_vits(), st.data())
def test_a_masked_patch_is_the_fill_value(vit, data):
    model, pixels = vit
    N = model.config.num_patches
    mask = data.draw(st.lists(st.integers(0, N - 1), min_size=1, max_size=N, unique=True))
    trace = model.trace(pixels, Intervention(mask=tuple(mask)))
    plain = model.trace(pixels)
    assert torch.all(trace.patches[:, mask] == 0)  # the mean fill: 0 in the normalised input
    kept = [k for k in range(N) if k not in mask]
    assert torch.equal(trace.patches[:, kept], plain.patches[:, kept])
    blurred = model.trace(pixels, Intervention(mask=tuple(mask), fill="blur")).patches[:, mask]  # (B, m, P·P·C)
    C = 3
    per_channel = blurred.reshape(*blurred.shape[:2], -1, C)  # (p1 p2 c) order: channel last
    assert torch.allclose(per_channel, per_channel[:, :, :1].expand_as(per_channel))  # one colour per patch


@PROPERTY
@given(small_vits(), st.data())
def test_ablating_a_head_is_zeroing_its_columns_of_the_projection(vit, data):
    model, pixels = vit
    L, H, d = model.config.num_hidden_layers, model.config.num_attention_heads, model.config.head_dim
    heads = data.draw(st.lists(st.tuples(st.integers(0, L - 1), st.integers(0, H - 1)), min_size=1, unique=True))
    ablated = model.trace(pixels, Intervention(ablate=tuple(heads)))
    edited = ViT(model.config).eval()
    edited.load_state_dict(model.state_dict())
    with torch.no_grad():
        for layer, head in heads:
            edited.blocks[layer].attn.proj.weight[:, head * d:(head + 1) * d] = 0
    reference = edited.trace(pixels)
    assert torch.allclose(ablated.logits, reference.logits, atol=1e-5)
    for a, b in zip(ablated.hidden_states, reference.hidden_states):
        assert torch.allclose(a, b, atol=1e-5)
    assert torch.allclose(model(pixels, Intervention(ablate=tuple(heads))), reference.logits, atol=1e-5)


@PROPERTY
@given(small_vits())
def test_no_intervention_is_the_plain_trace(vit):
    model, pixels = vit
    plain, flagged = model.trace(pixels), model.trace(pixels, Intervention(ablate=(), mask=()))
    for name in ("pixel_values", "patches", "tokens", "logits"):
        assert torch.equal(getattr(plain, name), getattr(flagged, name))
    assert all(torch.equal(a, b) for a, b in zip(plain.attentions, flagged.attentions))
    assert flagged.permutation is None


def test_an_intervention_is_checked_and_canonical(tiny_model, pixels):
    assert Intervention(mask=(3, 1, 3), ablate=((1, 0), (0, 1), (1, 0))) == Intervention(mask=(1, 3),
                                                                                       ablate=((0, 1), (1, 0)))
    with pytest.raises(ValueError, match="fill"):
        Intervention(fill="paint")
    with pytest.raises(ValueError, match="patch numbers run from 0 to 48"):
        tiny_model.trace(pixels, Intervention(mask=(49,)))
    with pytest.raises(ValueError, match="heads run from 1.1 to 2.3: 3.1"):
        tiny_model.trace(pixels, Intervention(ablate=((2, 0),)))


def test_presets_and_parsers():
    assert centre_patches(7) == tuple(r * 7 + c for r in range(1, 5) for c in range(1, 5))  # the middle 16×16 pixels
    assert centre_patches(14) == tuple(r * 14 + c for r in range(3, 10) for c in range(3, 10))
    # the object's centre: a dark square on white in the top-left corner, and an all-white picture
    view = np.full((28, 28, 3), 255, np.uint8)
    view[2:10, 3:11] = 0
    assert object_centre(view, 4) == pytest.approx((1.5, 1.75))
    assert object_centre_patches(7, view, 4) == tuple(r * 7 + c for r in range(0, 4) for c in range(0, 4))  # kept in
    assert object_centre(np.full((28, 28, 3), 255, np.uint8), 4) == (3.5, 3.5)
    assert preset("centre", 7, np.full((28, 28, 3), 9, np.uint8), 4) == centre_patches(7)
    with pytest.raises(ValueError):
        preset("corner", 7, view, 4)
    assert set(border_patches(7)) == {k for k in range(49) if k // 7 in (0, 6) or k % 7 in (0, 6)}
    assert len(random_half(7)) == 24 and random_half(7) == random_half(7) and len(set(random_half(7))) == 24
    assert sorted(permutation(49, 5)) == list(range(49)) and list(permutation(49, 5)) != list(range(49))
    assert parse_heads("2.1, 5.4") == ((1, 0), (4, 3)) and parse_patches("0,8, 24") == (0, 8, 24)
    for bad in ("2", "0.1", "a.b", "2.1.3"):
        with pytest.raises(ValueError):
            parse_heads(bad)
    with pytest.raises(ValueError):
        parse_heads("7.1", layers=6, heads=4)
    with pytest.raises(ValueError):
        parse_patches("1,-2")
    assert set(FILLS) == {"mean", "blur", "noise"}


# ---- parity: transformers' ViT doing the same by other means ---------------------------------------------------------
transformers = pytest.importorskip("transformers")


def test_parity_no_position_embeddings(teaching_model, pixels):
    hf = transformers.ViTForImageClassification.from_pretrained(TEACHING, attn_implementation="eager").eval()
    with torch.no_grad():
        hf.vit.embeddings.position_embeddings.zero_()
        ref = hf(pixel_values=pixels, output_attentions=True)
    ours = teaching_model.trace(pixels, Intervention(no_pos_embed=True))
    assert torch.allclose(ours.logits, ref.logits, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(ours.attentions, ref.attentions))


def test_parity_ablated_heads(teaching_model, pixels):
    """A forward pre-hook on transformers' output projection zeroes the heads' slices of its input."""
    hf = transformers.ViTForImageClassification.from_pretrained(TEACHING, attn_implementation="eager").eval()
    d = teaching_model.config.head_dim
    heads = ((1, 0), (4, 3), (4, 1))
    hooks = []
    for layer in {layer for layer, _ in heads}:
        dead = [h for l, h in heads if l == layer]

        def zero(module, args, dead=dead):
            x = args[0].clone()
            for h in dead:
                x[..., h * d:(h + 1) * d] = 0
            return (x,)
        hooks.append(hf.vit.layers[layer].attention.o_proj.register_forward_pre_hook(zero))
    with torch.no_grad():
        ref = hf(pixel_values=pixels, output_hidden_states=True)
    for h in hooks:
        h.remove()
    ours = teaching_model.trace(pixels, Intervention(ablate=heads))
    assert torch.allclose(ours.logits, ref.logits, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(ours.hidden_states, ref.hidden_states))


def test_parity_shuffled_and_masked_patches(teaching_model, pixels):
    """transformers gets the pixel tiles moved and blanked by hand; our flags give the same input and numbers."""
    P, g = 4, 7
    mask, seed = (0, 8, 24, 40), 3
    tiles = rearrange(pixels, "b c (h p1) (w p2) -> b (h w) c p1 p2", p1=P, p2=P).clone()
    tiles[:, list(mask)] = 0
    tiles = tiles[:, torch.from_numpy(permutation(g * g, seed))]
    by_hand = rearrange(tiles, "b (h w) c p1 p2 -> b c (h p1) (w p2)", h=g)
    ref = hf_outputs(TEACHING, by_hand)
    ours = teaching_model.trace(pixels, Intervention(mask=mask, shuffle_seed=seed))
    assert torch.equal(ours.pixel_values, by_hand)
    assert torch.allclose(ours.logits, ref.logits, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(ours.attentions, ref.attentions))
    assert np.array_equal(ours.permutation.numpy(), permutation(g * g, seed))
