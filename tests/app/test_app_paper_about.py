"""Step 10 (the paper's results) and the About page, from the entry point; and the paper's data file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.i18n import catalog
from app.numbers import percent
from app.steps import step
from vit_core import load_model
from vit_core.data import class_names

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "app" / "main.py"
DATA = ROOT / "app" / "data" / "paper_results.json"
TEACHING = ROOT / "assets" / "models" / "fashion-vit"


# parameters, counted by hand: the teaching model's card says 208,010; the ViT-B/16-shaped headless one (D 96, 3
# layers, MLP 192, 197 tokens) has E 96·768 + 96, cls 96, E_pos 197·96, 3 blocks of 2·2·96 + 4·(96·96 + 96) +
# (96·192 + 192) + (192·96 + 96), and the final LayerNorm 2·96
PARAMETERS = {"teaching": 208_010, "headless": 73_824 + 96 + 18_912 + 3 * 74_784 + 192}


@pytest.fixture(params=["teaching", "headless"])
def model(request, headless_model) -> tuple[str, Path, int]:
    """(model_id for the app, checkpoint folder, its number of parameters)."""
    if request.param == "teaching":
        return "teaching", TEACHING, PARAMETERS["teaching"]
    return headless_model, Path(headless_model.removeprefix("path:")), PARAMETERS["headless"]


def render(page: str, model_id: str, lang: str) -> AppTest:
    """Run the app from its entry point (choosing the model in the sidebar), switch the language with the sidebar
    selectbox, then open `page`."""
    at = AppTest.from_file(str(MAIN), default_timeout=120)
    at.session_state["model_id"] = model_id
    if model_id.startswith("path:"):  # the sidebar's model picker: "a checkpoint folder on this computer"
        at.session_state["model_choice"] = "local"
        at.session_state["model_folder"] = model_id.removeprefix("path:")
    at.run()
    assert not at.exception
    if lang != "en":
        at.selectbox(key="lang").set_value(lang).run()
        assert not at.exception
    at.switch_page(page)
    # AppTest runs a page reached with switch_page without main.py (so without the sidebar's language widget,
    # whose value it then drops); a real session runs main.py every time. Hand the page the language directly.
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception
    return at


def chart_spec(at: AppTest, index: int) -> str:
    return at.get("plotly_chart")[index].proto.spec


# ---------------------------------------------------------------- the data file

@pytest.fixture(scope="module")
def data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def test_every_table_has_its_source(data):
    assert "arxiv.org/abs/2010.11929" in data["paper"]["arxiv"]
    assert len(data["paper"]["authors"]) == 12 and data["paper"]["authors"][0] == "Alexey Dosovitskiy"
    for n in (1, 2, 5, 6):
        table = data[f"table{n}"]
        assert table["source"].startswith(f"Dosovitskiy et al., An Image is Worth 16x16 Words, ICLR 2021, Table {n}")
        assert table["caption"]


def test_table2_spot_values(data):
    t2 = data["table2"]
    rows = {r["key"]: r["cells"] for r in t2["rows"]}
    assert [c["key"] for c in t2["columns"]] == ["vit_h14_jft", "vit_l16_jft", "vit_l16_i21k", "bit_l", "noisy_student"]
    assert rows["imagenet"]["vit_h14_jft"] == {"mean": 88.55, "std": 0.04}
    assert rows["imagenet"]["bit_l"]["mean"] == 87.54
    assert rows["vtab"]["vit_h14_jft"]["mean"] == 77.63
    assert rows["cifar100"]["vit_h14_jft"]["mean"] == 94.55
    assert rows["tpuv3_core_days"]["vit_h14_jft"]["mean"] == 2.5 and rows["tpuv3_core_days"]["bit_l"]["mean"] == 9.9
    assert "noisy_student" not in rows["cifar10"]  # printed "-" in the paper: left out, not invented
    keys = {c["key"] for c in t2["columns"]}
    assert all(set(cells) <= keys for cells in rows.values())


def test_table5_spot_values(data):
    t5 = data["table5"]
    v = t5["values"]
    assert [v[s]["imagenet"]["ViT-B/16"] for s in ("imagenet", "imagenet21k", "jft300m")] == [77.91, 83.97, 84.15]
    assert v["imagenet"]["imagenet"]["ViT-L/16"] == 76.53
    assert "ViT-H/14" not in v["imagenet"]["imagenet"]  # not pre-trained on ImageNet alone
    sizes = [s["images"] for s in t5["pretraining"]]
    assert sizes == sorted(sizes) and sizes[-1] == 303_000_000
    for s in t5["pretraining"]:
        assert set(v[s["key"]]) == set(t5["finetuning"])


def test_table5_jft_column_matches_table6(data):
    """The paper's Table 5 JFT-300M values are the same runs as Table 6's ViTs (L/16: the 14-epoch one)."""
    jft = data["table5"]["values"]["jft300m"]
    t6 = {(r["model"], r["epochs"]): r for r in data["table6"]["rows"]}
    for model, epochs in (("ViT-B/32", 7), ("ViT-B/16", 7), ("ViT-L/32", 7), ("ViT-L/16", 14)):
        for dataset in data["table6"]["metrics"]:
            assert jft[dataset][model] == t6[(model, epochs)][dataset], (model, dataset)


def test_table6_spot_values(data):
    rows = data["table6"]["rows"]
    assert len(rows) == 18 and {r["family"] for r in rows} == {"vit", "resnet", "hybrid"}
    h14 = next(r for r in rows if r["model"] == "ViT-H/14")
    assert (h14["epochs"], h14["imagenet"], h14["exaflops"]) == (14, 88.08, 4262)
    r50 = next(r for r in rows if r["model"] == "ResNet50x1")
    assert (r50["imagenet"], r50["exaflops"]) == (77.54, 50)
    assert all(set(data["table6"]["metrics"]) <= set(r) for r in rows)


# ---------------------------------------------------------------- step 7: the paper's results

@pytest.mark.parametrize("lang", ["en", "ko"])
def test_paper_page_renders(model, lang):
    model_id, folder, _ = model
    at = render(step("paper").file, model_id, lang)
    assert at.title[0].value == step("paper").heading(lang)
    assert len(at.get("plotly_chart")) == 2
    table2, table1 = at.dataframe[0].value, at.dataframe[1].value
    assert table2.iloc[0, 0] == catalog(lang)["paper.ds_imagenet"] and table2.iloc[0, 1] == "88.55"  # ViT-H/14
    assert len(table2) == 8 and table2.iloc[-1, -1] == "12.3k"
    layers = load_model(folder).model.config.num_hidden_layers
    assert len(table1) == 4 and table1.iloc[3, 1] == layers  # the paper's three sizes and this app's model
    captions = " ".join(c.value for c in at.caption)
    # every source names its table in the page's language ("Table 5 (Appendix C)", "표 5 (부록 C)")
    table, appendix = {"en": ("Table", "Appendix"), "ko": ("표", "부록")}[lang]
    assert f"{table} 2." in captions and f"{table} 5 ({appendix} C)." in captions and f"{table} 1." in captions
    assert lang == "en" or "Table" not in captions and "Appendix" not in captions
    assert "arxiv.org/abs/2010.11929" in " ".join(m.value for m in at.markdown)
    for i in range(2):  # compact charts: a few KB each
        assert len(chart_spec(at, i)) < 20_000


def test_paper_page_widgets_change_what_is_shown():
    at = render(step("paper").file, "teaching", "en")
    assert "88.04" in chart_spec(at, 0) and "94.55" not in chart_spec(at, 0)  # ImageNet: H/14 after JFT
    at.selectbox(key="paper_t5_target").set_value("cifar100").run()
    assert not at.exception
    assert "94.55" in chart_spec(at, 0) and "88.04" not in chart_spec(at, 0)
    assert "91.92" in chart_spec(at, 0)  # the ResNets of Table 6 are shown (ResNet152x2, 14 epochs, CIFAR-100)…
    at.checkbox(key="paper_t5_resnets").uncheck().run()
    assert not at.exception
    assert "91.92" not in chart_spec(at, 0) and "94.55" in chart_spec(at, 0)  # …until switched off

    assert "4262" in chart_spec(at, 1) and "97.36" not in chart_spec(at, 1)
    at.selectbox(key="paper_t6_metric").set_value("pets").run()
    assert not at.exception
    assert "97.36" in chart_spec(at, 1)  # R50x1+ViT-L/16, 14 epochs, Pets

    assert at.dataframe[0].value.iloc[0, 1] == "88.55"
    at.toggle(key="paper_t2_std").set_value(True).run()
    assert at.dataframe[0].value.iloc[0, 1] == "88.55 ± 0.04"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_table1_gives_the_apps_model_in_the_papers_unit(lang):
    """208,010 parameters beside the paper's "86M" would compare a count with millions: the row says 0.208M, and the
    caption says what that row is and how many parameters it has."""
    at = render(step("paper").file, "teaching", lang)
    table1 = at.dataframe[1].value
    assert list(table1.iloc[:, -1]) == ["86M", "307M", "632M", "0.208M"]
    assert table1.columns[-1] == catalog(lang)["paper.t1_params"] and "M" in table1.columns[-1]
    assert table1.iloc[3, 0].startswith(catalog(lang)["paper.t1_this"])
    captions = " ".join(c.value for c in at.caption)
    assert catalog(lang)["paper.t1_this_caption"].format(n="208,010", m="0.208M") in captions
    assert catalog(lang)["paper.t1_this_smaller"].format(times="413", model="ViT-Base") in captions  # 86M / 208,010


def test_paper_page_without_a_loadable_model(tmp_path):
    """The paper's numbers do not need the model: a broken checkpoint only drops the app's row from Table 1."""
    at = render(step("paper").file, f"path:{tmp_path}", "en")
    assert len(at.dataframe[1].value) == 3
    assert catalog("en")["paper.t1_unavailable"] in " ".join(c.value for c in at.caption)


# ---------------------------------------------------------------- About

@pytest.mark.parametrize("lang", ["en", "ko"])
def test_about_page_renders(model, lang):
    model_id, folder, parameters = model
    at = render(step("about").file, model_id, lang)
    text = catalog(lang)
    assert at.title[0].value == text["about.title"]
    loaded = load_model(folder)
    cfg = loaded.model.config
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[text["about.m_dim"]] == str(cfg.hidden_size)
    assert metrics[text["about.m_layers"]] == str(cfg.num_hidden_layers)
    assert metrics[text["about.m_patches"]] == f"{cfg.grid_size}×{cfg.grid_size} = {cfg.num_patches}"
    assert metrics[text["about.m_params"]] == f"{parameters:,}"
    parts = at.dataframe[0].value
    assert parts[text["about.count"]].sum() == parameters
    headers = [h.value for h in at.header]
    assert text["about.credits_title"] in headers and text["about.offline_title"] in headers
    markdown = " ".join(m.value for m in at.markdown)
    assert "Zalando" in markdown and "2010.11929" in markdown

    if cfg.labels:
        assert metrics[text["about.m_classes"]] == str(cfg.num_labels)
    else:
        assert metrics[text["about.m_classes"]] == text["about.m_no_head"]

    card = folder / f"README.{lang}.md"  # the card in the page's language where there is one (README.ko.md)
    if lang == "en" or not card.is_file():
        card = folder / "README.md"
    captions = [c.value for c in at.caption]
    if card.is_file():
        heading = next(line for line in card.read_text(encoding="utf-8").splitlines() if line.startswith("# "))
        assert heading[2:] in markdown
        assert "library_name:" not in markdown  # the YAML header is not shown
        # "the card is in English" only where it is and the page is not
        assert (text["about.card_language"] in captions) == (lang != "en" and card.name == "README.md")
    else:
        assert text["about.card_missing"] in captions

    training = folder / "training.json"
    if training.is_file():
        summary = json.loads(training.read_text())
        assert len(at.get("plotly_chart")) == 1
        assert len(at.dataframe[1].value) == len(summary["per_class_accuracy"])
        # the classes by the names the prediction page gives them (class_names.json beside the teaching model)
        names = [class_names(lang).get(name, name) for name in summary["per_class_accuracy"]]
        assert list(at.dataframe[1].value[text["about.train_class"]]) == names
        assert text["about.classes_many"].format(n=len(names), names=", ".join(names[:8])) in captions
        assert metrics[text["about.train_test_acc"]] == percent(summary["test_accuracy"])
    else:
        assert len(at.get("plotly_chart")) == 0
        assert text["about.train_none"] in [c.value for c in at.caption]


def test_about_page_with_a_broken_model(tmp_path):
    """A folder that is not a checkpoint: a clear message, no traceback, and the rest of the page still there."""
    (tmp_path / "config.json").write_text("{not json")
    at = render(step("about").file, f"path:{tmp_path}", "en")
    assert at.error and not at.metric
    assert catalog("en")["about.credits_title"] in [h.value for h in at.header]


def test_about_page_with_an_unreadable_training_file(tmp_path):
    loaded = load_model(TEACHING)
    from vit_core import save_model
    save_model(loaded.model, tmp_path, loaded.preprocess)
    (tmp_path / "training.json").write_text("{oops")
    at = render(step("about").file, f"path:{tmp_path}", "en")
    assert at.warning and not at.get("plotly_chart")


def test_about_page_shows_the_english_card_where_there_is_no_korean_one(tmp_path):
    """A checkpoint folder with README.md only: the Korean page shows it, and says that it is in English."""
    import shutil

    folder = shutil.copytree(TEACHING, tmp_path / "model")
    (folder / "README.ko.md").unlink()
    at = render(step("about").file, f"path:{folder}", "ko")
    markdown = " ".join(m.value for m in at.markdown)
    assert "fashion-vit: the ViT Explainer's teaching model" in markdown
    assert catalog("ko")["about.card_language"] in [c.value for c in at.caption]
    # and the teaching model's own folder has its Korean card, shown without that note
    at = render(step("about").file, "teaching", "ko")
    markdown = " ".join(m.value for m in at.markdown)
    assert "ViT Explainer의 교육용 모델" in markdown and "the ViT Explainer's teaching model" not in markdown
    assert catalog("ko")["about.card_language"] not in [c.value for c in at.caption]
