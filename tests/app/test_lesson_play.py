"""Lesson mode in the app (app/lessons/play.py, app/lessons/screen.py; issue 26 §2, §4, §6), run from the entry point.

Alone: the beat from the address (?beat=N, from 1; out of range: the nearest), Next and Previous moving the beat, its
page and the address, leaving. In class: a teacher opens a class from the sidebar, a second session joins by its code
and follows the presenter's beat on its next run. Everything a link sends is input: an unknown, expired or malformed
code is said in the page's language (en and ko); a link with a presenter key that is not the class's joins as a
student and says so, with nothing to present, advance or reveal with; a learner reads only their own answer; an
answer outside the question's range is refused, not counted; a teacher's own lesson file with problems is refused
with its lines, and the shipped lesson stays.

Each test in class runs twice, on a class store of its own: a SQLite file under tmp_path, then Redis (a redis-server
the tests start), named by VIT_CLASS_STORE; the process's store (play.class_store, a cached resource) is made again
from it. An expired class is opened by a store whose clock stands a day and more in the past: nothing sleeps.
"""
from __future__ import annotations

import sys
import time

import pytest
from streamlit.testing.v1 import AppTest

from app import links
from app.i18n import t_in
from app.lessons import lesson as lessons
from app.lessons import play, store
from app.steps import step

from tests.app.apptest import MAIN, problems
from tests.app import test_class_store

redis_url = test_class_store.redis_url  # the fixture: a redis-server of the tests' own, stopped at the end
SHIPPED = lessons.shipped()
LAST = len(SHIPPED.beats)


@pytest.fixture(params=["sqlite", "redis"])
def classes(request, tmp_path, monkeypatch) -> store.ClassStore:
    """The app's class store, of this test's own: a SQLite file, or a Redis database emptied (test_class_store.py's
    redis-server); the same store, for the test to read and write."""
    if request.param == "sqlite":
        monkeypatch.setenv(store.ENV, f"sqlite:///{tmp_path}/classes.sqlite3")
    else:
        monkeypatch.setenv(store.ENV, request.getfixturevalue("redis_url"))
    play.class_store.clear()
    s = store.connect()
    if request.param == "redis":
        s.r.flushdb()
    yield s
    s.close()
    play.class_store.clear()


def visit(lang: str = "en", **address: str) -> AppTest:
    """A new session opening the app's address with `address` as its query (?beat=5, ?class=…&key=…)."""
    at = AppTest.from_file(MAIN, default_timeout=300)
    at.session_state["lang"] = lang
    for key, value in address.items():
        at.query_params[key] = value
    return at.run()


def clean(at: AppTest, where: str) -> AppTest:
    """No exception drawn in the page, and none raised by the script."""
    assert not problems(at), f"{where}: {problems(at)}"
    return at


def mode(at: AppTest) -> play.Mode | None:
    return at.session_state[play.MODE] if play.MODE in at.session_state else None


def address(at: AppTest) -> dict:
    """The lesson's values this run put in the address bar (links.share → url_state)."""
    shared = at.session_state[links._STATE]
    return {k: shared.get(k) for k in play.URL_KEYS if shared.get(k) is not None}


def here(at: AppTest) -> str:
    """The page shown, as its address under the app's root ("" for the first page)."""
    return at.session_state[links._HERE]


def said(at: AppTest) -> list[str]:
    """Every message and text of the page and the sidebar."""
    out = []
    for kind in ("error", "warning", "info", "success", "markdown", "caption"):
        out += [e.value for e in at.get(kind)]
    return out


def page_of(beat: int) -> str:
    return step(SHIPPED.beats[beat].page).path


