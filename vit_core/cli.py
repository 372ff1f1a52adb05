"""`python -m vit_core {trace,lens,evaluate,head-importance,explain,faithfulness,fetch,list-models,train}`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .explain import METHODS  # torch is loaded already (vit_core/__init__.py): explain adds some 10 ms
from .interventions import FILLS, parse_heads, parse_patches

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "assets" / "models" / "fashion-vit"


def cmd_train(args) -> int:
    from .train import TrainConfig, teaching_config, train

    tc = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                     limit=args.limit, threads=args.threads, snapshots=args.snapshots, stop_after=args.stop_after)
    cfg = teaching_config(hidden_size=args.dim, num_hidden_layers=args.depth, num_attention_heads=args.heads,
                          intermediate_size=args.mlp)
    train(args.out, tc, cfg, args.data, log=lambda s: print(s, flush=True))
    return 0


def cmd_evaluate(args) -> int:
    from .checkpoints import load_model
    from .data import load_split
    from .train import evaluate, per_class_accuracy

    loaded = load_model(args.model)
    model = loaded.model
    images, labels = load_split("test", args.data)
    if args.limit:
        images, labels = images[:args.limit], labels[:args.limit]
    preds = evaluate(model, images, loaded.preprocess)
    if model.config.labels:
        for name, acc in per_class_accuracy(preds, labels, model.config.labels).items():
            print(f"  {name:<12} {acc:.4f}")
    print(f"images: {len(labels)}")
    print(f"accuracy: {(preds == labels).mean():.4f}")
    return 0


def cmd_head_importance(args) -> int:
    import time

    import numpy as np

    from .checkpoints import load_model
    from .data import load_split
    from .experiments import HEAD_IMPORTANCE, head_importance, save_head_importance
    from .train import to_model_input

    start = time.time()
    loaded = load_model(args.model)
    images, labels = load_split("test", args.data)
    if args.limit:
        images, labels = images[:args.limit], labels[:args.limit]
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    cfg = loaded.model.config
    print(f"{len(labels):,} test images, {cfg.num_hidden_layers} layers × {cfg.num_attention_heads} heads: "
          f"{cfg.num_hidden_layers * cfg.num_attention_heads + 1} passes", flush=True)
    result = head_importance(loaded.model, to_model_input(images, loaded.preprocess), labels,
                             log=lambda s: print(s, flush=True))
    out = Path(args.out) if args.out else Path(loaded.folder) / HEAD_IMPORTANCE
    command = "python -m vit_core head-importance" + (f" --limit {args.limit}" if args.limit else "")
    save_head_importance(result, out, {"model": Path(loaded.folder).name, "script": "vit_core/experiments.py "
                                       "(head_importance), run by vit_core/cli.py", "command": command,
                                       "data": "Fashion-MNIST test set"})
    worst = np.unravel_index(np.argmin(result.ablated), result.ablated.shape)
    print(f"no head ablated: {result.accuracy:.4f}; the largest drop: head {worst[0] + 1}.{worst[1] + 1} → "
          f"{result.ablated[worst]:.4f}")
    print(f"wrote {out} in {time.time() - start:.0f} s")
    return 0


def cmd_explain(args) -> int:
    import numpy as np
    import torch

    from .checkpoints import load_model
    from .explain import progress, relevance
    from .hub import resolve
    from .images import load_image, preprocess

    loaded = load_model(resolve(args.model))
    model, cfg = loaded.model, loaded.model.config
    if model.head is None:
        print("error: this model has no classification head: there is no class to explain", file=sys.stderr)
        return 2
    targets = None
    if args.target is not None:
        try:
            text = Path(args.target).read_text() if not args.target.lstrip("-").isdigit() else args.target
            targets = [int(x) for x in text.split()]
        except (OSError, ValueError):
            print(f"error: --target is a class number or a text file of class numbers, one per picture: "
                  f"{args.target!r}", file=sys.stderr)
            return 2
        if len(targets) not in (1, len(args.images)) or not all(0 <= c < cfg.num_labels for c in targets):
            print(f"error: --target needs one class, or one per picture ({len(args.images)}), each from 0 to "
                  f"{cfg.num_labels - 1}", file=sys.stderr)
            return 2
    maps, chosen = [], []
    for lo in range(0, len(args.images), args.batch_size):
        names = args.images[lo:lo + args.batch_size]
        pixels = torch.cat([preprocess(load_image(n), loaded.preprocess) for n in names])
        batch_targets = None if targets is None else (targets if len(targets) == 1 else targets[lo:lo + len(names)])
        r, t = relevance(model, pixels, args.method, batch_targets)
        maps.append(r)
        chosen.append(t)
        print(f"\r  {progress(lo + len(names), len(args.images))}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    np.savez_compressed(args.out, relevance=np.concatenate(maps), target=np.concatenate(chosen),
                        method=np.array(args.method), images=np.array([Path(n).name for n in args.images]))
    print(f"wrote {args.out}: relevance ({len(args.images)}, {cfg.num_patches}) by {args.method}")
    return 0


def cmd_faithfulness(args) -> int:
    import json
    import time

    import torch

    from .checkpoints import load_model
    from .data import load_split
    from .explain import faithfulness, progress
    from .train import to_model_input

    start = time.time()
    if args.threads:
        torch.set_num_threads(args.threads)
    loaded = load_model(args.model)
    images, _ = load_split("test", args.data)
    inputs = to_model_input(images[:args.n], loaded.preprocess)
    result = faithfulness(loaded.model, inputs, seed=args.seed,
                          log=lambda done, total: print(f"\r  {progress(done, total)}", end="", file=sys.stderr,
                                                        flush=True))
    print(file=sys.stderr)
    rows = result.table()
    print(f"{'':<10} {'deletion AUC (lower is better)':^44} {'insertion AUC (higher is better)':^44}")
    print(f"{'method':<10} {'mean ± sd':>17} {'vs random (95 %)':>18} {'better':>7} "
          f"{'mean ± sd':>17} {'vs random (95 %)':>18} {'better':>7}")
    for r in rows:
        print(f"{r['method']:<10}" + "".join(
            f" {r[f'{k}_mean']:>8.4f} ± {r[f'{k}_std']:.4f} {r[f'{k}_vs_random']:>+8.4f}"
            f" ± {r[f'{k}_vs_random_ci95']:.4f} {r[f'{k}_better_share']:>6.0%}" for k in ("deletion", "insertion")))
    out = Path(args.out) if args.out else Path(loaded.folder) / "faithfulness.json"
    out.write_text(json.dumps({"model": Path(loaded.folder).name, "images": len(inputs),
                               "data": "the first images of the Fashion-MNIST test set", "target": "predicted class",
                               "fill": "0 in the normalised input (the preprocessing's image_mean colour)",
                               "random_seed": args.seed, "command": f"python -m vit_core faithfulness --n {args.n}",
                               "seconds": round(result.seconds, 1), "rows": rows}, indent=2) + "\n")
    print(f"{len(inputs)} pictures, {len(rows)} orders, {time.time() - start:.0f} s; wrote {out}")
    return 0


def cmd_trace(args) -> int:
    import numpy as np

    from .checkpoints import load_model
    from .hub import resolve
    from .images import load_image, preprocess
    from .interventions import Intervention

    loaded = load_model(resolve(args.model))
    model = loaded.model
    cfg = model.config
    iv = Intervention(mask=args.mask_patches, fill=args.mask_fill, shuffle_seed=args.shuffle_patches,
                      no_pos_embed=args.no_pos_embed, ablate=args.ablate_heads)
    try:
        iv.check(cfg.num_patches, cfg.num_hidden_layers, cfg.num_attention_heads)
    except ValueError as e:
        print(f"error: {e} (this model has {cfg.num_patches} patches, {cfg.num_hidden_layers} layers of "
              f"{cfg.num_attention_heads} heads)", file=sys.stderr)
        return 2
    pixels = preprocess(load_image(args.image), loaded.preprocess)
    trace = model.trace(pixels, iv)
    trace.save_npz(args.out, cfg.labels, iv)
    if trace.logits is not None:
        top = int(trace.logits[0].argmax())
        p = float(trace.logits[0].softmax(-1)[top])
        print(f"prediction: {model.config.labels[top]} ({p:.1%})")
    with np.load(args.out) as z:
        print(f"wrote {args.out}: " + ", ".join(f"{k} {z[k].shape}" for k in z.files))
    return 0


def cmd_lens(args) -> int:
    import numpy as np

    from .checkpoints import load_model
    from .hub import resolve
    from .images import load_image, preprocess
    from .lens import logit_lens, residual_stream, similarity

    loaded = load_model(resolve(args.model))
    model = loaded.model
    trace = model.trace(preprocess(load_image(args.image), loaded.preprocess))
    lens, alike, stream = logit_lens(model, trace), similarity(trace), residual_stream(model, trace)
    np.savez_compressed(args.out, logits=lens.logits, similarity=alike.cosine, norms=stream.norms,
                        attention_added=stream.attention_added, mlp_added=stream.mlp_added,
                        labels=np.array(model.config.labels, dtype=str))
    print(f"prediction: {model.config.labels[lens.prediction]}; patches that agree with it after each layer: "
          + " ".join(f"{a:.0%}" for a in lens.agreement))
    with np.load(args.out) as z:
        print(f"wrote {args.out}: " + ", ".join(f"{k} {z[k].shape}" for k in z.files))
    return 0


def cmd_fetch(args) -> int:
    from .hub import fetch, get

    entry = get(args.name)
    print(f"{entry.name}: {entry.repo_id} ({entry.size_mb:g} MB)", file=sys.stderr)
    folder = fetch(entry.name, progress=_print_progress)
    print(file=sys.stderr)
    print(folder)
    return 0


def _print_progress(filename: str, done: int, total: int | None) -> None:
    of = f" / {total / 1e6:.1f}" if total else ""
    print(f"\r  {filename}: {done / 1e6:.1f}{of} MB", end="", file=sys.stderr, flush=True)


def cmd_list_models(args) -> int:
    from .hub import CURATED, cache_dir, local_path

    for m in CURATED:
        where = "cached" if local_path(m.name) else "not cached"
        print(f"{m.name:<20} {m.size_mb:>6g} MB  {m.layout:<11} {where:<10}  {m.repo_id}")
        print(f"{'':<20} {m.description}")
    print(f"cache: {cache_dir()}")
    return 0


def _listed(parse):
    """An argparse type from a parser of vit_core.interventions: its ValueError becomes argparse's message."""
    def convert(text: str):
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    convert.__name__ = parse.__name__
    return convert


