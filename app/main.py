"""The ViT explainer: `streamlit run app/main.py`."""
import streamlit as st

from app import models, pictures, ui
from app.i18n import t

st.set_page_config(page_title="ViT Explainer", page_icon="🐼", layout="wide")
ui.language_picker()
st.session_state["image"] = pictures.image_picker()
st.session_state["model_id"] = models.model_picker()

pages = [
    st.Page("steps/1_patches.py", title=t("nav.patches"), icon=":material/grid_view:", default=True),
    st.Page("steps/2_flatten.py", title=t("nav.flatten"), icon=":material/view_stream:"),
    st.Page("steps/3_embedding.py", title=t("nav.embedding"), icon=":material/my_location:"),
    st.Page("steps/4_encoder.py", title=t("nav.encoder"), icon=":material/stacks:"),
    st.Page("steps/5_attention.py", title=t("nav.attention"), icon=":material/visibility:"),
    st.Page("steps/6_prediction.py", title=t("nav.prediction"), icon=":material/target:"),
    st.Page("steps/7_paper.py", title=t("nav.paper"), icon=":material/article:"),
    st.Page("steps/8_about.py", title=t("nav.about"), icon=":material/info:"),
]
st.navigation(pages).run()
