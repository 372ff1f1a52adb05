"""Step 1 — the picture becomes a grid of patches."""
import numpy as np
import streamlit as st

from app import core, describe, notes, numbers, plots, style, ui
from app.i18n import t
from vit_core import views
from vit_core.images import model_view
from vit_core.patches import patchify


def main() -> None:
    c = ui.current()
    cfg = c.config
    ui.heading("patches", N=cfg.num_patches)
    st.markdown(t("patches.intro", S=cfg.image_size, P=cfg.patch_size, g=cfg.grid_size, N=cfg.num_patches))
    picture_and_model_view(c)
    patch_grid(c)
    other_patch_sizes(c)
    ui.source(model_view, patchify)


# Every picture on this page depends only on the picture and the model, so each is drawn once and its encoded
# bytes are cached: a class that uploads at once shares two cores, and re-encoding a 1024-pixel photo on every run
# of this page cost more than everything else on it. Their PNGs use zlib's quickest level: a class uploads at once, and
# level 6 took 3 ms more a picture for 10-15 % fewer bytes. Each st.image names its format: given bytes and no format,
# Streamlit takes a picture without alpha for a photo and re-encodes it as JPEG on every run.
@st.cache_data(max_entries=64, show_spinner=False)
def patch_grid_png(view: np.ndarray, patch: int, numbers: bool = True) -> bytes:
    """The model's view cut at patch size `patch` and numbered, as the PNG that is shown and downloaded."""
    return style.png(plots.patch_grid_picture(view, patch, numbers), compress_level=1)  # made on every upload


@st.cache_data(max_entries=32, show_spinner=False)
def pictures(image_bytes: bytes, model_id: str) -> tuple[bytes, str, bytes, bytes]:
    """The upload with the model's crop outlined and its format (JPEG for a photo; PNG for a small or thin picture,
    whose hard edges JPEG would blur), the model's view blown up a whole number of times, and the patches laid apart
    (PNG: hard pixel edges)."""
    a = core.analyse(image_bytes, model_id)
    h, w = a.original.shape[:2]
    fmt = style.picture_format(w, h)
    S = a.config.image_size
    return (style.encoded(plots.crop_overlay(a.original, a.crop), fmt), fmt,
            style.png(plots.upscale(a.model_view, S * max(1, VIEW_SIDE // S)), compress_level=1),
            style.png(views.patches_apart(a, zoom=max(1, 320 // S)), compress_level=1))


VIEW_SIDE = 336  # about how wide the model's view is shown: the largest whole multiple of its size up to this


# Both pictures at their own size, but never wider than their column: st.image would otherwise stretch them to the
# column (a 9×518 strip became 445×24,000 px) or, given a width, overflow a phone's column.
OWN_SIZE_CSS = ("<style>.st-key-picture_and_view [data-testid='stImage'] img {"
                " width: auto !important; max-width: 100%; align-self: flex-start; }</style>")


def picture_and_model_view(c: ui.Current) -> None:
    a, S = c.analysis, c.config.image_size
    original, fmt, enlarged, _ = pictures(c.image_bytes, c.model_id)
    with st.container(key="picture_and_view"):
        st.html(OWN_SIZE_CSS)
        left, right = st.columns(2)
    demo = c.demo is not None  # a demo is headed by its own name; "Your picture" is an upload
    with left:
        st.subheader(c.image_name if demo else t("patches.original"), anchor="patches-picture")
        w, h = a.original_size
        st.image(original, output_format=fmt,
                 caption=t("patches.original_caption_demo" if demo else "patches.original_caption", w=w, h=h),
                 alt=describe.original(c.image_name, (w, h), a.crop, demo))
    with right:
        st.subheader(t("patches.model_view", S=S))
        st.image(enlarged, output_format="PNG", caption=t("patches.model_view_caption", S=S),
                 alt=describe.model_view(a.model_view))
        pre = a.preprocess
        how = t("patches.squash", S=S) if pre.squash else t("patches.crop", r=pre.resize_to, S=S)
        st.caption(how + " " + t("patches.normalise", mean=pre.image_mean, std=pre.image_std))
    notes.what_the_model_saw(c)  # a strip's centre, a tiny picture enlarged, a squash: where it matters


def patch_grid(c: ui.Current) -> None:
    cfg, a = c.config, c.analysis
    st.subheader(t("patches.grid_title", g=cfg.grid_size, N=cfg.num_patches), anchor="patches-grid")
    left, right = st.columns(2)
    with left:  # the same call as the what-if below at P: one drawing
        ui.figure(patch_grid_png(a.model_view, cfg.patch_size), "patch_grid", key="dl_grid",
                  alt=describe.patch_grid(cfg.image_size, cfg.patch_size, numbered=True))
    with right:
        st.image(pictures(c.image_bytes, c.model_id)[3], output_format="PNG",
                 caption=t("patches.apart_caption", N=cfg.num_patches),
                 alt=describe.patches_apart(cfg.num_patches, cfg.grid_size))
    ui.shape(t("patches.shape_image"), a.trace.pixel_values.shape, t("patches.shape_image_meaning"))
    ui.shape(t("patches.shape_patches"), a.trace.patches.shape,
             t("patches.shape_patches_meaning", P=cfg.patch_size, C=cfg.num_channels))


def other_patch_sizes(c: ui.Current) -> None:
    cfg, P = c.config, c.config.patch_size
    st.subheader(t("patches.whatif_title"), anchor="patches-sizes")
    st.markdown(t("patches.whatif_intro", P=P))
    chosen = st.select_slider(t("patches.whatif_slider"), options=views.patch_sizes(cfg), value=P, key="whatif_p")
    w = views.patch_size_choice(cfg, chosen)
    row = st.container(key=style.metric_grid("patches_whatif", wide=True))  # as many columns as fit
    row.metric(t("patches.whatif_grid"), f"{w.grid} × {w.grid}")
    row.metric(t("patches.whatif_tokens"), f"{w.patches} + 1 = {w.tokens}")
    row.metric(t("patches.whatif_values"), f"{chosen}·{chosen}·{cfg.num_channels} = {w.values}")
    # the arrow says which way the cost goes from the model's own patch size (the delta is a ratio, always positive)
    arrow = "down" if w.cost_ratio < 1 else "up" if w.cost_ratio > 1 else "off"
    row.metric(t("patches.whatif_cost"), f"{w.attention_cells:,}", delta_arrow=arrow,
                   delta=f"{numbers.number(w.cost_ratio)}× " + t("patches.whatif_vs_model"), delta_color="off")
    st.image(patch_grid_png(c.analysis.model_view, chosen, numbers=w.patches <= 196), width=420,
             output_format="PNG", alt=describe.patch_grid(cfg.image_size, chosen, numbered=w.patches <= 196))
    if chosen != P:
        st.info(t("patches.whatif_note", P=P, chosen=chosen))


if __name__ == "__main__":  # Streamlit runs a page as __main__; tests import its sections without running it
    main()
