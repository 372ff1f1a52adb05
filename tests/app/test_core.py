"""app.core outside the pages: shared read-only analyses, and the server-wide queue for model computations."""
import dataclasses
import io
import threading

import numpy as np
import pytest
from PIL import Image

from app import core
from vit_core import load_image, preprocess, save_model, views


def picture(shade: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (shade, 255 - shade, 90)).save(buf, "PNG")
    return buf.getvalue()


def test_uploads_analysed_at_once_take_the_model_one_at_a_time(tmp_path, tiny_model, monkeypatch):
    save_model(tiny_model, tmp_path)
    model_id = f"path:{tmp_path}"
    loaded = core.get_model(model_id)
    model = loaded.model
    real_trace, guard = model.trace, threading.Lock()
    running, most, held = 0, 0, []
    shades = [10, 80, 150, 220]
    start = threading.Barrier(len(shades))  # every thread asks for its analysis at the same moment

    def watched_trace(x):
        nonlocal running, most
        held.append(core.FORWARD_LOCK.locked())  # the model runs only under the server-wide lock …
        with guard:
            running += 1
            most = max(most, running)
        try:
            return real_trace(x)
        finally:
            with guard:
                running -= 1

    def analyse(shade: int) -> None:
        data = picture(shade)
        start.wait(timeout=30)
        results[shade] = core.analyse(data, model_id)

    monkeypatch.setattr(model, "trace", watched_trace)
    results: dict[int, views.Analysis] = {}
    threads = [threading.Thread(target=analyse, args=(s,)) for s in shades]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert held == [True] * len(shades) and most == 1  # … and so one picture at a time
    assert sorted(results) == shades
    for s in shades:  # and each upload got its own analysis
        expected = real_trace(preprocess(load_image(picture(s)), loaded.preprocess))
        np.testing.assert_allclose(results[s].trace.logits, expected.logits.numpy(), rtol=1e-5, atol=1e-6)


def test_an_analysis_is_shared_by_every_session_and_cannot_be_changed(tmp_path, tiny_model):
    save_model(tiny_model, tmp_path)
    model_id = f"path:{tmp_path}"
    a = core.analyse(picture(40), model_id)
    assert core.analyse(picture(40), model_id) is a  # one copy in memory, however many learners show it
    assert core.analyse(picture(41), model_id) is not a
    with pytest.raises(ValueError, match="read-only"):
        a.trace.attentions[0, 0, 0, 0, 0] = 1.0
    for name in ("original", "model_view", "probs", "layer_probs", "rollout", "distances", "position_similarity"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(a, name).flat[0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.trace.attentions = np.zeros(1)
