"""archdemo.weights.hub against a local Hub stand-in (tests/hub_standin.py): downloads, cache, pinning, errors.

No test reaches the network: huggingface_hub is pointed at a server on 127.0.0.1 with a private cache per test.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import huggingface_hub
import pytest
import torch
from hub_standin import HubStandin, set_offline, use_standin

from archdemo.models import DenoisingAutoencoder, DenoisingAutoencoderConfig, DigitCNN, DigitCNNConfig
from archdemo.weights.hub import WeightsError, load_model, parse_source, save_pretrained

REPO = "archdemo-test/digit-cnn"
HF_HUB_MAJOR = int(huggingface_hub.__version__.split(".")[0])


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A running Hub stand-in that huggingface_hub talks to, online, with an empty cache under tmp_path."""
    with HubStandin() as standin:
        use_standin(monkeypatch, standin.url, tmp_path / "hf")
        yield standin


@pytest.fixture
def no_sleep(monkeypatch):
    """huggingface_hub backs off with time.sleep (1 s, 2 s, ... ~23 s in all for a refused connection) before
    retrying; skip the waits."""
    monkeypatch.setattr(time, "sleep", lambda seconds: None)


def make_cnn(seed: int, config: DigitCNNConfig | None = None) -> DigitCNN:
    torch.manual_seed(seed)
    return DigitCNN(config or DigitCNNConfig()).eval()


def sample_input() -> torch.Tensor:
    return torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(1234))


@torch.no_grad()
def outputs(model: torch.nn.Module) -> torch.Tensor:
    return model(sample_input())


def folder_files(model: torch.nn.Module, directory: Path) -> dict[str, bytes]:
    """The files save_pretrained writes for ``model``, as {name: bytes}."""
    save_pretrained(model, directory)
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def publish(hub: HubStandin, model: torch.nn.Module, tmp_path: Path, repo: str = REPO) -> str:
    """Commit ``model`` in Hub layout to ``repo`` on the stand-in; returns the commit sha."""
    directory = tmp_path / f"publish-{len(list(tmp_path.glob('publish-*')))}"
    return hub.add_folder(repo, save_pretrained(model, directory))


def load(revision: str, name: str = "cnn", repo: str = REPO) -> torch.nn.Module:
    return load_model(name, parse_source(f"hub:{repo}@{revision}"))


def resolve_paths(hub: HubStandin, method: str) -> set[str]:
    return {path.rsplit("/", 1)[-1] for path in hub.paths(method) if "/resolve/" in path}


# ----- downloads and the cache ----------------------------------------------------------------------------------


def test_first_download_gives_the_published_model(hub, tmp_path):
    original = make_cnn(seed=0)
    sha = publish(hub, original, tmp_path)

    loaded = load(sha)

    assert isinstance(loaded, DigitCNN) and not loaded.training
    assert torch.equal(outputs(loaded), outputs(original))
    assert {"config.json", "model.safetensors"} <= resolve_paths(hub, "GET")
    assert all(f"/{REPO}/resolve/{sha}/" in path for path in hub.paths())
    assert all("archdemo" in h.get("user-agent", "") for h in hub.request_headers)  # library_name="archdemo"
    assert all("authorization" not in {k.lower() for k in h} for h in hub.request_headers)


def test_cached_pinned_load_makes_no_request(hub, tmp_path):
    original = make_cnn(seed=0)
    sha = publish(hub, original, tmp_path)
    load(sha)
    hub.clear()

    again = load(sha)  # a commit hash already in the cache: huggingface_hub does not even ask
    assert hub.requests == []
    hub.stop()
    after_stop = load(sha)  # and needs no server at all

    assert torch.equal(outputs(again), outputs(original))
    assert torch.equal(outputs(after_stop), outputs(original))


def test_offline_mode_loads_from_the_cache(hub, tmp_path, monkeypatch):
    original = make_cnn(seed=0)
    sha = publish(hub, original, tmp_path)
    load(sha)
    load("main")  # also caches refs/main -> sha
    hub.clear()

    set_offline(monkeypatch)
    by_sha, by_branch = load(sha), load("main")

    assert hub.requests == []
    assert torch.equal(outputs(by_sha), outputs(original))
    assert torch.equal(outputs(by_branch), outputs(original))


