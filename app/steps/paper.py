"""Step 7 — what the paper found: its own numbers (Tables 1, 2, 5 and 6), read from app/data/paper_results.json."""
import json
import re
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import core, numbers, style, ui
from app.numbers import paper  # a value of the paper's tables, as the paper prints it
from app.i18n import t
from vit_core import ModelError, views

DATA = Path(__file__).resolve().parent.parent / "data" / "paper_results.json"
PAPER_Y = f"%{{y:{numbers.D3_PAPER}}}%"  # a chart's accuracy in its hover, as Tables 5 and 6 print it: 88.08%
COLORS = {"vit": "#e4572e", "resnet": "#4c72b0", "hybrid": "#59a14f"}
SOURCE = re.compile(r"(?P<cite>.+), Table (?P<n>\d+)(?: \(Appendix (?P<appendix>\w+)\))?")  # as the data file writes it


@st.cache_data(show_spinner=False)
def paper_data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def current_model():
    """The model the app is explaining, or None if it cannot be loaded (this page does not need it)."""
    try:
        return core.get_model(st.session_state.get("model_id", core.TEACHING_ID))
    except (ModelError, OSError):
        return None


def main() -> None:
    data = paper_data()
    ui.heading("paper")
    st.markdown(t("paper.intro"))
    citation(data["paper"])
    table2(data["table2"])
    table5(data["table5"], data["table6"])
    table6(data["table6"], data["table5"])
    table1(data["table1"])
    where_the_numbers_come_from()


def source(table: dict) -> str:
    """"Source: <the paper>, Table 5 (Appendix C)." with the table's place in the page's language; a source written
    in another form, as it is."""
    m = SOURCE.fullmatch(table["source"])
    if m is None:
        return t("paper.source", source=table["source"])
    where = (t("paper.table_appendix", n=m["n"], appendix=m["appendix"]) if m["appendix"]
             else t("paper.table_n", n=m["n"]))
    return t("paper.source", source=f"{m['cite']}, {where}")


def names() -> tuple[dict, dict, dict]:
    """The data sets, pre-training sets and model families, in the page's language."""
    datasets = {
        "imagenet": t("paper.ds_imagenet"), "imagenet_real": t("paper.ds_imagenet_real"),
        "cifar10": t("paper.ds_cifar10"), "cifar100": t("paper.ds_cifar100"), "pets": t("paper.ds_pets"),
        "flowers": t("paper.ds_flowers"), "vtab": t("paper.ds_vtab"), "tpuv3_core_days": t("paper.t2_compute"),
    }
    pretraining = {
        "imagenet": t("paper.pre_imagenet"), "imagenet21k": t("paper.pre_imagenet21k"),
        "jft300m": t("paper.pre_jft300m"), "imagenet_jft_unlabelled": t("paper.pre_ns"),
    }
    families = {"vit": t("paper.t6_vit"), "resnet": t("paper.t6_resnet"), "hybrid": t("paper.t6_hybrid")}
    return datasets, pretraining, families


def citation(paper: dict) -> None:
    with st.container(border=True):
        st.markdown(f"**{t('paper.cite_title')}** — " + t("paper.cite", authors=", ".join(paper["authors"]),
                                                            title=paper["title"], venue=paper["venue"],
                                                            arxiv=paper["arxiv"], code=paper["code"]))
        with st.expander(t("paper.bibtex")):
            st.code(paper["bibtex"], language="bibtex")


