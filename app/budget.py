"""The payload budget: what one step may send to the browser, and the sizes that keep every page inside it.

A step of the walkthrough must stay quick on a school network with 30 learners on one server, so no render sends
more than STEP_BYTES of page elements over the websocket (tests check it on a ViT-B/16-shaped model), whatever the
model: large matrices are pooled, windowed or thinned to the sizes below, and pictures are drawn at fixed sizes.
"""
from __future__ import annotations

import numpy as np

STEP_BYTES = 150_000  # page elements one render may send over the websocket

# pictures
OVERLAY_SIDE = 280  # attention maps over the model's view are drawn this many pixels wide
ATTENTION_SIDE = 100  # the attention matrix shows at most 100 × 100 cells (40 KB of float32), pooled beyond
BLOCK_WINDOW = 64  # a block's scores / probabilities show at most 64 × 64 tokens at once
PATCH_MATRIX_CELLS = 8192  # a patch matrix up to this size is sent whole (the teaching model's is 49 × 48)
# beyond, a window of 192 values (4 pixel rows of a 16×16 patch) × 24 patches
PATCH_WINDOW_COLS, PATCH_WINDOW_CELLS = 192, 4608
# heatmap axes: all of an axis up to `keep` long (the teaching model's 49, 50, 48, 64), else every k-th entry, at most
# `most` of them, so that a ViT-B/16 page stays as light as the teaching one
AXIS_FULL = dict(keep=64, most=48)
AXIS_SMALL = dict(keep=24, most=24)


def thin(n: int, keep: int, most: int) -> np.ndarray:
    """The indices of an axis of length n that are sent to the browser: all of them, or every k-th."""
    return np.arange(n) if n <= keep else np.arange(0, n, -(-n // most))


def window(n: int, size: int, around: int) -> tuple[int, int]:
    """A run of at most `size` of n items, centred on `around` where it fits: (start, stop)."""
    start = min(max(0, around - size // 2), max(0, n - size))
    return start, min(n, start + size)


def patch_window(rows: int, cols: int) -> tuple[int, int]:
    """How much of a (rows, cols) patch matrix one render sends: all of it up to PATCH_MATRIX_CELLS, else a window of
    at most PATCH_WINDOW_COLS columns and PATCH_WINDOW_CELLS cells. Returns (rows shown, columns shown)."""
    if rows * cols <= PATCH_MATRIX_CELLS:
        return rows, cols
    shown = min(cols, PATCH_WINDOW_COLS)
    return min(rows, PATCH_WINDOW_CELLS // shown), shown
