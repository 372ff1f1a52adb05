import dataclasses
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vit_core import Trace, attention, explain_block
from vit_core.interventions import Intervention
from vit_core.model import TraceArrays

from tests.core.test_reference import random_vit, reference_forward


def test_trace_shapes(tiny_model, pixels):
    cfg = tiny_model.config
    D, H, L = cfg.hidden_size, cfg.num_attention_heads, cfg.num_hidden_layers
    t = tiny_model.trace(pixels)
    assert t.pixel_values.shape == (2, 3, 28, 28)
    assert t.patches.shape == (2, 49, 48)
    assert t.patch_embeddings.shape == (2, 49, D)
    assert t.tokens_with_cls.shape == t.tokens.shape == (2, 50, D)
    assert len(t.attentions) == L and all(a.shape == (2, H, 50, 50) for a in t.attentions)
    assert len(t.hidden_states) == L + 1 and all(h.shape == (2, 50, D) for h in t.hidden_states)
    assert t.logits.shape == (2, 5)


def test_attention_rows_sum_to_one(tiny_model, pixels):
    for a in tiny_model.trace(pixels).attentions:
        assert torch.allclose(a.sum(-1), torch.ones(a.shape[:-1]), atol=1e-6)
        assert (a >= 0).all()


def test_trace_equals_forward(tiny_model, pixels):
    t = tiny_model.trace(pixels)
    with torch.no_grad():
        logits = tiny_model(pixels)
    assert torch.allclose(t.logits, logits, atol=1e-6)
    assert torch.equal(t.hidden_states[0], t.tokens)


def test_embedding_steps(tiny_model, pixels):
    t = tiny_model.trace(pixels)
    assert torch.equal(t.tokens_with_cls[:, 0], tiny_model.cls_token[0].expand(2, -1))  # cls prepended
    assert torch.equal(t.tokens_with_cls[:, 1:], t.patch_embeddings)
    assert torch.allclose(t.tokens - t.tokens_with_cls, tiny_model.pos_embed.expand(2, -1, -1), atol=1e-6)
    W, b = tiny_model.patch_embed.weight, tiny_model.patch_embed.bias
    assert torch.allclose(t.patch_embeddings, t.patches @ W.T + b, atol=1e-6)  # x_p · E


@pytest.mark.parametrize("heads, tokens, d", [(4, 50, 16), (12, 197, 64)])  # teaching model; ViT-B/16 (196 + cls)
def test_attention_function_matches_fused_kernel(heads, tokens, d):
    q, k, v = torch.randn(3, 2, heads, tokens, d, generator=torch.Generator().manual_seed(0)).unbind(0)
    out, probs = attention(q, k, v)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v), atol=1e-6)
    assert torch.allclose(probs.sum(-1), torch.ones(2, heads, tokens), atol=1e-6)


def test_fused_forward_matches_trace_and_reference_at_197_tokens():
    """model(x) runs the fused kernel; trace and the reference forward the explicit softmax. ViT-B/16-shaped, narrow."""
    model = random_vit(seed=0, image_size=224, patch_size=16, hidden_size=96, num_hidden_layers=3,
                       num_attention_heads=12, intermediate_size=192, labels=tuple("abcdefghij"))
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        fused = model(x)
    t = model.trace(x)
    assert t.attentions[0].shape == (2, 12, 197, 197)
    torch.testing.assert_close(fused, t.logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fused, reference_forward(model, x)[0], atol=1e-5, rtol=1e-5)


def test_explain_block_matches_the_block(tiny_model, pixels):
    t = tiny_model.trace(pixels)
    for i, block in enumerate(tiny_model.blocks):
        bt = explain_block(block, t.hidden_states[i])
        assert torch.allclose(bt.out, t.hidden_states[i + 1], atol=1e-5)
        assert torch.allclose(bt.probs, t.attentions[i], atol=1e-6)
        assert torch.allclose(bt.scores.softmax(-1), bt.probs)
        assert bt.q.shape == (2, 3, 50, 8) and bt.mlp_hidden.shape == (2, 50, 48)


def test_trace_is_frozen_and_leaves_the_model_untouched(tiny_model, pixels):
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    attrs = {name: set(vars(m)) for name, m in tiny_model.named_modules()}
    t = tiny_model.trace(pixels)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.logits = None
    assert {name: set(vars(m)) for name, m in tiny_model.named_modules()} == attrs
    assert all(torch.equal(v, before[k]) for k, v in tiny_model.state_dict().items())


def test_concurrent_traces_do_not_mix(tiny_model):
    inputs = [torch.randn(1, 3, 28, 28, generator=torch.Generator().manual_seed(i)) for i in range(8)]
    expected = [tiny_model.trace(x).attentions[-1] for x in inputs]
    results = [None] * 8

    def run(i):
        for _ in range(5):
            results[i] = tiny_model.trace(inputs[i]).attentions[-1]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(torch.equal(r, e) for r, e in zip(results, expected))


def test_numpy_stacks_layers_and_is_read_only(tiny_model, pixels):
    t = tiny_model.trace(pixels)
    arrays = t.numpy()
    assert [f.name for f in dataclasses.fields(TraceArrays)] == [f.name for f in dataclasses.fields(Trace)]
    assert arrays.attentions.shape == (2, 2, 3, 50, 50) and arrays.hidden_states.shape == (3, 2, 50, 24)
    np.testing.assert_array_equal(arrays.attentions[1], t.attentions[1].numpy())
    assert arrays.permutation is None  # not shuffled
    for f in dataclasses.fields(arrays):
        value = getattr(arrays, f.name)
        assert f.name == "permutation" or (value.dtype == np.float32 and not value.flags.writeable)
    shuffled = tiny_model.trace(pixels, Intervention(shuffle_seed=1)).numpy().permutation
    assert shuffled.dtype == np.int64 and not shuffled.flags.writeable and sorted(shuffled) == list(range(49))


def test_npz_has_the_documented_keys(tiny_model, pixels, tmp_path):
    tiny_model.trace(pixels).save_npz(tmp_path / "t.npz", ("a", "b", "c", "d", "e"))
    with np.load(tmp_path / "t.npz") as z:
        assert set(z.files) == {"pixel_values", "patches", "patch_embeddings", "tokens", "attentions",
                                "hidden_states", "logits", "labels"}
        assert list(z["labels"]) == ["a", "b", "c", "d", "e"] and z["attentions"].shape == (2, 2, 3, 50, 50)
