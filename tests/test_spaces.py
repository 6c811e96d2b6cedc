"""Hugging Face Spaces conventions: the README's front matter, binding, and ZeroGPU."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def front_matter() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n"), "the README must start with Spaces front matter"
    return yaml.safe_load(text.split("---\n")[1])


def test_front_matter_is_valid_and_names_files_that_exist():
    meta = front_matter()
    for key in ("title", "emoji", "sdk", "sdk_version", "app_file", "license", "short_description", "datasets"):
        assert meta.get(key), f"front matter lacks {key}"
    assert meta["sdk"] == "gradio"
    assert (ROOT / meta["app_file"]).is_file()
    assert len(meta["short_description"]) <= 60  # Spaces' limit
    assert meta["colorFrom"] in {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


def test_sdk_version_is_the_gradio_that_requirements_install():
    import gradio
    from packaging.requirements import Requirement

    meta = front_matter()
    line = next(x for x in (ROOT / "requirements.txt").read_text().splitlines() if x.startswith("gradio"))
    assert meta["sdk_version"] in Requirement(line.split("#")[0]).specifier
    assert meta["sdk_version"] == gradio.__version__, "sdk_version should be the version the tests ran with"


def test_app_binds_all_interfaces_on_spaces(monkeypatch):
    sys.path.insert(0, str(ROOT))
    import app

    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    assert app.parse_args([]).host == "127.0.0.1"
    monkeypatch.setenv("SPACE_ID", "someone/archdemo")
    assert app.parse_args([]).host == "0.0.0.0"
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7861")
    assert app.parse_args([]).port == 7861


def test_zerogpu_decorates_gpu_work_only_when_spaces_is_present(monkeypatch):
    from archdemo.device import gpu_task

    def work(x):
        return x + 1

    monkeypatch.setitem(sys.modules, "spaces", None)  # import fails: unchanged
    assert gpu_task()(work) is work

    calls = []
    fake = types.ModuleType("spaces")
    fake.GPU = lambda duration: lambda fn: calls.append(duration) or (lambda *a: fn(*a) * 10)
    monkeypatch.setitem(sys.modules, "spaces", fake)
    wrapped = gpu_task(duration=20)(work)
    assert calls == [20] and wrapped(1) == 20


def test_importing_the_app_loads_no_model_and_touches_no_network():
    import subprocess

    code = (
        "import sys, socket; socket.socket.connect = lambda *a: (_ for _ in ()).throw(OSError('network'));"
        "sys.path.insert(0, '.'); import app, archdemo.weights.hub as h;"
        "import archdemo.weights.store, archdemo.tasks.digits, archdemo.tasks.sentences;"
        "print('ok', 'model' not in [k for k in vars(app)])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("ok"), out.stderr[-2000:]
