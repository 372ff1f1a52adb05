"""Lesson mode in the app: a lesson taken alone, or a class that a presenter leads (issue 26, docs/LESSONS.md).

Three ways to be in a lesson, one record (`Mode`) in the session:

- alone: a learner takes the lesson by themselves; the beat is theirs (`?beat=5` in the address, from 1).
- presenter: the teacher opened a class; the class's beat lives in the class store (app/lessons/store.py) and moves
  with their keys. Their address holds the class code and the presenter secret (`?class=…&key=…`): only they have
  it.
- learner: a student joined a class (`?class=…&me=…`: `me` is their own answer session, random and never a name, so
  that a reload or a replica that dies keeps their answers theirs). They follow the presenter's beat, on their own
  picture, within a poll (POLL_S) of the key press, unless they stepped away to explore; one button brings them back.

How a run goes (app/main.py calls these in this order):
1. `start()`, before the sidebar's pickers: reads the address once per session, reads the class's state from the
   store (one small read), and when the beat changes puts the beat's picture and model into the pickers' state.
2. `arrive(page)`, after st.navigation: goes to the beat's page if it is not the one shown, and sets that page's
   widgets to the beat's view (app/lessons/views.py translates a view into this learner's model's values).
3. `bar()`, above the page: the beat, its text, its question (app/lessons/ask.py) and the buttons, with keys.

Nothing here is trusted from the address: a class code is checked by the store (unknown, expired or malformed codes
are said in the page's language), a presenter secret that is not the class's reads as a learner's link, a beat out of
range becomes the nearest, and a class's model is used only if it is the teaching model or a curated one by name.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import streamlit as st

from app import core, links, ranges
from app.i18n import t
from app.lessons import lesson as lessons
from app.lessons import store
from app.steps import step
from vit_core import hub

MODE = "_lesson"  # session: the Mode, or absent
_READ = "_lesson_read"  # session: the address has been read
_APPLY = "_lesson_apply"  # session: the beat whose view is still to be applied (its page not reached yet)
_SCROLL = "_lesson_scroll"  # session: (anchor, nonce) for the page's scroll component
_NOTICE = "_lesson_notice"  # session: (kind, text) to say once above the page
_OWN = "_lesson_own"  # session: a teacher's own lesson, parsed: (Lesson, bytes)
_ANSWERS = "_lesson_answers"  # session, alone: beat → the value answered
_REVEALED = "_lesson_revealed"  # session, alone: beats whose answer is shown
_SHOW = "_lesson_show"  # session, presenter: the class's answers are on screen
_DRAWN = "_lesson_drawn"  # session: the class's version the learner's bar last drew
_SEQ = "_lesson_seq"  # session: how many beats were applied (the scroll's nonce)
URL_KEYS = ("beat", "class", "key", "me")  # links.KEYS reads these as the lesson's (they are never shared as a view)
POLL_S = 0.5  # a learner's page asks the store for the class's state this often
TALLY_S = 0.5  # the presenter's count of answers is read this often (one presenter: it costs next to nothing)


@dataclass(frozen=True)
class Mode:
    kind: str  # "alone", "presenter" or "learner"
    lesson: lessons.Lesson
    lesson_id: str  # "first-vit", or "sha256:…" for a teacher's own file kept in the store
    beat: int  # from 0: the learner's own (alone) or the class's as last read
    code: str = ""
    secret: str = ""  # the presenter's only
    me: str = ""  # a learner's answer session
    version: int = 0  # the class's version last read
    state: store.ClassState | None = None  # the class's state last read
    away: bool = False  # the learner is exploring a page other than the beat's

    @property
    def in_class(self) -> bool:
        return self.kind in ("presenter", "learner")

    @property
    def current(self) -> lessons.Beat:
        return self.lesson.beats[self.beat]


# ---- the store, one per process --------------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def class_store() -> store.ClassStore:
    """The class store of this process (VIT_CLASS_STORE, app/lessons/store.py): made once, shared by its sessions."""
    return store.connect()


def store_error(e: Exception) -> str:
    """What a failed store call means, in the page's language."""
    if isinstance(e, store.ClassCodeError):
        return t(f"lessons.class_{e.reason}", code=e.code[:40])
    if isinstance(e, store.NotPresenter):
        return t("lessons.not_presenter")
    if isinstance(e, store.AnswerRefused):
        return t(f"lessons.refused_{e.reason}", seconds=max(1, round(e.retry_after)))
    if isinstance(e, store.StoreSettingError):
        return t("lessons.store_setting", setting=store.ENV)
    return t("lessons.store_unavailable")


