"""The package's shape: folders are layers, data flows one way, and nothing below the UI imports gradio.

Every import of an archdemo module is read from the source (``ast``, lazy imports inside functions
included, ``if TYPE_CHECKING:`` blocks left out) and checked against the table of which folder may use
which. No hand-kept list of modules: a new file is checked by the folder it is put in.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "archdemo"
TOP = "top"  # the modules directly in archdemo/
LEAVES = {"settings", "errors", "device", "paths"}  # top-level modules that import nothing of the project
ENTRY_POINTS = {"train": "training", "evaluate": "tools", "publish": "tools", "replicas": "deploy", "anomaly": "tools"}
# folder -> the folders it may import (besides itself and the leaves); the README's "Code layout" says why.
MAY_IMPORT = {
    "models": set(),
    "inputs": set(),
    "weights": {"models", "inputs"},
    "runtime": set(),
    "tasks": {"runtime", "weights", "inputs"},
    "plots": set(),
    "serving": {"tasks", "runtime", "weights", "inputs"},
    "training": {"models", "inputs", "weights"},
    "tools": {"training", "serving", "tasks", "runtime", "weights", "inputs", "models"},
    "deploy": set(),
    "ui": {"serving", "tasks", "plots", "runtime", "weights", "inputs", "models"},
}
MAX_TOP_MODULES, MAX_LINES = 10, 330


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (packages by their __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else TOP


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name | ast.Attribute) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(path: Path, known: set[str]) -> set[str]:
    """The archdemo modules ``path`` imports, at the top or inside functions, outside ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _type_checking(node) for n in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("archdemo")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("archdemo") and not node.level:
            for alias in node.names:  # `from archdemo.tasks import digits` imports archdemo.tasks.digits
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    return {m for m in found if m in known}


GRAPH = {name: imports(path, set(modules())) for name, path in modules().items()}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_each_module_imports_only_the_layers_below_it(module):
    here = layer(module)
    for used in GRAPH[module]:
        there = layer(used)
        if used == "archdemo" or there == here or used.split(".")[-1] in LEAVES and there == TOP:
            continue
        if here == TOP:
            name = module.split(".")[-1]
            assert name not in LEAVES, f"{module} must import nothing of the project, but imports {used}"
            assert ENTRY_POINTS.get(name) == there, (
                f"entry point {module} should only call into {ENTRY_POINTS.get(name)}"
            )
            continue
        assert there in MAY_IMPORT[here], f"{module} ({here}/) imports {used} ({there}/)"


def test_no_import_circle():
    state: dict[str, str] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = "open"
        for n in sorted(GRAPH[m]):
            if n == m or n == "archdemo":
                continue
            assert state.get(n) != "open", "import circle: " + " -> ".join([*path, m, n])
            if n not in state:
                visit(n, [*path, m])
        state[m] = "done"

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [])


def test_the_top_of_the_package_is_small_and_every_file_short():
    top = [p.name for p in PACKAGE.glob("*.py")]
    assert len(top) <= MAX_TOP_MODULES, sorted(top)
    assert set(MAY_IMPORT) == {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    long = {
        str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


def test_entry_points_are_thin():
    for name in ENTRY_POINTS:
        code = (PACKAGE / f"{name}.py").read_text(encoding="utf-8")
        assert len(code.splitlines()) <= 10 and "def " not in code, name


def test_nothing_below_the_ui_imports_gradio():
    below = [m for m in GRAPH if layer(m) != "ui" and m != "archdemo"]
    code = f"import sys; import {', '.join(below)}; print('gradio' in sys.modules, 'archdemo.ui' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "False"]


def test_models_import_nothing_but_torch_and_each_other():
    for module, used in GRAPH.items():
        if layer(module) == "models":
            assert all(layer(u) == "models" for u in used), (module, used)


def test_the_readme_gives_every_module_one_line():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Code layout", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]  # the tree: one line per module
    listed = re.findall(r"^(archdemo/[\w/]+\.py|app\.py) ", block, re.M)
    actual = {str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")} | {"app.py"}
    assert sorted(set(listed)) == sorted(listed), "a module is listed twice"
    assert set(listed) == actual, {"missing": sorted(actual - set(listed)), "gone": sorted(set(listed) - actual)}
