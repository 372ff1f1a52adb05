"""Step 3 (embedding) from the entry point: teaching model, a 224/16 random model, a headless one, Korean."""
from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from app.steps import step

from tests.app.apptest import BUDGET, chart, open_step, problems, sent_bytes
from tests.conftest import ROOT

ROOT_IMAGES = ROOT / "assets" / "images"

PAGE = step("embedding").file


def embedding_page(model_id: str | None = None, lang: str = "en") -> AppTest:
    return open_step(PAGE, model_id, lang)


def z_shapes(fig: dict) -> list[tuple[int, ...]]:
    return [tuple(int(s) for s in str(tr["z"]["shape"]).split(",")) for tr in fig["data"]]  # binary encoding


def markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def test_teaching_model():
    at = embedding_page()
    projection = chart(at, "embedding_projection")
    assert z_shapes(projection) == [(49, 48), (48, 64), (49, 64)]  # patches · E = patch_embeddings, all of them
    assert projection["data"][0]["y"][12] == "patch 12 (row 1, col 5)"
    assert projection["data"][1]["y"][1] == "value 1 (row 0, col 0, G)"
    broadcast = chart(at, "embedding_broadcast")
    assert z_shapes(broadcast) == [(50, 22)] * 3  # every 3rd of 64 dimensions: three small heatmaps
    assert broadcast["data"][0]["y"][:2] == ["token 0 = cls", "token 1 = patch 0 (row 0, col 0)"]
    assert broadcast["data"][2]["x"][1] == "dim 3"
    assert len(broadcast["layout"]["shapes"]) == 3  # the cls row framed in each
    assert "thinned" in captions(at)  # and the page says so
    assert "`(1, 50, 64)`" in markdown(at) and "`(64, 48)`" in markdown(at) and "`(7, 7, 7, 7)`" in markdown(at)
    assert "**pos_embed** `(1, 50, 64)`" in markdown(at)  # one set of positions for the whole batch
    assert "**patch_embed.weight** `(64, 48)`" in markdown(at)  # (D, P·P·C), as nn.Linear stores it
    assert "model.cls_token: ✓" in captions(at)
    assert re.search(r"the first three components explain \d+% of the variance", markdown(at))
    assert len(at.get("download_button")) >= 2
    assert sent_bytes(at._tree) < BUDGET

    tile = chart(at, "embedding_tile")
    assert z_shapes(tile) == [(7, 7)]
    assert tile["layout"]["title"]["text"].endswith("patch 24 (row 3, column 3)")
    at.slider(key="embedding_sim_patch").set_value(0).run()
    assert not problems(at)
    tile2 = chart(at, "embedding_tile")
    assert tile2["layout"]["title"]["text"].endswith("patch 0 (row 0, column 0)")
    assert tile2["data"][0]["z"] != tile["data"][0]["z"]


def test_vit_b16_shape_is_thinned_and_light(big_model):
    at = embedding_page(big_model)
    assert z_shapes(chart(at, "embedding_projection")) == [(40, 48), (48, 48), (40, 48)]
    assert z_shapes(chart(at, "embedding_broadcast")) == [(40, 24)] * 3
    assert chart(at, "embedding_broadcast")["data"][1]["y"][-1] == "token 195 = patch 194 (row 13, col 12)"
    assert "`(1, 197, 96)`" in markdown(at) and "`(14, 14, 14, 14)`" in markdown(at)
    assert "**pos_embed** `(1, 197, 96)`" in markdown(at) and "**patch_embed.weight** `(96, 768)`" in markdown(at)
    assert sent_bytes(at._tree) < BUDGET
    at.slider(key="embedding_sim_patch").set_value(195).run()
    assert not problems(at)
    tile = chart(at, "embedding_tile")
    assert z_shapes(tile) == [(14, 14)]
    assert tile["layout"]["title"]["text"].endswith("patch 195 (row 13, column 13)")


def test_headless_model(headless_model):
    at = embedding_page(headless_model)
    assert "model.cls_token: ✓" in captions(at)


def test_korean():
    at = embedding_page(lang="ko")
    assert at.title[0].value.startswith("3단계")
    assert chart(at, "embedding_broadcast")["data"][0]["y"][0] == "토큰 0 = cls"
    at.slider(key="embedding_sim_patch").set_value(8).run()
    assert not problems(at)
    assert chart(at, "embedding_tile")["layout"]["title"]["text"].startswith("패치 8 (1행 1열)")


# ---- the page's matplotlib figures -------------------------------------------------------------------------------
def drawn(monkeypatch, cached, *args):
    """The matplotlib figure that the cached function `cached` (it returns PNG bytes) hands to style.figure_png."""
    from app import style

    figures = []
    monkeypatch.setattr(style, "figure_png", lambda fig, **kw: figures.append(fig) or b"")
    cached.clear()
    cached(*args)
    cached.clear()
    return figures[0]


def text_sizes(fig) -> list[float]:
    """The size in points of every text the figure draws (ticks of an axes switched off are not drawn)."""
    from unittest import mock

    from matplotlib.backends.backend_agg import RendererAgg

    sizes, draw_text = [], RendererAgg.draw_text

    def recording(self, gc, x, y, s, prop, *args, **kwargs):
        if s.strip():
            sizes.append(prop.get_size_in_points())
        return draw_text(self, gc, x, y, s, prop, *args, **kwargs)

    with mock.patch.object(RendererAgg, "draw_text", recording):
        fig.canvas.draw()
    return sizes


def test_figures_colour_bar_and_text_sizes(monkeypatch, teaching):
    """Position similarity: its colour bar exactly as tall as the matrix (not the axes box around it), and no text in
    either figure smaller than style's FIGURE_* sizes (test_browser_pages measures those at 1366 px)."""
    import numpy as np

    from app import style
    from vit_core import views

    from app.steps import embedding as page

    sim = views.analyse(teaching, (ROOT_IMAGES / "fubao_28.png").read_bytes()).position_similarity
    fig = drawn(monkeypatch, page.similarity_png, sim, "ko")
    fig.canvas.draw()  # where the matrix ends up: an image keeps its aspect inside its axes
    picture, bar = fig.axes[0].images[0], fig.axes[1]
    image, colour = picture.get_window_extent(), bar.get_window_extent()
    assert np.isclose(image.height, colour.height, atol=1) and np.isclose(image.y0, colour.y0, atol=1)
    assert image.x1 < colour.x0  # beside it
    smallest = min(style.FIGURE_TICK, style.FIGURE_SMALL, style.FIGURE_LABEL)
    assert min(text_sizes(fig)) >= smallest
    assert bar.get_ylabel() == "cosine similarity"  # (outside a session, t() speaks English)
    fig = drawn(monkeypatch, page.pca_png, "teaching")
    assert len(text_sizes(fig)) == page.PCS and min(text_sizes(fig)) >= smallest
