"""How long one step of the attention explorer takes on the server, and how many bytes it sends.

    python benchmarks/step_latency.py [--steps 50] [--only apptest|server] [--option=--runner.postScriptGC=false]

Two measurements, for the teaching model and a random ViT-B/16-shaped checkpoint:

1. server (the figure to quote): the real app server (`python -m app`) and one protocol client (harness/stclient.py,
   checked against Chromium by classroom.py --validate) on the explorer. The explorer draws a step in the browser
   (app/explorer.js); what reaches the server is its debounced report of the new view, which reruns the explorer's
   fragment. A step here is that report: ▶ (next head), and every 5th the next layer; the time is from sending it to
   receiving script_finished, i.e. everything the server does for it, Streamlit's own work included.
2. apptest (where the time goes): for the teaching model and for a random ViT-B/16-shaped model (224×224, P=16,
   D=768, 12 layers × 12 heads, 1000 classes; random weights, saved to a temporary folder), this starts the app with
   AppTest from its entry point, opens the attention page (the warm-up run computes and caches the trace), then steps through layers and heads with the
▶ button and the layer slider, and prints p50 / p95 of:

- run: the whole page run. AppTest always reruns the whole page; in the browser a step reruns only the explorer
  fragment, so this is an upper bound.
- fragment: the explorer fragment alone (what a step costs in the browser), timed by wrapping st.fragment.
- ws bytes: ByteSize() of the ForwardMsgs a step sends over the websocket: the deltas from inside the fragment
  (those are what a fragment rerun sends), and, for reference, every message of the whole-page run.
- picture bytes: the PNG or JPEG files the fragment's st.image calls register; the browser fetches them over HTTP,
  not over the websocket.

A script, not a test: it prints figures and asserts nothing about time.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import local_script_runner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository: benchmarks, harness, app, vit_core

from benchmarks import machine, workload  # noqa: E402
from vit_core import ViTConfig  # noqa: E402

MAIN = str(ROOT / "app" / "main.py")
PAGE_URL = "attention"  # the explorer's url path (…/attention); pages are found by it, never by file name

fragment_ms: list[float] = []
run_msgs: list[list] = []


def timed_fragment(func=None, **kwargs):
    """st.fragment, with every call of the decorated function timed into fragment_ms."""
    decorate = timed_fragment.original(**kwargs)

    def apply(f):
        wrapped = decorate(f)

        def call(*args, **kw):
            start = time.perf_counter()
            try:
                return wrapped(*args, **kw)
            finally:
                fragment_ms.append((time.perf_counter() - start) * 1000)

        return call

    return apply(func) if func is not None else apply


def recording_run(self, *args, **kwargs):
    """LocalScriptRunner.run, keeping the run's ForwardMsgs and the sizes of the media files it registered."""
    tree = recording_run.original(self, *args, **kwargs)
    run_msgs.append((list(self.forward_msgs()), media_sizes()))
    return tree


def install_probes() -> None:
    timed_fragment.original = st.fragment
    st.fragment = timed_fragment
    recording_run.original = local_script_runner.LocalScriptRunner.run
    local_script_runner.LocalScriptRunner.run = recording_run


def media_sizes() -> dict[str, int]:
    """Every media file registered in this run (AppTest keeps them in memory, one store per run): id → bytes."""
    from streamlit import runtime

    storage = runtime.get_instance().media_file_mgr._storage
    return {fid: len(f.content) for fid, f in storage._files_by_id.items()}


def fragment_media(msgs, sizes: dict[str, int]) -> int:
    """Bytes of the pictures the fragment's st.image calls point at."""
    ids = [url.rsplit("/", 1)[1].split(".")[0] for url in image_urls(msgs)]
    return sum(sizes.get(i, 0) for i in ids)


def message_bytes(msgs) -> tuple[int, int]:
    """(bytes of the deltas from inside a fragment, bytes of all messages)."""
    inside = sum(m.ByteSize() for m in msgs if m.WhichOneof("type") == "delta" and m.delta.fragment_id)
    return inside, sum(m.ByteSize() for m in msgs)


