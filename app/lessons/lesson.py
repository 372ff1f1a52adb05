"""A lesson is data: a TOML file of beats, en and ko side by side, read into frozen records (issue 26, §1).

    lesson = parse(Path("my-lesson.toml").read_bytes())   # or shipped(): app/lessons/first-vit.toml
    lesson.beats[3].page, lesson.beats[3].view             # "embedding", {"section": "cls"}
    lesson.beats[3].say.get("ko")                          # the presenter's text, in Korean

A file that is not a lesson raises `BadLesson`, whose `problems` are every problem found, each with its line, a
reason code and its values (`Problem`), for the page to say in its language: t_in(lang, "lessons.error_" + code,
**values) (app/locales/*/lessons.toml). docs/LESSONS.md is the teacher's manual: every field, every rule, every error.

What a question may not say is its answer. A question names an answer rule (RULES: its kind and parameters), and
vit_core/questions.py computes the answer from each learner's own picture and model; a key that writes an answer
("answer", "correct", …) is refused. RULES here is what a lesson may write; tests/core/test_lessons.py checks that it
matches the rules vit_core/questions.py computes. This module imports neither streamlit nor torch.
"""
from __future__ import annotations

import functools
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from app.lessons import store

HERE = Path(__file__).resolve().parent
SHIPPED = HERE / "first-vit.toml"
DEMOS = HERE.parents[1] / "assets" / "images" / "manifest.json"
LANGS = ("en", "ko")

MAX_BYTES = 100_000  # a lesson file at most this big (the shipped one is about a third of it)
MAX_BEATS = 100
MAX_TEXT = {"title": 120, "summary": 600, "say": 1000, "ask": 300, "option": 200}  # characters, per language
MAX_LAYERS, MAX_HEADS, MAX_PATCHES = 48, 64, 4096  # no model the app serves is bigger (ViT-B/16: 12, 12, 196)
NUMBER_RANGE = (0, 1_000_000)  # what a number question accepts
ANSWER_KEYS = ("answer", "answers", "correct", "right", "solution", "expected", "truth", "is_correct")

PAGES = ("patches", "flatten", "embedding", "encoder", "attention", "experiments", "prediction", "tokens",
         "explanations", "paper")  # app/steps/__init__.py's WALKTHROUGH, in order (a test checks it)
SECTIONS = {  # the parts of each page a beat can point at, from top to bottom
    "patches": ("picture", "grid", "sizes"),
    "flatten": ("matrix", "patch", "ways", "check", "order", "conv"),
    "embedding": ("projection", "cls", "positions", "similarity", "filters"),
    "encoder": ("block", "layer", "head", "matrix", "worked"),
    "attention": ("explorer", "distances"),
    "experiments": ("changes", "permutation", "heads", "training"),
    "prediction": ("top", "layers", "table"),
    "tokens": ("lens", "similarity", "stream"),
    "explanations": ("maps", "compare", "curves", "table", "geometry"),
    "paper": ("table2", "table5", "table6", "table1", "sources"),
}
MASK_PRESETS = ("centre", "border", "random_half")  # vit_core.interventions.PRESETS
FILLS = ("mean", "blur", "noise")  # vit_core.interventions.FILLS
METHODS = ("attention", "rollout", "relevance", "gradient", "value")  # vit_core.explain.METHODS
MODELS = ("teaching", "vit-base-16", "vit-base-16-augreg2", "vit-small-16", "deit-tiny-16", "dino-small-16")


# ---- what a value may be ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Whole:
    """A whole number from lo to hi, or one of `words`."""

    lo: int
    hi: int
    words: tuple[str, ...] = ()

    def ok(self, v: object) -> bool:
        return v in self.words if isinstance(v, str) else type(v) is int and self.lo <= v <= self.hi

    @property
    def allowed(self) -> str:
        return ", ".join([f"{self.lo}–{self.hi}", *(f'"{w}"' for w in self.words)])