def table2(t2: dict) -> None:
    """Table 2: the headline comparison."""
    DATASETS, PRETRAINING, _ = names()
    st.header(t("paper.t2_title"), anchor="paper-table2")
    st.markdown(t("paper.t2_intro"))
    cells = {row["key"]: row["cells"] for row in t2["rows"]}
    cost = {k: v["mean"] for k, v in cells["tpuv3_core_days"].items()}
    h14, l16, bit = "vit_h14_jft", "vit_l16_jft", "bit_l"
    row = st.container(key=style.metric_grid("paper_t2", wide=True))  # three a row where they fit, fewer where not
    row.metric(t("paper.t2_metric_acc"), f"{paper(cells['imagenet'][h14]['mean'])}%",
               delta=f"{numbers.signed(cells['imagenet'][h14]['mean'] - cells['imagenet'][bit]['mean'])} "
                     f"(BiT-L {paper(cells['imagenet'][bit]['mean'])}%)")
    row.metric(t("paper.t2_metric_cost"), t("paper.t2_metric_cost_value", ratio=numbers.number(cost[bit] / cost[h14])),
               delta=f"{paper(cost[h14])}k vs {paper(cost[bit])}k", delta_color="off")
    row.metric(t("paper.t2_metric_l16"), t("paper.t2_metric_cost_value", ratio=numbers.number(cost[bit] / cost[l16])),
               delta=f"{paper(cost[l16])}k vs {paper(cost[bit])}k", delta_color="off")
    show_std = st.toggle(t("paper.t2_std"), value=False, key="paper_t2_std")

    def cell_text(row_key: str, cell: dict | None) -> str:
        if cell is None:
            return "–"
        if "display" in cell:
            return cell["display"]
        if row_key == "tpuv3_core_days":
            return f"{paper(cell['mean'])}k"
        return paper(cell["mean"]) + (f" ± {paper(cell['std'])}" if show_std and "std" in cell else "")

    benchmark = t("paper.t2_benchmark")
    headers = [c["label"] for c in t2["columns"]]
    shown = pd.DataFrame([[DATASETS[row["key"]]] + [cell_text(row["key"], row["cells"].get(c["key"]))
                                                     for c in t2["columns"]] for row in t2["rows"]],
                         columns=[benchmark] + headers)
    bold = pd.DataFrame("", index=shown.index, columns=shown.columns)
    for i, row in enumerate(t2["rows"]):
        values = {c["key"]: row["cells"][c["key"]]["mean"] for c in t2["columns"] if c["key"] in row["cells"]}
        best = (min if row["key"] == "tpuv3_core_days" else max)(values.values())
        for j, c in enumerate(t2["columns"]):
            if values.get(c["key"]) == best:
                bold.iat[i, j + 1] = "font-weight: bold"
    help_text = {c["label"]: st.column_config.TextColumn(help=t("paper.t2_col_help", model=c["model"],
                                                               data=PRETRAINING[c["pretraining"]]))
                 for c in t2["columns"]}
    st.dataframe(shown.style.apply(lambda _: bold, axis=None), width="stretch", hide_index=True,
                 column_config={benchmark: st.column_config.TextColumn(pinned=True), **help_text})
    st.caption(source(t2) + " " + t("paper.note_missing"))
    real, vtab = cells["imagenet_real"], cells["vtab"]
    st.markdown(t("paper.t2_reading", l16_real=paper(real[l16]["mean"]), bit_real=paper(real[bit]["mean"]),
                  l16_vtab=paper(vtab[l16]["mean"]), bit_vtab=paper(vtab[bit]["mean"]),
                  bit_vtab_std=paper(vtab[bit]["std"]), l16_ratio=cost[bit] / cost[l16],
                  h14_ratio=cost[bit] / cost[h14]))
    with st.expander(t("paper.t2_notes")):
        for note in ("paper.note_ns", "paper.note_res", "paper.note_tpu"):
            st.markdown("- " + t(note))