def image_urls(msgs) -> list[str]:
    urls = []
    for m in msgs:
        if m.WhichOneof("type") == "delta" and m.delta.fragment_id and m.delta.WhichOneof("type") == "new_element":
            el = m.delta.new_element
            if el.WhichOneof("type") == "imgs":
                urls += [img.url for img in el.imgs.imgs]
    return urls


def tokens(model_id: str) -> int:
    folder = ROOT / "assets" / "models" / "fashion-vit" if model_id == "teaching" else Path(model_id.removeprefix("path:"))
    return ViTConfig.from_hf_dict(json.loads((folder / "config.json").read_text())).num_tokens


def page_path(at: AppTest, url_path: str) -> str:
    """The page file that st.navigation registered under `url_path`, relative to the main script (for switch_page):
    the pages may move between folders, their url paths stay."""
    for info in at._registered_pages.values():  # AppTest's own map of the pages the last run registered
        if info.get("url_pathname") == url_path and info.get("script_path"):
            return os.path.relpath(info["script_path"], Path(MAIN).parent)
    raise LookupError(f"no page at /{url_path}: {[i.get('url_pathname') for i in at._registered_pages.values()]}")


def step(at: AppTest, i: int, L: int, H: int) -> None:
    """One step as the explorer reports it (app/explorer.py, on_view): mostly ▶, sometimes the next layer, and back to
    the start at the end."""
    ss = at.session_state
    layer, head = ss["att_layer"], ss["att_head"]
    if (layer, head) == (L, H):
        ss["att_layer"], ss["att_head"] = 1, 1
    elif i % 5 == 4:
        ss["att_layer"] = layer % L + 1
    else:
        ss["att_layer"], ss["att_head"] = ((layer - 1) * H + head) // H + 1, ((layer - 1) * H + head) % H + 1
    at.run()


def bench(name: str, model_id: str, steps: int) -> None:
    at = AppTest.from_file(MAIN, default_timeout=300)
    at.session_state["model_id"] = model_id  # an entry point without a model picker reads this …
    if model_id.startswith("path:"):  # … one with the sidebar picker: "a local folder"
        at.session_state["model_choice"] = "local"
        at.session_state["model_folder"] = model_id.removeprefix("path:")
    start = time.perf_counter()
    at.run()
    at.switch_page(page_path(at, PAGE_URL)).run()
    warm_s = time.perf_counter() - start
    assert not at.exception, [e.message for e in at.exception]
    at.run()  # a second warm-up: caches of the page's own pictures filled
    proto = next(el for el in at.get("bidi_component") if el.proto.id.endswith("att_explorer")).proto
    data = json.loads(proto.mixed.json if proto.WhichOneof("data") == "mixed" else proto.json)  # as stclient reads it
    L, H = data["L"], data["H"]
    T = tokens(model_id)
    fragment_ms.clear()
    run_msgs.clear()
    run_ms = []
    for i in range(steps):
        start = time.perf_counter()
        step(at, i, L, H)
        run_ms.append((time.perf_counter() - start) * 1000)
        assert not at.exception, [e.message for e in at.exception]
    inside, total = zip(*(message_bytes(msgs) for msgs, _ in run_msgs))
    media_per_step = [fragment_media(msgs, sizes) for msgs, sizes in run_msgs]
    p = lambda xs, q: float(np.percentile(xs, q))  # noqa: E731
    print(f"\n{name}: {L:.0f} layers × {H:.0f} heads, {T} tokens; warm-up (trace + first render) {warm_s:.1f} s; "
          f"{steps} steps")
    rows = [("server time per step, fragment only", fragment_ms, 1, "ms", "p95", p(fragment_ms, 95)),
            ("server time per step, whole page", run_ms, 1, "ms", "p95", p(run_ms, 95)),
            ("websocket bytes per step, fragment", inside, 1000, "KB", "max", max(inside) / 1000),
            ("websocket bytes, whole-page run", total, 1000, "KB", "max", max(total) / 1000),
            ("picture bytes fetched over HTTP per step", media_per_step, 1000, "KB", "max", max(media_per_step) / 1000)]
    for label, xs, unit, name, last, value in rows:
        print(f"  {label:41s}: p50 {p(xs, 50) / unit:7.1f} {name}   {last} {value:7.1f} {name}")


