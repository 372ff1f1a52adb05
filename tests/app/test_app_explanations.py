"""Step 9, explanations (AppTest): five maps for the predicted class or any other, two classes compared, the curves of
the picture on screen, the measured table read in words chosen by its numbers, and the geometry of queries and keys;
a ViT-B/16-shaped model within the budget; a model without a head explains why there is no class."""
from __future__ import annotations


import pytest

from app.steps import step

from tests.app.apptest import BUDGET, open_step, problems, sent_bytes

PAGE = step("explanations").file


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_page_renders(lang):
    at = open_step(PAGE, lang=lang)
    assert not problems(at) and not at.error
    assert len(at.header) == 4 and sent_bytes(at._tree) < BUDGET  # maps, curves, table, geometry
    keys = [c.proto.id for c in at.get("plotly_chart")]
    assert any("expl_curves" in k for k in keys) and any("expl_qk" in k for k in keys)


def test_a_second_class_and_another_target():
    at = open_step(PAGE)
    predicted = at.session_state["expl_target"]
    at.selectbox(key="expl_other").set_value((predicted + 1) % 10).run()
    assert not problems(at) and len(at.header) == 5 and at.header[1].value.startswith("Why ")
    at.selectbox(key="expl_target").set_value((predicted + 2) % 10).run()
    assert not problems(at) and "(predicted)" not in at.header[0].value
    at.radio(key="expl_method").set_value("gradient").run()
    assert not problems(at)


def test_values_that_are_not_classes_are_replaced():
    at = open_step(PAGE, expl_target=42, expl_other="x", expl_token=999)
    assert not problems(at) and 0 <= at.session_state["expl_target"] < 10 and at.session_state["expl_other"] is None


def test_the_reading_follows_the_numbers():
    from app.steps import explanations as page

    good = {"method": "m", "deletion_vs_random": -0.05, "deletion_vs_random_ci95": 0.01,
            "insertion_vs_random": 0.03, "insertion_vs_random_ci95": 0.01}
    assert "better than random on both" in page.reading(good, "M")
    assert "no better than a random order" in page.reading({**good, "deletion_vs_random": -0.005,
                                                            "insertion_vs_random": 0.004}, "M")
    assert "on deletion" in page.reading({**good, "insertion_vs_random": 0.005}, "M")


def test_vit_b16_shape_and_a_headless_model(big_model, headless_model):
    at = open_step(PAGE, big_model)
    assert not problems(at) and sent_bytes(at._tree) < BUDGET
    assert "teaching model only" in at.info[0].value  # no table for a model without its test set
    at = open_step(PAGE, headless_model)
    assert not problems(at) and "no classification head" in at.info[0].value
    assert [h.value for h in at.header] == ["Where one head's queries and keys lie"]
