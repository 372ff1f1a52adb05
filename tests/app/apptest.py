"""Helpers for AppTest runs of the whole app, from its entry point."""
from __future__ import annotations

import base64
import json

import numpy as np

from streamlit.testing.v1 import AppTest

from app import budget
from app.steps import STEPS

from tests.conftest import ROOT

MAIN = str(ROOT / "app" / "main.py")
PAGES = [s.file for s in STEPS]  # app/steps: the one list of pages


def start(lang: str = "en", model_dir=None) -> AppTest:
    """The app from its entry point, in `lang`, on the teaching model or on the checkpoint folder `model_dir`
    (chosen the way a user does: the model picker's "local folder" entry)."""
    at = AppTest.from_file(MAIN, default_timeout=300)
    at.session_state["lang"] = lang
    if model_dir is not None:
        at.session_state["model_choice"] = "local"
        at.session_state["model_folder"] = str(model_dir)
    return at.run()


def open_page(at: AppTest, page: str) -> AppTest:
    return at.switch_page(page).run()


def problems(at: AppTest) -> list[str]:
    """Exceptions shown in the page, as text (empty when all is well)."""
    return [e.message for e in at.exception]


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    return at.file_uploader(key="upload").upload(name, data).run()


BUDGET = budget.STEP_BYTES  # bytes of page elements that one render may send over the websocket


def sent_bytes(node) -> int:
    """The size of every element's protobuf message: what one render sends over the websocket."""
    children = getattr(node, "children", None)
    if children:
        return sum(sent_bytes(c) for c in children.values())
    proto = getattr(node, "proto", None)
    return proto.ByteSize() if proto is not None else 0


def chart(at: AppTest, key: str) -> dict:
    """The Plotly figure of the chart with this key, as the browser receives it."""
    found = [e for e in at.get("plotly_chart") if e.proto.id and key in e.proto.id]
    assert found, f"no chart {key}"
    return json.loads(found[0].proto.spec)


def floats(value) -> np.ndarray:
    """A Plotly array as the browser receives it: a list, or Plotly's binary encoding {dtype, bdata, shape}."""
    if isinstance(value, dict):
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return array.reshape([int(s) for s in str(value["shape"]).split(",")]) if "shape" in value else array
    return np.asarray(value, dtype=float)


def open_step(page: str, model_id: str | None = None, lang: str = "en", **state) -> AppTest:
    """One walkthrough step from the entry point, checked to render cleanly. `model_id` "path:<folder>" picks a
    checkpoint folder the way a teacher does (the model picker's "local folder"); `state` presets widget keys."""
    at = AppTest.from_file(MAIN, default_timeout=300)  # generous: a class server may be busy
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    if model_id:
        at.session_state["model_choice"] = "local"
        at.session_state["model_folder"] = model_id.removeprefix("path:")
    at = open_page(at.run(), page)
    assert not problems(at), problems(at)
    assert not at.error, [e.value for e in at.error]
    return at
