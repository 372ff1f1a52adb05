"""Step 4 (encoder block) from the entry point: teaching model, a 224/16 random model, a headless one, Korean.

What the page shows is held against what it must be: the row charts against the attention the model's own forward
pass returned (Block.forward, not the explain_block path the page reads), the weights against the softmax of the
scores shown beside them, the worked example against the bars it explains."""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from vit_core import load_model, views

from app.numbers import number, roundoff
from app.steps import step

from tests.app.apptest import BUDGET, chart, floats, open_step, sent_bytes
from tests.conftest import ROOT, TEACHING

PAGE = step("encoder").file


def open_page(model_id: str | None = None, lang: str = "en", query: int = 0) -> AppTest:
    return open_step(PAGE, model_id, lang, encoder_query=query)


@pytest.fixture(scope="module")
def attentions() -> np.ndarray:
    """The teaching model's attention on demo picture 0, from its plain forward pass: (L, B, H, T, T)."""
    demo = json.loads((ROOT / "assets" / "images" / "manifest.json").read_text(encoding="utf-8"))[0]
    picture = (ROOT / "assets" / "images" / demo["file"]).read_bytes()
    return views.analyse(load_model(TEACHING), picture).trace.attentions


def row(at: AppTest, key: str) -> tuple[list[str], np.ndarray, str, float]:
    """A row chart: the token names, the values, and the token drawn in red (the worked example's key) and its value."""
    blue, red = chart(at, key)["data"]
    return blue["x"], floats(blue["y"]), red["x"][0], float(floats(red["y"])[0])


def matrix(at: AppTest) -> np.ndarray:
    return floats(chart(at, "encoder_matrix_chart")["data"][0]["z"])


def metric(at: AppTest, label: str) -> float:
    return float(next(m.value for m in at.metric if m.label == label))


def text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def test_teaching_model_block(attentions):
    at = open_page()
    assert "✓" in at.success[0].value
    # the tolerance in the number style, as page 6 writes its own (1e-05), not typed into the catalog as "1e-5"
    assert f"(within {roundoff(views.MATCH)})." in at.success[0].value
    assert matrix(at).shape == (50, 50)  # the whole matrix: no window needed
    assert not [s for s in at.slider if s.key == "encoder_window"]
    assert sent_bytes(at._tree) < BUDGET
    assert "`(4, 50, 16)`" in text(at) and "`(50, 128)`" in text(at)  # q (H, T, d) and mlp_hidden (T, MLP)

    names, probs, red, red_value = row(at, "encoder_probs_row")
    assert names[:3] == ["cls", "p0", "p1"] and len(names) == 50
    np.testing.assert_allclose(probs, attentions[0, 0, 0, 0], atol=1e-6)  # layer 1, head 1, the cls token's row
    assert probs.sum() == pytest.approx(1, abs=1e-5)
    assert red == names[int(np.argmax(probs))] and red_value == probs.max()  # "the key it attends to most"
    score_names, scores, score_red, score_red_value = row(at, "encoder_scores_row")
    assert score_names == names and score_red == red
    np.testing.assert_allclose(softmax(scores.astype(np.float64)), probs, atol=1e-6)
    np.testing.assert_allclose(matrix(at)[0], probs)  # the query's row of the whole matrix

    # the worked example works out the red bars
    assert metric(at, "Score, computed here") == pytest.approx(score_red_value, abs=2e-6)
    assert metric(at, "Weight, computed here") == pytest.approx(red_value, abs=2e-6)
    assert metric(at, "Weight, model's matrix") == pytest.approx(red_value, abs=1e-6)
    s_line, w_line = at.latex[-2].value, at.latex[-1].value
    dot, d, s = map(float, re.search(r"\\frac\{([-\d.]+)\}\{\\sqrt\{(\d+)\}\} = ([-\d.]+)", s_line).groups())
    assert d == 16 and dot / 4 == pytest.approx(s, abs=1e-5)
    e_s, total, w = map(float, re.search(r"= \\frac\{([\d.e+]+)\}\{([\d.e+]+)\} = ([\d.]+)", w_line).groups())
    assert e_s == pytest.approx(math.exp(s), rel=1e-4) and e_s / total == pytest.approx(w, rel=1e-4)
    assert w == pytest.approx(red_value, abs=2e-6)


