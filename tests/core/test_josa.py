"""app/josa.py: a Korean particle chosen by how the word before it is read aloud, on cases worked out by hand, and
against tossi (PyPI, the reference library) on every Hangul word of the Korean catalogs and on thousands of numbers.

Where app/josa differs from tossi, it is on purpose, and the tests below say so: a percentage is read 퍼센트 (tossi
reads the digit before the sign: "7%" 칠), a unit by its reading (px 픽셀), and Latin letters and words as Korean
reads them (tossi leaves the pair, "ViT은(는)").
"""
from __future__ import annotations

import random
import re

import pytest
import tossi

from app import i18n, josa

PAIRS = ("은(는)", "이(가)", "을(를)", "와(과)", "(으)로", "(이)라는")
FORMS = {josa.VOWEL: ("는", "가", "를", "와", "로", "라는"), josa.RIEUL: ("은", "이", "을", "과", "로", "이라는"),
         josa.CONSONANT: ("은", "이", "을", "과", "으로", "이라는")}

HAND = {  # word -> how its end is read (the reading in the comment)
    josa.VOWEL: ["사과", "관련도", "어텐션 지도", "2", "4", "5", "9", "0.5", "0.062", "12", "1000000000000",  # 조
                 "97.50%", "0.5 %", "3%p", "2.5×", "10x", "ViT", "cls", "E", "D", "transformer",
                 "image", "hub", "~/.cache/huggingface/hub", "CIFAR", "“foo”", "쿼리(3)", "(32, 50, 64)", "3 s"],
    josa.RIEUL: ["연필", "1", "7", "8", "0.1", "16px", "2 MP", "L", "BiT-L", "model", "scale", "sandal", "21",
                 "9.1e-07"],  # 칠: e-notation by its exponent
    josa.CONSONANT: ["수박", "어텐션", "롤아웃", "0", "3", "6", "10", "100", "1000", "1,000", "10000", "120000",
                     "100000000", "0.50", "3.0", "86M", "M", "N", "attention", "ImageNet", "tabby cat", "rollout",
                     "book", "magic", "time", "`--n 1000`", "**어텐션**", "**롤아웃**", "T-shirt/top", "5 min"],
}


@pytest.mark.parametrize("end", sorted(HAND))
def test_finals_worked_out_by_hand(end):
    assert {w: josa.final(w) for w in HAND[end]} == {w: end for w in HAND[end]}
    for w in HAND[end]:
        assert [josa.particle(w, p) for p in PAIRS] == list(FORMS[end]), w


def test_numbers_are_read_by_their_last_digit_or_unit():
    assert "".join(josa.number_end(str(d), None, None) for d in range(10)) == "영일이삼사오육칠팔구"
    assert [josa.number_end(str(10 ** k), None, None) for k in range(9)] == ["일", "십", "백", "천", "만", "만", "만",
                                                                            "만", "억"]
    assert josa.number_end("1,000", None, None) == "천" and josa.number_end("0", "50", None) == "영"


def test_what_cannot_be_read_keeps_the_pair():
    assert [josa.particle(w, "은(는)") for w in ("", "😀", "→")] == ["은(는)"] * 3


def test_resolve_picks_each_pair_by_what_comes_before_it():
    text = ("이 그림에서 **관련도**은(는) 낫고, `python -m vit_core --n 1000`(으)로 만들었고, “foo”(이)라는 페이지, "
            "0.062을(를) 두고, 사과와(과) 연필와(과) 수박이(가) 있고, 쿼리(3)이(가) 보는 곳, (32, 50, 64)이(가) 되고")
    assert josa.resolve(text) == (
        "이 그림에서 **관련도**는 낫고, `python -m vit_core --n 1000`으로 만들었고, “foo”라는 페이지, "
        "0.062를 두고, 사과와 연필과 수박이 있고, 쿼리(3)가 보는 곳, (32, 50, 64)가 되고")
    assert josa.resolve("{x}은(는) 그대로, 은(는) 그대로") == "{x}은(는) 그대로, 은(는) 그대로"  # a template; nothing before


def test_t_resolves_pairs_after_the_values_are_filled_in():
    key = "explanations.curves_reading_both"
    assert i18n.catalog("ko")[key].startswith("이 그림에서 {method}은(는) ")
    assert i18n.t_in("ko", key, method="어텐션").startswith("이 그림에서 어텐션은 ")
    assert i18n.t_in("ko", key, method="관련도").startswith("이 그림에서 관련도는 ")
    assert i18n.t_in("ko", key) == i18n.catalog("ko")[key]  # no values: the template, for the explorer to fill
    assert i18n.t_in("en", key, method="Rollout").startswith("On this picture Rollout beats")


# ---- against tossi --------------------------------------------------------------------------------------------------
def tossi_form(word: str, pair: str) -> str:
    return tossi.postfix(word, pair)[len(word):]


def test_every_hangul_word_of_the_catalogs_as_tossi():
    words = sorted({w for text in i18n.catalog("ko").values() for w in re.findall("[가-힣]+", text)})
    assert len(words) > 1000
    differ = [(w, p) for w in words for p in PAIRS if josa.particle(w, p) != tossi_form(w, p)]
    assert differ == []


def numbers() -> list[str]:
    rng = random.Random(28)
    return ([str(i) for i in range(3000)] + [str(10 ** k) for k in range(25)]
            + [f"{rng.random() * 10 ** rng.randint(0, 6):.{rng.randint(1, 4)}f}" for _ in range(500)]
            + [f"{rng.randint(0, 10 ** 9):,}" for _ in range(300)] + [f"{rng.random() * 1e-5:.1e}" for _ in range(50)]
            + ["-3", "-0.5", "1e+10", "0.0", "00", "1,000,000"])


def test_numbers_as_tossi():
    differ = [(n, p) for n in numbers() for p in PAIRS if josa.particle(n, p) != tossi_form(n, p)]
    assert differ == []


def test_where_it_differs_from_tossi_on_purpose():
    """A percentage is 퍼센트 (tossi: the digit before it); units and Latin are read (tossi leaves the pair)."""
    assert (josa.particle("7%", "은(는)"), tossi_form("7%", "은(는)")) == ("는", "은")
    assert (josa.particle("16px", "(으)로"), tossi_form("16px", "(으)로")) == ("로", "(으)로")
    assert (josa.particle("ViT", "이(가)"), tossi_form("ViT", "이(가)")) == ("가", "이(가)")
    assert (josa.particle("attention", "을(를)"), tossi_form("attention", "을(를)")) == ("을", "을(를)")
