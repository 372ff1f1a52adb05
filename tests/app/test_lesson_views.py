"""A beat's view on the page (app/lessons/views.py): the values widget_values computes, set in session state between
two runs as the lesson player does, make each page's widgets show exactly that view on the teaching model; and a view
that leaves a widget out brings it back to where the page opens."""
from __future__ import annotations

import json

import numpy as np
import pytest

from app import core, labels, pictures
from app.components import explorer
from app.lessons import lesson
from app.lessons.views import widget_values
from app.steps import step
from tests.app.apptest import open_step, problems
from vit_core.interventions import preset

DEMO = pictures.demo_ids()[0]  # the picture a new session opens on


@pytest.fixture(scope="module")
def analysis():
    """The teaching model's analysis of the demo a session opens on: what the page computes the view from."""
    return core.analyse((pictures.IMAGES / pictures.demos()[0]["file"]).read_bytes(), core.TEACHING_ID)


def show(at, page: str, view: dict, a) -> dict:
    """Set the values of `view` as the lesson player does (session state before the run), run, and return them."""
    values, _ = widget_values(page, view, a.config, probs=a.probs, picture=a.model_view)
    for key, value in values.items():
        at.session_state[key] = value
    at.run()
    assert not problems(at), problems(at)
    assert not at.error, [e.value for e in at.error]
    return values


def widget(at, kind: str, key: str):
    return getattr(at, kind)(key=key)


def explorer_state(at) -> dict:
    (el,) = [el for el in at.get("bidi_component") if el.proto.id.endswith(explorer.KEY)]
    return json.loads(el.proto.mixed.json or el.proto.json)["state"]


def test_patches_shows_each_patch_size_and_the_nearest_one_it_has(analysis):
    at = open_step(step("patches").file)
    for asked, held in ((7, 7), (14, 14), (5, 4), (100, 14)):
        show(at, "patches", {"patch_size": asked}, analysis)
        assert widget(at, "select_slider", "whatif_p").value == held
    show(at, "patches", {}, analysis)
    assert widget(at, "select_slider", "whatif_p").value == analysis.config.patch_size


@pytest.mark.parametrize("page, key", [("flatten", "flatten_patch"), ("embedding", "embedding_sim_patch")])
def test_one_patch_pages_show_the_patch(analysis, page, key):
    at = open_step(step(page).file)
    for asked, held in ((0, 0), (31, 31), (60, 48)):
        show(at, page, {"patch": asked}, analysis)
        assert widget(at, "slider", key).value == held


def test_encoder_shows_layer_head_query_and_matrix(analysis):
    cfg = analysis.config
    at = open_step(step("encoder").file)
    show(at, "encoder", {"layer": "last", "head": 3, "query": 24, "matrix": "scores"}, analysis)
    assert widget(at, "slider", "encoder_layer").value == cfg.num_hidden_layers
    assert widget(at, "slider", "encoder_head").value == 3
    query = widget(at, "selectbox", "encoder_query")
    assert query.value == 25 and query.options[query.index] == labels.token_in_words(25, cfg.grid_size)
    assert "24" in query.options[query.index]  # the patch as the lesson wrote it, not the token after it
    assert widget(at, "radio", "encoder_matrix").value == "scores"
    show(at, "encoder", {"layer": 2, "query": "cls"}, analysis)
    assert widget(at, "slider", "encoder_layer").value == 2
    assert widget(at, "slider", "encoder_head").value == 1  # left out: where the page opens
    assert widget(at, "selectbox", "encoder_query").value == 0
    assert widget(at, "radio", "encoder_matrix").value == "probs"
    assert any(f"layer {2}" in h.value for h in at.header)  # the page is drawn for that layer


def test_attention_explorer_opens_on_the_view(analysis):
    cfg = analysis.config
    at = open_step(step("attention").file)
    show(at, "attention", {"layer": "last", "head": 2, "query": 10, "rows": "query"}, analysis)
    state = explorer_state(at)
    assert (state["layer"], state["head"], state["query"], state["rows"]) == (cfg.num_hidden_layers, 2, 10, "query")
    show(at, "attention", {"layer": 3}, analysis)
    state = explorer_state(at)
    assert (state["layer"], state["head"], state["query"], state["rows"]) == (3, 1, 24, "cls")