def table5(t5: dict, t6: dict) -> None:
    """Table 5: accuracy against the size of the pre-training data."""
    DATASETS, PRETRAINING, _ = names()
    st.header(t("paper.t5_title"), anchor="paper-table5")
    st.markdown(t("paper.t5_intro"))
    left, _ = st.columns([1, 2])
    target = left.selectbox(t("paper.t5_target"), t5["finetuning"], format_func=DATASETS.get, key="paper_t5_target")
    show_resnets = st.checkbox(t("paper.t5_resnets"), value=True, key="paper_t5_resnets")  # a long label: own row
    sets = t5["pretraining"]
    fig = go.Figure()
    for model in t5["models"]:
        points = [(s, t5["values"][s["key"]][target][model]) for s in sets if model in t5["values"][s["key"]][target]]
        fig.add_trace(go.Scatter(
            x=[s["images"] for s, _ in points], y=[v for _, v in points], mode="lines+markers", name=model,
            customdata=[PRETRAINING[s["key"]] for s, _ in points], marker=dict(size=9),
            hovertemplate=f"<b>{model}</b><br>%{{customdata}}<br>{t('paper.t5_hover_acc')}: {PAPER_Y}<extra></extra>"))
    if show_resnets:
        resnets = [r for r in t6["rows"] if r["family"] == "resnet"]
        jft = next(s for s in sets if s["key"] == "jft300m")
        fig.add_trace(go.Scatter(
            x=[jft["images"]] * len(resnets), y=[r[target] for r in resnets], mode="markers",
            name=t("paper.t5_resnets_name"), marker=dict(symbol="line-ew-open", size=26, color=COLORS["resnet"],
                                                          line=dict(width=3, color=COLORS["resnet"])),
            customdata=[f"{r['model']} ({r['epochs']} {t('paper.t6_epochs')})" for r in resnets],
            hovertemplate=f"<b>%{{customdata}}</b><br>{t('paper.t5_hover_acc')}: {PAPER_Y}<extra></extra>"))
    fig.update_xaxes(type="log", title=t("paper.t5_xaxis"), tickvals=[s["images"] for s in sets],
                     ticktext=[PRETRAINING[s["key"]].replace(" (", "<br>(") for s in sets])
    fig.update_yaxes(title=t("paper.t5_yaxis"))
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="v"),
                      title=DATASETS[target])
    ui.chart(fig, key="paper_t5_chart", value=paper)
    st.caption(source(t5) + " " + t("paper.t5_missing") + " " + h14_disagreement(t5, t6, DATASETS))
    imnet = {s: t5["values"][s]["imagenet"] for s in ("imagenet", "imagenet21k", "jft300m")}
    st.markdown(t("paper.t5_message",
                  l16_small=paper(imnet["imagenet"]["ViT-L/16"]), b16_small=paper(imnet["imagenet"]["ViT-B/16"]),
                  l16_mid=paper(imnet["imagenet21k"]["ViT-L/16"]), b16_mid=paper(imnet["imagenet21k"]["ViT-B/16"]),
                  l16_big=paper(imnet["jft300m"]["ViT-L/16"]), b16_big=paper(imnet["jft300m"]["ViT-B/16"]),
                  h14_big=paper(imnet["jft300m"]["ViT-H/14"])))
    st.info(t("paper.t5_bit_note"))


def table6(t6: dict, t5: dict) -> None:
    """Table 6: accuracy against pre-training compute."""
    DATASETS, _, FAMILIES = names()
    st.header(t("paper.t6_title"), anchor="paper-table6")
    st.markdown(t("paper.t6_intro"))
    left, right = st.columns([1, 2])
    metric = left.selectbox(t("paper.t6_metric"), t6["metrics"], format_func=DATASETS.get, key="paper_t6_metric")
    labels = right.checkbox(t("paper.t6_labels"), value=False, key="paper_t6_labels")
    fig = go.Figure()
    for family, name in FAMILIES.items():
        rows = sorted((r for r in t6["rows"] if r["family"] == family), key=lambda r: r["exaflops"])
        fig.add_trace(go.Scatter(
            x=[r["exaflops"] for r in rows], y=[r[metric] for r in rows], name=name,
            mode="markers+text" if labels else "markers", text=[r["model"] for r in rows], textposition="top center",
            textfont=dict(size=10, color=COLORS[family]),
            marker=dict(size=[9 if r["epochs"] == 7 else 13 for r in rows], color=COLORS[family],
                        symbol="circle" if family == "vit" else ("square" if family == "resnet" else "diamond")),
            customdata=[[r["model"], r["epochs"]] for r in rows],
            hovertemplate=(f"<b>%{{customdata[0]}}</b> (%{{customdata[1]}} {t('paper.t6_epochs')})<br>"
                           f"%{{x:,}} exaFLOPs<br>{t('paper.t5_hover_acc')}: {PAPER_Y}<extra>{name}</extra>")))
    ticks = [50, 100, 200, 500, 1000, 2000, 5000]
    fig.update_xaxes(type="log", title=t("paper.t6_xaxis"), tickvals=ticks, ticktext=[f"{v:,}" for v in ticks])
    fig.update_yaxes(title=t("paper.t6_yaxis"))
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10), title=DATASETS[metric])
    ui.chart(fig, key="paper_t6_chart", value=paper)
    st.caption(source(t6) + " " + h14_disagreement(t5, t6, DATASETS))
    st.markdown(t("paper.t6_message"))


