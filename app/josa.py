"""Korean particles (josa) chosen by how the word before them is read aloud.

A Korean catalog writes a particle after a value filled in at run time as a pair: `{method}은(는)`, `{x}이(가)`,
`{x}을(를)`, `{x}와(과)`, `{n}(으)로`, `“{name}”(이)라는`. `resolve(text)`, which `app.i18n.t` runs after the values
are filled in, keeps the one form that fits what comes before the pair:

| pair | after a vowel | after ㄹ | after another final consonant |
|---|---|---|---|
| 은(는) | 는 | 은 | 은 |
| 이(가) | 가 | 이 | 이 |
| 을(를) | 를 | 을 | 을 |
| 와(과) | 와 | 과 | 과 |
| (으)로 | 로 | 로 | 으로 |
| (이)라는, (이)라고, (이)나, … | 라는 | 이라는 | 이라는 |

What comes before is read as a Korean reader says it (`final`):
- Hangul: its last syllable's final consonant (받침): none, ㄹ, or another.
- A number, Sino-Korean: its last digit 영 일 이 삼 사 오 육 칠 팔 구 (0–9); a whole number that ends in zeros by
  its unit: 10 십, 100 백, 1000 천, 10⁴ 만, 10⁸ 억, 10¹² 조, 10¹⁶ 경 (so "1000" and "1,000" are 천 and take 으로,
  "120000" is 십이만); a decimal digit by digit after 점 ("0.50" ends in 영, "0.062" in 이); e-notation by its
  exponent as a number ("9.1e-07" ends in 칠).
- A sign or unit after a number by its reading: % 퍼센트, %p 퍼센트포인트, × and x 배, px 픽셀, MP 메가픽셀, M 백만,
  K and k 천, s 초, ms 밀리초, min 분, h 시간, MB/GB/KB/TB 바이트, cm/mm/km 미터, kg 그램; another unit letter by
  letter ("21k" … 케이).
- Latin letters spelled out (a capital, a run of capitals, a word without a vowel): by the Korean name of the last
  letter (E 이, D 디, L 엘, M 엠, N 엔, R 알, cls 씨엘에스, the T of ViT 티); CamelCase by its last part (ImageNet by
  "Net"). A Latin word by the rules of Korean loanword spelling (외래어 표기법), as far as letters show it: l, and le
  after a consonant, end in ㄹ (model 모델, scale 스케일); m, n, ng, me and ne in a consonant (attention 어텐션,
  line 라인); p, t, k, c or ck after one short vowel (or oo, ou) in a consonant (cat 캣, book 북, rollout 롤아웃);
  every other ending in a vowel (transformer 트랜스포머, hub 허브, image 이미지, test 테스트).
- Markdown `**` and backticks, closing quotes and brackets are not read: the word inside them is ("**어텐션**은",
  "`--n 1000`으로"). A parenthesis right after a word is an aside, and the particle fits the word before it, as
  Korean writes it ("쿼리(3)가"); a bracket that stands alone is read for what is inside ("(32, 50, 64)가"); a
  Markdown link by its text.
- Anything else (an emoji, an empty value): the pair is left as written, the form Korean uses when it cannot know.

The reference it is compared with in the tests is tossi (PyPI), on Hangul words and numbers; this function differs
from tossi on purpose for Latin letters, words and units, which tossi leaves as pairs (tests/core/test_josa.py).
app/components/shared/josa.js is its port for the explorer, which fills catalog templates in the browser.
"""
from __future__ import annotations

import re

VOWEL, RIEUL, CONSONANT = "vowel", "rieul", "consonant"

# pair as a catalog writes it -> (after a vowel, after ㄹ, after another consonant)
PAIRS = {"은(는)": ("는", "은", "은"), "는(은)": ("는", "은", "은"), "이(가)": ("가", "이", "이"),
         "가(이)": ("가", "이", "이"), "을(를)": ("를", "을", "을"), "를(을)": ("를", "을", "을"),
         "와(과)": ("와", "과", "과"), "과(와)": ("와", "과", "과"), "(으)로": ("로", "로", "으로"),
         "(이)": ("", "이", "이")}  # (이) before the rest of a word: (이)라는, (이)라고, (이)나, …
PAIR = re.compile("|".join(re.escape(p) for p in PAIRS))

DIGITS = "영일이삼사오육칠팔구"
UNITS = ("", "십", "백", "천")  # 10^0 … 10^3
MYRIADS = ("", "만", "억", "조", "경", "해")  # 10^0, 10^4, 10^8, …
LETTERS = {"a": "에이", "b": "비", "c": "씨", "d": "디", "e": "이", "f": "에프", "g": "지", "h": "에이치", "i": "아이",
           "j": "제이", "k": "케이", "l": "엘", "m": "엠", "n": "엔", "o": "오", "p": "피", "q": "큐", "r": "알",
           "s": "에스", "t": "티", "u": "유", "v": "브이", "w": "더블유", "x": "엑스", "y": "와이", "z": "제트"}
