"""Step 5, the attention explorer, through AppTest from the entry point — and its pure helpers directly."""
import importlib.util
import json
from urllib.parse import parse_qsl

from streamlit.testing.v1 import AppTest

from app import budget
from vit_core import views

from .apptest import MAIN, open_page, open_step, problems
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


def shown(at) -> tuple[int, int, int]:
    """(layer, head, query patch) as the explorer's widgets show them."""
    return (at.slider(key="att_layer").value, at.slider(key="att_head").value, at.number_input(key="att_query").value)


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


def image_captions(at) -> list[str]:
    return [img.caption for el in at.get("image") for img in el.proto.imgs]


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
    assert warnings(at) == ["This model has 3 layers, so the explorer moved from layer 6 to layer 3."]


# ---- the address bar: a link opens a view, every step is written back ------------------------------------------------
def test_a_link_opens_exactly_that_view_and_each_step_is_written_to_the_address_bar():
    at = open_link(layer="3", head="2", query="17")
    assert not problems(at) and not warnings(at)
    assert shown(at) == (3, 2, 17)
    assert at.subheader[0].value == "Layer 3, head 2: the attention matrix"
    assert address_bar(at) == {"lang": "en", "image": "fubao_28", "model": "teaching", "layer": "3", "head": "2",
                               "query": "17"}
    at.button(key="att_next").click().run()  # the fragment writes the address bar itself
    assert (address_bar(at)["layer"], address_bar(at)["head"]) == ("3", "3")
    at.slider(key="att_head").set_value(4).run()
    at.button(key="att_next").click().run()
    assert (address_bar(at)["layer"], address_bar(at)["head"]) == ("4", "1")
    at.number_input(key="att_query").set_value(5).run()
    assert address_bar(at)["query"] == "5"


def test_a_links_values_beyond_the_model_are_brought_back_and_the_page_says_so():
    at = open_link(layer="99", head="0", query="5000")
    assert not problems(at)
    assert shown(at) == (6, 1, 48)
    assert warnings(at) == [
        "This link asked for layer 99, but this model has 6 layers (1–6): showing layer 6.",
        "This link asked for head 0, but each layer of this model has 4 heads (1–4): showing head 1.",
        "This link asked for query patch 5000, but this model's patches are numbered 0–48: showing patch 48."]
    assert {k: address_bar(at)[k] for k in ("layer", "head", "query")} == {"layer": "6", "head": "1", "query": "48"}
    at.button(key="att_prev").click().run()  # said once: the next step shows the view alone
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


def test_a_typed_patch_number_out_of_range_is_brought_back_in_the_pages_own_words():
    """Streamlit's number input answers a value beyond max_value with its own English message: the page accepts any
    whole number and says in its own language where it went."""
    at = attention_page()
    at.number_input(key="att_query").set_value(5000).run()
    assert not problems(at) and at.number_input(key="att_query").value == 48
    assert warnings(at) == ["There is no patch 5000: this model's patches are numbered 0–48. Showing patch 48."]
    at.number_input(key="att_query").set_value(-3).run()
    assert at.number_input(key="att_query").value == 0 and "There is no patch -3" in warnings(at)[0]
    at.session_state["lang"] = "ko"
    at.number_input(key="att_query").set_value(49).run()
    assert at.number_input(key="att_query").value == 48
    assert warnings(at) == ["패치 49번은 없습니다. 이 모델의 패치 번호는 0–48번이라 패치 48번을 보여 줍니다."]
    at.number_input(key="att_query").set_value(7).run()
    assert not warnings(at)


# ---- captions --------------------------------------------------------------------------------------------------------
def test_the_rollout_caption_says_what_layer_1_is_and_which_layers_are_multiplied():
    at = attention_page()
    (layer_1,) = [c for c in image_captions(at) if c.startswith("Abnar")]
    assert "After layer 1 that is all there is" in layer_1 and "1 … 1" not in layer_1 and "1 to 1" not in layer_1
    at.slider(key="att_layer").set_value(4).run()
    (layer_4,) = [c for c in image_captions(at) if c.startswith("Abnar")]
    assert "multiply these matrices of layers 1 to 4 together" in layer_4
    at.session_state["lang"] = "ko"
    at.slider(key="att_layer").set_value(1).run()
    (first_ko,) = [c for c in image_captions(at) if c.startswith("Abnar")]
    assert "1층에서는 이것이 전부" in first_ko and "1 … 1" not in first_ko and "1층부터 1층" not in first_ko


def test_hints_name_the_mouse_and_the_touch_screen():
    """Both wordings are sent; the page's CSS (style.PAGE_CSS) shows the one for the reader's pointer."""
    at = attention_page()
    hints = " ".join(c.value for c in at.caption)
    assert '<span class="hint-hover">Hover over a cell to read it.</span>' in hints
    assert '<span class="hint-tap">Tap a cell to read it.</span>' in hints
    assert '<span class="hint-tap">Tap a square to make it the query' in hints
    assert "hover" not in hints.replace("hint-hover", "").replace("Hover over", "").lower()


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


def test_play_downloads_as_a_gif_of_every_head_labelled_in_the_pages_language():
    import io

    from PIL import Image

    from app import core

    at = attention_page()
    assert not problems(at)
    assert len(at.get("download_button")) >= 2  # the grid as a PNG, and Play as a GIF (made only when clicked)
    picture = (ROOT / "assets" / "images" / "fubao_28.png").read_bytes()
    labels = tuple(f"{i + 1}/6층, {j + 1}/4번 헤드: cls 토큰의 어텐션" for i in range(6) for j in range(4))
    gif = Image.open(io.BytesIO(page.play_gif(picture, core.TEACHING_ID, None, labels, 500)))
    assert gif.n_frames == 24 and gif.size[0] == page.GIF_SIDE and gif.info["duration"] == 500
