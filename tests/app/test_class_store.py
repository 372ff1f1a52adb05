"""The class store (app/lessons/store.py, issue 26 §5–6): the same tests against SQLite and against Redis.

Every test that takes `store` or `url` runs twice, once per back end. For Redis, the `redis_url` fixture starts its own
`redis-server` (scripts/install_system_packages.sh installs it) on a free port, with no persistence, in a temporary
folder, and stops it at the end. Time is the injected `clock`: nothing sleeps, nothing is timed.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from app.lessons import store as S
from app.lessons.store import AnswerRefused, ClassCodeError, NotPresenter, Question, StoreSettingError
from harness.server import free_port
from tests.conftest import ROOT

CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}")  # Crockford's base 32: no I, L, O, U


class Clock:
    """The store's clock, moved by hand."""

    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A redis-server of our own: a free port, no RDB snapshots, no AOF, a temporary folder; stopped at the end."""
    exe = shutil.which("redis-server")
    assert exe, "redis-server not found: apt-get install redis-server (scripts/install_system_packages.sh)"
    import redis

    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder), "--logfile", str(folder / "redis.log")],
                            stdin=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + 20
    while True:
        assert proc.poll() is None, f"redis-server exited with {proc.returncode}: {(folder / 'redis.log').read_text()}"
        try:
            if client.ping():
                break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not answer PING within 20 s"
            time.sleep(0.05)
    client.close()
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(params=["sqlite", "redis"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/classes.sqlite3"
    url = request.getfixturevalue("redis_url")
    store = S.connect(url)
    store.r.flushdb()
    store.close()
    return url


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(url, clock):
    s = S.connect(url, clock=clock)
    yield s
    s.close()


def everything_stored(store) -> str:
    """Every byte the back end holds, as text."""
    if isinstance(store, S.RedisStore):
        return "\n".join(f"{k} {store.r.hgetall(k) if store.r.type(k) == 'hash' else store.r.get(k)}"
                         for k in sorted(store.r.keys("*")))
    with store._db() as db:
        return "\n".join(db.iterdump())


def patch_question(store, lesson="first-vit"):
    opened = store.open_class(lesson)
    state = store.open_question(opened.code, opened.secret, Question.patch(49))
    return opened, state.question_id


# ---- codes and secrets ---------------------------------------------------------------------------------------------
def test_a_join_code_is_50_bits_from_secrets_in_crockford_base_32(monkeypatch):
    """Format: 10 symbols of 32 (5 bits each: 50 bits), two groups of five. Entropy: every symbol turns up at every
    place in 2,000 codes (a place missing one of 32 symbols has a chance of 32·(31/32)^2000 ≈ 1e-26), and the codes
    come from `secrets`: with secrets.choice fixed, so is the code."""
    codes = [S.new_code() for _ in range(2000)]
    assert all(CODE.fullmatch(c) for c in codes) and len(set(codes)) == len(codes)
    assert S.CODE_BITS == 50 and len(S.ALPHABET) == 32 and len(set(S.ALPHABET)) == 32
    for place in [*range(5), *range(6, 11)]:
        assert {c[place] for c in codes} == set(S.ALPHABET)
    monkeypatch.setattr(S.secrets, "choice", lambda seq: seq[7])
    assert S.new_code() == "77777-77777"


def test_a_code_is_forgiven_as_typed_and_its_secret_is_separate_and_never_stored(store):
    opened = store.open_class("first-vit")
    code = opened.code
    assert CODE.fullmatch(code) and opened.state.code == code
    assert len(opened.secret) >= 32 and code.replace("-", "") not in opened.secret
    assert opened.secret not in repr(opened)  # repr hides the secret
    typed = [code.lower(), code.replace("-", ""), " " + code.replace("-", " ") + " ",
             code.replace("0", "O").replace("1", "I").lower()]
    assert {store.state(t).code for t in typed} == {code}
    assert store.open_class("first-vit").secret != opened.secret
    stored = everything_stored(store)
    assert code in stored and opened.secret not in stored and S._digest(opened.secret) in stored


# ---- the presenter secret ------------------------------------------------------------------------------------------
def test_a_forged_secret_cannot_advance_reveal_open_a_question_or_read_the_tally(store):
    opened, qid = patch_question(store)
    other = store.open_class("first-vit")
    store.answer(opened.code, S.new_session(), qid, 3, right=True)
    before = store.state(opened.code)
    s = opened.secret
    forged = [other.secret, s[:-1] + ("A" if s[-1] != "A" else "B"), s.upper() if s.upper() != s else s.lower(),
              s + "x", "", " " + s, None, 42, s.encode(), "x" * 100_000, opened.code]
    for secret in forged:
        for call in (lambda: store.set_beat(opened.code, secret, 5), lambda: store.advance(opened.code, secret),
                     lambda: store.open_question(opened.code, secret, Question.choice(2)),
                     lambda: store.reveal(opened.code, secret), lambda: store.tally(opened.code, secret)):
            with pytest.raises(NotPresenter):
                call()
    assert store.state(opened.code) == before  # nothing changed, not even the version
    assert store.tally(opened.code, opened.secret).answered == 1  # the real secret still works


# ---- codes that lead nowhere ---------------------------------------------------------------------------------------
MALFORMED = ["", "   ", "ABCD", "ABCDE-FGHJ", "ABCDE-FGHJKM", "ABCDE-FGHJU", "ABCD!-FGHJK", "ABCDE-FGHJ\u0417",
             "../../etc/passwd", "x" * 100_000, None, 1234567890, b"ABCDE-FGHJK", ["ABCDE-FGHJK"]]


def calls(store, code, secret="s" * 32, session="a" * 22):
    """Every call that takes a class code."""
    return {"state": lambda: store.state(code), "answer": lambda: store.answer(code, session, 1, 0, True),
            "own_answer": lambda: store.own_answer(code, session), "set_beat": lambda: store.set_beat(code, secret, 1),
            "advance": lambda: store.advance(code, secret), "reveal": lambda: store.reveal(code, secret),
            "open_question": lambda: store.open_question(code, secret, Question.choice(2)),
            "tally": lambda: store.tally(code, secret)}


@pytest.mark.parametrize("code", MALFORMED, ids=range(len(MALFORMED)))
def test_a_malformed_code_is_refused_before_the_store_is_asked(store, code, monkeypatch):
    def asked(*args, **kwargs):
        raise AssertionError("the store was asked")
    for primitive in ("_get", "_update", "_answer", "_answers", "_own", "_insert", "_purge"):
        monkeypatch.setattr(store, primitive, asked)
    for name, call in calls(store, code).items():
        with pytest.raises(ClassCodeError) as e:
            call()
        assert e.value.reason == S.MALFORMED, name


def test_an_unknown_code_is_not_found(store):
    store.open_class("first-vit")
    unknown = S.new_code()
    for name, call in calls(store, unknown).items():
        with pytest.raises(ClassCodeError) as e:
            call()
        assert (e.value.reason, e.value.code) == (S.NOT_FOUND, unknown), name


def test_a_class_and_its_answers_expire_a_day_after_it_opened(store, clock):
    opened, qid = patch_question(store)
    session = S.new_session()
    store.answer(opened.code, session, qid, 30, right=True)
    assert opened.state.expires == opened.state.created + 24 * 3600
    clock.advance(24 * 3600 - 1)
    assert store.state(opened.code).open and store.tally(opened.code, opened.secret).answered == 1
    clock.advance(1)
    for name, call in calls(store, opened.code, opened.secret, session).items():
        with pytest.raises(ClassCodeError) as e:
            call()
        assert e.value.reason == S.EXPIRED, name
    # a day later the class and its answers are deleted: the code is no longer known at all
    clock.advance(S.GRACE + 1)
    store.open_class("another")  # opening a class clears the old ones (SQLite); Redis expires its keys itself
    if isinstance(store, S.RedisStore):
        keys = store.r.keys(f"{store.PREFIX}{opened.code}*")
        assert len(keys) == 3  # the class, its answers to question 1, the session's rate counter
        assert all(0 < store.r.expiretime(k) <= opened.state.expires + S.GRACE + 1 for k in keys)
    else:
        with pytest.raises(ClassCodeError) as e:
            store.state(opened.code)
        assert e.value.reason == S.NOT_FOUND
        assert opened.code not in everything_stored(store) and session not in everything_stored(store)


# ---- answers -------------------------------------------------------------------------------------------------------
BAD_VALUES = [
    (Question.patch(49), [-1, 49, 10**6], [0, 48]),
    (Question.layer(6), [-1, 7], [0, 6]),
    (Question.choice(3), [-1, 3], [0, 2]),
    (Question.number(1, 100), [0, 101, 2**31, -2**40], [1, 100]),
]


@pytest.mark.parametrize("question, outside, edges", BAD_VALUES, ids=[q.kind for q, _, _ in BAD_VALUES])
def test_an_answer_outside_the_range_declared_is_refused_and_not_counted(store, question, outside, edges):
    opened = store.open_class("first-vit")
    qid = store.open_question(opened.code, opened.secret, question).question_id
    refused = []
    for value in outside + ["3", 2.0, 2.5, True, None, [1], float("nan")]:
        refused.append(S.new_session())
        with pytest.raises(AnswerRefused) as e:
            store.answer(opened.code, refused[-1], qid, value, right=True)
        assert e.value.reason == (S.OUT_OF_RANGE if value in outside else S.NOT_A_NUMBER), value
    assert all(store.own_answer(opened.code, s) is None for s in refused)
    tally = store.tally(opened.code, opened.secret)
    assert (tally.answered, tally.right, tally.counts, tally.question) == (0, 0, {}, question)
    for value in edges:
        store.answer(opened.code, S.new_session(), qid, value, right=value == edges[0])
    assert store.tally(opened.code, opened.secret) == S.Tally(qid, question, 2, 1, {edges[0]: 1, edges[1]: 1})


def test_an_answer_to_a_question_not_open_or_from_a_bad_session_is_refused(store):
    opened = store.open_class("first-vit")
    with pytest.raises(AnswerRefused) as e:
        store.answer(opened.code, S.new_session(), 1, 0, True)
    assert e.value.reason == S.NOT_OPEN  # no question yet
    qid = store.open_question(opened.code, opened.secret, Question.choice(2)).question_id
    for session in ["Alice", "", "a" * 65, "a" * 15, "a" * 21 + "!", None, 12]:
        with pytest.raises(AnswerRefused) as e:
            store.answer(opened.code, session, qid, 0, True)
        assert e.value.reason == S.BAD_SESSION, session
    for wrong in [qid + 1, qid - 1, str(qid)]:
        with pytest.raises(AnswerRefused) as e:
            store.answer(opened.code, S.new_session(), wrong, 0, True)
        assert e.value.reason == S.NOT_OPEN
    store.answer(opened.code, S.new_session(), qid, 1, True)
    store.reveal(opened.code, opened.secret)
    with pytest.raises(AnswerRefused) as e:
        store.answer(opened.code, S.new_session(), qid, 0, True)
    assert e.value.reason == S.NOT_OPEN  # revealed: answers are closed
    qid2 = store.open_question(opened.code, opened.secret, Question.choice(2)).question_id
    store.advance(opened.code, opened.secret)
    with pytest.raises(AnswerRefused) as e:
        store.answer(opened.code, S.new_session(), qid2, 0, True)
    assert e.value.reason == S.NOT_OPEN  # the presenter moved on: closed
    assert store.tally(opened.code, opened.secret, qid).counts == {1: 1}
    assert store.tally(opened.code, opened.secret).answered == 0


def test_answers_are_rate_limited_per_session(store, clock):
    opened, qid = patch_question(store)
    limit, window = S.RATE
    s, t = S.new_session(), S.new_session()
    for value in range(limit):
        store.answer(opened.code, s, qid, value, right=False)
    with pytest.raises(AnswerRefused) as e:
        store.answer(opened.code, s, qid, 40, right=True)
    assert e.value.reason == S.RATE_LIMITED and 0 < e.value.retry_after <= window
    store.answer(opened.code, t, qid, 20, right=True)  # another session is not held back
    assert store.tally(opened.code, opened.secret).counts == {limit - 1: 1, 20: 1}  # the refused answer not stored
    clock.advance(e.value.retry_after)
    store.answer(opened.code, s, qid, 40, right=True)  # a new window
    assert store.tally(opened.code, opened.secret) == S.Tally(qid, Question.patch(49), 2, 2, {20: 1, 40: 1})


def test_one_answer_per_session_and_question_the_second_replaces_the_first(store):
    opened, qid = patch_question(store)
    s, t = S.new_session(), S.new_session()
    store.answer(opened.code, s, qid, 3, right=False)
    store.answer(opened.code, s, qid, 5, right=True)
    assert store.tally(opened.code, opened.secret) == S.Tally(qid, Question.patch(49), 1, 1, {5: 1})
    assert store.own_answer(opened.code, s) == 5 and store.own_answer(opened.code, t) is None  # nobody else's
    store.answer(opened.code, t, qid, 5, right=False)
    assert store.tally(opened.code, opened.secret) == S.Tally(qid, Question.patch(49), 2, 1, {5: 2})
    qid2 = store.open_question(opened.code, opened.secret, Question.layer(6)).question_id
    store.answer(opened.code, s, qid2, 0, right=True)  # a new question: a new answer, the old one kept
    assert store.own_answer(opened.code, s) == 0 and store.own_answer(opened.code, s, qid) == 5
    assert store.tally(opened.code, opened.secret).counts == {0: 1}
    assert store.tally(opened.code, opened.secret, qid).counts == {5: 2}


# ---- the state followers poll --------------------------------------------------------------------------------------
def test_each_presenter_change_is_in_the_state_with_a_new_version(store):
    opened = store.open_class("first-vit")
    code, secret = opened.code, opened.secret
    assert (opened.state.lesson, opened.state.beat, opened.state.phase, opened.state.version) == ("first-vit", 0,
                                                                                                   S.NO_QUESTION, 1)
    steps = [(lambda: store.set_beat(code, secret, 4), dict(beat=4, phase=S.NO_QUESTION)),
             (lambda: store.advance(code, secret), dict(beat=5)),
             (lambda: store.advance(code, secret, -9), dict(beat=0)),
             (lambda: store.open_question(code, secret, Question.choice(3)),
              dict(question_id=1, question=Question.choice(3), phase=S.OPEN)),
             (lambda: store.reveal(code, secret), dict(phase=S.REVEALED, question=Question.choice(3))),
             (lambda: store.advance(code, secret), dict(beat=1, phase=S.REVEALED)),
             (lambda: store.open_question(code, secret, Question.number(1, 9)), dict(question_id=2, phase=S.OPEN)),
             (lambda: store.set_beat(code, secret, 7), dict(beat=7, phase=S.CLOSED, question=None))]
    version = 1
    for change, expected in steps:
        returned = change()
        version += 1
        state = store.state(code)
        assert state == returned and state.version == version
        assert {k: getattr(state, k) for k in expected} == expected
    assert store.reveal(code, secret).version == version  # nothing open: nothing changes
    with pytest.raises(ValueError):
        store.set_beat(code, secret, -1)
    with pytest.raises(ValueError):
        Question.choice(1)


# ---- several processes ---------------------------------------------------------------------------------------------
def learner_process(url: str, code: str, qid: int, sessions: list[str], start, done) -> None:
    """A process of learners: each session polls the state and answers twice (the second stands), after the start."""
    try:
        store = S.connect(url)
        start.wait(60)
        given = {}
        for i, session in enumerate(sessions):
            assert store.state(code).question_id == qid
            store.answer(code, session, qid, (i * 7) % 49, right=False)
            given[session] = (i * 7 + len(session) + ord(session[0])) % 49
            store.answer(code, session, qid, given[session], right=given[session] % 2 == 0)
        done.put(given)
    except BaseException as e:  # said to the test at once, not after its timeout
        done.put(f"{type(e).__name__}: {e}")


def test_several_processes_answering_at_once_lose_no_answer(url):
    """8 processes of 15 learners each answer the same question at once, each answer acknowledged; the tally has every
    acknowledged answer, and each session's own answer is its last."""
    store = S.connect(url)
    opened, qid = patch_question(store)
    ctx = multiprocessing.get_context("fork")
    start, done = ctx.Barrier(8), ctx.Queue()
    groups = [[S.new_session() for _ in range(15)] for _ in range(8)]
    procs = [ctx.Process(target=learner_process, args=(url, opened.code, qid, g, start, done)) for g in groups]
    for p in procs:
        p.start()
    given = {}
    for _ in procs:
        answered = done.get(timeout=120)
        assert isinstance(answered, dict), answered
        given.update(answered)
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    tally = store.tally(opened.code, opened.secret)
    assert tally.answered == len(given) == 120
    assert tally.counts == dict(sorted(Counter(given.values()).items()))
    assert tally.right == sum(v % 2 == 0 for v in given.values())
    assert all(store.own_answer(opened.code, s) == v for s, v in given.items())