def h14_disagreement(t5: dict, t6: dict, datasets: dict) -> str:
    """Where Table 5 and Table 6 print different numbers for the same ViT-H/14 pre-trained on JFT-300M: "ImageNet
    88.04 vs 88.08, …" said wherever one of the two tables is drawn ("" if they agree)."""
    h14 = next(r for r in t6["rows"] if r["model"] == "ViT-H/14")
    jft = t5["values"]["jft300m"]
    pairs = [f"{datasets[k]} {paper(jft[k]['ViT-H/14'])} / {paper(h14[k])}" for k in t6["metrics"]
             if k in jft and "ViT-H/14" in jft[k] and jft[k]["ViT-H/14"] != h14[k]]
    return t("paper.h14_disagree", pairs=", ".join(pairs)) if pairs else ""


def table1(t1: dict) -> None:
    """Table 1: model sizes, next to the app's model."""
    st.header(t("paper.t1_title"), anchor="paper-table1")
    st.markdown(t("paper.t1_intro"))
    rows = [[r["model"], r["layers"], r["hidden_size"], r["mlp_size"], r["heads"], f"{r['params_millions']}M"]
            for r in t1["rows"]]
    loaded = current_model()
    if loaded is not None:  # in the paper's unit, millions: 208,010 is 0.208M
        cfg, n = loaded.model.config, views.parameter_count(loaded.model)
        rows.append([f"{t('paper.t1_this')} ({cfg.image_size}×{cfg.image_size}, P = {cfg.patch_size})",
                     cfg.num_hidden_layers, cfg.hidden_size, cfg.intermediate_size, cfg.num_attention_heads,
                     f"{numbers.number(n / 1e6)}M"])
    st.dataframe(pd.DataFrame(rows, columns=[t("paper.t2_model"), t("paper.t1_layers"), t("paper.t1_hidden"),
                                             t("paper.t1_mlp"), t("paper.t1_heads"), t("paper.t1_params")]),
                 hide_index=True, width="stretch")
    if loaded is None:
        this = t("paper.t1_unavailable")
    else:
        smallest = min(t1["rows"], key=lambda r: r["params_millions"])
        times = smallest["params_millions"] * 1e6 / n
        this = t("paper.t1_this_caption", n=f"{n:,}", m=rows[-1][-1]) + (
            " " + t("paper.t1_this_smaller", times=f"{times:,.0f}", model=smallest["model"]) if times >= 2 else "")
    st.caption(source(t1) + " " + this)


def where_the_numbers_come_from() -> None:
    with st.container(key="paper-sources"), st.expander(t("paper.data_title")):  # no heading: the anchor
        st.markdown(t("paper.data_body"))
        st.download_button(t("paper.download_json"), DATA.read_bytes(), file_name="paper_results.json",
                           mime="application/json", key="paper_json")


if __name__ == "__main__":  # Streamlit runs a page as __main__
    main()