def test_experiments_show_a_preset_mask_ablated_heads_and_the_rest(analysis):
    cfg = analysis.config
    at = open_step(step("experiments").file)
    show(at, "experiments", {"mask": "centre", "fill": "blur", "ablate": ["2.1", "6.4"], "attention": "rollout",
                             "layer": 4}, analysis)
    centre = sorted(preset("centre", cfg.grid_size, analysis.model_view, cfg.patch_size))
    assert widget(at, "multiselect", "exp_mask").value == centre and centre
    assert widget(at, "selectbox", "exp_preset").value == "centre"
    assert widget(at, "radio", "exp_fill").value == "blur"
    assert widget(at, "multiselect", "exp_heads").value == ["2.1", "6.4"]
    assert widget(at, "radio", "exp_view").value == "rollout"
    assert widget(at, "slider", "exp_layer").value == 4
    assert not widget(at, "toggle", "exp_shuffle").value and not widget(at, "toggle", "exp_nopos").value

    show(at, "experiments", {"mask": [3, 4, 70], "shuffle": 7, "positions": False, "layer": "last", "head": 3},
         analysis)
    assert widget(at, "multiselect", "exp_mask").value == [3, 4, 48]  # patch 70 of 49: the last one
    assert widget(at, "selectbox", "exp_preset").value == "own"
    assert widget(at, "toggle", "exp_shuffle").value and widget(at, "number_input", "exp_seed").value == 7
    assert widget(at, "toggle", "exp_nopos").value
    assert widget(at, "multiselect", "exp_heads").value == []  # the ablation of the beat before is gone
    assert widget(at, "radio", "exp_fill").value == "mean"
    assert (widget(at, "slider", "exp_layer").value, widget(at, "slider", "exp_head").value) == (cfg.num_hidden_layers,
                                                                                                  3)

    show(at, "experiments", {"mask": "border"}, analysis)
    assert widget(at, "multiselect", "exp_mask").value == sorted(preset("border", cfg.grid_size, None, 0))
    assert not widget(at, "toggle", "exp_shuffle").value and not widget(at, "toggle", "exp_nopos").value


def test_tokens_count_layers_from_0(analysis):
    cfg = analysis.config
    at = open_step(step("tokens").file)
    for view, layer, patch in (({"layer": 0, "patch": 5}, 0, 5), ({"layer": "last"}, cfg.num_hidden_layers, 24),
                               ({"layer": 3, "patch": 48}, 3, 48), ({"layer": 9}, cfg.num_hidden_layers, 24)):
        show(at, "tokens", view, analysis)
        assert at.session_state["lens_layer"] == at.session_state["lens_mount"] == layer  # the layer view opens there
        assert widget(at, "selectbox", "lens_patch").value == patch


def test_explanations_name_classes_of_this_picture(analysis):
    ranked = np.argsort(-analysis.probs, kind="stable")
    at = open_step(step("explanations").file)
    show(at, "explanations", {"class": "runner_up", "other": "predicted", "method": "gradient", "layer": 2, "head": 4},
         analysis)
    assert widget(at, "selectbox", "expl_target").value == ranked[1]
    assert widget(at, "selectbox", "expl_other").value == ranked[0]
    assert widget(at, "radio", "expl_method").value == "gradient"
    assert (widget(at, "slider", "expl_layer").value, widget(at, "slider", "expl_head").value) == (2, 4)
    show(at, "explanations", {"class": 3}, analysis)
    assert widget(at, "selectbox", "expl_target").value == 3
    assert widget(at, "selectbox", "expl_other").value is None
    assert widget(at, "radio", "expl_method").value == "attention"
    assert widget(at, "slider", "expl_layer").value == analysis.config.num_hidden_layers


def test_image_and_model_set_the_sidebar_pickers(analysis):
    other = pictures.demo_ids()[1]
    at = open_step(step("prediction").file)
    show(at, "prediction", {"image": other, "model": "teaching"}, analysis)
    assert widget(at, "selectbox", "demo").value == other
    assert widget(at, "selectbox", "model_choice").value == core.TEACHING_ID


@pytest.mark.parametrize("page", ["patches", "flatten", "embedding", "encoder", "attention", "experiments", "tokens",
                                  "explanations"])
def test_a_view_that_says_nothing_is_the_page_as_it_opens(analysis, page):
    """The values widget_values gives a widget that a view leaves out are those the page opens with."""
    at = open_step(step(page).file)
    values, _ = widget_values(page, {}, analysis.config, probs=analysis.probs, picture=analysis.model_view)
    held = {k: at.session_state[k] for k in values if k in at.session_state}
    assert held == {k: values[k] for k in held}
    assert len(held) >= len(values) - 1  # every widget drawn (the encoder's window only on a model of > 64 tokens)


# ---- sections: every part of a page a beat can point at has its anchor (app/components/scroll scrolls to it) -----
def anchors(at) -> set[str]:
    """The anchors of a page's output: its headings' (st.header/subheader anchor=, an id in the browser) and its
    keyed containers' (a section without a heading of its own; the class st-key-<key> in the browser)."""
    found = {h.proto.anchor for kind in ("header", "subheader") for h in getattr(at, kind) if h.proto.anchor}

    def walk(node):
        proto = getattr(node, "proto", None)
        if type(node).__name__ == "Block" and proto is not None and getattr(proto, "id", ""):
            found.add(proto.id.split("-", 2)[-1])  # "$$ID-<hash>-<key>"
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


# the explorer draws its own headings in the browser (app/components/explorer/template.js): its anchors are ids there
IN_THE_EXPLORER = {"attention-explorer": 'root.id = "attention-explorer"',
                   "attention-distances": '<h3 id="attention-distances">'}


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("page", lesson.PAGES)
def test_every_section_of_the_page_has_its_anchor(page, lang):
    """The same anchors in both languages: a heading's anchor is written, not made from its words."""
    state = {"expl_other": 1} if page == "explanations" else {}  # the comparison is drawn when a class is chosen
    at = open_step(step(page).file, lang=lang, **state)
    found = anchors(at)
    for section in lesson.SECTIONS[page]:
        anchor = f"{page}-{section}"
        assert anchor in found or IN_THE_EXPLORER.get(anchor, "\0") in explorer.JS, anchor
