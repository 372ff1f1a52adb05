"""The class store under a class: N learner processes answering at once, against SQLite and against Redis.

    python benchmarks/class_store.py [--learners 60,120] [--backends sqlite,redis] [--questions 5] [--answers 4]
                                     [--redis redis://HOST:PORT/DB] [--folder DIR]

For each back end and each N: a fresh store (SQLite: a new file in a temporary folder, WAL, as the default; Redis: a
redis-server this script starts on a free port with no persistence, or the one --redis names, whose database it
empties first), a class opened by the presenter (this process), and N learner processes, each with its own store
connection and session, as N replicas' worth of learners would be. They start together. For each of --questions
questions, the presenter opens it; each learner polls the class's state (every 20 ms, as a follower would) until it
sees the question, then answers it --answers times in a row (a first answer and its changes of mind: the last one
stands); the presenter polls the tally until all N have answered, then opens the next.

Answer latency: one `store.answer` call, in the learner's process. Poll latency: one `store.state` call.
Answers per second: each question's answers over that question's span, from its first answer sent to its last one
acknowledged, summed over the questions (the presenter's and the polls' pauses between questions not counted).
Question to all answered: from the presenter opening it to the tally counting all N (the slowest question).
Lost: an acknowledged last answer missing from, or different in, the presenter's tally (per question, value by value).
The rate limit is raised for the run (1,000,000 a window): learners here answer faster than the app lets a person,
so that the store, not the limit, sets the pace; the limit's own check still runs on every answer.

A script, not a test: it prints figures and asserts nothing about time. The learners share the machine's cores with the
store (and Redis): on the 2-core machine of docs/PERFORMANCE.md, N processes contend for 2 cores.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: app, harness

from app.lessons import store as S  # noqa: E402
from harness.server import free_port  # noqa: E402

RATE = (1_000_000, 10.0)
POLL_S = 0.02


def learner(url: str, code: str, questions: int, answers: int, start, finished, results) -> None:
    """One learner: its own store connection and session; poll, then answer each question `answers` times."""
    try:
        store = S.connect(url, rate=RATE)
        session = S.new_session()
        timed, polls, last, errors = [], [], {}, Counter()
        start.wait(120)
        for q in range(1, questions + 1):
            while True:
                t = time.monotonic()
                state = store.state(code)
                polls.append(time.monotonic() - t)
                if state.question_id == q and state.open:
                    break
                time.sleep(POLL_S)
            for k in range(answers):
                value = (hash(session) + k) % 49
                t = time.monotonic()
                try:
                    store.answer(code, session, q, value, right=value % 2 == 0)
                except S.ClassStoreError as e:
                    errors[getattr(e, "reason", type(e).__name__)] += 1
                    continue
                timed.append((q, t, time.monotonic()))
                last[q] = value
            with finished.get_lock():
                finished.value += 1
        results.put((timed, polls, last, errors))
    except BaseException as e:
        results.put(f"{type(e).__name__}: {e}")


def percentile(xs: list[float], p: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[p - 1] if len(xs) > 1 else (xs or [0.0])[0]


def run(url: str, n: int, questions: int, answers: int) -> dict:
    store = S.connect(url, rate=RATE)
    opened = store.open_class("benchmark")
    ctx = multiprocessing.get_context("fork")
    start, finished, results = ctx.Barrier(n + 1), ctx.Value("i", 0), ctx.Queue()
    procs = [ctx.Process(target=learner, args=(url, opened.code, questions, answers, start, finished, results))
             for _ in range(n)]
    for p in procs:
        p.start()
    start.wait(120)
    time_to_all = []
    for q in range(1, questions + 1):
        t = time.monotonic()
        store.open_question(opened.code, opened.secret, S.Question.patch(49))
        while store.tally(opened.code, opened.secret, q).answered < n and time.monotonic() - t < 60:
            time.sleep(0.01)
        time_to_all.append(time.monotonic() - t)
        while finished.value < n * q and time.monotonic() - t < 60:  # every change of mind in, before the next
            time.sleep(0.01)
    out = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(30)
    broken = [o for o in out if isinstance(o, str)]
    done = [o for o in out if not isinstance(o, str)]
    timed = [x for o in done for x in o[0]]
    latencies = [t1 - t0 for _, t0, t1 in timed]
    polls = [x for o in done for x in o[1]]
    # the store's pace: each question's answers over that question's span, first sent to last acknowledged
    spans = sum(max(t1 for q_, _, t1 in timed if q_ == q) - min(t0 for q_, t0, _ in timed if q_ == q)
                for q in {q for q, _, _ in timed})
    errors = sum((o[3] for o in done), Counter()) + Counter(broken=len(broken))
    lost = 0
    for q in range(1, questions + 1):
        expected = Counter(o[2][q] for o in done if q in o[2])
        got = Counter(store.tally(opened.code, opened.secret, q).counts)
        lost += sum((expected - got).values())
    store.close()
    return dict(answers=len(latencies), per_s=len(latencies) / spans if spans else 0.0,
                p50=percentile(latencies, 50), p95=percentile(latencies, 95),
                poll50=percentile(polls, 50), poll95=percentile(polls, 95), polls=len(polls),
                all_max=max(time_to_all), errors=sum(errors.values()), why=dict(errors), lost=lost, broken=broken)


def redis_server(folder: Path):
    exe = shutil.which("redis-server")
    if not exe:
        sys.exit("redis-server not found: apt-get install redis-server (scripts/install_system_packages.sh)")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder), "--logfile", str(folder / "redis.log")], stdin=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    probe = S.connect(url)
    for _ in range(200):
        try:
            probe.r.ping()
            break
        except Exception:
            time.sleep(0.05)
    probe.close()
    return proc, url


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--learners", default="60,120", help="N, comma-separated")
    p.add_argument("--backends", default="sqlite,redis")
    p.add_argument("--questions", type=int, default=5)
    p.add_argument("--answers", type=int, default=4, help="answers per learner and question (the last one stands)")
    p.add_argument("--redis", help="a running Redis to use (its database is emptied) instead of starting one")
    p.add_argument("--folder", help="where the SQLite files go (default: a temporary folder)")
    args = p.parse_args(argv)
    folder = Path(args.folder or tempfile.mkdtemp(prefix="class-store-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"class store benchmark: {os.cpu_count()} cores, {args.questions} questions, {args.answers} answers per "
          f"learner and question, SQLite {S.sqlite3.sqlite_version}", flush=True)
    redis_proc = None
    try:
        for backend in args.backends.split(","):
            for n in map(int, args.learners.split(",")):
                if backend == "sqlite":
                    url = f"sqlite:///{folder}/bench-{n}.sqlite3"
                else:
                    if args.redis:
                        url = args.redis
                    elif redis_proc is None:
                        redis_proc, url = redis_server(folder)
                    S.connect(url).r.flushdb()
                r = run(url, n, args.questions, args.answers)
                print(f"{backend:6} N = {n:3}: {r['per_s']:7.0f} answers/s ({r['answers']} answers), answer "
                      f"p50 {r['p50'] * 1e3:6.2f} ms p95 {r['p95'] * 1e3:6.2f} ms, state poll p50 "
                      f"{r['poll50'] * 1e3:5.2f} ms p95 {r['poll95'] * 1e3:5.2f} ms ({r['polls']} polls), question "
                      f"to all {n} answered (max) {r['all_max'] * 1e3:.0f} ms, errors {r['errors']}, lost {r['lost']}",
                      flush=True)
                if r["errors"]:
                    print("   errors:", r["why"])
                for b in r["broken"][:3]:
                    print("   a learner failed:", b)
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)
        if not args.folder:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
