"""One way to write a patch's place (issue 28 §3): app/labels.place writes it, in each language ("row 2, column 3",
short "row 2, col 3"; "2행 3열"), and the components' port of it in shared/words.js; nothing else does.

Two scans find a place written any other way: every string of both catalogs (placeholders read as numbers), and
the text of every page as the browser receives it, in English and Korean (AppTest: markdown, captions, alt texts,
tables, chart titles, ticks, hovers and their cells' names, the explorer's data). Each looks for the wrong ways seen
on the pages: "(행 1, 열 5)", "(1행, 5열)", a patch followed by a bare "(2, 6)", "0행 2열행" (a 행 or 열 added to a
name), "row patch 2", and the older "patch 17 · row 2, col 3". The catalog scan also fails on a place written out by
hand ("row {r}, column {c}", "{r}행 {c}열") outside labels.place.
"""
from __future__ import annotations

import json
import re

import pytest
from google.protobuf.json_format import MessageToDict

from app.i18n import catalog
from app.steps import STEPS

from tests.app import apptest

NUM = r"(?:\d+(?:–\d+)?|(?<![A-Za-z])[rcijk](?![A-Za-z]))"  # a number, a run "0–6", or a letter standing for one
THING = r"(?:patch(?:es)?|token|pixel|패치|토큰|픽셀)"
WRONG = [  # (pattern, what it is): a place written another way than labels.place writes it
    (rf"행\s*{NUM}\s*,\s*열\s*{NUM}", "행 N, 열 N: the word before the number"),
    (rf"{NUM}\s*행\s*,\s*{NUM}\s*열", "N행, N열: a comma between"),
    (r"\d\s*[행열][행열]|[행열]\s*[행열](?![\w])", "a 행 or 열 added to a place that has one"),
    (rf"{THING}\s*{NUM}?\s*\(\s*{NUM}\s*,\s*{NUM}\s*\)", "a bare (N, N) after a patch"),
    (rf"{THING}\s*{NUM}\s*·", "the older 'patch 17 · row 2, col 3'"),
    (r"\b(?:row|column|col)\s+(?:patch|token|value|cls|패치|토큰|값)", "row or column added to a name"),
]
BY_HAND = [  # in a catalog, a place is filled in by labels.place: never written out with its own numbers
    (rf"\brow\s+{NUM}\s*,?\s*(?:col|column)\s+{NUM}", "row N, column N written by hand"),
    (rf"{NUM}\s*행\s*,?\s*{NUM}\s*열", "N행 N열 written by hand"),
]
WRITERS = {"labels.place", "labels.place_short"}  # the one function's own templates
SIZES = {"alt.patches_apart", "alt.chart_heatmap"}  # "{g}행 {g}열로", "{rows}행 {cols}열의": a size, not a place


def wrong_places(text: str, rules=WRONG) -> list[str]:
    return [f"{why}: {m.group()!r}" for rx, why in rules for m in re.finditer(rx, text)]


def as_filled(template: str) -> str:
    """A catalog template with each placeholder ({k}, {r:.3f}, Plotly's %{y} and %{{x}}) read as a number."""
    return re.sub(r"%?\{+[^{}]*\}+", "7", template)


@pytest.mark.parametrize("text, found", [
    ("쿼리인 패치 7 (행 1, 열 5)의 어텐션", True), ("패치 7 (1행, 5열)", True), ("(패치 2 · 0행 2열행, 값 29)", True),
    ("query patch 20 (2, 6) → key patch 3 (0, 3)", True), ("patches 0–1 (0, 0)–(0, 1)", True),
    ("the largest value is 0.4 (row patch 2, column value 29)", True), ("patch 17 · row 2, col 3", True),
    ("패치 17 (2행 3열)", False), ("patch 17 (row 2, column 3)", False), ("patches 0–6 (row 0, col 0–6)", False),
    ("7행(층) × 7열(헤드)의 격자", False), ("{rows}행 × {cols}열 크기의 창", False), ("a (B, N, D) tensor", False),
])
def test_the_rules_find_the_wrong_ways(text, found):
    assert bool(wrong_places(as_filled(text))) == found


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_catalog_string_writes_a_place_one_way(lang):
    bad = {key: wrong_places(as_filled(text), WRONG + ([] if key in WRITERS | SIZES else BY_HAND))
           for key, text in catalog(lang).items()}
    assert not {k: v for k, v in bad.items() if v}


# ---- every page as the browser receives it ----------------------------------------------------------------------
def strings(value) -> list[str]:
    """Every string in a proto's dict, a JSON string (a Plotly spec, a component's data) opened up."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    if isinstance(value, str):
        if value[:1] in "{[":
            try:
                return strings(json.loads(value))
            except ValueError:
                pass
        return [value]
    return []


def page_texts(node) -> list[str]:
    """The strings of every element under an AppTest node, code blocks left out (code is not prose)."""
    children = getattr(node, "children", None)
    if children:
        return [s for c in children.values() for s in page_texts(c)]
    proto = getattr(node, "proto", None)
    if proto is None or getattr(node, "type", "") == "code":
        return []
    return strings(MessageToDict(proto))


@pytest.fixture(scope="module", params=["en", "ko"])
def pages(request) -> dict[str, list[str]]:
    at = apptest.start(request.param)
    out = {}
    for step in STEPS:
        apptest.open_page(at, step.file)
        assert not apptest.problems(at), (step.name, apptest.problems(at))
        out[step.name] = page_texts(at._tree)
    return out


def test_every_page_writes_a_place_one_way(pages):
    found = {name: sorted({w for s in texts for w in wrong_places(s)}) for name, texts in pages.items()}
    assert not {k: v for k, v in found.items() if v}


def test_the_pages_name_patches_at_all(pages):
    """The scan reads the places it checks (it would pass on nothing otherwise): page 2's matrix names its rows by
    patch, page 5's explorer its matrix's rows, page 3's tile every cell, each with a place on the grid."""
    place = re.compile(r"(?:patch|패치) \d+ \((?:row \d+, col(?:umn)? \d+|\d+행 \d+열)\)")
    for name in ("flatten", "embedding", "attention"):
        assert any(place.search(s) for s in pages[name]), name
