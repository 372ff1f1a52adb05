"""The class store: a class led by a presenter, shared by every replica of the app (issue 26, §5 and §6).

A class is a small record: the lesson it follows, the beat the presenter is on, the current question (its kind and
range, open or revealed) and a version that changes with each of the presenter's changes. Its answers are one per
learner session and question. Everything lives in the store, never in a process's memory, so any replica can serve any
learner or the presenter, and a replica that dies loses nothing.

    store = connect()                                   # VIT_CLASS_STORE, or SQLite in var/ (default_url())
    opened = store.open_class("first-vit")              # .code "7KQ2M-XH9PD" for students, .secret for the presenter
    state = store.open_question(opened.code, opened.secret, Question.patch(49))
    store.answer(opened.code, session, state.question_id, 31, right=True)   # session: new_session(), made by the app
    store.tally(opened.code, opened.secret)             # Tally(answered=1, right=1, counts={31: 1})
    store.state(opened.code)                            # ClassState: beat, question, phase, version: poll it
    lesson_id = store.keep_lesson(data)                 # a teacher's own lesson file, for every replica: "sha256:…"
    store.lesson_data(lesson_id)                        # its bytes again (None once expired)

The setting, read by every replica (`make serve-class` passes it on; docs/DEPLOY.md, "The class store"):

    VIT_CLASS_STORE=sqlite:///PATH          the default: one SQLite file in WAL mode, var/class-store.sqlite3 in the
                                            repository (git-ignored); for one machine, any number of processes.
                                            sqlite:///rel/path is relative to the working directory, sqlite:////abs
                                            is absolute (as SQLAlchemy writes them).
    VIT_CLASS_STORE=redis://HOST:PORT/DB    Redis, for replicas on several machines (deploy/k8s/redis.yaml).

What a link or a request sends is input, and is checked here:

- A join code is 10 symbols of Crockford's base 32 (0-9 and A-Z without I, L, O, U), drawn with `secrets`: 50 bits,
  written `7KQ2M-XH9PD`; it is short enough to type and fits a QR code's alphanumeric mode. Typing is forgiven (case,
  spaces, hyphens, O for 0, I or L for 1); anything else is refused as malformed before the store is asked.
- The presenter secret is separate: 32 characters of `secrets.token_urlsafe` (192 bits). Only its SHA-256 is stored,
  and it is compared in constant time (`hmac.compare_digest`). Every presenter call needs it; a wrong one raises
  `NotPresenter` and changes nothing.
- An unknown, expired or malformed code raises `ClassCodeError` with `reason` NOT_FOUND, EXPIRED or MALFORMED, for
  the page to say in its language. A class expires `TTL` (a day) after it was opened; for `GRACE` (another day) its
  code still says "expired", then the class and its answers are deleted and it says "not found".
- An answer comes from a learner session (an opaque random id the app made, `new_session()`; never a name). One answer
  per session and question: a second replaces the first. It must be a whole number within the range the presenter
  declared when opening the question, for the question now open; at most `RATE[0]` tries a session in each window of
  `RATE[1]` seconds (refused ones count too). Otherwise `AnswerRefused` with its `reason`, and nothing is stored.
- The app says whether an answer is right (it depends on the learner's own picture); the store counts. Only the
  presenter secret reads the tally; a learner reads its own answer, nobody else's.

Both back ends run the same checks in the same order, inside one transaction (SQLite) or one Lua script (Redis), and
pass the same tests (tests/app/test_class_store.py). Times come from `clock` (time.time by default; tests inject
one). The store's own failures (a locked or unwritable file, Redis unreachable) raise `StoreUnavailable`.
"""
from __future__ import annotations

import hashlib
import hmac
import operator
import os
import re
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
ENV = "VIT_CLASS_STORE"
DEFAULT_PATH = ROOT / "var" / "class-store.sqlite3"  # a folder the app owns; /var/ is in .gitignore

TTL = 24 * 3600.0  # a class and its answers expire a day after the class was opened
GRACE = 24 * 3600.0  # ...and are deleted a day after that; until then the code says "expired", then "not found"
RATE = (5, 10.0)  # at most 5 answers from one session in a 10-second window (the first 5 of each window count)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
CODE_LENGTH = 10  # 10 symbols of 32: 50 bits
CODE_BITS = 5 * CODE_LENGTH
SECRET_BYTES = 24  # token_urlsafe(24): 32 characters, 192 bits
SESSION = re.compile(r"[A-Za-z0-9_-]{16,64}")  # what new_session() makes: token_urlsafe(16), 22 characters
MAX_VALUE = 2**31 - 1  # answers and ranges are whole numbers within ±MAX_VALUE
MAX_BEAT = 10_000
MAX_LESSON_BYTES = 100_000  # a lesson file kept for a class (app/lessons/lesson.py's MAX_BYTES)
LESSON_ID = re.compile(r"sha256:[0-9a-f]{64}")
TYPING = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})

