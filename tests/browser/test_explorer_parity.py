"""The explorer's JavaScript ports against their Python reference, both run on the same inputs: the JS in the Chromium
the suite already uses (page.evaluate, no server), the Python here.

Step 5's numbers and sentences are computed in the browser (app/components/explorer/numbers.js, text.js, data.js);
vit_core and app/describe.py are the reference they port (Korean particles: ../shared/josa.js, of app/josa.py,
tests/browser/test_josa_parity.py). Held equal here: decoding what `views.quantised` sent
(`views.dequantised`), pooling (`analysis.pool_attention`), the head average (`analysis.head_average`), the rollout
row, scaling a map (`views.scaled`), the layers a big model is sent (`explorer.window`), the number and str.format
rules, and every sentence a screen reader hears from the explorer, in English and Korean — on hand-worked cases and on
random attentions at 50, 197 and 577 tokens, with weights below 1e-6. `test_a_planted_bug_in_either_copy_fails`
shows that a change to either side is caught.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from app import components, describe, i18n, josa, labels
from app.components import explorer
from harness.browser import script_page
from vit_core import views
from vit_core.analysis import head_average, pool_attention


PORTS = components.joined("explorer", (*explorer.PORTS, "../shared/bytes.js", "data.js"))


@pytest.fixture(scope="module")
def page(chromium):
    p = script_page(chromium, PORTS)
    yield p
    p.close()


@pytest.fixture(params=["en", "ko"])
def lang(request, monkeypatch):
    """The Python side speaks `lang` (as a session in that language would)."""
    monkeypatch.setattr(i18n, "current_language", lambda: request.param)
    return request.param


def texts(lang: str) -> dict:
    """The catalog templates the page sends the explorer (explorer.about's "text")."""
    return {k: i18n.t_in(lang, k) for k in explorer.TEXT_KEYS}


def attentions(rng, T: int, H: int, sharp: float = 8.0) -> np.ndarray:
    """(H, T, T) rows that sum to 1, some weights far below 1e-6 (sharp logits), float32 as the trace holds them."""
    logits = rng.standard_normal((H, T, T)) * sharp
    p = np.exp(logits - logits.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)).astype(np.float32)


# ---- numbers and formats ------------------------------------------------------------------------------------------
NUMBERS = [0.0, 1.0, 0.5, 0.0625, 0.1875, 0.3125, 0.0005, 6.9e-07, 9.1e-07, 1e-04, 1.5e-04, 9.96e-04, 9.9949e-04,
           0.001, 0.0015, 0.9995, 0.12345, 2.71828, 999.9994, 999.9996, 1234.5, 2500.5, 1e6 + 0.5, 1.4e-45,
           -0.0625, -0.25, -6.9e-07]


def test_number_and_fixed_equal_python(page):
    rng = np.random.default_rng(0)
    values = NUMBERS + [float(v) for v in np.float32(10.0 ** rng.uniform(-9, 4, 300))]
    got = page.evaluate("vs => vs.map(v => [number(v), fixed(v, 3), fixed(v, 1), fixed(v, 4), general(v)])", values)
    for v, (n, f3, f1, f4, g) in zip(values, got):
        assert (n, f3, f1, f4, g) == (describe.number(v), f"{v:.3f}", f"{v:.1f}", f"{v:.4f}", f"{v:g}"), v


def test_number_never_writes_e_notation(page):
    """The promise of docs/ACCESSIBILITY.md: a screen reader hears 0.00000069, never "6.9e-7"."""
    assert page.evaluate("number(6.9e-7)") == describe.number(6.9e-7) == "0.00000069"
    assert page.evaluate("number(1.125)") == describe.number(1.125) == "1.12"  # a tie goes to even, as Python
    assert page.evaluate("[number(0), number(0.63265306), number(0.0625)]") == ["0", "0.633", "0.0625"]  # app.numbers


def test_format_fills_templates_as_python(page, lang):
    """fmt is app.i18n.t_in's filling: str.format, then each Korean particle pair chosen by the value before it."""
    for key, text in texts(lang).items():
        pool = [0.0625, 3, 0.5, 17, 2.5, 0.000123, 1234.5, 6, 0.1875, 8, 9, 10, 1, "관련도", "어텐션", "ViT"]
        names = sorted(set(re.findall(r"\{(\w+)", text)))
        for shift in range(len(pool)):
            values = {n: pool[(i + shift) % len(pool)] for i, n in enumerate(names)}
            if any(isinstance(v, str) for n, v in values.items() if re.search(r"\{%s:" % n, text)):
                continue  # a format spec takes a number
            assert page.evaluate("([t, v]) => fmt(t, v)", [text, values]) == josa.resolve(text.format(**values)), key