def test_branch_falls_back_to_the_cache_when_the_hub_is_unreachable(hub, tmp_path):
    original = make_cnn(seed=0)
    publish(hub, original, tmp_path)
    load("main")
    hub.stop()

    assert torch.equal(outputs(load("main")), outputs(original))


def test_source_from_environment_variable(hub, tmp_path, monkeypatch):
    original = make_cnn(seed=0)
    sha = publish(hub, original, tmp_path)
    monkeypatch.setenv("ARCHDEMO_CNN_WEIGHTS", f"hub:{REPO}@{sha}")
    from archdemo.settings import Settings
    from archdemo.weights.store import ModelStore

    store = ModelStore(Settings.from_env(device="cpu"))  # app.py's way: the variable is read once, here
    assert torch.equal(outputs(store.get("cnn")), outputs(original))
    assert store.loaded_from()["cnn"] == f"hub:{REPO}@{sha}"


def test_revision_pinning(hub, tmp_path):
    first, second = make_cnn(seed=0), make_cnn(seed=1)
    sha1 = publish(hub, first, tmp_path)
    sha2 = publish(hub, second, tmp_path)
    assert sha1 != sha2
    assert not torch.equal(outputs(first), outputs(second))

    assert torch.equal(outputs(load(sha1)), outputs(first))
    assert torch.equal(outputs(load("main")), outputs(second))
    assert torch.equal(outputs(load(sha2)), outputs(second))
    assert torch.equal(outputs(load(sha1)), outputs(first))  # the cache keeps both commits apart


# ----- errors ---------------------------------------------------------------------------------------------------


def test_missing_repo(hub):
    with pytest.raises(WeightsError, match="archdemo-test/no-such-model"):
        load("main", repo="archdemo-test/no-such-model")


@pytest.mark.parametrize("revision", ["0123456789abcdef0123456789abcdef01234567", "no-such-branch"])
def test_missing_revision(hub, tmp_path, revision):
    publish(hub, make_cnn(seed=0), tmp_path)
    with pytest.raises(WeightsError, match=f"revision {revision}") as info:
        load(revision)
    assert REPO in str(info.value)


def test_missing_weights_file(hub, tmp_path):
    files = folder_files(make_cnn(seed=0), tmp_path / "model")
    sha = hub.add_commit(REPO, {"config.json": files["config.json"]})
    with pytest.raises(WeightsError, match="model.safetensors"):
        load(sha)


def test_wrong_architecture(hub, tmp_path):
    torch.manual_seed(0)
    sha = publish(hub, DenoisingAutoencoder(DenoisingAutoencoderConfig()), tmp_path)
    with pytest.raises(WeightsError, match="architecture") as info:
        load(sha)
    assert "DenoisingAutoencoder" in str(info.value) and "DigitCNN" in str(info.value)
    assert "model.safetensors" not in resolve_paths(hub, "GET")  # rejected on the config alone


def test_weights_that_do_not_fit_the_config(hub, tmp_path):
    small = folder_files(make_cnn(seed=0, config=DigitCNNConfig(channels=(8, 16, 32))), tmp_path / "small")
    default = folder_files(make_cnn(seed=0), tmp_path / "default")
    sha = hub.add_commit(REPO, {"config.json": small["config.json"], "model.safetensors": default["model.safetensors"]})
    with pytest.raises(WeightsError, match="does not fit the config"):
        load(sha)


