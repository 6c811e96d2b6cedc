"""The processes a deployment starts: children that die with their parent, free ports, readiness, a clean stop.

Used by the replica supervisor, the benchmarks and the tests (one copy of each helper for all three).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

STOP_TIMEOUT_S = 15.0  # after SIGTERM, seconds a process may take before it is killed
READY = "ready for a room"  # app.py's log line once its helper processes are up (app.say_when_ready)


def die_with_parent() -> None:
    """For ``Popen(preexec_fn=...)``: the child gets SIGTERM when this process dies, even by SIGKILL (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def consecutive_free_ports(count: int, start: int) -> list[int]:
    """The first run of ``count`` free loopback ports at or after ``start``."""
    base = start
    while base + count <= 65535:
        taken = next((p for p in range(base, base + count) if not port_is_free(p)), None)
        if taken is None:
            return list(range(base, base + count))
        base = taken + 1
    raise RuntimeError(f"no {count} consecutive free ports from {start}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (our own http://127.0.0.1 URL)
            return r.status == 200
    except OSError:
        return False


def helpers_up(*logs: Path, timeout: float = 120.0) -> bool:
    """Until every app whose log is given says it is ready for a room, or ``timeout`` (False). Its helper
    processes start once the page answers, and their imports take the CPU for a few seconds; a room meets a
    running app, so the tests and the benchmarks' rooms wait for them."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(READY in (log.read_text(errors="replace") if log.exists() else "") for log in logs):
            return True
        time.sleep(0.25)
    return False


def stop_process(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> None:
    """Signal one process we started, wait up to ``timeout`` seconds for it, kill it if it does not go."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
