"""Step 6 — the cls token becomes a prediction, and how that prediction forms layer by layer."""
import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from app import core, plots, ui
from app.i18n import catalog, t
from vit_core.analysis import layer_predictions, token_norms
from vit_core.model import ViT

TOP = 5  # classes shown in the bar chart and followed through the layers

c = ui.current()
cfg, a = c.model.config, c.analysis
L, D = cfg.num_hidden_layers, cfg.hidden_size


def class_name(i: int) -> str:
    """Class i in the current language: the translation table of this namespace, else the checkpoint's own name."""
    english = cfg.labels[i] if i < len(cfg.labels) else f"class {i}"
    key = f"prediction.label:{english}"
    return t(key) if key in catalog("en") else english


st.title(t("prediction.title"))
st.markdown(t("prediction.intro"))
st.latex(r"y = \mathrm{LN}(z_L^0) \qquad (4)")
if c.model_id == core.TEACHING_ID:
    st.info(t("prediction.teaching", S=cfg.image_size, n=cfg.num_labels,
              classes=", ".join(class_name(i) for i in range(cfg.num_labels))))

if a.probs is None:
    # ---- a checkpoint without a classifier: there is nothing to rank ----------------------------------------
    st.info(t("prediction.no_head", D=D))
    cls_norms = token_norms(torch.tensor(a.trace["hidden_states"][:, 0, 0])).numpy()  # (L+1,): cls after each layer
    st.metric(t("prediction.cls_norm_metric", L=L), f"{cls_norms[-1]:.2f}")
    fig = go.Figure(go.Scatter(x=list(range(L + 1)), y=cls_norms.astype(np.float32), mode="lines+markers",
                               hovertemplate=t("prediction.norm_hover")))
    fig.update_layout(height=320, title=t("prediction.cls_norm_title"), xaxis_title=t("prediction.layer_axis"),
                      yaxis_title="‖z⁰‖", margin=dict(l=10, r=10, t=40, b=10), xaxis=dict(dtick=1))
    st.plotly_chart(fig, key="prediction_cls_norm")
    st.caption(t("prediction.cls_norm_caption"))
    ui.shape(t("prediction.shape_hidden"), a.trace["hidden_states"].shape, t("prediction.shape_hidden_meaning"))
    ui.source(ViT.classify)
    st.stop()

# ---- the final prediction ------------------------------------------------------------------------------------
probs = a.probs  # (classes,)
n = len(probs)
k = min(TOP, n)
top = np.argsort(probs)[::-1][:k]  # the k most likely classes, best first
names = [class_name(i) for i in top]

st.header(t("prediction.top_title", k=k))
left, right = st.columns([1, 2])
with left:
    st.metric(t("prediction.top1"), names[0], f"{probs[top[0]]:.1%}", delta_color="off", delta_arrow="off")
    st.image(plots.upscale(a.model_view, 224), caption=t("prediction.view_caption", S=cfg.image_size))
with right:
    fig = go.Figure(go.Bar(x=probs[top].astype(np.float32), y=names, orientation="h", marker_color="#3b82f6",
                           text=[f"{p:.1%}" for p in probs[top]], textposition="auto",
                           hovertemplate="%{y}: %{x:.4f}<extra></extra>"))
    fig.update_layout(height=90 + 45 * k, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(range=[0, 1], tickformat=".0%", title=t("prediction.prob_axis")),
                      yaxis=dict(autorange="reversed", type="category"))
    st.plotly_chart(fig, key="prediction_top")
    st.caption(t("prediction.top_caption", k=k, n=n, rest=f"{1 - probs[top].sum():.1%}"))
ui.shape("logits", a.trace["logits"].shape, t("prediction.shape_logits", n=n))
ui.shape("probs", probs.shape, t("prediction.shape_probs"))

# ---- layer by layer ------------------------------------------------------------------------------------------
st.header(t("prediction.layers_title"))
st.markdown(t("prediction.layers_intro", L=L))
lp = a.layer_probs[:, top]  # (L+1, k): the final top-k classes at every layer
layers = list(range(L + 1))
left, right = st.columns(2)
with left:
    fig = go.Figure()
    for j, name in enumerate(names):
        fig.add_scatter(x=layers, y=lp[:, j].astype(np.float32), mode="lines+markers", name=name,
                        hovertemplate=t("prediction.line_hover"))
    fig.update_layout(height=380, title=t("prediction.lines_title", k=k), margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(title=t("prediction.layer_axis"), dtick=1),
                      yaxis=dict(title=t("prediction.prob_axis"), range=[0, 1], tickformat=".0%"),
                      legend=dict(orientation="h", y=-0.25))
    st.plotly_chart(fig, key="prediction_lines")
with right:
    layer_names = [str(layer) for layer in layers]
    st.plotly_chart(plots.heatmap(lp, x=names, y=layer_names, hovertemplate=t("prediction.heat_hover"), zmin=0,
                                  zmax=1, height=380, title=t("prediction.heat_title", k=k),
                                  yaxis=t("prediction.layer_axis")), key="prediction_heat")
st.caption(t("prediction.layers_caption"))

best = a.layer_probs.argmax(axis=1)  # (L+1,): the top class at each layer, among all classes
st.subheader(t("prediction.table_title"))
st.dataframe({t("prediction.col_layer"): layers,
              t("prediction.col_class"): [class_name(int(i)) for i in best],
              t("prediction.col_prob"): [f"{a.layer_probs[layer, i]:.1%}" for layer, i in zip(layers, best)]},
             hide_index=True, key="prediction_table")
st.caption(t("prediction.table_caption", n=n))
ui.shape("layer_probs", a.layer_probs.shape, t("prediction.shape_layer_probs", L=L, n=n))
ui.source(ViT.classify, layer_predictions)