def _epochs(text: str) -> tuple[int, ...]:
    try:
        epochs = tuple(sorted({int(x) for x in text.split(",") if x.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of epochs: {text!r} (e.g. 0,1,2,5,10)") from None
    if any(e < 0 for e in epochs):
        raise argparse.ArgumentTypeError(f"epochs are 0 or more: {text!r}")
    return epochs


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vit_core", description="The ViT explainer's model tools.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("trace", help="run the model on an image and save every intermediate to .npz")
    t.add_argument("image")
    t.add_argument("--model", default=str(DEFAULT_MODEL),
                   help="checkpoint folder, or a curated name from list-models (default: the teaching model)")
    t.add_argument("--out", required=True, help="output .npz file")
    t.add_argument("--mask-patches", type=_listed(parse_patches), default=(), metavar="0,8,24",
                   help="blank these patches (numbers as the app shows them, row-major from 0)")
    t.add_argument("--mask-fill", choices=FILLS, default="mean",
                   help="what a masked patch holds: mean (0 in the normalised input: the image_mean colour), "
                        "blur (the patch's own mean colour) or noise (seeded)")
    t.add_argument("--shuffle-patches", type=int, default=None, metavar="SEED",
                   help="move the patches to other positions with this seed; the position embeddings stay")
    t.add_argument("--no-pos-embed", action="store_true", help="leave the position embeddings out (cls's too)")
    t.add_argument("--ablate-heads", type=_listed(parse_heads), default=(), metavar="2.1,5.4",
                   help="zero these heads' attention × V before the output projection (layer.head, from 1)")
    t.set_defaults(func=cmd_trace)

    lens_npz = ("the .npz holds float32 arrays, layer 0 being the embeddings z0 before the first block, token 0 the "
                "cls token and then the patches row-major, as the app numbers them: logits (L+1, T, C), the final "
                "LayerNorm and head read from every token (the logit lens); similarity (L+1, T, T), the cosine similarity of "
                "every pair of tokens; norms (L+1, T), the length of every token's vector; attention_added and "
                "mlp_added (L, T), the length of what each block's attention and MLP added to it (Eq. 2-3); and "
                "labels (C,), the class names. A model without a classification head is refused.")
    s = sub.add_parser("lens", help="what every token carries after every layer: the logit lens, the tokens' "
                                    "similarity and the residual stream's size, to .npz", description=lens_npz)
    s.add_argument("image")
    s.add_argument("--model", default=str(DEFAULT_MODEL),
                   help="checkpoint folder, or a curated name from list-models (default: the teaching model)")
    s.add_argument("--out", required=True, help="output .npz file")
    s.set_defaults(func=cmd_lens)

    e = sub.add_parser("evaluate", help="accuracy on the Fashion-MNIST test set")
    e.add_argument("--model", default=str(DEFAULT_MODEL))
    e.add_argument("--data", default=None, help="folder with the four Fashion-MNIST .gz files")
    e.add_argument("--limit", type=int, default=0, help="only the first N test images")
    e.set_defaults(func=cmd_evaluate)

    h = sub.add_parser("head-importance", help="test accuracy with each head ablated alone (the experiments "
                                              "page's table)")
    h.add_argument("--model", default=str(DEFAULT_MODEL), help="checkpoint folder (default: the teaching model)")
    h.add_argument("--data", default=None, help="folder with the four Fashion-MNIST .gz files")
    h.add_argument("--limit", type=int, default=0, help="only the first N test images (default: all 10,000)")
    h.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    h.add_argument("--out", default=None, help=f"JSON file to write (default: MODEL/{'head_importance.json'})")
    h.set_defaults(func=cmd_head_importance)

    x = sub.add_parser("explain", help="one relevance value per patch for a target class, for many pictures")
    x.add_argument("images", nargs="+")
    x.add_argument("--model", default=str(DEFAULT_MODEL),
                   help="checkpoint folder, or a curated name from list-models (default: the teaching model)")
    x.add_argument("--method", choices=METHODS, default="relevance")
    x.add_argument("--target", default=None,
                   help="a class number for every picture, or a text file with one class number per picture "
                        "(default: each picture's predicted class)")
    x.add_argument("--batch-size", type=int, default=64)
    x.add_argument("--out", required=True, help="output .npz: relevance (pictures, patches), target (pictures,)")
    x.set_defaults(func=cmd_explain)

    w = sub.add_parser("faithfulness", help="deletion and insertion AUC of every explanation method, and a random "
                                             "order, over Fashion-MNIST test pictures")
    w.add_argument("--n", type=int, default=1000, help="how many test pictures (default 1000)")
    w.add_argument("--model", default=str(DEFAULT_MODEL))
    w.add_argument("--data", default=None, help="folder with the four Fashion-MNIST .gz files")
    w.add_argument("--seed", type=int, default=0, help="seed of the random orders")
    w.add_argument("--threads", type=int, default=0)
    w.add_argument("--out", default=None, help="JSON file to write (default: MODEL/faithfulness.json)")
    w.set_defaults(func=cmd_faithfulness)

    f = sub.add_parser("fetch", help="download a curated pretrained model into the Hugging Face cache")
    f.add_argument("name", help="a name from list-models, or its Hub repo id")
    f.set_defaults(func=cmd_fetch)

    m = sub.add_parser("list-models", help="the curated pretrained models, and which are cached")
    m.set_defaults(func=cmd_list_models)

    r = sub.add_parser("train", help="train the teaching model on Fashion-MNIST")
    r.add_argument("--out", default=str(DEFAULT_MODEL), help="checkpoint folder to write")
    r.add_argument("--data", default=None)
    r.add_argument("--epochs", type=int, default=70)
    r.add_argument("--batch-size", type=int, default=128)
    r.add_argument("--lr", type=float, default=1e-3)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--limit", type=int, default=0, help="train on the first N images only (quick runs)")
    r.add_argument("--threads", type=int, default=0)
    r.add_argument("--dim", type=int, default=64)
    r.add_argument("--depth", type=int, default=6)
    r.add_argument("--heads", type=int, default=4)
    r.add_argument("--mlp", type=int, default=128)
    r.add_argument("--snapshots", type=_epochs, default=(0, 1, 2, 5, 10),
                   help="epochs after which to keep the weights in OUT/snapshots/ (0: before training; default "
                        "0,1,2,5,10)")
    r.add_argument("--stop-after", type=int, default=0,
                   help="stop after N epochs and write only the snapshots (the schedule is still that of --epochs)")
    r.set_defaults(func=cmd_train)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .data import DatasetNotFound
    from .errors import ModelError
    from .images import ImageError

    try:
        return args.func(args)
    except (ModelError, DatasetNotFound, ImageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
