"""With the models on ZeroGPU's GPU, every model forward runs inside a ``spaces.GPU`` call (the writers'
decoding on the CPU, by design), and each interaction runs each model once.

On a ZeroGPU Space a GPU exists only inside ``spaces.GPU`` calls. tests/zerogpu_driver.py starts the
app's backend and UI with a stand-in ``spaces`` package (tests/standins/spaces) and ``ARCHDEMO_ZEROGPU=always``
(the path the app takes when a model is worth a GPU call), calls every event handler of every tab and
every API endpoint once, and records each torch module forward that ran outside such a call, and how
many passes each model made per call. tests/test_spaces.py checks the default, measured placement.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The Compare tab's table times 20 requests per model (plus one warm-up) by design: it is a measurement.
MEASUREMENTS = {"measured": 21, "measure_again": 21}
# Writing runs one forward per character written (300 by default in the Write tab, 200 through the API) in
# the model's decoding loop, on the CPU and never in a spaces.GPU call (its state outlives each step); in
# the tab the GPT also re-reads its last 128 characters once its 256-character window is full, and reads
# its text once more at the end to show the newest character's attention.
WRITING = {
    "write_both": {"char_rnn": 300, "char_gpt": 302, "char_cnn": 300},
    "generate_rnn": {"char_rnn": 200},
    "generate_gpt": {"char_gpt": 200},
    "generate_cnn": {"char_cnn": 200},
}
MEASUREMENTS.update({name: max(models.values()) for name, models in WRITING.items()})


@pytest.fixture(scope="module")
def report() -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "tests" / "standins"),
        "HF_HUB_OFFLINE": "1",
        "ARCHDEMO_ZEROGPU": "always",
    }
    out = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "zerogpu_driver.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_recorder_sees_an_unguarded_forward(report):
    assert report["control_outside"], "a forward outside spaces.GPU went unseen: the check itself is broken"


def test_every_handler_and_endpoint_ran_without_error(report):
    calls = report["calls"]
    failed = [(c["api_name"], c["error"]) for c in calls if c["error"]]
    assert not failed
    api = {c["api_name"] for c in calls}
    assert {"classify_digit", "denoise_digit", "digit_anomaly", "rnn_sentiment", "transformer_sentiment"} <= api
    names = {c["name"] for c in calls}
    assert {"classify", "run", "walk_between", "read", "readers", "measured"} <= names


def test_no_model_forward_runs_outside_a_gpu_call(report):
    leaks = {c["api_name"]: sorted(set(c["outside"])) for c in report["calls"] if c["outside"]}
    assert not leaks, f"model forwards outside spaces.GPU (they would fail on ZeroGPU): {leaks}"
    assert sum(sum(c["forwards"].values()) for c in report["calls"]) > 20  # the handlers did run models


def test_each_interaction_runs_each_model_once(report):
    for c in report["calls"]:
        allowed = MEASUREMENTS.get(c["name"], 1)
        too_many = {m: n for m, n in c["forwards"].items() if n > allowed}
        assert not too_many, f"{c['api_name']} ran {too_many} passes (answer and insides should share one)"


@pytest.mark.parametrize(
    "handler, models",
    [
        # The CNN tab at pen-up: feature maps and CAM, and every other digit reader, in one guarded pass.
        ("classify", {"cnn": 1, "digit_rnn": 1, "digit_transformer": 1, "autoencoder_probe": 1}),
        ("cnn-sketchpad.live", {"cnn": 1}),  # the pad's reading while the pen moves
        ("run", {"autoencoder": 1, "cnn": 1}),  # denoise + code + the meter's rebuild; the CNN on all three
        ("walk_between", {"autoencoder": 1}),
        ("readers", {"rnn": 1, "transformer": 1, "pretrained_transformer": 1, "text_cnn": 1}),  # each reader once
        ("classify_digit", {"cnn": 1}),
        ("denoise_digit", {"autoencoder": 1}),
        ("digit_anomaly", {"autoencoder": 1}),
        ("rnn_sentiment", {"rnn": 1}),
        ("transformer_sentiment", {"transformer": 1}),
        ("pretrained_transformer_sentiment", {"pretrained_transformer": 1}),
        ("cnn_sentiment", {"text_cnn": 1}),
        ("classify_digit_rnn", {"digit_rnn": 1}),
        ("classify_digit_transformer", {"digit_transformer": 1}),
        ("classify_digit_probe", {"autoencoder_probe": 1}),
    ],
)
def test_interactions_run_exactly_the_models_they_show(report, handler, models):
    seen = [c["forwards"] for c in report["calls"] if c["name"] == handler]
    assert seen and all(f == models for f in seen), seen


def test_text_tabs_read_once_per_change(report):
    reads = [c["forwards"] for c in report["calls"] if c["name"] in ("read", "fn")]
    assert reads and all(sum(f.values()) == 1 for f in reads), reads


@pytest.mark.parametrize("handler", sorted(WRITING))
def test_writing_runs_its_models_on_the_cpu_a_character_at_a_time_with_no_gpu_call(report, handler):
    seen = [c for c in report["calls"] if c["name"] == handler]
    assert seen and all(c["forwards"] == WRITING[handler] and not c["outside"] for c in seen), seen
    assert all(c["writers_outside"] and c["gpu_calls"] == 0 for c in seen), seen


def test_looking_inside_a_written_text_runs_no_model(report):
    seen = [c["forwards"] for c in report["calls"] if c["name"] == "look_inside"]
    assert seen and all(f == {} for f in seen), seen
