"""Eq. 1, first half: cut the image into P×P patches and flatten each one.

Three ways that give the same numbers — a loop, einops, and a strided Conv2d — and the one permutation that
relates their orders: einops flattens a patch as (p1 p2 c), row by row with the three colours of each pixel
together; Conv2d weights and the loop below flatten it as (c p1 p2), one whole colour plane after another.
"""
from __future__ import annotations

import torch
from einops import rearrange
from torch import nn


def patchify_loop(x: torch.Tensor, p: int) -> torch.Tensor:
    """The plain way: visit the grid cell by cell, row-major, and flatten each patch in (c p1 p2) order."""
    B, C, H, W = x.shape
    patches = []
    for row in range(H // p):
        for col in range(W // p):
            patch = x[:, :, row * p:(row + 1) * p, col * p:(col + 1) * p]  # (B, C, P, P)
            patches.append(patch.reshape(B, C * p * p))  # (B, C·P·P)
    return torch.stack(patches, dim=1)  # (B, N, C·P·P)


def patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """The einops way, in (p1 p2 c) order: the input of the patch embedding E."""
    return rearrange(x, "b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=p, p2=p)  # (B, N, P·P·C)


def unpatchify(patches: torch.Tensor, p: int, channels: int = 3) -> torch.Tensor:
    """The exact inverse of `patchify` for a square grid."""
    h = w = int(round((patches.shape[1]) ** 0.5))
    return rearrange(patches, "b (h w) (p1 p2 c) -> b c (h p1) (w p2)", h=h, w=w, p1=p, p2=p, c=channels)  # (B, C, H, W)


def patchify_conv(x: torch.Tensor, p: int) -> torch.Tensor:
    """The Conv2d way: kernel = stride = P with one-hot filters copies each patch out, in (c p1 p2) order.

    A real ViT uses this layer with learned filters, which computes patchify and E in one step."""
    C = x.shape[1]
    conv = nn.Conv2d(C, C * p * p, kernel_size=p, stride=p, bias=False)
    conv.weight.data = torch.eye(C * p * p, dtype=x.dtype).reshape(C * p * p, C, p, p)  # filter k picks value k
    out = conv(x)  # (B, C·P·P, H/P, W/P)
    return rearrange(out, "b d h w -> b (h w) d")  # (B, N, C·P·P)


def cpp_to_ppc(p: int, channels: int = 3) -> torch.Tensor:
    """Index permutation: `patches_cpp[..., perm]` gives the same patches in (p1 p2 c) order."""
    idx = torch.arange(channels * p * p).reshape(channels, p, p)  # position of each value in (c p1 p2) order
    return rearrange(idx, "c p1 p2 -> (p1 p2 c)")  # (P·P·C,)


def ppc_to_cpp(p: int, channels: int = 3) -> torch.Tensor:
    """The inverse permutation: `patches_ppc[..., perm]` gives (c p1 p2) order."""
    return torch.argsort(cpp_to_ppc(p, channels))


def compare_methods(x: torch.Tensor, p: int) -> dict[str, float]:
    """Largest absolute difference between the three methods, once the loop and conv outputs are permuted."""
    ppc = patchify(x, p)
    perm = cpp_to_ppc(p, x.shape[1])
    loop, conv = patchify_loop(x, p), patchify_conv(x, p)
    return {
        "loop_vs_einops": (loop[..., perm] - ppc).abs().max().item(),
        "conv_vs_einops": (conv[..., perm] - ppc).abs().max().item(),
        "loop_vs_conv": (loop - conv).abs().max().item(),
        "einops_vs_loop_unpermuted": (loop - ppc).abs().max().item(),
    }


def value_name(index: int, p: int, channels: int = 3, order: str = "p1 p2 c") -> tuple[int, int, int]:
    """(row, col, channel) inside the patch of value `index` of a flattened patch."""
    if order == "p1 p2 c":
        return index // (p * channels), (index // channels) % p, index % channels
    return (index // p) % p, index % p, index // (p * p)