# ---- alone ---------------------------------------------------------------------------------------------------------
def test_alone_the_beat_is_in_the_address_and_next_previous_move_it_and_the_page():
    at = clean(visit(beat="4"), "?beat=4")
    m = mode(at)
    assert m.kind == "alone" and m.beat == 3
    assert address(at) == {"beat": 4} and here(at) == page_of(3)
    heading = f"beat 4 of {LAST}"
    assert any(heading in c.value for c in at.caption), [c.value for c in at.caption][:3]
    assert {"lesson_next", "lesson_previous", "lesson_leave"} <= {b.key for b in at.button}
    while page_of(mode(at).beat) == page_of(3):  # Next until the beat is on another page
        clean(at.button(key="lesson_next").click().run(), "Next")
    k = mode(at).beat
    assert k > 3 and here(at) == page_of(k) != page_of(3) and address(at) == {"beat": k + 1}
    assert at.query_params.get("beat") == str(k + 1)  # the page switch itself kept the address's query
    clean(at.button(key="lesson_previous").click().run(), "Previous")
    assert mode(at).beat == k - 1 and here(at) == page_of(k - 1) and address(at) == {"beat": k}


@pytest.mark.parametrize("given, beat", [("0", 1), ("999", LAST), ("000000001", 1), (str(LAST), LAST)])
def test_alone_a_beat_out_of_range_is_the_nearest(given, beat):
    at = clean(visit(beat=given), f"?beat={given}")
    assert mode(at).beat == beat - 1 and address(at) == {"beat": beat} and here(at) == page_of(beat - 1)
    assert at.button(key="lesson_next").disabled == (beat == LAST)
    assert at.button(key="lesson_previous").disabled == (beat == 1)


@pytest.mark.parametrize("given", ["-3", "two", "1.5", "٣", "9" * 12])
def test_alone_a_beat_that_is_not_a_number_is_left_out_and_said(given):
    at = clean(visit(beat=given), f"?beat={given}")
    assert mode(at) is None and address(at) == {}
    ignored = [w.value for w in at.sidebar.warning]
    assert any(f"beat={given[:40]}" in w for w in ignored), ignored


def test_alone_leaving_ends_the_lesson_and_its_address():
    at = clean(visit(beat="7"), "?beat=7")
    clean(at.button(key="lesson_leave").click().run(), "Leave")
    assert mode(at) is None and address(at) == {}
    assert not [b for b in at.button if b.key in ("lesson_next", "lesson_previous")]
    assert at.button(key="lesson_alone")  # the panel offers the lesson again
    clean(at.button(key="lesson_alone").click().run(), "Take the lesson")
    assert mode(at).kind == "alone" and mode(at).beat == 0 and address(at) == {"beat": 1}


# ---- a class: open, join, follow ---------------------------------------------------------------------------------
def open_class(lang: str = "en") -> AppTest:
    """A teacher's session that opened a class from the sidebar's lesson panel."""
    at = clean(visit(lang), "the first page")
    clean(at.button(key="lesson_teach").click().run(), "Teach a class")
    assert mode(at).kind == "presenter", said(at)
    return at


def test_a_teacher_opens_a_class_and_a_learner_follows_its_beat(classes):
    teacher = open_class()
    m = mode(teacher)
    assert store.normal_code(m.code) == m.code and m.secret and m.beat == 0
    assert address(teacher) == {"class": m.code, "key": m.secret}
    state = classes.state(m.code)
    assert state.beat == 0 and state.lesson == SHIPPED.id
    learner = clean(visit("ko", **{"class": m.code.lower().replace("-", " ")}), "joined by its code, as typed")
    lm = mode(learner)
    assert lm.kind == "learner" and lm.code == m.code and lm.beat == 0 and not lm.secret
    assert store.SESSION.fullmatch(lm.me) and address(learner) == {"class": m.code, "me": lm.me}
    assert not {"lesson_next", "lesson_previous", "lesson_reveal", "lesson_show", "lesson_ask"} & {
        b.key for b in learner.button}
    while page_of(mode(teacher).beat) == page_of(0):
        clean(teacher.button(key="lesson_next").click().run(), "the presenter's Next")
    k = mode(teacher).beat
    assert classes.state(m.code).beat == k
    clean(learner.run(), "the learner's next run")
    assert mode(learner).beat == k and here(learner) == page_of(k)
    kept = {key: learner.query_params.get(key) for key in ("class", "me")}
    assert kept == {"class": m.code, "me": lm.me}, kept  # the class's page switch kept the learner's address
    assert any(f"{k + 1}/{LAST}" in c.value or f"{k + 1}" in c.value for c in learner.caption)
    # the learner steps away; the class moves on; they stay where they went, and one button brings them back
    clean(learner.switch_page(step("paper").file).run(), "the learner steps away")
    assert mode(learner).away
    clean(teacher.button(key="lesson_next").click().run(), "the presenter's Next, again")
    clean(learner.run(), "the learner's run while away")
    assert mode(learner).beat == k + 1 and mode(learner).away and here(learner) != page_of(k + 1)
    clean(learner.button(key="lesson_back").click().run(), "Back to the class")
    assert not mode(learner).away and here(learner) == page_of(k + 1)


