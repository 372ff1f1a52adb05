"""Every claim sourced (issue 18): the app's texts cite the places of the paper that say what they say, and only
places that exist.

The places of arXiv:2010.11929v2 are app/data/paper_places.json. A catalog cites one as [[§4.2, Table 2]] (shown as
a link to the paper), or names one in words ("Fig. 7", "Table 5", "Eq. 4", "표 2", "그림 7"). Checked here, in English
and Korean: every citation parses and names listed places; both languages cite the same places for the same key;
every sentence of the paper page (paper.toml) that holds a number carries a citation; and the model card names only
listed places.
"""
from __future__ import annotations

import json
import re

import pytest

from app import i18n
from vit_core import model_card

from tests.conftest import ROOT

PLACES = json.loads((ROOT / "app" / "data" / "paper_places.json").read_text(encoding="utf-8"))
KINDS = {  # (pattern of one cited place, its kind in PLACES); Korean names first map to the English ones
    "section": re.compile(r"§(\d+(?:\.\d+)*)"),
    "appendix": re.compile(r"Appendix ([A-D](?:\.\d+)*)"),
    "table": re.compile(r"Table (\d+)"),
    "figure": re.compile(r"Fig\. (\d+)"),
    "equation": re.compile(r"Eq\. (\d+)(?:–(\d+))?"),
}
# "그림" is also any picture ("그림 32장"): in words it is the paper's figure only after "논문의"; in [[…]] always
KOREAN = {"표 ": "Table ", "그림 ": "Fig. ", "식 ": "Eq. ", "부록 ": "Appendix "}
CITATION = i18n.CITATION  # what t() links; an [[…]] that does not open with a place is text (`[[beat]]`)


def english_names(text: str) -> str:
    for ko, en in KOREAN.items():
        text = text.replace(ko, en)
    return text


def places_in(part: str) -> list[tuple[str, str]]:
    """The (kind, number) places one cited part names: "§4.2" → [("section", "4.2")], "Eq. 2–3" → two."""
    part = english_names(part.strip())
    for kind, rx in KINDS.items():
        m = rx.fullmatch(part)
        if m:
            if kind == "equation" and m[2]:
                return [(kind, str(n)) for n in range(int(m[1]), int(m[2]) + 1)]
            return [(kind, m[1])]
    raise AssertionError(f"not a place of the paper: {part!r}")


def exists(kind: str, number: str) -> bool:
    listed = {"section": PLACES["sections"], "appendix": PLACES["appendices"], "table": PLACES["tables"],
              "figure": PLACES["figures"], "equation": PLACES["equations"]}[kind]
    return number in {str(x) for x in listed}


def citations(text: str) -> list[tuple[str, str]]:
    return [p for m in CITATION.finditer(text) for part in m[1].split(",") for p in places_in(part)]


MENTION = re.compile(r"(§\d+(?:\.\d+)*|Appendix [A-D](?:\.\d+)*|Table \d+|Fig\. \d+|Eq\. \d+(?:–\d+)?)")


def mentions(text: str) -> list[tuple[str, str]]:
    """Places named in words outside [[…]] (Korean names read as English)."""
    plain = CITATION.sub(" ", text).replace("논문의 그림 ", "Fig. ").replace("그림 ", "picture ")
    plain = english_names(plain)
    return [p for m in MENTION.finditer(plain) for p in places_in(m[1])]


def catalogs():
    return [(lang, key, value) for lang in i18n.LANGUAGES for key, value in i18n.catalog(lang).items()]


def test_every_citation_names_a_place_of_the_paper():
    bad = [(lang, key, place) for lang, key, value in catalogs() for place in citations(value) + mentions(value)
           if not exists(*place)]
    assert not bad, bad
    assert len([1 for _, _, v in catalogs() if CITATION.search(v)]) >= 30  # the paper page and the lesson cite


def test_every_double_bracket_outside_code_is_a_citation():
    """t() links only an [[…]] that opens with a place of the paper; any other, outside `code`, would be shown as
    typed: a misspelt citation ("[[Tabel 2]]") is caught here rather than silently left as text."""
    code = re.compile(r"`[^`]*`")
    stray = [(lang, key) for lang, key, value in catalogs()
             if "[[" in CITATION.sub("", code.sub("", value))]
    assert not stray, stray
    assert "[[beat]]" in i18n.cited("write `[[beat]]`")  # a lesson file's table header stays text


def test_both_languages_cite_the_same_places():
    en, ko = i18n.catalog("en"), i18n.catalog("ko")
    differ = {key: (sorted(set(citations(en[key]))), sorted(set(citations(ko[key]))))
              for key in en if key in ko and set(citations(en[key])) != set(citations(ko[key]))}
    assert not differ, differ


ABBREVIATIONS = re.compile(r"\b(?:Fig|Eq|et al|vs|e\.g|i\.e)\.")
NUMBER = re.compile(r"(?<![\w/\-.{§])\d")  # a number of its own: not in ViT-L/16, CIFAR-10, ImageNet-21k, {x:.1f}


def sentences(text: str) -> list[str]:
    protected = ABBREVIATIONS.sub(lambda m: m[0].replace(".", "\0"), text)
    return [s.replace("\0", ".") for s in re.split(r"(?<=[.!?])\s+", protected) if s.strip()]


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_every_sentence_with_a_number_on_the_paper_page_is_cited(lang):
    uncited = []
    for key, value in i18n.catalog(lang).items():
        if not key.startswith("paper.") or len(value.split()) < 8:  # labels, titles and axis names
            continue
        for sentence in sentences(value):
            body = re.sub(r"\{[^}]*\}|arXiv:\S+", "", CITATION.sub("", sentence))  # placeholders: computed
            if NUMBER.search(body) and not (CITATION.search(sentence) or mentions(sentence)):
                uncited.append((key, sentence))
    assert not uncited, "\n".join(f"{k}: {s}" for k, s in uncited)


def test_the_rule_itself():
    assert places_in("§4.2") == [("section", "4.2")] and places_in("표 2") == [("table", "2")]
    assert places_in("Eq. 2–3") == [("equation", "2"), ("equation", "3")]
    assert citations("x [[§4.5, Fig. 7, Appendix D.7]].") == [("section", "4.5"), ("figure", "7"), ("appendix", "D.7")]
    with pytest.raises(AssertionError):
        places_in("page 12")
    assert not exists("table", "12") and not exists("section", "4.9")
    assert sentences("See Fig. 7 here. Then 303M images [[§4.1]].") == ["See Fig. 7 here.",
                                                                       "Then 303M images [[§4.1]]."]
    assert NUMBER.search("303M images") and not NUMBER.search("ViT-L/16 and CIFAR-10 on ImageNet-21k")


def test_a_citation_is_a_link_to_the_paper():
    assert i18n.cited("level [[§4.2, Table 2]].") == f"level ([§4.2, Table 2]({PLACES['url']}))."
    assert i18n.cited("no citation") == "no citation"


def test_the_model_card_names_only_places_that_exist():
    for template in (model_card.CARD, model_card.CARD_KO):
        found = mentions(template)
        assert found and all(exists(*p) for p in found), found
