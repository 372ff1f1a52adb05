"""The answer rules of lesson questions (vit_core/questions.py): each rule's answer on hand-made cases (a trace or a
model built so that the answer is known), ties, a model without a head, and the teaching model on every demo picture
with every question of the shipped lesson."""
from __future__ import annotations

import dataclasses
import inspect
import json

import numpy as np
import pytest
import torch

from app.lessons import lesson
from vit_core import LoadedModel, PreprocessConfig, ViT, ViTConfig, questions, views
from vit_core.interventions import Intervention
from vit_core.questions import NoAnswer, answer

from tests.conftest import ROOT

IMAGES = ROOT / "assets" / "images"
DEMOS = [item["file"] for item in json.loads((IMAGES / "manifest.json").read_text(encoding="utf-8"))]
FUBAO = (IMAGES / "fubao_28.png").read_bytes()


def analysed(model: ViT, picture: bytes = FUBAO) -> views.Analysis:
    return views.analyse(LoadedModel(model, PreprocessConfig(crop_size=28, resize_to=28), "huggingface"), picture)


def with_cls_rows(a: views.Analysis, layer: int, rows: np.ndarray) -> views.Analysis:
    """`a` with the cls rows of one layer (from 0) set by hand: rows (H, T), every other weight even."""
    L, _, H, T, _ = a.trace.attentions.shape
    att = np.full((L, 1, H, T, T), 1 / T, dtype=np.float32)
    att[layer, 0, :, 0] = rows
    return dataclasses.replace(a, trace=dataclasses.replace(a.trace, attentions=att))


def with_layer_probs(a: views.Analysis, layer_probs: list[list[float]]) -> views.Analysis:
    probs = np.array(layer_probs, dtype=np.float32)
    return dataclasses.replace(a, layer_probs=probs, probs=probs[-1])


@pytest.fixture
def tiny(tiny_model):  # 28×28, P = 4: 49 patches, 50 tokens, D = 24, 2 layers × 3 heads, 5 classes
    return tiny_model, analysed(tiny_model)


@pytest.fixture
def headless(tiny_model):
    model = ViT(dataclasses.replace(tiny_model.config, labels=()))
    model.load_state_dict({k: v for k, v in tiny_model.state_dict().items() if not k.startswith("head.")})
    return model.eval(), analysed(model.eval())


# ---- number -------------------------------------------------------------------------------------------------------
def test_the_number_rules_are_the_model_s_sizes(tiny):
    model, a = tiny
    got = {name: answer(name, model, a).value for name in ("tokens", "patches", "values_per_patch", "width",
                                                          "attention_matrices")}
    assert got == {"tokens": 50, "patches": 49, "values_per_patch": 48, "width": 24, "attention_matrices": 6}
    tokens = answer("tokens", model, a)
    assert tokens.facts == {"patches": 49, "tokens": 50}
    assert tokens.judge(49) == questions.Verdict(49, False, {"number": 49, "off_by": -1})
    assert tokens.judge(50).right


# ---- patch --------------------------------------------------------------------------------------------------------
def test_cls_top_patch_reads_one_head_or_the_mean_of_the_heads(tiny):
    model, a = tiny
    rows = np.full((3, 50), 0.01, dtype=np.float32)  # 3 heads' cls rows (summing to 1 or not: only the order counts)
    rows[:, 0] = 0.2
    rows[1, 1 + 31], rows[1, 1 + 24] = 0.21, 0.04  # head 2 gives patch 31 weight 0.21, patch 24 weight 0.04
    rows[0, 1 + 5] = rows[2, 1 + 5] = 0.15  # heads 1 and 3 give patch 5 0.15: the mean of the heads favours 5
    a = with_cls_rows(a, 1, rows)
    ans = answer("cls_top_patch", model, a, layer="last", head=2)
    assert ans.correct == (31,) and ans.kind == "patch"
    assert ans.facts["layer"] == 2 and ans.facts["head"] == 2 and ans.facts["weight"] == pytest.approx(0.21)
    verdict = ans.judge(24)
    assert not verdict.right and verdict.facts == {"patch": 24, "weight": pytest.approx(0.04)}
    mean = answer("cls_top_patch", model, a, layer=2, head="mean")
    assert mean.correct == (5,) and mean.facts["weight"] == pytest.approx((0.15 + 0.01 + 0.15) / 3)
    assert mean.facts["cls_self"] == pytest.approx(0.2) and mean.facts["head"] == "mean"
    assert answer("cls_top_patch", model, a, layer=1).facts["weight"] == pytest.approx(1 / 50)  # layer 1: even


