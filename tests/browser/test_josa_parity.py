"""app/components/shared/josa.js, the browser's port of app/josa.py (Korean particles chosen by how the word before
them is read), against the Python on the same words: the JS in Chromium (page.evaluate on a blank page, no server),
the Python here. Words: every Hangul word of the Korean catalogs, with and without a final consonant and with ㄹ;
every digit; whole numbers up to 3000, round ones to 10²⁴, decimals, thousands separators, e-notation; numbers with
units and percentages; Latin letters and words; Markdown, quotes and brackets around them; whole sentences with
pairs. The explorer fills its catalog templates through `fmt`, which resolves pairs with it
(tests/browser/test_explorer_parity.py holds `fmt` equal to app.i18n.t_in). A bug planted in the port fails it.
"""
from __future__ import annotations

import random
import re

import pytest

from app import components, i18n, josa
from harness.browser import script_page

JS = components.joined("shared", ["josa.js"])
PAIRS = ("은(는)", "이(가)", "을(를)", "와(과)", "(으)로", "(이)라는", "(이)라고")


@pytest.fixture(scope="module")
def page(chromium):
    p = script_page(chromium, JS)
    yield p
    p.close()


def words() -> list[str]:
    rng = random.Random(19)
    hangul = sorted({w for text in i18n.catalog("ko").values() for w in re.findall("[가-힣]+", text)})
    digits = [str(d) for d in range(10)]
    numbers = ([str(i) for i in range(3000)] + [str(10 ** k) for k in range(25)] + ["1,000", "12,345,000", "0.50",
               "0.062", "3.0", "-0.5", "9.1e-07", "1e+10", "2.5e-05"]
               + [f"{rng.random() * 10 ** rng.randint(0, 5):.{rng.randint(1, 4)}f}" for _ in range(300)])
    signs = [f"{n}{u}" for n in ("3", "10", "0.5", "1000") for u in (*josa.SIGNS, " %", " px", "fps", "D", "Q")]
    latin = ["ViT", "cls", "E", "D", "L", "M", "N", "R", "x", "px", "MLP", "GeLU", "GELU", "CIFAR", "MNIST", "VTAB",
             "ImageNet", "ResNet", "BiT-L", "ViT-B/16", "JFT-300M", "attention", "rollout", "model", "scale", "table",
             "time", "line", "tabby cat", "Ankle boot", "book", "stack", "magic", "hub", "image", "transformer",
             "sandal", "T-shirt/top", "Sneaker", "Bag", "golden retriever", "~/.cache/huggingface/hub"]
    wrapped = [f"{a}{w}{b}" for w in ("어텐션", "관련도", "연필", "1000", "ViT")
               for a, b in (("**", "**"), ("`", "`"), ("“", "”"), ("'", "'"), ("(", ")"), ("[", "]"), ("쿼리(", ")"),
                            ("[", "](https://x)"), ("a (", ")"), ("(b ", ")"), ("", ")"), ("", " "))]
    odd = ["", " ", "😀", "→", "…", "(", ")", "()", "**", "x.", "1,", "١٢", "１２"]
    return hangul + digits + numbers + signs + latin + wrapped + odd


def test_finals_and_particles_equal_python(page):
    ws = words()
    assert len(ws) > 5000
    got = page.evaluate("([ws, ps]) => ws.map((w) => [josaFinal(w), ps.map((p) => josaParticle(w, p))])",
                        [ws, list(PAIRS)])
    want = [[josa.final(w), [josa.particle(w, p) for p in PAIRS]] for w in ws]
    assert {w: g for w, g, r in zip(ws, got, want) if g != r} == {}


SENTENCES = [
    "이 그림에서 **관련도**은(는) 낫고, `python -m vit_core --n 1000`(으)로 만들었고, “foo”(이)라는 페이지",
    "cls는 자기 자신에게 0.062을(를) 두고, 정확도가 97.50%(으)로 떨어지고, (32, 50, 64)이(가) 되고, 쿼리(3)이(가) 본다",
    "사과와(과) 연필와(과) 수박과(와) 16px(으)로 ViT은(는) E이(가) D을(를) ImageNet와(과) {x}은(는) 은(는) (으)로",
    "은(는) 처음부터, 끝에 값이(가)", "😀은(는) → 그대로", "",
]


def test_resolve_equals_python(page):
    got = page.evaluate("ss => ss.map(josaResolve)", SENTENCES)
    assert got == [josa.resolve(s) for s in SENTENCES]
    assert got[0] == "이 그림에서 **관련도**는 낫고, `python -m vit_core --n 1000`으로 만들었고, “foo”라는 페이지"


PLANTED = {  # a one-token change in the port: each must make a comparison above fail
    "ㄹ takes 으로": ('"(으)로": ["로", "로", "으로"]', '"(으)로": ["로", "으로", "으로"]'),
    "a round number read by its last digit": ("if (zeros === 0) return", "if (zeros >= 0) return"),  # 10¹² 조
    "% read as its digit": ('"%": "퍼센트"', '"%": "퍼센트일"'),
    "an aside read inside": ('!/\\s/.test(before[before.length - 1])) return before', 'false) return before'),
    "le not ㄹ": ("/(l|le)$/", "/(l)$/"),
}


@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_a_planted_bug_in_the_port_fails(chromium, bug):
    old, new = PLANTED[bug]
    assert JS.count(old) == 1
    page = script_page(chromium, JS.replace(old, new))
    try:
        failures = 0
        for check in (lambda: test_finals_and_particles_equal_python(page), lambda: test_resolve_equals_python(page)):
            try:
                check()
            except AssertionError:
                failures += 1
        assert failures, f"planting {bug!r} in the JavaScript went unnoticed"
    finally:
        page.close()