def test_a_learner_keeps_their_answer_session_from_the_address_and_never_takes_a_malformed_one(classes):
    opened = classes.open_class(SHIPPED.id)
    mine = store.new_session()
    assert mode(clean(visit(**{"class": opened.code, "me": mine}), "with me")).me == mine
    for forged in ("x", "../../etc", "a" * 65, "<script>"):
        me = mode(clean(visit(**{"class": opened.code, "me": forged}), f"me={forged}")).me
        assert me != forged and store.SESSION.fullmatch(me)


# ---- §6: everything a link sends is input --------------------------------------------------------------------------
def expired_code(classes: store.ClassStore) -> str:
    """A class opened by a store whose clock stood a day and a minute ago: expired now, not yet deleted."""
    past = store.connect(clock=lambda: time.time() - store.TTL - 60)
    try:
        return past.open_class(SHIPPED.id).code
    finally:
        past.close()


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("case", ["unknown", "expired", "malformed", "too long"])
def test_a_class_code_that_leads_nowhere_is_said_in_the_pages_language(classes, lang, case):
    code = {"unknown": "7KQ2M-XH9PD", "expired": None, "malformed": "ab-12", "too long": "A" * 500}[case]
    code = code or expired_code(classes)
    at = clean(visit(lang, **{"class": code}), f"?class={code[:20]}")
    reason = {"unknown": "not_found", "expired": "expired"}.get(case, "malformed")
    shown = code if case != "too long" else code[:40]
    expected = t_in(lang, f"lessons.class_{reason}", code=shown)
    assert mode(at) is None and address(at) == {}
    assert [e.value for e in at.error] == [expected], [e.value for e in at.error]
    assert shown in expected


def join_button(at: AppTest, lang: str):
    return next(b for b in at.button if b.label == t_in(lang, "lessons.join") and "FormSubmitter" in b.id)


def test_a_class_code_typed_in_the_join_form_leads_nowhere_in_korean(classes):
    at = clean(visit("ko"), "the first page")
    at.text_input(key="lesson_join_code").input("ZZZZZ-ZZZZZ")
    clean(join_button(at, "ko").click().run(), "Join with an unknown code")
    assert mode(at) is None
    assert [e.value for e in at.error] == [t_in("ko", "lessons.class_not_found", code="ZZZZZ-ZZZZZ")]


PRESENTER_KEYS = {"lesson_next", "lesson_previous", "lesson_reveal", "lesson_show", "lesson_ask"}


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("forged", ["edited", "another class's", "long", "empty"])
def test_a_forged_presenter_link_joins_as_a_learner_and_says_so(classes, lang, forged):
    opened = classes.open_class(SHIPPED.id)
    other = classes.open_class(SHIPPED.id)
    key = {"edited": opened.secret[:-1] + ("A" if opened.secret[-1] != "A" else "B"),
           "another class's": other.secret, "long": "k" * 5000, "empty": ""}[forged]
    before = classes.state(opened.code)
    at = clean(visit(lang, **{"class": opened.code, "key": key}), f"a {forged} key")
    m = mode(at)
    assert m.kind == "learner" and m.secret == "" and "key" not in address(at)
    if key:
        assert [w.value for w in at.warning] == [t_in(lang, "lessons.not_presenter")]
    assert not PRESENTER_KEYS & {b.key for b in at.button}  # nothing to present, advance or reveal with
    for _ in range(2):
        clean(at.run(), "the learner's next runs")
    assert classes.state(opened.code) == before  # nothing changed the class
    assert classes.state(other.code).version == other.state.version


