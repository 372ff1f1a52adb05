"""Inside every token (issue 27): three lenses over the trace of one picture, each a pure function that returns a
frozen record of read-only numpy arrays.

- `logit_lens`: the model's own final LayerNorm and head (Eq. 4, `ViT.classify`) read from every token after every
  layer, where the model itself reads only the cls token after the last;
- `similarity`: how alike the tokens are, pair by pair (cosine), layer by layer;
- `residual_stream`: how long each token's vector is, and how much each block's attention and MLP added to it
  (Eq. 2–3: z'_ℓ = MSA(LN(z_{ℓ-1})) + z_{ℓ-1}, z_ℓ = MLP(LN(z'_ℓ)) + z'_ℓ).

Each reads a `Trace` (tensors, from model.trace) or its `TraceArrays` (numpy, what the app's analysis keeps) of one
picture (B = 1). Layer 0 is z_0, the embeddings before the first block; token 0 is cls, then the N patches row-major.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange

from .analysis import token_norms
from .errors import NoHead
from .interventions import Intervention
from .model import Block, Trace, TraceArrays, ViT, head_keep


def one_picture(layers: tuple[torch.Tensor, ...] | np.ndarray) -> torch.Tensor:
    """A trace's hidden states or attentions, layers stacked, for its one picture: (layers, B=1, …) → (layers, …)."""
    x = torch.stack(layers) if isinstance(layers, tuple) else torch.from_numpy(np.array(layers))  # (layers, B, …)
    if x.shape[1] != 1:
        raise ValueError(f"a lens reads the trace of one picture (B = 1), not of {x.shape[1]}")
    return x[:, 0].float()  # (layers, …)


def _read_only(x: torch.Tensor) -> np.ndarray:
    array = x.detach().numpy()
    array.setflags(write=False)  # one record may be shared by every learner looking at the same picture
    return array


# ---- 1. the logit lens -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogitLens:
    logits: np.ndarray  # (L+1, T, C): what the final LayerNorm and the head read from every token after every layer
    votes: np.ndarray  # (L+1, T) int64: the class each token would vote for
    prediction: int  # the model's answer: the cls token's vote after the last layer
    agreement: np.ndarray  # (L+1,): the share of the N patch tokens that vote for `prediction`


@torch.no_grad()
def logit_lens(model: ViT, trace: Trace | TraceArrays) -> LogitLens:
    """Eq. 4 and the head applied to every token of z_0 … z_L, each token as if it were the cls token. The model was
    trained to read only the cls token after the last layer: the other readings show what a token already carries.
    Raises NoHead for a model without a classification head."""
    if model.head is None:
        raise NoHead("this model has no classification head: there is no class for a token to vote for")
    z = one_picture(trace.hidden_states)  # (L+1, T, D)
    alone = rearrange(z, "l t d -> (l t) 1 d")  # every token as the cls token of a picture of its own
    logits = model.classify(alone).reshape(*z.shape[:2], -1)  # (L+1, T, C)
    votes = logits.argmax(dim=-1)  # (L+1, T)
    prediction = int(votes[-1, 0])
    agreement = (votes[:, 1:] == prediction).float().mean(dim=-1)  # (L+1,): patches only
    return LogitLens(_read_only(logits), _read_only(votes), prediction, _read_only(agreement))


# ---- 2. how alike the tokens grow ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Similarity:
    cosine: np.ndarray  # (L+1, T, T): cos(z_ℓ[i], z_ℓ[j]) for every pair of tokens; 1 on the diagonal
    patch_mean: np.ndarray  # (L+1,): its mean over pairs of two different patches (cls and the diagonal left out)


@torch.no_grad()
def similarity(trace: Trace | TraceArrays) -> Similarity:
    """The cosine similarity of every pair of tokens after every layer, and how alike the patches are on average."""
    z = F.normalize(one_picture(trace.hidden_states), dim=-1)  # (L+1, T, D): every token scaled to length 1
    cosine = z @ z.transpose(-2, -1)  # (L+1, T, T)
    patches = cosine[:, 1:, 1:]  # (L+1, N, N)
    others = ~torch.eye(patches.shape[-1], dtype=torch.bool)  # (N, N): True off the diagonal
    return Similarity(_read_only(cosine), _read_only(patches[:, others].mean(dim=-1)))  # mean of (L+1, N·(N−1))


