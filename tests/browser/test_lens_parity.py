"""Step 8's layer view, its JavaScript ports against their Python reference, both run on the same inputs: the JS in
the Chromium the suite already uses (page.evaluate, no server), the Python here.

The layer view (app/components/lens) writes in the browser what the page wrote on the server before: the share of
patches that agree (`numbers.share`), the sentence under the slider (`describe.layer_in_view`), the vote map in words
and as a table (`describe.votes`, `vote_rows`), the chosen patch's similarity (`describe.similar`, `map_rows`), the
norms (`describe.norm_map`) and the "as text" titles (`ui.as_text_label`) — held equal here in English and Korean, on
a hand-worked case and on random records of the teaching model's size (49 patches) and ViT-B/16's (196), float32 as
the page sends them. `test_a_planted_bug_in_the_port_fails` shows that a change to either side is caught.
"""
from __future__ import annotations

import numpy as np
import pytest

from app import components, describe, i18n, numbers, ui
from app.components import lens
from harness.browser import script_page

PORTS = components.joined("lens", lens.PORTS)


@pytest.fixture(scope="module")
def page(chromium):
    p = script_page(chromium, PORTS)
    yield p
    p.close()


def texts(lang: str) -> dict:
    """The catalog templates the page sends the layer view (lens.payload's "text")."""
    return {k: i18n.t_in(lang, k) for k in lens.TEXT_KEYS}


def test_share_equals_python(page):
    cases = [(k, n) for n in (0, 8, 49, 196, 200, 1000) for k in range(n + 1)]
    got = page.evaluate("cs => cs.map(([k, n]) => share(k, n))", cases)
    assert got == [numbers.share(k, n) for k, n in cases]
    assert page.evaluate("[share(1, 8), share(1, 200), share(199, 200)]") == [
        "1/8 (12%)", "1/200 (0.5%)", "199/200 (99.5%)"]  # a tie to even, as Python's round; 0% and 100% of a part


def js_sentences(page, lang: str, a: dict) -> dict:
    return page.evaluate("""([texts, a]) => {
        const tr = (k, v = {}) => fmt(texts[k] ?? k, v);
        const sim = Float32Array.from(a.sim), norms = Float32Array.from(a.norms);
        return {
          layer: layerSentence(tr, a.layer, a.L), first: layerSentence(tr, 0, a.L),
          votes: votesSentence(tr, a.layer, a.votes, a.names, a.answer, a.cls),
          vote_rows: voteRows(a.votes, a.names, 12),
          similar: similarSentence(tr, a.layer, a.patch, sim, a.g),
          sim_rows: mapRows(tr, sim, a.g, 12),
          norms: normsSentence(tr, a.layer, norms, a.largest, a.g),
          norm_rows: mapRows(tr, norms, a.g, 12),
          titles: a.titles.map((t) => asTextLabel(tr, t)),
        };
      }""", [texts(lang), a])


def py_sentences(a: dict) -> dict:
    g = a["g"]
    votes, names = np.array(a["votes"]), dict(enumerate(a["names"]))
    sim = np.array(a["sim"], dtype=np.float32).reshape(g, g)
    norms = np.array(a["norms"], dtype=np.float32).reshape(g, g)
    table = lambda rows: [list(r.values()) for r in rows]  # noqa: E731 — the columns in order
    return {
        "layer": describe.layer_in_view(a["layer"], a["L"]), "first": describe.layer_in_view(0, a["L"]),
        "votes": describe.votes(a["layer"], votes, names, a["answer"], a["cls"]),
        "vote_rows": table(describe.vote_rows(votes, names)),
        "similar": describe.similar(a["layer"], a["patch"], sim),
        "sim_rows": table(describe.map_rows(sim)),
        "norms": describe.norm_map(a["layer"], norms, tuple(a["largest"])),
        "norm_rows": table(describe.map_rows(norms)),
        "titles": [ui.as_text_label(t) for t in a["titles"]],
    }


def random_case(N: int, seed: int, lang: str) -> dict:
    rng = np.random.default_rng(seed)
    g = int(np.sqrt(N))
    names = [i18n.t_in(lang, "tokens.other_classes") + f" {k}" for k in range(5)] + ["셔츠", "Bag"]
    norms = np.float32(rng.gamma(4.0, 3.0, N))
    sim = np.float32(rng.uniform(-1, 1, N))
    sim[rng.integers(N)] = sim[0]  # a tie
    return {"g": g, "L": 12, "layer": int(rng.integers(1, 13)), "patch": int(rng.integers(N)),
            "votes": [int(v) for v in rng.choice(len(names), N, p=[.3, .2, .2, .1, .1, .05, .05])],
            "names": names, "answer": 1, "cls": int(rng.integers(len(names))),
            "sim": [float(v) for v in sim], "norms": [float(v) for v in norms],
            "largest": [int(k) for k in np.argsort(-norms, kind="stable")[:3]],
            "titles": ["Each patch's vote after layer 3", "Is it alike?", "같은가？ "]}


