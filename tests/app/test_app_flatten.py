"""Step 2 (flatten) from the entry point: teaching model, a 224/16 random model, a headless one, Korean."""
from __future__ import annotations


from streamlit.testing.v1 import AppTest

from app import budget

from app.steps import step

from tests.app.apptest import BUDGET, chart, open_step, problems, sent_bytes

PAGE = step("flatten").file


def flatten_page(model_id: str | None = None, lang: str = "en") -> AppTest:
    return open_step(PAGE, model_id, lang)


def z_shape(trace: dict) -> tuple[int, ...]:
    return tuple(int(s) for s in str(trace["z"]["shape"]).split(","))  # Plotly's binary encoding


TABLES = ["flatten_first_loop", "flatten_first_einops", "flatten_first_conv", "flatten_perm_table"]  # page order


def table(at: AppTest, key: str):
    """A table by its widget key (a dataframe's key is not in its message, so by its place on the page)."""
    assert len(at.dataframe) == len(TABLES)
    return at.dataframe[TABLES.index(key)].value


def metric(at: AppTest, start_of_label: str) -> float:
    return float(next(m.value for m in at.metric if m.label.startswith(start_of_label)))


def test_teaching_model_whole_matrix_three_methods_and_permutation():
    at = flatten_page()
    matrix = chart(at, "flatten_matrix")["data"][0]
    assert z_shape(matrix) == (49, 48)  # the whole matrix: no window
    assert not [s for s in at.slider if s.key in ("flatten_row0", "flatten_col0")]
    assert matrix["y"][12] == "patch 12 (row 1, col 5)"
    assert matrix["x"][:4] == ["value 0 (row 0, col 0, R)", "value 1 (row 0, col 0, G)",
                               "value 2 (row 0, col 0, B)", "value 3 (row 0, col 1, R)"]
    assert sent_bytes(at._tree) < BUDGET

    # the three methods agree after the permutation and differ before it
    assert metric(at, "loop vs einops, after") == 0
    assert metric(at, "conv vs einops, after") < 1e-6
    assert metric(at, "loop vs conv") < 1e-6
    assert metric(at, "loop vs einops, NOT") > 0.1
    einops, loop, conv = (table(at, f"flatten_first_{m}") for m in ("einops", "loop", "conv"))
    meaning = "pixel (row, col) and channel"
    assert list(einops[meaning][:4]) == ["row 0, col 0, R", "row 0, col 0, G", "row 0, col 0, B", "row 0, col 1, R"]
    assert list(loop[meaning][:4]) == ["row 0, col 0, R", "row 0, col 1, R", "row 0, col 2, R", "row 0, col 3, R"]
    assert list(loop["value"]) == list(conv["value"])
    assert einops["value"][0] == loop["value"][0]  # (0, 0, R) is first in both orders
    perm = table(at, "flatten_perm_table")
    assert list(perm["cpp_to_ppc[position]"][:6]) == [0, 16, 32, 1, 17, 33]

    # another patch: the vector, the tables and the caption follow
    vector = chart(at, "flatten_vector")["data"][0]
    assert z_shape(vector) == (1, 48) and vector["y"] == ["patch 24 (row 3, col 3)"]
    at.slider(key="flatten_patch").set_value(3).run()
    assert not problems(at)
    assert chart(at, "flatten_vector")["data"][0]["y"] == ["patch 3 (row 0, col 3)"]
    assert chart(at, "flatten_vector")["data"][0]["z"] != vector["z"]
    assert any(c.value.startswith("Row 3 of the matrix") for c in at.caption)
    assert list(table(at, "flatten_first_loop")["value"]) != list(loop["value"])


def test_vit_b16_shape_shows_a_window_and_stays_light(big_model):
    at = flatten_page(big_model)
    matrix = chart(at, "flatten_matrix")["data"][0]
    assert z_shape(matrix) == (24, 192)  # a window of the 196 × 768 matrix, said so in the page
    assert any("196 × 768 = 150,528" in i.value for i in at.info)
    assert z_shape(chart(at, "flatten_vector")["data"][0]) == (1, 768)
    assert sent_bytes(at._tree) < BUDGET
    assert metric(at, "loop vs einops, after") == 0 and metric(at, "loop vs einops, NOT") > 0.1

    at.slider(key="flatten_row0").set_value(196 - 24).run()
    at.slider(key="flatten_col0").set_value(768 - 192).run()
    assert not problems(at)
    matrix = chart(at, "flatten_matrix")["data"][0]
    assert matrix["y"][-1] == "patch 195 (row 13, col 13)"
    assert matrix["x"][-1] == "value 767 (row 15, col 15, B)"
    assert matrix["x"][0] == "value 576 (row 12, col 0, R)"
    assert any("patches 172–195" in c.value for c in at.caption)
    at.slider(key="flatten_patch").set_value(195).run()
    assert not problems(at)
    assert list(table(at, "flatten_perm_table")["cpp_to_ppc[position]"][:4]) == [0, 256, 512, 1]


def test_patch_window_keeps_a_matrix_inside_the_budget():
    assert budget.patch_window(49, 48) == (49, 48)  # the teaching model's 2,352 numbers: all of them
    assert budget.patch_window(128, 64) == (128, 64)  # 8,192: still whole
    assert budget.patch_window(129, 64) == (72, 64)  # one row more: 4,608 cells of 64 columns
    assert budget.patch_window(196, 768) == (24, 192)  # ViT-B/16: 192 values (4 pixel rows) × 24 patches
    assert budget.patch_window(5, 2000) == (5, 192)  # few rows: all of them


def test_headless_model(headless_model):
    at = flatten_page(headless_model)
    assert metric(at, "loop vs einops, after") == 0


def test_korean():
    at = flatten_page(lang="ko")
    assert at.title[0].value.startswith("2단계")
    assert chart(at, "flatten_matrix")["data"][0]["y"][12] == "패치 12 (1행 5열)"
    assert list(table(at, "flatten_first_einops")["픽셀 (행, 열)과 채널"][:2]) == ["0행 0열, R", "0행 0열, G"]
    at.slider(key="flatten_patch").set_value(0).run()
    assert not problems(at)
    assert chart(at, "flatten_vector")["data"][0]["y"] == ["패치 0 (0행 0열)"]
