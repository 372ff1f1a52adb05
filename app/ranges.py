"""One rule for a number the app is handed: from a widget's state, a chart's click, the explorer's report or a link.

Anything that arrives this way is input. A page keeps it only when it is a whole number in the model's range, and
drops it (or brings it to the nearest value in range, and says so) otherwise. Layers and heads are usually counted
from 1 here, as the app shows them; patches and tokens from 0.
"""
from __future__ import annotations

LINK_DIGITS = 9  # the longest number a link may carry: int() refuses more than 4300 digits, and no model needs 10


def whole(value: object, lo: int, hi: int) -> int | None:
    """`value` if it is a whole number (an int, never a bool) from `lo` to `hi`, both included; otherwise None."""
    if isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi:
        return value
    return None


def clamped(value: int, lo: int, hi: int) -> int:
    """The whole number from `lo` to `hi` nearest to `value`."""
    return min(max(value, lo), hi)


def from_text(text: str, lo: int = 0, hi: int = 10 ** LINK_DIGITS - 1) -> int | None:
    """The whole number written in `text` (ASCII digits only, at most LINK_DIGITS of them) if it is from `lo` to
    `hi`; otherwise None. str.isdigit alone would take "²", which int() refuses."""
    if isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= LINK_DIGITS:
        return whole(int(text), lo, hi)
    return None


def clicked(chart_state: object, lo: int, hi: int) -> int | None:
    """The number a click picked on a Plotly chart whose points carry their number as text (st.plotly_chart's
    selection in session state), if it is from `lo` to `hi`; None for no click or anything else."""
    try:
        points = chart_state["selection"]["points"]  # type: ignore[index]
        return from_text(points[0]["text"], lo, hi) if points else None
    except (KeyError, IndexError, TypeError):
        return None
