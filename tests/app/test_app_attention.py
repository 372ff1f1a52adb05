"""Step 5, the attention explorer, through AppTest from the entry point — and its pure helpers directly."""
import json
from urllib.parse import parse_qsl

from streamlit.testing.v1 import AppTest

import base64

import numpy as np

from app import budget, core
from app.components import explorer
from app.i18n import catalog
from app.steps import attention as page
from app.steps import step
from vit_core import views

from tests.app.apptest import MAIN, open_page, open_step, problems
from tests.conftest import ROOT

PAGE = step("attention").file


def use_model(at: AppTest, model_id: str) -> AppTest:
    """Point the session at a checkpoint folder: through the sidebar's model picker (a local folder) when the app
    has one, and through session_state["model_id"] for an entry point without it."""
    at.session_state["model_id"] = model_id
    at.session_state["model_choice"] = "local"
    at.session_state["model_folder"] = model_id.removeprefix("path:")
    return at


def attention_page(lang="en", model_id=None):
    return open_step(PAGE, model_id, lang)


def explorer_data(at) -> dict:
    """What the page sends the browser's explorer (app/components/explorer): the component's data."""
    (el,) = [el for el in at.get("bidi_component") if el.proto.id.endswith(explorer.KEY)]
    return json.loads(el.proto.mixed.json or el.proto.json)


def shown(at) -> tuple[int, int, int]:
    """(layer, head, query patch) the explorer opens on."""
    state = explorer_data(at)["state"]
    return state["layer"], state["head"], state["query"]


def report(at, **view) -> AppTest:
    """What the explorer's debounced report does on the server (explorer.on_view), then a run."""
    for name, value in view.items():
        at.session_state[{"rows": "att_grid_rows"}.get(name, f"att_{name}")] = value
    return at.run()


def weights(block: dict, name: str, scale: str, shape) -> np.ndarray:
    """A quantised array of the explorer's data as floats again, as the explorer reads it (data.js, dequantised)."""
    q = np.frombuffer(base64.b64decode(block[name]), dtype=np.uint8).reshape(shape)
    return views.dequantised(q, np.frombuffer(base64.b64decode(block[scale]), dtype=np.float32).reshape(shape[:-1]))


def open_link(lang: str = "en", **params: str) -> AppTest:
    """The app as a shared link opens it: `params` in the address bar, read into the session on its first run
    (app/links.py), then the attention page. Korean is switched on after the first run (see test_renders_in_korean)."""
    at = AppTest.from_file(MAIN, default_timeout=300)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not problems(at), problems(at)
    at.session_state["lang"] = lang
    return open_page(at, PAGE)


def address_bar(at) -> dict[str, str]:
    """What the explorer's own writer puts in the address bar (history.replaceState, app/links.py) on this run."""
    (writer,) = [el for el in at.get("bidi_component") if el.proto.id.endswith("url_state_attention")]
    return dict(parse_qsl(json.loads(writer.proto.json)["query"]))


def warnings(at) -> list[str]:
    return [w.value for w in at.warning]


# ---- rendering ------------------------------------------------------------------------------------------------------
def test_renders_on_the_teaching_model_and_sends_its_whole_trace_in_8_bits():
    at = attention_page()
    assert at.title and "Attention" in at.title[0].value
    d = explorer_data(at)
    assert (d["L"], d["H"], d["T"], d["g"], d["block"]) == (6, 4, 50, 7, 1) and d["complete"]
    assert sorted(d["layers"]) == [str(i) for i in range(6)]  # every layer at once: no round trip for a step
    a = core.analyse((ROOT / "assets" / "images" / "fubao_28.png").read_bytes(), core.TEACHING_ID)
    for li, block in d["layers"].items():
        exact = a.trace.attentions[int(li), 0]  # (H, T, T)
        got = weights(block, "att", "scale", exact.shape)
        assert np.abs(got - exact).max() <= exact.max(-1, keepdims=True).max() / 510 + 1e-7
        roll = weights(block, "roll", "rscale", a.rollout[int(li)].shape)
        assert np.abs(roll - a.rollout[int(li)]).max() <= a.rollout[int(li)].max() / 510 + 1e-6
    sent = sum(len(b["att"]) for b in d["layers"].values())
    assert 60_000 <= sent * 3 / 4 <= 61_000  # 6 × 4 × 50 × 50 bytes, as base64
    assert d["state"] == {"layer": 1, "head": 1, "query": 24, "rows": "cls", "pool": "mean", "speed": 1.0}
    assert np.allclose(d["dist"], a.distances.reshape(-1), atol=1e-3)
    assert d["matrix_labels"][:2] == ["cls", "patch 0 (row 0, col 0)"] and len(d["matrix_labels"]) == 50
    assert d["text"]["attention.next"] == "Next head ▶" and d["text"]["attention.prev_layer"] == "▲ Previous layer"
    assert d["view"].startswith("data:image/png;base64,")
    assert any("vit_core.analysis.attention_rollout" == c.value for c in at.caption)
    assert [b.label for b in at.get("download_button") if "GIF" in b.proto.label]


