"""widget_values (app/lessons/views.py) on hand-made configs: the teaching model's 6 layers and ViT-B/16's 12, no
weights. What each view value becomes in its widget, what is clamped and said, and what a view leaves out."""
from __future__ import annotations

import numpy as np
import pytest

from app.lessons import lesson
from app.lessons.views import PLAIN, _Translator, widget_values
from vit_core import ViTConfig, hub
from vit_core.interventions import preset

TEACHING = ViTConfig(labels=tuple(f"class {i}" for i in range(10)))  # 28 px, P = 4: 6 layers, 4 heads, 49 patches
VIT_B16 = ViTConfig(image_size=224, patch_size=16, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, labels=tuple(f"class {i}" for i in range(1000)))  # 196 patches
DINO = ViTConfig(image_size=224, patch_size=16, hidden_size=384, num_hidden_layers=12, num_attention_heads=6,
                 intermediate_size=1536)  # no classification head


def values(page, view, cfg=TEACHING, **kw):
    return widget_values(page, view, cfg, **kw).values


def clamped(page, view, cfg=TEACHING, **kw):
    return [dict(p.values) for p in widget_values(page, view, cfg, **kw).clamped]


def test_every_view_key_of_every_page_is_translated_or_taken_as_written():
    for page, keys in lesson.VIEWS.items():
        for key in keys:
            assert hasattr(_Translator, f"{page}_{key}") or page in PLAIN.get(key, {}), (page, key)


@pytest.mark.parametrize("cfg, L", [(TEACHING, 6), (VIT_B16, 12)])
def test_last_is_the_models_last_layer_on_every_page(cfg, L):
    assert values("encoder", {"layer": "last"}, cfg)["encoder_layer"] == L
    assert values("attention", {"layer": "last"}, cfg)["att_layer"] == L
    assert values("experiments", {"layer": "last"}, cfg)["exp_layer"] == L
    assert values("explanations", {"layer": "last"}, cfg, probs=np.ones(cfg.num_labels))["expl_layer"] == L
    assert values("tokens", {"layer": "last"}, cfg)["lens_layer"] == L  # from 0: L is after the last block


def test_layers_and_heads_stay_from_1_as_the_sliders_hold_them_and_the_tokens_layer_from_0():
    got = values("encoder", {"layer": 2, "head": 3})
    assert (got["encoder_layer"], got["encoder_head"]) == (2, 3)
    assert values("attention", {"layer": 1, "head": 4})["att_layer"] == 1
    assert values("tokens", {"layer": 0})["lens_layer"] == 0
    assert values("tokens", {"layer": 2})["lens_layer"] == 2


def test_a_value_beyond_the_model_becomes_the_nearest_and_is_said():
    assert values("encoder", {"layer": 8, "head": 9})["encoder_layer"] == 6
    assert clamped("encoder", {"layer": 8, "head": 9}) == [{"field": "layer", "value": 8, "last": 6},
                                                           {"field": "head", "value": 9, "last": 4}]
    assert values("encoder", {"layer": 8}, VIT_B16)["encoder_layer"] == 8 and not clamped("encoder", {"layer": 8},
                                                                                            VIT_B16)
    assert values("tokens", {"layer": 13}, VIT_B16)["lens_layer"] == 12
    assert values("attention", {"query": 150})["att_query"] == 48
    assert values("attention", {"query": 150}, VIT_B16)["att_query"] == 150
    assert clamped("flatten", {"patch": 100}) == [{"field": "patch", "value": 100, "last": 48}]
    assert values("patches", {"patch_size": 16})["whatif_p"] == 14  # the nearest size the 28-px picture divides by
    assert values("patches", {"patch_size": 16}, VIT_B16)["whatif_p"] == 16
    assert not clamped("encoder", {"layer": "last", "head": 4, "query": "cls"})


