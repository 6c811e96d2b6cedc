"""Faults outside the user's input: a Hub that errors or hangs at start-up, corrupt weight files, no or a failing GPU.

The Hub is the loopback stand-in from tests/hub_standin.py; nothing here reaches the network.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hub_standin import HubStandin, use_standin
from PIL import Image

from archdemo.device import pick_device
from archdemo.paths import SAMPLE_DIGITS
from archdemo.serving.answers import Answers
from archdemo.settings import Settings
from archdemo.tasks import digits
from archdemo.weights import registry
from archdemo.weights.hub import BUNDLED_DIR, WeightsError
from archdemo.weights.store import ModelStore

DIGITS = SAMPLE_DIGITS
PINNED = "0" * 40  # a pinned commit that is not in any cache, so the store must ask the Hub


def seven() -> np.ndarray:
    return np.asarray(Image.open(DIGITS / "7.png").convert("L"))


@pytest.fixture
def no_sleep(monkeypatch):
    """huggingface_hub backs off with time.sleep before retrying (as in test_hub.py); skip the waits."""
    monkeypatch.setattr(time, "sleep", lambda seconds: None)


class SlowHub(HubStandin):
    """The stand-in, answering each request only after ``delay`` seconds (a Hub that hangs)."""

    delay = 3.0

    def _record(self, method: str, path: str, headers: dict[str, str]) -> None:
        super()._record(method, path, headers)
        threading.Event().wait(self.delay)  # not time.sleep: no_sleep patches that


@pytest.fixture
def hub_weights(monkeypatch) -> Settings:
    """weights=hub (ARCHDEMO_WEIGHTS=hub, as app.py reads it) with the CNN pinned to a Hub revision
    (the registry has none published yet)."""
    monkeypatch.setitem(registry.MODELS, "cnn", dataclasses.replace(registry.MODELS["cnn"], revision=PINNED))
    settings = Settings.from_env({"ARCHDEMO_WEIGHTS": "hub"}, device="cpu")
    assert settings.weights == "hub" and "cnn" not in settings.sources
    return settings


def assert_falls_back_to_bundled(settings: Settings, caplog) -> None:
    store = ModelStore(settings)
    with caplog.at_level(logging.WARNING, logger="archdemo.weights.store"):
        answer = Answers(store).classify_digit(seven())
    assert answer["label"] == "7"
    assert "fallback" in store.loaded_from()["cnn"] and str(BUNDLED_DIR / "cnn") in store.loaded_from()["cnn"]
    assert any("falling back to the bundled weights" in r.getMessage() for r in caplog.records), caplog.text


def test_hub_errors_at_start_up_fall_back_to_bundled_weights(hub_weights, no_sleep, tmp_path, monkeypatch, caplog):
    with HubStandin() as hub:
        use_standin(monkeypatch, hub.url, tmp_path / "hf")
        hub.fail_with = 500
        assert_falls_back_to_bundled(hub_weights, caplog)
        assert hub.requests, "the store did not ask the Hub at all"


def test_a_hanging_hub_times_out_and_falls_back(hub_weights, no_sleep, tmp_path, monkeypatch, caplog):
    from huggingface_hub import constants

    with SlowHub() as hub:
        use_standin(monkeypatch, hub.url, tmp_path / "hf")
        monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "0.5")
        monkeypatch.setattr(constants, "HF_HUB_ETAG_TIMEOUT", 0.5)
        monkeypatch.setattr(constants, "HF_HUB_DOWNLOAD_TIMEOUT", 0.5)
        t0 = time.perf_counter()
        assert_falls_back_to_bundled(hub_weights, caplog)
        assert time.perf_counter() - t0 < 30


def test_a_dropped_download_falls_back(hub_weights, no_sleep, tmp_path, monkeypatch, caplog):
    with HubStandin() as hub:
        use_standin(monkeypatch, hub.url, tmp_path / "hf")
        hub.add_folder("archdemo/digit-cnn", BUNDLED_DIR / "cnn")
        hub.drop_downloads = True
        # the pinned revision must exist for the download to start: point the registry at the stand-in's commit
        sha = hub.resolve("archdemo/digit-cnn", "main")
        monkeypatch.setitem(registry.MODELS, "cnn", dataclasses.replace(registry.MODELS["cnn"], revision=sha))
        assert_falls_back_to_bundled(hub_weights, caplog)


# ----- corrupt or truncated files in a local folder ------------------------------------------------------------


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 3)])


CORRUPTIONS = {
    "config.json truncated": ("config.json", _truncate),
    "config.json not text": ("config.json", lambda p: p.write_bytes(b"\xff\xfe\x00garbage")),
    "config.json empty": ("config.json", lambda p: p.write_bytes(b"")),
    "model.safetensors truncated": ("model.safetensors", _truncate),
    "model.safetensors garbage": ("model.safetensors", lambda p: p.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{")),
    "model.safetensors empty": ("model.safetensors", lambda p: p.write_bytes(b"")),
}


@pytest.mark.parametrize("case", CORRUPTIONS)
def test_corrupt_local_files_give_a_clear_error_and_cache_nothing(case, tmp_path):
    filename, corrupt = CORRUPTIONS[case]
    folder = tmp_path / "cnn"
    shutil.copytree(BUNDLED_DIR / "cnn", folder)
    good = (folder / filename).read_bytes()
    corrupt(folder / filename)
    store = ModelStore(Settings(device="cpu", sources={"cnn": str(folder)}))
    answers = Answers(store)

    with pytest.raises(WeightsError, match=filename.replace(".", r"\.")):
        answers.classify_digit(seven())
    assert "cnn" not in store.loaded_from() and "cnn" not in store._models  # no half-loaded model kept

    (folder / filename).write_bytes(good)  # the file repaired: the same store now loads and answers
    assert answers.classify_digit(seven())["label"] == "7"
    assert store.loaded_from()["cnn"] == str(folder)


# ----- no GPU, or a GPU that fails -----------------------------------------------------------------------------


def test_no_cuda_and_no_setting_gives_cpu(monkeypatch):
    monkeypatch.delenv("ARCHDEMO_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device() == torch.device("cpu")
    assert ModelStore().device == torch.device("cpu")
    assert ModelStore(Settings.from_env()).device == torch.device("cpu")


@pytest.mark.parametrize("asked", ["cuda", "cuda:1"])
def test_asking_for_cuda_without_it_is_a_clear_error(asked, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match=f"{asked} was asked for but CUDA is not available"):
        pick_device(asked)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ModelStore(Settings(device=asked))
    monkeypatch.setenv("ARCHDEMO_DEVICE", asked)  # as app.py reads it
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ModelStore(Settings.from_env())


class FailsOnceOnGPU(torch.nn.Module):
    """Wraps a model; the first pass fails as a GPU does (out of memory, or a CUDA error), later ones work.

    Both ways the CNN is run fail: ``forward`` (the API's answers) and ``forward_with_features`` (the tab).
    """

    def __init__(self, inner: torch.nn.Module, error: Exception):
        super().__init__()
        self.inner, self.config, self.error, self.failed = inner, inner.config, error, False
        self.moved_to: list[torch.device] = []

    def _once(self) -> None:
        if not self.failed:
            self.failed = True
            raise self.error

    def forward(self, *args, **kwargs):
        self._once()
        return self.inner(*args, **kwargs)

    def forward_with_features(self, *args, **kwargs):
        self._once()
        return self.inner.forward_with_features(*args, **kwargs)

    def class_activation_map(self, *args, **kwargs):
        return self.inner.class_activation_map(*args, **kwargs)

    def to(self, *args, **kwargs):
        self.moved_to.append(torch.device(args[0] if args else kwargs["device"]))
        return super().to(*args, **kwargs)


GPU_FAILURES = pytest.mark.parametrize(
    "error",
    [
        torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        RuntimeError("CUDA error: unknown"),
    ],
    ids=["oom", "cuda-error"],
)


@GPU_FAILURES
def test_a_failing_gpu_forward_is_served_on_the_cpu(error):
    store = ModelStore(Settings(device="cpu"))
    store._models["cnn"] = flaky = FailsOnceOnGPU(store.get("cnn"), error)

    answer = Answers(store).classify_digit(seven())

    assert answer["label"] == "7"
    assert store.device.type == "cpu"
    assert flaky.failed and flaky.moved_to == [torch.device("cpu")]  # the store moved its models and tried again


@GPU_FAILURES
def test_a_failing_gpu_pass_in_the_tab_is_served_on_the_cpu(error):
    store = ModelStore(Settings(device="cpu"))
    store._models["cnn"] = flaky = FailsOnceOnGPU(store.get("cnn"), error)

    reading = digits.classify_digit(store, seven())

    assert reading.answer["label"] == "7" and reading.cam.shape == (28, 28)
    assert store.device.type == "cpu"
    assert flaky.failed and flaky.moved_to == [torch.device("cpu")]


def test_an_error_that_is_not_the_gpus_is_not_retried():
    store = ModelStore(Settings(device="cpu"))
    store._models["cnn"] = flaky = FailsOnceOnGPU(store.get("cnn"), RuntimeError("shape mismatch"))

    with pytest.raises(RuntimeError, match="shape mismatch"):
        Answers(store).classify_digit(seven())
    assert flaky.moved_to == []  # a bug is not a GPU failure: nothing moved, nothing retried
