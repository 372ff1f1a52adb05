"""The app's custom components (`st.components.v2`), each a folder of JavaScript and CSS files named for what they
do, with its Python mount beside them (`app/components/<name>/__init__.py`). No build step, nothing from a CDN.

Why the files are joined here and not served as ES modules: components v2 serves a component's files only for an
installed distribution whose `pyproject.toml` declares `[[tool.streamlit.component.components]]` with an
`asset_dir`, found by scanning installed packages at start-up (streamlit/components/v2/manifest_scanner.py). This
app runs from its checkout (`python -m app`, AppTest, the tests' servers) as well as installed, so a component's
files are joined, in the order its mount names them, into the one inline ES module that v2 takes: each file is a
plain script part (no `import`/`export` of its own) and only the last one, `index.js`, has `export default`.
"""
from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import streamlit as st

HERE = Path(__file__).resolve().parent


def joined(folder: str, files: Sequence[str]) -> str:
    """The files of `app/components/<folder>/`, in this order, as one text, each headed by its path (so that a line
    in the browser's console can be found in its file) in a /* comment */, which JavaScript and CSS both read as one
    (CSS has no // comment: it would drop the rule that follows). A name may lead out of the folder to a file that
    several components join ("../shared/observer.js"); its heading is then its own path."""
    paths = [posixpath.normpath(f"{folder}/{name}") for name in files]
    return "\n".join(f"/* ---- app/components/{path} */\n" + (HERE / path).read_text(encoding="utf-8")
                     for path in paths)


def register(name: str, folder: str, js: Sequence[str], css: Sequence[str] = (), *, isolate_styles: bool = True):
    """st.components.v2.component over a folder's files: returns the component's mounting command."""
    return st.components.v2.component(name, js=joined(folder, js), css=joined(folder, css) if css else None,
                                      isolate_styles=isolate_styles)


def lut(name: str) -> np.ndarray:
    """A matplotlib colour scale as 256 RGB triples (uint8, 768 bytes): what a component draws a map with
    (app/components/shared/bytes.js, lut)."""
    from matplotlib import colormaps  # imported when a page sends a map, not with every component

    return (colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)
