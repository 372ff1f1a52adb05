"""Every Korean catalog string that takes a value, rendered through app.i18n.t_in with values that end in a vowel, a
consonant, ㄹ and every digit (and Latin words, a round number): no particle pair is left in the output, and each
pair after a value is the form that fits it. The expected form comes from a table worked out by hand here, not from
app/josa.py. Then a static check: no Korean string writes a fixed particle right after a value (`{acc:.2%}로`,
`{self:.3f}를`): it must be a pair that t() resolves (app/josa.py's docstring lists them)."""
from __future__ import annotations

import re
import string

import pytest

from app import i18n, josa

KO = i18n.catalog("ko")
FORMS = {  # pair -> (after a vowel, after ㄹ, after another final consonant)
    "은(는)": ("는", "은", "은"), "이(가)": ("가", "이", "이"), "을(를)": ("를", "을", "을"), "와(과)": ("와", "과", "과"),
    "(으)로": ("로", "로", "으로"), "(이)라는": ("라는", "이라는", "이라는")}
PAIR = "|".join(re.escape(p) for p in FORMS)
LEFT = re.compile(r"\((?:는|은|가|이|를|을|과|와|으)\)")  # a pair left in the output
# a value, what Korean does not read after it (Markdown, a closing quote or bracket), then a pair
AFTER_VALUE = re.compile(r"\{(\w+)(?::([^{}]*))?\}([*`”’\")\]]*)(" + PAIR + ")")

SAMPLES = {  # a value a placeholder without a format spec takes -> the syllable it is read as ending in
    "사과": "과", "수박": "박", "연필": "필", "ViT": "티", "attention": "션", "model": "델", "1000": "천",
    **{str(d): "영일이삼사오육칠팔구"[d] for d in range(10)}}


def takes_values(text: str) -> list[tuple[str, str]]:
    """(name, format spec) of each str.format field; [] for a text without any, or a Plotly template (%{x})."""
    if "%{" in text:
        return []
    fields = [(f, s) for _, f, s, _ in string.Formatter().parse(text) if f is not None]
    return fields if all(f.isidentifier() for f, _ in fields) else []


TEMPLATES = {k: v for k, v in KO.items() if takes_values(v)}


def sample_value(spec: str, sample: str, i: int):
    """A value for a field: the sample itself where there is no spec; a number whose formatting ends in a digit of the
    sample (or in %) where there is one."""
    if not spec:
        return sample
    d = int(sample) if sample.isdigit() and len(sample) == 1 else i % 10
    if spec.endswith("f"):
        return d / 10 ** int(spec.split(".")[1][:-1])  # ".3f", 7 -> 0.007
    return d  # ",", "g", ".2g", ".1e" (…e+00), "%" specs (…%)


def read_end(rendered: str) -> str:
    """The syllable a rendered value ends in, by hand: a sample's own, % 퍼센트, a digit's Sino-Korean name."""
    if rendered in SAMPLES:
        return SAMPLES[rendered]
    if rendered.endswith("%"):
        return "트"
    return "영일이삼사오육칠팔구"[int(rendered[-1])]


def form(pair: str, syllable: str) -> str:
    coda = (ord(syllable) - 0xAC00) % 28
    return FORMS[pair][0 if coda == 0 else 1 if coda == 8 else 2]


def expected(template: str, values: dict) -> str:
    """The template rendered with each pair after a value replaced, before formatting, by the form for that value."""
    def one(m):
        name, spec, closers, pair = m.groups()
        shown = format(values[name], spec or "")
        return m[0][:-len(pair)] + form(pair, read_end(shown))
    return i18n.cited(AFTER_VALUE.sub(one, template).format(**values))


def test_the_catalogs_write_pairs_after_values():
    assert len(TEMPLATES) > 200
    with_pairs = {k for k, v in TEMPLATES.items() if AFTER_VALUE.search(v)}
    assert {"explanations.curves_reading_both", "explanations.read_both", "experiments.importance_source",
            "attention.cls_caption", "experiments.importance_read"} <= with_pairs
    stray = {k: v for k, v in KO.items() if len(re.findall(PAIR, v)) != len(AFTER_VALUE.findall(v))}
    assert stray == {}, "a pair that does not follow a value"


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_every_korean_string_with_a_value_gets_the_right_particle(sample):
    wrong = {}
    for key, template in TEMPLATES.items():
        values = {name: sample_value(spec, sample, i) for i, (name, spec) in enumerate(takes_values(template))}
        got = i18n.t_in("ko", key, **values)
        if LEFT.search(got) or got != expected(template, values):
            wrong[key] = got
    assert wrong == {}


def test_page_8s_verdicts_read_naturally():
    for method, particle in [("어텐션", "은"), ("롤아웃", "은"), ("관련도", "는"), ("입력 × 기울기", "는")]:
        assert i18n.t_in("ko", "explanations.curves_reading_one", method=method).startswith(
            f"이 그림에서 {method}{particle} ")
        assert i18n.t_in("ko", "explanations.read_neither", name=method).startswith(f"**{method}**{particle} ")
    assert "--n 1000`으로" in i18n.t_in("ko", "experiments.importance_source", command="x --n 1000", seconds=3)


# ---- static: no fixed particle right after a value -----------------------------------------------------------------
# a particle that changes with the sound before it, as a fixed form (not a pair, not the copula 이고/입니다/인)
FIXED = re.compile(r"(?:은|는|을|를|와|과|이|가)(?:의|도|는)?(?![가-힣(])|으로|(?<!\(으\))로|(?<!\(이\))라(?:는|고)")


def fixed_after_value(text: str) -> list[str]:
    """Each fixed particle that attaches to a placeholder ({x} or Plotly's %{x}), through Markdown, closing quotes
    and a bracket around it (not an aside after a word: 쿼리({q})가 agrees with 쿼리)."""
    found = []
    for m in FIXED.finditer(text):
        before = text[:m.start()]
        while before and before[-1] in josa.CLOSERS + ")]":
            before = josa.inside_or_before(before) if before[-1] in ")]" else before[:-1]
        if before.endswith("}"):
            found.append(text[max(0, m.start() - 20):m.end()])
    return found


def test_no_korean_string_has_a_fixed_particle_after_a_value():
    found = {k: fixed_after_value(v) for k, v in KO.items() if fixed_after_value(v)}
    assert found == {}


def test_the_static_check_finds_the_known_offenders():
    offenders = ["cls는 자기 자신에게 {self:.3f}를 두고", "정확도가 {acc:.2%}로 떨어집니다", "`{command}`로 만들었습니다",
                 "이 그림에서 {method}는 낫습니다", "**{name}**은 낫습니다", "“{name}”라는 페이지", "(32, {T}, {D})가 되고",
                 "왜 {b}가 아니라", "{a:.0%}와 {b:.0%}를 담습니다", "%{y}을 보면"]
    assert [bool(fixed_after_value(s)) for s in offenders] == [True] * len(offenders)
    fine = ["이 쿼리({q})가 보는 곳", "{P}픽셀로", "끝날 때 {b}이고", "{share}%를 설명", "{layer}층을 보여",
            "{x}을(를) 두고", "[{repo}]({url})에 있습니다", "{x}입니다", "{x}인 텐서"]
    assert [fixed_after_value(s) for s in fine] == [[]] * len(fine)