STORE_ERRORS = (store.ClassStoreError, ValueError, OSError)


# ---- lessons: the shipped one, a teacher's own, a class's ------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _parsed(data: bytes) -> lessons.Lesson:
    return lessons.parse(data)


def lesson_of(lesson_id: str) -> lessons.Lesson:
    """The lesson a class follows: the shipped one by its id, or a teacher's own file kept in the store by its digest.
    BadLesson or a store error if it cannot be had."""
    if lesson_id == lessons.shipped().id:
        return lessons.shipped()
    data = class_store().lesson_data(lesson_id)
    if data is None:
        raise store.ClassCodeError(store.EXPIRED, lesson_id)
    return _parsed(data)


def chosen_lesson() -> tuple[lessons.Lesson, bytes | None]:
    """The lesson this session would take or teach: a teacher's own file if one was loaded, else the shipped one."""
    own = st.session_state.get(_OWN)
    return own if own else (lessons.shipped(), None)


# ---- reading the address, entering and leaving -----------------------------------------------------------------------
def start() -> None:
    """Before the sidebar's pickers: the address (once), the class's state, and the beat's picture and model."""
    ss = st.session_state
    if not ss.get(_READ):
        ss[_READ] = True
        _from_address(st.query_params.to_dict())
    mode: Mode | None = ss.get(MODE)
    if mode is not None and mode.in_class:
        _sync(mode)
    mode = ss.get(MODE)
    if mode is not None and ss.get(_APPLY) is not None:
        _apply_common(mode, mode.lesson.beats[ss[_APPLY]])


def _from_address(link: dict[str, str]) -> None:
    code = link.get("class")
    if code:
        join(code, secret=link.get("key"), me=link.get("me"))
    elif "beat" in link:
        lesson = lessons.shipped()
        n = ranges.from_text(link["beat"])
        if n is None:
            return  # links.warn_ignored says so: the beat is not a whole number
        take_alone(min(max(n, 1), len(lesson.beats)) - 1, lesson)


def take_alone(beat: int = 0, lesson: lessons.Lesson | None = None) -> None:
    lesson = lesson or chosen_lesson()[0]
    _enter(Mode("alone", lesson, lesson.id, beat))


def _enter(mode: Mode) -> None:
    ss = st.session_state
    ss[MODE] = mode
    ss[_APPLY] = mode.beat
    for key in (_ANSWERS, _REVEALED):
        ss[key] = {}


def leave() -> None:
    for key in (MODE, _APPLY, _SCROLL, _ANSWERS, _REVEALED, _SHOW):
        st.session_state.pop(key, None)


def open_class() -> None:
    """The teacher's button: a new class on the chosen lesson and the model on screen, this session its presenter."""
    lesson, data = chosen_lesson()
    model = st.session_state.get("model_id", core.TEACHING_ID)
    try:
        s = class_store()
        lesson_id = s.keep_lesson(data) if data else lesson.id
        opened = s.open_class(lesson_id, model=model if shareable(model) else "")
        q = _question_at(lesson, 0)
        state = s.set_beat(opened.code, opened.secret, 0, q) if q else opened.state
    except STORE_ERRORS as e:
        st.session_state[_NOTICE] = ("error", store_error(e))
        return
    _enter(Mode("presenter", lesson, lesson_id, 0, opened.code, opened.secret, version=state.version, state=state))


