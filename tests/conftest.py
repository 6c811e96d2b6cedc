"""Shared fixtures: the model store on the bundled weights, paths to data, a launched app."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from archdemo.deploy.processes import die_with_parent, helpers_up, stop_process  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def data_dir() -> Path | None:
    for candidate in (os.environ.get("ARCHDEMO_DATA_DIR"), ROOT.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "MNIST" / "raw").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def data() -> Path:
    d = data_dir()
    if d is None:
        pytest.skip("MNIST/SST-2 files not found: set ARCHDEMO_DATA_DIR")
    return d


@pytest.fixture(scope="session")
def store():
    """The model store on the bundled weights, on the CPU, shared by the whole run (models are read-only)."""
    from archdemo.settings import Settings
    from archdemo.weights.store import ModelStore

    return ModelStore(Settings(device="cpu"))


@pytest.fixture(scope="session")
def answers(store):
    """The API's answers over the shared store, one request at a time (no micro-batching)."""
    from archdemo.serving.answers import Answers

    return Answers(store)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url():
    """The app started as a user starts it (python app.py), on a free loopback port.

    ARCHDEMO_TEST_URL points the tests at an app that is already running instead.
    """
    if os.environ.get("ARCHDEMO_TEST_URL"):
        yield os.environ["ARCHDEMO_TEST_URL"]
        return
    port = free_port()
    env = {**os.environ, "ARCHDEMO_DEVICE": "cpu", "PYTHONUNBUFFERED": "1"}
    log = open(ROOT / "tests" / ".app.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port), "--mcp"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        preexec_fn=die_with_parent,  # an interrupted test run leaves no app behind  # noqa: PLW1509
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    import urllib.request

    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited early: {(ROOT / 'tests' / '.app.log').read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("app did not start within 120 s")
    helpers_up(ROOT / "tests" / ".app.log")
    yield url
    stop_process(proc)
    log.close()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's package; tests/run.sh installs it), driven by Playwright."""
    playwright = pytest.importorskip("playwright.sync_api")
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (tests/run.sh installs it)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()
