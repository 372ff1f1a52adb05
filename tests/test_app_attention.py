"""Step 5, the attention explorer, through AppTest from the entry point — and its pure helpers directly."""
import importlib.util
import json

from streamlit.testing.v1 import AppTest

from app import budget
from vit_core import views

from .apptest import open_step, problems
from .conftest import ROOT

PAGE = "steps/5_attention.py"


def load_page_module():
    """The page's helpers without running the page (its body runs only as __main__, as Streamlit runs it)."""
    spec = importlib.util.spec_from_file_location("attention_page", ROOT / "app" / PAGE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


page = load_page_module()


def use_model(at: AppTest, model_id: str) -> AppTest:
    """Point the session at a checkpoint folder: through the sidebar's model picker (a local folder) when the app
    has one, and through session_state["model_id"] for an entry point without it."""
    at.session_state["model_id"] = model_id
    at.session_state["model_choice"] = "local"
    at.session_state["model_folder"] = model_id.removeprefix("path:")
    return at


def attention_page(lang="en", model_id=None):
    return open_step(PAGE, model_id, lang)


def matrix_spec(at) -> str:
    """The attention matrix chart is the first Plotly chart of the page."""
    return at.get("plotly_chart")[0].proto.spec


def position(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("**Layer") or c.value.startswith("**"))


# ---- rendering ------------------------------------------------------------------------------------------------------
def test_renders_on_the_teaching_model():
    at = attention_page()
    assert at.title and "Attention" in at.title[0].value
    assert at.slider(key="att_layer").max == 6 and at.slider(key="att_head").max == 4  # shipped config: 6 × 4
    assert len(at.get("plotly_chart")) == 3  # matrix, clickable query map, distances
    spec = json.loads(matrix_spec(at))
    assert spec["data"][0]["z"]["shape"] == "50, 50"  # the teaching model's matrix is sent whole
    assert spec["data"][0]["y"][0] == "cls" and spec["data"][0]["x"][1] == "patch 0 (0, 0)"
    assert "query %{y} → key %{x}" in spec["data"][0]["hovertemplate"]
    assert any("vit_core.analysis.attention_rollout" == c.value for c in at.caption)


def test_the_explorer_charts_are_sent_complete_and_without_plotlys_template():
    """Each chart is built in one constructor call: the matrix keeps its axis titles and ticks, its query-row
    outline, and no chart carries Plotly's default template (its layout block is about 6 KB)."""
    at = attention_page()
    specs = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    for spec in specs:
        assert "layout" not in spec["layout"].get("template", {})
    matrix = specs[0]["layout"]
    assert matrix["xaxis"]["title"]["text"].startswith("key") and matrix["yaxis"]["title"]["text"].startswith("query")
    assert matrix["yaxis"]["autorange"] == "reversed" and matrix["yaxis"]["scaleanchor"] == "x"
    assert matrix["xaxis"]["ticktext"][0] == "cls" and matrix["xaxis"]["tickvals"][0] == "cls"
    query_row = 1 + at.number_input(key="att_query").value
    (outline,) = matrix["shapes"]
    assert (outline["y0"], outline["y1"]) == (query_row - 0.5, query_row + 0.5)


def test_renders_on_a_224_16_model_with_a_pooled_matrix(big_model):
    at = attention_page(model_id=big_model)
    assert at.slider(key="att_layer").max == 3 and at.slider(key="att_head").max == 12
    spec = json.loads(matrix_spec(at))
    assert spec["data"][0]["z"]["shape"] == "99, 99"  # cls + 196 patches in runs of 2
    assert any("197×197" in c.value and "99×99" in c.value for c in at.caption)
    sent = sum(len(el.proto.spec) for el in at.get("plotly_chart"))
    assert sent < 150_000, sent
    at.radio(key="att_pool").set_value("amax").run()
    assert not problems(at)
    assert "largest weight" in json.loads(matrix_spec(at))["data"][0]["hovertemplate"]
    at.number_input(key="att_query").set_value(195).run()  # the last patch
    assert not problems(at)


def test_renders_on_a_headless_model(headless_model):
    at = attention_page(model_id=headless_model)
    assert at.slider(key="att_head").max == 12 and at.slider(key="att_layer").max == 3


def test_renders_in_korean():
    # Open the page in English, then switch: before each run AppTest formats every selectbox's value again, outside
    # the script, where a format_func that calls t() answers in English — the sidebar's model picker then fails
    # when the session starts in Korean (a problem of the picker's test setup, not of this page).
    at = attention_page()
    at.session_state["lang"] = "ko"
    at.run()
    assert not problems(at) and not at.error
    assert any("\uac00" <= ch <= "\ud7a3" for ch in at.title[0].value)
    at.session_state["lang"] = "ko"  # the sidebar's selectbox is not in AppTest's tree after switch_page: say it again
    at.button(key="att_next").click().run()  # stepping in Korean
    assert not problems(at) and "2번 헤드" in at.subheader[0].value
    assert "쿼리" in json.loads(matrix_spec(at))["data"][0]["hovertemplate"]


# ---- stepping -------------------------------------------------------------------------------------------------------
def test_sliders_change_the_matrix_shown():
    at = attention_page()
    first, caption = matrix_spec(at), position(at)
    at.slider(key="att_head").set_value(3).run()
    assert not problems(at)
    assert matrix_spec(at) != first and "head 3 of 4" in position(at)
    at.slider(key="att_layer").set_value(4).run()
    assert "Layer 4 of 6, head 3 of 4" in position(at) and position(at) != caption
    assert at.subheader[0].value == "Layer 4, head 3: the attention matrix"


def test_buttons_step_through_heads_then_layers():
    at = attention_page()
    assert at.button(key="att_prev").disabled  # stops at the first head
    before = matrix_spec(at)
    at.button(key="att_next").click().run()
    assert (at.slider(key="att_layer").value, at.slider(key="att_head").value) == (1, 2)
    assert matrix_spec(at) != before
    at.slider(key="att_head").set_value(4).run()
    at.button(key="att_next").click().run()  # last head of layer 1 → layer 2, head 1
    assert (at.slider(key="att_layer").value, at.slider(key="att_head").value) == (2, 1)
    at.button(key="att_prev").click().run()  # and back
    assert (at.slider(key="att_layer").value, at.slider(key="att_head").value) == (1, 4)
    at.slider(key="att_layer").set_value(6).run()
    at.slider(key="att_head").set_value(4).run()
    assert at.button(key="att_next").disabled  # stops at the last head


def test_query_input_changes_the_query_map():
    at = attention_page()
    before = at.get("plotly_chart")[1].proto.spec
    at.number_input(key="att_query").set_value(0).run()
    assert not problems(at) and at.get("plotly_chart")[1].proto.spec != before
    at.radio(key="att_grid_rows").set_value("query").run()
    assert not problems(at)


def test_play_toggle_runs_and_stopping_keeps_the_position():
    at = attention_page()
    at.toggle(key="att_play").set_value(True).run()  # AppTest runs the fragment once, not on its timer
    assert not problems(at)
    assert at.slider(key="att_layer").disabled and at.button(key="att_next").disabled
    playing_at = (at.slider(key="att_layer").value, at.slider(key="att_head").value)
    assert playing_at == (1, 2)  # each run of the explorer while playing is one step
    at.toggle(key="att_play").set_value(False).run()
    assert not problems(at)
    assert (at.slider(key="att_layer").value, at.slider(key="att_head").value) == playing_at
    assert not at.slider(key="att_layer").disabled


def test_position_survives_a_model_change_by_clamping(big_model):
    at = attention_page()
    at.slider(key="att_layer").set_value(6).run()
    use_model(at, big_model).run()
    assert not problems(at)
    assert at.slider(key="att_layer").value == 3  # clamped to the new model's 3 layers


# ---- the pure helpers -----------------------------------------------------------------------------------------------
def test_step_moves_through_heads_then_layers_and_stops_or_wraps():
    assert page.step(1, 1, 6, 4, +1) == (1, 2)
    assert page.step(1, 4, 6, 4, +1) == (2, 1)
    assert page.step(2, 1, 6, 4, -1) == (1, 4)
    assert page.step(1, 1, 6, 4, -1) == (1, 1)  # buttons stop at the ends
    assert page.step(6, 4, 6, 4, +1) == (6, 4)
    assert page.step(6, 4, 6, 4, +1, wrap=True) == (1, 1)  # play goes round
    assert page.step(12, 12, 12, 12, +1, wrap=True) == (1, 1)
    pos, seen = (1, 1), set()
    for _ in range(6 * 4):
        seen.add(pos)
        pos = page.step(*pos, 6, 4, +1, wrap=True)
    assert len(seen) == 24 and pos == (1, 1)  # play visits every head once per round


def test_pool_block_keeps_the_matrix_small():
    side = budget.ATTENTION_SIDE
    assert views.pool_block(49, side) == 1  # 50 × 50: sent whole
    assert views.pool_block(196, side) == 2  # 99 × 99
    assert views.pool_block(576, side) == 6  # a 384/16 model
    for n in (49, 196, 576, 1024):
        assert 1 + -(-n // views.pool_block(n, side)) <= side


def test_query_from_selection_reads_a_click():
    state = {"selection": {"points": [{"x": 5, "y": 1, "curve_number": 1, "point_index": 12}]}}
    assert page.query_from_selection(state, 7) == 12
    assert page.query_from_selection({"selection": {"points": []}}, 7) is None
    assert page.query_from_selection(None, 7) is None
    assert page.query_from_selection({"selection": {"points": [{"x": 9, "y": 0}]}}, 7) is None