# ClassCodeError.reason
NOT_FOUND, EXPIRED, MALFORMED = "not_found", "expired", "malformed"
# AnswerRefused.reason
BAD_SESSION, NOT_A_NUMBER, OUT_OF_RANGE, NOT_OPEN, RATE_LIMITED = (
    "bad_session", "not_a_number", "out_of_range", "not_open", "rate_limited")
# ClassState.phase: no question yet; a question open for answers; revealed (answers closed); closed without a reveal
# (the presenter moved to another beat)
NO_QUESTION, OPEN, REVEALED, CLOSED = "none", "open", "revealed", "closed"


# ---- errors: each a reason the page says in its language -----------------------------------------------------------
class ClassStoreError(Exception):
    """Every error of this module."""


class ClassCodeError(ClassStoreError):
    """A class code that leads nowhere. `reason`: NOT_FOUND, EXPIRED or MALFORMED."""

    def __init__(self, reason: str, code: str = ""):
        super().__init__(f"class code {code!r}: {reason.replace('_', ' ')}")
        self.reason, self.code = reason, code


class NotPresenter(ClassStoreError):
    """A presenter call with a secret that is not this class's. Nothing was changed or read."""


class AnswerRefused(ClassStoreError):
    """An answer that was not stored. `reason`: BAD_SESSION (not an id new_session() makes), NOT_A_NUMBER,
    OUT_OF_RANGE (outside the open question's range), NOT_OPEN (that question is not open: none, revealed, or the
    presenter moved on), RATE_LIMITED (`retry_after`: seconds until this session may answer again)."""

    def __init__(self, reason: str, retry_after: float = 0.0):
        super().__init__(reason.replace("_", " ") + (f": retry after {retry_after:.1f} s" if retry_after else ""))
        self.reason, self.retry_after = reason, retry_after


class StoreSettingError(ClassStoreError, ValueError):
    """VIT_CLASS_STORE is not a setting this module understands; the message says what would be."""


class StoreUnavailable(ClassStoreError):
    """The store itself failed: the SQLite file locked too long or not writable, Redis unreachable."""


