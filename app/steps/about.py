"""About: what the app is, the card of the model being explained, credits, and how to run it offline.

Works for any checkpoint: the facts come from the loaded model (config, parameters, preprocessing); the model card
(README.md) and the training history (training.json) are shown when the checkpoint folder has them.
"""
import json
import re
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import core, labels, models, numbers, style, ui
from app.i18n import current_language, t
from vit_core import LoadedModel, ModelError, hub, views

FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.S)  # a Hugging Face card's YAML header
HEADING = re.compile(r"^(#{1,3}) ", re.M)  # a Markdown heading of level 1 to 3


def main() -> None:
    ui.heading("about")
    st.markdown(t("about.intro"))
    st.markdown(t("about.steps"))
    st.caption(t("about.everything_offline"))
    st.header(t("about.model_title"))
    model_id = st.session_state.get("model_id", core.TEACHING_ID)
    try:
        loaded = core.get_model(model_id)
    except (ModelError, OSError) as e:
        st.error(t("about.model_failed", reason=str(e)))
    else:
        which_model(loaded, model_id)
        facts(loaded)
        parameters(loaded)
        preprocessing(loaded)
        model_card(loaded)
        training_history(loaded)
    st.header(t("about.credits_title"))
    st.markdown(t("about.credits"))
    running_offline()


def which_model(loaded: LoadedModel, model_id: str) -> None:
    entry = hub.get(model_id.removeprefix("hub:")) if model_id.startswith("hub:") else None
    if model_id == core.TEACHING_ID:
        st.markdown(t("about.model_teaching"))
    elif entry is not None:
        st.markdown(t("about.model_hub", name=entry.name, repo=entry.repo_id,
                      url=f"https://huggingface.co/{entry.repo_id}"))
        st.caption(models.description(entry))  # in the page's language
    elif loaded.folder is not None:
        st.markdown(t("about.model_path", path=loaded.folder))
    else:
        st.markdown(t("about.model_other", model_id=model_id))


def facts(loaded: LoadedModel) -> None:
    cfg = loaded.model.config
    g, N = cfg.grid_size, cfg.num_patches
    # a grid of as many columns as fit; a number too long for its column ("16·16·3 = 768") wraps, never cut off
    row = st.container(key=style.metric_grid("about_facts"))
    for label, value in (
            (t("about.m_image"), f"{cfg.image_size}×{cfg.image_size}×{cfg.num_channels}"),
            (t("about.m_patch"), f"{cfg.patch_size}×{cfg.patch_size}"),
            (t("about.m_patches"), t("about.m_patches_value", g=g, N=N)),
            (t("about.m_tokens"), f"{N} + 1 = {cfg.num_tokens}"),
            (t("about.m_patch_dim"), f"{cfg.patch_size}·{cfg.patch_size}·{cfg.num_channels} = {cfg.patch_dim}"),
            (t("about.m_dim"), cfg.hidden_size),
            (t("about.m_layers"), cfg.num_hidden_layers),
            (t("about.m_heads"), t("about.m_heads_value", H=cfg.num_attention_heads, d=cfg.head_dim)),
            (t("about.m_mlp"), cfg.intermediate_size),
            (t("about.m_classes"), cfg.num_labels if cfg.labels else t("about.m_no_head")),
            (t("about.m_params"), f"{views.parameter_count(loaded.model):,}")):
        row.metric(label, value)
    if cfg.labels:
        names = ", ".join(labels.translated_class(name) for name in cfg.labels[:8])
        st.caption(t("about.classes_list", names=names) if cfg.num_labels <= 8
                   else t("about.classes_many", n=cfg.num_labels, names=names))


def parameters(loaded: LoadedModel) -> None:
    """The parameters grouped by the model's top-level parts, in the order of the forward pass."""
    groups, L = views.parameter_groups(loaded.model), loaded.model.config.num_hidden_layers
    total = sum(group.count for group in groups)
    parts = {"patch_embed": t("about.part_patch_embed"), "cls_token": t("about.part_cls_token"),
             "pos_embed": t("about.part_pos_embed"), "norm": t("about.part_norm"), "head": t("about.part_head")}
    rows = []
    for group in groups:
        if group.part == "blocks":
            label, shape = t("about.part_blocks", L=L, per=group.count // max(L, 1)), t("about.blocks_shape")
        else:
            label = parts.get(group.part) or t("about.part_other", name=group.part)
            shape = " + ".join(str(s) for s in group.shapes)
        rows.append({t("about.part"): label, t("about.shape"): shape, t("about.count"): group.count,
                     t("about.share"): 100 * group.count / total})
    st.subheader(t("about.params_title", n=f"{total:,}"))
    st.caption(t("about.params_intro"))
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
        t("about.part"): st.column_config.TextColumn(width="medium"),
        t("about.shape"): st.column_config.TextColumn(width="large"),
        t("about.count"): st.column_config.NumberColumn(format="localized", width="small"),
        t("about.share"): st.column_config.ProgressColumn(format=numbers.PRINTF_PERCENT, min_value=0.0,
                                                          max_value=100.0, width="small")})


