"""The alt-text writer (app/describe.py) on records whose numbers are worked out here by hand, and the rule that every
picture the app shows has one (issue 17)."""
from __future__ import annotations

import ast
import re
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest

from app import describe, i18n, labels, numbers

from tests.conftest import ROOT


@pytest.fixture(params=["en"])
def lang(request, monkeypatch):
    monkeypatch.setattr(i18n, "current_language", lambda: request.param)
    return request.param


@pytest.fixture
def korean(monkeypatch):
    monkeypatch.setattr(i18n, "current_language", lambda: "ko")


# A 3×3 grid: patch k at row k // 3, column k % 3. Largest 0.40 at patch 4 (row 1, column 1), next 0.20 at patch 1
# (row 0, column 1); the smallest, 0.00, first at patch 2 (row 0, column 2) (patch 6 ties it; the first counts).
MAP = np.array([[0.10, 0.20, 0.00],
                [0.05, 0.40, 0.10],
                [0.00, 0.05, 0.10]])


def test_a_map_says_where_it_is_strongest_and_weakest(lang):
    assert describe.strongest(MAP, 3) == [(4, 0.4), (1, 0.2), (0, 0.1)]  # 0.10 at 0, 5 and 8: the lowest number
    text = describe.heat("Attention of layer 3, head 2.", MAP, outlined=7)
    assert text == ("Attention of layer 3, head 2. Strongest at patch 4 (row 1, column 1): 0.4; weakest at patch 2 "
                    "(row 0, column 2): 0. Next strongest: patch 1 (row 0, column 1), 0.2. "
                    "A dashed square outlines patch 7 (row 2, column 1).")


def test_the_query_map_names_layer_head_and_query(lang):
    text = describe.query_map(3, 2, 7, MAP)
    assert text.startswith("Where patch 7 (row 2, column 1) looks in layer 3, head 2, drawn over the picture. "
                           "Strongest at patch 4 (row 1, column 1): 0.4")


def test_the_grid_of_every_head_names_the_most_focused_and_the_most_spread(lang):
    maps = np.full((2, 3, 2, 2), 0.25)  # 2 layers × 3 heads, each a uniform 2×2 map (peak 0.25) …
    maps[1, 2] = [[0.7, 0.1], [0.1, 0.1]]  # … but layer 2, head 3 (peak 0.70) …
    maps[0, 1] = [[0.2, 0.2], [0.2, 0.2]]  # … and layer 1, head 2 (peak 0.20)
    text = describe.heads_grid(maps, layer=1, head=1, query=None)
    assert "2 rows (layers) by 3 columns (heads)" in text and "where the cls token looks" in text
    assert "The framed map is layer 1, head 1." in text
    assert "most focused head is layer 2, head 3 (its largest weight 0.7)" in text
    assert "most spread out is layer 1, head 2 (largest weight 0.2)" in text


def test_a_patch_says_its_pixel_values(lang):
    pixels = np.array([[[0, 0, 0], [255, 255, 255]], [[10, 10, 10], [35, 35, 35]]], dtype=np.uint8)  # mean 75
    assert describe.patch_pixels(5, 3, pixels) == ("The 2×2 pixels of patch 5 (row 1, column 2), enlarged: values "
                                                   "from 0 (darkest) to 255 (brightest), 75 on average, out of 255.")


def test_position_similarity_compares_neighbours_with_the_rest(lang):
    g = 2  # patches 0 1 / 2 3: each has two neighbours (one step) and one diagonal (two steps)
    sim = np.zeros((g, g, g, g))
    for r in range(g):
        for c in range(g):
            for rr in range(g):
                for cc in range(g):
                    d = abs(r - rr) + abs(c - cc)
                    sim[r, c, rr, cc] = {0: 1.0, 1: 0.5, 2: -0.25}[d]
    text = describe.position_similarity(sim)
    assert "next to each other average a cosine similarity of 0.5" in text
    assert "further apart average -0.25" in text


def test_an_intervention_in_words(lang):
    iv = SimpleNamespace(mask=(3, 9), shuffle_seed=7, no_pos_embed=True, ablate=((0, 1),))
    assert describe.intervention(iv, "noise") == ("2 patches masked (noise); the patches shuffled with seed 7; "
                                                  "run without position embeddings; heads switched off: 1")
    model_only = SimpleNamespace(mask=(), shuffle_seed=None, no_pos_embed=False, ablate=((0, 1), (2, 3)))
    assert describe.intervention(model_only, "noise") == "heads switched off: 2; the picture itself is unchanged"
    none = SimpleNamespace(mask=(), shuffle_seed=None, no_pos_embed=False, ablate=())
    assert describe.intervention(none, "noise") == "as the picture is, unchanged"


def test_numbers_a_screen_reader_can_say():
    assert [describe.number(v) for v in (0.0, 0.1234, -0.5, 6.89e-06, -3.2e-5, 123456.7, 20.39035, 0.63265306)] == \
        ["0", "0.123", "-0.5", "0.00000689", "-0.000032", "123,457", "20.4", "0.633"]


