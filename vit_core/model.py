"""The Vision Transformer of Dosovitskiy et al. (ICLR 2021), Eq. 1–4, written to be read.

    z0 = [x_class; x_p¹E; x_p²E; …; x_pᴺE] + E_pos                    (1)
    z'_l = MSA(LN(z_{l-1})) + z_{l-1}                                 (2)
    z_l = MLP(LN(z'_l)) + z'_l                                        (3)
    y = LN(z_L⁰)                                                      (4)

`model(pixels)` returns logits; `model.trace(pixels)` runs the same steps and returns every intermediate. Both take an
`Intervention` (vit_core/interventions.py): masked or shuffled patches, no position embeddings, ablated heads — flags
on the same code, never hooks. Nothing is stored on the modules during a forward pass, so one model can serve many
threads at once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .config import ViTConfig
from .interventions import NOISE_SEED, Intervention, permutation
from .patches import patchify


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(QKᵀ / √d) · V, returning the output and the attention probabilities."""
    scores = (q / math.sqrt(q.shape[-1])) @ k.transpose(-2, -1)  # (B, H, T, T) = QKᵀ/√d, scaling the smaller Q
    probs = scores.softmax(dim=-1)  # each row sums to 1
    return probs @ v, probs  # (B, H, T, d), (B, H, T, T)


def apply_to_pixels(pixel_values: torch.Tensor, patch_size: int, iv: Intervention
                    ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The model's input after masking, then shuffling: (B, C, S, S) normalised → the same shape, and the
    permutation (None when not shuffled)."""
    if not iv.changes_input:
        return pixel_values, None
    P = patch_size
    g = pixel_values.shape[-1] // P
    tiles = rearrange(pixel_values, "b c (h p1) (w p2) -> b (h w) c p1 p2", p1=P, p2=P).clone()
    if iv.mask:
        index = torch.tensor(iv.mask)
        if iv.fill == "mean":
            tiles[:, index] = 0.0
        elif iv.fill == "blur":
            tiles[:, index] = tiles[:, index].mean(dim=(-2, -1), keepdim=True).expand_as(tiles[:, index])
        else:
            noise = torch.randn(tiles[:, index].shape, generator=torch.Generator().manual_seed(NOISE_SEED))
            tiles[:, index] = noise.to(tiles.dtype)
    perm = None
    if iv.shuffle_seed is not None:
        perm = torch.from_numpy(permutation(g * g, iv.shuffle_seed))
        tiles = tiles[:, perm]
    return rearrange(tiles, "b (h w) c p1 p2 -> b c (h p1) (w p2)", h=g, w=g), perm


def head_keep(layers: int, heads: int, ablate: tuple[tuple[int, int], ...]) -> torch.Tensor | None:
    """(L, H) of 1.0 (kept) and 0.0 (ablated); None when no head is ablated."""
    if not ablate:
        return None
    keep = torch.ones(layers, heads)
    for layer, head in ablate:
        keep[layer, head] = 0.0
    return keep


class MultiHeadAttention(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        D, self.heads = cfg.hidden_size, cfg.num_attention_heads
        self.q = nn.Linear(D, D, bias=cfg.qkv_bias)
        self.k = nn.Linear(D, D, bias=cfg.qkv_bias)
        self.v = nn.Linear(D, D, bias=cfg.qkv_bias)
        self.proj = nn.Linear(D, D)

    def qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        split = lambda t: rearrange(t, "b t (h d) -> b h t d", h=self.heads)  # noqa: E731
        return split(self.q(x)), split(self.k(x)), split(self.v(x))  # 3 × (B, H, T, d)

    def forward(self, x: torch.Tensor, need_probs: bool = False, keep: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`keep` (H,) of 1.0 and 0.0: an ablated head's share of attention × V is zeroed before the projection."""
        q, k, v = self.qkv(x)
        if need_probs:
            out, probs = attention(q, k, v)
        else:  # the same maths in one fused kernel, when nobody looks at the probabilities
            out, probs = F.scaled_dot_product_attention(q, k, v), None
        if keep is not None:
            out = out * keep.to(out.dtype)[None, :, None, None]  # (B, H, T, d): ablated heads give 0
        out = rearrange(out, "b h t d -> b t (h d)")  # (B, T, D): heads concatenated
        return self.proj(out), probs


class MLP(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.fc1 = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.fc2 = nn.Linear(cfg.intermediate_size, cfg.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))  # GELU (paper §3.1), the exact erf form (transformers' ViTConfig)


class Block(nn.Module):
    """Pre-norm encoder block: LayerNorm comes before attention and before the MLP (Eq. 2–3)."""

    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.attn = MultiHeadAttention(cfg)
        self.norm2 = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor, need_probs: bool = False, keep: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        a, probs = self.attn(self.norm1(x), need_probs, keep)
        x = x + a  # (2) residual around attention
        x = x + self.mlp(self.norm2(x))  # (3) residual around the MLP
        return x, probs


@dataclass(frozen=True)
class Trace:
    """Every intermediate of one forward pass. Shapes for the teaching model (B=1, N=49, D=64, H heads, L layers)."""

    pixel_values: torch.Tensor  # (B, 3, 28, 28), normalised, exactly as the model saw them (after masking, shuffling)
    patches: torch.Tensor  # (B, N, P·P·C) in (p1 p2 c) order
    patch_embeddings: torch.Tensor  # (B, N, D) = patches · E
    tokens_with_cls: torch.Tensor  # (B, N+1, D), cls token prepended
    tokens: torch.Tensor  # (B, N+1, D), position embeddings added: z0
    attentions: tuple[torch.Tensor, ...]  # L × (B, H, N+1, N+1), post-softmax
    hidden_states: tuple[torch.Tensor, ...]  # (L+1) × (B, N+1, D): z0, z1, …, zL
    logits: torch.Tensor | None  # (B, classes), None for a model without a head
    permutation: torch.Tensor | None = None  # (N,) when shuffled: the original patch now at position i

    def numpy(self) -> TraceArrays:
        """The same intermediates as float32 numpy arrays, attentions and hidden states stacked along a leading
        layer axis, every array read-only (one trace may be shared by many readers)."""
        arrays = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = torch.stack(value)  # L × (B, …) → (L, B, …)
            if value is not None:
                value = value.detach().cpu()
                value = _frozen((value if f.name == "permutation" else value.float()).numpy())
            arrays[f.name] = value
        return TraceArrays(**arrays)

    def save_npz(self, file, labels: tuple[str, ...] = (), intervention: Intervention | None = None) -> None:
        """The documented .npz (see TraceArrays.save_npz)."""
        self.numpy().save_npz(file, labels, intervention)


@dataclass(frozen=True)
class TraceArrays:
    """A Trace as read-only float32 numpy arrays, layers stacked first (B=1 for one picture)."""

    pixel_values: np.ndarray  # (B, 3, S, S)
    patches: np.ndarray  # (B, N, P·P·C)
    patch_embeddings: np.ndarray  # (B, N, D)
    tokens_with_cls: np.ndarray  # (B, N+1, D)
    tokens: np.ndarray  # (B, N+1, D) = z0
    attentions: np.ndarray  # (L, B, H, N+1, N+1)
    hidden_states: np.ndarray  # (L+1, B, N+1, D)
    logits: np.ndarray | None  # (B, classes), None for a model without a head
    permutation: np.ndarray | None = None  # (N,) int64 when shuffled: the original patch now at position i

    def save_npz(self, file, labels: tuple[str, ...] = (), intervention: Intervention | None = None) -> None:
        """The documented .npz: every array except tokens_with_cls (z0 minus E_pos, no new information), plus the
        class names, and what an intervention did (Intervention.describe). The same keys as
        `python -m vit_core trace`."""
        keep = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name != "tokens_with_cls" and getattr(self, f.name) is not None}
        done = intervention.describe() if intervention is not None and not intervention.is_none else {}
        np.savez_compressed(file, **keep, **done, labels=np.array(labels, dtype=str))


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


