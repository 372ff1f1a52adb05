"""Step 8, inside the tokens (AppTest): the logit lens, the tokens' similarity and the residual stream, in English and
Korean, on the teaching model, a 224/16 model with 1000 classes and a model without a head.

Known values come from vit_core/lens.py run here on the same picture, not from the page: the votes, the answer, a
patch's similarity row and the norms, as the page sends them to the layer view (app/components/lens), which draws
every layer in the browser (its words: tests/browser/test_lens_parity.py). Its reports (a layer, a patch picked on its
map) and a patch picked in the select box change what is sent and what the address bar keeps (app/links.py)."""
from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qsl

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import core
from app.i18n import catalog
from app.components import lens as lens_view
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


def view(at: AppTest, part: str) -> dict:
    """What the page sends one part of the layer view (app/components/lens): the component's data."""
    (el,) = [el for el in at.get("bidi_component") if el.proto.id.endswith(lens_view.key(part))]
    return json.loads(el.proto.mixed.json or el.proto.json)


def array(data: dict, name: str, dtype, rows: int) -> np.ndarray:
    """An array of a part's data as the browser reads it (shared/bytes.js): base64 of numpy's bytes, a row a layer."""
    return np.frombuffer(base64.b64decode(data[name]), dtype=dtype).reshape(rows, -1)


def legend(at: AppTest) -> list[str]:
    return [name or "other classes" for name, _colour in view(at, "votes")["legend"]]


def opens_on(at: AppTest) -> int:
    """The layer the layer view opens on (the page's last full run): every part is sent the same."""
    (layer,) = {view(at, part)["mount"] for part in lens_view.PARTS if view_exists(at, part)}
    return layer


def view_exists(at: AppTest, part: str) -> bool:
    return any(el.proto.id.endswith(lens_view.key(part)) for el in at.get("bidi_component"))


# ---- the teaching model ----------------------------------------------------------------------------------------------
def test_the_last_layer_on_the_teaching_model(record):
    at = tokens_page()
    L, N = 6, 49
    assert at.title[0].value.startswith("Step 8 · Inside the tokens")
    assert opens_on(at) == L  # the answer's layer first
    votes, answer = record.logit.votes, record.logit.prediction
    names = class_names("en")
    cfg = load_model(core.TEACHING_PATH).model.config
    d = view(at, "votes")  # every token's vote at every layer, as indices into the classes voted for
    sent = np.array(d["names"])[array(d, "votes", np.uint16, L + 1)]
    assert (sent == np.vectorize(lambda k: names[cfg.labels[int(k)]])(votes)).all()
    assert d["names"][d["answer"]] == names[cfg.labels[answer]] and d["T"] == N + 1
    assert set(legend(at)) <= FASHION_EN | {"other classes"} and names[cfg.labels[answer]] in legend(at)
    sim = view(at, "similarity")  # the centre patch's row at every layer, not T × T a layer
    assert sim["patch"] == 24
    np.testing.assert_array_equal(array(sim, "sim", np.float32, L + 1), record.similarity.cosine[:, 25, 1:])
    norms = view(at, "norms")
    np.testing.assert_array_equal(array(norms, "norms", np.float32, L + 1), record.stream.norms[:, 1:])
    assert norms["largest"] == record.stream.largest[:, :3].tolist()
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


def test_a_reported_layer_is_kept_and_the_view_opens_on_it():
    """The layer view's report (lens.on_view: lens_layer) goes to the address bar; the next full run opens on it."""
    at = tokens_page()
    before = view(at, "similarity")
    for layer in (0, 3):
        at.session_state["lens_layer"] = layer  # what the report's callback keeps
        at.run()
        assert not problems(at)
        assert address_bar(at)["layer"] == str(layer) and opens_on(at) == layer
        assert view(at, "similarity")["sim"] == before["sim"]  # every layer was sent already: the same data
        assert sent_bytes(at._tree) < BUDGET


