"""The translations: English and Korean catalogs agree, and every key the app uses exists in both.

Global on purpose: it scans every page and helper under app/, whoever wrote it.
"""
from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.i18n import LANGUAGES, LOCALES, catalog
from app.steps import STEPS
from tests.conftest import TEACHING

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
# t("namespace.key" or t('namespace.key' — a literal first argument; f-strings and variables are not keys
KEY_USE = re.compile(r"""\bt\(\s*(["'])([A-Za-z0-9_]+\.[A-Za-z0-9_]+)\1""")


def placeholders(text: str) -> set[str]:
    """The {names} that str.format fills in (format specs and attribute/index access ignored)."""
    return {re.split(r"[.\[]", field)[0] for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def used_keys() -> dict[str, list[str]]:
    """Every literal t("…") key under app/, with where it is used (file:line)."""
    found: dict[str, list[str]] = {}
    for path in sorted(APP.rglob("*.py")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in KEY_USE.finditer(line):
                found.setdefault(match.group(2), []).append(f"{path.relative_to(ROOT)}:{lineno}")
    return found


def test_every_language_has_the_same_namespace_files():
    files = {lang: {p.name for p in (LOCALES / lang).glob("*.toml")} for lang in LANGUAGES}
    every = set().union(*files.values())
    missing = {lang: sorted(every - names) for lang, names in files.items() if every - names}
    assert not missing, f"catalog files missing per language: {missing}"


def test_catalog_values_are_plain_non_empty_strings():
    bad = []
    for lang in LANGUAGES:
        for path in sorted((LOCALES / lang).glob("*.toml")):
            for name, value in tomllib.loads(path.read_text(encoding="utf-8")).items():
                if not isinstance(value, str) or not value.strip():
                    bad.append(f"{lang}/{path.name}: {name} = {value!r}")
    assert not bad, "empty or non-string catalog values:\n" + "\n".join(bad)


# A term of the lesson is written one way in Korean on every page: the spelling kept, then the others a catalog
# must not use, in the catalogs and in the model card page 10 quotes (vit_core/model_card.py writes it; the walk of
# issue 28 found "에포크" on page 6 and "에폭" on pages 9 and 10).
KOREAN_TERMS = {"에포크": ("에폭",)}


def test_every_korean_term_is_spelled_one_way():
    ko = {**catalog("ko"), "the Korean model card (page 10)": (TEACHING / "README.ko.md").read_text(encoding="utf-8")}
    found = [f"{key}: {other!r} (the app writes {kept!r})" for kept, others in KOREAN_TERMS.items()
             for other in others for key, value in ko.items() if other in value]
    assert not found, "a Korean term spelled another way:\n" + "\n".join(found)


def test_en_and_ko_have_exactly_the_same_keys():
    keys = {lang: set(catalog(lang)) for lang in LANGUAGES}
    every = set().union(*keys.values())
    missing = {lang: sorted(every - k) for lang, k in keys.items() if every - k}
    assert not missing, "keys missing per language:\n" + "\n".join(
        f"  {lang}: {', '.join(names)}" for lang, names in missing.items())


def test_every_key_used_in_the_app_exists_in_every_language():
    used = used_keys()
    assert len(used) > 20, "the scan found almost no t(...) calls: is the pattern still right?"
    missing = [f"  {key} (used at {', '.join(where)}) missing in: {', '.join(lang for lang in LANGUAGES if key not in catalog(lang))}"
               for key, where in sorted(used.items()) if any(key not in catalog(lang) for lang in LANGUAGES)]
    assert not missing, "t() keys without a translation:\n" + "\n".join(missing)


def test_placeholders_are_the_same_in_every_language():
    en = catalog("en")
    bad = []
    for lang in LANGUAGES:
        if lang == "en":
            continue
        other = catalog(lang)
        for key in sorted(set(en) & set(other)):
            try:
                a, b = placeholders(en[key]), placeholders(other[key])
            except ValueError as e:  # an unbalanced brace: str.format would fail at run time
                bad.append(f"  {key}: cannot be formatted ({e})")
                continue
            if a != b:
                bad.append(f"  {key}: en {sorted(a)} vs {lang} {sorted(b)}")
    assert not bad, "placeholders differ between languages:\n" + "\n".join(bad)


def test_the_placeholder_parser():
    assert placeholders("{a} and {b:.2f}, {c:,} {{literal}}") == {"a", "b", "c"}
    assert placeholders("no fields") == set()


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_switching_the_language_changes_the_page_and_back(lang):
    """The language selectbox (key "lang") switches the page title to the catalog's text, and back."""
    at = AppTest.from_file(str(APP / "main.py"), default_timeout=120)
    at.run()
    assert not at.exception

    def title_in(code: str) -> bool:
        start = STEPS[0].heading(code, N=0).split("0")[0]  # the default page's title, up to its number of patches
        assert len(start) > 3
        return at.title[0].value.startswith(start)

    assert title_in("en") and not title_in(lang)
    assert at.selectbox(key="demo").label == catalog("en")["common.demo"]
    at.selectbox(key="lang").set_value(lang).run()
    assert not at.exception
    assert title_in(lang) and not title_in("en")
    # After its first run AppTest (streamlit 1.67, with an app/pages/ folder next to main.py) re-runs only the
    # current page, not main.py, so the sidebar selectbox is not there to click again; a real session runs
    # main.py every time. Setting the widget's key is what the selectbox itself does.
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    assert title_in("en") and not title_in(lang)
