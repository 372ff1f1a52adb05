"""A lesson's questions on the learner's own picture (app/lessons/ask.py; issue 26 §3), in the app as a learner takes
the shipped lesson alone: every question beat asked, answered with the learner's own widget, and revealed, in en and
ko. The reveal's numbers are vit_core/questions.py's on the same analysis, written as the app writes numbers and
places; the learner's own answer is judged with its own numbers; nothing is left unfilled ({…}, 은(는), raw **).
Also: a choice answer is judged by what its option means; every rule has its sentences in both languages."""
from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from app import core, numbers
from app.i18n import t_in
from app.lessons import ask
from app.lessons import lesson as lessons
from vit_core import questions
from vit_core.questions import NoAnswer

from tests.app.apptest import MAIN, problems

SHIPPED = lessons.shipped()
ASKING = [k for k, beat in enumerate(SHIPPED.beats) if beat.question is not None]
UNFILLED = re.compile(r"\{\w+\}|\((?:은|는|이|가|을|를|과|와|으)\)")


def alone_at(beat: int, lang: str) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=300)
    at.session_state["lang"] = lang
    at.query_params["beat"] = str(beat + 1)
    return at.run()


def pieces(at: AppTest) -> list[str]:
    return ([m.value for m in at.markdown] + [a.value for a in at.success] + [a.value for a in at.warning]
            + [a.value for a in at.info] + [c.value for c in at.caption])


def texts(at: AppTest) -> str:
    return "\n".join(pieces(at))


def the_answer(q: lessons.Question, at: AppTest | None = None) -> questions.Answer:
    """The rule's answer on the session's picture (the first demo when no session is given), by vit_core directly."""
    from app import pictures

    data = (at.session_state["image"].data if at is not None
            else (pictures.IMAGES / pictures.demos()[0]["file"]).read_bytes())
    return questions.answer(q.rule, core.get_model(core.TEACHING_ID).model, core.analyse(data, core.TEACHING_ID),
                            **q.params)


def answer_with(at: AppTest, beat: int, q: lessons.Question, value: int) -> AppTest:
    key = f"lesson_q{beat}"
    if q.kind == "number":
        at.number_input(key=f"{key}_value").set_value(value)
    elif q.kind == "choice":
        at.radio(key=f"{key}_choice").set_value(value)
    elif q.kind == "layer":
        at.session_state[f"{key}_layer"] = value  # the pick, as the select box keeps it
    else:
        at.session_state[f"{key}_patch"] = value
    return at.button(key=f"{key}_send").click().run()


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("beat", ASKING)
def test_every_question_of_the_shipped_lesson_is_asked_answered_and_revealed(beat, lang):
    q = SHIPPED.beats[beat].question
    at = alone_at(beat, lang)
    assert not problems(at)
    assert q.ask.get(lang) in texts(at)
    truth = the_answer(q, at)
    right = ask.right_values(q, truth)
    wrong = next(v for v in range(0, 60) if v not in right)
    at = answer_with(at, beat, q, wrong)
    assert not problems(at)
    assert at.session_state["_lesson_answers"][beat] == wrong
    before = set(pieces(at))
    at = at.button(key="lesson_reveal").click().run()
    assert not problems(at)
    shown = "\n".join(p for p in pieces(at) if p not in before)  # what the reveal wrote
    assert not UNFILLED.search(shown), UNFILLED.search(shown)
    bold = re.search(r"\*\*[^*\n]*\)\*\*[가-힣]", "\n".join(m.value for m in at.markdown))
    assert not bold, bold  # **…)** before Hangul does not close: the asterisks would show
    cfg = core.get_model(core.TEACHING_ID).model.config
    if q.kind == "number":
        assert numbers.number(truth.value) in shown and numbers.number(wrong) in shown
    elif q.kind == "patch":
        for k in truth.correct:
            assert t_in(lang, "labels.patch", k=k, place=t_in(lang, "labels.place", r=k // cfg.grid_size,
                                                               c=k % cfg.grid_size)) in shown
        column = next(iter(truth.table.values()))
        assert numbers.number(float(column[wrong])) in shown  # the learner's own patch, with its own weight
    elif q.kind == "layer":
        assert t_in(lang, "questions.layer_n", n=truth.value) in shown or truth.value == 0
    not_right = t_in(lang, "questions.not_right")
    assert not_right in shown


def test_a_choice_is_judged_by_what_its_option_means():
    q = next(b.question for b in SHIPPED.beats if b.question and b.question.kind == "choice")
    truth = the_answer(q)
    for k, option in enumerate(q.options):
        assert ask.judge(q, truth, k).right == (option.means in truth.correct)
    assert ask.right_values(q, truth) == tuple(q.option(m) for m in truth.correct)


def test_every_rule_has_its_reveal_and_its_why_in_both_languages():
    from app.i18n import catalog

    for lang in ("en", "ko"):
        keys = catalog(lang)
        for name, rule in questions.RULES.items():
            outcomes = [f"_{o}" for o in rule.outcomes] or [""]
            for o in outcomes:
                assert f"questions.reveal_{name}{o}" in keys, (lang, name, o)
            whys = ["_pos", "_nopos"] if name == "shuffle_changes_top" else [""]
            for w in whys:
                assert f"questions.why_{name}{w}" in keys, (lang, name, w)


def test_a_rule_without_an_answer_on_this_model_has_a_sentence_for_each_reason():
    for reason in ("no_head", "beyond"):
        e = NoAnswer("final_class_layer", reason)
        for lang in ("en", "ko"):
            text = t_in(lang, f"questions.no_answer_{e.reason}")
            assert text and not UNFILLED.search(text)