def test_a_tie_makes_every_tied_patch_right(tiny):
    model, a = tiny
    rows = np.full((3, 50), 0.01, dtype=np.float32)
    rows[:, 1 + 7] = rows[:, 1 + 40] = 0.3
    ans = answer("cls_top_patch", model, with_cls_rows(a, 0, rows), layer=1)
    assert ans.correct == (7, 40) and ans.judge(40).right and ans.judge(7).right and not ans.judge(8).right
    even = answer("cls_top_patch", model, with_cls_rows(a, 0, np.full((3, 50), 0.02, dtype=np.float32)), layer=1)
    assert even.correct == tuple(range(49))  # attention spread evenly: every patch is a right answer


def test_rollout_top_patch_reads_the_rollout(tiny):
    model, a = tiny
    rollout = np.full(a.rollout.shape, 0.01, dtype=np.float32)
    rollout[0, 0, 1 + 12] = 0.5
    rollout[1, 0, 1 + 30] = 0.4
    a = dataclasses.replace(a, rollout=rollout)
    assert answer("rollout_top_patch", model, a, layer=1).correct == (12,)
    assert answer("rollout_top_patch", model, a).correct == (30,)  # the last layer by default


def test_relevance_top_patch_is_the_explanations_page_s_top_patch(tiny):
    model, a = tiny
    # the "attention" method is the last layer's cls row averaged over the heads: cls_top_patch's mean, by definition
    assert (answer("relevance_top_patch", model, a, method="attention").correct
            == answer("cls_top_patch", model, a, layer="last").correct)
    ans = answer("relevance_top_patch", model, a)
    from vit_core.explain import relevance
    scores, target = relevance(model, torch.from_numpy(np.array(a.trace.pixel_values)), "relevance")
    assert ans.correct == (int(scores[0].argmax()),) and ans.facts["class"] == int(target[0])
    assert ans.judge(3).facts["score"] == pytest.approx(float(scores[0, 3]))


# ---- choice -------------------------------------------------------------------------------------------------------
def test_masking_cannot_change_a_model_that_ignores_the_patches(tiny_model):
    """Every block switched off (its two branches' outputs zeroed): the cls token never reads a patch, so no mask
    changes the prediction."""
    with torch.no_grad():
        for block in tiny_model.blocks:
            for layer in (block.attn.proj, block.mlp.fc2):
                layer.weight.zero_()
                layer.bias.zero_()
    a = analysed(tiny_model)
    for mask in ("centre", "border", list(range(49))):
        ans = answer("mask_changes_top", tiny_model, a, mask=mask, fill="noise")
        assert ans.correct == ("stays",) and ans.facts["prob_after"] == pytest.approx(ans.facts["prob_before"])


def test_masking_a_patch_the_model_reads_changes_its_answer():
    """A model built by hand: one block whose attention is even (q = k = 0) and copies each token's values (V and the
    projection the identity), and a head that reads channel 0 of the cls token as class 1's logit, against 0.5 for
    class 0. Channel 0 of a patch's token is the sum of its values. The input is 0 (the mean colour) but for patch 0,
    which is 1: class 1 wins; masked with the mean, nothing is left for it and class 0 wins."""
    cfg = ViTConfig(hidden_size=12, num_hidden_layers=1, num_attention_heads=1, intermediate_size=12,
                    labels=("dark", "bright"))
    model = ViT(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        for norm in (model.blocks[0].norm1, model.blocks[0].norm2, model.norm):
            norm.weight.fill_(1.0)
        model.patch_embed.weight[0].fill_(1.0)
        model.blocks[0].attn.v.weight.copy_(torch.eye(12))
        model.blocks[0].attn.proj.weight.copy_(torch.eye(12))
        model.head.weight[1, 0] = 1.0
        model.head.bias[0] = 0.5
    pixels = torch.zeros(1, 3, 28, 28)
    pixels[..., :4, :4] = 1.0  # patch 0
    a = analysed(model)
    a = dataclasses.replace(a, trace=model.trace(pixels).numpy(), probs=model(pixels)[0].softmax(-1).detach().numpy())
    assert int(a.probs.argmax()) == 1  # "bright"
    ans = answer("mask_changes_top", model, a, mask=[0], fill="mean")
    assert ans.correct == ("changes",) and (ans.facts["before"], ans.facts["after"]) == (1, 0)
    assert ans.facts["prob_after"] < 0.5 < ans.facts["prob_before"] and ans.facts["masked"] == 1
    assert answer("mask_changes_top", model, a, mask=[48], fill="mean").correct == ("stays",)  # it was 0 already


def test_without_position_embeddings_a_shuffle_changes_nothing(tiny):
    model, a = tiny
    ans = answer("shuffle_changes_top", model, a, seed=3, positions=False)
    assert ans.correct == ("stays",) and ans.facts["largest_change"] < 1e-5
    with_pos = answer("shuffle_changes_top", model, a, seed=3, positions=True)
    shuffled = model(torch.from_numpy(np.array(a.trace.pixel_values)), Intervention(shuffle_seed=3))[0].argmax()
    assert with_pos.correct == ("changes" if int(shuffled) != int(a.probs.argmax()) else "stays",)
    assert with_pos.facts["largest_change"] > 1e-4  # the position embeddings make the shuffle matter


# ---- layer --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer_probs, expected", [
    ([[.6, .4], [.3, .7], [.2, .8]], 1),  # class 1 leads from layer 1 on
    ([[.1, .9], [.6, .4], [.2, .8]], 2),  # it led at layer 0, lost the lead at 1: it leads for good from 2
    ([[.5, .5], [.5, .5], [.4, .6]], 0),  # a tie counts as leading
    ([[.2, .8], [.2, .8], [.2, .8]], 0),  # it leads everywhere
    ([[.9, .1], [.9, .1], [.45, .55]], 2),  # only the last layer
])
def test_final_class_layer_is_where_the_final_class_leads_for_good(tiny, layer_probs, expected):
    model, a = tiny
    ans = answer("final_class_layer", model, with_layer_probs(a, layer_probs))
    assert ans.correct == (expected,) and ans.facts["class"] == 1 and ans.facts["layers"] == 2
    verdict = ans.judge(0)
    assert verdict.right == (expected == 0)
    assert verdict.facts == {"layer": 0, "top": int(np.argmax(layer_probs[0])),
                             "prob": pytest.approx(layer_probs[0][1])}


