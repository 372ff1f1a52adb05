"""Step 1 — the picture becomes a grid of patches."""
import io

import numpy as np
import streamlit as st
from PIL import Image

from app import core, plots, ui
from app.i18n import t
from vit_core.images import model_view
from vit_core.patches import patchify


# Every picture on this page depends only on the picture and the model, so each is drawn once and its encoded
# bytes are cached: a class that uploads at once shares two cores, and re-encoding a 1024-pixel photo on every run
# of this page cost more than everything else on it. Each st.image names its format: given bytes and no format,
# Streamlit takes a picture without alpha for a photo and re-encodes it as JPEG on every run.
@st.cache_data(max_entries=64, show_spinner=False)
def patch_grid_png(view: np.ndarray, patch: int, numbers: bool = True) -> bytes:
    """The numbered patch grid, as the PNG that is shown and downloaded."""
    return plots.png(plots.patch_grid_picture(view, patch, numbers))


@st.cache_data(max_entries=32, show_spinner=False)
def pictures(image_bytes: bytes, model_id: str) -> tuple[bytes, bytes, bytes]:
    """The upload with the model's crop outlined (JPEG: it is a photo), the model's view blown up, and the patches
    laid apart (PNG: hard pixel edges)."""
    a, cfg = core.analyse(image_bytes, model_id), core.get_model(model_id).config
    buf = io.BytesIO()
    Image.fromarray(plots.crop_overlay(a.original, a.crop)).save(buf, format="JPEG", quality=90)
    return (buf.getvalue(), plots.png(plots.upscale(a.model_view, 336)),
            plots.png(plots.patches_apart(a.model_view, cfg.patch_size, zoom=max(1, 320 // cfg.image_size))))


c = ui.current()
cfg, a = c.model.config, c.analysis
S, P, g = cfg.image_size, cfg.patch_size, cfg.grid_size

st.title(t("patches.title", N=cfg.num_patches))
st.markdown(t("patches.intro", S=S, P=P, g=g, N=cfg.num_patches))

left, right = st.columns(2)
with left:
    st.subheader(t("patches.original"))
    w, h = a.original_size
    original, enlarged, apart = pictures(c.image_bytes, c.model_id)
    st.image(original, output_format="JPEG", caption=t("patches.original_caption", w=w, h=h))
with right:
    st.subheader(t("patches.model_view", S=S))
    st.image(enlarged, output_format="PNG", caption=t("patches.model_view_caption", S=S))
    pre = c.model.preprocess
    how = t("patches.squash", S=S) if pre.squash else t("patches.crop", r=pre.resize_to, S=S)
    st.caption(how + " " + t("patches.normalise", mean=pre.image_mean, std=pre.image_std))

st.subheader(t("patches.grid_title", g=g, N=cfg.num_patches))
left, right = st.columns(2)
with left:
    # the same call as the what-if below at P: one drawing
    ui.figure(patch_grid_png(a.model_view, P, numbers=True), "patch_grid", key="dl_grid")
with right:
    st.image(apart, output_format="PNG", caption=t("patches.apart_caption", N=cfg.num_patches))
ui.shape(t("patches.shape_image"), a.trace["pixel_values"].shape, t("patches.shape_image_meaning"))
ui.shape(t("patches.shape_patches"), a.trace["patches"].shape, t("patches.shape_patches_meaning", P=P, C=cfg.num_channels))

st.subheader(t("patches.whatif_title"))
st.markdown(t("patches.whatif_intro", P=P))
sizes = [p for p in range(2, S // 2 + 1) if S % p == 0] or [P]
chosen = st.select_slider(t("patches.whatif_slider"), options=sizes, value=P, key="whatif_p")
n = (S // chosen) ** 2
cols = st.columns(4)
cols[0].metric(t("patches.whatif_grid"), f"{S // chosen} × {S // chosen}")
cols[1].metric(t("patches.whatif_tokens"), f"{n} + 1 = {n + 1}")
cols[2].metric(t("patches.whatif_values"), f"{chosen}·{chosen}·{cfg.num_channels} = {chosen * chosen * cfg.num_channels}")
cols[3].metric(t("patches.whatif_cost"), f"{(n + 1) ** 2:,}",
               delta=f"{(n + 1) ** 2 / cfg.num_tokens ** 2:.2f}× " + t("patches.whatif_vs_model"), delta_color="off")
st.image(patch_grid_png(a.model_view, chosen, numbers=n <= 196), width=420, output_format="PNG")
if chosen != P:
    st.info(t("patches.whatif_note", P=P, chosen=chosen))

ui.source(model_view, patchify)
