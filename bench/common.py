"""What every benchmark shares: machine description, JSON output, statistics, and launching an app.

Apps are started the way a user starts them (``python app.py --port P`` as a subprocess, like
tests/conftest.py), on a free loopback port, with their output in a log file under bench/results/.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archdemo.deploy.processes import die_with_parent, helpers_up

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DIGITS = ROOT / "archdemo" / "assets" / "digits"
QUIET_ENV = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(device: str | None = None) -> dict:
    """CPU model, cores, torch/gradio versions and (for CUDA) the GPU: enough to compare two runs."""
    import torch

    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "device": device,
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        import gradio

        info["gradio"] = gradio.__version__
    except ImportError:
        pass
    if device and device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
        info["cuda"] = torch.version.cuda
    return info


def write_json(path: Path, data: Mapping) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path


def percentile(values: Sequence[float], q: float) -> float | None:
    """q in [0, 100] (linear interpolation); None for no values."""
    return float(np.percentile(values, q)) if len(values) else None


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with right-aligned numbers."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda r: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
    return "\n".join([line(list(headers)), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


_TLS_CONTEXT = None


def api_client(url: str, **kwargs):
    """A ``gradio_client.Client`` that plays a user on another machine: light on this machine's CPU.

    gradio_client makes each HTTP call through a fresh httpx client, and each of those builds a TLS
    context by loading the whole CA bundle, even for plain http://127.0.0.1. Profiled with py-spy
    here, that was about 120 ms of the load generator's CPU per request, against about 17 ms of the
    app's: on a shared 2-core machine the benchmark measured its own client, not the app. Handing
    every client one ready TLS context (which gradio_client passes on to httpx as ``verify``) keeps
    certificate checks for https and cuts the client's cost to about 6 ms per request.
    """
    global _TLS_CONTEXT
    import ssl

    import certifi
    from gradio_client import Client

    if _TLS_CONTEXT is None:
        _TLS_CONTEXT = ssl.create_default_context(cafile=certifi.where())
    kwargs.setdefault("verbose", False)
    kwargs.setdefault("analytics_enabled", False)
    return Client(url, ssl_verify=_TLS_CONTEXT, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> dict[str, int]:
    """Resident memory of a process from /proc/<pid>/status: VmRSS (now) and VmHWM (peak), in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


@dataclass
class App:
    """A launched app process; ``stop()`` ends it (only it: by its own pid)."""

    proc: subprocess.Popen
    url: str
    log: Path
    started: float  # time.perf_counter() just before the process was started

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def start_app(
    script: str | Sequence[str], env: Mapping[str, str], log_name: str, extra_args: Sequence[str] = ()
) -> App:
    """``python <script> --host 127.0.0.1 --port P`` from the repo root, output to bench/results/<log_name>.

    ``script`` is a file, or the arguments that stand for one (``["-m", "archdemo.replicas"]``).
    """
    port = free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / log_name
    with open(log, "w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, *([script] if isinstance(script, str) else script), "--host", "127.0.0.1"]
            + ["--port", str(port), *extra_args],
            cwd=ROOT,
            env={**os.environ, **QUIET_ENV, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl, before exec
        )
    return App(proc, f"http://127.0.0.1:{port}/", log, started)


def wait_http(app: App, timeout: float) -> float:
    """Seconds from process start until the page answers HTTP 200; raises if the app dies or is too slow."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if app.proc.poll() is not None:
            raise RuntimeError(f"app exited early (code {app.proc.returncode}):\n{app.log_tail()}")
        try:
            with urllib.request.urlopen(app.url, timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - app.started
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{app.url} did not answer within {timeout:.0f} s:\n{app.log_tail()}")


def wait_ready(app: App, timeout: float) -> float:
    """``wait_http``, then until app.py says it is ready for a room (its helpers are up): -> seconds to the
    page's first answer. Replicas log apart (in their run folder), and the tutorial app has no helpers: for
    those, this is ``wait_http``."""
    up = wait_http(app, timeout)
    if app.proc.args[1] == "app.py" and not helpers_up(app.log):
        print(f"[bench] {app.url} not ready for a room after 120 s; going on", file=sys.stderr)
    return up


@contextmanager
def ready_app(log_name: str, env: Mapping[str, str] | None = None) -> Iterator[App]:
    """``python app.py`` started, ready for a room (``wait_ready``) inside the block, and stopped after it."""
    app = start_app("app.py", env or {}, log_name)
    try:
        wait_ready(app, timeout=300)
        yield app
    finally:
        app.stop()


def api_settings(url: str) -> dict[str, dict]:
    """Per named endpoint, the app's own /config: whether it batches and its max batch size."""
    with urllib.request.urlopen(url + "config", timeout=10) as r:
        config = json.load(r)
    return {
        "/" + d["api_name"]: {"batch": d.get("batch"), "max_batch_size": d.get("max_batch_size")}
        for d in config.get("dependencies", [])
        if isinstance(d.get("api_name"), str)
    }
