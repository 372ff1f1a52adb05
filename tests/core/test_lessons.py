"""Lesson files (app/lessons/lesson.py): the shipped lesson parses and covers the walkthrough, every beat's page and
view exist, both languages are there; a bad file gets every problem with its line and a reason code that both
catalogs say."""
from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from app.i18n import catalog, t_in
from app.lessons import lesson
from app.lessons.lesson import BadLesson, parse
from app.steps import WALKTHROUGH

STEPS = Path(lesson.__file__).resolve().parents[1] / "steps"

GOOD = '''\
id = "tiny"
title.en = "A tiny lesson"
title.ko = "작은 수업"
summary.en = "Two beats."
summary.ko = "장면 두 개."

[[beat]]
page = "patches"
say.en = "Look."
say.ko = "보세요."

[[beat]]
page = "experiments"
view = { section = "changes", mask = [3, 4] }
say.en = "Mask."
say.ko = "가리기."

[beat.question]
kind = "choice"
rule = "mask_changes_top"
mask = "centre"
ask.en = "Will it change?"
ask.ko = "바뀔까요?"

[[beat.question.option]]
means = "changes"
en = "Yes"
ko = "네"

[[beat.question.option]]
means = "stays"
en = "No"
ko = "아니요"
'''


def problems(text: str | bytes) -> list[tuple[int, str]]:
    with pytest.raises(BadLesson) as e:
        parse(text)
    return [(p.line, p.code) for p in e.value.problems]


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_the_parser_needs_neither_streamlit_nor_torch():
    code = ("import sys; from app.lessons import lesson; lesson.shipped(); "
            "print(sorted({'streamlit', 'torch'} & set(sys.modules)))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=STEPS.parents[1],
                         check=True)
    assert run.stdout.strip() == "[]"


# ---- the shipped lesson -------------------------------------------------------------------------------------------
def test_the_pages_are_the_walkthrough_s():
    assert lesson.PAGES == tuple(name for name, _ in WALKTHROUGH)
    assert set(lesson.VIEWS) == set(lesson.SECTIONS) == set(lesson.PAGES)


def test_the_shipped_lesson_covers_the_walkthrough_in_order():
    shipped = lesson.shipped()
    assert shipped.id == "first-vit" and 20 <= len(shipped.beats) <= 30
    pages = [b.page for b in shipped.beats]
    assert sorted(set(pages), key=lesson.PAGES.index) == list(lesson.PAGES)  # every step of the walkthrough …
    assert pages == sorted(pages, key=lesson.PAGES.index)  # … in the walkthrough's order
    kinds = [q.kind for q in shipped.questions]
    assert 6 <= len(kinds) <= 10 and set(kinds) == set(lesson.KINDS)
    assert shipped.beats[0].line == line_of(lesson.SHIPPED.read_text(encoding="utf-8"), "[[beat]]")


def test_every_text_of_the_shipped_lesson_is_in_english_and_korean():
    shipped = lesson.shipped()
    texts = [shipped.title, shipped.summary, *(b.say for b in shipped.beats),
             *(q.ask for q in shipped.questions), *(o.text for q in shipped.questions for o in q.options)]
    hangul = re.compile(r"[\uac00-\ud7a3]")
    for text in texts:
        assert text.en.strip() and text.ko.strip() and text.en != text.ko
        assert not hangul.search(text.en) and hangul.search(text.ko), text
        assert text.get("en") == text.en and text.get("ko") == text.ko


def test_every_view_key_is_a_widget_of_its_page():
    """A view key is the state of one widget of its page (lesson.WIDGETS): the page's source names that widget."""
    for page in lesson.PAGES:
        source = (STEPS / f"{page}.py").read_text(encoding="utf-8")
        for key in lesson.VIEWS[page]:
            assert f'"{lesson.WIDGETS[page][key]}"' in source, (page, key)
    common = (STEPS.parent / "pictures.py").read_text(encoding="utf-8") + (STEPS.parent / "links.py").read_text()
    assert all(f'"{lesson.WIDGETS["*"][key]}"' in common for key in ("image", "model"))
    for beat in lesson.shipped().beats:  # and the shipped beats use only what their page has
        assert set(beat.view) <= {*lesson.COMMON, *lesson.VIEWS[beat.page]}


def test_the_shipped_lesson_fits_the_teaching_model(teaching):
    cfg = teaching.model.config
    assert lesson.beyond(lesson.shipped(), cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_patches) == ()
    small = lesson.beyond(lesson.shipped(), 1, 1, 16)  # a model of 1 layer, 1 head, 16 patches
    assert {(p.values["field"], p.values["last"]) for p in small} == {("patch", 15)}
    assert all(p.code == "beyond_model" for p in small)


def test_the_values_a_page_takes():
    assert lesson.MASK_PRESETS == __import__("vit_core.interventions").interventions.PRESETS
    assert lesson.FILLS == __import__("vit_core.interventions").interventions.FILLS
    from vit_core import explain, hub
    assert lesson.METHODS == explain.METHODS
    assert lesson.MODELS == ("teaching", *(p.name for p in hub.CURATED))


