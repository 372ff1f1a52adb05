import numpy as np
import torch

from vit_core.analysis import token_norms


def test_token_norms_shape_and_values():
    x = torch.zeros(2, 5, 3)
    x[0, 1] = torch.tensor([3.0, 4.0, 0.0])
    n = token_norms(x)
    assert n.shape == (2, 5)
    assert n[0, 1] == 5 and n[1].abs().sum() == 0


def test_token_norms_of_a_trace_match_numpy(tiny_model, pixels):
    hidden = torch.stack(tiny_model.trace(pixels).hidden_states)  # (L+1, B, T, D)
    n = token_norms(hidden)
    assert n.shape == hidden.shape[:-1]
    assert np.allclose(n.numpy(), np.linalg.norm(hidden.numpy(), axis=-1), atol=1e-5)
