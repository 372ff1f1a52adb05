"""A classroom on one server: N learners at once, each uploading a picture and stepping through attention heads.

    python benchmarks/classroom.py [--sessions 1,10,30,60] [--steps 20] [--think 2] [--model teaching|b16]
                                   [--option=--runner.postScriptGC=false …] [--validate] [--media]
    python benchmarks/classroom.py --url http://localhost:8501 [--pid PID[,PID...]] [--sessions …] …

For each N this starts a fresh app server (`python -m app`, as `make run` starts it) on a free port and N
lightweight clients that speak the browser's protocol over the websocket (harness/stclient.py), all in this one
process. With `--url` it starts none and drives the server already running there, e.g. HAProxy and its replicas
(`make serve-class`, docs/DEPLOY.md), the same server for every N; `--pid` names the processes whose memory and CPU
to report (each with its children: serve_class prints its own pid for this). Each learner arrives within the first
`--ramp` seconds, loads the app, opens "1 · Image → patches", uploads its own generated 1024×768 JPEG (through the
same HTTP upload endpoint the browser uses; the page must then say "1024×768 pixels as uploaded"), opens "5 ·
Attention explorer" and steps ▶ (next head) `--steps` times — ◀ once past the last head — waiting a
random 0.5–1.5 × `--think` seconds between clicks, as a learner reading the page would. With `--media` each learner
also fetches the pictures every run draws, as the browser does (not in the step time; a failed fetch is an error).

A step of the explorer is drawn by the browser (app/explorer.js) and reaches the server only as the explorer's
debounced report of the new view, which reruns the explorer's fragment: the client sends that report, as the browser
does (the component's state as JSON), one per step, since a learner thinks longer than the debounce.
Step time: from sending the report to receiving script_finished.
Errors: an exception or error box in the page, a run that did not finish, a failed upload, a closed websocket.
Memory: RSS of the streamlit process (or the --pid processes) and its children, sampled every 0.5 s.
The clients share the 2 cores with the server; their own CPU time is printed, so you can see what they took.

--validate first drives one real Chromium session (Playwright) and this client through the same actions against one
server and compares what came back (the layout of every step's deltas, and its bytes).

A script, not a test: it prints figures and asserts nothing about time.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: benchmarks, harness, app

from benchmarks import machine, workload  # noqa: E402
from harness import server, stclient  # noqa: E402
from harness.browser import launch  # noqa: E402

TARGET_P95_MS = 500
EXPLORER = "att_explorer"  # the attention explorer's component (app/explorer.py)


class Learner:
    def __init__(self, i: int, url: str, args, folder: str | None):
        self.i, self.url, self.args, self.folder = i, url, args, folder
        # made before the class starts: making a 1024×768 JPEG takes ~40 ms of this one event loop, which would hold
        # up every other learner's client (and its clock) in the middle of the run
        self.picture = workload.picture(i)
        self.steps: list[float] = []
        self.step_starts: list[float] = []  # time.perf_counter() at each click
        self.explorer_open: float | None = None  # when this learner's explorer was on screen
        self.upload_ms: float | None = None
        self.errors: list[str] = []
        self.failed_steps = 0
        self.done = False

    def check(self, run: stclient.Run, what: str) -> stclient.Run:
        self.errors += [f"learner {self.i}, {what}: {e}" for e in run.errors]
        return run

    async def seen(self, s: stclient.Session, run: stclient.Run, what: str) -> stclient.Run:
        """check(), and with --media fetch the run's pictures as the browser would."""
        self.check(run, what)
        if self.args.media:
            self.errors += [f"learner {self.i}, {what}: {e}" for e in await s.fetch_media(run)]
        return run

    async def lesson(self) -> None:
        rng = random.Random(self.i)
        await asyncio.sleep(rng.uniform(0, self.args.ramp))
        s = stclient.Session(self.url, timeout=self.args.timeout)
        try:
            await self.seen(s, await s.open(), "load")
            if self.folder:  # the sidebar picker: "A checkpoint folder on this computer…", then the folder
                self.check(await s.select("model_choice", workload.LOCAL_FOLDER), "choose local model")
                await self.seen(s, await s.set_text("model_folder", self.folder), "type the model folder")
            await self.seen(s, await s.run(page=workload.PATCHES), "open page 1")
            start = time.perf_counter()
            run = self.check(await s.upload("upload", f"learner_{self.i}.jpg", self.picture), "upload")
            self.upload_ms = (time.perf_counter() - start) * 1000
            await self.seen(s, run, "upload")
            if not any("1024×768 pixels as uploaded" in t for t in run.texts()):
                self.errors.append(f"learner {self.i}: the page does not show the uploaded picture")
            run = await self.seen(s, await s.run(page=workload.ATTENTION), "open the attention explorer")
            self.explorer_open = time.perf_counter()
            data = s.component_data(EXPLORER)
            tokens = 197 if self.folder else 50  # the attention matrices this model draws
            if data["T"] != tokens:
                self.errors.append(f"learner {self.i}: the explorer has {data['T']} tokens, not {tokens}")
            view, L, H = dict(data["state"]), data["L"], data["H"]
            forward = True
            for k in range(self.args.steps):
                await asyncio.sleep(rng.uniform(0.5, 1.5) * self.args.think)
                # ▶ (◀ at the last head) is drawn by the browser; what reaches the server is the explorer's
                # report of the new view, once the learner has stopped for REPORT_MS (app/explorer.js)
                pos = (view["layer"] - 1) * H + view["head"] - 1
                if not 0 <= pos + (1 if forward else -1) < L * H:
                    forward = not forward
                pos += 1 if forward else -1
                view["layer"], view["head"] = pos // H + 1, pos % H + 1
                self.step_starts.append(time.perf_counter())
                run = await s.report(EXPLORER, "view", dict(view))
                self.steps.append(run.ms)  # a step that failed took its time too
                self.failed_steps += bool(run.errors)
                await self.seen(s, run, f"step {k + 1}")
            self.done = True
        except Exception as e:  # noqa: BLE001 - any failure of a learner is a figure, not a crash
            self.errors.append(f"learner {self.i}: {type(e).__name__}: {e}")
        finally:
            await s.close()