@dataclass(frozen=True)
class Word:
    """One of `words`."""

    words: tuple[str, ...]

    def ok(self, v: object) -> bool:
        return isinstance(v, str) and v in self.words

    @property
    def allowed(self) -> str:
        return ", ".join(f'"{w}"' for w in self.words)


@dataclass(frozen=True)
class Flag:
    def ok(self, v: object) -> bool:
        return isinstance(v, bool)

    allowed = "true, false"


@dataclass(frozen=True)
class Patches:
    """A list of patch numbers, or the name of a preset of the experiments page."""

    def ok(self, v: object) -> bool:
        return (v in MASK_PRESETS if isinstance(v, str) else isinstance(v, list) and 0 < len(v) <= MAX_PATCHES
                and all(type(k) is int and 0 <= k < MAX_PATCHES for k in v))

    allowed = f"[0–{MAX_PATCHES - 1}, …], " + ", ".join(f'"{w}"' for w in MASK_PRESETS)


@dataclass(frozen=True)
class Heads:
    """A list of heads written "layer.head", both from 1: ["2.1", "5.4"]."""

    def ok(self, v: object) -> bool:
        return isinstance(v, list) and 0 < len(v) <= MAX_LAYERS * MAX_HEADS and all(
            isinstance(h, str) and re.fullmatch(r"[1-9]\d*\.[1-9]\d*", h) and int(h.split(".")[0]) <= MAX_LAYERS
            and int(h.split(".")[1]) <= MAX_HEADS for h in v)

    allowed = '["layer.head", …], from "1.1"'


LAYER = Whole(1, MAX_LAYERS, ("last",))  # an attention layer, from 1 as the explorer shows it
HEAD = Whole(1, MAX_HEADS)
PATCH = Whole(0, MAX_PATCHES - 1)
CLASS = Whole(0, 99_999, ("predicted", "runner_up"))

COMMON = {"section": None, "image": None, "model": Word(MODELS)}  # every page; section and image: below
VIEWS = {  # page → the view keys it takes, and their values
    "patches": {"patch_size": Whole(1, 1024)},
    "flatten": {"patch": PATCH},
    "embedding": {"patch": PATCH},
    "encoder": {"layer": LAYER, "head": HEAD, "query": Whole(0, MAX_PATCHES - 1, ("cls",)),
                "matrix": Word(("probs", "scores"))},
    "attention": {"layer": LAYER, "head": HEAD, "query": PATCH, "rows": Word(("cls", "query"))},
    "experiments": {"mask": Patches(), "fill": Word(FILLS), "shuffle": Whole(0, 9999), "positions": Flag(),
                    "ablate": Heads(), "attention": Word(("head", "mean", "rollout")), "layer": LAYER, "head": HEAD},
    "prediction": {},
    "tokens": {"layer": Whole(0, MAX_LAYERS, ("last",)), "patch": PATCH},  # a layer from 0: the embeddings
    "explanations": {"class": CLASS, "other": CLASS, "method": Word(METHODS), "layer": LAYER, "head": HEAD},
    "paper": {},
}

WIDGETS = {  # where a view key lives in the app: the session-state key of the page's widget ("*": every page)
    "*": {"image": "demo", "model": "model_choice"},
    "patches": {"patch_size": "whatif_p"},
    "flatten": {"patch": "flatten_patch"},
    "embedding": {"patch": "embedding_sim_patch"},
    "encoder": {"layer": "encoder_layer", "head": "encoder_head", "query": "encoder_query", "matrix": "encoder_matrix"},
    "attention": {"layer": "att_layer", "head": "att_head", "query": "att_query", "rows": "att_grid_rows"},
    "experiments": {"mask": "exp_mask", "fill": "exp_fill", "shuffle": "exp_seed", "positions": "exp_nopos",
                    "ablate": "exp_heads", "attention": "exp_view", "layer": "exp_layer", "head": "exp_head"},
    "prediction": {},
    "tokens": {"layer": "lens_layer", "patch": "lens_patch"},
    "explanations": {"class": "expl_target", "other": "expl_other", "method": "expl_method", "layer": "expl_layer",
                     "head": "expl_head"},
    "paper": {},
}