# ---- a good file --------------------------------------------------------------------------------------------------
def test_a_good_file_becomes_frozen_records():
    got = parse(GOOD)
    assert got.id == "tiny" and got.title.get("ko") == "작은 수업"
    first, second = got.beats
    assert (first.page, dict(first.view), first.question, first.line) == ("patches", {}, None, 7)
    assert dict(second.view) == {"section": "changes", "mask": (3, 4)}
    q = second.question
    assert (q.kind, q.rule, dict(q.params), q.line) == ("choice", "mask_changes_top",
                                                        {"mask": "centre", "fill": "mean"}, 18)
    assert [o.means for o in q.options] == ["changes", "stays"] and q.options[1].text.ko == "아니요"
    assert q.stored(49, 6).high == 1 and q.option("stays") == 1
    with pytest.raises(AttributeError):
        second.page = "paper"
    assert parse(GOOD.encode("utf-8-sig")) == got  # a byte-order mark is not a problem


def test_texts_may_be_written_as_tables_or_inline():
    head = GOOD[:GOOD.index("[[beat]]")]
    written = ('id = "tiny"\nsummary = { en = "Two beats.", ko = "장면 두 개." }\n\n'
               '[title]\nen = "A tiny lesson"\nko = "작은 수업"\n\n' + GOOD[len(head):])
    assert parse(written).title == parse(GOOD).title and parse(written).summary == parse(GOOD).summary
    assert parse(written).beats[0].line == line_of(written, "[[beat]]")


# ---- each problem, with its line -----------------------------------------------------------------------------------
CASES = [  # (what to replace in GOOD, with what, the problem's code, the fragment on its line)
    ('page = "experiments"', 'page = "experiment"', "unknown_page", 'page = "experiment"'),
    ('page = "patches"\n', "", "no_page", "[[beat]]"),
    ("mask = [3, 4] }", "mask = [3, 4], zoom = 2 }", "unknown_view_key", "zoom = 2"),
    ("mask = [3, 4] }", "mask = [3, 4999] }", "bad_value", "mask = [3, 4999]"),
    ('section = "changes"', 'section = "grid"', "bad_value", 'section = "grid"'),
    ('say.ko = "가리기."', "", "missing_text", 'say.en = "Mask."'),
    ('title.ko = "작은 수업"', 'title.ko = ""', "missing_text", 'title.ko = ""'),
    ('ask.en = "Will it change?"\n', "", "missing_text", 'ask.ko = "바뀔까요?"'),
    ('say.en = "Look."\nsay.ko = "보세요."\n', 'say = "Look."\n', "not_text", 'say = "Look."'),
    ('kind = "choice"', 'kind = "slider"', "unknown_kind", 'kind = "slider"'),
    ('rule = "mask_changes_top"', 'rule = "guess"', "unknown_rule", 'rule = "guess"'),
    ('kind = "choice"', 'kind = "patch"', "wrong_kind", 'rule = "mask_changes_top"'),
    ('means = "stays"\nen = "No"\nko = "아니요"\n', 'means = "stays"\nen = "No"\nko = "아니요"\ncorrect = true\n',
     "answer_written", "correct = true"),
    ('rule = "mask_changes_top"', 'rule = "mask_changes_top"\nanswer = "changes"', "answer_written",
     'answer = "changes"'),
    ('mask = "centre"', 'mask = "middle"', "bad_value", 'mask = "middle"'),
    ('mask = "centre"\n', "", "missing_key", "[beat.question]"),
    ('means = "stays"', 'means = "maybe"', "bad_value", 'means = "maybe"'),
    ('id = "tiny"', 'id = "Tiny Lesson!"', "bad_id", 'id = "Tiny Lesson!"'),
    ('id = "tiny"\n', "", "missing_key", "id"),  # no line names it: line 1
    ('say.en = "Look."', 'say.en = "Look."\nsay.fr = "Regardez."', "unknown_key", 'say.fr = "Regardez."'),
    ('view = { section = "changes"', 'zoom = 3\nview = { section = "changes"', "unknown_key", "zoom = 3"),
    ('view = { section = "changes", mask = [3, 4] }', 'view = "changes"', "not_table", 'view = "changes"'),
    ('say.en = "Look."', 'say.en = "' + "Look. " * 200 + '"', "too_long", "Look. Look."),
]


@pytest.mark.parametrize("old, new, code, fragment", CASES, ids=[f"{c[2]}:{c[3][:20]}" for c in CASES])
def test_a_problem_names_its_line(old, new, code, fragment):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    line = 1 if fragment == "id" else line_of(text, fragment)
    assert (line, code) in problems(text), problems(text)


