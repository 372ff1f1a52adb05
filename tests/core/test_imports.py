"""vit_core imports cleanly: every module on its own, first thing in a fresh interpreter, and no module imports one
that imports it back, at the top of the file or inside a function (a cycle works only by the order in which modules
happen to be imported, until someone changes that order)."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "vit_core"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path) -> set[str]:
    """The vit_core modules that module `name` imports anywhere in its file, at module level or in a function.

    `from X import a` depends on X, unless X.a is itself a module (`from . import hub`): then on X.a only.
    """
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            module = ".".join(filter(None, (base, node.module)))
            for alias in node.names:
                found.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in MODULES else module)
    return {m for m in found if m in MODULES} - {name}


GRAPH = {name: imports(name, path) for name, path in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    done, stack = set(), []

    def visit(node):
        if node in stack:
            return stack[stack.index(node):] + [node]
        if node in done:
            return None
        stack.append(node)
        for nxt in sorted(graph[node]):
            if cycle := visit(nxt):
                return cycle
        stack.pop()
        done.add(node)
        return None

    return next(filter(None, map(visit, sorted(graph))), None)


def test_the_import_graph_is_read():
    """The walk sees relative imports at every depth, and the ones inside functions."""
    assert {"vit_core.checkpoints.common", "vit_core.checkpoints.hf", "vit_core.checkpoints.timm"} <= set(MODULES)
    assert "vit_core.checkpoints.common" in GRAPH["vit_core.checkpoints.hf"]  # from .common import …
    assert "vit_core.model" in GRAPH["vit_core.checkpoints.common"]  # from ..model import ViT
    assert "vit_core.train" in GRAPH["vit_core.cli"]  # inside cmd_train
    assert "vit_core.errors" in GRAPH["vit_core"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_module_imports_in_a_cycle():
    assert find_cycle(GRAPH) is None, " → ".join(find_cycle(GRAPH))


def test_checkpoints_layers():
    """common knows neither layout; the layouts do not know each other; only the package joins them."""
    inside = {m for m in GRAPH if m.startswith("vit_core.checkpoints.")}
    assert GRAPH["vit_core.checkpoints.common"] & inside == set()
    assert GRAPH["vit_core.checkpoints.hf"] & inside == {"vit_core.checkpoints.common"}
    assert GRAPH["vit_core.checkpoints.timm"] & inside == {"vit_core.checkpoints.common"}
    assert not any("vit_core.checkpoints" in GRAPH[m] for m in GRAPH if m.startswith("vit_core.checkpoints"))


@pytest.mark.parametrize("name", sorted(m for m in MODULES if not m.endswith("__main__")))
def test_module_imports_alone_in_a_fresh_interpreter(name):
    done = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