@functools.cache
def demo_ids() -> tuple[str, ...]:
    """The demo pictures a view may name (app/pictures.py's ids)."""
    return tuple(Path(item["file"]).stem for item in json.loads(DEMOS.read_text(encoding="utf-8")))


def view_value(page: str, key: str):
    if key == "section":
        return Word(SECTIONS[page])
    if key == "image":
        return Word(demo_ids())
    return COMMON.get(key) or VIEWS[page][key]


# ---- answer rules: what a question may name (vit_core/questions.py computes each) -------------------------------
REQUIRED = object()


@dataclass(frozen=True)
class Rule:
    kind: str
    params: Mapping[str, tuple[object, object]] = field(default_factory=dict)  # name → (value, default/REQUIRED)
    outcomes: tuple[str, ...] = ()  # a choice rule's answers: each option means one of them


RULES = {
    "tokens": Rule("number"),
    "patches": Rule("number"),
    "values_per_patch": Rule("number"),
    "width": Rule("number"),
    "attention_matrices": Rule("number"),
    "cls_top_patch": Rule("patch", {"layer": (LAYER, "last"), "head": (Whole(1, MAX_HEADS, ("mean",)), "mean")}),
    "rollout_top_patch": Rule("patch", {"layer": (LAYER, "last")}),
    "relevance_top_patch": Rule("patch", {"method": (Word(METHODS), "relevance")}),
    "mask_changes_top": Rule("choice", {"mask": (Patches(), REQUIRED), "fill": (Word(FILLS), "mean")},
                             ("changes", "stays")),
    "shuffle_changes_top": Rule("choice", {"seed": (Whole(0, 9999), 0), "positions": (Flag(), True)},
                                ("changes", "stays")),
    "final_class_layer": Rule("layer"),
}
KINDS = ("patch", "number", "choice", "layer")  # store.Question.KINDS