def test_a_choice_needs_two_options_each_meaning_one_answer():
    first_option = GOOD.index("[[beat.question.option]]")
    second_option = GOOD.index("[[beat.question.option]]", first_option + 1)
    one = GOOD[:second_option]
    assert (line_of(one, "[[beat.question.option]]"), "few_options") in problems(one)
    none = GOOD[:first_option]
    assert (line_of(none, "[beat.question]"), "few_options") in problems(none)
    same = GOOD.replace('means = "stays"', 'means = "changes"')
    assert {code for _, code in problems(same)} == {"missing_outcome", "repeated_outcome"}
    options_elsewhere = GOOD.replace('kind = "choice"', 'kind = "number"').replace('rule = "mask_changes_top"',
                                                                                  'rule = "tokens"')
    options_elsewhere = options_elsewhere.replace('mask = "centre"\n', "")
    assert problems(options_elsewhere) == [(line_of(options_elsewhere, "[[beat.question.option]]"),
                                            "options_not_choice")]


def test_every_problem_of_a_file_is_found_in_the_order_of_the_file():
    text = GOOD.replace('page = "patches"', 'page = "pictures"').replace('kind = "choice"', 'kind = "slider"')
    assert problems(text) == [(line_of(text, "pictures"), "unknown_page"), (line_of(text, "slider"), "unknown_kind")]


def test_a_toml_syntax_error_names_its_line():
    text = GOOD.replace('say.en = "Mask."', 'say.en = "Mask.')
    [(line, code)] = problems(text)
    assert (line, code) == (line_of(text, 'say.en = "Mask.'), "syntax")
    with pytest.raises(BadLesson) as e:
        parse(text)
    assert "(at line" not in e.value.problems[0].values["detail"]  # the line is the problem's, not in the detail


def test_a_file_that_is_not_utf8_or_too_big_is_refused_before_it_is_read():
    data = GOOD.encode().replace("장면 두 개".encode(), "장면 두 개".encode("euc-kr"))
    assert problems(data) == [(line_of(GOOD, "장면 두 개"), "not_utf8")]
    big = GOOD + "# padding\n" * (lesson.MAX_BYTES // 10)
    assert problems(big) == [(1, "too_big")]


def test_a_file_without_beats_or_with_too_many():
    head = GOOD[:GOOD.index("[[beat]]")]
    assert (1, "no_beats") in problems(head)
    beat = GOOD[GOOD.index("[[beat]]"):GOOD.index("[[beat]]", GOOD.index("[[beat]]") + 1)]
    many = head + beat * (lesson.MAX_BEATS + 1)
    assert [code for _, code in problems(many)] == ["too_many_beats"]


def test_a_multi_line_text_does_not_confuse_the_lines():
    text = GOOD.replace('say.en = "Mask."', 'say.en = """Mask.\n[[beat]]\npage = "nowhere"\n"""')
    text = text.replace('kind = "choice"', 'kind = "slider"')
    assert problems(text) == [(line_of(text, "slider"), "unknown_kind")]


# ---- the problems, said in both languages --------------------------------------------------------------------------
def test_every_problem_code_has_a_sentence_in_both_languages_that_takes_its_values():
    made = []  # every problem the cases above make, with its real values
    texts = [GOOD.replace(old, new, 1) for old, new, _, _ in CASES]
    texts += [GOOD[:GOOD.index("[[beat]]")], GOOD.replace('means = "stays"', 'means = "changes"'),
              GOOD.replace('say.en = "Mask."', 'say.en = "Mask.'), GOOD + "#\n" * lesson.MAX_BYTES,
              GOOD.encode().replace("네".encode(), "네".encode("euc-kr")),
              GOOD.replace('kind = "choice"', 'kind = "number"').replace('rule = "mask_changes_top"', 'rule = "x"'),
              GOOD[:GOOD.index("[[beat]]")] + GOOD[GOOD.index("[[beat]]"):GOOD.index('page = "experiments"') - 9] * 101,
              GOOD[:GOOD.index("[[beat.question.option]]", GOOD.index("[[beat.question.option]]") + 1)]]
    for text in texts:
        with pytest.raises(BadLesson) as e:
            parse(text)
        made += e.value.problems
    made += lesson.beyond(lesson.shipped(), 1, 1, 16)
    every = {key.removeprefix("lessons.error_") for key in catalog("en") if key.startswith("lessons.error_")}
    assert {p.code for p in made} == every - {"at", "summary"}
    for lang in ("en", "ko"):
        for p in made:
            sentence = t_in(lang, f"lessons.error_{p.code}", **p.values)
            said = t_in(lang, "lessons.error_at", line=p.line, problem=sentence)
            assert str(p.line) in said and not re.search(r"\{\w*\}", said), (lang, said)
        assert "{" not in t_in(lang, "lessons.error_summary", n=3, title="x")


def test_the_catalog_sentences_take_only_values_the_parser_gives():
    fields = {key: {f for _, f, _, _ in string.Formatter().parse(text) if f} for key, text in catalog("en").items()
              if key.startswith("lessons.")}
    for lang in ("ko",):
        for key, names in fields.items():
            assert {f for _, f, _, _ in string.Formatter().parse(catalog(lang)[key]) if f} == names, key
