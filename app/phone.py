"""On a phone: the sidebar closes once the learner has chosen where to go, and a tap on a chart picks what is under
the finger.

Streamlit leaves the sidebar open after a tap on one of its page links, so on a 390 px screen the page the learner
asked for stays hidden behind it. A few lines of JavaScript (app/components/phone/index.js), run in the app's own
window once per page load, close it after a tap on a page link when the sidebar overlays the page (a narrow screen).

Plotly finds the point under the pointer when the pointer moves, and selects it on the click that follows; a finger
sends no move before its tap, so a tap on a clickable chart (the attention explorer's query patch, the experiments'
mask) selected nothing. The same script tells Plotly where the finger touched, as a mouse move, first.
"""
from __future__ import annotations

import streamlit as st

from app.components import phone

_CLOSE_AFTER_NAVIGATION = phone.MOUNT


def close_sidebar_after_navigation() -> None:
    with st.container(key="url_state_phone_box"):  # hidden with the address-bar state (app/main.py): draws nothing
        _CLOSE_AFTER_NAVIGATION(key="phone_sidebar")