SIGNS = {"%": "퍼센트", "%p": "퍼센트포인트", "×": "배", "x": "배", "px": "픽셀", "MP": "메가픽셀", "M": "백만",
         "K": "천", "k": "천", "s": "초", "ms": "밀리초", "min": "분", "h": "시간", "MB": "메가바이트",
         "GB": "기가바이트", "KB": "킬로바이트", "TB": "테라바이트", "cm": "센티미터", "mm": "밀리미터",
         "km": "킬로미터", "kg": "킬로그램"}
NUMBER = re.compile(r"([0-9](?:[0-9,]*[0-9])?)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]+))?$")
SIGN = re.compile(r"[0-9]\s?(%p|%|×|[A-Za-z]{1,3})$")
LATIN = re.compile(r"[A-Za-z]+$")
CLOSERS = "\"'”’»」』*`"


def syllable_final(ch: str) -> str:
    """The final of one Hangul syllable: VOWEL, RIEUL or CONSONANT."""
    coda = (ord(ch) - 0xAC00) % 28
    return VOWEL if coda == 0 else RIEUL if coda == 8 else CONSONANT


def number_end(whole: str, decimals: str | None, exponent: str | None) -> str:
    """The last syllable of a number read in Sino-Korean."""
    if exponent is not None:
        return number_end(exponent.lstrip("+-") or "0", None, None)
    if decimals:
        return DIGITS[int(decimals[-1])]
    digits = whole.replace(",", "").lstrip("0")
    if not digits:
        return DIGITS[0]
    zeros = len(digits) - len(digits.rstrip("0"))
    if zeros == 0:
        return DIGITS[int(digits[-1])]
    return UNITS[zeros] if zeros < 4 else MYRIADS[min(zeros // 4, len(MYRIADS) - 1)]


def latin_final(word: str) -> str:
    """The final of a Latin word or letters, as Korean reads them (see the module's docstring)."""
    last = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", word)[-1]  # CamelCase: its last part
    w = last.lower()
    if len(w) == 1 or not re.search("[aeiouy]", w) or (last.isupper() and len(w) <= 3):  # spelled out
        return syllable_final(LETTERS[w[-1]][-1])
    if w.endswith(("l", "le")):
        return RIEUL
    if w.endswith(("m", "n", "ng", "me", "ne")):
        return CONSONANT
    stop = re.search(r"(?:(?:^|[^aeiou])[aeiou](?:ck|[ptkc])|ook|out)$", w)  # 캣, 스택, 북, 아웃
    return CONSONANT if stop else VOWEL


def final(text: str) -> str | None:
    """How `text` ends when read aloud in Korean: VOWEL, RIEUL (ㄹ), CONSONANT (another 받침), or None where it
    cannot be read."""
    text = text.rstrip()
    while text:
        last = text[-1]
        if "가" <= last <= "힣":
            return syllable_final(last)
        if last in CLOSERS:
            text = text[:-1].rstrip()
        elif last in ")]":
            text = inside_or_before(text)
        else:
            break
    if not text:
        return None
    sign = SIGN.search(text)
    if sign and sign[1] in SIGNS:
        return syllable_final(SIGNS[sign[1]][-1])
    number = NUMBER.search(text)
    if number:
        return syllable_final(number_end(*number.groups()))
    latin = LATIN.search(text)
    if latin:
        return latin_final(latin[0])
    return None


def inside_or_before(text: str) -> str:
    """Text ending in a closing bracket, cut to what is read before a particle there: the word before "(" when the
    bracket is an aside right after it; a Markdown link's text; otherwise what is inside."""
    close = text[-1]
    open_ = "(" if close == ")" else "["
    depth, i = 0, len(text) - 1
    while i >= 0:
        depth += {close: 1, open_: -1}.get(text[i], 0)
        if depth == 0:
            break
        i -= 1
    if i < 0:  # unbalanced: read what is before the bracket
        return text[:-1]
    before, inside = text[:i], text[i + 1:-1]
    if close == ")" and before.endswith("]"):  # [text](url)
        return before
    if close == ")" and before and not before[-1].isspace():  # 쿼리(3): an aside after a word
        return before
    return inside


def particle(word: str, pair: str) -> str:
    """The form of `pair` ("은(는)", "(으)로", "(이)라는", …) that follows `word`; the pair itself where `word`
    cannot be read."""
    end = final(word)
    if end is None:
        return pair
    head, rest = (pair[:3], pair[3:]) if pair.startswith("(이)") else (pair, "")
    return PAIRS[head][(VOWEL, RIEUL, CONSONANT).index(end)] + rest


def resolve(text: str) -> str:
    """Every particle pair in `text` chosen by what comes before it."""
    if "(" not in text:
        return text
    out, done = [], 0
    for m in PAIR.finditer(text):
        before = "".join(out) + text[done:m.start()]
        if not before or before[-1].isspace() or before[-1] == "}":  # nothing read before it, or a template
            continue
        out.append(text[done:m.start()] + particle(before, m[0]))
        done = m.end()
    return "".join(out) + text[done:]