# ---- decoding, pooling, averaging, scaling: random attentions at 50, 197 and 577 tokens ------------------------------
def store_in_page(page, att: np.ndarray, roll: np.ndarray, query: int, layers: bool = True) -> None:
    """A Store in the page (window.s) over one layer, encoded as the server encodes it."""
    H, T = att.shape[:2]
    g = math.isqrt(T - 1)
    d = {"L": 1, "H": H, "T": T, "g": g, "complete": layers,
         "layers": {"0": explorer.encoded_layer(att, roll)} if layers else {},
         "rows": explorer.encoded_rows(att[None], roll[None], query)}
    page.evaluate("d => { window.s = new Store(d); }", d)


@pytest.mark.parametrize("T, H", [(50, 4), (197, 3), (577, 2)])
def test_store_decodes_pools_averages_and_scales_as_python(page, T, H):
    rng = np.random.default_rng(T)
    att = attentions(rng, T, H)
    roll = attentions(rng, T, 1)[0]
    query = int(rng.integers(T - 1))
    store_in_page(page, att, roll, query)
    q, top = views.quantised(att)
    decoded = views.dequantised(q, top)  # (H, T, T): what the browser should hold
    assert np.all(np.abs(decoded - att) <= att.max(-1, keepdims=True) / 510 + 1e-9)  # the bound quantised promises
    assert (decoded < 1e-6).any() and (att < 1e-6).any()
    blocks = sorted({views.pool_block(T - 1, 100), 2, 3})  # the app's own, and runs that leave a shorter last one
    for h in range(H):
        got = np.array(page.evaluate("h => Array.from(s.matrix(1, h).m)", h + 1), dtype=np.float32).reshape(T, T)
        np.testing.assert_array_equal(got, decoded[h])  # bit for bit
        for block, how in [(b, how) for b in blocks for how in ("mean", "amax")]:
            z = page.evaluate("([h, b, how]) => { const p = pooled(s.matrix(1, h).m, s.T, b, how);"
                              " return [Array.from(p.z), p.G]; }", [h + 1, block, how])
            ref = pool_attention(torch.from_numpy(decoded[h]), block, how).numpy()
            assert z[1] == ref.shape[0]
            np.testing.assert_allclose(np.array(z[0], dtype=np.float32).reshape(ref.shape), ref, rtol=2e-6, atol=1e-12)
    for r in (0, query + 1):
        avg = np.array(page.evaluate("r => Array.from(s.average(1, r))", r), dtype=np.float32)
        np.testing.assert_allclose(avg, head_average(torch.from_numpy(decoded[:, r])).numpy(), rtol=2e-6, atol=1e-12)
        rq, rtop = views.quantised(roll)
        np.testing.assert_array_equal(np.array(page.evaluate("r => Array.from(s.rollout(1, r))", r), dtype=np.float32),
                                      views.dequantised(rq, rtop)[r])
        got = np.array(page.evaluate("r => Array.from(scaled(patches(s.row(1, 1, r))))", r), dtype=np.float32)
        np.testing.assert_allclose(got, views.scaled(decoded[0, r, 1:]), rtol=1e-6, atol=1e-7)
    # a big model's explorer between layers: only the rows kept for every layer (cls and the query patch)
    store_in_page(page, att, roll, query, layers=False)
    for r in (0, query + 1):
        np.testing.assert_array_equal(np.array(page.evaluate("r => Array.from(s.rollout(1, r))", r), dtype=np.float32),
                                      roll[r])
        rows_q, rows_top = views.quantised(att[:, r])
        np.testing.assert_array_equal(np.array(page.evaluate("r => Array.from(s.row(1, 2, r))", r), dtype=np.float32),
                                      views.dequantised(rows_q, rows_top)[1])
    assert page.evaluate("s.row(1, 1, 5) === null || s.kept(5) !== null")


def test_scaling_a_flat_map_gives_zeros(page):
    assert page.evaluate("Array.from(scaled([0.2, 0.2, 0.2]))") == views.scaled(np.array([0.2] * 3)).tolist() == [0] * 3
    assert page.evaluate("Array.from(scaled([1, 3, 2]))") == views.scaled(np.array([1, 3, 2])).tolist() == [0, 1, 0.5]


class _Cfg:  # what explorer.window reads of a config
    def __init__(self, L, H):
        self.num_hidden_layers, self.num_attention_heads = L, H


