import pytest
import torch

from vit_core.patches import (compare_methods, cpp_to_ppc, patchify, patchify_conv, patchify_loop, ppc_to_cpp,
                              unpatchify, value_name)


def test_shapes(pixels):
    assert patchify(pixels, 4).shape == (2, 49, 48)
    assert patchify_loop(pixels, 4).shape == (2, 49, 48)
    assert patchify_conv(pixels, 4).shape == (2, 49, 48)
    assert patchify(torch.zeros(1, 3, 224, 224), 16).shape == (1, 196, 768)


@pytest.mark.parametrize("p", [2, 4, 7, 14])
def test_three_methods_agree_up_to_the_permutation(pixels, p):
    diffs = compare_methods(pixels, p)
    assert diffs["loop_vs_einops"] == 0
    assert diffs["conv_vs_einops"] < 1e-6
    assert diffs["loop_vs_conv"] < 1e-6
    assert diffs["einops_vs_loop_unpermuted"] > 0.1  # the orders really differ: the permutation is needed


def test_permutations_are_inverse():
    perm, inv = cpp_to_ppc(4), ppc_to_cpp(4)
    assert sorted(perm.tolist()) == list(range(48))
    assert torch.equal(perm[inv], torch.arange(48))
    x = torch.randn(1, 49, 48)
    assert torch.equal(x[..., inv][..., perm], x)


def test_unpatchify_inverts_patchify(pixels):
    assert torch.equal(unpatchify(patchify(pixels, 4), 4), pixels)
    big = torch.randn(1, 3, 224, 224)
    assert torch.equal(unpatchify(patchify(big, 16), 16), big)


def test_patch_k_is_grid_cell_k():
    x = torch.randn(1, 3, 28, 28)
    patches = patchify(x, 4)
    for k in range(49):
        r, c = k // 7, k % 7
        cell = x[0, :, 4 * r:4 * r + 4, 4 * c:4 * c + 4]  # (C, P, P)
        assert torch.equal(patches[0, k], cell.permute(1, 2, 0).reshape(-1))  # (p1 p2 c)
    # and a single bright pixel lands in the right patch, at the right place
    y = torch.zeros(1, 3, 28, 28)
    y[0, 2, 9, 22] = 1.0  # blue channel, row 9, column 22 → cell (2, 5) = patch 19, at (1, 2) inside it
    k, i = (patchify(y, 4)[0] == 1).nonzero()[0].tolist()
    assert k == 2 * 7 + 5
    assert value_name(i, 4) == (1, 2, 2)
    assert value_name(cpp_to_ppc(4)[i].item(), 4, order="c p1 p2") == (1, 2, 2)  # same value, (c p1 p2) index
