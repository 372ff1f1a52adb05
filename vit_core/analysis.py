"""What the app draws from a trace: rollout, attention distances, embedding similarities, per-layer predictions.

Every function takes plain tensors (one image: no batch axis unless stated) and returns tensors.
"""
from __future__ import annotations

import torch

from .model import ViT


def attention_rollout(attentions: list[torch.Tensor] | tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Abnar & Zuidema (2020): mean over heads, add the identity for the residual, renormalise rows,
    multiply through the layers. attentions: L × (H, T, T) → (L, T, T), the rollout after each layer."""
    T = attentions[0].shape[-1]
    eye = torch.eye(T, dtype=attentions[0].dtype)
    joint, out = eye, []
    for a in attentions:
        a = a.mean(dim=0) + eye  # (T, T): heads averaged, residual added
        a = a / a.sum(dim=-1, keepdim=True)  # rows sum to 1 again
        joint = a @ joint  # (T, T)
        out.append(joint)
    return torch.stack(out)  # (L, T, T)


def patch_centres(grid: int, patch_size: int) -> torch.Tensor:
    """(N, 2) pixel coordinates (row, col) of the centre of every patch, row-major."""
    r, c = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    return (torch.stack([r, c], dim=-1).reshape(-1, 2).float() + 0.5) * patch_size


def mean_attention_distance(attn: torch.Tensor, grid: int, patch_size: int) -> torch.Tensor:
    """Paper Fig. 7 (right): for each head, the average image-space distance (pixels) between a query patch and
    the patches it attends to, weighted by attention. The cls token is left out as query and as key, and the
    weights over patch keys are renormalised to sum to 1. attn: (H, T, T) → (H,)."""
    centres = patch_centres(grid, patch_size)
    dist = torch.cdist(centres, centres)  # (N, N) in pixels
    w = attn[:, 1:, 1:]  # (H, N, N): patches attending to patches
    w = w / w.sum(dim=-1, keepdim=True).clamp_min(1e-12)
    return (w * dist).sum(dim=-1).mean(dim=-1)  # (H,)


def position_similarity(pos_embed: torch.Tensor, grid: int) -> torch.Tensor:
    """Paper Fig. 7 (centre): cosine similarity of each patch's position embedding with every other one.
    pos_embed: (1, N+1, D) → (grid, grid, grid, grid); [r, c] is the map for the patch at row r, column c."""
    p = torch.nn.functional.normalize(pos_embed[0, 1:], dim=-1)  # (N, D), cls position left out
    return (p @ p.T).reshape(grid, grid, grid, grid)


def embedding_filters_pca(model: ViT, k: int = 28) -> tuple[torch.Tensor, torch.Tensor]:
    """Paper Fig. 7 (left): the principal components of the patch-embedding filters E.
    Returns (k, P, P, C) components scaled to [0, 1] each, and the fraction of variance each explains."""
    cfg = model.config
    w = model.patch_embed.weight.detach()  # (D, P·P·C): one filter per output dimension, in (p1 p2 c) order
    w = w - w.mean(dim=0, keepdim=True)
    _, s, vt = torch.linalg.svd(w, full_matrices=False)  # rows of vt: components over P·P·C
    k = min(k, vt.shape[0])
    comps = vt[:k].reshape(k, cfg.patch_size, cfg.patch_size, cfg.num_channels)
    lo = comps.amin(dim=(1, 2, 3), keepdim=True)
    hi = comps.amax(dim=(1, 2, 3), keepdim=True)
    explained = s**2 / (s**2).sum()
    return (comps - lo) / (hi - lo).clamp_min(1e-12), explained[:k]


@torch.no_grad()
def layer_predictions(model: ViT, hidden_states: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The final LayerNorm and head applied to the cls token after every layer: (L+1, B, classes) probabilities.
    Only meaningful for the last layer by training; the earlier ones show how the answer forms."""
    return torch.stack([model.classify(h).softmax(dim=-1) for h in hidden_states])


def patch_map(row: torch.Tensor, grid: int) -> torch.Tensor:
    """A (T,) attention row (cls first) → the (grid, grid) map over the image patches."""
    return row[1:].reshape(grid, grid)


def token_norms(x: torch.Tensor) -> torch.Tensor:
    """The length (L2 norm) of every token's vector: (..., T, D) → (..., T).
    How much each token carries at one point of a block; the residual stream grows as blocks add to it."""
    return torch.linalg.vector_norm(x.float(), dim=-1)  # (..., T)


def head_average(attn: torch.Tensor) -> torch.Tensor:
    """What one layer's heads do together: the mean of its H attention matrices. (H, T, T) → (T, T).
    Rows still sum to 1, because every head's rows do."""
    return attn.mean(dim=0)  # (T, T)


def pool_attention(attn: torch.Tensor, block: int, reduce: str = "mean") -> torch.Tensor:
    """A (T, T) attention matrix made smaller for display. The cls row and column stay as they are; the N patch
    tokens are taken in runs of `block` consecutive tokens (neighbours along an image row), and every tile of
    block × block weights becomes its mean ("mean") or its largest weight ("amax"). The last run may be shorter.
    (T, T) → (1 + ⌈N / block⌉, 1 + ⌈N / block⌉)."""
    T = attn.shape[-1]
    group = torch.cat([torch.zeros(1, dtype=torch.long), torch.arange(T - 1) // block + 1])  # (T,): cls is group 0
    G = int(group[-1]) + 1
    by_row = group[:, None].expand(T, T)  # (T, T): the group of each weight's query
    rows = attn.new_zeros(G, T).scatter_reduce(0, by_row, attn, reduce, include_self=False)  # (G, T)
    by_col = group.expand(G, T)  # (G, T): the group of each weight's key
    return attn.new_zeros(G, G).scatter_reduce(1, by_col, rows, reduce, include_self=False)  # (G, G)
