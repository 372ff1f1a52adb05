"""Figures are drawn from many sessions' threads at once: the drawing helpers must not share pyplot state."""
import io
import threading

import numpy as np

from app import plots, style


def test_figures_from_many_threads_at_once():
    view = np.random.default_rng(0).integers(0, 255, (28, 28, 3), dtype=np.uint8)
    errors = []

    def draw():
        try:
            for _ in range(5):
                fig, ax = plots.subplots(figsize=(3, 3))
                ax.imshow(view)
                fig.canvas.draw()
                assert np.asarray(fig.canvas.buffer_rgba()).shape[-1] == 4
                fig.savefig(io.BytesIO(), format="png")
        except Exception as e:  # noqa: BLE001 — collected and reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[:3]


def test_patch_grid_picture_draws_the_grid_over_the_pixels_and_numbers_every_patch():
    view = np.zeros((28, 28, 3), np.uint8)  # black: the white numbers and red lines stand out
    view[:, :, 2] = np.arange(28, dtype=np.uint8)[None, :] * 9  # each column its own blue, to check the pixels
    bare = plots.patch_grid_picture(view, 4, numbers=False, side=700)
    cell = 4 * 25  # 700 // 28 = 25 screen pixels per image pixel
    assert bare.shape == (700, 700, 3)
    for k in range(1, 7):  # the grid lines, between patches
        assert tuple(bare[k * cell, 10]) == (230, 40, 40)
        assert tuple(bare[10, k * cell]) == (230, 40, 40)
    inside = bare[cell + 10:2 * cell - 10, cell + 10:2 * cell - 10]
    assert (inside == np.repeat(np.repeat(view[4:8, 4:8], 25, 0), 25, 1)[10:-10, 10:-10]).all()  # hard pixel edges

    numbered = plots.patch_grid_picture(view, 4, numbers=True, side=700)
    for k in range(49):  # a white digit in the middle of every patch, and nothing white elsewhere in the patch
        r, c = divmod(k, 7)
        middle = numbered[r * cell + 30:r * cell + 70, c * cell + 25:c * cell + 75]
        assert (middle.min(axis=-1) > 200).any(), k
    assert not (bare.min(axis=-1) > 200).any()


def test_patch_grid_picture_other_sizes():
    view = np.zeros((224, 224, 3), np.uint8)
    assert plots.patch_grid_picture(view, 16).shape == (672, 672, 3)  # 224 · 3
    assert plots.patch_grid_picture(view[:30, :30], 7, side=300).shape == (280, 280, 3)  # 4×4 patches of 7; 2 px cut


def test_figure_png_is_capped_in_width_and_keeps_small_figures_at_150_dpi():
    from PIL import Image

    wide, _ = plots.subplots(figsize=(20, 4))
    wide.gca().plot([0, 1], [0, 1])
    small, _ = plots.subplots(figsize=(2, 2))
    small.gca().plot([0, 1], [1, 0])
    wide_png, small_png = style.figure_png(wide, max_width=1400), style.figure_png(small)
    assert wide_png[:8] == small_png[:8] == b"\x89PNG\r\n\x1a\n"
    wide_im, small_im = Image.open(io.BytesIO(wide_png)), Image.open(io.BytesIO(small_png))
    assert 1000 < wide_im.size[0] <= 1400  # drawn at 70 dpi; bbox_inches="tight" only trims the wide margins
    assert round(wide_im.info["dpi"][0]) == 70
    assert round(small_im.info["dpi"][0]) == 150
    assert 250 <= small_im.size[0] <= 400  # 2 in at 150 dpi, margins trimmed, tick labels added


def test_play_as_an_animated_gif_one_labelled_frame_per_head():
    from PIL import Image

    view = np.random.default_rng(1).integers(0, 255, (28, 28, 3), dtype=np.uint8)
    maps = np.zeros((2, 3, 7, 7))
    for k in range(6):  # frame k lights patch k, so every frame differs from the others
        maps[k // 3, k % 3].flat[k] = 1.0
    labels = [f"Layer {i + 1}/2, head {j + 1}/3: the cls token's attention" for i in range(2) for j in range(3)]
    gif = Image.open(io.BytesIO(plots.animation(view, maps, labels, 280, 750, patch=24)))
    assert gif.format == "GIF" and gif.n_frames == 6 and gif.info["loop"] == 0
    frames = []
    for k in range(6):
        gif.seek(k)
        assert gif.info["duration"] == 750
        frames.append(np.asarray(gif.convert("RGB")))
    band = frames[0].shape[0] - 280
    assert frames[0].shape[1] == 280 and 20 < band < 40  # the picture, and a white band with the label above it
    assert all((f[:band] < 128).any() for f in frames)  # a label is written in every band
    assert all(not np.array_equal(frames[k][band:], frames[k + 1][band:]) for k in range(5))
    gif.seek(0)
    first = np.asarray(gif.convert("RGB"))[band:]
    cell = 280 // 7  # patch 24 is outlined: the cyan of style.HIGHLIGHT appears on its border, not elsewhere
    r, c = divmod(24, 7)
    border = first[r * cell:(r + 1) * cell, c * cell:(c + 1) * cell]
    assert (np.abs(border.astype(int) - style.HIGHLIGHT).sum(-1) < 60).any()


def test_a_gif_with_a_label_short_or_over_is_refused():
    import pytest

    with pytest.raises(ValueError, match="5 labels for 6 frames"):
        plots.animation(np.zeros((28, 28, 3), np.uint8), np.zeros((2, 3, 7, 7)), ["x"] * 5, 280, 500)
