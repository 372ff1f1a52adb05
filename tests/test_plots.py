"""Figures are drawn from many sessions' threads at once: the drawing helpers must not share pyplot state."""
import io
import threading

import numpy as np

from app import plots


def test_figures_from_many_threads_at_once():
    view = np.random.default_rng(0).integers(0, 255, (28, 28, 3), dtype=np.uint8)
    errors = []

    def draw():
        try:
            for _ in range(5):
                fig = plots.patch_grid_figure(view, 4)
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
