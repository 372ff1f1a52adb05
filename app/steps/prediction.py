"""Step 6 — the cls token becomes a prediction, and how that prediction forms layer by layer."""
import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import core, describe, figures, labels, notes, numbers, plots, ui
from app.i18n import t
from app.labels import class_name
from vit_core import views
from vit_core.analysis import layer_predictions
from vit_core.model import ViT

TOP = 5  # classes shown in the bar chart and followed through the layers


def main() -> None:
    c = ui.current()
    cfg = c.config
    ui.heading("prediction")
    st.markdown(t("prediction.intro"))
    st.latex(r"y = \mathrm{LN}(z_L^0) \qquad (4)")
    if c.model_id == core.TEACHING_ID:
        st.info(t("prediction.teaching", S=cfg.image_size, n=cfg.num_labels,
                  classes=", ".join(class_name(cfg, i) for i in range(cfg.num_labels))))
    p = views.predictions(c.analysis, TOP)
    if p is None:
        no_head(c)
        ui.source(ViT.classify)
        return
    final_prediction(c, p)
    layer_by_layer(c, p)
    top_class_per_layer(c, p)
    ui.source(ViT.classify, layer_predictions)


# ---- a checkpoint without a classifier: there is nothing to rank -------------------------------------------------
def no_head(c: ui.Current) -> None:
    L, a = c.config.num_hidden_layers, c.analysis
    st.info(t("prediction.no_head", D=c.config.hidden_size))
    norms = views.cls_norms(a)  # (L+1,): the cls token after each layer
    st.metric(t("prediction.cls_norm_metric", L=L), numbers.number(norms[-1]))
    fig = go.Figure(go.Scatter(x=list(range(L + 1)), y=norms.astype(np.float32), mode="lines+markers",
                               hovertemplate=t("prediction.norm_hover")))
    fig.update_layout(height=320, title=t("prediction.cls_norm_title"), xaxis_title=t("prediction.layer_axis"),
                      yaxis_title="‖z⁰‖", margin=dict(l=10, r=10, t=40, b=10), xaxis=dict(dtick=1))
    ui.chart(fig, key="prediction_cls_norm")
    st.caption(t("prediction.cls_norm_caption"))
    ui.shape(t("prediction.shape_hidden"), a.trace.hidden_states.shape, t("prediction.shape_hidden_meaning"))


# ---- the final prediction ----------------------------------------------------------------------------------------
def final_prediction(c: ui.Current, p: views.Predictions) -> None:
    cfg, a = c.config, c.analysis
    k, n = len(p.top), len(a.probs)
    names = [class_name(cfg, int(i)) for i in p.top]
    st.header(t("prediction.top_title", k=k), anchor="prediction-top")
    left, right = st.columns([1, 2])
    with left:
        st.metric(t("prediction.top1"), names[0], numbers.percent(p.top_probs[0]), delta_color="off", delta_arrow="off")
        notes.what_the_model_saw(c)  # beside the prediction: what of the picture it was made from
        st.image(plots.upscale(a.model_view, 224), caption=t("prediction.view_caption", S=cfg.image_size),
                 alt=describe.model_view(a.model_view))
    with right:
        fig = figures.top_chart(p.top_probs, names, t("prediction.prob_axis"))
        ui.chart(fig, key="prediction_top", title=t("prediction.top_title", k=k), value=numbers.percent)
        st.caption(t("prediction.top_caption", k=k, n=n, rest=numbers.percent(p.rest)))
    ui.shape("logits", a.trace.logits.shape, t("prediction.shape_logits", n=n))
    ui.shape("probs", a.probs.shape, t("prediction.shape_probs"))


# ---- layer by layer ----------------------------------------------------------------------------------------------
def layer_by_layer(c: ui.Current, p: views.Predictions) -> None:
    L, k = c.config.num_hidden_layers, len(p.top)
    names = [class_name(c.config, int(i)) for i in p.top]
    layers = list(range(L + 1))
    st.header(t("prediction.layers_title"), anchor="prediction-layers")
    st.markdown(t("prediction.layers_intro", L=L))
    left, right = st.columns(2)
    with left:
        fig = go.Figure()
        for j, name in enumerate(names):
            fig.add_scatter(x=layers, y=p.layer_top[:, j].astype(np.float32), mode="lines+markers", name=name,
                            hovertemplate=t("prediction.line_hover"))
        fig.update_layout(height=380, title=t("prediction.lines_title", k=k), margin=dict(l=10, r=10, t=40, b=10),
                          xaxis=dict(title=t("prediction.layer_axis"), dtick=1),
                          yaxis=dict(title=t("prediction.prob_axis"), range=[0, 1], tickformat=".0%"),
                          legend=dict(orientation="h", y=-0.25))
        ui.chart(fig, key="prediction_lines")
    with right:
        ui.chart(plots.heatmap(p.layer_top, x=names, y=[str(layer) for layer in layers],
                               hovertemplate=t("prediction.heat_hover"), zmin=0, zmax=1, height=380,
                               title=t("prediction.heat_title", k=k), yaxis=t("prediction.layer_axis")),
                 key="prediction_heat", value=numbers.percent, cell=labels.at_layer)
    st.caption(t("prediction.layers_caption"))


def top_class_per_layer(c: ui.Current, p: views.Predictions) -> None:
    cfg, a = c.config, c.analysis
    n = len(a.probs)
    st.subheader(t("prediction.table_title"), anchor="prediction-table")
    st.dataframe({t("prediction.col_layer"): list(range(cfg.num_hidden_layers + 1)),
                  t("prediction.col_class"): [class_name(cfg, int(i)) for i in p.layer_best],
                  t("prediction.col_prob"): [numbers.percent(q) for q in p.layer_best_probs]},
                 hide_index=True, key="prediction_table")
    st.caption(t("prediction.table_caption", n=n))
    ui.shape("layer_probs", a.layer_probs.shape, t("prediction.shape_layer_probs", L=cfg.num_hidden_layers, n=n))


if __name__ == "__main__":  # Streamlit runs a page as __main__; tests import its sections without running it
    main()
