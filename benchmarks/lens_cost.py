"""What the three lenses of issue 27 cost (vit_core/lens.py), against the trace they read, and what a layer of each
would cost to send to the browser.

    python benchmarks/lens_cost.py [--runs 20] [--warmup 3] [--models teaching,b16] [--threads N]

For the shipped teaching model and a random ViT-B/16-shaped model (224×224, P=16, D=768, 12 layers × 12 heads,
MLP 3072, 1000 classes), batch 1, torch's default thread count, this times, round-robin so that background load hits
all alike:

- trace:             `model.trace(x)`, what the app already runs once per picture;
- logit_lens:        the final LayerNorm and head on all (L+1)·T tokens;
- similarity:        (L+1) T × T cosine matrices;
- residual_stream:   V and the output projection again in each block (the trace keeps the attention probabilities);
- residual by blocks: the same numbers from `explain_block` on every layer (Q, K, softmax and MLP run again too),
                     the obvious way the lens does not take;

and prints the median (p10–p90) of `--runs` calls each, and each lens against the trace (the median of the ratios
within one round, robust to load that drifts). Then the bytes per layer each lens would send, raw and in base64 (as
the explorer sends its arrays, app/components/explorer encoded_layer): float16, or 8 bits a value on a scale per row
(vit_core.views.quantised, as the explorer's attentions are), or only the per-token numbers a view needs.

A script, not a test: it prints figures and asserts nothing about time.
"""
from __future__ import annotations

import argparse
import base64
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository: benchmarks, vit_core

from benchmarks import machine, workload  # noqa: E402
from benchmarks.trace_cost import round_robin, summary  # noqa: E402
from vit_core import ViT  # noqa: E402
from vit_core.analysis import token_norms  # noqa: E402
from vit_core.lens import logit_lens, residual_stream, similarity  # noqa: E402
from vit_core.model import explain_block  # noqa: E402
from vit_core.views import quantised  # noqa: E402


def residual_by_blocks(model: ViT, trace) -> tuple[torch.Tensor, torch.Tensor]:
    """The attention and MLP norms from explain_block, every block run again step by step."""
    inside = [explain_block(b, h) for b, h in zip(model.blocks, trace.hidden_states[:-1])]
    return (token_norms(torch.stack([i.attn_out[0] for i in inside])),  # (L, T)
            token_norms(torch.stack([i.mlp_out[0] for i in inside])))


def sent(*arrays: np.ndarray) -> str:
    """Bytes of the arrays as they are, and in base64 (one string each)."""
    raw = sum(a.nbytes for a in arrays)
    b64 = sum(len(base64.b64encode(np.ascontiguousarray(a).tobytes())) for a in arrays)
    return f"{raw:>9,} B ({b64:>9,} in base64)"


def payload(model: ViT, trace) -> None:
    lens, alike, stream = logit_lens(model, trace), similarity(trace), residual_stream(model, trace)
    layer = model.config.num_hidden_layers  # the last: as big as any
    logits, cosine, norms = lens.logits[layer], alike.cosine[layer], stream.norms[layer]  # (T, C), (T, T), (T,)
    probs = torch.tensor(logits).softmax(-1).numpy()  # (T, C)
    C = logits.shape[-1]
    vote_type = np.uint8 if C <= 256 else np.uint16
    print("  bytes per layer sent to the browser:")
    print(f"    logit lens, every logit, float16 (T × C)           {sent(logits.astype(np.float16))}")
    print(f"    logit lens, probabilities in 8 bits, scale per row {sent(*quantised(probs))}")
    print(f"    logit lens, each token's vote ({np.dtype(vote_type).name}) and its "
          f"probability (float16)  {sent(lens.votes[layer].astype(vote_type), probs.max(-1).astype(np.float16))}")
    print(f"    similarity, T × T, float16                          {sent(cosine.astype(np.float16))}")
    print(f"    similarity, T × T, 8 bits of (1 + cos) / 2, scale per row  {sent(*quantised((1 + cosine) / 2))}")
    print(f"    similarity, one patch's row (T), float16            {sent(cosine[1].astype(np.float16))}")
    print(f"    norms (T), float16                                  {sent(norms.astype(np.float16))}")
    added = (stream.attention_added[layer - 1], stream.mlp_added[layer - 1])  # 2 × (T,)
    print(f"    norms added by attention and MLP (2 × T), float16   {sent(*(a.astype(np.float16) for a in added))}")


def bench(name: str, model: ViT, runs: int, warmup: int) -> None:
    cfg = model.config
    x = torch.randn(1, 3, cfg.image_size, cfg.image_size, generator=torch.Generator().manual_seed(0))
    trace = model.trace(x)
    fns = {"trace": lambda: model.trace(x), "logit_lens": lambda: logit_lens(model, trace),
           "similarity": lambda: similarity(trace), "residual_stream": lambda: residual_stream(model, trace),
           "residual by blocks": lambda: residual_by_blocks(model, trace)}
    cpu: dict[str, list[float]] = {}
    times = round_robin(fns, runs, warmup, cpu)
    a, m = residual_by_blocks(model, trace)
    stream = residual_stream(model, trace)
    agree = max(float((a - torch.tensor(stream.attention_added)).abs().max()),
                float((m - torch.tensor(stream.mlp_added)).abs().max()))
    L, H, T = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_tokens
    print(f"\n{name}: {L} layers × {H} heads, T = {T} tokens, D = {cfg.hidden_size}, C = {cfg.num_labels}; batch 1; "
          f"{runs} runs each after {warmup} warm-up rounds; residual_stream vs explain_block: largest difference "
          f"{agree:.1e}")
    for k, v in times.items():
        paired = statistics.median(t / s for t, s in zip(v, times["trace"]))
        print(f"  {k:19s} {summary(v)}   × trace {paired:.3f} (CPU {statistics.median(cpu[k]):.2f} ms)")
    lenses = [sum(x) for x in zip(times["logit_lens"], times["similarity"], times["residual_stream"])]
    print(f"  the three lenses    {summary(lenses)}   × trace "
          f"{statistics.median(t / s for t, s in zip(lenses, times['trace'])):.3f}")
    payload(model, trace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--models", default="teaching,b16", help="comma-separated: teaching, b16")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default, as the app runs; "
                        "1 keeps figures steadier on a busy machine)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    started = machine.header("lens cost: the three lenses of vit_core/lens.py against model.trace")
    for key in args.models.split(","):
        name, model = workload.timed_model(key)
        bench(name, model, args.runs, args.warmup)
    machine.footer(started)


if __name__ == "__main__":
    main()
