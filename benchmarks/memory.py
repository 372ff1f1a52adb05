"""Does the server's memory level off? 200 different pictures uploaded in a row, RSS sampled every 10.

    python benchmarks/memory.py [--uploads 200] [--sessions 4] [--model teaching|b16]

Starts the app server (`python -m app`) on a free port; `--sessions` protocol clients (harness/stclient.py) open the
attention explorer and take turns uploading a newly generated 1024×768 JPEG (every one different), so every upload
is a cache miss: a new trace and analysis, a new grid of maps, a new page. After every 10th upload the RSS of the
streamlit process and its children is printed. The caches are bounded (app/core.py: st.cache_data(max_entries=…),
st.cache_resource), so the series must level off once they are full; the verdict is the slope of a straight line
fitted to the series after the first 100 uploads.

A script, not a test: it prints figures and asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: benchmarks, harness, app

from benchmarks import machine, workload  # noqa: E402
from harness import server, stclient  # noqa: E402


async def uploads(srv: server.Server, args, folder: str | None) -> list[tuple[int, float]]:
    sessions = [stclient.Session(srv.url, timeout=600) for _ in range(args.sessions)]
    for s in sessions:
        await s.open()
        if folder:
            await s.select("model_choice", workload.LOCAL_FOLDER)
            await s.set_text("model_folder", folder)
        await s.run(page=workload.ATTENTION)
    series = [(0, srv.rss_mb())]
    print(f"  after    0 uploads: {series[0][1]:7.0f} MB  ({args.sessions} sessions open on the explorer)", flush=True)
    errors = 0
    for k in range(1, args.uploads + 1):
        s = sessions[k % len(sessions)]
        run = await s.upload("upload", f"picture_{k}.jpg", workload.picture(1000 + k))
        errors += bool(run.errors)
        if k % 10 == 0:
            series.append((k, srv.rss_mb()))
            print(f"  after {k:4d} uploads: {series[-1][1]:7.0f} MB", flush=True)
    for s in sessions:
        await s.close()
    print(f"  uploads with an error: {errors}")
    return series


def verdict(series: list[tuple[int, float]], full_after: int = 100, tolerance: float = 5.0) -> str:
    """A straight line fitted to the RSS after the first `full_after` uploads (by then the largest cache, 64 entries,
    is full): its slope, in MB per 100 uploads, with its standard error. PLATEAU when the slope is at most
    `tolerance`; STILL GROWING when it is above and more than twice its standard error; otherwise the samples are too
    noisy to tell (run more uploads). A window-to-window comparison misses a slow leak hidden in the sampling noise
    (0.27 MB an upload once went unnoticed that way)."""
    tail = [(n, mb) for n, mb in series if n >= full_after]
    if len(tail) < 6:
        return f"too few uploads for a verdict (need samples past upload {full_after + 50})"
    xs, ys = [n / 100 for n, _ in tail], [mb for _, mb in tail]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    residual = sum((y - my - slope * (x - mx)) ** 2 for x, y in zip(xs, ys))
    stderr = (residual / (len(xs) - 2) / sxx) ** 0.5
    word = ("PLATEAU" if slope <= tolerance else "STILL GROWING" if slope > 2 * stderr
            else "UNCLEAR (noisier than the slope; run more uploads)")
    return (f"{word}: {slope:+.1f} ± {stderr:.1f} MB per 100 uploads after upload {full_after} "
            f"(least-squares slope ± standard error over {len(tail)} samples; flat: at most +{tolerance:.0f}); "
            f"{min(ys):.0f}–{max(ys):.0f} MB over uploads {tail[0][0]}–{tail[-1][0]}; "
            f"peak {max(mb for _, mb in series):.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--model", choices=["teaching", "b16"], default="teaching")
    parser.add_argument("--option", action="append", default=[], help="an extra streamlit flag for the server")
    args = parser.parse_args()
    started = machine.header(f"memory: {args.uploads} different uploads through {args.sessions} sessions "
                             f"({args.model} model, options {args.option or 'none'})")
    with tempfile.TemporaryDirectory() as tmp:
        folder = str(workload.b16_checkpoint(Path(tmp))) if args.model == "b16" else None
        with server.running(options=tuple(args.option)) as srv:
            series = asyncio.run(uploads(srv, args, folder))
    print(f"  RSS series (MB, every 10 uploads): {' '.join(f'{v:.0f}' for _, v in series)}")
    print(f"  verdict: {verdict(series)}")
    machine.footer(started)


if __name__ == "__main__":
    main()
