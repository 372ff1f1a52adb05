"""vit_core.analysis helpers of the attention explorer: head_average and pool_attention."""
import numpy as np
import pytest
import torch

from vit_core.analysis import head_average, pool_attention


def rows(T: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(T, T, generator=torch.Generator().manual_seed(seed)).softmax(dim=-1)  # (T, T)


def test_head_average_is_the_mean_over_heads_and_rows_still_sum_to_one(tiny_model, pixels):
    attn = tiny_model.trace(pixels).attentions[0][0]  # (H, T, T)
    avg = head_average(attn)
    assert avg.shape == attn.shape[1:]
    assert torch.allclose(avg, sum(attn) / len(attn), atol=1e-6)
    assert torch.allclose(avg.sum(-1), torch.ones(avg.shape[0]), atol=1e-5)


def test_pool_block_one_changes_nothing():
    a = rows(50)
    assert torch.equal(pool_attention(a, 1), a)
    assert torch.equal(pool_attention(a, 1, "amax"), a)


@pytest.mark.parametrize("T, block", [(197, 2), (50, 2), (50, 3), (10, 4)])
def test_pool_shapes_keep_cls_and_cover_every_patch(T, block):
    a = rows(T)
    p = pool_attention(a, block)
    G = 1 + -(-(T - 1) // block)
    assert p.shape == (G, G)
    assert p[0, 0] == a[0, 0]  # cls → cls kept as it is
    # the mean of a tile times its size gives back the tile's total: nothing is lost or counted twice
    sizes = torch.tensor([1] + [min(block, T - 1 - g * block) for g in range(G - 1)], dtype=a.dtype)
    assert torch.allclose((p * sizes[:, None] * sizes[None, :]).sum(), a.sum(), atol=1e-4)


def test_pool_tiles_are_means_or_maxima_of_the_right_weights():
    a = rows(12, seed=3)  # N = 11 patch tokens: runs 1–3, 4–6, 7–9, 10–11 with block 3
    mean, peak = pool_attention(a, 3), pool_attention(a, 3, "amax")
    n = a.numpy()
    assert np.isclose(mean[1, 2], n[1:4, 4:7].mean())
    assert np.isclose(mean[4, 4], n[10:12, 10:12].mean())  # the short last run
    assert np.isclose(mean[0, 2], n[0, 4:7].mean())  # cls row
    assert np.isclose(mean[3, 0], n[7:10, 0].mean())  # cls column
    assert np.isclose(peak[2, 4], n[4:7, 10:12].max())
    assert np.isclose(peak[0, 1], n[0, 1:4].max())
