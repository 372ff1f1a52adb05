"""Step 4 (encoder block) from the entry point: teaching model, a 224/16 random model, a headless one, Korean."""
from __future__ import annotations


import numpy as np
from streamlit.testing.v1 import AppTest

from .apptest import BUDGET, chart, open_step, sent_bytes

PAGE = "steps/4_encoder.py"


def open_page(model_id: str | None = None, lang: str = "en", query: int = 0) -> AppTest:
    return open_step(PAGE, model_id, lang, encoder_query=query)


def z_shape(fig: dict) -> tuple[int, ...]:
    z = fig["data"][0]["z"]
    if isinstance(z, dict):  # Plotly's binary encoding
        return tuple(int(s) for s in str(z["shape"]).split(","))
    return np.asarray(z).shape


def metrics(at: AppTest) -> list[str]:
    return [m.value for m in at.metric]


def test_teaching_model_block_and_worked_example():
    at = open_page()
    assert not at.error
    assert "✓" in at.success[0].value
    assert z_shape(chart(at, "encoder_matrix_chart")) == (50, 50)  # the whole matrix: no window needed
    assert not [s for s in at.slider if s.key == "encoder_window"]
    assert sent_bytes(at._tree) < BUDGET
    shapes = " ".join(m.value for m in at.markdown)
    assert "`(4, 50, 16)`" in shapes and "`(50, 128)`" in shapes  # q (H, T, d) and mlp_hidden (T, MLP)

    first = metrics(at)
    at.selectbox(key="encoder_query").set_value(10).run()  # patch 9: row 1, column 2
    assert not at.exception and "✓" in at.success[0].value
    assert metrics(at) != first
    assert "row 1, column 2" in " ".join(m.value for m in at.markdown)

    matrix = chart(at, "encoder_matrix_chart")
    at.slider(key="encoder_layer").set_value(4).run()
    at.slider(key="encoder_head").set_value(3).run()
    at.selectbox(key="encoder_key").set_value(0).run()
    assert not at.exception and "✓" in at.success[0].value
    assert chart(at, "encoder_matrix_chart")["data"][0]["z"] != matrix["data"][0]["z"]

    at.radio(key="encoder_matrix").set_value("scores").run()
    assert not at.exception


def test_vit_b16_shape_is_windowed_and_light(big_model):
    at = open_page(big_model)
    assert not at.error and "✓" in at.success[0].value
    assert z_shape(chart(at, "encoder_matrix_chart")) == (64, 64)  # a window of the 197×197 matrix
    assert len(chart(at, "encoder_scores_row")["data"][0]["x"]) == 197
    assert sent_bytes(at._tree) < BUDGET
    at.slider(key="encoder_window").set_value(133).run()  # the last window: tokens 133–196
    at.selectbox(key="encoder_query").set_value(196).run()  # the last patch: row 13, column 13
    at.slider(key="encoder_head").set_value(12).run()
    assert not at.exception and "✓" in at.success[0].value
    fig = chart(at, "encoder_matrix_chart")
    assert fig["data"][0]["x"][-1] == "p195"
    assert "row 13, column 13" in " ".join(m.value for m in at.markdown)


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
    assert "패치 0 (0행, 0열)" in " ".join(m.value for m in at.markdown)
    assert at.selectbox(key="encoder_query").options[1] == "패치 0 (0행, 0열)"
