"""The ViT explainer: `streamlit run app/main.py`."""
import streamlit as st

from app import ui
from app.i18n import t

st.set_page_config(page_title="ViT Explainer", page_icon="🐼", layout="wide")
ui.language_picker()
st.session_state["image"] = ui.image_picker()
st.session_state["model_id"] = ui.model_picker()

pages = [
    st.Page("steps/1_patches.py", title=t("nav.patches"), icon="🧩", default=True),
    st.Page("steps/2_flatten.py", title=t("nav.flatten"), icon="📏"),
    st.Page("steps/3_embedding.py", title=t("nav.embedding"), icon="📍"),
    st.Page("steps/4_encoder.py", title=t("nav.encoder"), icon="🧱"),
    st.Page("steps/5_attention.py", title=t("nav.attention"), icon="👀"),
    st.Page("steps/6_prediction.py", title=t("nav.prediction"), icon="🎯"),
    st.Page("steps/7_paper.py", title=t("nav.paper"), icon="📄"),
    st.Page("steps/8_about.py", title=t("nav.about"), icon="ℹ️"),
]
st.navigation(pages).run()
