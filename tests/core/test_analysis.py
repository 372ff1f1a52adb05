import torch

from vit_core.analysis import (attention_rollout, embedding_filters_pca, layer_predictions, mean_attention_distance,
                               patch_map, position_similarity)


def test_rollout_of_identity_attention_is_identity():
    eye = torch.eye(50).expand(4, 50, 50)
    assert torch.allclose(attention_rollout([eye, eye, eye])[-1], torch.eye(50))


def test_rollout_rows_sum_to_one_and_follow_the_recipe(tiny_model, pixels):
    atts = [a[0] for a in tiny_model.trace(pixels).attentions]
    roll = attention_rollout(atts)
    assert roll.shape == (2, 50, 50)
    assert torch.allclose(roll.sum(-1), torch.ones(2, 50), atol=1e-5)
    step = [(a.mean(0) + torch.eye(50)) / (a.mean(0) + torch.eye(50)).sum(-1, keepdim=True) for a in atts]
    assert torch.allclose(roll[-1], step[1] @ step[0], atol=1e-6)


def test_mean_attention_distance_known_cases():
    self_only = torch.eye(50).expand(2, 50, 50)
    assert torch.allclose(mean_attention_distance(self_only, 7, 4), torch.zeros(2))
    right = torch.zeros(1, 50, 50)  # every patch looks at its right neighbour (or left, in the last column)
    for k in range(49):
        j = k + 1 if k % 7 < 6 else k - 1
        right[0, k + 1, j + 1] = 1
    right[0, 0, 0] = 1
    assert torch.allclose(mean_attention_distance(right, 7, 4), torch.tensor([4.0]))


def test_position_similarity_and_filters(tiny_model):
    sim = position_similarity(tiny_model.pos_embed.detach(), 7)
    assert sim.shape == (7, 7, 7, 7)
    assert torch.allclose(sim[3, 4, 3, 4], torch.tensor(1.0))
    comps, explained = embedding_filters_pca(tiny_model, k=10)
    assert comps.shape == (10, 4, 4, 3) and comps.min() >= 0 and comps.max() <= 1
    assert explained[0] >= explained[-1]


def test_layer_predictions_end_with_the_model_output(tiny_model, pixels):
    t = tiny_model.trace(pixels)
    probs = layer_predictions(tiny_model, t.hidden_states)
    assert probs.shape == (3, 2, 5)
    assert torch.allclose(probs[-1], t.logits.softmax(-1), atol=1e-6)
    assert patch_map(t.attentions[0][0, 0, 0], 7).shape == (7, 7)
