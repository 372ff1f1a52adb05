"""The house rules that code can check: app/ does no tensor maths, and pages read like their lessons."""
import ast
from pathlib import Path

from app.steps import STEPS
from tests.conftest import ROOT

APP = ROOT / "app"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (a function-level import counts too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_app_imports_neither_torch_nor_einops():
    files = sorted(APP.rglob("*.py"))
    assert len(files) > 10
    heavy = {str(p.relative_to(ROOT)): sorted(m for m in imported_modules(p) if m.split(".")[0] in ("torch", "einops"))
             for p in files}
    assert not {k: v for k, v in heavy.items() if v}


def test_pages_leave_fonts_to_the_style_module():
    for page in sorted((APP / "steps").glob("*.py")):
        assert not {m for m in imported_modules(page) if "font_manager" in m}, page.name
        assert "font_manager" not in page.read_text(encoding="utf-8"), page.name


def test_every_page_is_a_main_of_section_calls():
    """Each page defines main() and runs it only as Streamlit runs a page; main() fits on one screen."""
    for page in sorted(APP / s.file for s in STEPS):
        tree = ast.parse(page.read_text(encoding="utf-8"))
        mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
        assert mains, f"{page.name} has no main()"
        assert mains[0].end_lineno - mains[0].lineno < 30, f"{page.name}: main() is longer than a screen"
        top_level_calls = [n for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
        assert not top_level_calls, f"{page.name} draws at import time (line {top_level_calls[0].lineno})"
        guard = tree.body[-1]
        assert isinstance(guard, ast.If) and ast.unparse(guard.test) == "__name__ == '__main__'", page.name