def join(code: str, secret: str | None = None, me: str | None = None) -> bool:
    """Join class `code` as its presenter (with the right secret) or as a learner; a message in the page's language,
    and no class, if the code leads nowhere."""
    ss = st.session_state
    try:
        s = class_store()
        state = s.state(code)
        lesson = lesson_of(state.lesson)
        presenter = False
        if secret:
            try:
                s.tally(state.code, secret)  # reads nothing a learner could not; only checks the secret
                presenter = True
            except store.NotPresenter:
                ss[_NOTICE] = ("warning", t("lessons.not_presenter"))
    except lessons.BadLesson:
        ss[_NOTICE] = ("error", t("lessons.class_lesson_unreadable"))
        return False
    except STORE_ERRORS as e:
        ss[_NOTICE] = ("error", store_error(e))
        return False
    if presenter:
        mode = Mode("presenter", lesson, state.lesson, state.beat, state.code, secret, version=state.version,
                    state=state)
    else:
        mine = me if isinstance(me, str) and store.SESSION.fullmatch(me) else store.new_session()
        mode = Mode("learner", lesson, state.lesson, state.beat, state.code, me=mine, version=state.version,
                    state=state)
    _enter(mode)
    return True


def shareable(model_id: str) -> bool:
    """A model a class may name: the teaching model or a curated one, by name (never a path a link could send)."""
    return model_id == core.TEACHING_ID or (model_id.startswith("hub:") and hub.is_curated(model_id[4:]))


# ---- the class: read its state, move it ------------------------------------------------------------------------------
def _sync(mode: Mode) -> None:
    """Read the class's state; a new beat is applied unless the learner stepped away."""
    try:
        state = class_store().state(mode.code)
    except STORE_ERRORS as e:
        leave()
        st.session_state[_NOTICE] = ("error", store_error(e))
        return
    if state.version == mode.version:
        return
    beat = min(state.beat, len(mode.lesson.beats) - 1)
    moved = beat != mode.beat
    st.session_state[MODE] = replace(mode, beat=beat, version=state.version, state=state)
    if moved and not (mode.kind == "learner" and mode.away):
        st.session_state[_APPLY] = beat


def _question_at(lesson: lessons.Lesson, beat: int, model_id: str | None = None) -> store.Question | None:
    """What the store accepts for beat `beat`'s question, on the presenter's model (None: the beat asks nothing)."""
    q = lesson.beats[beat].question
    if q is None:
        return None
    cfg = core.get_model(model_id or st.session_state.get("model_id", core.TEACHING_ID)).model.config
    return q.stored(cfg.num_patches, cfg.num_hidden_layers)


def go(beat: int) -> None:
    """Move to beat `beat` (from 0): the learner's own (alone), or the class's (the presenter; its question, if any,
    opens when the class moves forward onto it)."""
    ss = st.session_state
    mode: Mode = ss[MODE]
    beat = max(0, min(beat, len(mode.lesson.beats) - 1))
    if mode.kind == "presenter":
        try:
            q = _question_at(mode.lesson, beat) if beat > mode.beat else None
            state = class_store().set_beat(mode.code, mode.secret, beat, q)
        except STORE_ERRORS as e:
            ss[_NOTICE] = ("error", store_error(e))
            return
        mode = replace(mode, version=state.version, state=state)
    ss[MODE] = replace(mode, beat=beat, away=False)
    ss[_APPLY] = beat


def back() -> None:
    """The learner's "back to the beat" (alone) or "back to the class" (in a class)."""
    ss = st.session_state
    mode: Mode = ss[MODE]
    ss[MODE] = replace(mode, away=False)
    ss[_APPLY] = mode.beat


def reveal() -> None:
    ss = st.session_state
    mode: Mode = ss[MODE]
    if mode.kind == "alone":
        ss.setdefault(_REVEALED, {})[mode.beat] = True
        return
    try:
        state = class_store().reveal(mode.code, mode.secret)
    except STORE_ERRORS as e:
        ss[_NOTICE] = ("error", store_error(e))
        return
    ss[MODE] = replace(mode, version=state.version, state=state)
    ss[_SHOW] = True