def test_every_text_the_explorer_fills_in_is_in_both_catalogs():
    assert len(explorer.TEXT_KEYS) > 60
    for lang in ("en", "ko"):
        missing = [k for k in explorer.TEXT_KEYS if k not in catalog(lang)]
        assert not missing, (lang, missing)


def test_a_big_model_is_sent_a_layer_at_a_time_with_the_rows_of_every_layer(big_model):
    at = attention_page(model_id=big_model)
    assert not problems(at)
    d = explorer_data(at)
    assert (d["L"], d["H"], d["T"], d["block"], d["complete"]) == (3, 12, 197, 2, False)
    assert sorted(d["layers"]) == ["0"]  # layer 1, head 1: ◀ has nowhere to go, ▶ stays in the layer
    assert len(base64.b64decode(d["rows"]["cls"]["q"])) == 3 * 12 * 197 and d["rows"]["query"]["k"] == 105
    report(at, layer=2, head=10)  # heading for layer 3
    assert sorted(explorer_data(at)["layers"]) == ["1", "2"]
    report(at, layer=2, head=2, query=195)  # heading back to layer 1; the last patch
    d = explorer_data(at)
    assert sorted(d["layers"]) == ["0", "1"] and d["rows"]["query"]["k"] == 195
    assert not problems(at)


def test_renders_on_a_headless_model(headless_model):
    at = attention_page(model_id=headless_model)
    assert not problems(at)
    assert (explorer_data(at)["L"], explorer_data(at)["H"]) == (3, 12)


def test_renders_in_korean():
    # Open the page in English, then switch: before each run AppTest formats every selectbox's value again, outside
    # the script, where a format_func that calls t() answers in English — the sidebar's model picker then fails
    # when the session starts in Korean (a problem of the picker's test setup, not of this page).
    at = attention_page()
    at.session_state["lang"] = "ko"
    at.run()
    assert not problems(at) and not at.error
    assert any("\uac00" <= ch <= "\ud7a3" for ch in at.title[0].value)
    d = explorer_data(at)
    assert d["text"]["attention.next"] == "다음 헤드 ▶" and d["text"]["attention.tip_matrix"].startswith("쿼리")
    assert d["matrix_labels"][1] == "패치 0 (0행 0열)" and d["base"].endswith(":ko")


# ---- the view: from the explorer's reports ---------------------------------------------------------------------------
def test_a_report_keeps_only_values_it_can_use(monkeypatch):
    state = {explorer.KEY: {"view": {"layer": 3, "head": True, "query": "7", "rows": "query", "pool": "max",
                                     "speed": 2.0}}}
    monkeypatch.setattr(explorer.st, "session_state", state)
    explorer.on_view()
    assert state["att_layer"] == 3 and state["att_grid_rows"] == "query" and state["att_speed"] == 2.0
    assert "att_head" not in state and "att_query" not in state and "att_pool" not in state
    state[explorer.KEY] = {"view": "layer=1"}
    explorer.on_view()  # not a dict: nothing to keep
    assert state["att_layer"] == 3


def test_a_report_out_of_range_is_brought_back():
    at = attention_page()
    report(at, layer=60, head=9, query=4000)
    assert not problems(at)
    assert shown(at) == (6, 4, 48)


def test_the_view_survives_a_model_change_by_clamping(big_model):
    at = attention_page()
    report(at, layer=6)
    use_model(at, big_model).run()
    assert not problems(at)
    assert shown(at)[0] == 3  # clamped to the new model's 3 layers
    assert warnings(at) == ["This model has 3 layers, so the explorer moved from layer 6 to layer 3."]


def test_the_window_of_layers_follows_the_way_the_learner_is_heading():
    class Cfg:
        num_hidden_layers, num_attention_heads = 12, 12

    assert explorer.window(1, 1, Cfg) == [0]
    assert explorer.window(1, 12, Cfg) == [0, 1]
    assert explorer.window(5, 3, Cfg) == [3, 4]
    assert explorer.window(12, 12, Cfg) == [11]


def test_quantised_rows_keep_8_bits_of_each_row():
    rng = np.random.default_rng(0)
    w = rng.dirichlet(np.ones(50), size=(4, 50)).astype(np.float32)  # (4, 50, 50), rows sum to 1
    q, top = views.quantised(w)
    assert q.dtype == np.uint8 and q.shape == w.shape and top.shape == (4, 50)
    assert (q.max(-1) == 255).all() and np.allclose(top, w.max(-1))
    assert np.abs(q * top[..., None] / 255 - w).max() <= top.max() / 510 + 1e-7
    zero_q, zero_top = views.quantised(np.zeros((2, 5)))
    assert not zero_q.any() and not zero_top.any()  # a row of zeros stays zeros, no division by zero