# ---- the records ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    en: str
    ko: str

    def get(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


@dataclass(frozen=True)
class Option:
    means: str  # one of the rule's outcomes
    text: Text


@dataclass(frozen=True)
class Question:
    kind: str
    rule: str
    ask: Text
    params: Mapping[str, object]  # the rule's parameters, defaults filled in: questions.answer(rule, …, **params)
    options: tuple[Option, ...] = ()  # a choice's, in the order shown; the answer is the option's index
    line: int = 0

    def option(self, means: str) -> int:
        """The index of the option that means `means` (a choice rule's answer): what a learner taps and the store
        keeps."""
        return [o.means for o in self.options].index(means)

    def stored(self, patches: int, layers: int) -> store.Question:
        """What the class store accepts for this question, on a model of `patches` patches and `layers` layers."""
        if self.kind == "patch":
            return store.Question.patch(patches)
        if self.kind == "layer":
            return store.Question.layer(layers)
        if self.kind == "choice":
            return store.Question.choice(len(self.options))
        return store.Question.number(*NUMBER_RANGE)


@dataclass(frozen=True)
class Beat:
    page: str  # a step of the walkthrough: PAGES
    view: Mapping[str, object]  # what the page shows: VIEWS[page], COMMON
    say: Text  # for the presenter
    question: Question | None = None
    line: int = 0  # the line of its [[beat]]


@dataclass(frozen=True)
class Lesson:
    id: str
    title: Text
    summary: Text
    beats: tuple[Beat, ...]

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(b.question for b in self.beats if b.question is not None)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a lesson file: its line (from 1), a reason code (lessons.error_<code> in the catalogs)
    and the values its sentence needs (never named "key" or "lang", which are t_in's own parameters)."""

    line: int
    code: str
    values: Mapping[str, object] = field(default_factory=dict)


class BadLesson(ValueError):
    """A file that is not a lesson: every problem found, in the order of the file."""

    def __init__(self, problems: list[Problem]):
        self.problems = tuple(sorted(problems, key=lambda p: p.line))
        super().__init__("; ".join(f"line {p.line}: {p.code} {dict(p.values)}" for p in self.problems))


# ---- where a key is written: TOML's parser gives no lines, so they are found in the text ------------------------
HEADER = re.compile(r"\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
KEY = re.compile(r"\s*([A-Za-z0-9_\-\"' .]+?)\s*=")
INLINE_KEY = re.compile(r"[{,]\s*([A-Za-z0-9_\-]+)\s*=")


def _segments(key: str) -> tuple[str, ...]:
    return tuple(s.strip().strip("\"'") for s in key.split("."))


class Lines:
    """The line of each table and key of a TOML text, by path: ("beat", 2, "question", "rule"); an array of tables
    is counted from 0 ([[beat]] number 2 is the third)."""

    def __init__(self, text: str):
        self.at: dict[tuple, int] = {}
        self.count: dict[tuple, int] = {}
        table: tuple = ()
        inside = None  # the delimiter of a multi-line string we are in
        for n, line in enumerate(text.splitlines(), start=1):
            if inside:
                inside = None if line.count(inside) % 2 else inside
                continue
            if (m := HEADER.match(line)) and not KEY.match(line):
                table = self._resolve(_segments(m[2]), array=m[1] == "[[")
                self.at.setdefault(table, n)
                if m[1] == "[[":  # the array itself is where its first table is
                    self.at.setdefault(table[:-1], n)
            elif m := KEY.match(line):
                segments = _segments(m[1])
                for k in range(1, len(segments) + 1):  # say.en = …: the line of say too, if it has none yet
                    self.at.setdefault(table + segments[:k], n)
                path = table + segments
                for inner in INLINE_KEY.findall(line[m.end():]):
                    self.at.setdefault(path + (inner,), n)
            for quotes in ('"""', "'''"):
                if line.count(quotes) % 2:
                    inside = quotes

    def _resolve(self, segments: tuple[str, ...], array: bool) -> tuple:
        path: tuple = ()
        for j, seg in enumerate(segments):
            path += (seg,)
            if array and j == len(segments) - 1:
                self.count[path] = self.count.get(path, -1) + 1
            if path in self.count:
                path += (self.count[path],)
        return path

    def line(self, path: tuple) -> int:
        """The line of `path`, or of its nearest parent written in the file (1 if none is)."""
        for k in range(len(path), 0, -1):
            if path[:k] in self.at:
                return self.at[path[:k]]
        return 1


# ---- the parser ------------------------------------------------------------------------------------------------------
def parse(data: bytes | str) -> Lesson:
    """The lesson in `data` (a file's bytes), or BadLesson with every problem found."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise BadLesson([Problem(1, "too_big", {"size": len(raw), "limit": MAX_BYTES})])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadLesson([Problem(raw[:e.start].count(b"\n") + 1, "not_utf8", {})]) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        found = re.search(r"\(at line (\d+), column \d+\)|\(at end of document\)", str(e))
        line = int(found[1]) if found and found[1] else text.count("\n") + 1
        detail = str(e)[:found.start()].strip() if found else str(e)
        raise BadLesson([Problem(line, "syntax", {"detail": detail})]) from None
    reader = _Reader(Lines(text))
    lesson = reader.lesson(doc)
    if reader.problems:
        raise BadLesson(reader.problems)
    return lesson


@functools.cache
def shipped() -> Lesson:
    """The lesson shipped with the app (SHIPPED), which the app goes on with when a teacher's file is bad."""
    return parse(SHIPPED.read_bytes())


class _Reader:
    """Walks the parsed document, noting every problem with its line."""

    def __init__(self, lines: Lines):
        self.lines, self.problems = lines, []

    def problem(self, path: tuple, code: str, **values) -> None:
        self.problems.append(Problem(self.lines.line(path), code, MappingProxyType(values)))

    def keys(self, table: dict, path: tuple, known: tuple[str, ...]) -> None:
        """A problem for each key of `table` that is not `known`: an answer, or an unknown key."""
        for key in table:
            if key in ANSWER_KEYS:
                self.problem(path + (key,), "answer_written", field=key)
            elif key not in known:
                self.problem(path + (key,), "unknown_key", field=key, known=", ".join(known))

    def text(self, table: dict, key: str, path: tuple) -> Text:
        """`table[key]`: a table of an en and a ko text."""
        value, where = table.get(key), path + (key,)
        if value is None:
            self.problem(where, "missing_key", field=key)
            return Text("", "")
        if not isinstance(value, dict):
            self.problem(where, "not_text", field=key)
            return Text("", "")
        self.keys(value, where, LANGS)
        return self.langs(value, where, key)

    def langs(self, table: dict, where: tuple, key: str) -> Text:
        """The en and ko texts of `table`, each present and at most MAX_TEXT[key] characters."""
        for lang in LANGS:
            said = table.get(lang)
            if not isinstance(said, str) or not said.strip():
                self.problem(where + (lang,), "missing_text", field=key, language=lang)
            elif len(said) > MAX_TEXT[key]:
                self.problem(where + (lang,), "too_long", field=key, language=lang, length=len(said),
                             limit=MAX_TEXT[key])
        return Text(*(v if isinstance(v := table.get(lang), str) else "" for lang in LANGS))

    def lesson(self, doc: dict) -> Lesson:
        self.keys(doc, (), ("id", "title", "summary", "beat"))
        ident = doc.get("id")
        if ident is None:
            self.problem(("id",), "missing_key", field="id")
        elif not (isinstance(ident, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", ident)):
            self.problem(("id",), "bad_id", value=str(ident)[:40])
        title, summary = self.text(doc, "title", ()), self.text(doc, "summary", ())
        beats = doc.get("beat")
        if not isinstance(beats, list) or not beats:
            self.problem(("beat",), "no_beats")
            beats = []
        elif len(beats) > MAX_BEATS:
            self.problem(("beat", MAX_BEATS), "too_many_beats", n=len(beats), limit=MAX_BEATS)
        read = tuple(self.beat(b, ("beat", i)) for i, b in enumerate(beats[:MAX_BEATS]))
        return Lesson(ident if isinstance(ident, str) else "", title, summary, read)

    def beat(self, beat: object, path: tuple) -> Beat:
        if not isinstance(beat, dict):
            self.problem(path, "not_table", field="beat")
            return Beat("", MappingProxyType({}), Text("", ""))
        self.keys(beat, path, ("page", "view", "say", "question"))
        page = beat.get("page")
        if page is None:
            self.problem(path, "no_page")
        elif page not in PAGES:
            self.problem(path + ("page",), "unknown_page", page=str(page)[:40], pages=", ".join(PAGES))
        view = self.view(beat.get("view", {}), page if page in PAGES else None, path + ("view",))
        say = self.text(beat, "say", path)
        question = beat.get("question")
        if question is not None and not isinstance(question, dict):
            self.problem(path + ("question",), "not_table", field="question")
            question = None
        asked = None if question is None else self.question(question, path + ("question",))
        return Beat(page if page in PAGES else "", view, say, asked, self.lines.line(path))

    def view(self, view: object, page: str | None, path: tuple) -> Mapping[str, object]:
        if not isinstance(view, dict):
            self.problem(path, "not_table", field="view")
            return MappingProxyType({})
        if page is None:  # the page is unknown or missing (said already): nothing to check its view against
            return MappingProxyType({})
        known = (*COMMON, *VIEWS[page])
        for key, value in view.items():
            if key not in known:
                self.problem(path + (key,), "unknown_view_key", field=key, page=page, known=", ".join(known))
            elif not (check := view_value(page, key)).ok(value):
                self.problem(path + (key,), "bad_value", field=key, value=shown(value), allowed=check.allowed)
        return MappingProxyType({key: frozen(value) for key, value in view.items()})

    def question(self, q: dict, path: tuple) -> Question | None:
        kind, name = q.get("kind"), q.get("rule")
        rule = RULES.get(name) if isinstance(name, str) else None
        self.keys(q, path, ("kind", "rule", "ask", "option", *(rule.params if rule else ())))
        for key, value in (("kind", kind), ("rule", name)):
            if value is None:
                self.problem(path, "missing_key", field=key)
        if kind is not None and kind not in KINDS:
            self.problem(path + ("kind",), "unknown_kind", kind=shown(kind), kinds=", ".join(KINDS))
        if name is not None and rule is None:
            self.problem(path + ("rule",), "unknown_rule", rule=shown(name), rules=", ".join(RULES))
        elif rule is not None and kind in KINDS and rule.kind != kind:
            self.problem(path + ("rule",), "wrong_kind", rule=name, kind=kind, rule_kind=rule.kind)
        ask = self.text(q, "ask", path)
        params = {}
        for key, (check, default) in (rule.params.items() if rule else ()):
            if key not in q and default is REQUIRED:
                self.problem(path, "missing_key", field=key)
            elif key in q and not check.ok(q[key]):
                self.problem(path + (key,), "bad_value", field=key, value=shown(q[key]), allowed=check.allowed)
            params[key] = frozen(q.get(key, default))
        options = self.options(q.get("option"), kind, rule, path + ("option",))
        if kind not in KINDS or rule is None or rule.kind != kind:
            return None
        return Question(kind, name, ask, MappingProxyType(params), options, self.lines.line(path))

    def options(self, options: object, kind: object, rule: Rule | None, path: tuple) -> tuple[Option, ...]:
        if kind != "choice":
            if options is not None and kind in KINDS:  # an unknown kind is said already
                self.problem(path, "options_not_choice", kind=shown(kind))
            return ()
        if not isinstance(options, list) or len(options) < 2:
            n = len(options) if isinstance(options, list) else 0
            self.problem(path if options is not None else path[:-1], "few_options", n=n)
            return ()
        read, outcomes = [], rule.outcomes if rule else ()
        for i, option in enumerate(options):
            where = path + (i,)
            if not isinstance(option, dict):
                self.problem(where, "not_table", field="option")
                continue
            self.keys(option, where, ("means", *LANGS))
            means = option.get("means")
            if means is None:
                self.problem(where, "missing_key", field="means")
            elif outcomes and means not in outcomes:
                self.problem(where + ("means",), "bad_value", field="means", value=shown(means),
                             allowed=", ".join(f'"{o}"' for o in outcomes))
            read.append(Option(str(means), self.langs(option, where, "option")))
        given = [o.means for o in read]
        for outcome in outcomes:
            if given.count(outcome) != 1:
                self.problem(path[:-1] if not given else path + (0,),
                             "missing_outcome" if outcome not in given else "repeated_outcome", outcome=outcome)
        return tuple(read)


def frozen(value: object) -> object:
    """A value of a view or a question, read-only: a list becomes a tuple."""
    return tuple(value) if isinstance(value, list) else value


def shown(value: object) -> str:
    """A value as a teacher wrote it, cut short for a message."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 40 else text[:39] + "…"


# ---- a lesson on one model ---------------------------------------------------------------------------------------
def beyond(lesson: Lesson, layers: int, heads: int, patches: int) -> tuple[Problem, ...]:
    """The values of a lesson that a model of this size does not have (layer 8 of a 6-layer model): each a
    "beyond_model" problem at its beat's line. The app shows the nearest value instead, as it does for a link."""
    tops = {"layer": layers, "head": heads, "query": patches - 1, "patch": patches - 1}
    found = []
    for beat in lesson.beats:
        given = [*beat.view.items(), *((beat.question.params.items()) if beat.question else ())]
        for key, value in given:
            if key in tops and type(value) is int and value > tops[key]:
                found.append(Problem(beat.line, "beyond_model", MappingProxyType(
                    {"field": key, "value": value, "last": tops[key]})))
            if key == "mask" and isinstance(value, list) and any(k >= patches for k in value):
                found.append(Problem(beat.line, "beyond_model", MappingProxyType(
                    {"field": key, "value": max(value), "last": patches - 1})))
    return tuple(found)
