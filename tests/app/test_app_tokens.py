"""Step 8, inside the tokens (AppTest): the logit lens, the tokens' similarity and the residual stream, in English and
Korean, on the teaching model, a 224/16 model with 1000 classes and a model without a head.

Known values come from vit_core/lens.py run here on the same picture, not from the page: the share of patches that
agree with the answer, the cls token's vote, a patch's similarity row and the norms. A step of the layer slider and a
patch picked in the select box change what is drawn and what the address bar keeps (app/links.py)."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import core
from app.steps import step
from vit_core import lens, load_model, views
from vit_core.data import class_names

from tests.app.apptest import BUDGET, MAIN, chart, floats, open_page, open_step, problems, sent_bytes
from tests.conftest import ROOT

PAGE = step("tokens").file
PANDA = ROOT / "assets" / "images" / "fubao_28.png"
FASHION_EN, FASHION_KO = set(class_names("en").values()), set(class_names("ko").values())


@pytest.fixture(scope="module")
def record() -> lens.Lenses:
    """The three lenses of the panda on the teaching model, computed here by vit_core alone."""
    loaded = load_model(core.TEACHING_PATH)
    return lens.lenses(loaded.model, views.analyse(loaded, PANDA.read_bytes()).trace)


def tokens_page(lang: str = "en", model_id: str | None = None, **state) -> AppTest:
    return open_step(PAGE, model_id, lang, **state)


def texts(at: AppTest) -> str:
    return " ".join(e.value for kind in ("markdown", "caption", "info", "header", "subheader") for e in at.get(kind))


def address_bar(at: AppTest) -> dict[str, str]:
    """What the page's own writer puts in the address bar on this run."""
    (writer,) = [el for el in at.get("bidi_component") if el.proto.id.endswith("url_state_tokens")]
    return dict(parse_qsl(json.loads(writer.proto.json)["query"]))


def legend(at: AppTest) -> list[str]:
    return [tr["name"] for tr in chart(at, "lens_votes")["data"][2:]]


# ---- the teaching model ----------------------------------------------------------------------------------------------
def test_the_last_layer_on_the_teaching_model(record):
    at = tokens_page()
    L, N = 6, 49
    assert at.title[0].value.startswith("Step 8 · Inside the tokens")
    assert at.slider(key="lens_layer").value == L  # the answer's layer first
    votes, answer = record.logit.votes, record.logit.prediction
    agree = int((votes[L, 1:] == answer).sum())
    assert at.metric[0].value == f"{agree}/{N} ({agree / N:.0%})"  # "14/49 (29%)"
    names = class_names("en")
    cfg = load_model(core.TEACHING_PATH).model.config
    assert at.metric[1].value == names[cfg.labels[int(votes[L, 0])]]  # the cls token's vote
    assert set(legend(at)) <= FASHION_EN | {"other classes"} and names[cfg.labels[answer]] in legend(at)
    np.testing.assert_allclose(floats(chart(at, "lens_agreement")["data"][0]["y"]), record.logit.agreement,
                               atol=1e-6)
    np.testing.assert_allclose(floats(chart(at, "lens_sim_curve")["data"][0]["y"]), record.similarity.patch_mean,
                               atol=1e-6)
    norms = chart(at, "lens_norms")["data"]
    np.testing.assert_allclose(floats(norms[0]["y"]), record.stream.cls, rtol=1e-6)
    np.testing.assert_allclose(floats(norms[2]["y"]), record.stream.patch_max, rtol=1e-6)
    assert len(at.dataframe[0].value) == L + 1  # the cls token's vote at every layer, beside the patches'
    assert "Darcet et al., “Vision Transformers Need Registers” (ICLR 2024)" in texts(at)
    assert address_bar(at)["layer"] == str(L) and address_bar(at)["query"] == "24"  # the centre patch
    assert sent_bytes(at._tree) < BUDGET


