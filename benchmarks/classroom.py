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

--lesson (issue 26 §7) is a lesson instead: a presenter and N learners in one class, through `make serve-class` with
--replicas replicas (2; started for each N, with a class store of its own) or the server at --url (--pid: its
processes). The presenter is a client too: it loads a lesson file of ten beats of the shipped lesson with five
questions of the four kinds (LESSON_BEATS, --beats to take fewer), opens the class ("Teach a class") and reads its
code. Each learner arrives within --ramp seconds at the class's address (?class=CODE&me=TOKEN), uploads its own
picture and then follows: its page reruns the poll fragment on the browser's timer (stclient.LiveSession: every
play.POLL_S, as the frontend's setInterval does), and the poll reruns the whole page when the class moves. When the
page asks a question, the learner thinks (0.5–1.5 × --think s) and answers on ask.py's widgets. For every beat the
presenter waits until each learner's page is drawn; on a question, until every answer is acknowledged and its own
count (the tally fragment) shows them, then presses Reveal; then --dwell seconds, then Next.
Figures: join to first page (opening the address to the end of the first run); upload (the upload to the end of its
run); the presenter's key to every learner's screen (Next's click to the learner receiving the new beat's bar, its
caption "beat k of n"; and to the end of that page's run); an answer to the presenter's count (a learner's
acknowledged answer to the first count on the presenter's screen that includes it); server CPU per learner; errors
(an exception or error box, a run that did not finish, a beat a learner's screen never showed); lost answers
(acknowledged, but missing from the presenter's last count or from the store, read at the end with VIT_CLASS_STORE).
One line per N for scripts: `lesson N = 60: upload p95 X ms, beat p95 Y ms, answer p95 Z ms, errors E, lost answers K`.
With --validate, one Chromium learner and one protocol client join the same class first: how often each reruns the
poll fragment, with which fragment id, and when Next reaches each.

    python benchmarks/classroom.py --lesson [--sessions 60,120] [--beats 10] [--replicas 2] [--validate]
    python benchmarks/classroom.py --lesson --url http://127.0.0.1:8501 --pid PID

A script, not a test: it prints figures and asserts nothing about time.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository: benchmarks, harness, app

from app.lessons import lesson as lessons  # noqa: E402
from app.lessons import store  # noqa: E402
from benchmarks import machine, workload  # noqa: E402
from harness import server, stclient  # noqa: E402
from harness.browser import launch  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

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


# ---- a lesson: a presenter and N learners through the class store (issue 26 §7) ------------------------------------
LESSON_BEATS = (1, 2, 3, 12, 14, 15, 17, 18, 22, 23)  # beats of the shipped lesson: 10 beats, 5 questions, 4 kinds
UPLOADED = "1024×768 pixels as uploaded"  # page 1's caption of an upload (patches.original_caption)
BAR = re.compile(r"· beat (\d+) of (\d+) ·")  # the bar's caption (lessons.bar_beat): what a learner's screen shows
TALLY = re.compile(r"(\d+) (?:of \d+ )?(?:learners? )?(?:have )?answered")  # the presenter's count (ask.tally)
LESSON_TARGETS = {"upload": 2000, "beat": 1000, "answer": 1000}  # p95 in ms at N = 60 (issue 26 §7)


def lesson_file(beats: int) -> bytes:
    """A teacher's own lesson file: the first `beats` of LESSON_BEATS, cut from the shipped lesson's text."""
    src = (Path(lessons.__file__).parent / "first-vit.toml").read_text(encoding="utf-8")
    head, *blocks = re.split(r"\n(?=\[\[beat\]\])", src)
    head = re.sub(r'^id = ".*"$', 'id = "classroom-benchmark"', head, count=1, flags=re.M)
    return "\n".join([head] + [blocks[k - 1].rstrip() + "\n" for k in LESSON_BEATS[:beats]]).encode()


@dataclass
class Class:
    """What the presenter and the learners share in this process: the class, when each key was pressed, the end."""

    n: int
    beats: int
    lesson: lessons.Lesson
    code: str = ""
    secret: str = ""
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    over: asyncio.Event = field(default_factory=asyncio.Event)
    clicks: dict[int, float] = field(default_factory=dict)  # beat k (from 1) → when the presenter pressed Next to it
    tallies: dict[int, list[tuple[float, int]]] = field(default_factory=dict)  # question id → (time, count shown)
    errors: list[str] = field(default_factory=list)
    questions: dict[int, store.Question] = field(default_factory=dict)

    def question(self, qid: int) -> store.Question:
        """Question `qid`'s kind and range, as the class store holds it (read once)."""
        if qid not in self.questions:
            s = store.connect()
            try:
                state = s.state(self.code)
            finally:
                s.close()
            if state.question_id != qid or state.question is None:
                raise stclient.ProtocolError(f"question {qid} is not the class's open question")
            self.questions[qid] = state.question
        return self.questions[qid]


class LessonLearner:
    """A student's phone or laptop: joins by the class's address, uploads their picture, follows, answers."""

    def __init__(self, i: int, url: str, args, room: Class):
        self.i, self.url, self.args, self.room = i, url, args, room
        self.picture = workload.picture(i)
        self.me = store.new_session()
        self.seen: dict[int, float] = {}  # beat k → when its bar reached this learner
        self.drawn: dict[int, float] = {}  # beat k → when the whole page under that bar was drawn (its run's end)
        self.join_ms: float | None = None
        self.upload_ms: float | None = None
        self.acked: dict[int, tuple[float, int]] = {}  # question id → (when the answer was acknowledged, value)
        self.tried: set[int] = set()  # questions answered, acknowledged or not
        self.errors: list[str] = []
        self.session: stclient.LiveSession | None = None
        self.changed = asyncio.Event()
        self.done = False
        self.trace: list[tuple[float, str]] = []  # (time, what): runs started and ended, bars shown
        self.picture_seen = False  # the page said "1024×768 pixels as uploaded"
        self.picture_drawn: float | None = None  # the end of the first whole run that said it

    def watch(self, m, now: float) -> None:
        kind = m.WhichOneof("type")
        if kind == "new_session":
            self.trace.append((now, f"start {'fragment' if m.metadata.run.fragment_ids else 'app'} "
                                    f"{m.new_session.page_script_hash[:6]}"))
        elif kind == "script_finished":
            self.trace.append((now, f"end {m.script_finished}"))
        if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element":
            el = m.delta.new_element
            if el.WhichOneof("type") == "imgs" and any(UPLOADED in img.caption for img in el.imgs.imgs):
                self.picture_seen = True
            elif el.WhichOneof("type") == "markdown":
                self.picture_seen |= UPLOADED in el.markdown.body
                found = BAR.search(el.markdown.body)
                if found:
                    self.trace.append((now, f"bar {found[1]}"))
                if found and int(found[1]) not in self.seen:
                    self.seen[int(found[1])] = now
        elif kind == "script_finished":
            if self.session is not None and self.session._current_full and ends_whole_run(m):
                for k in self.seen:
                    self.drawn.setdefault(k, now)
                if self.picture_seen and self.picture_drawn is None:
                    self.picture_drawn = now
            self.changed.set()

    async def lesson(self) -> None:
        rng = random.Random(self.i)
        await asyncio.sleep(rng.uniform(0, self.args.ramp))
        s = self.session = stclient.LiveSession(self.url, timeout=self.args.timeout,
                                                query=f"class={self.room.code}&me={self.me}")
        s.watchers.append(self.watch)
        try:
            start = time.perf_counter()
            run = await s.open()
            self.join_ms = (time.perf_counter() - start) * 1000
            self.check(run, "join")
            if not self.seen:
                self.errors.append(f"learner {self.i}: the page after joining shows no lesson bar")
            start = time.perf_counter()
            self.check(await s.upload("upload", f"learner_{self.i}.jpg", self.picture), "upload")
            # the whole run that answered the upload is the first to start after it was sent; a poll's whole run
            # may start between the two, before the server has read the upload: then the next one shows it
            deadline = time.monotonic() + self.args.timeout
            while self.picture_drawn is None and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if self.picture_drawn is None:
                self.errors.append(f"learner {self.i}: the page does not show the uploaded picture")
            else:
                self.upload_ms = (self.picture_drawn - start) * 1000
            while not self.room.over.is_set():
                await self.answer_if_asked(rng)
                self.changed.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), 1.0)
            self.done = True
        except Exception as e:  # noqa: BLE001 - any failure of a learner is a figure, not a crash
            self.errors.append(f"learner {self.i}: {type(e).__name__}: {e}")
        finally:
            self.errors += [f"learner {self.i}: {e}" for e in s.errors]
            await s.close()

    def check(self, run: stclient.Run, what: str) -> stclient.Run:
        self.errors += [f"learner {self.i}, {what}: {e}" for e in run.errors]
        return run

    async def answer_if_asked(self, rng: random.Random) -> None:
        """The open question on screen, if this learner has not answered it: think, then answer (app/lessons/ask.py's
        widgets)."""
        s = self.session
        qid = question_on_screen(s)
        if qid is None or qid in self.acked or qid in self.tried:
            return
        self.tried.add(qid)
        await asyncio.sleep(rng.uniform(0.5, 1.5) * self.args.think)
        value, run = await answer(s, qid, self.room.question(qid), rng)
        self.check(run, f"answer to question {qid}")
        if not run.errors:
            self.acked[qid] = (time.perf_counter(), value)


def ends_whole_run(m) -> bool:
    return m.script_finished == m.FINISHED_SUCCESSFULLY


QUESTION_KEY = re.compile(r"^lesson_q(\d+)")  # screen._learner: ask.ask(..., key=f"lesson_q{question_id}")


def question_on_screen(s: stclient.LiveSession) -> int | None:
    """The id of the question whose widgets the learner's page shows now, or None."""
    ids = {int(found[1]) for key in s.on_page if (found := QUESTION_KEY.match(key))}
    return max(ids) if ids else None


async def answer(s: stclient.LiveSession, qid: int, q: store.Question, rng: random.Random) -> tuple[int, stclient.Run]:
    """Answer question `qid` as a learner does on app/lessons/ask.py's widgets: a value within the question's range
    put in its input, then its submit button; the answer is acknowledged by the whole-app run that follows (the page
    shows it as the learner's own). (value, that run)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    value = rng.randint(q.low, min(q.high, q.low + 60))
    keys = sorted(k for k in s.on_page if (found := QUESTION_KEY.match(k)) and int(found[1]) == qid)
    submit = None
    for key in keys:
        el = s.widgets[key][2]
        what = el.DESCRIPTOR.name
        state = WidgetState()
        if what == "Button":
            submit = key
            continue
        if what == "NumberInput":
            if el.data_type == el.INT:
                state.int_value = value
            else:
                state.double_value = value
        elif what in ("Radio", "Selectbox"):
            state.int_value = value - q.low
        elif what == "Slider":
            state.double_array_value.data.append(value)
        elif what == "BidiComponent":
            state.json_value = json.dumps({"value": value, "patch": value})
        else:
            raise stclient.ProtocolError(f"question {qid}: no way yet to answer with a {what} ({key})")
        s.values[key] = state
    if submit is None:
        raise stclient.ProtocolError(f"question {qid}: no submit button among {keys}")
    return value, await s.submit(submit)


class Presenter:
    """The teacher: loads the benchmark's lesson file, opens the class, waits for the class, and for each beat lets
    the learners answer its question, reveals, and presses Next."""

    def __init__(self, url: str, args, room: Class, learners: list[LessonLearner]):
        self.url, self.args, self.room, self.learners = url, args, room, learners
        self.session: stclient.LiveSession | None = None
        self.asking: int | None = None  # the question open now

    def watch(self, m, now: float) -> None:
        """The count of answers on the presenter's screen (ask.tally), for the question open now."""
        if self.asking is None or m.WhichOneof("type") != "delta" or m.delta.WhichOneof("type") != "new_element":
            return
        el = m.delta.new_element
        what = el.WhichOneof("type")
        text = getattr(el, what).body if what in ("markdown", "heading") else ""
        found = TALLY.search(text)
        if found:
            self.room.tallies.setdefault(self.asking, []).append((now, int(found[1])))

    def check(self, run: stclient.Run, what: str) -> stclient.Run:
        self.room.errors += [f"presenter, {what}: {e}" for e in run.errors]
        return run

    async def lead(self) -> None:
        room, args = self.room, self.args
        s = self.session = stclient.LiveSession(self.url, timeout=args.timeout)
        s.watchers.append(self.watch)
        try:
            self.check(await s.open(), "load")
            self.check(await s.upload("lesson_own_file", "classroom-benchmark.toml", lesson_file(room.beats),
                                      mime="application/toml"), "load the lesson file")
            self.check(await s.click("lesson_teach"), "open the class")
            query = dict(parse_qsl(s.component_data("url_state")["query"]))
            room.code, room.secret = query["class"], query["key"]
            room.opened.set()
            await self.until(lambda: all(x.upload_ms is not None or x.errors for x in self.learners),
                             args.ramp + args.timeout)
            for k in range(1, room.beats + 1):
                # as a teacher does, until every learner's page is drawn: the next key's burst of runs starts then
                await self.until(lambda: all(k in x.drawn or x.errors for x in self.learners), args.timeout)
                if room.lesson.beats[k - 1].question is not None and "lesson_reveal" in s.on_page:
                    await self.ask(k)  # (without app/lessons/ask.py a beat draws no question and no Reveal)
                await asyncio.sleep(args.dwell)
                if k < room.beats:
                    room.clicks[k + 1] = time.perf_counter()
                    self.check(await s.click("lesson_next"), f"Next to beat {k + 1}")
            await asyncio.sleep(1)
        except Exception as e:  # noqa: BLE001
            room.errors.append(f"presenter: {type(e).__name__}: {e}")
        finally:
            room.opened.set()
            room.over.set()
            room.errors += [f"presenter: {e}" for e in s.errors]
            await s.close()

    async def ask(self, k: int) -> None:
        """Beat k's question, opened by the key that moved the class onto it: wait for every learner's answer and for
        the presenter's count to show them all, then reveal."""
        s = store.connect()
        try:
            qid = s.state(self.room.code).question_id
        finally:
            s.close()
        self.asking = qid
        learners, timeout = self.learners, self.args.timeout
        # (a learner with an error, e.g. a refused answer, is not waited for)
        await self.until(lambda: all(qid in x.acked or x.errors for x in learners), 3 * self.args.think + timeout)
        acked = sum(qid in x.acked for x in learners)
        if not await self.until(lambda: max((c for _, c in self.room.tallies.get(qid, [])), default=0) >= acked,
                                timeout):
            self.room.errors.append(f"question {qid}: the presenter's count never reached the {acked} answers "
                                    f"acknowledged within {timeout:.0f} s")
        self.check(await self.session.click("lesson_reveal"), f"reveal question {qid}")
        self.asking = None

    @staticmethod
    async def until(condition, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True


@contextlib.contextmanager
def serving_class(args, n: int):
    """(URL, pids): the server at --url, or a fresh `make serve-class` (deploy.serve_class) with --replicas replicas
    and a class store of its own in a temporary folder (unless VIT_CLASS_STORE is set)."""
    if args.url:
        yield args.url, args.pids
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.setdefault(store.ENV, f"sqlite:///{tmp}/class-store.sqlite3")
        port, first = server.free_port(), consecutive_ports(args.replicas)
        log = Path(args.log) / f"lesson_{n}.log" if args.log else Path(tmp) / "serve_class.log"
        with open(log, "w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "deploy.serve_class", "--replicas", str(args.replicas),
                                     "--port", str(port), "--address", "127.0.0.1", "--replica-port", str(first)],
                                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        old = os.environ.get(store.ENV)
        os.environ[store.ENV] = env[store.ENV]  # the end's check reads the same store
        try:
            server.wait_healthy(url, timeout=240, proc=proc)
            yield url, [proc.pid]
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if old is None:
                os.environ.pop(store.ENV, None)
            else:
                os.environ[store.ENV] = old


def consecutive_ports(n: int) -> int:
    """The first of n consecutive ports free on 127.0.0.1 now (the replicas' ports, after HAProxy's)."""
    from deploy import serve_class

    for _ in range(100):
        first = server.free_port()
        if first + n <= 65535 and not any(serve_class.bind_problem("127.0.0.1", first + k) for k in range(n)):
            return first
    raise RuntimeError(f"no {n} consecutive free ports")


def answer_latencies(room: Class, learners: list[LessonLearner]) -> list[float]:
    """For each acknowledged answer: from its acknowledgement to the first count on the presenter's screen that
    includes it. The j-th answer acknowledged is counted once the count shown reaches j (the store counts an answer
    before the learner's page acknowledges it, so a count can include it at once: 0 ms)."""
    out = []
    for qid, shown in room.tallies.items():
        acks = sorted(at for x in learners for q, (at, _) in x.acked.items() if q == qid)
        for j, at in enumerate(acks, 1):
            when = next((t for t, count in shown if count >= j and t >= at), None)
            if when is None:
                when = next((t for t, count in shown if count >= j), None)
            if when is not None:
                out.append(max(0.0, when - at) * 1000)
    return out


def lost_answers(room: Class, learners: list[LessonLearner]) -> tuple[int, list[str]]:
    """Answers acknowledged on a learner's page but missing from the presenter's last count or from the store."""
    lost, said = 0, []
    s = store.connect()
    try:
        qids = sorted({q for x in learners for q in x.acked})
        for qid in qids:
            acked = [x for x in learners if qid in x.acked]
            shown = max((count for _, count in room.tallies.get(qid, [])), default=0)
            stored = s.tally(room.code, room.secret, qid)
            missing = [x.i for x in acked if s.own_answer(room.code, x.me, qid) != x.acked[qid][1]]
            k = max(len(acked) - shown, len(missing), len(acked) - stored.answered)
            if k:
                said.append(f"question {qid}: {len(acked)} answers acknowledged, the presenter's screen counted "
                            f"{shown}, the store holds {stored.answered}; learners without their answer stored: "
                            f"{missing[:10]}")
            lost += max(0, k)
    finally:
        s.close()
    return lost, said


async def lesson_class(n: int, args) -> dict:
    with serving_class(args, n) as (url, pids):
        room = Class(n, args.beats, lessons.parse(lesson_file(args.beats)))
        learners = [LessonLearner(i, url, args, room) for i in range(n)]
        presenter = Presenter(url, args, room, learners)
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=n + 4))
        rss: list[float] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(pids, rss, stop))
        lead = asyncio.create_task(presenter.lead())
        await room.opened.wait()
        t0, c0, s0 = time.perf_counter(), os.times(), cpu_seconds(pids)
        if room.code:
            await asyncio.gather(*(x.lesson() for x in learners))
        await lead
        wall, c1, s1 = time.perf_counter() - t0, os.times(), cpu_seconds(pids)
        stop.set()
        await sampler
        lost, lost_said = lost_answers(room, learners) if room.code else (0, [])
    p = workload.percentile
    joins = [x.join_ms for x in learners if x.join_ms is not None]
    uploads = [x.upload_ms for x in learners if x.upload_ms is not None]
    beats = [(x.seen[k] - at) * 1000 for k, at in room.clicks.items() for x in learners if k in x.seen]
    pages = [(x.drawn[k] - at) * 1000 for k, at in room.clicks.items() for x in learners if k in x.drawn]
    answers = answer_latencies(room, learners)
    errors = room.errors + [e for x in learners for e in x.errors]
    errors += [f"learner {x.i}'s screen never showed beat {k} (it showed beats {sorted(x.seen)}; "
               f"{x.session.full_runs} whole runs, {x.session.auto_reruns} poll reruns sent, "
               f"{len(x.session.timers)} timers)"
               for k in room.clicks for x in learners if k not in x.seen and x.session]
    acked = sum(len(x.acked) for x in learners)
    polls = sum(x.session.auto_reruns for x in learners if x.session)
    r = {"n": n, "join_p50": p(joins, 50), "join_p95": p(joins, 95), "upload_p50": p(uploads, 50),
         "upload_p95": p(uploads, 95), "beat_p50": p(beats, 50), "beat_p95": p(beats, 95),
         "beat_max": max(beats, default=0),
         "page_p50": p(pages, 50), "page_p95": p(pages, 95),
         "answer_p50": p(answers, 50), "answer_p95": p(answers, 95), "answers": acked, "errors": len(errors),
         "lost": lost, "wall": wall, "server_cpu": s1 - s0, "client_cpu": (c1.user - c0.user) + (c1.system - c0.system),
         "polls": polls, "finished": sum(x.done for x in learners), "rss_peak": max(rss, default=0)}
    print(f"  N = {n:3d}: {r['finished']}/{n} learners followed to the end; "
          f"join to first page p50 {r['join_p50']:.0f} ms, "
          f"p95 {r['join_p95']:.0f} ms; upload+analysis p50 {r['upload_p50']:.0f} ms, p95 {r['upload_p95']:.0f} ms",
          flush=True)
    print(f"           presenter's key to a learner's screen "
          f"({len(room.clicks)} keys × {n} learners, {len(beats)} seen): "
          f"p50 {r['beat_p50']:.0f} ms, p95 {r['beat_p95']:.0f} ms, max {r['beat_max']:.0f} ms; "
          f"to the whole page drawn "
          f"under it: p50 {r['page_p50']:.0f} ms, p95 {r['page_p95']:.0f} ms", flush=True)
    print(f"           answer to the presenter's count ({len(answers)} of {acked} answers acknowledged): "
          f"p50 {r['answer_p50']:.0f} ms, p95 {r['answer_p95']:.0f} ms", flush=True)
    if pids:
        print(f"           server CPU {r['server_cpu']:.0f} s in {wall:.0f} s wall: "
              f"{r['server_cpu'] / n:.2f} s per learner "
              f"({r['server_cpu'] / n / wall * 1000:.1f} ms a second); {polls} poll reruns sent "
              f"({polls / max(wall, 1e-9):.0f} a second); server RSS peak {r['rss_peak']:.0f} MB; "
              f"these clients {r['client_cpu']:.0f} s CPU", flush=True)
    else:
        print(f"           server CPU not measured (--pid PID measures it); {wall:.0f} s wall; {polls} poll reruns; "
              f"these clients {r['client_cpu']:.0f} s CPU", flush=True)
    for k in room.clicks:
        for x in learners:
            if k not in x.seen and os.environ.get("LESSON_TRACE"):
                print(f"learner {x.i}, beat {k} pressed at {room.clicks[k]:.2f}:",
                      [(round(t, 2), w) for t, w in x.trace if room.clicks[k] - 3 < t < room.clicks[k] + 35])
    if errors:
        kinds = {"an exception on the page": sum("exception:" in e for e in errors),
                 "a beat a screen never showed": sum("never showed" in e for e in errors)}
        kinds["other"] = len(errors) - sum(kinds.values())
        print("           errors: " + ", ".join(f"{k} {what}" for what, k in kinds.items() if k), flush=True)
    for e in (errors[:5] + lost_said[:5]):
        print(f"           {e}")
    print(f"lesson N = {n}: upload p95 {r['upload_p95']:.0f} ms, beat p95 {r['beat_p95']:.0f} ms, "
          f"answer p95 {r['answer_p95']:.0f} ms, errors {r['errors']}, lost answers {r['lost']}", flush=True)
    return r


