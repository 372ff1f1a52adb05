"""The sidebar's "Join from a phone": the address students open, as text and as a QR code made on this computer.

The address is how this server is served (app/serve.py's `current_addresses`): its network address and port when it
listens on every interface, the address it was given with --server.address, or browser.serverAddress when the
teacher set one. A server that listens on this computer only says so, with the command that lets students in.
The QR code is drawn here by segno: no web service sees the address.

Beside it, the address of what is on screen (app/links.py's `view`: the page, with its picture, model, layer, head
and query), as text and as a QR code, for a teacher who sends the projector's view to the class. The panel is a
fragment whose expander reruns it when opened, and its button when pressed, so that the view is the one on screen
then (the explorer steps through heads without a full run); closed, it draws nothing and makes no QR code.
"""
from __future__ import annotations

import functools
import io
from urllib.parse import urlsplit

import streamlit as st

from app import describe, links, serve
from app.i18n import t


@functools.lru_cache(maxsize=8)
def qr_png(url: str) -> bytes:
    """A QR code of `url` as a PNG (black on white, a quiet zone of 4 modules as the standard asks)."""
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=6, border=4)
    return buf.getvalue()


def join_panel() -> None:
    """A small expander at the bottom of the sidebar: the network URL and its QR code, then this view's URL and its
    QR code, or why students cannot join."""
    with st.sidebar:
        st.fragment(panel)()


def panel() -> None:
    box = st.expander(t("models.join_title"), icon=":material/qr_code_2:", key="join_panel", on_change="rerun")
    if not box.open:
        return
    a = serve.current_addresses()
    with box:
        if a.network:
            st.caption(t("models.join_open"))
            st.markdown(f"**{a.network}**")  # proportional type: a whole address fits the narrow sidebar
            st.image(qr_png(a.network), caption=t("models.join_qr"), width=200, alt=describe.qr(a.network))
            view = links.view(a.network)
            st.caption(t("models.join_view"))
            st.code(view, language=None, wrap_lines=True)  # as typed, with a copy button; a long address wraps
            st.image(qr_png(view), width=200, alt=describe.qr(view))
            st.button(t("models.join_view_update"), key="join_view_update", icon=":material/refresh:")
            url = urlsplit(a.network)
            st.caption(t("models.join_firewall", port=url.port or (443 if url.scheme == "https" else 80)))
        elif a.why_not == "localhost_only":
            st.warning(t("models.join_localhost_only", url=a.local))
            st.code(a.command, language=None, wrap_lines=True)
        else:
            st.warning(t("models.join_no_network"))