BAD_LESSON_EDITS = [  # (what is replaced, by what, the reason code said at that line)
    ('page = "flatten"', 'page = "flat"', "unknown_page"),
    ('rule = "tokens"', 'rule = "tokens"\nanswer = 50', "answer_written"),
    ('kind = "patch"', 'kind = "pixel"', "unknown_kind"),
]


def bad_lesson() -> tuple[bytes, list[int]]:
    """The shipped lesson with three mistakes; the lines they are on (from 1)."""
    text = lessons.SHIPPED.read_text(encoding="utf-8")
    lines = []
    for old, new, _ in BAD_LESSON_EDITS:
        at = text.index(old)
        text = text[:at] + new + text[at + len(old):]
        lines.append(text[:at].count("\n") + 1 + new.count("\n"))
    return text.encode(), lines


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_teachers_lesson_file_with_problems_is_refused_with_its_lines_and_the_shipped_lesson_stays(classes, lang):
    data, lines = bad_lesson()
    at = clean(visit(lang), "the first page")
    at.file_uploader(key="lesson_own_file").upload("my-lesson.toml", data, "application/toml").run()
    clean(at, "a bad lesson file")
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    title = SHIPPED.title.get(lang)
    assert title in errors[0]
    with pytest.raises(lessons.BadLesson) as bad:
        lessons.parse(data)
    found = {(p.line, p.code) for p in bad.value.problems}
    assert {(line, code) for line, (_, _, code) in zip(lines, BAD_LESSON_EDITS)} <= found, found
    for line in lines:
        assert t_in(lang, "lessons.error_at", line=line, problem="").rstrip() in errors[0], (line, errors[0])
    assert play._OWN not in at.session_state
    clean(at.button(key="lesson_teach").click().run(), "Teach a class, after the refused file")
    m = mode(at)
    assert m.kind == "presenter" and m.lesson is SHIPPED and classes.state(m.code).lesson == SHIPPED.id


def test_a_teachers_good_lesson_file_is_taught_and_a_learner_on_another_replica_reads_it(classes):
    data = lessons.SHIPPED.read_text(encoding="utf-8").replace('id = "first-vit"', 'id = "my-vit"').encode()
    at = clean(visit(), "the first page")
    at.file_uploader(key="lesson_own_file").upload("my-lesson.toml", data, "application/toml").run()
    assert [s.value for s in at.success] and not at.error
    clean(at.button(key="lesson_teach").click().run(), "Teach a class, with my lesson")
    m = mode(at)
    assert m.lesson.id == "my-vit" and store.LESSON_ID.fullmatch(classes.state(m.code).lesson)
    play.class_store.clear()  # another process: nothing cached, the lesson read from the store
    play._parsed.cache_clear()
    learner = clean(visit(**{"class": m.code}), "a learner joins the class on a teacher's lesson")
    assert mode(learner).lesson.id == "my-vit"


# ---- answers: each learner's own, in range, counted for the presenter -----------------------------------------------
@pytest.fixture
def plain_ask(monkeypatch):
    """app/lessons/ask.py's interface as play.py and screen.py call it (ask, solve, judge, reveal, tally), drawn as
    plain widgets (the real ones are tests/app/test_ask.py's) that say what the player handed them: what these tests check is the player's part (whose answer is
    read, what the store refuses, what the presenter counts), not the question widgets."""
    import importlib.machinery
    import types

    import streamlit as st

    ask = types.ModuleType("app.lessons.ask")
    ask.__spec__ = importlib.machinery.ModuleSpec("app.lessons.ask", None)

    def draw(q, c, key, given=None):
        st.caption(f"given={given}")
        value = st.number_input("answer", key=f"{key}_value", value=None, step=1)
        return int(value) if st.button("send", key=f"{key}_send") and value is not None else None

    ask.ask = draw
    ask.solve = lambda q, c: 49
    ask.judge = lambda q, answer, value: types.SimpleNamespace(right=value == answer)
    ask.reveal = lambda q, answer, own, c: st.caption(f"revealed own={own}")
    ask.tally = lambda q, tally, c, show=False: st.caption(f"answered={tally.answered} right={tally.right}")
    monkeypatch.setitem(sys.modules, "app.lessons.ask", ask)
    from app.lessons import screen

    monkeypatch.setattr(screen, "ask", ask)  # screen imported the real one already, in an earlier test's run
    return ask