# worked out by hand: 2 × 2 patches, layer 1 of 6
HAND = {"g": 2, "L": 6, "layer": 1, "patch": 3, "votes": [0, 1, 1, 0], "names": ["Bag", "Shirt"], "answer": 1,
        "cls": 0, "sim": [0.5, -0.25, 0.0625, 1.0], "norms": [2.0, 4.0, 1.0, 8.0], "largest": [3, 1, 0],
        "titles": ["Norms?"]}


def test_sentences_on_a_hand_worked_case(page):
    got = js_sentences(page, "en", HAND)
    assert got["layer"] == "The tokens after block 1 of 6."
    assert got["first"].startswith("Layer 0: the embeddings")
    assert got["votes"] == ("After layer 1, 2/4 (50%) patches vote for the model's answer, Shirt. The most voted "
                            "classes: Bag 2, Shirt 2. The cls token votes for Bag.")  # a tie: the lower class first
    assert got["vote_rows"] == [["Bag", "2"], ["Shirt", "2"]]
    assert got["similar"] == ("Similarity to patch 3 (row 1, column 1) after layer 1: the most alike other patch is "
                              "patch 0 (row 0, column 0), 0.5; the least alike is patch 1 (row 0, column 1), -0.25.")
    assert got["norms"] == ("The patches' norms after layer 1, over the picture: the longest, outlined, are patch 3 "
                            "(row 1, column 1) 8, patch 1 (row 0, column 1) 4, patch 0 (row 0, column 0) 2; the "
                            "median is 3.")
    assert got["sim_rows"][0] == ["patch 3 (row 1, column 1)", "1"]
    assert got["titles"] == ["Norms? (as text)"]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_hand_case_equals_python(page, lang, monkeypatch):
    monkeypatch.setattr(i18n, "current_language", lambda: lang)
    assert js_sentences(page, lang, HAND) == py_sentences(HAND)


@pytest.mark.parametrize("N", [49, 196])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_sentence_the_layer_view_writes_equals_python(page, lang, N, monkeypatch):
    monkeypatch.setattr(i18n, "current_language", lambda: lang)
    for seed in range(4):
        a = random_case(N, seed, lang)
        assert js_sentences(page, lang, a) == py_sentences(a), (lang, N, seed)


PLANTED = {
    "ties among the votes by the higher class": ("b[1] - a[1] || a[0] - b[0]", "b[1] - a[1] || b[0] - a[0]"),
    "the share rounded half up": ("? r - 1 : r", "? r : r"),
    "the patch itself counted as the most alike": ("if (k === patch) continue;", ""),
    "the median of an even count, the upper one": ("(s[m - 1] + s[m]) / 2", "s[m]"),
}


@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_a_planted_bug_in_the_port_fails(chromium, bug, monkeypatch):
    old, new = PLANTED[bug]
    assert PORTS.count(old) == 1
    monkeypatch.setattr(i18n, "current_language", lambda: "en")
    page = script_page(chromium, PORTS.replace(old, new))
    try:
        failures = 0
        for check in (lambda: test_sentences_on_a_hand_worked_case(page),
                      lambda: test_share_equals_python(page),
                      lambda: [js_sentences(page, "en", a) == py_sentences(a) or 1 / 0
                               for a in (random_case(N, 0, "en") for N in (49, 196))]):
            try:
                check()
            except (AssertionError, ZeroDivisionError):
                failures += 1
        assert failures, f"planting {bug!r} in the JavaScript went unnoticed"
    finally:
        page.close()


def test_a_planted_bug_in_the_python_fails(page, monkeypatch):
    """The other copy: the reference changed (the most voted classes by class, not by count) is caught."""
    monkeypatch.setattr(i18n, "current_language", lambda: "en")
    monkeypatch.setattr(describe.np, "lexsort", lambda keys: np.arange(len(keys[0])))
    with pytest.raises(AssertionError):
        a = random_case(49, 1, "en")
        assert js_sentences(page, "en", a) == py_sentences(a)
