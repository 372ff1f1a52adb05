"""How the app writes numbers: one style for every number a person reads, in captions, tables, alt texts, chart hovers
and their "as text" tables, and the explorer (docs/ARCHITECTURE.md, "How the app writes numbers").

- `number`: an ordinary value, at most 3 significant digits, positional, no trailing zeros: 0, 0.214, 0.49, 83.9,
  0.00000069; from 1,000 on a whole number with thousands separators. Zero is 0, never 0.000 or 0.00e+00.
- `vector`: a few values together, "(0.286, 0.353)".
- `signed`: a change, "+2.5", "-0.3" or 0.
- `percent`: a probability or an accuracy, the same 3 significant digits: 91.3%, 63%, 0.52%.
- `share`: k of n (patches, pictures): "31/49 (63%)".
- `roundoff`: a round-off figure, where the exponent is the point (float32 rounding): 9.1e-07; 0 is 0.
- `paper`: a value of the paper's tables exactly as the paper prints it (88.08, 99.50, 2.5), read from the text of
  app/data/paper_results.json.
- `D3`, `D3_PERCENT`: the same style as Plotly's format specifiers, for hovertemplates and texttemplates.

Where the lesson is about precision, more digits are the point and the page says so: the worked dot product of step 4
(its products, sum, score and weight, each to the decimals the page asks for) and the round-off figures.

The components' JavaScript port `number` (app/components/shared/words.js; tests/browser/test_explorer_parity.py).
"""
from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import cache
from pathlib import Path

PAPER_DATA = Path(__file__).resolve().parent / "data" / "paper_results.json"

D3 = ",.3~r"  # Plotly (d3-format): 3 significant digits, decimal notation, trailing zeros trimmed
D3_PERCENT = ".3~p"  # the same for a fraction written as a percentage
D3_SIGNED = "+" + D3  # a change, with its sign
D3_PAPER = ".2f"  # the paper's accuracies in Tables 5 and 6, printed with two decimals (88.08, 99.50)
PRINTF = "%.3g"  # st.column_config's printf format (sprintf-js) for a number: 0.49, 83.9, 0
PRINTF_PERCENT = "%.3g%%"  # st.column_config's printf format (sprintf-js) for a percentage: 91.4%, 0%


def _trimmed(s: str) -> str:
    return s.rstrip("0").rstrip(".") if "." in s else s


def number(v: float) -> str:
    """An ordinary value: 3 significant digits, positional (0.00000069, never 6.9e-07), trailing zeros dropped; zero
    is "0"; from 1,000 on a whole number with thousands separators ("1,235"). Rounded half to even on the value's
    exact decimal expansion, as Python's format does."""
    v = float(v)
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    if abs(v) >= 999.5:
        return f"{v:,.0f}"
    decimals = 2 - Decimal(abs(v)).adjusted()  # adjusted(): the exponent of the leading digit, exactly
    s = f"{v:.{decimals}f}"
    if len(s.lstrip("-").replace(".", "").lstrip("0")) > 3:  # rounded up to a fourth digit: 9.996 → 10.00
        s = f"{v:.{decimals - 1}f}"
    return _trimmed(s)


def vector(values) -> str:
    """A few values together, such as a mean per channel: "(0.5, 0.5, 0.5)"."""
    return "(" + ", ".join(number(v) for v in values) + ")"


def signed(v: float) -> str:
    """A change, with its sign: "+2.5", "-0.3", and "0" for no change."""
    text = number(v)
    return text if text == "0" or text.startswith("-") else "+" + text


def percent(p: float) -> str:
    """A fraction (0.913) as a percentage with `number`'s digits: "91.3%", "63%", "0%"."""
    return number(100 * float(p)) + "%"


def share(k: int, n: int) -> str:
    """k of n, and that share in whole percent: "31/49 (63%)" (with more digits only where whole percent would say
    0% or 100% of a part)."""
    whole = round(100 * k / n) if n else 0
    pct = f"{whole}%" if (whole not in (0, 100) or k in (0, n)) else percent(k / n)
    return f"{k}/{n} ({pct})"


def roundoff(v: float) -> str:
    """A difference that may be float32 round-off: below 0.001, where the exponent is the lesson, two significant
    digits in e-notation ("9.1e-07", "1e-06"); from 0.001 on, where it is no round-off, an ordinary `number` (1.7,
    0.94); zero is "0"."""
    v = float(v)
    if v == 0 or abs(v) >= 1e-3:
        return number(v)
    mantissa, exponent = f"{v:.1e}".split("e")
    return f"{_trimmed(mantissa)}e{exponent}"


@cache
def _printed() -> dict[float, str]:
    """Every number of the paper's tables as app/data/paper_results.json prints it, by value."""
    text = PAPER_DATA.read_text(encoding="utf-8")
    printed = sorted(re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", text), key=len)
    return {float(s): s for s in printed}  # 88.4 is printed 88.40 in Table 5 (and 88.4 in a note): the longer


def paper(v: float) -> str:
    """A value of the paper's tables as the paper prints it: 88.08 is "88.08", 99.5 is "99.50" (Table 6 prints two
    decimals), 2.5 is "2.5". A value the paper does not print (a difference, a ratio) is an ordinary `number`."""
    v = float(v)
    return _printed().get(v) or (f"{int(v):,}" if v == int(v) else number(v))