def test_a_chart_in_words_and_as_a_table(lang):
    fig = go.Figure(go.Heatmap(z=MAP, x=["a", "b", "c"], y=["p", "q", "r"]))
    words, rows = describe.chart(fig)
    assert words == "A heat map of 3 rows by 3 columns: the largest value is 0.4 (q, b), the smallest 0 (p, c)."
    assert rows[:2] == [{"y": "q", "x": "b", "value": "0.4"}, {"y": "p", "x": "b", "value": "0.2"}]
    numbered = go.Figure(go.Heatmap(z=MAP))  # rows and columns by number: a place on the grid, as labels writes it
    assert describe.chart(numbered)[0].endswith("the largest value is 0.4 (row 1, column 1), the smallest 0 "
                                                "(row 0, column 2).")
    named = go.Figure(go.Heatmap(z=MAP, text=[[f"patch {k}" for k in range(i * 3, i * 3 + 3)] for i in range(3)]))
    assert "the largest value is 0.4 (patch 4)" in describe.chart(named)[0]  # each cell named by the figure
    bars = go.Figure(go.Bar(x=["cat", "dog"], y=[0.25, 0.75], name="probability"))
    bars.update_layout(xaxis_title="class")
    words, rows = describe.chart(bars)
    assert words == "probability: 2 values, the highest 0.75 at dog, the lowest 0.25 at cat."
    assert rows == [{"class": "cat", "y": "0.25"}, {"class": "dog", "y": "0.75"}]
    unnamed = go.Figure(go.Bar(x=["cat", "dog"], y=[0.25, 0.75]))  # no series name: no "value: 2 values"
    assert describe.chart(unnamed)[0] == "2 values: the highest 0.75 at dog, the lowest 0.25 at cat."


def test_a_heat_map_of_layers_and_heads_names_its_cells_so(lang):
    """Rows and columns by number are a grid of patches unless the page names its cells: step 6's layers × heads
    ("layer 2, head 3", not "row 2, column 3") and step 7's layers × classes ("layer 2, Sandal")."""
    heads = go.Figure(go.Heatmap(z=MAP, x=["1", "2", "3"], y=["1", "2", "3"]))
    assert "the largest value is 0.4 (layer 2, head 2)" in describe.chart(heads, cell=labels.head)[0]
    classes = go.Figure(go.Heatmap(z=MAP, x=["Bag", "Sandal", "Coat"], y=["0", "1", "2"]))
    words, _ = describe.chart(classes, value=numbers.percent, cell=labels.at_layer)
    assert "the largest value is 40% (layer 1, Sandal)" in words


def test_korean_texts_are_korean(korean):
    text = describe.heat(describe.t("alt.rollout", layer=2), MAP)
    assert text.startswith("2층까지의 어텐션 롤아웃을 그림 위에 그린 지도. "
                           "가장 강한 곳은 패치 4 (1행 1열): 0.4")


def test_a_korean_charts_table_heads_are_korean_where_its_axes_have_no_title(korean):
    """Page 7's top five as text (its class axis untitled) was headed "y", and its layers × classes map "x", on a Korean
    page (the walk of issue 28): an axis without a title is named in the page's language."""
    bars = go.Figure(go.Bar(x=[0.9, 0.1], y=["샌들", "가방"], orientation="h"), dict(xaxis=dict(title="확률")))
    heat = go.Figure(go.Heatmap(z=[[0.4, 0.1]], x=["샌들", "가방"], y=["6"]))
    heads = [head for fig in (bars, heat) for head in describe.chart(fig)[1][0]]
    assert heads and not [h for h in heads if re.search(r"[A-Za-z]", h)], heads


# ---- every picture has one ----------------------------------------------------------------------------------------
def calls(name: str):
    """Every call of `.name(…)` in the app's code: (file, line, keyword names)."""
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
                yield path.relative_to(ROOT), node.lineno, {k.arg for k in node.keywords}


def test_every_picture_has_a_text_alternative():
    found = list(calls("image"))
    assert len(found) > 15  # the walk finds the app's pictures
    missing = [f"{path}:{line}" for path, line, keywords in found if "alt" not in keywords]
    assert not missing, f"st.image without alt= (write it with app/describe.py): {missing}"


def test_every_chart_goes_through_ui_chart():
    direct = [f"{path}:{line}" for path, line, _ in calls("plotly_chart") if str(path) != "app/ui.py"]
    assert not direct, f"st.plotly_chart outside ui.chart, so without a text alternative: {direct}"
    assert len(list(calls("chart"))) > 20


def test_the_table_is_markdown_whose_cells_are_text_never_markup():
    rows = [{"query": "cls", "key": "patch 4 (1, 1)", "value": "0.400"}, {"query": "a|b", "key": "*x* $y$", "value": "1"}]
    assert describe.markdown_table(rows).splitlines() == [
        "| query | key | value |", "|---|---|---|", "| cls | patch 4 (1, 1) | 0.400 |",
        "| a\\|b | \\*x\\* \\$y\\$ | 1 |"]


def test_a_maps_largest_cells_as_table_rows(lang):
    rows = describe.map_rows(MAP, 2)
    assert rows == [{"patch": "patch 4 (row 1, column 1)", "value": "0.4"},
                    {"patch": "patch 1 (row 0, column 1)", "value": "0.2"}]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_charts_as_text_name_never_puts_a_colon_after_a_question(monkeypatch, language):
    """"이 그림에서 지도는 믿을 만한가?: 글로 보기" (page 8, the walk of issue 28): every catalog string that could title
    a chart, as the name of its "as text" expander, has no colon straight after a question or an exclamation mark."""
    from app import ui
    monkeypatch.setattr(i18n, "current_language", lambda: language)
    names = [ui.as_text_label(title) for title in i18n.catalog(language).values() if "\n" not in title]
    assert not [n for n in names if re.search(r"[?!？]\s*:", n)]
    assert ui.as_text_label("Why?") == i18n.t("alt.as_text_question", title="Why?")
    assert ui.as_text_label("Layer 1") == i18n.t("alt.as_text", title="Layer 1")