# ---- 3. the residual stream ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResidualStream:
    norms: np.ndarray  # (L+1, T): ‖z_ℓ‖ of every token
    attention_added: np.ndarray  # (L, T): ‖MSA(LN(z_{ℓ-1}))‖, what block ℓ's attention added (Eq. 2)
    mlp_added: np.ndarray  # (L, T): ‖MLP(LN(z'_ℓ))‖, what block ℓ's MLP added (Eq. 3)
    cls: np.ndarray  # (L+1,): the cls token's norm
    patch_median: np.ndarray  # (L+1,): the median norm of the N patches
    patch_max: np.ndarray  # (L+1,): the largest norm of a patch
    largest: np.ndarray  # (L+1, k) int64: the k patches of largest norm, largest first (patch numbers, from 0)


def attention_added(block: Block, z: torch.Tensor, probs: torch.Tensor, keep: torch.Tensor | None = None
                    ) -> torch.Tensor:
    """MSA(LN(z)) of Eq. 2, from the attention probabilities the trace kept: only V and the output projection are
    computed again, not Q, K or the softmax. z (T, D), probs (H, T, T), keep (H,) of 1.0 and 0.0 → (T, D)."""
    v = rearrange(block.attn.v(block.norm1(z)), "t (h d) -> h t d", h=block.attn.heads)  # (H, T, d)
    heads = probs @ v  # (H, T, d)
    if keep is not None:
        heads = heads * keep[:, None, None]  # an ablated head gives 0, as in MultiHeadAttention.forward
    return block.attn.proj(rearrange(heads, "h t d -> t (h d)"))  # (T, D)


@torch.no_grad()
def residual_stream(model: ViT, trace: Trace | TraceArrays, intervention: Intervention | None = None,
                    k: int = 5) -> ResidualStream:
    """Every token's norm after every layer, and the norms of what each block's attention and MLP added to it.
    Costs V and the output projection again in each block (the arithmetic of a sixth of the trace for ViT-B/16, a
    third for the teaching model); the MLP's share is what is left, z_ℓ − z_{ℓ-1} − MSA(…). A trace run with ablated
    heads needs its `intervention` here too."""
    z = one_picture(trace.hidden_states)  # (L+1, T, D)
    probs = one_picture(trace.attentions)  # (L, H, T, T)
    keep = head_keep(len(model.blocks), model.config.num_attention_heads, (intervention or Intervention()).ablate)
    attn = torch.stack([attention_added(block, z[i], probs[i], None if keep is None else keep[i])
                        for i, block in enumerate(model.blocks)])  # (L, T, D)
    mlp = z[1:] - z[:-1] - attn  # (L, T, D): z_ℓ − z'_ℓ
    norms = token_norms(z)  # (L+1, T)
    patches = norms[:, 1:]  # (L+1, N)
    return ResidualStream(_read_only(norms), _read_only(token_norms(attn)), _read_only(token_norms(mlp)),
                          _read_only(norms[:, 0]), _read_only(patches.quantile(0.5, dim=-1)),
                          _read_only(patches.amax(dim=-1)),
                          _read_only(patches.topk(min(k, patches.shape[-1]), dim=-1).indices))


# ---- the three together: what the app's token step draws -------------------------------------------------------------
@dataclass(frozen=True)
class Lenses:
    """The three lenses of one picture. `logit` is None for a model without a classification head, and `no_head`
    keeps the NoHead that `logit_lens` raised (its `kind` is what a UI translates)."""
    logit: LogitLens | None
    similarity: Similarity
    stream: ResidualStream
    no_head: NoHead | None = None


def lenses(model: ViT, trace: Trace | TraceArrays) -> Lenses:
    """`logit_lens`, `similarity` and `residual_stream` of one trace: one extra pass over its hidden states, at most."""
    try:
        logit, no_head = logit_lens(model, trace), None
    except NoHead as e:
        logit, no_head = None, e
    return Lenses(logit, similarity(trace), residual_stream(model, trace), no_head)