def test_the_layers_count_as_the_prediction_page_does(tiny):
    model, a = tiny  # 2 blocks: layers 0 (before the first block), 1 and 2; the store's layer question: 0 to 2
    ans = answer("final_class_layer", model, a)
    assert ans.table["prob"].shape == (3,) and 0 <= ans.value <= 2
    q = lesson.Question("layer", "final_class_layer", lesson.Text("a", "b"), {})
    assert q.stored(patches=49, layers=2).accepts(ans.value) and not q.stored(49, 2).accepts(3)
    with pytest.raises(ValueError):
        ans.judge(3)


# ---- what a model cannot answer -----------------------------------------------------------------------------------
def test_a_model_without_a_head_answers_what_it_can(headless):
    model, a = headless
    assert a.probs is None
    assert answer("tokens", model, a).value == 50
    assert answer("cls_top_patch", model, a, layer="last").kind == "patch"
    assert answer("rollout_top_patch", model, a).kind == "patch"
    for name, params in (("final_class_layer", {}), ("mask_changes_top", {"mask": "centre"}),
                         ("shuffle_changes_top", {}), ("relevance_top_patch", {})):
        with pytest.raises(NoAnswer) as e:
            answer(name, model, a, **params)
        assert e.value.reason == "no_head" and e.value.rule == name


def test_a_layer_or_head_beyond_the_model_has_no_answer(tiny):
    model, a = tiny
    with pytest.raises(NoAnswer) as e:
        answer("cls_top_patch", model, a, layer=3)
    assert e.value.reason == "beyond" and e.value.values == {"layer": 3, "layers": 2}
    with pytest.raises(NoAnswer) as e:
        answer("cls_top_patch", model, a, layer=1, head=4)
    assert e.value.values == {"head": 4, "heads": 3}
    with pytest.raises(NoAnswer):
        answer("mask_changes_top", model, a, mask=[49])


# ---- the rules a lesson may name are the rules computed here -------------------------------------------------------
def test_the_lesson_s_rules_are_the_computed_rules():
    assert set(lesson.RULES) == set(questions.RULES)
    for name, declared in lesson.RULES.items():
        computed = questions.RULES[name]
        assert computed.kind == declared.kind and computed.outcomes == declared.outcomes, name
        params = dict(list(inspect.signature(computed.compute).parameters.items())[2:])
        assert set(params) == set(declared.params), name
        for key, (_, default) in declared.params.items():
            if default is not lesson.REQUIRED:
                assert params[key].default == default, (name, key)
    assert lesson.KINDS == questions.KINDS and set(lesson.KINDS) == set(lesson.store.Question.KINDS)


# ---- the teaching model on every demo picture -----------------------------------------------------------------------
@pytest.mark.parametrize("demo", DEMOS)
def test_every_question_of_the_shipped_lesson_is_answered_on_every_demo(teaching, demo):
    a = views.analyse(teaching, (IMAGES / demo).read_bytes())
    cfg = a.config
    for q in lesson.shipped().questions:
        ans = answer(q.rule, teaching.model, a, **q.params)
        assert ans.kind == q.kind and ans.correct, (demo, q.rule)
        if q.kind == "choice":  # each right answer is an option a learner can pick
            assert all(q.stored(1, 1).accepts(q.option(value)) for value in ans.correct), (demo, q.rule)
        else:
            stored = q.stored(cfg.num_patches, cfg.num_hidden_layers)
            assert all(stored.accepts(int(value)) for value in ans.correct), (demo, q.rule)
            assert ans.judge(ans.value).right
    assert answer("shuffle_changes_top", teaching.model, a, positions=False).correct == ("stays",)
