"""Two app processes behind nginx (archdemo/replicas.py): one address for browsers and API clients alike.

Started as a user starts it (``python -m archdemo.replicas --replicas 2``). Checked through nginx: a
real browser's page and UI events, gradio_client calls from many clients (uploads, queue, file
downloads), that those clients land on both replicas while each stays on one (from nginx's access
log, which records the upstream and the affinity key of every request), that a replica killed
outright is restarted, and that SIGTERM leaves no process behind. The tests share one launch and run
in file order; the last one stops it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, free_port
from test_browser import open_tab

from archdemo.deploy.processes import die_with_parent, helpers_up, stop_process
from bench.common import DIGITS, api_client

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
LOG_LINE = re.compile(  # archdemo/replicas.py's log_format
    r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) \d+ upstream=(?P<upstream>\S+) key=(?P<key>\S+)'
)
CLIENTS = 16  # each lands on a replica at random: both get some unless 16 coin flips agree (p = 3e-5)


@dataclass
class Served:
    proc: subprocess.Popen
    url: str
    run_dir: Path

    def supervisor_log(self) -> str:
        return (self.run_dir / "supervisor.log").read_text(errors="replace")

    def replica_pids(self) -> dict[int, int]:
        """Replica index -> pid of its latest start, from the supervisor's log."""
        found = re.findall(r"replica (\d+) answers at \S+ \(pid (\d+)\)", self.supervisor_log())
        return {int(k): int(pid) for k, pid in found}

    def requests(self) -> list[dict]:
        """nginx's access log, one dict per request that reached a replica ("route": the path without its query)."""
        lines = (self.run_dir / "access.log").read_text().splitlines()
        found = [m.groupdict() for m in map(LOG_LINE.search, lines) if m]
        return [{**r, "route": r["path"].split("?")[0]} for r in found]


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (tests/run.sh installs it: apt-get install nginx)")
    run_dir = tmp_path_factory.mktemp("replicas")
    port = free_port()
    log = open(run_dir / "supervisor.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "archdemo.replicas", "--replicas", "2", "--port", str(port), "--run-dir", str(run_dir)]
        + ["--device", "cpu"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"},
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,  # noqa: PLW1509
    )
    served = Served(proc, f"http://127.0.0.1:{port}/", run_dir)
    deadline = time.time() + 240
    while "serving at" not in served.supervisor_log():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"replicas did not start:\n{served.supervisor_log()[-3000:]}")
        time.sleep(0.3)
    helpers_up(run_dir / "replica-0.log", run_dir / "replica-1.log")
    yield served
    stop_process(proc, timeout=30)  # the supervisor stops nginx and each replica in turn
    log.close()


def test_nginx_accepts_its_configuration(tmp_path):
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (tests/run.sh installs it: apt-get install nginx)")
    from archdemo.deploy.nginx import nginx_conf

    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf(tmp_path, "127.0.0.1", free_port(), [free_port(), free_port()]))
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def failed_on_our_side(request: dict) -> bool:
    """An error status, except nginx's 499: the client closed the connection first (a browser context closed
    while a lazily loaded asset was still on its way), which says nothing about the replicas."""
    return int(request["status"]) >= 400 and int(request["status"]) != 499


def sticky(requests: list[dict], key: str) -> set[str]:
    """The replicas that served one affinity key's Gradio calls."""
    return {r["upstream"] for r in requests if r["key"] == key and r["path"].startswith("/gradio_api/")}


@pytest.mark.browser
def test_browser_loads_the_page_and_its_events_round_trip(served, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(served.url)
    page.get_by_role("tab", name="CNN", exact=True).click()
    assert page.get_by_role("tab", name="CNN", exact=True).get_attribute("aria-selected") == "true"
    open_tab(page, "RNN")
    page.locator("#rnn-input textarea").fill("A beautiful and moving film.")
    page.wait_for_function("() => /positive/.test(document.querySelector('#rnn-prediction').innerText)", timeout=20_000)
    cookie = next(c["value"] for c in ctx.cookies() if c["name"] == "archdemo_replica")
    ctx.close()
    mine = [r for r in served.requests() if r["key"] == cookie]
    assert {"/gradio_api/queue/join", "/gradio_api/queue/data"} <= {r["route"] for r in mine}, mine
    assert len(sticky(mine, cookie)) == 1, mine
    failed = [(r["status"], r["path"]) for r in mine if failed_on_our_side(r)]
    assert not failed, failed


def test_api_clients_spread_over_both_replicas_and_each_stays_on_one(served, tmp_path):
    from gradio_client import handle_file

    def use(k: int) -> tuple[str, list]:
        client = api_client(served.url, download_files=str(tmp_path / str(k)))
        try:
            label = client.predict(handle_file(str(DIGITS / "7.png")), api_name="/classify_digit")["label"]
            noisy, denoised, _ = client.predict(handle_file(str(DIGITS / "3.png")), 0.5, api_name="/denoise_digit")
            verdict = client.predict("A warm, funny and moving film.", api_name="/rnn_sentiment")["label"]
            files = [Path(noisy).stat().st_size, Path(denoised).stat().st_size]
            return client.cookies["archdemo_replica"], [label, verdict, *files]
        finally:
            client.close()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(use, range(CLIENTS)))
    for _, (label, verdict, noisy_bytes, denoised_bytes) in results:
        assert (label, verdict) == ("7", "positive")
        assert noisy_bytes > 0 and denoised_bytes > 0  # uploads used and outputs downloaded on one replica
    time.sleep(0.5)  # nginx logs a request when it ends
    requests = served.requests()
    keys = {key for key, _ in results}
    assert len(keys) == CLIENTS  # every client got its own cookie from its first answer
    by_replica = defaultdict(set)
    for key in keys:
        replicas = sticky(requests, key)
        assert len(replicas) == 1, (key, replicas)
        by_replica[replicas.pop()].add(key)
        routes = {r["route"] for r in requests if r["key"] == key}
        assert {"/gradio_api/upload", "/gradio_api/queue/join", "/gradio_api/queue/data"} <= routes
    assert len(by_replica) == 2, dict(by_replica)
    failed = [r for r in requests if failed_on_our_side(r)]
    assert not failed, failed


