"""The custom components are files a person can read (app/components/<folder>/, joined by app/components/__init__.py):
no JavaScript left inside a Python string, no file that no component joins, none longer than a few screens, each
component one ES module with one `export default`, and one document-wide MutationObserver for all of them."""
from __future__ import annotations

import ast
import posixpath
import re
import runpy

import pytest

from app import components

from tests.conftest import ROOT

APP = ROOT / "app"
HERE = APP / "components"
MAX_LINES = 250
EXPORT = re.compile(r"^\s*export\s+default\b", re.MULTILINE)


@pytest.fixture(scope="module")
def registered() -> dict[str, dict]:
    """Every component a mount (app/components/<folder>/__init__.py) registers, by its name: the files it joins
    (paths under app/components/, in order) and its joined JavaScript and CSS. Each mount runs afresh with a
    `register` that records instead of registering."""
    found: dict[str, dict] = {}

    def record(name, folder, js, css=(), *, isolate_styles=True):
        assert name not in found, f"two components are named {name!r}"
        found[name] = {"files": [posixpath.normpath(f"{folder}/{f}") for f in (*js, *css)],
                       "js": components.joined(folder, js), "css": components.joined(folder, css) if css else ""}

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(components, "register", record)
        for mount in sorted(HERE.glob("*/__init__.py")):
            runpy.run_path(str(mount))
    return found


def test_the_app_components_are_registered_under_their_names(registered):
    """Tests and benchmarks find a component by its name (the frontend's element id ends with it)."""
    assert {"url_state", "phone_sidebar", "upload_guard", "streamlit_texts"} <= set(registered)


def test_every_file_is_joined_by_some_component(registered):
    used = {path for component in registered.values() for path in component["files"]}
    files = {p.relative_to(HERE).as_posix() for p in HERE.rglob("*") if p.suffix in (".js", ".css")}
    assert len(files) >= 5
    assert files - used == set(), "files no component joins"
    assert used - files == set(), "joined files that are not there"


def test_no_javascript_file_is_longer_than_a_few_screens():
    long = {p.relative_to(HERE).as_posix(): n for p in HERE.rglob("*.js")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_each_component_is_one_module_with_one_default_export(registered):
    """Each file is a plain script part; only the last one joined has `export default` (and no part imports). Each
    part is headed by its path in a comment that JavaScript and CSS both read as one."""
    for name, component in registered.items():
        parts = re.split(r"^/\* ---- app/components/\S+ \*/\n", component["js"], flags=re.MULTILINE)[1:]
        assert len(parts) == len([f for f in component["files"] if f.endswith(".js")]), name
        assert len(EXPORT.findall(component["js"])) == 1, name
        assert EXPORT.search(parts[-1]), f"{name}: the default export is not in its last file"
        assert not re.search(r"^\s*import\s", component["js"], re.MULTILINE), name
        # CSS has no // comment: a line that starts with one swallows the rule after it
        assert not re.search(r"^\s*//", component["css"], re.MULTILINE), name


def _inline(value: ast.expr, strings: set[str]) -> bool:
    """Whether a js=/css= argument holds source text: a string literal of several lines or an f-string anywhere in
    it, or a name the module assigns one to (JS = \"\"\"…\"\"\")."""
    return any(isinstance(node, ast.JoinedStr) or isinstance(node, ast.Constant) and isinstance(node.value, str)
               and "\n" in node.value or isinstance(node, ast.Name) and node.id in strings for node in ast.walk(value))


def test_no_component_has_its_javascript_inside_a_python_string():
    inline = []
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        strings = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                   and _inline(node.value, set()) for target in node.targets if isinstance(target, ast.Name)}
        inline += [f"{path.relative_to(ROOT)}:{node.lineno} {keyword.arg}=" for node in ast.walk(tree)
                   if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("components.v2.component")
                   for keyword in node.keywords if keyword.arg in ("js", "css") and _inline(keyword.value, strings)]
    assert inline == []


def test_one_document_wide_observer_for_every_component(registered):
    """shared/observer.js installs the one MutationObserver; the components that follow what Streamlit draws join it
    first and add their callbacks to it."""
    observers = sorted(p.relative_to(HERE).as_posix() for p in HERE.rglob("*.js")
                       if "MutationObserver(" in p.read_text(encoding="utf-8"))
    assert observers == ["shared/observer.js"]
    for name in ("upload_guard", "streamlit_texts"):
        assert registered[name]["files"][0] == "shared/observer.js", name
        assert f'window.__vitObserve("{name}"' in registered[name]["js"], name