def answer(at: AppTest, value: int) -> AppTest:
    qid = mode(at).state.question_id
    at.number_input(key=f"lesson_q{qid}_value").set_value(value)
    return clean(at.button(key=f"lesson_q{qid}_send").click().run(), f"answering {value}")


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_each_learner_reads_only_their_own_answer_and_the_presenter_counts_them(classes, plain_ask):
    teacher = open_class()
    m = mode(teacher)
    state = classes.state(m.code)
    assert state.phase == store.OPEN and state.asked == 0  # the first beat asks at once
    a = clean(visit(**{"class": m.code}), "learner A joins")
    b = clean(visit("ko", **{"class": m.code}), "learner B joins")
    assert "given=None" in captions(a) and "given=None" in captions(b)
    answer(a, 49)
    assert "given=49" in captions(a)
    clean(b.run(), "learner B's next run")
    assert "given=None" in captions(b) and not [c for c in captions(b) if "49" in c]  # not A's answer
    answer(b, 7)
    assert "given=7" in captions(b)
    clean(a.run(), "learner A's next run")
    assert "given=49" in captions(a)
    again = clean(visit(**{"class": m.code, "me": mode(a).me}), "learner A reloads")  # the same `me`
    assert "given=49" in captions(again)
    clean(teacher.run(), "the presenter's next run")
    assert "answered=2 right=1" in captions(teacher)
    tally = classes.tally(m.code, m.secret)
    assert tally.counts == {7: 1, 49: 1}
    clean(teacher.button(key="lesson_reveal").click().run(), "Reveal")
    for learner, own in ((a, 49), (b, 7)):
        clean(learner.run(), "a learner's run after the reveal")
        assert f"revealed own={own}" in captions(learner)


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("value", [-1, 1_000_001, 2**40])
def test_an_answer_outside_the_questions_range_is_refused_and_not_counted(classes, plain_ask, lang, value):
    teacher = open_class()
    m = mode(teacher)
    learner = clean(visit(lang, **{"class": m.code}), "a learner joins")
    answer(learner, value)
    assert [e.value for e in learner.error] == [t_in(lang, "lessons.refused_out_of_range")]
    assert classes.tally(m.code, m.secret).answered == 0
    assert classes.own_answer(m.code, mode(learner).me) is None
    assert "given=None" in captions(learner)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_answers_are_rate_limited_per_learner_and_said(classes, plain_ask, lang):
    """At most store.RATE[0] answers a window of RATE[1] s: 11 tries within 10 s cross at most one window's edge, so
    one of them is refused, said in the page's language, and the answer kept is the last one accepted."""
    teacher = open_class()
    m = mode(teacher)
    learner = clean(visit(lang, **{"class": m.code}), "a learner joins")
    other = clean(visit(lang, **{"class": m.code}), "another learner joins")
    said_then = t_in(lang, "lessons.refused_rate_limited", seconds=999).split("999")
    for value in range(1, 2 * store.RATE[0] + 2):
        answer(learner, value)
        if learner.error:
            break
    errors = [e.value for e in learner.error]
    assert len(errors) == 1 and errors[0].startswith(said_then[0]) and errors[0].endswith(said_then[1]), errors
    assert classes.own_answer(m.code, mode(learner).me) == value - 1  # the refused one was not stored
    answer(other, 3)  # another learner is not held back by this one's limit
    assert not other.error and classes.tally(m.code, m.secret).answered == 2
