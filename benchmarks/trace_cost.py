"""What keeping every intermediate costs: `model.trace(x)` against the plain forward and against transformers.

    python benchmarks/trace_cost.py [--runs 30] [--warmup 5] [--models teaching,b16]

For the shipped teaching model (assets/models/fashion-vit) and a random ViT-B/16-shaped model (224×224, P=16, D=768,
12 layers × 12 heads, MLP 3072, 1000 classes), batch 1, eval mode, torch.no_grad(), torch's default thread count
(the app does not change it), this times, round-robin so that background load hits all three alike:

- forward:      `model(x)`, logits only (fused scaled_dot_product_attention in every layer);
- trace:        `model.trace(x)`, every intermediate and every attention matrix;
- transformers: `ViTForImageClassification.from_pretrained(<our save_model folder>, attn_implementation="eager")`
                called with output_attentions=True, output_hidden_states=True — the same weights, the same outputs;

and prints the median (and p10–p90) of `--runs` calls each and the ratios: of the medians, and the median of the
ratios within one round (robust to load that drifts during the run); the same for CPU time (all threads of this
process: what the call costs a shared server, whatever else is running); and where the trace's extra time goes:
the attention step alone, the fused kernel against `vit_core.model.attention` (which must return the
probabilities) on this model's q, k, v. It also checks that the three agree (logits, every attention matrix).

A script, not a test: it prints figures and asserts nothing about time.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository: benchmarks, vit_core

from benchmarks import machine, workload  # noqa: E402
from vit_core import ViT, save_model  # noqa: E402
from vit_core.model import attention  # noqa: E402


def timed(fn) -> tuple[float, float]:
    """Wall and CPU milliseconds of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000


def round_robin(fns: dict, runs: int, warmup: int, cpu: dict | None = None) -> dict[str, list[float]]:
    """Wall ms of `runs` calls of each function, taken in turn; their CPU ms go to `cpu` when given."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            wall, used = timed(fn)
            times[name].append(wall)
            if cpu is not None:
                cpu.setdefault(name, []).append(used)
    return times


def ratios(times: dict[str, list[float]], a: str, b: str) -> str:
    """a / b: of the medians, and the median of the per-round ratios."""
    of_medians = statistics.median(times[a]) / statistics.median(times[b])
    paired = statistics.median(x / y for x, y in zip(times[a], times[b]))
    return f"{of_medians:.3f} (paired {paired:.3f})"


def summary(xs: list[float]) -> str:
    p10, p90 = np.percentile(xs, [10, 90])
    return f"median {statistics.median(xs):8.2f} ms   (p10 {p10:7.2f}, p90 {p90:7.2f})"


def bench(name: str, model: ViT, runs: int, warmup: int) -> dict[str, float]:
    import transformers

    cfg = model.config
    x = torch.randn(1, 3, cfg.image_size, cfg.image_size, generator=torch.Generator().manual_seed(0))
    with tempfile.TemporaryDirectory() as tmp:
        save_model(model, tmp)
        hf = transformers.ViTForImageClassification.from_pretrained(tmp, attn_implementation="eager").eval()

    def forward():
        with torch.no_grad():
            return model(x)

    def hf_call():
        with torch.no_grad():
            return hf(pixel_values=x, output_attentions=True, output_hidden_states=True)

    # the three agree before any of them is timed
    tr, ref, logits = model.trace(x), hf_call(), forward()
    agree = max([(tr.logits - logits).abs().max().item(), (tr.logits - ref.logits).abs().max().item()]
                + [(a - b).abs().max().item() for a, b in zip(tr.attentions, ref.attentions)])

    cpu: dict[str, list[float]] = {}
    times = round_robin({"forward": forward, "trace": lambda: model.trace(x), "transformers": hf_call}, runs, warmup,
                        cpu)

    # where the extra time goes: the attention step on this model's own q, k, v (layer 1), fused vs explicit
    block = model.blocks[0]
    with torch.no_grad():
        q, k, v = block.attn.qkv(block.norm1(model.embed(x)[-1]))
    inner = round_robin({"sdpa": lambda: F.scaled_dot_product_attention(q, k, v),
                         "explicit": lambda: attention(q, k, v)}, runs * 4, warmup)

    med = {k: statistics.median(v) for k, v in times.items()}
    L, H, T = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_tokens
    print(f"\n{name}: {L} layers × {H} heads, T = {T} tokens, D = {cfg.hidden_size}; batch 1; "
          f"{runs} runs each after {warmup} warm-up rounds; largest difference trace/forward/transformers {agree:.1e}")
    for k in ("forward", "trace", "transformers"):
        print(f"  {k:13s} {summary(times[k])}")
    print(f"  CPU time (all threads): forward {statistics.median(cpu['forward']):.2f} ms, trace "
          f"{statistics.median(cpu['trace']):.2f} ms, transformers {statistics.median(cpu['transformers']):.2f} ms")
    print(f"  trace / forward      = {ratios(times, 'trace', 'forward')} wall, "
          f"{ratios(cpu, 'trace', 'forward')} CPU   (target ≤ 1.10)")
    print(f"  trace / transformers = {ratios(times, 'trace', 'transformers')} wall, "
          f"{ratios(cpu, 'trace', 'transformers')} CPU   (target ≤ 1.00)")
    s, e = statistics.median(inner["sdpa"]), statistics.median(inner["explicit"])
    print(f"  attention step alone, one layer: fused SDPA {s * 1000:.0f} µs, explicit with probabilities "
          f"{e * 1000:.0f} µs; × {L} layers = {(e - s) * L:.2f} ms of the "
          f"{med['trace'] - med['forward']:.2f} ms trace − forward difference")
    return {"name": name, **med}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--models", default="teaching,b16", help="comma-separated: teaching, b16")
    args = parser.parse_args()
    started = machine.header("trace cost: model.trace vs model(x) vs transformers eager")
    for key in args.models.split(","):
        name, model = workload.timed_model(key)
        bench(name, model, args.runs, args.warmup)
    machine.footer(started)


if __name__ == "__main__":
    main()