def processes(pids: list[int]) -> set[int]:
    """The given processes and all their descendants, each once."""
    return {p for pid in pids for p in server.children(pid)}


def rss_mb(pids: list[int]) -> float:
    """Resident memory of the processes and their children, in MB, each counted once (a pid that descends from
    another given pid is already in that one's figure)."""
    below = {c for pid in pids for c in server.children(pid)[1:]}
    return sum(server.rss_mb(pid) for pid in dict.fromkeys(pids) if pid not in below)


async def sample_rss(pids: list[int], series: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        series.append(rss_mb(pids))
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except asyncio.TimeoutError:
            pass


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for p in processes(pids):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serving(args, log: Path | None = None):
    """(URL, pids to measure): the server at --url and the --pid processes, or a fresh server of our own."""
    if args.url:
        yield args.url, args.pids
        return
    with server.running(log=log, options=tuple(args.option)) as srv:
        yield srv.url, [srv.pid]


async def classroom(n: int, args, folder: str | None) -> dict:
    log = Path(args.log) / f"classroom_{n}.log" if args.log else None
    with serving(args, log) as (url, pids):
        rss: list[float] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(pids, rss, stop))
        learners = [Learner(i, url, args, folder) for i in range(n)]
        # each learner's HTTP requests (the upload's PUT, --media's pictures) run in a thread, as each browser sends its
        # own: asyncio's default pool (min(32, cores + 4) = 6 threads here) queued a class's uploads in this client
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=n + 4))
        t0, c0, s0 = time.perf_counter(), os.times(), cpu_seconds(pids)
        await asyncio.gather(*(learner.lesson() for learner in learners))
        wall, c1, s1 = time.perf_counter() - t0, os.times(), cpu_seconds(pids)
        stop.set()
        await sampler
    steps = [ms for learner in learners for ms in learner.steps]
    uploads = [learner.upload_ms for learner in learners if learner.upload_ms is not None]
    errors = [e for learner in learners for e in learner.errors]
    failed = sum(learner.failed_steps for learner in learners)
    # steady state: the steps taken after every learner had uploaded and opened the explorer
    settled = max((learner.explorer_open for learner in learners if learner.explorer_open), default=0)
    steady = [ms for learner in learners for ms, at in zip(learner.steps, learner.step_starts) if at > settled]
    p = workload.percentile
    result = {"n": n, "steps": len(steps), "p50": p(steps, 50), "p95": p(steps, 95), "max": max(steps, default=0),
              "steady_p50": p(steady, 50), "steady_p95": p(steady, 95), "steady_steps": len(steady),
              "upload_p50": p(uploads, 50), "upload_p95": p(uploads, 95), "errors": len(errors), "failed_steps": failed,
              "finished": sum(learner.done for learner in learners), "rss_start": rss[0] if rss else 0,
              "rss_peak": max(rss, default=0), "rss_end": rss[-1] if rss else 0, "wall": wall,
              "server_cpu": s1 - s0, "client_cpu": (c1.user - c0.user) + (c1.system - c0.system)}
    print(f"  N = {n:3d}: {result['finished']}/{n} learners finished, {len(steps)} steps: "
          f"step p50 {result['p50']:6.0f} ms, p95 {result['p95']:6.0f} ms, max {result['max']:6.0f} ms; "
          f"upload+analysis p50 {result['upload_p50']:6.0f} ms, p95 {result['upload_p95']:6.0f} ms; "
          f"errors {len(errors)} ({failed} of the steps)", flush=True)
    print(f"           steady state (the {len(steady)} steps after the last learner had uploaded and opened the "
          f"explorer): p50 {result['steady_p50']:.0f} ms, p95 {result['steady_p95']:.0f} ms", flush=True)
    if pids:
        whose = f" (pids {','.join(map(str, pids))} and their children)" if args.url else ""
        print(f"           server RSS{whose} {result['rss_start']:.0f} MB at start, peak {result['rss_peak']:.0f} MB, "
              f"{result['rss_end']:.0f} MB at the end; {wall:.0f} s wall; CPU: server {result['server_cpu']:.0f} s, "
              f"these clients {result['client_cpu']:.0f} s", flush=True)
    else:
        print(f"           server RSS and CPU not measured (a server started elsewhere: --pid PID[,PID...] measures "
              f"it); {wall:.0f} s wall; CPU: these clients {result['client_cpu']:.0f} s", flush=True)
    for e in errors[:5]:
        print(f"           {e}")
    return result


