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


def test_a_model_goes_to_the_gpu_only_if_the_cpu_takes_longer_than_a_gpu_call():
    from archdemo.device import worth_a_gpu_call

    assert worth_a_gpu_call({"cnn": 0.9, "char_gpt": 2.0}, call_ms=300) == []
    assert worth_a_gpu_call({"cnn": 0.9, "big": 450.0}, call_ms=300) == ["big"]


def run_driver(**env: str) -> dict:
    """tests/zerogpu_driver.py with the stand-in ``spaces`` first on the path, and these settings."""
    import json
    import os
    import subprocess

    full = {**os.environ, "PYTHONPATH": str(ROOT / "tests" / "standins"), "HF_HUB_OFFLINE": "1", **env}
    out = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "zerogpu_driver.py")],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


MINUTE_OF_DRAWING = 750  # live readings in a minute at the pad's 80 ms


def test_on_zerogpu_the_models_stay_on_the_cpu_and_a_minute_of_drawing_makes_no_gpu_call():
    # Each GPU call would cost the stand-in 0.2 s, as a scheduler round trip does on ZeroGPU.
    report = run_driver(SPACES_STANDIN_OVERHEAD_S="0.2", DRIVER_LIVE_UPDATES=str(MINUTE_OF_DRAWING))
    placement = report["placement"]
    assert placement["zerogpu"] and placement["gpu_models"] == []
    assert set(placement["cpu_ms"]) >= {"cnn", "char_gpt", "pretrained_transformer"}
    assert max(placement["cpu_ms"].values()) < placement["gpu_call_ms"]  # the measured rule's inputs
    live = [c for c in report["calls"] if c["name"].endswith(".live")]
    assert live and all(c["gpu_calls"] == 0 and not c["error"] for c in live)
    assert all(c["gpu_calls"] == 0 and not c["error"] for c in report["calls"]), "no GPU call for any interaction"


def test_with_the_gpu_quota_spent_every_tab_and_endpoint_still_answers():
    report = run_driver(ARCHDEMO_ZEROGPU="always", SPACES_STANDIN_QUOTA_S="0")
    calls = report["calls"]
    assert sum(c["gpu_calls"] for c in calls) > 10  # GPU calls were asked for, and every one was refused
    failed = [(c["name"], c["error"]) for c in calls if c["error"]]
    assert not failed
    api = {c["api_name"] for c in calls}
    assert {
        "classify_digit",
        "denoise_digit",
        "rnn_sentiment",
        "generate_gpt",
        "pretrained_transformer_sentiment",
    } <= api
    models_ran = {m for c in calls for m in c["forwards"]}
    assert {"cnn", "autoencoder", "rnn", "transformer", "pretrained_transformer", "char_rnn"} <= models_ran