DIES = """
import json, os, signal, sys
from app.lessons import store as S
store = S.connect(sys.argv[1])
opened = store.open_class("first-vit")
qid = store.open_question(opened.code, opened.secret, S.Question.patch(49)).question_id
sessions = [S.new_session() for _ in range(3)]
for i, s in enumerate(sessions):
    store.answer(opened.code, s, qid, i, right=i == 0)
print(json.dumps([opened.code, opened.secret, qid, sessions]), flush=True)
if isinstance(store, S.SQLiteStore):
    with store._db(write=True):  # killed holding the write lock, mid-transaction
        os.kill(os.getpid(), signal.SIGKILL)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_store_reopened_after_its_process_dies_still_has_the_class(url):
    done = subprocess.run([sys.executable, "-c", DIES, url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    code, secret, qid, sessions = json.loads(done.stdout)
    store = S.connect(url)  # a new process's store: as a replica that restarts
    state = store.state(code)
    assert (state.lesson, state.question_id, state.phase) == ("first-vit", qid, S.OPEN)
    assert store.tally(code, secret) == S.Tally(qid, Question.patch(49), 3, 1, {0: 1, 1: 1, 2: 1})
    store.answer(code, S.new_session(), qid, 48, right=False)  # the dead process's lock is gone
    assert store.advance(code, secret).beat == 1
    assert [store.own_answer(code, s) for s in sessions] == [0, 1, 2]


# ---- the setting ---------------------------------------------------------------------------------------------------
def test_the_default_is_an_sqlite_file_in_a_git_ignored_folder_of_the_app(monkeypatch):
    monkeypatch.delenv(S.ENV, raising=False)
    assert S.setting() == S.default_url() == f"sqlite:///{ROOT}/var/class-store.sqlite3"
    assert S.setting({S.ENV: "  "}) == S.default_url()
    ignored = subprocess.run(["git", "check-ignore", "-q", "var/class-store.sqlite3"], cwd=ROOT)
    assert ignored.returncode == 0, "var/ is not in .gitignore"


def test_the_setting_chooses_the_back_end(tmp_path, monkeypatch, redis_url):
    monkeypatch.setenv(S.ENV, f"sqlite:///{tmp_path}/a/b.sqlite3")
    sqlite = S.connect()
    assert isinstance(sqlite, S.SQLiteStore) and (tmp_path / "a" / "b.sqlite3").exists()
    monkeypatch.setenv(S.ENV, redis_url)
    assert isinstance(S.connect(), S.RedisStore)
    monkeypatch.chdir(tmp_path)
    assert S.resolved("sqlite:///rel/c.sqlite3") == f"sqlite:///{tmp_path}/rel/c.sqlite3"
    assert S.resolved(f"sqlite:///{tmp_path}/c.sqlite3") == f"sqlite:///{tmp_path}/c.sqlite3"
    assert S.resolved("redis://cache.internal:6380/2") == "redis://cache.internal:6380/2"
    assert S._parse("redis://cache.internal/2") == ("redis", ("cache.internal", 6379, 2))


@pytest.mark.parametrize("bad", ["mysql://db/classes", "sqlite://classes.db", "sqlite:///", "sqlite:///:memory:",
                                 "sqlite:///dir/", "redis://", "redis://host:port/0", "redis://host:6379/zero",
                                 "redis://:password@host:6379/0", "rediss://host:6379/0", "classes.sqlite3",
                                 "REDIS://host:6379/0"])
def test_any_other_setting_gets_a_clear_error(bad, monkeypatch):
    monkeypatch.setenv(S.ENV, bad)
    with pytest.raises(StoreSettingError) as e:
        S.connect()
    assert str(e.value).startswith("VIT_CLASS_STORE must be sqlite:///PATH") and repr(bad) in str(e.value)


def test_a_store_that_cannot_be_reached_says_so(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(S.StoreUnavailable) as e:
        S.connect(f"sqlite:///{tmp_path}/a-file/classes.sqlite3")
    assert "a-file" in str(e.value)
    unreachable = S.connect(f"redis://127.0.0.1:{free_port()}/0")  # nobody listens there
    with pytest.raises(S.StoreUnavailable):
        unreachable.state(S.new_code())


def test_the_store_imports_neither_streamlit_nor_torch():
    check = "import sys, app.lessons.store; print(sorted({'streamlit', 'torch', 'redis'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr  # redis too: only imported when chosen


# ---- the class's model, and a teacher's own lesson file kept for every replica ----------------------------------
def test_a_class_keeps_its_model(store):
    opened = store.open_class("first-vit", model="hub:vit-base-16")
    assert opened.state.model == "hub:vit-base-16"
    assert store.state(opened.code).model == "hub:vit-base-16"
    assert store.advance(opened.code, opened.secret).model == "hub:vit-base-16"
    assert store.state(store.open_class("first-vit").code).model == ""  # each learner's own
    with pytest.raises(ValueError):
        store.open_class("first-vit", model="x" * 201)


def test_a_lesson_file_is_kept_by_its_digest_and_expires(store, clock):
    data = 'id = "mine"\n'.encode() * 10
    lesson_id = store.keep_lesson(data)
    assert lesson_id == "sha256:" + hashlib.sha256(data).hexdigest()
    assert store.lesson_data(lesson_id) == data
    assert store.keep_lesson(data) == lesson_id  # the same file, kept once
    for bad in ("sha256:" + "0" * 64, "../etc/passwd", "sha256:abc", "sha256:" + "A" * 64, 7, None):
        assert store.lesson_data(bad) is None  # unknown, or not an id: never read as a name
    with pytest.raises(ValueError):
        store.keep_lesson(b"")
    with pytest.raises(ValueError):
        store.keep_lesson(b"x" * (S.MAX_LESSON_BYTES + 1))
    if isinstance(store, S.RedisStore):  # Redis expires the key itself, on its own clock: EXPIREAT a day from now
        assert 0 < store.r.ttl(S.RedisStore.PREFIX + lesson_id) <= S.TTL + 2
    else:
        clock.advance(S.TTL + 1)
        assert store.lesson_data(lesson_id) is None


def test_a_store_file_made_before_the_model_column_is_brought_up_to_date(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    before = S.SCHEMA.replace(", model TEXT NOT NULL DEFAULT '',\n    asked INTEGER NOT NULL DEFAULT -1", "")
    assert "model" not in before  # the schema as it was
    old.executescript(before)
    old.execute("INSERT INTO classes VALUES ('7KQ2M-XH9PD', 'first-vit', 'x', 0, 0, '', 0, 0, 'none', 1, ?, ?)",
                (time.time(), time.time() + 3600))
    old.commit()
    old.close()
    store = S.connect(f"sqlite:///{path}")
    assert store.state("7KQ2M-XH9PD").model == ""  # the old class reads, with each learner's own model
    assert store.open_class("first-vit", model="teaching").state.model == "teaching"
    store.close()


def test_moving_to_a_beat_can_open_its_question_in_one_step(store):
    opened = store.open_class("first-vit")
    state = store.set_beat(opened.code, opened.secret, 3, Question.patch(49))
    assert (state.beat, state.asked, state.phase, state.question_id, state.version) == (3, 3, S.OPEN, 1, 2)
    assert state.question == Question.patch(49)
    state = store.set_beat(opened.code, opened.secret, 4)  # on: the question closes, and still says where it was asked
    assert (state.beat, state.asked, state.phase, state.question_id) == (4, 3, S.CLOSED, 1)
    state = store.open_question(opened.code, opened.secret, Question.choice(2))  # asked on the beat it is on
    assert (state.asked, state.question_id) == (4, 2)
    with pytest.raises(TypeError):
        store.set_beat(opened.code, opened.secret, 5, question=49)
    with pytest.raises(NotPresenter):
        store.set_beat(opened.code, "not the secret", 5, Question.patch(49))
    assert store.state(opened.code).beat == 4
