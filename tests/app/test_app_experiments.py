"""Step 6, experiments (AppTest): every change runs the model again and is shown beside the unchanged run; the
permutation test, the head-importance table and the training snapshots; a ViT-B/16-shaped model within the budget;
values a model does not have are dropped, not crashed on."""
from __future__ import annotations


import pytest

from app.steps import step

from tests.app.apptest import BUDGET, open_step, problems, sent_bytes

PAGE = step("experiments").file


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_unchanged_page(lang):
    at = open_step(PAGE, lang=lang)
    assert not problems(at) and not at.error
    assert at.info[0].value.startswith("Nothing is changed yet" if lang == "en" else "아직 바꾼 것이 없어서")
    assert len(at.success) == 1  # the permutation test: exact without position embeddings
    assert float(at.metric[2].value) == 0.0  # the largest logit change of an unchanged run
    assert sent_bytes(at._tree) < BUDGET


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_mean_fill_says_its_colour(lang):
    """ "the mean colour (0)" read as black (issue 28 §6): the fill names the colour 0 stands for, and its help says
    why, in the page's language."""
    from app.i18n import catalog

    at = open_step(PAGE, lang=lang)
    fill = at.radio(key="exp_fill")
    named = fill.format_func("mean")
    assert named == catalog(lang)["experiments.fill_mean"].format(rgb="128, 128, 128") and "RGB 128, 128, 128" in named
    assert "RGB 128, 128, 128" in fill.help and ("not black" if lang == "en" else "검은색이 아니라") in fill.help


def test_changes_run_the_model_again():
    at = open_step(PAGE, exp_mask=[16, 17, 23, 24], exp_heads=["1.2", "6.4"], exp_shuffle=True, exp_seed=5)
    assert not problems(at) and not any("Nothing is changed" in i.value for i in at.info)
    logit = float(at.metric[2].value)
    assert logit > 0.01
    at.toggle(key="exp_nopos").set_value(True).run()
    assert not problems(at) and float(at.metric[2].value) != logit
    assert "Without position embeddings, the shuffle changes the logits by at most" in at.success[0].value
    at.button(key="exp_reset").click().run()
    assert at.session_state["exp_mask"] == [] and not at.session_state["exp_nopos"]
    assert float(at.metric[2].value) == 0.0


def test_presets_fill_the_mask():
    at = open_step(PAGE)
    at.selectbox(key="exp_preset").set_value("border").run()
    assert len(at.session_state["exp_mask"]) == 24 and not problems(at)
    at.selectbox(key="exp_preset").set_value("none").run()
    assert at.session_state["exp_mask"] == []


def test_a_click_toggles_a_patch():
    """The grid's click handler, as st.plotly_chart's selection reaches it."""
    import streamlit as st

    from app.steps import experiments as page

    at = open_step(PAGE)
    st.session_state.clear()
    del at
    state = {"exp_mask": [3], "exp_grid": {"selection": {"points": [{"text": "10", "x": 1, "y": 2}]}}}
    st.session_state.update(state)
    page.on_click(7)
    assert st.session_state["exp_mask"] == [3, 10] and st.session_state["exp_preset"] == "own"
    page.on_click(7)  # the same patch again: unmasked
    assert st.session_state["exp_mask"] == [3]
    st.session_state["exp_grid"] = {"selection": {"points": [{"text": "99"}]}}
    page.on_click(7)  # not a patch of this model
    assert st.session_state["exp_mask"] == [3]


def test_the_heads_offered_are_what_parse_heads_reads():
    """The page offers heads as "layer.head" and reads the chosen ones with interventions.parse_heads."""
    from app.steps import experiments as page
    from vit_core.interventions import parse_heads

    assert parse_heads(",".join(page.head_names(6, 4)), 6, 4) == tuple((l, h) for l in range(6) for h in range(4))


def test_values_a_model_does_not_have_are_dropped():
    at = open_step(PAGE, exp_mask=[3, 60, "x"], exp_heads=["9.9", "2.2"], exp_seed=-4)
    assert not problems(at)
    assert at.session_state["exp_mask"] == [3] and at.session_state["exp_heads"] == ["2.2"]
    assert at.session_state["exp_seed"] == 0


def test_head_importance_and_training_for_the_teaching_model():
    at = open_step(PAGE)
    keys = [c.proto.id for c in at.get("plotly_chart")]
    assert any("exp_importance" in k for k in keys) and any("exp_accuracy" in k for k in keys)
    assert at.select_slider(key="exp_epoch").options == ["0", "1", "2", "5", "10", "70"]
    at.select_slider(key="exp_epoch").set_value(2).run()
    assert not problems(at)
    assert any(s.value == "After epoch 2" for s in at.subheader)


def test_vit_b16_shape_within_budget(big_model):
    at = open_step(PAGE, big_model, exp_mask=[0, 100], exp_heads=["3.12"], exp_shuffle=True)
    assert not problems(at) and not at.error
    assert sent_bytes(at._tree) < BUDGET
    assert "head-importance table exists for the teaching model only" in at.info[0].value
    assert any(s.value.startswith("Untrained") for s in at.subheader)  # the seed-0 initial weights, no snapshots