def test_the_layer_slider_steps_through_the_layers(record):
    at = tokens_page()
    for layer in (0, 3):
        at.slider(key="lens_layer").set_value(layer).run()
        assert not problems(at)
        agree = int((record.logit.votes[layer, 1:] == record.logit.prediction).sum())
        assert at.metric[0].value == f"{agree}/49 ({agree / 49:.0%})"
        assert address_bar(at)["layer"] == str(layer)
        assert f"After layer {layer}, {agree}/49" in texts(at)  # the vote map as text
        assert sent_bytes(at._tree) < BUDGET  # a slider step stays within the step budget
    assert "Layer 0: the embeddings" in texts(at.slider(key="lens_layer").set_value(0).run())


def test_a_patch_picked_in_the_select_box(record):
    at = tokens_page()
    at.selectbox(key="lens_patch").set_value(3).run()
    assert not problems(at) and address_bar(at)["query"] == "3"
    row = record.similarity.cosine[6, 4, 1:]  # patch 3 is token 4
    others = np.delete(row, 3)
    best = int(np.argmax(np.where(np.arange(49) == 3, -np.inf, row)))
    assert max(others) == row[best]
    said = texts(at)
    assert "Similarity to patch 3 (row 0, column 3) after layer 6" in said
    assert f"the most alike other patch is patch {best} (row {best // 7}, column {best % 7}), {row[best]:.3f}" in said


def test_a_click_on_the_map_picks_the_patch(monkeypatch):
    """A click reaches the page as the chart's selection (st.plotly_chart's state in session state), whose point
    carries its patch number as text; anything else leaves the patch as it was."""
    from app.steps import tokens

    state = {"lens_patch": 24}
    monkeypatch.setattr(tokens.st, "session_state", state)
    for selection, patch in (([{"text": "40"}], 40), ([], 40), ([{"text": "49"}], 40), ([{"text": "3"}], 3)):
        state["lens_sim_map"] = {"selection": {"points": selection}}
        tokens.on_pick(7)
        assert state["lens_patch"] == patch


def test_a_link_opens_its_layer_and_patch_and_keeps_them_in_range():
    at = AppTest.from_file(MAIN, default_timeout=300)
    at.query_params["layer"], at.query_params["query"] = "2", "99"
    at = open_page(at.run(), PAGE)
    assert not problems(at) and not at.error
    assert at.slider(key="lens_layer").value == 2
    assert at.selectbox(key="lens_patch").value == 48  # patch 99 of a 49-patch model: the last one


# ---- Korean ----------------------------------------------------------------------------------------------------------
def test_korean():
    at = tokens_page("ko")
    assert at.title[0].value.startswith("8단계 · 토큰의 속")
    assert set(legend(at)) <= FASHION_KO | {"다른 클래스"}
    assert at.metric[1].value in FASHION_KO
    said = texts(at)
    assert "6층을 지난 뒤" in said and "중앙값 패치의" in said
    assert not re.search(r"\b(?:layer|patch|patches|vote|votes)\b", said)
    at.slider(key="lens_layer").set_value(0).run()
    assert "0층: 첫 블록 전의 임베딩" in texts(at)


# ---- other models ----------------------------------------------------------------------------------------------------
def test_a_model_without_a_head_says_so_and_offers_no_logit_lens(headless_model):
    at = tokens_page(model_id=headless_model)
    assert any("no classification head" in i.value for i in at.info)
    assert not [e for e in at.get("plotly_chart") if "lens_votes" in e.proto.id] and not at.dataframe
    chart(at, "lens_sim_map"), chart(at, "lens_norms")  # the other two lenses are there
    at.session_state["lang"] = "ko"
    at.run()
    assert not problems(at) and any("분류 헤드가 없어서" in i.value for i in at.info)


def test_a_224_16_model_with_1000_classes_stays_within_the_budget(big_model):
    at = tokens_page(model_id=big_model)
    assert at.slider(key="lens_layer").value == 3 and len(legend(at)) <= 10
    assert sent_bytes(at._tree) < BUDGET
    at.slider(key="lens_layer").set_value(1).run()
    assert not problems(at) and sent_bytes(at._tree) < BUDGET
    assert re.fullmatch(r"\d+/196 \(\d+%\)", at.metric[0].value)
