"""The ViT explainer: `python -m app` (streamlit run app/main.py, with TCP_NODELAY: app/serve.py)."""
import streamlit as st

from app import core, join, links, models, phone, pictures, streamlit_texts, style, ui
from app.i18n import t
from app.lessons import play, screen
from app.steps import STEPS
from vit_core import hub

st.set_page_config(page_title="ViT Explainer", page_icon="🐼", layout="wide")
# what the app draws only for the browser's sake (the address bar's state) takes no room on the page: neither its
# container nor the wrapper around it, which would leave a gap of 1rem in the column (three of them above the title)
st.html("<style>[class*='st-key-url_state'], [data-testid='stLayoutWrapper']:has(> [class*='st-key-url_state']) "
        "{ display: none; }</style>")
st.html(style.APP_CSS)  # contrast, focus rings, reduced motion (docs/ACCESSIBILITY.md)
st.html(style.PAGE_CSS)  # metrics and labels that wrap rather than end in "…", metric grids, pointer hints
links.start(pictures.demo_ids(),
            [core.TEACHING_ID, *(m.name for m in hub.CURATED)])
play.start()  # lesson mode: the address, the class, the beat's picture and model (before the pickers)
ui.language_picker()
image = st.session_state["image"] = pictures.image_picker()
if (refused := pictures.refusal()) is not None:  # above every page: a file the browser did not send
    st.error(refused)
st.session_state["model_id"] = models.model_picker()
links.warn_ignored()
if image.demo is None:  # an upload
    st.sidebar.caption(t("links.upload_not_shared"))
model_id = st.session_state["model_id"]
links.share(lang=st.session_state["lang"],
            image=image.demo,
            model=model_id.removeprefix("hub:") if model_id == core.TEACHING_ID or model_id.startswith("hub:") else None)
play.share()
links.write()
phone.close_sidebar_after_navigation()
streamlit_texts.translate()

lang = st.session_state["lang"]
pages = [st.Page(step.file, title=step.title(lang), icon=step.icon, default=step is STEPS[0])
         for step in STEPS]
missing = links.not_found_page([step.path for step in STEPS])
page = st.navigation(pages + ([missing] if missing else []))
links.showing(page.url_path)
play.arrive(page.url_path)  # a beat to show: its page and its view
screen.panel()
join.join_panel()
screen.bar()
page.run()
