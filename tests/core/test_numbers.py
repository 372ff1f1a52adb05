"""The app's number style (app/numbers.py), on values worked out by hand: the issue's own offenders written the new way,
and the edges (rounding up to a fourth digit, ties, zero, huge and tiny values). The scan of every page is
tests/app/test_numbers.py; the explorer's port of `number` is held equal in tests/browser/test_explorer_parity.py."""
from __future__ import annotations

import json

import pytest

from app import numbers
from app.numbers import number, paper, percent, roundoff, share, signed, vector


@pytest.mark.parametrize("value, written", [
    (0.0, "0"), (-0.0, "0"), (1.0, "1"), (0.5, "0.5"), (0.4901961088180542, "0.49"), (83.89999999999999, "83.9"),
    (20.39035, "20.4"), (0.63265306, "0.633"), (0.214, "0.214"), (6.9e-07, "0.00000069"), (-3.2e-05, "-0.000032"),
    (9.996, "10"), (0.99951, "1"), (999.4, "999"), (999.5, "1,000"), (1234.5, "1,234"), (123456.7, "123,457"),
    (0.0625, "0.0625"), (1.125, "1.12"), (1.375, "1.38"),  # exact binary ties: half to even, as Python's format
])
def test_an_ordinary_value_has_at_most_three_significant_digits(value, written):
    assert number(value) == written


def test_percentages_shares_changes_and_round_off():
    assert [percent(p) for p in (0.913, 0.63, 1.0, 0.0, 0.0052, 0.91367)] == ["91.3%", "63%", "100%", "0%", "0.52%",
                                                                           "91.4%"]
    assert [share(31, 49), share(0, 49), share(49, 49), share(1, 577)] == ["31/49 (63%)", "0/49 (0%)", "49/49 (100%)",
                                                                           "1/577 (0.173%)"]
    assert [signed(v) for v in (2.5, -0.3, 0.0, -0.0, 0.04)] == ["+2.5", "-0.3", "0", "0", "+0.04"]
    # e-notation only where the exponent is the point: below 0.001; above it a difference is no round-off
    assert [roundoff(v) for v in (9.13e-07, 1e-06, 0.0, 1.7, 0.94, 0.0012)] == ["9.1e-07", "1e-06", "0", "1.7", "0.94",
                                                                             "0.0012"]
    assert vector((0.2860406, 0.5, 0.35302424)) == "(0.286, 0.5, 0.353)"


def test_the_papers_values_as_the_paper_prints_them():
    """Read from the text of app/data/paper_results.json: 99.5 is printed 99.50 in Tables 5 and 6, 2.5 (thousand
    TPUv3-core-days) as 2.5; a value the paper does not print is an ordinary number."""
    assert [paper(v) for v in (88.08, 99.5, 85.3, 2.5, 0.68, 0.0, 4262)] == ["88.08", "99.50", "85.30", "2.5", "0.68",
                                                                           "0.00", "4,262"]
    assert paper(88.55 - 87.54) == "1.01"
    data = json.loads(numbers.PAPER_DATA.read_text(encoding="utf-8"))
    for row in data["table6"]["rows"]:  # every accuracy of Table 6, two decimals as printed
        for metric in data["table6"]["metrics"]:
            assert paper(row[metric]) == f"{row[metric]:.2f}"