class ViT(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.config = cfg
        D = cfg.hidden_size
        self.patch_embed = nn.Linear(cfg.patch_dim, D)  # E: one P·P·C patch → D numbers
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))  # x_class, learned
        self.pos_embed = nn.Parameter(torch.zeros(1, cfg.num_tokens, D))  # E_pos, learned, 1-D
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = nn.LayerNorm(D, eps=cfg.layer_norm_eps)
        self.head = nn.Linear(D, cfg.num_labels) if cfg.num_labels else None

    def embed(self, pixel_values: torch.Tensor, pos_embed: bool = True) -> tuple[torch.Tensor, ...]:
        """Eq. 1: patches → E → prepend cls → add positions (skipped when `pos_embed` is False: an experiment)."""
        patches = patchify(pixel_values, self.config.patch_size)  # (B, N, P·P·C)
        patch_embeddings = self.patch_embed(patches)  # (B, N, D)
        cls = self.cls_token.expand(len(pixel_values), -1, -1)  # (B, 1, D): one copy per image
        with_cls = torch.cat([cls, patch_embeddings], dim=1)  # (B, N+1, D)
        tokens = with_cls + self.pos_embed if pos_embed else with_cls  # (B, N+1, D): E_pos broadcast over the batch
        return patches, patch_embeddings, with_cls, tokens

    def classify(self, hidden: torch.Tensor) -> torch.Tensor:
        """Eq. 4 and the head: LayerNorm of the cls token, then a linear layer. Without a head: the features."""
        y = self.norm(hidden[:, 0])  # (B, D)
        return self.head(y) if self.head is not None else y  # (B, classes)

    def forward(self, pixel_values: torch.Tensor, intervention: Intervention | None = None) -> torch.Tensor:
        iv = self._checked(intervention)
        pixel_values, _ = apply_to_pixels(pixel_values, self.config.patch_size, iv)
        *_, x = self.embed(pixel_values, pos_embed=not iv.no_pos_embed)
        keep = head_keep(len(self.blocks), self.config.num_attention_heads, iv.ablate)
        for i, block in enumerate(self.blocks):
            x, _ = block(x, keep=None if keep is None else keep[i])
        return self.classify(x)

    @torch.no_grad()
    def trace(self, pixel_values: torch.Tensor, intervention: Intervention | None = None) -> Trace:
        """The forward pass above, keeping every intermediate and every attention matrix. With an intervention,
        `pixel_values` in the trace is the input after masking and shuffling, as the model saw it."""
        iv = self._checked(intervention)
        pixel_values, perm = apply_to_pixels(pixel_values, self.config.patch_size, iv)
        patches, patch_embeddings, with_cls, x = self.embed(pixel_values, pos_embed=not iv.no_pos_embed)
        keep = head_keep(len(self.blocks), self.config.num_attention_heads, iv.ablate)
        hidden, attentions = [x], []
        for i, block in enumerate(self.blocks):
            x, probs = block(x, need_probs=True, keep=None if keep is None else keep[i])
            hidden.append(x)
            attentions.append(probs)
        logits = self.classify(x) if self.head is not None else None
        return Trace(pixel_values, patches, patch_embeddings, with_cls, hidden[0],
                     tuple(attentions), tuple(hidden), logits, perm)

    def _checked(self, intervention: Intervention | None) -> Intervention:
        iv = intervention or Intervention()
        if not iv.is_none:
            iv.check(self.config.num_patches, len(self.blocks), self.config.num_attention_heads)
        return iv


