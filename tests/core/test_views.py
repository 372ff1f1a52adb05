"""vit_core.views: the one model call, and the records the pages draw — on small cases worked out by hand."""
import dataclasses
import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from vit_core import LoadedModel, PreprocessConfig, views
from vit_core.analysis import attention_rollout, mean_attention_distance
from vit_core.config import ViTConfig


@pytest.fixture
def loaded(tiny_model) -> LoadedModel:
    return LoadedModel(tiny_model, PreprocessConfig(crop_size=28, resize_to=28), "huggingface")


@pytest.fixture
def analysis(loaded) -> views.Analysis:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 90)).save(buf, "PNG")
    return views.analyse(loaded, buf.getvalue())


# ---- the maths, by hand ------------------------------------------------------------------------------------------
def test_rollout_of_a_3x3_example():
    # one layer, two heads: token 1 splits its attention between cls and itself, the other head looks at itself
    a = torch.tensor([[[1.0, 0, 0], [0.5, 0.5, 0], [0, 0, 1]], torch.eye(3).tolist()])  # (H=2, T=3, T)
    # mean over heads [[1,0,0],[.25,.75,0],[0,0,1]], + I, rows halved: [[1,0,0],[.125,.875,0],[0,0,1]]
    one = torch.tensor([[1.0, 0, 0], [0.125, 0.875, 0], [0, 0, 1]])
    rollout = attention_rollout([a, a])
    assert torch.allclose(rollout[0], one)
    assert torch.allclose(rollout[1], torch.tensor([[1.0, 0, 0], [0.234375, 0.765625, 0], [0, 0, 1]]))  # one @ one


def test_mean_attention_distance_on_a_2x2_grid():
    # 4 patches with centres 1 px apart (P = 1); cls takes 0.2, each patch 0.2: renormalised to 0.25 over patches.
    # From any patch the keys lie at 0, 1, 1 and √2 px: (2 + √2) / 4 on average.
    even = torch.full((1, 5, 5), 0.2)
    assert mean_attention_distance(even, grid=2, patch_size=1).item() == pytest.approx((2 + math.sqrt(2)) / 4)
    opposite = torch.zeros(1, 5, 5)  # every patch looks at the diagonally opposite one: √2 patches away
    for q, k in ((1, 4), (2, 3), (3, 2), (4, 1)):
        opposite[0, q, k] = 1
    assert mean_attention_distance(opposite, grid=2, patch_size=4).item() == pytest.approx(4 * math.sqrt(2))