def test_the_encoder_query_is_a_token_cls_first():
    assert values("encoder", {"query": "cls"})["encoder_query"] == 0
    assert values("encoder", {"query": 0})["encoder_query"] == 1
    assert values("encoder", {"query": 195}, VIT_B16)["encoder_query"] == 196
    # ViT-B/16's 197 tokens are shown a 64-token window at a time: the window around the query
    assert values("encoder", {"query": 195}, VIT_B16)["encoder_window"] == 197 - 64
    assert values("encoder", {"query": 0}, VIT_B16)["encoder_window"] == 0


def test_masks_presets_and_lists():
    picture = np.zeros((224, 224, 3), np.uint8)
    picture[80:140, 90:150] = 255
    got = values("experiments", {"mask": "centre"}, VIT_B16, picture=picture)
    assert got["exp_mask"] == sorted(preset("centre", 14, picture, 16)) and got["exp_preset"] == "centre"
    assert values("experiments", {"mask": "border"})["exp_mask"] == sorted(preset("border", 7, None, 4))
    assert len(values("experiments", {"mask": "random_half"}, VIT_B16)["exp_mask"]) == 98
    got = values("experiments", {"mask": [30, 3, 60, 70]})
    assert got["exp_mask"] == [3, 30, 48] and got["exp_preset"] == "own"
    assert values("experiments", {})["exp_mask"] == [] and values("experiments", {})["exp_preset"] == "none"
    with pytest.raises(ValueError, match="picture"):
        values("experiments", {"mask": "centre"})


def test_ablated_heads_shuffle_and_positions():
    got = values("experiments", {"ablate": ["2.1", "5.4", "9.9"], "shuffle": 12, "positions": False})
    assert got["exp_heads"] == ["2.1", "5.4", "6.4"]
    assert (got["exp_shuffle"], got["exp_seed"], got["exp_nopos"]) == (True, 12, True)
    assert values("experiments", {"ablate": ["12.12"]}, VIT_B16)["exp_heads"] == ["12.12"]
    got = values("experiments", {"positions": True})
    assert (got["exp_shuffle"], got["exp_seed"], got["exp_nopos"], got["exp_heads"]) == (False, 0, False, [])


def test_class_words_are_this_pictures_classes():
    probs = np.array([0.1, 0.05, 0.5, 0.2, 0.15] + [0.0] * 5)
    got = values("explanations", {"class": "runner_up", "other": "predicted"}, probs=probs)
    assert (got["expl_target"], got["expl_other"]) == (3, 2)
    got = values("explanations", {"class": 7}, probs=probs)
    assert (got["expl_target"], got["expl_other"]) == (7, None)
    assert values("explanations", {}, probs=probs)["expl_target"] == 2  # the page opens on the predicted class
    assert values("explanations", {"class": 999}, VIT_B16, probs=np.ones(1000))["expl_target"] == 999
    assert values("explanations", {"class": 999}, probs=probs)["expl_target"] == 9
    assert "expl_target" not in values("explanations", {"class": "predicted"}, DINO)  # no head, no class to pick
    with pytest.raises(ValueError, match="probs"):
        values("explanations", {"class": "predicted"})


def test_model_and_image_set_the_sidebar_and_are_otherwise_the_learners():
    assert values("prediction", {"model": "teaching"}) == {"model_choice": "teaching"}
    assert values("paper", {"model": "vit-base-16", "image": "fubao_28"}) == {"model_choice": "hub:vit-base-16",
                                                                             "demo": "fubao_28"}
    assert values("prediction", {"section": "layers"}) == {}
    assert {f"hub:{m}" for m in lesson.MODELS if m != "teaching"} <= {f"hub:{m.name}" for m in hub.CURATED}


def test_a_view_sets_every_widget_of_its_page():
    probs = np.ones(10)
    for page, widgets in lesson.WIDGETS.items():
        if page != "*":
            got = values(page, {}, probs=probs, picture=np.zeros((28, 28, 3), np.uint8))
            assert set(widgets.values()) <= set(got), page