async def server_steps(url: str, folder: str | None, steps: int) -> tuple[list[float], list[float], list[int]]:
    """One learner on the explorer: ▶ until the last head, then back to layer 1 with the slider; every 5th step the
    layer slider. Returns the ms of the ▶ steps, of the slider steps, and the bytes of every step."""
    from harness import stclient

    s = stclient.Session(url, timeout=600)
    await s.open()
    if folder:
        await s.select("model_choice", workload.LOCAL_FOLDER)
        await s.set_text("model_folder", folder)
    await s.run(page=workload.ATTENTION)
    data = s.component_data("att_explorer")
    L, H, view = data["L"], data["H"], dict(data["state"])
    await s.report("att_explorer", "view", dict(view))  # warm-up
    clicks, slides, sizes = [], [], []
    for i in range(steps):  # what reaches the server: the explorer's report of each step (app/explorer.js)
        pos = (view["layer"] - 1) * H + view["head"]
        if i % 5 == 4 or pos == L * H:
            view["layer"], view["head"] = view["layer"] % L + 1, 1
            run = await s.report("att_explorer", "view", dict(view))
            slides.append(run.ms)
        else:
            view["layer"], view["head"] = pos // H + 1, pos % H + 1
            run = await s.report("att_explorer", "view", dict(view))
            clicks.append(run.ms)
        sizes.append(run.bytes)
        if run.errors:
            raise RuntimeError(run.errors)
    await s.close()
    return clicks, slides, sizes


def bench_server(name: str, folder: str | None, steps: int, options: tuple[str, ...]) -> None:
    import asyncio

    from harness import server

    with server.running(options=options) as srv:
        clicks, slides, sizes = asyncio.run(server_steps(srv.url, folder, steps))
    p = lambda xs, q: float(np.percentile(xs, q))  # noqa: E731
    both = clicks + slides
    print(f"\n{name}, real server{' ' + ' '.join(options) if options else ''}: {len(clicks)} × ▶, "
          f"{len(slides)} × layer slider")
    print(f"  server time per step (rerun sent → script_finished): p50 {p(both, 50):6.1f} ms   p95 {p(both, 95):6.1f} ms"
          f"   (▶ p50 {p(clicks, 50):.1f} ms, slider p50 {p(slides, 50):.1f} ms)")
    print(f"  websocket bytes per step: p50 {p(sizes, 50) / 1000:6.1f} KB   max {max(sizes) / 1000:6.1f} KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--only", choices=["apptest", "server"])
    parser.add_argument("--option", action="append", default=[], help="an extra streamlit flag for the real server")
    args = parser.parse_args()
    if args.steps < 5:  # every 5th step is the layer slider: fewer steps would leave the slider's figures empty
        parser.error("--steps must be at least 5 (every 5th step moves the layer slider)")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    started = machine.header("step latency: attention explorer, one step = ▶ or the layer slider")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        b16 = f"path:{workload.b16_checkpoint(folder)}"  # its model id
        if args.only != "apptest":
            bench_server("teaching model (28×28, P=4)", None, args.steps, tuple(args.option))
            bench_server("random ViT-B/16 (224×224, P=16, D=768)", str(folder), args.steps, tuple(args.option))
        if args.only != "server":
            install_probes()
            print("\nAppTest, in-process (no websocket, no Streamlit server): the page and the fragment alone")
            bench("teaching model (28×28, P=4)", "teaching", args.steps)
            bench("random ViT-B/16 (224×224, P=16, D=768)", b16, args.steps)
    machine.footer(started)


if __name__ == "__main__":
    main()
