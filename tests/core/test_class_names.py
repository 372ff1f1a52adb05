"""The classes' names are written once, in assets/models/fashion-vit/class_names.json: its English names are the
model's (config.json's id2label, vit_core.data.LABELS), and every other place that names a class (the model card, the
demo pictures' manifest, the app) says what the file says, spelled the same."""
from __future__ import annotations

import json
from pathlib import Path

from app.i18n import LANGUAGES, catalog
from vit_core.data import CLASS_NAMES, LABELS, class_names

from tests.conftest import ROOT, TEACHING

CLASSES = json.loads(CLASS_NAMES.read_text(encoding="utf-8"))["classes"]
# where a class may be named: code, catalogs, data files, documents (not this file: it misspells them on purpose)
SEARCHED = ("app", "vit_core", "scripts", "assets", "docs", "tests", "benchmarks", "deploy")
TEXT = (".py", ".toml", ".json", ".md", ".js", ".css", ".txt", ".html")


def test_the_file_is_beside_the_teaching_model_and_its_english_is_the_models():
    assert CLASS_NAMES.parent == TEACHING
    id2label = json.loads((TEACHING / "config.json").read_text())["id2label"]
    assert [c["en"] for c in CLASSES] == [id2label[str(i)] for i in range(len(id2label))] == list(LABELS)


def test_every_class_has_a_name_in_every_language_of_the_app():
    for lang in LANGUAGES:
        names = class_names(lang)
        assert list(names) == list(LABELS), lang
        assert all(n.strip() == n and n for n in names.values()), lang
        assert len(set(names.values())) == len(names), lang
    assert class_names("en") == {name: name for name in LABELS}


def test_the_manifest_names_each_fashion_picture_as_the_file_does():
    manifest = json.loads((ROOT / "assets" / "images" / "manifest.json").read_text(encoding="utf-8"))
    fashion = [e for e in manifest if e["kind"] == "fashion-mnist"]
    assert len(fashion) == len(LABELS)
    for e in fashion:
        for lang in ("en", "ko"):
            name = class_names(lang)[e["label"]]
            assert e[f"title_{lang}"].endswith(f": {name}") and e[f"short_{lang}"].endswith(f" · {name}"), e["file"]


def test_the_korean_model_card_names_the_classes_as_the_file_does():
    card = (TEACHING / "README.ko.md").read_text(encoding="utf-8")
    ko = class_names("ko")
    assert f"| 클래스 | {', '.join(ko.values())} |" in card
    for name in ko.values():
        assert f"\n| {name} | " in card  # its row of the per-class accuracy table


def test_no_catalog_keeps_a_copy_of_a_class_name():
    for lang in LANGUAGES:
        copies = {k: v for k, v in catalog(lang).items() if v in class_names(lang).values()}
        assert not copies, f"{lang}: class names belong in {CLASS_NAMES.name}, not in a catalog: {copies}"


def variants(name: str) -> set[str]:
    """Other spellings of `name` a hand might write: without its spaces, or with one more ("앵클 부츠" for
    "앵클부츠")."""
    spaced = {name[:i] + " " + name[i:] for i in range(1, len(name)) if " " not in name[i - 1:i + 1]}
    return ({name.replace(" ", "")} | spaced) - {name}


def test_the_variants():
    assert variants("앵클부츠") == {"앵 클부츠", "앵클 부츠", "앵클부 츠"}
    assert "앵클부츠" in variants("앵클 부츠") and "앵클부츠" not in variants("앵클부츠")


def test_no_file_spells_a_class_name_another_way():
    """Korean names differ in spacing more than in letters: the demo picker once said 앵클 부츠 where the prediction
    said 앵클부츠."""
    wrong = {v: name for name in class_names("ko").values() for v in variants(name)}
    found = []
    for folder in SEARCHED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in TEXT or not path.is_file() or path == Path(__file__).resolve():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{path.relative_to(ROOT)}: {v!r} for {name!r}" for v, name in wrong.items() if v in text]
    assert not found, "class names spelled otherwise than in class_names.json:\n" + "\n".join(found)
