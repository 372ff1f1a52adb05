"""app/figures.py on records worked out by hand: what the head-importance and training charts write and mark."""
from __future__ import annotations

import numpy as np
import pytest

from app import describe, figures, i18n, labels
from vit_core import experiments


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setattr(i18n, "current_language", lambda: "en")


def test_a_change_in_points_is_written_with_its_sign_and_never_as_minus_zero():
    assert [figures.points(v) for v in (-5.0, -0.26, -0.04, 0.0, 0.01, 0.26)] == ["-5", "-0.3", "0", "0", "0",
                                                                                 "+0.3"]


def test_the_importance_chart_writes_each_head_in_its_cell():
    costs = experiments.head_costs(0.90, np.array([[0.90, 0.85], [0.897, 0.9001]]))
    fig = figures.importance_chart(costs)
    heat, cells = fig.data
    assert np.allclose(np.asarray(heat.z), costs.points)
    assert list(cells.x) == ["1", "2", "1", "2"] and list(cells.y) == ["1", "1", "2", "2"]
    assert list(cells.text) == ["0", "-5", "-0.3", "0"]
    assert list(cells.textfont.color) == ["white", "black", "white", "white"]  # dark on the light end of the scale


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_importance_chart_in_words_reads_the_heat_map_only(monkeypatch, lang):
    """Its cells' labels (a text-only trace) are no series of their own: no "value: 24 values, highest 6 (1)", no rows
    with an empty value (the walk of issue 28 found both in "One head's share: as text", page 6)."""
    monkeypatch.setattr(i18n, "current_language", lambda: lang)
    costs = experiments.head_costs(0.90, np.array([[0.90, 0.85], [0.897, 0.9001]]))
    words, rows = describe.chart(figures.importance_chart(costs))
    heat = i18n.t("alt.chart_heatmap", rows=2, cols=2, hi="0.01", hiat=labels.place("2", "2"), lo="-5",
                  loat=labels.place("1", "2"))
    assert words == heat  # one sentence, the heat map's
    assert len(rows) == 4 and all(row[i18n.t("alt.col_value")] for row in rows), rows


def test_the_accuracy_chart_marks_the_snapshots_and_the_one_in_view():
    run = experiments.training_run([experiments.Snapshot(0, "a", 0.1), experiments.Snapshot(2, "b", 0.7)],
                                   [(0, 0.1), (1, 0.5), (2, 0.7), (3, 0.75)])
    line, marks = figures.accuracy_chart(run, 2).data
    assert list(line.x) == [0, 1, 2, 3] and np.allclose(line.y, [0.1, 0.5, 0.7, 0.75])
    assert list(marks.x) == [0, 2, 3] and np.allclose(marks.y, [0.1, 0.7, 0.75])
    assert list(marks.marker.size) == [8, 14, 8]  # epoch 2 is in view


def test_every_bar_label_of_the_prediction_reads_across():
    """Page 7's top classes (issue 28 §6): a thin bar's "5.6%" was turned sideways to fit inside it. Every label is
    horizontal (textangle 0, never "auto"), inside a bar's end where it fits and beside the bar where it does not
    (textposition "auto" with textangle 0 does that), at one size, never shrunk to fit (uniformtext "show",
    constraintext "none"), and not cut at the plot's edge."""
    probs = np.array([0.78, 0.056, 0.05, 0.03, 0.02])
    fig = figures.top_chart(probs, ["sandal", "sneaker", "ankle boot", "bag", "shirt"], "probability")
    (bar,) = fig.data
    assert bar.orientation == "h" and list(bar.y) == ["sandal", "sneaker", "ankle boot", "bag", "shirt"]
    assert list(bar.text) == ["78%", "5.6%", "5%", "3%", "2%"]  # app/numbers.py: no trailing zeros
    assert bar.textangle == 0 and bar.textposition == "auto" and bar.insidetextanchor == "end"
    assert bar.constraintext == "none" and bar.cliponaxis is False
    assert fig.layout.uniformtext.mode == "show" and fig.layout.uniformtext.minsize >= 12
    assert fig.layout.yaxis.autorange == "reversed" and tuple(fig.layout.xaxis.range) == (0, 1)
