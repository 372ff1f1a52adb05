"""app/ranges.py: the one rule for a number the app is handed (a widget's state, a chart's click, the explorer's
report, a link), on cases worked out by hand."""
from __future__ import annotations

from app import ranges


def test_whole_keeps_a_whole_number_in_range_and_nothing_else():
    assert ranges.whole(0, 0, 5) == 0 and ranges.whole(5, 0, 5) == 5  # both ends included
    for bad in (-1, 6, True, False, 2.0, "2", None, [2]):
        assert ranges.whole(bad, 0, 5) is None, bad


def test_clamped_brings_a_value_to_the_nearest_end():
    assert [ranges.clamped(v, 1, 6) for v in (-3, 0, 1, 3, 6, 99)] == [1, 1, 1, 3, 6, 6]


def test_from_text_reads_ascii_digits_only():
    assert ranges.from_text("17") == 17 and ranges.from_text("007") == 7
    assert ranges.from_text("9" * ranges.LINK_DIGITS) == 999_999_999
    for bad in ("", "-3", "+3", " 3", "3.0", "²", "٣", "1_000", "1" * (ranges.LINK_DIGITS + 1), None, 3):
        assert ranges.from_text(bad) is None, bad  # "²" and "٣" are str.isdigit(), and int() refuses the first
    assert ranges.from_text("12", 0, 11) is None and ranges.from_text("11", 0, 11) == 11


def test_clicked_reads_the_number_of_the_picked_point():
    def state(*points):
        return {"selection": {"points": list(points)}}

    assert ranges.clicked(state({"text": "10", "x": 1, "y": 2}), 0, 48) == 10
    assert ranges.clicked(state({"text": "49"}), 0, 48) is None  # not a patch of this model
    for bad in (None, {}, {"selection": None}, state(), state({"x": 1}), state({"text": None}), state({"text": "a"})):
        assert ranges.clicked(bad, 0, 48) is None, bad
