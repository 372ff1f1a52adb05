"""Step 3 (embedding) from the entry point: teaching model, a 224/16 random model, a headless one, Korean."""
from __future__ import annotations


import pytest
from streamlit.testing.v1 import AppTest

from .apptest import BUDGET, MAIN, chart, open_page, problems, sent_bytes

PAGE = "steps/3_embedding.py"


def embedding_page(model_id: str | None = None, lang: str = "en") -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=300)  # generous: the class server may be busy training
    at.session_state["lang"] = "en"
    if model_id:  # a checkpoint folder, as a teacher picks it in the sidebar ("local", then the folder)
        at.session_state["model_choice"] = "local"
        at.session_state["model_folder"] = model_id.removeprefix("path:")
        at.session_state["model_id"] = model_id
    at = open_page(at.run(), PAGE)
    if lang != "en":
        in_language(at, lang).run()
    assert not problems(at), problems(at)
    assert not at.error, [e.value for e in at.error]
    return at


def in_language(at: AppTest, lang: str) -> AppTest:
    """Set the language for the next run. Done after the page is open, and again before every later run: AppTest
    evaluates the sidebar selectboxes' format_func outside the script (in English), which breaks switch_page when
    their labels are Korean, and it sends back the sidebar's stale "lang" widget value on every run."""
    at.session_state["lang"] = lang
    return at


def z_shapes(fig: dict) -> list[tuple[int, ...]]:
    return [tuple(int(s) for s in str(tr["z"]["shape"]).split(",")) for tr in fig["data"]]  # binary encoding


def markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def test_teaching_model():
    at = embedding_page()
    projection = chart(at, "embedding_projection")
    assert z_shapes(projection) == [(49, 48), (48, 64), (49, 64)]  # patches · E = patch_embeddings, all of them
    assert projection["data"][0]["y"][12] == "patch 12 · row 1, col 5"
    assert projection["data"][1]["y"][1] == "value 1 · row 0, col 0, G"
    broadcast = chart(at, "embedding_broadcast")
    assert z_shapes(broadcast) == [(50, 22)] * 3  # every 3rd of 64 dimensions: three small heatmaps
    assert broadcast["data"][0]["y"][:2] == ["token 0 = cls", "token 1 = patch 0 · row 0, col 0"]
    assert broadcast["data"][2]["x"][1] == "dim 3"
    assert len(broadcast["layout"]["shapes"]) == 3  # the cls row framed in each
    assert "thinned" in captions(at)  # and the page says so
    assert "`(1, 50, 64)`" in markdown(at) and "`(64, 48)`" in markdown(at) and "`(7, 7, 7, 7)`" in markdown(at)
    assert "model.cls_token: ✓" in captions(at)
    assert len(at.get("download_button")) >= 2
    assert sent_bytes(at._tree) < BUDGET

    tile = chart(at, "embedding_tile")
    assert z_shapes(tile) == [(7, 7)]
    assert tile["layout"]["title"]["text"].startswith("Patch 24 (row 3, col 3)")
    at.slider(key="embedding_sim_patch").set_value(0).run()
    assert not problems(at)
    tile2 = chart(at, "embedding_tile")
    assert tile2["layout"]["title"]["text"].startswith("Patch 0 (row 0, col 0)")
    assert tile2["data"][0]["z"] != tile["data"][0]["z"]


def test_vit_b16_shape_is_thinned_and_light(big_model):
    at = embedding_page(big_model)
    assert z_shapes(chart(at, "embedding_projection")) == [(40, 48), (48, 48), (40, 48)]
    assert z_shapes(chart(at, "embedding_broadcast")) == [(40, 24)] * 3
    assert chart(at, "embedding_broadcast")["data"][1]["y"][-1] == "token 195 = patch 194 · row 13, col 12"
    assert "`(1, 197, 96)`" in markdown(at) and "`(14, 14, 14, 14)`" in markdown(at)
    assert sent_bytes(at._tree) < BUDGET
    at.slider(key="embedding_sim_patch").set_value(195).run()
    assert not problems(at)
    tile = chart(at, "embedding_tile")
    assert z_shapes(tile) == [(14, 14)]
    assert tile["layout"]["title"]["text"].startswith("Patch 195 (row 13, col 13)")


def test_headless_model(headless_model):
    at = embedding_page(headless_model)
    assert "model.cls_token: ✓" in captions(at)


def test_korean():
    at = embedding_page(lang="ko")
    assert at.title[0].value.startswith("3단계")
    assert chart(at, "embedding_broadcast")["data"][0]["y"][0] == "토큰 0 = cls"
    in_language(at, "ko").slider(key="embedding_sim_patch").set_value(8).run()
    assert not problems(at)
    assert chart(at, "embedding_tile")["layout"]["title"]["text"].startswith("패치 8 (1행 1열)")