# ---- validation against a real browser ---------------------------------------------------------------------------
def browser_runs(url: str, picture: Path, clicks: int) -> list[tuple[list, int]]:
    """Chromium through Playwright: load, page 1, upload, attention, `clicks` × ▶. The ForwardMsgs of each run
    (split at script_finished), with their bytes."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p.chromium)
        page = b.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()
        runs = stclient.PageRuns(page)

        def wait_run(page, before: int) -> None:
            runs.wait(page, before)
            page.wait_for_timeout(300)

        page.goto(url)
        page.get_by_text("Step 1").first.wait_for(timeout=300_000)
        wait_run(page, 0)
        n = runs.ended
        page.get_by_role("link", name=workload.PATCHES).click()
        wait_run(page, n)
        n = runs.ended
        page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(picture))
        wait_run(page, n)
        n = runs.ended
        page.get_by_role("link", name=workload.ATTENTION).click()
        wait_run(page, n)
        for _ in range(clicks):
            n = runs.ended
            page.locator(".vx button[data-act='next-head']").click()  # drawn at once; its report follows
            wait_run(page, n)
        b.close()
    return runs.runs()


async def client_runs(url: str, data: bytes, clicks: int) -> list[stclient.Run]:
    s = stclient.Session(url)
    runs = [await s.open(), await s.run(page=workload.PATCHES), await s.upload("upload", "learner_0.jpg", data),
            await s.run(page=workload.ATTENTION)]
    view, H = dict(s.component_data(EXPLORER)["state"]), s.component_data(EXPLORER)["H"]
    for _ in range(clicks):  # ▶ as the browser reports it (the teaching model: no layer ends within `clicks`)
        pos = (view["layer"] - 1) * H + view["head"]
        view["layer"], view["head"] = pos // H + 1, pos % H + 1
        runs.append(await s.report(EXPLORER, "view", dict(view)))
    await s.close()
    return runs


def validate(args) -> None:
    print(f"\nvalidation: one Chromium session and one protocol client, the same actions, "
          f"{args.url or 'one server'}")
    clicks = 3
    with tempfile.TemporaryDirectory() as tmp, serving(args) as (url, _):
        picture = Path(tmp) / "learner_0.jpg"
        picture.write_bytes(workload.picture(0))
        theirs = browser_runs(url, picture, clicks)
        ours = asyncio.run(client_runs(url, picture.read_bytes(), clicks))
    names = ["load", "page 1", "upload", "attention"] + [f"▶ {k + 1}" for k in range(clicks)]
    if len(theirs) != len(ours):
        print(f"  the browser made {len(theirs)} runs, the client {len(ours)}: {names}")
    for name, (msgs, size), run in zip(names, theirs, ours):
        b_layout = stclient.Run(messages=msgs).layout()
        same = b_layout == run.layout()
        b_texts = stclient.Run(messages=msgs).texts()
        print(f"  {name:10s}: browser {size / 1000:6.1f} KB in {len(msgs):3d} messages, "
              f"client {run.bytes / 1000:6.1f} KB in {run.frames:3d}; same page layout: {'yes' if same else 'NO'}; "
              f"same texts: {'yes' if b_texts == run.texts() else 'NO'}")


def check_target(parser: argparse.ArgumentParser, args) -> None:
    """--url, --pid and --sessions, checked before anything starts (parser.error: a message and exit code 2)."""
    try:
        sessions = [int(v) for v in args.sessions.split(",")]
    except ValueError:
        parser.error(f"--sessions takes whole numbers separated by commas, e.g. 1,10,30, not {args.sessions!r}")
    if not sessions or min(sessions) < 1:
        parser.error(f"--sessions: every number of learners must be at least 1, not {args.sessions!r}")
    args.pids = []
    if args.pid is not None and not args.url:
        parser.error("--pid is for a server started elsewhere (--url); without --url this script measures the "
                     "server it starts")
    if not args.url:
        return
    if args.option or args.log:
        parser.error("--option and --log are for the server this script starts; with --url the server is running")
    url = urlsplit(args.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        parser.error(f"--url must be an address such as http://localhost:8501, not {args.url!r}")
    args.url = args.url.rstrip("/")
    for text in filter(None, (v.strip() for v in (args.pid or "").split(","))):
        if not text.isdigit():
            parser.error(f"--pid takes process ids separated by commas, e.g. 1234,1240, not {args.pid!r}")
        if not Path(f"/proc/{text}").exists():
            parser.error(f"--pid: no process {text} is running on this machine")
        args.pids.append(int(text))
    try:
        server.wait_healthy(args.url, timeout=10)
    except RuntimeError:
        parser.error(f"nothing answers at {args.url}/_stcore/health: is the server running there?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="1,10,30,60", help="comma-separated numbers of learners")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between two clicks of one learner")
    parser.add_argument("--ramp", type=float, default=10.0, help="learners arrive within this many seconds")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a run counts as failed")
    parser.add_argument("--model", choices=["teaching", "b16"], default="teaching")
    parser.add_argument("--option", action="append", default=[],
                        help="an extra streamlit flag for the server, e.g. --option=--runner.postScriptGC=false")
    parser.add_argument("--log", help="a folder for the server logs (classroom_<N>.log)")
    parser.add_argument("--validate", action="store_true", help="compare with a real Chromium session first")
    parser.add_argument("--media", action="store_true",
                        help="each learner fetches the pictures of every run over HTTP, as the browser does")
    parser.add_argument("--url", help="drive the server already running there (e.g. http://localhost:8501, "
                                      "HAProxy of make serve-class) instead of starting one for each N")
    parser.add_argument("--pid", help="with --url: PID[,PID...] of the server's processes (with their children) "
                                      "whose memory and CPU to report")
    args = parser.parse_args()
    check_target(parser, args)
    where = args.url or "one server"
    started = machine.header(f"classroom: N concurrent learners on {where} ({args.model} model, "
                             f"{args.steps} steps each, think {args.think} s, options {args.option or 'none'})")
    if args.validate:
        validate(args)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = str(workload.b16_checkpoint(Path(tmp))) if args.model == "b16" else None
        for n in (int(v) for v in args.sessions.split(",")):
            results.append(asyncio.run(classroom(n, args, folder)))
    broken = [r["n"] for r in results if r["errors"] or r["p95"] > TARGET_P95_MS or r["finished"] < r["n"]]
    first = broken[0] if broken else "none of " + args.sessions
    print(f"\nfirst N over p95 {TARGET_P95_MS} ms or with errors: {first}")
    machine.footer(started)


if __name__ == "__main__":
    main()
