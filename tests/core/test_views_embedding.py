"""vit_core.views for steps 2 and 3 (flatten, embedding): the records pages 2 and 3 draw, on small cases by hand."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from vit_core import LoadedModel, PreprocessConfig, views


@pytest.fixture
def loaded(tiny_model) -> LoadedModel:
    return LoadedModel(tiny_model, PreprocessConfig(crop_size=28, resize_to=28), "huggingface")


def analyse(loaded: LoadedModel) -> views.Analysis:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 90)).save(buf, "PNG")
    return views.analyse(loaded, buf.getvalue())


# ---- step 2: flatten ---------------------------------------------------------------------------------------------
def test_three_ways_agree_after_the_permutation(loaded):
    ways = views.three_ways(analyse(loaded))  # 28×28, P = 4: 49 patches of 4·4·3 = 48 values
    assert ways.loop.shape == ways.einops.shape == ways.conv.shape == (49, 48)
    # (c p1 p2) → (p1 p2 c): einops' value 1 is the G of pixel (0, 0), which the loop keeps after the 16 R values
    assert list(ways.permutation[:6]) == [0, 16, 32, 1, 17, 33]
    np.testing.assert_array_equal(ways.loop[:, ways.permutation], ways.einops)
    assert ways.differences["loop_vs_einops"] == 0 and ways.differences["einops_vs_loop_unpermuted"] > 0
    for array in (ways.loop, ways.einops, ways.conv, ways.permutation):
        assert not array.flags.writeable


# ---- step 3: embedding -------------------------------------------------------------------------------------------
def test_embedding_weights_as_the_model_stores_them(loaded, tiny_model):
    D, T = 24, 50
    with torch.no_grad():
        tiny_model.cls_token.copy_(torch.arange(D, dtype=torch.float32).reshape(1, 1, D))
        tiny_model.pos_embed.copy_(torch.arange(T * D, dtype=torch.float32).reshape(1, T, D))
    w = views.embedding_weights(tiny_model, analyse(loaded))
    assert w.E.shape == (D, 48) and w.pos.shape == (T, D) and w.pos_shape == (1, T, D)
    assert list(w.cls[:3]) == [0, 1, 2] and w.pos[1, 0] == D  # row 1 of E_pos starts at 24
    assert w.cls_prepended
    for array in (w.E, w.cls, w.pos):
        assert not array.flags.writeable


def test_embedding_weights_notice_a_cls_token_that_is_not_row_0(loaded, tiny_model):
    a = analyse(loaded)
    with torch.no_grad():
        tiny_model.cls_token.add_(1.0)  # the weights changed after this picture was traced
    assert not views.embedding_weights(tiny_model, a).cls_prepended


def test_explained_by_first():
    pca = views.FiltersPCA(np.zeros((4, 2, 2, 3)), np.array([0.5, 0.25, 0.125, 0.0625], np.float32))
    assert views.explained_by_first(pca, 3) == 0.875
    assert views.explained_by_first(pca, 1) == 0.5
    assert views.explained_by_first(pca, 10) == 0.9375  # more than k: all of them


def test_similarity_mosaic_of_a_2x2_grid():
    sim = np.arange(16, dtype=np.float64).reshape(2, 2, 2, 2)  # map (r, c) holds 4·(2r + c) … 4·(2r + c) + 3
    m = views.similarity_mosaic(sim)
    assert m.shape == (5, 5) and m.dtype == np.float32
    np.testing.assert_array_equal(m[:2, :2], [[0, 1], [2, 3]])  # patch (0, 0) top left
    np.testing.assert_array_equal(m[:2, 3:], [[4, 5], [6, 7]])  # patch (0, 1) top right
    np.testing.assert_array_equal(m[3:, 3:], [[12, 13], [14, 15]])  # patch (1, 1) bottom right
    assert np.isnan(m[2]).all() and np.isnan(m[:, 2]).all()  # one NaN cell between maps