def test_every_text_the_layer_view_fills_in_is_in_both_catalogs():
    assert {"tokens.alt_votes", "tokens.alt_similar", "tokens.alt_norms", "tokens.norm_map_title",
            "labels.patch", "alt.as_text_question"} <= set(lens_view.TEXT_KEYS)
    for lang in ("en", "ko"):
        assert [k for k in lens_view.TEXT_KEYS if k not in catalog(lang)] == [], lang


def test_a_report_keeps_only_values_it_can_use(monkeypatch):
    state = {"lens_layer": 6, "lens_patch": 24}
    monkeypatch.setattr(lens_view.st, "session_state", state)
    for part, report, kept in (("layer", {"layer": 2}, (2, 24)), ("layer", {"layer": True}, (2, 24)),
                               ("layer", {"layer": "3"}, (2, 24)), ("layer", {"patch": 7}, (2, 24)),
                               ("similarity", {"patch": 7}, (2, 7)), ("similarity", {"patch": -1}, (2, 7)),
                               ("similarity", "patch=3", (2, 7)), ("similarity", {"layer": 5}, (2, 7))):
        state[lens_view.key(part)] = {"view": report}
        lens_view.on_view(part)
        assert (state["lens_layer"], state["lens_patch"]) == kept, (part, report)


def test_a_patch_picked_in_the_select_box(record):
    at = tokens_page()
    at.selectbox(key="lens_patch").set_value(3).run()
    assert not problems(at) and address_bar(at)["query"] == "3"
    sim = view(at, "similarity")  # that patch's row at every layer: the browser writes its sentence from it
    assert sim["patch"] == 3
    np.testing.assert_array_equal(array(sim, "sim", np.float32, 7), record.similarity.cosine[:, 4, 1:])  # token 4


def test_a_link_opens_its_layer_and_patch_and_keeps_them_in_range():
    at = AppTest.from_file(MAIN, default_timeout=300)
    at.query_params["layer"], at.query_params["query"] = "2", "99"
    at = open_page(at.run(), PAGE)
    assert not problems(at) and not at.error
    assert opens_on(at) == 2 and address_bar(at)["layer"] == "2"
    assert at.selectbox(key="lens_patch").value == 48  # patch 99 of a 49-patch model: the last one


# ---- Korean ----------------------------------------------------------------------------------------------------------
def test_korean():
    at = tokens_page("ko")
    assert at.title[0].value.startswith("8단계 · 토큰의 속")
    assert {name for name, _colour in view(at, "votes")["legend"]} - {None} <= FASHION_KO
    assert set(view(at, "votes")["names"]) <= FASHION_KO
    said = texts(at)
    assert "중앙값 패치의" in said
    assert not re.search(r"\b(?:layer|patch|patches|vote|votes)\b", said)
    text = view(at, "layer")["text"]  # the templates the browser fills in, in Korean
    assert text["tokens.layer_caption"].startswith("0층: 첫 블록 전의 임베딩") and text["labels.place"] == "{r}행 {c}열"


# ---- other models ----------------------------------------------------------------------------------------------------
def test_a_model_without_a_head_says_so_and_offers_no_logit_lens(headless_model):
    at = tokens_page(model_id=headless_model)
    assert any("no classification head" in i.value for i in at.info)
    assert not view_exists(at, "votes") and not at.dataframe
    view(at, "similarity"), view(at, "norms"), chart(at, "lens_norms")  # the other two lenses are there
    at.session_state["lang"] = "ko"
    at.run()
    assert not problems(at) and any("분류 헤드가 없어서" in i.value for i in at.info)


def test_a_224_16_model_with_1000_classes_stays_within_the_budget(big_model):
    at = tokens_page(model_id=big_model)
    assert opens_on(at) == 3 and len(legend(at)) <= 10
    assert sent_bytes(at._tree) < BUDGET
    assert array(view(at, "similarity"), "sim", np.float32, 4).shape == (4, 196)  # a row a layer, not 197 × 197
    assert array(view(at, "votes"), "votes", np.uint16, 4).shape == (4, 197)
    at.session_state["lens_layer"] = 1
    at.run()
    assert not problems(at) and sent_bytes(at._tree) < BUDGET and opens_on(at) == 1