def ask_again() -> None:
    ss = st.session_state
    mode: Mode = ss[MODE]
    q = _question_at(mode.lesson, mode.beat)
    if q is None:
        return
    try:
        state = class_store().open_question(mode.code, mode.secret, q)
    except STORE_ERRORS as e:
        ss[_NOTICE] = ("error", store_error(e))
        return
    ss[MODE] = replace(mode, version=state.version, state=state)
    ss[_SHOW] = False


# ---- applying a beat -------------------------------------------------------------------------------------------------
def _apply_common(mode: Mode, beat: lessons.Beat) -> None:
    """The beat's picture and the model, into the pickers' state before they are drawn."""
    ss = st.session_state
    model = beat.view.get("model")
    model_id = (core.TEACHING_ID if model == "teaching" else f"hub:{model}") if model else None
    if model_id is None and mode.in_class and mode.state is not None and shareable(mode.state.model):
        model_id = mode.state.model  # the class's model, for the question's range and the class's counts
    if model_id is not None and shareable(model_id):
        ss["model_choice"] = model_id
    if beat.view.get("image"):
        ss["demo"] = beat.view["image"]


def arrive(page: str) -> None:
    """After st.navigation chose `page` (its address under the root): go to the beat's page if a beat is to be
    applied, then set its widgets to the beat's view; or, on another page, the learner has stepped away."""
    ss = st.session_state
    mode: Mode | None = ss.get(MODE)
    if mode is None:
        return
    pending = ss.get(_APPLY)
    beat = mode.lesson.beats[mode.beat if pending is None else pending]
    target = step(beat.page)
    if pending is None:
        if page != target.path and not mode.away:
            ss[MODE] = replace(mode, away=True)
        elif page == target.path and mode.away:  # back on the beat's page by hand: following again
            ss[MODE] = replace(mode, away=False)
        return
    if page != target.path:  # with the address's query: a switch without one leaves the bar without the class
        shared = ss.get(links._STATE, {})  # (its writer's replaceState can land before the switch's own URL)
        st.switch_page(target.file, query_params={k: str(shared[k]) for k in links.KEYS if shared.get(k) is not None})
    from app.lessons import views  # imported when a beat is applied (it imports vit_core only then)

    model_id = ss.get("model_id", core.TEACHING_ID)
    try:
        loaded = core.get_model(model_id)
        analysis = _analysis(model_id)
        shown = views.widget_values(beat.page, beat.view, loaded.model.config,
                                    probs=None if analysis is None else analysis.probs,
                                    picture=None if analysis is None else analysis.model_view)
    except Exception:  # noqa: BLE001  a model or picture that cannot be had: the page itself says why, in its language
        shown = None
    if shown is not None:
        for key, value in shown.values.items():
            ss[key] = value
        if shown.clamped:
            ss[_NOTICE] = ("info", " ".join(t(f"lessons.error_{p.code}", **p.values) for p in shown.clamped))
    ss.pop(_APPLY, None)
    ss[_SEQ] = ss.get(_SEQ, 0) + 1
    section = beat.view.get("section")  # a beat that asks keeps its question in view: the section comes after it
    ss[_SCROLL] = (f"{beat.page}-{section}" if section and beat.question is None else "", ss[_SEQ])
    ss[MODE] = replace(ss[MODE], away=False)


def _analysis(model_id: str):
    image = st.session_state.get("image")
    return core.analyse(image[0], model_id) if image is not None else None


# ---- what the address says -------------------------------------------------------------------------------------------
def share() -> None:
    """The lesson's keys for the address bar (links.write): a beat alone, the class and the session's own key in a
    class. Never in a view link for others (links.view leaves URL_KEYS out)."""
    mode: Mode | None = st.session_state.get(MODE)
    values = dict.fromkeys(URL_KEYS)
    if mode is not None and mode.kind == "alone" and mode.lesson_id == lessons.shipped().id:
        values["beat"] = mode.beat + 1
    elif mode is not None and mode.in_class:
        values.update({"class": mode.code, "key": mode.secret or None, "me": mode.me or None})
    links.share(**values)