@pytest.mark.parametrize("damage", ["random-bytes", "truncated", "empty"])
def test_corrupt_safetensors(hub, tmp_path, damage):
    files = folder_files(make_cnn(seed=0), tmp_path / "model")
    weights = files["model.safetensors"]
    broken = {
        "random-bytes": os.urandom(4096),
        "truncated": weights[: len(weights) // 2],
        "empty": b"",
    }[damage]
    sha = hub.add_commit(REPO, {"config.json": files["config.json"], "model.safetensors": broken})
    with pytest.raises(WeightsError, match="model.safetensors"):
        load(sha)


def test_offline_with_empty_cache(hub, tmp_path, monkeypatch):
    publish(hub, make_cnn(seed=0), tmp_path)
    set_offline(monkeypatch)
    start = time.monotonic()
    with pytest.raises(WeightsError):
        load("main")
    assert time.monotonic() - start < 5
    assert hub.requests == []


def test_unreachable_hub_with_empty_cache(hub, tmp_path, no_sleep):
    sha = publish(hub, make_cnn(seed=0), tmp_path)
    hub.stop()
    with pytest.raises(WeightsError):
        load(sha)


# ----- error paths that once escaped hub.fetch unconverted --------------------------------------------------------


@pytest.mark.parametrize("how", ["offline", "unreachable"])
def test_no_cache_error_says_so(hub, tmp_path, monkeypatch, no_sleep, how):
    sha = publish(hub, make_cnn(seed=0), tmp_path)
    if how == "offline":
        set_offline(monkeypatch)
    else:
        hub.stop()
    with pytest.raises(WeightsError, match="local cache"):
        load(sha)


def test_dropped_download_connection(hub, tmp_path, no_sleep):
    sha = publish(hub, make_cnn(seed=0), tmp_path)
    hub.drop_downloads = True
    with pytest.raises(WeightsError, match="config.json"):
        load(sha)


@pytest.mark.parametrize("repo", ["archdemo-test/digit..cnn", "archdemo-test/digit--cnn", "archdemo-test/cnn-"])
def test_repo_id_huggingface_hub_rejects(hub, repo):
    with pytest.raises(WeightsError, match=re.escape(repo)):
        load("main", repo=repo)


def test_app_falls_back_to_bundled_weights_when_the_hub_fails(hub, tmp_path, monkeypatch, no_sleep, caplog):
    """weights=hub with an unreachable Hub: the store serves the bundled model and says so."""
    from dataclasses import replace

    from archdemo.settings import Settings
    from archdemo.weights import registry
    from archdemo.weights.store import ModelStore

    monkeypatch.setitem(registry.MODELS, "cnn", replace(registry.MODELS["cnn"], revision="0" * 40))
    hub.stop()
    store = ModelStore(Settings(device="cpu", weights="hub"))
    with caplog.at_level("WARNING", logger="archdemo.weights.store"):
        model = store.get("cnn")
    assert "falling back to the bundled weights" in caplog.text
    assert "fallback" in store.loaded_from()["cnn"]
    assert not model.training


def test_an_explicitly_chosen_repo_never_falls_back(hub, monkeypatch, no_sleep):
    from archdemo.settings import Settings
    from archdemo.weights.store import ModelStore

    monkeypatch.setenv("ARCHDEMO_CNN_WEIGHTS", "hub:someone/missing-model@" + "1" * 40)
    settings = Settings.from_env()  # the variable is read once, here, as app.py does
    assert settings.sources == {"cnn": "hub:someone/missing-model@" + "1" * 40}
    with pytest.raises(WeightsError, match="someone/missing-model"):
        ModelStore(Settings(device="cpu", weights="hub", sources=settings.sources)).get("cnn")


def test_publish_pushes_one_repo_per_model_and_reports_commits(tmp_path, monkeypatch, capsys):
    """The publish command against a recording stand-in for HfApi (uploads need a real Hub account)."""
    from archdemo.tools import publish
    from archdemo.weights import hub as hub_module

    for name in ("cnn", "rnn"):
        folder = tmp_path / name
        save_pretrained(make_cnn(seed=0), folder, card="---\nlibrary_name: pytorch\n---\n# card\n")
    monkeypatch.setattr(publish, "BUNDLED_DIR", tmp_path)
    monkeypatch.setattr(hub_module, "BUNDLED_DIR", tmp_path)
    calls = []

    class RecordingApi:
        def create_repo(self, repo, **kw):
            calls.append(("create", repo, kw["exist_ok"]))

        def upload_folder(self, repo_id, folder_path, allow_patterns, commit_message):
            calls.append(("upload", repo_id, sorted(allow_patterns)))
            return type("Info", (), {"oid": f"{len(calls):040x}"})()

    commits = publish.publish("me/archdemo", ["cnn", "rnn"], api=RecordingApi())
    assert [c[1] for c in calls] == ["me/archdemo-cnn"] * 2 + ["me/archdemo-rnn"] * 2
    assert calls[1][2] == ["README.md", "config.json", "model.safetensors"]
    assert all(len(c) == 40 for c in commits.values())
    with pytest.raises(SystemExit, match="lacks"):
        publish.publish("me/archdemo", ["transformer"], api=RecordingApi())