# ---- what the store holds, as the app sees it ----------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    """What a question accepts: a whole number from `low` to `high`, both included. Make one with its kind's
    constructor: `Question.patch(49)`, `Question.layer(6)`, `Question.choice(3)`, `Question.number(1, 100)`."""

    kind: str  # "patch", "layer", "choice" or "number": for the page; the store checks the range only
    low: int
    high: int

    KINDS = ("patch", "layer", "choice", "number")

    def __post_init__(self):
        if self.kind not in self.KINDS:
            raise ValueError(f"a question's kind is one of {', '.join(self.KINDS)}, not {self.kind!r}")
        for v in (self.low, self.high):
            if type(v) is not int or abs(v) > MAX_VALUE:
                raise ValueError(f"a question's range is whole numbers within ±{MAX_VALUE}, not {v!r}")
        if self.low > self.high:
            raise ValueError(f"a question's range is empty: {self.low} to {self.high}")

    @classmethod
    def patch(cls, patches: int) -> Question:
        """Tap a patch: its index, 0 to patches - 1."""
        return cls("patch", 0, _positive(patches, "patches") - 1)

    @classmethod
    def layer(cls, layers: int) -> Question:
        """A layer: 0 (the embeddings) to `layers` (the last block's output)."""
        return cls("layer", 0, _positive(layers, "layers"))

    @classmethod
    def choice(cls, k: int) -> Question:
        """One of k choices: 0 to k - 1 (k ≥ 2)."""
        if _positive(k, "choices") < 2:
            raise ValueError(f"a choice needs at least 2 choices, not {k}")
        return cls("choice", 0, k - 1)

    @classmethod
    def number(cls, low: int, high: int) -> Question:
        """A whole number from low to high."""
        return cls("number", low, high)

    def accepts(self, value: int) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class ClassState:
    """What every learner may read, and polls: compare `version`, which each presenter change increases."""

    code: str  # the join code, canonical: "7KQ2M-XH9PD"
    lesson: str
    beat: int  # from 0
    question_id: int  # the class's latest question, numbered from 1; 0: none yet
    question: Question | None  # that question while it is OPEN or REVEALED, else None
    phase: str  # NO_QUESTION, OPEN, REVEALED or CLOSED
    version: int  # 1 when opened, +1 with each presenter change
    created: float  # seconds since the epoch, by the store's clock
    expires: float
    model: str = ""  # the class's model as the app names it ("teaching", "hub:…"), "" for each learner's own
    asked: int = -1  # the beat the latest question was opened on (-1: none yet): a question belongs to its beat

    @property
    def open(self) -> bool:
        return self.phase == OPEN

    @property
    def revealed(self) -> bool:
        return self.phase == REVEALED


@dataclass(frozen=True)
class Opened:
    """A class just opened: `code` for the students (join link, QR code), `secret` for the presenter only."""

    code: str
    secret: str = field(repr=False)
    state: ClassState


@dataclass(frozen=True)
class Tally:
    """One question's answers, for the presenter: how many answered, how many were right (as the app judged each on
    the learner's own picture) and how many gave each value."""

    question_id: int
    question: Question | None
    answered: int
    right: int
    counts: dict[int, int]  # value → how many sessions gave it, by value


# ---- codes, secrets, sessions --------------------------------------------------------------------------------------
def new_code() -> str:
    """A fresh join code: CODE_LENGTH symbols drawn with `secrets`, written in two groups of five."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return raw[:5] + "-" + raw[5:]


def normal_code(text: object) -> str:
    """The canonical form of a code as typed or read from a link ("7kq2m xh9pd" → "7KQ2M-XH9PD"), or
    ClassCodeError(MALFORMED). Nothing else is looked up with it."""
    if isinstance(text, str) and len(text) <= 4 * CODE_LENGTH:
        raw = text.strip().upper().translate(TYPING)
        if len(raw) == CODE_LENGTH and all(c in ALPHABET for c in raw):
            return raw[:5] + "-" + raw[5:]
    shown = text[:40] if isinstance(text, str) else repr(text)[:40]
    raise ClassCodeError(MALFORMED, shown)


def new_session() -> str:
    """A learner session's id, for the app to make once per learner and keep: opaque, random, never a name."""
    return secrets.token_urlsafe(16)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _positive(n: object, what: str) -> int:
    if type(n) is not int or not 1 <= n <= MAX_VALUE:
        raise ValueError(f"{what} must be a whole number from 1, not {n!r}")
    return n


def _whole(value: object) -> int:
    """An answer's value as an int (numpy integers too), or AnswerRefused(NOT_A_NUMBER): no bools, floats, text."""
    if isinstance(value, bool):
        raise AnswerRefused(NOT_A_NUMBER)
    try:
        v = operator.index(value)
    except TypeError:
        raise AnswerRefused(NOT_A_NUMBER) from None
    if abs(v) > MAX_VALUE:
        raise AnswerRefused(OUT_OF_RANGE)
    return v


# ---- the store: one interface, the checks in one place; a back end keeps records --------------------------------
class ClassStore:
    """A class store. Make one with `connect()`; one per process is enough (each is safe across threads).

    A record is a dict with the keys of FIELDS; a back end stores and returns records, and runs `_answer` as one atomic
    step. Every public method checks its input here first."""

    FIELDS = ("code", "lesson", "secret", "beat", "question", "kind", "low", "high", "phase", "version", "created",
              "expires", "model", "asked")
    url = ""

    def __init__(self, clock: Callable[[], float] = time.time, rate: tuple[int, float] = RATE, ttl: float = TTL):
        self.clock, self.rate, self.ttl = clock, rate, ttl

    # -- the presenter --
    def open_class(self, lesson: str, model: str = "") -> Opened:
        """Open a class that follows `lesson` (the lesson's id) at beat 0, for TTL seconds. `model`: the model the
        class looks at, as the app names it ("teaching", "hub:vit-base-16"), or "" for each learner's own. The app
        checks both when it reads them back: the store only keeps them."""
        for what, value, low in (("lesson id", lesson, 1), ("model", model, 0)):
            if not isinstance(value, str) or not low <= len(value) <= 200 or not value.isprintable():
                raise ValueError(f"a {what} is {low} to 200 printable characters, not {value!r}")
        now = self.clock()
        self._purge(now - GRACE)
        secret = secrets.token_urlsafe(SECRET_BYTES)
        for _ in range(8):  # a collision among 2**50 codes is next to impossible; a retry costs nothing
            record = dict(code=new_code(), lesson=lesson, secret=_digest(secret), beat=0, question=0, kind="",
                          low=0, high=0, phase=NO_QUESTION, version=1, created=now, expires=now + self.ttl,
                          model=model, asked=-1)
            if self._insert(record):
                return Opened(record["code"], secret, _state(record))
        raise StoreUnavailable("no free class code after 8 tries")

    def set_beat(self, code: str, secret: str, beat: int, question: Question | None = None) -> ClassState:
        """Move the class to `beat` (from 0). A question still open closes (CLOSED); its answers stay. With
        `question`, that beat's question opens in the same step (one version: a learner never sees the beat without
        its question)."""
        if type(beat) is not int or not 0 <= beat <= MAX_BEAT:
            raise ValueError(f"a beat is a whole number from 0 to {MAX_BEAT}, not {beat!r}")
        if question is not None and not isinstance(question, Question):
            raise TypeError("set_beat takes a Question: Question.patch(n), .layer(L), .choice(k), .number(a, b)")
        return self._change(code, secret, lambda r: _asked(_moved(r, beat), question) if question else _moved(r, beat))

    def advance(self, code: str, secret: str, by: int = 1) -> ClassState:
        """Move the class `by` beats (-1: back one), never below 0, as one step: two presses are two beats."""
        if type(by) is not int or abs(by) > MAX_BEAT:
            raise ValueError(f"advance by a whole number of beats, not {by!r}")
        return self._change(code, secret, lambda r: _moved(r, min(MAX_BEAT, max(0, r["beat"] + by))))

    def open_question(self, code: str, secret: str, question: Question) -> ClassState:
        """Open a new question (numbered after the last) on the current beat; answers outside its range are refused.
        The previous question, if open, closes."""
        if not isinstance(question, Question):
            raise TypeError("open_question takes a Question: Question.patch(n), .layer(L), .choice(k), .number(a, b)")
        return self._change(code, secret, lambda r: _asked(r, question))

    def reveal(self, code: str, secret: str) -> ClassState:
        """Reveal the open question: answers to it are refused from now on. With no open question, nothing changes
        (a second press of the key is harmless)."""
        return self._change(code, secret, lambda r: {**r, "phase": REVEALED} if r["phase"] == OPEN else None)

    def tally(self, code: str, secret: str, question_id: int | None = None) -> Tally:
        """The answers to question `question_id` (default: the class's latest), for the presenter only."""
        record = self._presenter(code, secret)
        qid = record["question"] if question_id is None else question_id
        if type(qid) is not int or qid < 0:
            raise ValueError(f"a question id is a whole number from 0, not {qid!r}")
        rows = self._answers(record["code"], qid) if qid else []
        counts: dict[int, int] = {}
        for value, _ in rows:
            counts[value] = counts.get(value, 0) + 1
        question = _question(record) if qid == record["question"] and record["phase"] != NO_QUESTION else None
        return Tally(qid, question, len(rows), sum(right for _, right in rows), dict(sorted(counts.items())))

    def keep_lesson(self, data: bytes) -> str:
        """Keep a teacher's own lesson file for TTL seconds, so that every replica can read it: its id,
        "sha256:<hex>", which open_class takes as the lesson. The same file is kept once."""
        if not isinstance(data, bytes) or not 0 < len(data) <= MAX_LESSON_BYTES:
            raise ValueError(f"a lesson file is 1 to {MAX_LESSON_BYTES} bytes")
        lesson_id = "sha256:" + hashlib.sha256(data).hexdigest()
        self._keep(lesson_id, data, self.clock() + self.ttl)
        return lesson_id

    def lesson_data(self, lesson_id: str) -> bytes | None:
        """The lesson file kept as `lesson_id`, or None (unknown, expired, or not an id keep_lesson makes)."""
        if not isinstance(lesson_id, str) or not LESSON_ID.fullmatch(lesson_id):
            return None
        return self._kept(lesson_id, self.clock())

    # -- everyone --
    def state(self, code: str) -> ClassState:
        """The class's state, for learners and presenter alike; ClassCodeError if the code leads nowhere."""
        return _state(self._live(code))

    # -- a learner --
    def answer(self, code: str, session: str, question_id: int, value: int, right: bool) -> None:
        """Store `session`'s answer `value` to question `question_id` (the ClassState's), replacing its earlier one.
        `right`: the app's judgement on this learner's picture. AnswerRefused or ClassCodeError if not stored."""
        code = normal_code(code)
        if not isinstance(session, str) or not SESSION.fullmatch(session):
            raise AnswerRefused(BAD_SESSION)
        v = _whole(value)
        if type(question_id) is not int:
            raise AnswerRefused(NOT_OPEN)
        now = self.clock()
        window = int(now // self.rate[1])
        outcome = self._answer(code, session, question_id, v, bool(right), now, window)
        if outcome in (NOT_FOUND, EXPIRED):
            raise ClassCodeError(outcome, code)
        if outcome == RATE_LIMITED:
            raise AnswerRefused(RATE_LIMITED, retry_after=(window + 1) * self.rate[1] - now)
        if outcome != "ok":
            raise AnswerRefused(outcome)

    def own_answer(self, code: str, session: str, question_id: int | None = None) -> int | None:
        """`session`'s own answer to question `question_id` (default: the latest), or None: for a learner who comes
        back. Only the session's id reads it."""
        code = normal_code(code)
        if not isinstance(session, str) or not SESSION.fullmatch(session):
            raise AnswerRefused(BAD_SESSION)
        record = self._live(code)
        qid = record["question"] if question_id is None else question_id
        return self._own(record["code"], qid, session) if qid else None

    def close(self) -> None:
        """Let go of connections (the store also works again after this)."""

    # -- the checks, shared --
    def _live(self, code: str) -> dict:
        code = normal_code(code)
        record = self._get(code)
        if record is None:
            raise ClassCodeError(NOT_FOUND, code)
        if self.clock() >= record["expires"]:
            raise ClassCodeError(EXPIRED, code)
        return record

    def _presenter(self, code: str, secret: str) -> dict:
        record = self._live(code)
        given = _digest(secret) if isinstance(secret, str) and len(secret) <= 256 else ""
        if not hmac.compare_digest(given, record["secret"]):
            raise NotPresenter("this is not the presenter secret of class " + record["code"])
        return record

    def _change(self, code: str, secret: str, change: Callable[[dict], dict | None]) -> ClassState:
        """Check the secret, then apply `change` (record → new record, or None: no change) atomically, version + 1."""
        record = self._presenter(code, secret)

        def versioned(r: dict) -> dict | None:
            new = change(r)
            return None if new is None else {**new, "version": r["version"] + 1}
        return _state(self._update(record["code"], versioned) or record)

    # -- a back end implements these --
    def _insert(self, record: dict) -> bool:
        """Store a new class record; False if its code is taken."""
        raise NotImplementedError

    def _get(self, code: str) -> dict | None:
        raise NotImplementedError

    def _update(self, code: str, change: Callable[[dict], dict | None]) -> dict | None:
        """Read, change and write one record as one atomic step; the new record (the old one if no change)."""
        raise NotImplementedError

    def _answer(self, code: str, session: str, qid: int, value: int, right: bool, now: float, window: int) -> str:
        """Atomically, in this order: NOT_FOUND, EXPIRED; count the attempt in the session's rate window and return
        RATE_LIMITED past rate[0]; NOT_OPEN unless question `qid` is the open one; OUT_OF_RANGE; else store (replacing
        the session's answer) and return "ok"."""
        raise NotImplementedError

    def _answers(self, code: str, qid: int) -> list[tuple[int, bool]]:
        raise NotImplementedError

    def _own(self, code: str, qid: int, session: str) -> int | None:
        raise NotImplementedError

    def _purge(self, before: float) -> None:
        """Delete the classes that expired before `before`, with their answers."""
        raise NotImplementedError

    def _keep(self, lesson_id: str, data: bytes, expires: float) -> None:
        """Keep a lesson file until `expires` (or later, if it is kept already)."""
        raise NotImplementedError

    def _kept(self, lesson_id: str, now: float) -> bytes | None:
        raise NotImplementedError


def _moved(record: dict, beat: int) -> dict:
    return {**record, "beat": beat, "phase": CLOSED if record["phase"] == OPEN else record["phase"]}


def _asked(record: dict, question: Question) -> dict:
    return {**record, "question": record["question"] + 1, "kind": question.kind, "low": question.low,
            "high": question.high, "phase": OPEN, "asked": record["beat"]}


def _question(record: dict) -> Question:
    return Question(record["kind"], record["low"], record["high"])


def _state(record: dict) -> ClassState:
    shown = record["phase"] in (OPEN, REVEALED)
    return ClassState(record["code"], record["lesson"], record["beat"], record["question"],
                      _question(record) if shown else None, record["phase"], record["version"], record["created"],
                      record["expires"], record.get("model") or "", record.get("asked", -1))


# ---- SQLite: one file, WAL, any number of processes on one machine -------------------------------------------------
SCHEMA = """
CREATE TABLE IF NOT EXISTS classes (
    code TEXT PRIMARY KEY, lesson TEXT NOT NULL, secret TEXT NOT NULL, beat INTEGER NOT NULL,
    question INTEGER NOT NULL, kind TEXT NOT NULL, low INTEGER NOT NULL, high INTEGER NOT NULL, phase TEXT NOT NULL,
    version INTEGER NOT NULL, created REAL NOT NULL, expires REAL NOT NULL, model TEXT NOT NULL DEFAULT '',
    asked INTEGER NOT NULL DEFAULT -1);
CREATE TABLE IF NOT EXISTS answers (
    code TEXT NOT NULL, question INTEGER NOT NULL, session TEXT NOT NULL, value INTEGER NOT NULL,
    correct INTEGER NOT NULL, PRIMARY KEY (code, question, session));
CREATE TABLE IF NOT EXISTS rates (
    code TEXT NOT NULL, session TEXT NOT NULL, slot INTEGER NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (code, session));
CREATE TABLE IF NOT EXISTS lessons (id TEXT PRIMARY KEY, data BLOB NOT NULL, expires REAL NOT NULL);
"""
NEWER_COLUMNS = (("model", "TEXT NOT NULL DEFAULT ''"), ("asked", "INTEGER NOT NULL DEFAULT -1"))
BUSY_TIMEOUT_S = 10.0  # a writer waits this long for another process's transaction before StoreUnavailable


class SQLiteStore(ClassStore):
    """The default back end: one SQLite file in WAL mode (readers never wait for the writer), each change one
    `BEGIN IMMEDIATE` transaction, and a busy timeout so that processes queue for the write lock instead of failing.
    One connection per process (made again after a fork), shared by its threads under a lock. synchronous=NORMAL: a
    killed process loses nothing committed; a power cut may lose the last commits."""

    def __init__(self, path: str | os.PathLike, **kwargs):
        super().__init__(**kwargs)
        self.path = Path(path)
        self.url = "sqlite:///" + str(self.path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        with self._db():
            pass  # create the folder, the file and the tables now: a bad path fails at connect(), not mid-lesson

    @contextmanager
    def _db(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                if self._conn is None or self._pid != os.getpid():
                    self._conn = self._connect()
                    self._pid = os.getpid()
                db = self._conn
                if not write:
                    yield db
                    return
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except (sqlite3.Error, OSError) as e:  # OSError: a folder that cannot be made
                raise StoreUnavailable(f"the class store {self.path}: {e}") from e

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        try:
            db.executescript("BEGIN IMMEDIATE;" + SCHEMA + "COMMIT;")
            columns = {row[1] for row in db.execute("PRAGMA table_info(classes)")}
            for name, declared in NEWER_COLUMNS:  # a file made before them
                if name not in columns:
                    db.execute(f"ALTER TABLE classes ADD COLUMN {name} {declared}")
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    @staticmethod
    def _record(row: tuple) -> dict:
        return dict(zip(ClassStore.FIELDS, row))

    def _insert(self, record):
        with self._db(write=True) as db:
            cur = db.execute(f"INSERT OR IGNORE INTO classes ({', '.join(self.FIELDS)}) VALUES "
                             f"({', '.join('?' * len(self.FIELDS))})", [record[k] for k in self.FIELDS])
            return cur.rowcount == 1

    def _get(self, code):
        with self._db() as db:
            row = db.execute(f"SELECT {', '.join(self.FIELDS)} FROM classes WHERE code = ?", (code,)).fetchone()
        return row and self._record(row)

    def _update(self, code, change):
        with self._db(write=True) as db:
            row = db.execute(f"SELECT {', '.join(self.FIELDS)} FROM classes WHERE code = ?", (code,)).fetchone()
            if row is None:
                return None
            old = self._record(row)
            new = change(old)
            if new is None:
                return old
            db.execute(f"UPDATE classes SET {', '.join(f'{k} = ?' for k in self.FIELDS[1:])} WHERE code = ?",
                       [new[k] for k in self.FIELDS[1:]] + [code])
            return new

    def _answer(self, code, session, qid, value, right, now, window):
        with self._db(write=True) as db:
            row = db.execute("SELECT expires, question, phase, low, high FROM classes WHERE code = ?",
                             (code,)).fetchone()
            if row is None:
                return NOT_FOUND
            expires, question, phase, low, high = row
            if now >= expires:
                return EXPIRED
            count = db.execute("INSERT INTO rates VALUES (?, ?, ?, 1) ON CONFLICT (code, session) DO UPDATE SET "
                               "n = CASE WHEN slot = excluded.slot THEN n + 1 ELSE 1 END, slot = excluded.slot "
                               "RETURNING n", (code, session, window)).fetchone()[0]
            if count > self.rate[0]:
                return RATE_LIMITED
            if phase != OPEN or question != qid:
                return NOT_OPEN
            if not low <= value <= high:
                return OUT_OF_RANGE
            db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)", (code, qid, session, value, right))
            return "ok"

    def _answers(self, code, qid):
        with self._db() as db:
            return [(v, bool(r)) for v, r in db.execute("SELECT value, correct FROM answers WHERE code = ? AND "
                                                        "question = ?", (code, qid))]

    def _own(self, code, qid, session):
        with self._db() as db:
            row = db.execute("SELECT value FROM answers WHERE code = ? AND question = ? AND session = ?",
                             (code, qid, session)).fetchone()
        return row and row[0]

    def _purge(self, before):
        with self._db(write=True) as db:
            gone = "SELECT code FROM classes WHERE expires < ?"
            db.execute(f"DELETE FROM answers WHERE code IN ({gone})", (before,))
            db.execute(f"DELETE FROM rates WHERE code IN ({gone})", (before,))
            db.execute("DELETE FROM classes WHERE expires < ?", (before,))
            db.execute("DELETE FROM lessons WHERE expires < ?", (before,))

    def _keep(self, lesson_id, data, expires):
        with self._db(write=True) as db:
            db.execute("INSERT INTO lessons VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                       "expires = max(expires, excluded.expires)", (lesson_id, data, expires))

    def _kept(self, lesson_id, now):
        with self._db() as db:
            row = db.execute("SELECT data FROM lessons WHERE id = ? AND expires > ?", (lesson_id, now)).fetchone()
        return row and bytes(row[0])


# ---- Redis: for replicas on several machines -------------------------------------------------------------------------
# _answer as one script, so that its checks and its write are one atomic step. KEYS: the class, its answers to qid,
# the session's rate counter. ARGV: now, qid, value, right (0/1), session, rate limit, the counter's life in ms, GRACE
# (the answers are deleted with their class).
ANSWER_LUA = """
local c = redis.call('HMGET', KEYS[1], 'expires', 'question', 'phase', 'low', 'high')
if not c[1] then return 'not_found' end
if tonumber(ARGV[1]) >= tonumber(c[1]) then return 'expired' end
local n = redis.call('INCR', KEYS[3])
if n == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[7]) end
if n > tonumber(ARGV[6]) then return 'rate_limited' end
if c[3] ~= 'open' or c[2] ~= ARGV[2] then return 'not_open' end
local v = tonumber(ARGV[3])
if v < tonumber(c[4]) or v > tonumber(c[5]) then return 'out_of_range' end
redis.call('HSET', KEYS[2], ARGV[5], ARGV[3] .. ' ' .. ARGV[4])
redis.call('EXPIREAT', KEYS[2], math.floor(tonumber(c[1]) + tonumber(ARGV[8])) + 1)
return 'ok'
"""

# _insert: a new class's hash, whole, with its EXPIREAT, unless its code is taken. ARGV: the unix time, then fields.
CREATE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIREAT', KEYS[1], ARGV[1])
return 1
"""


class RedisStore(ClassStore):
    """Redis: a class is a hash `vitclass:<code>`, its answers to question q a hash `vitclass:<code>:<q>` (session →
    "value right"), a session's rate counter `vitclass:<code>:rate:<session>:<window>`. Presenter changes are
    WATCH/MULTI transactions, an answer one Lua script. Every key expires (EXPIREAT) GRACE after its class, so Redis
    deletes them itself. For classes to survive a restart of Redis itself, turn on its append-only file
    (deploy/k8s/redis-deployment.yaml does)."""

    PREFIX = "vitclass:"

    def __init__(self, host: str, port: int, db: int, **kwargs):
        super().__init__(**kwargs)
        import redis  # only when chosen: the SQLite default needs nothing

        self._redis_errors = redis.RedisError
        self._watch_error = redis.WatchError
        self.url = f"redis://{host}:{port}/{db}"
        self.r = redis.Redis(host=host, port=port, db=db, decode_responses=True, socket_timeout=10,
                             socket_connect_timeout=5, health_check_interval=30)
        self._bytes = redis.Redis(connection_pool=redis.ConnectionPool(host=host, port=port, db=db, socket_timeout=10,
                                                                       socket_connect_timeout=5))  # lesson files
        self._script = self.r.register_script(ANSWER_LUA)
        self._create = self.r.register_script(CREATE_LUA)

    @contextmanager
    def _errors(self):
        try:
            yield
        except self._redis_errors as e:
            raise StoreUnavailable(f"the class store {self.url}: {e}") from e

    def close(self):
        self.r.close()
        self._bytes.close()

    def _key(self, code: str, *parts) -> str:
        return self.PREFIX + ":".join([code, *map(str, parts)])

    def _dead_at(self, record: dict) -> int:
        return int(record["expires"] + GRACE) + 1

    @staticmethod
    def _record(h: dict) -> dict | None:
        if not h:
            return None
        ints = ("beat", "question", "low", "high", "version", "asked")
        h = {"model": "", "asked": "-1", **h}  # a class kept before these fields
        return {k: int(h[k]) if k in ints else float(h[k]) if k in ("created", "expires") else h[k]
                for k in ClassStore.FIELDS}

    @staticmethod
    def _strings(record: dict) -> dict:
        return {k: repr(v) if isinstance(v, float) else str(v) for k, v in record.items()}

    def _insert(self, record):
        key = self._key(record["code"])
        with self._errors():
            flat = [x for kv in self._strings(record).items() for x in kv]
            return bool(self._create(keys=[key], args=[self._dead_at(record), *flat]))

    def _get(self, code):
        with self._errors():
            return self._record(self.r.hgetall(self._key(code)))

    def _update(self, code, change):
        key = self._key(code)
        with self._errors(), self.r.pipeline() as p:
            while True:
                try:
                    p.watch(key)
                    old = self._record(p.hgetall(key))
                    new = None if old is None else change(old)
                    if new is None:
                        p.reset()
                        return old
                    p.multi()
                    p.hset(key, mapping=self._strings(new))
                    p.execute()
                    return new
                except self._watch_error:
                    continue  # another presenter change came first: read it and change again

    def _answer(self, code, session, qid, value, right, now, window):
        keys = [self._key(code), self._key(code, qid), self._key(code, "rate", session, window)]
        args = [repr(now), qid, value, int(right), session, self.rate[0], int(self.rate[1] * 2000), GRACE]
        with self._errors():
            return self._script(keys=keys, args=args)

    def _answers(self, code, qid):
        with self._errors():
            raw = self.r.hvals(self._key(code, qid))
        return [(int(v), r == "1") for v, r in (x.split() for x in raw)]

    def _own(self, code, qid, session):
        with self._errors():
            raw = self.r.hget(self._key(code, qid), session)
        return None if raw is None else int(raw.split()[0])

    def _purge(self, before):
        pass  # every key has its EXPIREAT

    def _keep(self, lesson_id, data, expires):
        key = self.PREFIX + lesson_id
        with self._errors():
            self._bytes.set(key, data, exat=int(expires) + 1)  # kept again: a day from now

    def _kept(self, lesson_id, now):
        with self._errors():
            return self._bytes.get(self.PREFIX + lesson_id)


# ---- the setting ---------------------------------------------------------------------------------------------------
def default_url() -> str:
    return "sqlite:///" + str(DEFAULT_PATH)


def setting(environ=os.environ) -> str:
    """The store every replica uses: VIT_CLASS_STORE if set (and not blank), else default_url()."""
    return (environ.get(ENV) or "").strip() or default_url()


def resolved(url: str) -> str:
    """`url` checked, with a relative SQLite path made absolute (against the working directory): what to hand to
    other processes (deploy/serve_class.py gives it to every replica, so all use one file). StoreSettingError if it is
    neither sqlite:///PATH nor redis://HOST:PORT/DB."""
    kind, where = _parse(url)
    if kind == "sqlite":
        return "sqlite:///" + str(Path(where).absolute())
    return url


def connect(url: str | None = None, **kwargs) -> ClassStore:
    """The class store at `url` (default: setting()). kwargs: clock, rate, ttl (for tests and benchmarks)."""
    kind, where = _parse(setting() if url is None else url)
    if kind == "sqlite":
        return SQLiteStore(where, **kwargs)
    return RedisStore(*where, **kwargs)


SETTING_HELP = (f"{ENV} must be sqlite:///PATH (a file on this machine: the default is {default_url()}) or "
                "redis://HOST:PORT/DB (Redis, for several machines)")


def _parse(url: str) -> tuple[str, object]:
    if not isinstance(url, str):
        raise StoreSettingError(f"{SETTING_HELP}, not {url!r}")
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path and path != ":memory:" and "?" not in path and "\0" not in path and not path.endswith("/"):
            return "sqlite", path
        raise StoreSettingError(f"{SETTING_HELP}; {url!r} names no file (one all the app's processes share)")
    if url.startswith("redis://"):
        parts = urlsplit(url)
        try:
            port = parts.port or 6379
        except ValueError:
            port = None
        db = parts.path.lstrip("/") or "0"
        if parts.hostname and port and db.isdigit() and not (parts.query or parts.fragment or parts.username
                                                             or parts.password):
            return "redis", (parts.hostname, port, int(db))
        raise StoreSettingError(f"{SETTING_HELP}; {url!r} is not of that form")
    raise StoreSettingError(f"{SETTING_HELP}, not {url!r}")