def test_teaching_model_another_layer_head_query_and_key(attentions):
    at = open_page(query=10)  # patch 9: row 1, column 2
    at.slider(key="encoder_layer").set_value(4).run()
    at.slider(key="encoder_head").set_value(3).run()
    at.selectbox(key="encoder_key").set_value(0).run()  # the cls token
    assert not at.exception and "✓" in at.success[0].value
    assert "Query **patch 9 (row 1, column 2)**, key **cls token**, head 3." in text(at)

    names, probs, red, red_value = row(at, "encoder_probs_row")
    np.testing.assert_allclose(probs, attentions[3, 0, 2, 10], atol=1e-6)  # layer 4, head 3, token 10
    assert red == "cls" and red_value == probs[0]
    captions = [c for image in at.get("image") for c in image.captions]
    assert any(c.endswith(f"The cls token (not on the map) gets {number(probs[0])}.") for c in captions)
    assert metric(at, "Weight, computed here") == pytest.approx(probs[0], abs=2e-6)
    np.testing.assert_allclose(matrix(at)[10], probs)

    at.radio(key="encoder_matrix").set_value("scores").run()
    assert not at.exception
    np.testing.assert_allclose(matrix(at)[10], row(at, "encoder_scores_row")[1])


def test_vit_b16_shape_is_windowed_and_light(big_model):
    at = open_page(big_model, query=100)
    assert not at.error and "✓" in at.success[0].value
    fig = chart(at, "encoder_matrix_chart")
    assert matrix(at).shape == (64, 64)  # a window of the 197×197 matrix, centred on the query
    assert fig["data"][0]["x"][0] == "p67" and fig["data"][0]["x"][-1] == "p130"  # tokens 68–131 around token 100
    assert len(chart(at, "encoder_scores_row")["data"][0]["x"]) == 197
    assert sent_bytes(at._tree) < BUDGET
    at.slider(key="encoder_window").set_value(133).run()  # the last window: tokens 133–196
    at.selectbox(key="encoder_query").set_value(196).run()  # the last patch: row 13, column 13
    at.slider(key="encoder_head").set_value(12).run()
    assert not at.exception and "✓" in at.success[0].value
    fig = chart(at, "encoder_matrix_chart")
    assert fig["data"][0]["x"][0] == "p132" and fig["data"][0]["x"][-1] == "p195"
    assert any(c.value.startswith("Tokens 133–196: a 64×64 window of the 197×197 matrix (38,809 numbers")
               for c in at.caption)
    assert "row 13, column 13" in text(at)


def test_headless_model(headless_model):
    at = open_page(headless_model)
    assert not at.error and "✓" in at.success[0].value


def test_korean():
    at = open_page(query=1)
    at.session_state["lang"] = "ko"  # switched on the page, as a learner does with the sidebar picker
    at.run()
    assert not at.exception
    assert at.title[0].value.startswith("4단계")
    assert "일치" in at.success[0].value
    assert "패치 0 (0행 0열)" in text(at)
    assert at.selectbox(key="encoder_query").options[1] == "패치 0 (0행 0열)"
    assert at.selectbox(key="encoder_query").options[0] == "cls 토큰"


# ---- the page's matplotlib figures -------------------------------------------------------------------------------
def test_figures_text_sizes_and_maths(teaching):
    """No text in the page's figures is smaller than style's FIGURE_* sizes (test_browser_pages measures what those
    become at 1366 px), and the block diagrams write z_{ℓ−1} and z_ℓ as maths (matplotlib's mathtext)."""
    from matplotlib.text import Text

    from app import figures, style

    from tests.app.test_app_embedding import text_sizes

    demo = json.loads((ROOT / "assets" / "images" / "manifest.json").read_text(encoding="utf-8"))[0]
    analysis = views.analyse(teaching, (ROOT / "assets" / "images" / demo["file"]).read_bytes())
    block = views.block_detail(teaching.model, analysis, 2)
    smallest = min(style.FIGURE_TICK, style.FIGURE_SMALL, style.FIGURE_LABEL, style.FIGURE_TITLE,
                   style.FIGURE_HEADING)
    flow = figures.flow_figure(views.flow(block, views.FLOW, 7))
    assert len(flow.axes) == 16 and flow.get_figwidth() <= 8.4  # two rows of four: readable at the page's width
    drawn = {"flow": flow, "qkv": figures.qkv_figure(block, 1, 5, 7),
             "pre": figures.block_figure(*figures.PRE_NORM), "post": figures.block_figure(*figures.POST_NORM)}
    for name, fig in drawn.items():
        sizes = text_sizes(fig)
        assert sizes and min(sizes) >= smallest, name
    for name in ("pre", "post"):
        labels = [t.get_text() for t in drawn[name].findobj(Text)]
        assert r"$z_{\ell-1}$" in labels and r"$z_\ell$" in labels
        assert labels.count("residual") == 2 and labels.count("+") == 2
