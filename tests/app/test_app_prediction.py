"""Step 7 (prediction) from the entry point: teaching model, a 224/16 random model with 1000 classes, a headless
model, Korean.

Known values: the teaching model names the Fashion-MNIST test pictures among the demos correctly; layer 0's
"prediction" is the same for every picture (the cls token has seen no patch yet); the last layer of the layer-by-layer
chart (the head on z_L⁰ through layer_predictions) is the prediction itself (the logits' softmax); a headless model's
cls token before the first block is x_class + E_pos[0], read from the checkpoint's weights."""
from __future__ import annotations


import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from vit_core import load_model
from vit_core.data import class_names

from app.numbers import number, percent
from app.steps import step

from tests.app.apptest import BUDGET, chart, floats, open_step, sent_bytes

PAGE = step("prediction").file
FASHION_KO = set(class_names("ko").values())  # assets/models/fashion-vit/class_names.json
PANDA, COAT, SNEAKER = "fubao_28", "fashion_6_coat", "fashion_9_sneaker"  # demo ids (assets/images/manifest.json)


def open_page(model_id: str | None = None, lang: str = "en", demo: str = PANDA) -> AppTest:
    return open_step(PAGE, model_id, lang, demo=demo)


def table(at: AppTest) -> list[tuple[int, str, str]]:
    """The top class at each layer: (layer, class, probability) rows."""
    df = at.dataframe[0].value
    return list(zip(df["layer"], df["top class"], df["probability"]))


def test_teaching_model_top5_and_layers():
    at = open_page()  # the panda: not a Fashion-MNIST class
    assert "Fashion-MNIST" in at.info[0].value and "panda" in at.info[0].value
    top = chart(at, "prediction_top")["data"][0]
    names, probs = top["y"], floats(top["x"])
    assert len(names) == 5 and names[0] == at.metric[0].value
    assert all(np.diff(probs) <= 0) and top["text"] == [percent(p) for p in probs]  # best first, labelled
    assert at.metric[0].delta == top["text"][0]
    assert any(c.value == f"The 5 most likely of the model's 10 classes. All 10 probabilities sum to 1; the other "
                          f"classes share {percent(1 - probs.sum())}." for c in at.caption)

    lines = chart(at, "prediction_lines")["data"]
    assert [line["name"] for line in lines] == names and all(line["x"] == list(range(7)) for line in lines)
    heat = chart(at, "prediction_heat")["data"][0]
    assert heat["y"] == [str(i) for i in range(7)] and heat["x"] == names
    z = floats(heat["z"])  # (layers 0..6, the final top 5)
    for j, line in enumerate(lines):
        np.testing.assert_array_equal(floats(line["y"]), z[:, j])
    np.testing.assert_allclose(z[-1], probs, atol=1e-6)  # the head on z_6⁰ is the prediction itself

    rows = table(at)
    assert [r[0] for r in rows] == list(range(7))
    assert rows[-1][1:] == (names[0], top["text"][0])  # the last row is the model's answer
    assert sent_bytes(at._tree) < BUDGET


def test_known_answers_and_layer_zero():
    panda, coat = table(open_page()), open_page(demo=COAT)
    assert coat.metric[0].value == "Coat"
    assert table(coat)[-1][1] == "Coat"
    assert table(coat)[0] == panda[0]  # before any block the cls token has seen no patch: the same for every picture
    assert floats(chart(coat, "prediction_top")["data"][0]["x"])[0] > 0.5


def test_vit_b16_shape_with_1000_classes(big_model):
    at = open_page(big_model)
    top = chart(at, "prediction_top")["data"][0]
    assert len(top["y"]) == 5 and all(name.startswith("LABEL_") for name in top["y"])  # no translation: as given
    assert len(chart(at, "prediction_lines")["data"][0]["x"]) == 4  # layers 0..3
    assert not [i for i in at.info if "Fashion-MNIST" in i.value]
    assert any("1000 classes" in c.value for c in at.caption)
    assert len(table(at)) == 4
    assert sent_bytes(at._tree) < BUDGET


def test_headless_model_explains_itself(headless_model):
    at = open_page(headless_model)
    assert "no classification head" in at.info[0].value
    assert not [e for e in at.get("plotly_chart") if "prediction_top" in e.proto.id]
    assert not at.dataframe
    fig = chart(at, "prediction_cls_norm")
    assert fig["data"][0]["x"] == [0, 1, 2, 3]  # the cls token's length after layers 0..3
    norms = floats(fig["data"][0]["y"])
    model = load_model(headless_model.removeprefix("path:")).model
    cls0 = (model.cls_token + model.pos_embed[:, :1]).detach().numpy().ravel()  # z_0⁰ = x_class + E_pos[0]
    assert norms[0] == pytest.approx(np.linalg.norm(cls0), rel=1e-5)
    assert at.metric[0].value == number(norms[-1])
    assert "`(4, 1, 197, 96)`" in " ".join(m.value for m in at.markdown)  # hidden_states: (L+1, B, T, D)


def korean(demo: str = PANDA) -> AppTest:
    at = open_page(demo=demo)
    at.session_state["lang"] = "ko"  # switched on the page, as a learner does with the sidebar picker
    at.run()
    assert not at.exception and not at.error
    return at


def test_korean_class_names():
    at = korean()
    assert at.title[0].value.startswith("7단계")
    assert set(chart(at, "prediction_top")["data"][0]["y"]) <= FASHION_KO
    assert at.metric[0].value in FASHION_KO
    assert "판다" in at.info[0].value
    assert korean(demo=SNEAKER).metric[0].value == "스니커즈"


def test_korean_falls_back_to_english_names(big_model):
    at = open_page(big_model)
    at.session_state["lang"] = "ko"
    at.run()
    assert not at.exception and at.title[0].value.startswith("7단계")
    assert all(name.startswith("LABEL_") for name in chart(at, "prediction_top")["data"][0]["y"])