# ---- the address bar: a link opens a view, every step is written back ------------------------------------------------
def test_a_link_opens_exactly_that_view_and_each_report_is_written_to_the_address_bar():
    at = open_link(layer="3", head="2", query="17")
    assert not problems(at) and not warnings(at)
    assert shown(at) == (3, 2, 17)
    assert address_bar(at) == {"lang": "en", "image": "fubao_28", "model": "teaching", "layer": "3", "head": "2",
                               "query": "17"}
    report(at, layer=4, head=1, query=5)
    assert {k: address_bar(at)[k] for k in ("layer", "head", "query")} == {"layer": "4", "head": "1", "query": "5"}


def test_a_links_values_beyond_the_model_are_brought_back_and_the_page_says_so():
    at = open_link(layer="99", head="0", query="5000")
    assert not problems(at)
    assert shown(at) == (6, 1, 48)
    assert warnings(at) == [
        "This link asked for layer 99, but this model has 6 layers (1–6): showing layer 6.",
        "This link asked for head 0, but each layer of this model has 4 heads (1–4): showing head 1.",
        "This link asked for query patch 5000, but this model's patches are numbered 0–48: showing patch 48."]
    assert {k: address_bar(at)[k] for k in ("layer", "head", "query")} == {"layer": "6", "head": "1", "query": "48"}
    report(at, layer=5, head=4)  # said once: the next report shows the view alone
    assert not warnings(at) and shown(at) == (5, 4, 48)


def test_a_links_values_beyond_the_model_are_explained_in_korean():
    at = open_link("ko", layer="7", head="5", query="49")
    assert not problems(at) and shown(at) == (6, 4, 48)
    assert warnings(at) == ["이 링크는 7층을 보여 달라고 했지만, 이 모델의 층은 1–6층뿐이라 6층을 보여 줍니다.",
                            "이 링크는 5번 헤드를 보여 달라고 했지만, 이 모델의 각 층에는 헤드가 1–4번뿐이라 4번 헤드를 보여 줍니다.",
                            "이 링크는 쿼리 패치 49번을 보여 달라고 했지만, 이 모델의 패치 번호는 0–48번이라 패치 48번을 보여 줍니다."]


def test_a_link_with_numbers_the_app_cannot_read_opens_the_page_and_says_what_it_left_out():
    """"²" passes str.isdigit but not int(), and int() refuses more than 4300 digits: neither may reach a traceback."""
    at = AppTest.from_file(MAIN, default_timeout=300)
    at.query_params["layer"], at.query_params["head"], at.query_params["query"] = "²", "9" * 5000, "-3"
    at.run()
    assert not problems(at)
    (note,) = [w.value for w in at.sidebar.warning]
    assert "layer=²" in note and "query=-3" in note and "head=999" in note
    at = open_page(at, PAGE)
    assert not problems(at) and not warnings(at)
    assert shown(at) == (1, 1, 24)  # the explorer's own start: layer 1, head 1, the middle patch


def test_pool_block_keeps_the_matrix_small():
    side = budget.ATTENTION_SIDE
    assert views.pool_block(49, side) == 1  # 50 × 50: drawn whole
    assert views.pool_block(196, side) == 2  # 99 × 99
    assert views.pool_block(576, side) == 6  # a 384/16 model
    for n in (49, 196, 576, 1024):
        assert 1 + -(-n // views.pool_block(n, side)) <= side


def test_play_downloads_as_a_gif_of_every_head_labelled_in_the_pages_language():
    import io

    from PIL import Image

    from app import core

    at = attention_page()
    assert not problems(at)
    assert len(at.get("download_button")) >= 1  # Play as a GIF (made only when clicked)
    picture = (ROOT / "assets" / "images" / "fubao_28.png").read_bytes()
    labels = page.frame_labels("ko", 6, 4, None)  # what the page's download labels a Korean GIF with
    assert len(labels) == 24 and labels[5] == "2/6층, 2/4번 헤드: cls 토큰의 어텐션"  # play order: layer 2, head 2
    assert page.frame_labels("ko", 6, 4, 17)[-1] == "6/6층, 4/4번 헤드: 패치 17의 어텐션"
    assert page.frame_labels("en", 6, 4, None)[5] == "Layer 2/6, head 2/4: the cls token's attention"
    gif = Image.open(io.BytesIO(page.play_gif(picture, core.TEACHING_ID, None, labels, 500)))
    assert gif.n_frames == 24 and gif.size[0] == page.GIF_SIDE and gif.info["duration"] == 500