def test_a_replica_that_dies_is_restarted(served):
    from gradio_client import handle_file

    first = served.replica_pids()
    os.kill(first[0], signal.SIGKILL)
    client = api_client(served.url, download_files=False)  # meanwhile nginx sends everyone to replica 1
    assert client.predict(handle_file(str(DIGITS / "7.png")), api_name="/classify_digit")["label"] == "7"
    client.close()
    deadline = time.time() + 180
    while served.replica_pids()[0] == first[0]:
        assert time.time() < deadline and served.proc.poll() is None, served.supervisor_log()[-3000:]
        time.sleep(0.5)
    assert "replica 0 (port" in served.supervisor_log() and "restarting it" in served.supervisor_log()


def replica_processes(supervisor: int, port: int) -> set[int]:
    """The supervisor's children that are ``python app.py ... --port PORT`` (after exec, not a fork before it)."""
    found = set()
    for child in descendants(supervisor):
        try:
            args = Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "app.py" in args and "--port" in args and args[args.index("--port") + 1] == str(port):
            found.add(child)
    return found


def wait_for(what: str, ready, served: Served, timeout: float = 180):
    """Poll ``ready()`` until it gives something true; fail, with the supervisor's log, after ``timeout`` s."""
    deadline = time.time() + timeout
    while not (found := ready()):
        assert time.time() < deadline, f"{what}: not within {timeout:.0f} s\n{served.supervisor_log()[-3000:]}"
        time.sleep(0.2)
    return found


def test_a_replica_that_crashes_while_it_starts_takes_nothing_else_down(served):
    """Kill a replica, then its replacement before it answers: once the service has been up, a replica
    that keeps failing is restarted (with backoff) and never stops nginx or the healthy replica."""
    from gradio_client import handle_file

    first = served.replica_pids()
    port = int(re.search(r"replica 0 answers at http://127.0.0.1:(\d+)/", served.supervisor_log())[1])
    os.kill(first[0], signal.SIGKILL)
    started = wait_for("its replacement", lambda: replica_processes(served.proc.pid, port) - {first[0]}, served)
    (replacement,) = started
    assert served.replica_pids()[0] == first[0]  # it has not answered yet: it is still starting
    crashes = served.supervisor_log().count("replica 0 (port")
    os.kill(replacement, signal.SIGKILL)
    wait_for(  # the supervisor saw the second crash, or gave up
        "the supervisor's word on the replacement's crash",
        lambda: served.supervisor_log().count("replica 0 (port") > crashes or served.proc.poll() is not None,
        served,
    )
    assert served.proc.poll() is None, served.supervisor_log()[-3000:]
    with urllib.request.urlopen(served.url, timeout=30) as page:  # nginx and replica 1 still serve
        assert page.status == 200
    client = api_client(served.url, download_files=False)
    try:
        assert client.predict(handle_file(str(DIGITS / "7.png")), api_name="/classify_digit")["label"] == "7"
    finally:
        client.close()
    back = wait_for("replica 0 back", lambda: served.replica_pids()[0] not in (first[0], replacement), served, 300)
    assert back and served.proc.poll() is None
    assert served.replica_pids()[1] == first[1]  # the healthy replica was never restarted


def descendants(pid: int) -> set[int]:
    children = defaultdict(set)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].add(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children[todo.pop()]:
            found.add(child)
            todo.append(child)
    return found


def test_sigterm_stops_nginx_and_every_replica(served):
    family = descendants(served.proc.pid)
    assert len(family) >= 5, family  # 2 replicas, the nginx master and its 2 workers
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=40) == 0
    time.sleep(0.2)
    assert not {pid: running for pid in family if (running := _running(pid))}


def _running(pid: int) -> str | None:
    """A process that has not exited: its command line. A zombie has exited: whoever inherited it (in this
    container, a PID 1 that reaps late) has yet to collect its status; it holds no port and no memory."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        if "State:\tZ" in status:
            return None
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:90].decode(errors="replace")
    except OSError:  # gone
        return None
    with pytest.raises(OSError):
        urllib.request.urlopen(served.url, timeout=2)
