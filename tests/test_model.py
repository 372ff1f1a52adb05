import dataclasses
import threading

import pytest
import torch
import torch.nn.functional as F

from vit_core import Trace, attention, explain_block


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


def test_attention_function_matches_fused_kernel():
    q, k, v = torch.randn(3, 2, 4, 50, 16).unbind(0)
    out, probs = attention(q, k, v)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v), atol=1e-6)
    assert torch.allclose(probs.sum(-1), torch.ones(2, 4, 50), atol=1e-6)


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


def test_to_numpy_stacks_layers(tiny_model, pixels):
    arrays = tiny_model.trace(pixels).to_numpy()
    assert arrays["attentions"].shape == (2, 2, 3, 50, 50)
    assert arrays["hidden_states"].shape == (3, 2, 50, 24)
    assert all(a.dtype.name == "float32" for a in arrays.values())
    assert set(arrays) == {f.name for f in dataclasses.fields(Trace)}