@pytest.mark.parametrize("L, H", [(12, 12), (6, 4), (1, 3), (3, 1)])
def test_the_browser_asks_for_the_layers_the_server_sends(page, L, H):
    cases = [(layer, head) for layer in range(1, L + 1) for head in range(1, H + 1)]
    got = page.evaluate("([cs, L, H]) => cs.map(([l, h]) => layerWindow(l, h, L, H))", [cases, L, H])
    assert got == [[li + 1 for li in explorer.window(layer, head, _Cfg(L, H))] for layer, head in cases]


# ---- sentences ------------------------------------------------------------------------------------------------------
def js_sentences(page, lang: str, args: dict) -> dict:
    return page.evaluate("""([texts, a]) => {
        const tr = (k, v = {}) => fmt(texts[k] ?? k, v);
        return {
          patch: a.patches.map((k) => patchPlace(tr, k, a.g)),
          patch_short: a.patches.map((k) => patchPlace(tr, k, a.g, true)),
          cls: clsMapSentence(tr, a.layer, a.head, a.map, a.g, a.self),
          query: queryMapSentence(tr, a.layer, a.head, a.query, a.map, a.g),
          average: averageSentence(tr, a.layer, a.H, a.map, a.g, a.query),
          average_cls: averageSentence(tr, a.layer, a.H, a.map, a.g, null),
          rollout: rolloutSentence(tr, a.layer, a.map, a.g, a.query),
          rows: mapRows(tr, a.map, a.g, 12),
          grid_cls: gridSentence(tr, a.maps, a.L, a.H, a.layer, a.head, null),
          grid_query: gridSentence(tr, a.maps, a.L, a.H, a.layer, a.head, a.query),
          matrix: matrixSentence(tr, a.z, a.G, a.names, a.query, a.g),
          distances: distancesSentence(tr, a.L, a.H, a.layer, a.head, a.px, a.uniform),
        };
      }""", [texts(lang), args])


def py_sentences(a: dict) -> dict:
    g, heat = a["g"], np.array(a["map"], dtype=np.float32).reshape(a["g"], a["g"])
    rows = np.array(a["maps"], dtype=np.float32).reshape(a["L"], a["H"], -1)
    col_patch, col_value = i18n.t("alt.col_patch"), i18n.t("alt.col_value")
    return {
        "patch": [labels.patch(k, g) for k in a["patches"]],
        "patch_short": [labels.patch(k, g, short=True) for k in a["patches"]],
        "cls": describe.cls_map(a["layer"], a["head"], heat, a["self"]),
        "query": describe.query_map(a["layer"], a["head"], a["query"], heat),
        "average": describe.head_average(a["layer"], a["H"], heat, a["query"]),
        "average_cls": describe.head_average(a["layer"], a["H"], heat, None),
        "rollout": describe.rollout(a["layer"], heat, a["query"]),
        "rows": [[r[col_patch], r[col_value]] for r in describe.map_rows(heat, 12)],
        "grid_cls": describe.heads_grid(rows, a["layer"], a["head"], None),
        "grid_query": describe.heads_grid(rows, a["layer"], a["head"], a["query"]),
        "matrix": describe.matrix(np.array(a["z"], dtype=np.float32).reshape(a["G"], a["G"]), a["names"], a["query"], g),
        "distances": describe.distances(a["L"], a["H"], a["layer"], a["head"], a["px"], a["uniform"]),
    }