# ---- the analysis --------------------------------------------------------------------------------------------------
def test_analysis_is_read_only_and_consistent(analysis, loaded):
    a = analysis
    assert a.config is loaded.model.config and a.original_size == (40, 30)
    assert a.trace.attentions.shape == (2, 1, 3, 50, 50) and a.trace.hidden_states.shape == (3, 1, 50, 24)
    assert a.model_view.shape == (28, 28, 3) and a.model_view.dtype == np.uint8
    np.testing.assert_allclose(a.probs.sum(), 1, atol=1e-6)
    np.testing.assert_allclose(a.layer_probs[-1], a.probs, atol=1e-6)
    arrays = [v for v in vars(a).values() if isinstance(v, np.ndarray)]
    arrays += [v for v in vars(a.trace).values() if isinstance(v, np.ndarray)]
    for array in arrays:
        with pytest.raises(ValueError, match="read-only"):
            array.flat[0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.probs = None
    # a head that spreads its attention evenly over 7 × 7 patches of 4 px
    T = 50
    assert a.uniform_distance == pytest.approx(mean_attention_distance(torch.full((1, T, T), 1 / T), 7, 4).item())


def centre_halves(w: int, h: int, fmt: str = "PNG", **options) -> bytes:
    """A w×h picture, green, whose largest centred square is red in its top half and blue in its bottom half."""
    a = np.zeros((h, w, 3), np.uint8)
    a[:] = (0, 255, 0)
    side = min(w, h)
    x, y = (w - side) // 2, (h - side) // 2
    a[y:y + side // 2, x:x + side], a[y + side // 2:y + side, x:x + side] = (255, 0, 0), (0, 0, 255)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, fmt, **options)
    return buf.getvalue()


@pytest.mark.parametrize("size", [(10_000, 50), (50, 10_000), (6000, 4000), (28, 28)])
def test_big_tall_and_wide_pictures(loaded, size):
    """The model's view comes from the picture's own pixels (a strip's middle 50×50, not 5 rows of a strip shrunk
    to 1024×5); the size is the one uploaded; what is kept for display fits a DISPLAY_SIDE square, and the crop is
    marked where it lies in it."""
    w, h = size
    a = views.analyse(loaded, centre_halves(w, h))
    assert a.original_size == size
    view = a.model_view.astype(int)[1:-1, 1:-1]  # (26, 26): bicubic looks a pixel past the crop's edges
    assert (abs(view[:11] - (255, 0, 0)) <= 8).all() and (abs(view[15:] - (0, 0, 255)) <= 8).all()
    oh, ow = a.original.shape[:2]
    assert max(ow, oh) == min(views.DISPLAY_SIDE, max(w, h)) and min(ow, oh) >= 1
    scale = max(ow, oh) / max(w, h)
    assert abs(ow - w * scale) <= 1 and abs(oh - h * scale) <= 1  # the same shape, to a pixel
    left, top, right, bottom = a.crop
    side = min(w, h)
    expected = ((w - side) / 2 * ow / w, (h - side) / 2 * oh / h, (w + side) / 2 * ow / w, (h + side) / 2 * oh / h)
    assert np.allclose(a.crop, expected, atol=1.0), (a.crop, expected)
    assert 0 <= left < right <= ow and 0 <= top < bottom <= oh
    assert a.preparation.size == size and a.preparation.seen == pytest.approx(side * side / (w * h))  # as uploaded


def test_a_photo_is_decoded_small_but_the_model_sees_it_whole(loaded):
    """A 6000×4000 JPEG is decoded at a reduced scale that still leaves the model and the display every pixel they
    use; its size as uploaded is still 6000×4000."""
    a = views.analyse(loaded, centre_halves(6000, 4000, "JPEG", quality=90))
    assert a.original_size == (6000, 4000) and a.original.shape == (341, 512, 3)
    view = a.model_view.astype(int)[1:-1, 1:-1]
    assert (abs(view[:11] - (255, 0, 0)) <= 12).all() and (abs(view[15:] - (0, 0, 255)) <= 12).all()


def test_analysis_of_a_model_without_a_head(loaded, tiny_model):
    cfg = dataclasses.replace(tiny_model.config, labels=())
    model = type(tiny_model)(cfg).eval()
    buf = io.BytesIO()
    Image.new("RGB", (28, 28), "white").save(buf, "PNG")
    a = views.analyse(dataclasses.replace(loaded, model=model), buf.getvalue())
    assert a.probs is None and a.layer_probs is None and a.trace.logits is None
    assert views.predictions(a, 5) is None
    assert views.cls_norms(a).shape == (3,)


# ---- step 1 ----------------------------------------------------------------------------------------------------------
def test_patch_sizes_and_what_each_costs():
    cfg = ViTConfig()  # 28 × 28, P = 4
    assert views.patch_sizes(cfg) == [2, 4, 7, 14]
    c = views.patch_size_choice(cfg, 7)
    assert (c.grid, c.patches, c.tokens, c.values, c.attention_cells) == (4, 16, 17, 147, 289)
    assert c.cost_ratio == pytest.approx(289 / 2500)
    assert views.patch_size_choice(cfg, 4).cost_ratio == 1


def test_the_centre_patch():
    # 1 × 1: the only patch; 3 × 3: row 1, column 1; an even grid: the patch below and right of the middle
    assert [views.centre_patch(g) for g in (1, 2, 3, 4, 7, 14)] == [0, 3, 4, 10, 24, 105]


def test_mosaic_lays_tiles_out_in_grid_order_with_gaps():
    tiles = np.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2)  # 2 × 3 tiles of 2 × 2
    m = views.mosaic(tiles, gap=1, fill=-1)
    assert m.shape == (5, 8)
    np.testing.assert_array_equal(m[3:5, 6:8], tiles[1, 2])
    assert (m[2] == -1).all() and (m[:, 2] == -1).all() and (m[:, 5] == -1).all()


def test_patches_apart_and_patch_pixels(analysis):
    apart = views.patches_apart(analysis, zoom=2, gap=3)
    assert apart.shape == (7 * 8 + 6 * 3, 7 * 8 + 6 * 3, 3)
    k = 9  # row 1, column 2
    np.testing.assert_array_equal(apart[11:19, 22:30], analysis.model_view[4:8, 8:12].repeat(2, 0).repeat(2, 1))
    np.testing.assert_array_equal(views.patch_pixels(analysis, k), analysis.model_view[4:8, 8:12])
    assert views.patch_box(analysis.config, k) == (8, 4, 12, 8)


# ---- step 5 ----------------------------------------------------------------------------------------------------------
def test_all_heads_maps_are_each_rows_scaled_to_0_1(analysis):
    att = analysis.trace.attentions[:, 0]  # (L, H, T, T)
    np.testing.assert_array_equal(views.all_heads_rows(analysis, 4), att[:, :, 5, 1:].reshape(2, 3, 7, 7))
    grid = views.all_heads_maps(analysis, None)
    assert grid.shape == (2, 3, 7, 7)
    assert np.allclose(grid.min(axis=(2, 3)), 0) and np.allclose(grid.max(axis=(2, 3)), 1)
    cls_row = att[1, 2, 0, 1:]
    np.testing.assert_allclose(grid[1, 2].reshape(-1), (cls_row - cls_row.min()) / np.ptp(cls_row), atol=1e-6)


def test_scaled_and_dequantised_worked_by_hand():
    np.testing.assert_array_equal(views.scaled(np.array([[2.0, 4.0, 3.0], [1.0, 1.0, 1.0]]), axis=1),
                                  [[0, 1, 0.5], [0, 0, 0]])  # a flat map is 0, not 0/0
    q, top = views.quantised(np.array([[0.5, 0.25, 0.0, 0.25]], dtype=np.float32))
    assert q.tolist() == [[255, 128, 0, 128]] and top.tolist() == [0.5]  # 0.25/0.5·255 = 127.5 rounds to even 128
    np.testing.assert_array_equal(views.dequantised(q, top), np.float32([[0.5, 128 * 0.5 / 255, 0, 128 * 0.5 / 255]]))


# ---- the model -------------------------------------------------------------------------------------------------------
def test_parameter_groups_follow_the_forward_pass(tiny_model):
    groups = views.parameter_groups(tiny_model)
    assert [g.part for g in groups] == ["patch_embed", "cls_token", "pos_embed", "blocks", "norm", "head"]
    by_part = {g.part: g for g in groups}
    assert by_part["patch_embed"].shapes == ((24, 48), (24,)) and by_part["patch_embed"].count == 24 * 48 + 24
    assert by_part["pos_embed"].count == 50 * 24 and by_part["head"].count == 24 * 5 + 5
    # one block: 2 LayerNorms (2·2·24), q, k, v, proj (4·(24·24 + 24)), fc1 (24·48 + 48), fc2 (48·24 + 24)
    assert by_part["blocks"].count == 2 * (96 + 4 * 600 + 1200 + 1176)
    assert sum(g.count for g in groups) == views.parameter_count(tiny_model)