# ---- a lesson's validation against a real browser -------------------------------------------------------------------
def lesson_validate(args) -> None:
    """One Chromium learner and one protocol client in the same class, the presenter a protocol client: what each
    sends by itself (the poll fragment's reruns: how many, how often, with which fragment id) and when the presenter's
    Next reaches each (the bar's caption)."""
    from playwright.sync_api import sync_playwright

    print(f"\nvalidation: one Chromium learner and one protocol client in one class, {args.url or 'two replicas'}")
    with serving_class(args, 0) as (url, _), sync_playwright() as p:
        # the protocol clients' loop runs all along in a thread of its own (their timers tick between our calls);
        # Playwright's sync API holds this thread's
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        on_loop = lambda coroutine: asyncio.run_coroutine_threadsafe(coroutine, loop).result()  # noqa: E731
        room = Class(1, 2, lessons.parse(lesson_file(2)))
        teacher = stclient.LiveSession(url, timeout=args.timeout)

        async def open_class() -> None:
            await teacher.open()
            await teacher.upload("lesson_own_file", "classroom-benchmark.toml", lesson_file(2), mime="application/toml")
            await teacher.click("lesson_teach")
            query = dict(parse_qsl(teacher.component_data("url_state")["query"]))
            room.code, room.secret = query["class"], query["key"]

        on_loop(open_class())
        client = LessonLearner(0, url, args, room)
        client.session = stclient.LiveSession(url, timeout=args.timeout, query=f"class={room.code}&me={client.me}")
        client.session.watchers.append(client.watch)
        b = launch(p.chromium)
        page = b.new_context(viewport={"width": 1366, "height": 900}, locale="en-US").new_page()
        sent: list[tuple[float, BackMsg]] = []

        def frame_sent(payload) -> None:
            if isinstance(payload, (bytes, bytearray)):
                m = BackMsg()
                m.ParseFromString(payload)
                sent.append((time.perf_counter(), m))

        def frame_received(payload) -> None:
            if isinstance(payload, (bytes, bytearray)):
                browser_view.watch(ForwardMsg.FromString(payload), time.perf_counter())

        browser_view = LessonLearner(1, url, args, room)
        page.on("websocket", lambda ws: (ws.on("framesent", frame_sent), ws.on("framereceived", frame_received)))
        page.goto(f"{url}/?class={room.code}&me={store.new_session()}")
        on_loop(client.session.open())
        page.get_by_text(re.compile(r"beat 1 of 2")).first.wait_for(timeout=args.timeout * 1000)
        page.wait_for_timeout(5000)
        polls = [(t, m.rerun_script) for t, m in sent if m.WhichOneof("type") == "rerun_script"
                 and m.rerun_script.is_auto_rerun]
        ours = client.session.auto_reruns  # the client joined a moment after the browser
        our_fragments = sorted(client.session.timers)
        room.clicks[2] = time.perf_counter()
        on_loop(presenter_next(teacher))
        deadline = time.monotonic() + args.timeout
        while (2 not in browser_view.seen or 2 not in client.seen) and time.monotonic() < deadline:
            page.wait_for_timeout(10)
        b.close()
        on_loop(client.session.close())
        on_loop(teacher.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        seen = {"browser": browser_view.seen.get(2), "client": client.seen.get(2)}
    gaps = [b[0] - a[0] for a, b in zip(polls, polls[1:])]
    fragments = {cs.fragment_id for _, cs in polls}
    print(f"  the browser sent {len(polls)} auto reruns in its first 5 s on the class's page "
          f"(median gap {workload.percentile(gaps, 50) * 1000:.0f} ms, fragment ids {sorted(fragments)}); "
          f"the client {ours} in about as long, fragment ids {our_fragments}")
    for who, at in seen.items():
        print(f"  Next reached the {who}'s bar in "
              + (f"{(at - room.clicks[2]) * 1000:.0f} ms" if at else "no time: it never came"))


async def presenter_next(s: stclient.LiveSession) -> None:
    await s.click("lesson_next")


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
        page.locator(".st-key-picture_upload input[type='file']").set_input_files(str(picture))
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


def lesson_main(args) -> None:
    where = args.url or f"make serve-class REPLICAS={args.replicas}"
    started = machine.header(f"classroom --lesson: a presenter and N learners on {where}: {args.beats} beats, "
                             f"learners join within {args.ramp:.0f} s, think {args.think} s before answering, "
                             f"the presenter stays {args.dwell} s on a beat")
    if args.validate:
        lesson_validate(args)
    results = [asyncio.run(lesson_class(int(v), args)) for v in args.sessions.split(",")]
    print()
    for r in results:
        missed = [f"{name} p95 {r[name + '_p95']:.0f} ms > {limit} ms" for name, limit in LESSON_TARGETS.items()
                  if not r[name + "_p95"] <= limit]
        missed += [f"{r['errors']} errors"] * bool(r["errors"]) + [f"{r['lost']} lost answers"] * bool(r["lost"])
        print(f"N = {r['n']}: {'every target met' if not missed else 'missed: ' + '; '.join(missed)}")
    machine.footer(started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", help="comma-separated numbers of learners (default 1,10,30,60; --lesson: 60,120)")
    parser.add_argument("--lesson", action="store_true",
                        help="a lesson: a presenter and N learners in a class through make serve-class")
    parser.add_argument("--beats", type=int, default=len(LESSON_BEATS),
                        help=f"--lesson: how many beats the class follows (1 to {len(LESSON_BEATS)})")
    parser.add_argument("--replicas", type=int, default=2, help="--lesson without --url: the replicas to start")
    parser.add_argument("--dwell", type=float, default=2.0,
                        help="--lesson: seconds the presenter stays on a beat once every learner has it")
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
    args.sessions = args.sessions or ("60,120" if args.lesson else "1,10,30,60")
    if not 1 <= args.beats <= len(LESSON_BEATS):
        parser.error(f"--beats: from 1 to {len(LESSON_BEATS)}, not {args.beats}")
    check_target(parser, args)
    if args.lesson:
        lesson_main(args)
        return
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