def preprocessing(loaded: LoadedModel) -> None:
    pre = loaded.preprocess
    st.subheader(t("about.pre_title"))
    how = (t("about.pre_squash", S=pre.crop_size, resample=pre.resample) if pre.squash
           else t("about.pre_crop", r=pre.resize_to, S=pre.crop_size, resample=pre.resample))
    mean, std = numbers.vector(pre.image_mean), numbers.vector(pre.image_std)
    st.markdown(how + " " + t("about.pre_norm", mean=mean, std=std))


def model_card(loaded: LoadedModel) -> None:
    st.subheader(t("about.card_title"))
    card, lang = card_in(loaded, current_language())
    if card is None:
        st.caption(t("about.card_missing"))
        return
    if lang != current_language():
        st.caption(t("about.card_language"))
    with st.container(border=True, height=420):
        st.markdown(demoted(FRONT_MATTER.sub("", card)))


def demoted(markdown: str) -> str:
    """Markdown with its headings three levels down (# → ####), under the page's own; code blocks as they are."""
    lines, code = markdown.splitlines(), False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            code = not code
        elif not code:
            lines[i] = HEADING.sub(r"###\1 ", line)
    return "\n".join(lines)


def card_in(loaded: LoadedModel, lang: str) -> tuple[str | None, str]:
    """The model card in `lang` (README.<lang>.md beside the weights, as vit_core.model_card writes README.ko.md)
    where the folder has one, else the card (README.md, in English); and the language of the card returned."""
    path = loaded.folder / f"README.{lang}.md" if loaded.folder is not None and lang != "en" else None
    try:
        if path is not None and path.is_file():
            return path.read_text(encoding="utf-8", errors="replace"), lang
    except OSError:
        pass
    return loaded.card, "en"


def training_history(loaded: LoadedModel) -> None:
    st.subheader(t("about.train_title"))
    try:
        training = read_training(loaded.folder)
    except ValueError as e:
        st.warning(t("about.train_bad", reason=str(e)))
        return
    if training is None:
        st.caption(t("about.train_none"))
        return
    history = training.get("history") or []
    tc = training.get("train_config") or {}
    row = st.container(key=style.metric_grid("about_training"))
    if "test_accuracy" in training:
        row.metric(t("about.train_test_acc"), numbers.percent(training["test_accuracy"]))
    row.metric(t("about.train_epochs"), len(history) or tc.get("epochs", "—"))
    if "wall_time_s" in training:
        row.metric(t("about.train_time"), duration(training["wall_time_s"]))
    row.metric(t("about.train_images"), f"{tc['limit']:,}" if tc.get("limit") else t("about.train_images_all"))
    if history and len(history) < 10:
        st.warning(t("about.train_note_short", epochs=len(history)))
    if history:
        epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
        fig = go.Figure()
        for field, name in (("test_acc", t("about.train_line_test")), ("train_acc", t("about.train_line_train"))):
            if all(field in h for h in history):
                fig.add_trace(go.Scatter(x=epochs, y=[100 * h[field] for h in history], name=name,
                                         mode="lines+markers" if len(history) <= 30 else "lines",
                                         hovertemplate=f"{t('about.train_epoch')} %{{x}}: %{{y:{numbers.D3}}}%"
                                                       f"<extra>{name}</extra>"))
        if len(history) <= 20:
            fig.update_xaxes(tickmode="array", tickvals=epochs)
        fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), title=t("about.train_chart_title"),
                          xaxis_title=t("about.train_epoch"), yaxis_title=t("about.train_accuracy"),
                          legend=dict(orientation="h", y=-0.25))
        ui.chart(fig, key="about_history")
    per_class = training.get("per_class_accuracy") or {}
    if per_class:
        st.markdown(f"**{t('about.train_per_class')}**")
        frame = pd.DataFrame({t("about.train_class"): [labels.translated_class(name) for name in per_class],
                              t("about.train_accuracy"): [100 * v for v in per_class.values()]})
        st.dataframe(frame, hide_index=True, width="stretch", column_config={
            t("about.train_accuracy"): st.column_config.ProgressColumn(format=numbers.PRINTF_PERCENT, min_value=0.0,
                                                                      max_value=100.0)})
    if tc:
        with st.expander(t("about.train_config")):
            st.json(tc)


def running_offline() -> None:
    st.header(t("about.offline_title"))
    st.markdown(t("about.offline_intro"))
    st.markdown(t("about.offline_install"))
    st.code("pip install -e .", language="bash")
    st.markdown(t("about.offline_run"))
    st.code("python -m app", language="bash")
    st.markdown(t("about.offline_class"))
    st.code("python -m app --server.address 0.0.0.0 --server.port 8501", language="bash")
    st.markdown(t("about.offline_pretrained"))
    st.code("python -m vit_core list-models\npython -m vit_core fetch vit-base-16\n"
            "HF_HUB_OFFLINE=1 python -m app", language="bash")


def read_training(folder: Path | None) -> dict | None:
    """training.json as written by vit_core.train, or None if there is none. Raises ValueError if unreadable."""
    path = folder / "training.json" if folder else None
    if path is None or not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(str(e)) from e


def duration(seconds: float) -> str:
    if seconds < 120:
        return t("about.train_time_s", seconds=seconds)
    if seconds < 7200:
        return t("about.train_time_min", minutes=seconds / 60)
    return t("about.train_time_h", hours=numbers.number(seconds / 3600))


if __name__ == "__main__":  # Streamlit runs a page as __main__
    main()
