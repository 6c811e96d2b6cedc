"""Data flows one way (app -> ui -> tasks -> store -> models): nothing below the UI imports gradio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = [
    "archdemo.settings",
    "archdemo.store",
    "archdemo.guard",
    "archdemo.digits",
    "archdemo.anomaly",
    "archdemo.non_digits",
    "archdemo.sentiment",
    "archdemo.writing",
    "archdemo.shakespeare",
    "archdemo.answers",
    "archdemo.evaluate",
    "archdemo.train",
    "archdemo.publish",
    "archdemo.base_weights",
    "archdemo.plots",
    "archdemo.plots_writing",
    "archdemo.training.chars",
]


def test_the_core_imports_no_gradio():
    code = f"import sys; import {', '.join(CORE)}; print('gradio' in sys.modules, 'archdemo.ui' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "False"]


def test_models_import_nothing_of_the_project():
    for path in (ROOT / "archdemo" / "models").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
        assert not [i for i in imports if "archdemo" in i and "archdemo.models" not in i], path.name
