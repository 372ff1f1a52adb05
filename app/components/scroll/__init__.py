"""Scroll the page to a lesson section's anchor, once per request (index.js, over ../shared/observer.js).

    scroll.to("encoder-worked", key="lesson_scroll", nonce=beat_number)

`anchor` is a section's anchor, "<page>-<section>" (app/lessons/lesson.py SECTIONS; each page gives its sections
these anchors: a heading's `anchor=`, or a keyed container where the section has no heading). The browser scrolls the
app's document to it when it appears (the page may still be drawing it when this mounts), for at most WAIT_MS, then
gives up; it keeps it in place while the page above it is still drawn, until the learner scrolls, taps or types.
It scrolls only when `nonce` is new (a new beat, a "back to the beat"), never again on the page's other reruns. The
motion respects prefers-reduced-motion, and the keyboard focus moves to the section (tabindex -1), so that a screen
reader reads on from there. It takes no room on the page.
"""
from __future__ import annotations

import streamlit as st

from app.components import register

MOUNT = register("vit_explainer.scroll", "scroll", js=["../shared/observer.js", "index.js"])
WAIT_MS = 8000  # how long the browser waits for the anchor to appear, and keeps it in place while the page draws
BOX = "vit_scroll"  # the prefix of the container's key: hidden with the wrapper around it, as app/main.py's url_state
HIDE = (f"<style>[class*='st-key-{BOX}'], [data-testid='stLayoutWrapper']:has(> [class*='st-key-{BOX}']) "
        "{ display: none; }</style>")


def to(anchor: str, key: str, nonce: str | int | None = None) -> None:
    """Scroll to `anchor` once for each `nonce` (None: once for each anchor). `key`: the component's, one per place
    that mounts it."""
    st.html(HIDE)  # a <style> alone takes no room (Streamlit puts it out of the flow)
    with st.container(key=f"{BOX}_{key}"):
        MOUNT(data={"anchor": anchor, "nonce": str(anchor if nonce is None else nonce), "wait": WAIT_MS}, key=key)
