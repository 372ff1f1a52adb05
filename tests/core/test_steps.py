"""The one list of steps (app/steps/__init__.py) is the app's: every page file is in it, each step is importable by
name without running, has a title in every language, and the sidebar numbers the walkthrough in its order."""
from __future__ import annotations

import importlib

from app import i18n
from app.steps import NAMES, STEPS, step

from tests.conftest import ROOT


def test_every_page_file_is_a_step_and_every_step_a_page_file():
    files = sorted(p.stem for p in (ROOT / "app" / "steps").glob("*.py") if p.stem != "__init__")
    assert files == sorted(NAMES)
    assert len(set(NAMES)) == len(NAMES)


def test_a_step_imports_by_name_without_running_its_page():
    for s in STEPS:
        module = importlib.import_module(f"app.steps.{s.name}")
        assert callable(module.main), s.name
        assert (ROOT / "app" / s.file).is_file()


def test_titles_are_numbered_by_their_place_and_translated():
    assert [s.title("en") for s in STEPS][:2] == ["1 · Image → patches", "2 · Flatten"]
    assert step("attention").title("ko") == "5 · 어텐션 탐색기"
    assert step("about").title("en") == "About" and step("about").number is None
    assert [s.number for s in STEPS if s.number] == list(range(1, len(STEPS)))
    for lang in i18n.LANGUAGES:
        assert all(f"nav.{s.name}" in i18n.catalog(lang) for s in STEPS), lang
        assert not any(t[0].isdigit() for k, t in i18n.catalog(lang).items() if k.startswith("nav.")), lang


def test_the_first_step_is_served_at_the_root():
    assert STEPS[0].path == "" and step("attention").path == "attention"
