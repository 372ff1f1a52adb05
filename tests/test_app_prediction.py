"""Step 6 (prediction) from the entry point: teaching model, a 224/16 random model with 1000 classes, a headless
model, Korean."""
from __future__ import annotations


from streamlit.testing.v1 import AppTest

from .apptest import BUDGET, chart, open_step, sent_bytes

PAGE = "steps/6_prediction.py"


def open_page(model_id: str | None = None, lang: str = "en", demo: int = 0) -> AppTest:
    return open_step(PAGE, model_id, lang, demo=demo)
FASHION_KO = {"티셔츠/탑", "바지", "풀오버", "드레스", "코트", "샌들", "셔츠", "스니커즈", "가방", "앵클부츠"}


def test_teaching_model_top5_and_layers():
    at = open_page()
    top = chart(at, "prediction_top")["data"][0]
    assert len(top["y"]) == 5 and top["y"][0] == at.metric[0].value
    assert "Fashion-MNIST" in at.info[0].value and "panda" in at.info[0].value
    lines = chart(at, "prediction_lines")["data"]
    assert len(lines) == 5 and len(lines[0]["x"]) == 7  # layers 0..6
    heat = chart(at, "prediction_heat")["data"][0]
    assert heat["y"] == [str(i) for i in range(7)] and heat["x"] == top["y"]
    assert len(at.dataframe[0].value) == 7
    assert sent_bytes(at._tree) < BUDGET

    other = open_page(demo=9)  # another demo picture (a Fashion-MNIST coat): another prediction
    assert chart(other, "prediction_top")["data"][0]["x"] != top["x"]


def test_vit_b16_shape_with_1000_classes(big_model):
    at = open_page(big_model)
    top = chart(at, "prediction_top")["data"][0]
    assert len(top["y"]) == 5 and all(name.startswith("LABEL_") for name in top["y"])  # no translation: as given
    assert len(chart(at, "prediction_lines")["data"][0]["x"]) == 4  # layers 0..3
    assert not [i for i in at.info if "Fashion-MNIST" in i.value]
    assert any("1000 classes" in c.value for c in at.caption)
    assert sent_bytes(at._tree) < BUDGET


def test_headless_model_explains_itself(headless_model):
    at = open_page(headless_model)
    assert "no classification head" in at.info[0].value
    assert not [e for e in at.get("plotly_chart") if "prediction_top" in e.proto.id]
    fig = chart(at, "prediction_cls_norm")
    assert fig["data"][0]["x"] == [0, 1, 2, 3]  # the cls token's length after layers 0..3


def korean(demo: int = 0) -> AppTest:
    at = open_page(demo=demo)
    at.session_state["lang"] = "ko"  # switched on the page, as a learner does with the sidebar picker
    at.run()
    assert not at.exception and not at.error
    return at


def test_korean_class_names():
    at = korean()
    assert at.title[0].value.startswith("6단계")
    assert set(chart(at, "prediction_top")["data"][0]["y"]) <= FASHION_KO
    assert at.metric[0].value in FASHION_KO
    assert "판다" in at.info[0].value
    assert korean(demo=12).metric[0].value in FASHION_KO


def test_korean_falls_back_to_english_names(big_model):
    at = open_page(big_model)
    at.session_state["lang"] = "ko"
    at.run()
    assert not at.exception and at.title[0].value.startswith("6단계")
    assert all(name.startswith("LABEL_") for name in chart(at, "prediction_top")["data"][0]["y"])