@dataclass(frozen=True)
class BlockTrace:
    """Inside one encoder block, for the lesson on a single layer (B, T tokens, H heads of width d)."""

    x: torch.Tensor  # (B, T, D) input z_{l-1}
    ln1: torch.Tensor  # (B, T, D)
    q: torch.Tensor  # (B, H, T, d)
    k: torch.Tensor  # (B, H, T, d)
    v: torch.Tensor  # (B, H, T, d)
    scores: torch.Tensor  # (B, H, T, T) = QKᵀ/√d
    probs: torch.Tensor  # (B, H, T, T) = softmax(scores)
    heads_out: torch.Tensor  # (B, H, T, d) = probs · V
    attn_out: torch.Tensor  # (B, T, D) after concat and projection
    after_attn: torch.Tensor  # (B, T, D) z'_l = x + attn_out
    ln2: torch.Tensor  # (B, T, D)
    mlp_hidden: torch.Tensor  # (B, T, MLP) after GELU
    mlp_out: torch.Tensor  # (B, T, D)
    out: torch.Tensor  # (B, T, D) z_l


@torch.no_grad()
def explain_block(block: Block, x: torch.Tensor) -> BlockTrace:
    """Block.forward, one line per named step."""
    ln1 = block.norm1(x)  # (B, T, D)
    q, k, v = block.attn.qkv(ln1)  # 3 × (B, H, T, d)
    scores = (q / math.sqrt(q.shape[-1])) @ k.transpose(-2, -1)  # (B, H, T, T) = QKᵀ/√d, scaling the smaller Q
    probs = scores.softmax(dim=-1)  # (B, H, T, T)
    heads_out = probs @ v  # (B, H, T, d)
    attn_out = block.attn.proj(rearrange(heads_out, "b h t d -> b t (h d)"))  # (B, T, D)
    after_attn = x + attn_out  # (B, T, D)
    ln2 = block.norm2(after_attn)  # (B, T, D)
    mlp_hidden = F.gelu(block.mlp.fc1(ln2))  # (B, T, MLP)
    mlp_out = block.mlp.fc2(mlp_hidden)  # (B, T, D)
    return BlockTrace(x, ln1, q, k, v, scores, probs, heads_out, attn_out, after_attn, ln2, mlp_hidden,
                      mlp_out, after_attn + mlp_out)


def init_weights(model: ViT, seed: int = 0) -> ViT:
    """Truncated-normal init (std 0.02) as in the paper's reference code; zero biases, unit LayerNorms."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if p.ndim == 1:
            nn.init.ones_(p) if "norm" in name and name.endswith("weight") else nn.init.zeros_(p)
        else:
            nn.init.trunc_normal_(p, std=0.02, a=-0.04, b=0.04, generator=g)
    return model