def sentence_case(T: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    L, H, g = 3, 4, math.isqrt(T - 1)
    att = attentions(rng, T, L * H)  # (L·H, T, T)
    maps = views.dequantised(*views.quantised(att[:, 0, 1:]))  # every head's cls row on the patches, as decoded
    block = views.pool_block(T - 1, 100)
    z = pool_attention(torch.from_numpy(att[5]), block, "mean").numpy()
    return {"g": g, "L": L, "H": H, "layer": 2, "head": 3, "query": int(rng.integers(T - 1)), "self": float(att[5, 0, 0]),
            "map": [float(v) for v in maps[5]], "maps": [[float(v) for v in m] for m in maps],
            "patches": [0, g - 1, g, T - 2], "z": [float(v) for v in z.reshape(-1)], "G": z.shape[0],
            "names": labels.matrix_labels(g, block), "px": float(np.float32(rng.uniform(0, 40))),
            "uniform": float(np.float32(rng.uniform(5, 30)))}


HAND = {"g": 2, "L": 1, "H": 2, "layer": 1, "head": 2, "query": 3, "self": 0.0625,  # worked out by hand below
        "map": [0.5, 0.0625, 0.25, 6.9e-07], "maps": [[0.25, 0.25, 0.25, 0.25], [0.5, 0.0625, 0.25, 6.9e-07]],
        "patches": [0, 1, 2, 3], "z": [0.1, 0.9, 0.3, 0.2], "G": 2, "names": ["cls", "0"], "px": 12.25, "uniform": 9.75}


def test_sentences_on_a_hand_worked_case(page):
    js = js_sentences(page, "en", HAND)
    assert js["cls"] == ("Where the cls token looks in layer 1, head 2, drawn over the picture; it keeps 0.0625 on "
                         "itself. Strongest at patch 0 (row 0, column 0): 0.5; weakest at patch 3 (row 1, column 1): "
                         "0.00000069. Next strongest: patch 2 (row 1, column 0), 0.25.")
    assert "The most focused head is layer 1, head 2 (its largest weight 0.5); the most spread out is layer 1, " \
           "head 1 (largest weight 0.25)." in js["grid_cls"]
    assert "The brightest cell is cls → 0: 0.9." in js["matrix"]
    assert (js["patch"][3], js["patch_short"][3]) == ("patch 3 (row 1, column 1)", "patch 3 (row 1, col 1)")
    assert "is at 12.2 px; a head that spread its attention evenly would be at 9.75 px" in js["distances"]  # ties
    # to even: 12.25 is 12.2
    assert js["rows"][:2] == [["patch 0 (row 0, column 0)", "0.5"], ["patch 2 (row 1, column 0)", "0.25"]]
    ties = [0.25, 0.5, 0.25, 0.5]  # ties go to the lower patch number, the first weakest is the one named
    assert page.evaluate("v => [strongest(v, 4), weakest(v)]", ties) == [
        [list(p) for p in describe.strongest(np.array(ties), 4)], describe.weakest(np.array(ties))] == [
        [[1, 0.5], [3, 0.5], [0, 0.25], [2, 0.25]], 0]


@pytest.mark.parametrize("T", [50, 197, 577])
def test_every_sentence_the_screen_reader_hears_equals_python(page, lang, T):
    case = sentence_case(T, seed=T)
    assert js_sentences(page, lang, case) == py_sentences(case)


def test_hand_case_equals_python_in_both_languages(page, lang):
    assert js_sentences(page, lang, HAND) == py_sentences(HAND)


# ---- the test itself can fail ---------------------------------------------------------------------------------------
PLANTED = {  # a one-token change in the JS port: each must make the comparison above fail
    "ties broken the other way": ("values[b] - values[a] || a - b", "values[b] - values[a] || b - a"),
    "e-notation for tiny numbers": ("let s = fixed(v, 2 - lead);", "let s = fixed(v, 2 - lead);"
                                    " if (lead < -3) return String(Number(v.toPrecision(2)));"),
    "trailing zeros kept": ('s.replace(/0+$/, "").replace(/\\.$/, "")', "s"),
    "pooling by the sum": ("sum[k] / n[k]", "sum[k]"),
    "particles left as pairs": ("return josaResolve(template.replace(", "return (template.replace("),
    "the window on the wrong side": ("head > H / 2 ?", "head >= H / 2 ?"),
    "a row decoded on its neighbour's scale": ("b.scale[(head - 1) * T + r]", "b.scale[(head - 1) * T + r + 1]"),
    "a patch's place written short": ('short ? "labels.place_short" : "labels.place"', '"labels.place_short"'),
}


@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_a_planted_bug_in_the_port_fails(chromium, bug):
    old, new = PLANTED[bug]
    assert PORTS.count(old) >= 1
    page = script_page(chromium, PORTS.replace(old, new, 1))
    try:
        failures = 0
        for check in (lambda: test_sentences_on_a_hand_worked_case(page),
                      lambda: test_number_and_fixed_equal_python(page),
                      lambda: test_store_decodes_pools_averages_and_scales_as_python(page, 50, 4),
                      lambda: test_the_browser_asks_for_the_layers_the_server_sends(page, 12, 12),
                      lambda: test_format_fills_templates_as_python(page, "ko")):
            try:
                check()
            except AssertionError:
                failures += 1
        assert failures, f"planting {bug!r} in the JavaScript went unnoticed"
    finally:
        page.close()


def test_a_planted_bug_in_the_python_fails(page, monkeypatch):
    """The other copy: the reference changed (the grid sentence on min-max-scaled maps, as it once was) is caught."""
    monkeypatch.setattr(i18n, "current_language", lambda: "en")
    monkeypatch.setattr(describe, "peaks", lambda rows: ((0, 1.0), (0, 1.0)))
    with pytest.raises(AssertionError):
        test_hand_case_equals_python_in_both_languages(page, "en")
