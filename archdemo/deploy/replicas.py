"""Serving that grows with the machine: N copies of the app behind nginx, one public address.

    python -m archdemo.replicas --replicas 2 [--host 127.0.0.1] [--port 7860] [app.py flags, e.g. --device cuda]

One Gradio process is the ceiling on a big machine (one event loop, one queue, the GIL): on 16 cores
and an H100, /classify_digit topped out near 65-69 requests/s while the GPU sat idle. This starts N
``python app.py`` processes on consecutive free ports of 127.0.0.1, waits until each answers, then runs
Debian's nginx (``nginx -p RUN_DIR -c nginx.conf``, unprivileged: its pid file, logs and temporary
files all live in RUN_DIR) as the one public entry point. nginx does the balancing; this file only
writes its configuration and looks after the processes.

Session affinity (a cookie, set by nginx; see archdemo/deploy/nginx.py) keeps each browser and each
``gradio_client`` on one replica, as Gradio's queue, uploads and output files need.

Threads and the GPU. Each replica gets ``--threads`` CPU threads for torch (``OMP_NUM_THREADS``;
default: the ``OMP_NUM_THREADS`` already set, else usable cores // replicas, at least 1), so N
replicas do not oversubscribe the cores; on CUDA too, as preprocessing and Gradio run on the CPU.
On CUDA all replicas share the one GPU (the device flag passes through to each app.py), each with its
own CUDA context and copy of the models (a few hundred MB of GPU memory per replica; not measured
here); the GPU time-slices between processes. Optional, for more overlap between them: start NVIDIA's
MPS daemon (``nvidia-cuda-mps-control -d``) before this command; the replicas use it without change.

Once the service is up, one replica's failures never stop the others: a replica that dies (or does not
answer within --start-timeout of a restart) is started again on its port, after 1 s, then 2, 4, ... up
to 30 s while it keeps failing before it answers; once it has served for 60 s its next crash waits 1 s
again. Each crash is logged with its exit code and its restart's delay. Meanwhile nginx sends its
visitors to the others, and sends them back once it answers: each move loses what they had in flight
and starts them a new session (Gradio keeps sessions in the process's memory). Before the service is
up, a replica that fails to start stops everything (a broken install fails fast), as does nginx dying
at any time, with the reason and exit code 1. Ctrl-C or
SIGTERM stops nginx first, then every replica; children also get SIGTERM if this process is killed
outright (Linux's parent-death signal), so nothing is left behind.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from archdemo.deploy.nginx import nginx_conf
from archdemo.deploy.processes import answers, consecutive_free_ports, die_with_parent, port_is_free, stop_process
from archdemo.paths import ROOT
from archdemo.settings import Settings

log = logging.getLogger("archdemo.deploy.replicas")
BACKOFF_S = (1.0, 30.0)  # the first and the longest wait before a failed replica is started again
STEADY_S = 60.0  # a replica that has served this long is healthy again: its next crash waits BACKOFF_S[0]


@dataclass
class Replica:
    """One ``python app.py`` on 127.0.0.1:port, its output in run_dir/replica-<index>.log."""

    index: int
    port: int
    command: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    ready: bool = False  # answered HTTP 200 since its last start
    started: float = field(default=0.0)
    answered: float = 0.0  # when it first answered since its last start
    failures: int = 0  # failures in a row, not counting those before it last served for STEADY_S
    restart_at: float | None = None  # while it is down: when to start it again (proc is None meanwhile)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        with open(self.log_path, "a") as out:
            self.proc = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches only the supervisor, which stops things in order
                preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl, before exec
            )
        self.ready, self.started = False, time.monotonic()

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Supervisor:
    """Starts the replicas and nginx, restarts a replica that dies, stops everything on the way out."""

    def __init__(self, args: argparse.Namespace, app_args: list[str], run_dir: Path) -> None:
        self.args, self.run_dir = args, run_dir
        ports = consecutive_free_ports(args.replicas, args.port + 1)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        self.threads = str(args.threads or os.environ.get("OMP_NUM_THREADS") or max(1, cores // args.replicas))
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": self.threads}
        self.replicas = [
            Replica(
                k,
                p,
                [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(p), *app_args],
                env,
                run_dir / f"replica-{k}.log",
            )
            for k, p in enumerate(ports)
        ]
        self.nginx: subprocess.Popen | None = None

    def wait_ready(self, replica: Replica) -> bool:
        """Whether it answers (polled until it first does); raise if it died or took too long before that."""
        if replica.ready:
            return True
        if replica.proc.poll() is not None:
            raise RuntimeError(
                f"replica {replica.index} (port {replica.port}) exited with code {replica.proc.returncode} "
                f"before it answered; its log {replica.log_path} ends:\n{replica.log_tail()}"
            )
        if time.monotonic() - replica.started > self.args.start_timeout:
            raise RuntimeError(f"replica {replica.index} did not answer within {self.args.start_timeout:.0f} s")
        return self.probe(replica)

    def probe(self, replica: Replica) -> bool:
        """Whether a started replica answers now; the first time it does is logged (with its pid)."""
        replica.ready = answers(replica.url)
        if replica.ready:
            replica.answered = time.monotonic()
            again = f", after {replica.failures} failure(s) in a row" if replica.failures else ""
            log.info("replica %d answers at %s (pid %d)%s", replica.index, replica.url, replica.proc.pid, again)
        return replica.ready

    def start(self) -> None:
        if not port_is_free(self.args.port, self.args.host):
            raise RuntimeError(f"{self.args.host}:{self.args.port} is taken: choose another --port")
        for r in self.replicas:
            r.start()
        log.info(
            "starting %d replicas of app.py on ports %d-%d, %s torch threads each; logs in %s",
            len(self.replicas),
            self.replicas[0].port,
            self.replicas[-1].port,
            self.threads,
            self.run_dir,
        )
        while not all([self.wait_ready(r) for r in self.replicas]):  # a list: every replica is polled
            time.sleep(0.2)
        conf = self.run_dir / "nginx.conf"
        conf.write_text(nginx_conf(self.run_dir, self.args.host, self.args.port, [r.port for r in self.replicas]))
        error_log = self.run_dir / "error.log"
        cmd = [self.args.nginx, "-p", str(self.run_dir), "-c", str(conf), "-e", str(error_log), "-g", "daemon off;"]
        self.nginx = subprocess.Popen(cmd, start_new_session=True, preexec_fn=die_with_parent)  # noqa: PLW1509
        public = f"http://{self.args.host}:{self.args.port}/"
        probe = f"http://127.0.0.1:{self.args.port}/" if self.args.host in ("0.0.0.0", "::") else public  # noqa: S104
        deadline = time.monotonic() + 30
        while not answers(probe):
            if self.nginx.poll() is not None or time.monotonic() > deadline:
                tail = error_log.read_text(errors="replace")[-2000:] if error_log.exists() else ""
                raise RuntimeError(f"nginx did not start ({' '.join(cmd)}):\n{tail}")
            time.sleep(0.1)
        log.info("serving at %s: nginx (pid %d) in front of %d replicas", public, self.nginx.pid, len(self.replicas))

    def watch(self) -> None:
        """Until interrupted: look after each replica (``tend``); raise only if nginx dies."""
        while True:
            time.sleep(0.5)
            if self.nginx.poll() is not None:
                raise RuntimeError(f"nginx exited with code {self.nginx.returncode}; see {self.run_dir}/error.log")
            for r in self.replicas:
                self.tend(r)

    def tend(self, r: Replica) -> None:
        """Once the service is up: start a replica whose backoff is over, note when it answers, and put one
        that died (or never answered) down for a backoff. Never raises: the other replicas keep serving."""
        now = time.monotonic()
        if r.proc is None:
            if now >= (r.restart_at or 0.0):
                r.start()
                log.info("replica %d started again (pid %d)", r.index, r.proc.pid)
            return
        code = r.proc.poll()
        if code is None and not r.ready:
            if now - r.started <= self.args.start_timeout:
                self.probe(r)
                return
            log.error("replica %d did not answer within %.0f s of its start; stopping it", r.index, now - r.started)
            stop_process(r.proc, signal.SIGKILL)
            code = r.proc.returncode
        if code is None:
            if r.failures and now - r.answered >= STEADY_S:
                r.failures = 0
            return
        if r.ready and now - r.answered >= STEADY_S:
            r.failures = 0
        delay = min(BACKOFF_S[1], BACKOFF_S[0] * 2**r.failures)
        r.failures += 1
        log.error(
            "replica %d (port %d, pid %d) exited with code %s %s; restarting it in %.0f s (failure %d in a row; "
            "the others keep serving; its log: %s)",
            r.index,
            r.port,
            r.proc.pid,
            code,
            f"after serving {now - r.answered:.0f} s" if r.ready else "before it answered",
            delay,
            r.failures,
            r.log_path,
        )
        r.proc, r.ready, r.restart_at = None, False, now + delay

    def stop(self) -> None:
        """nginx first (no new requests), then every replica at once."""
        stop_process(self.nginx)
        live = [r.proc for r in self.replicas if r.proc is not None and r.proc.poll() is None]
        for proc in live:
            proc.terminate()
        for proc in live:
            stop_process(proc)


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    defaults = Settings.from_env()
    p = argparse.ArgumentParser(
        description="Serve archdemo from N app processes behind nginx. Other flags go to each app.py "
        "(see python app.py --help).",
    )
    p.add_argument("--replicas", type=int, default=2, help="app processes (default 2)")
    p.add_argument("--host", default=defaults.host, help=f"public address (default {defaults.host})")
    p.add_argument("--port", type=int, default=defaults.port, help=f"public port (default {defaults.port})")
    p.add_argument("--threads", type=int, help="torch CPU threads per replica (default: cores // replicas)")
    p.add_argument("--run-dir", type=Path, help="nginx.conf, logs and pid file (default: a new temporary folder)")
    p.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx", help="the nginx binary")
    p.add_argument("--start-timeout", type=float, default=300.0, help="seconds a replica may take to start")
    args, app_args = p.parse_known_args(argv)
    if args.replicas < 1:
        p.error("--replicas must be at least 1")
    if "--share" in app_args:
        p.error("--share is not supported behind nginx: a share link would reach one replica only")
    if not Path(args.nginx).exists():
        p.error(f"nginx not found at {args.nginx}: install it (Debian: apt-get install nginx) or pass --nginx")
    return args, app_args


def main(argv: list[str] | None = None) -> int:
    args, app_args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="archdemo-replicas-"))
    run_dir = run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    supervisor = Supervisor(args, app_args, run_dir)
    code = 0
    try:
        supervisor.start()
        supervisor.watch()
    except KeyboardInterrupt:
        log.info("stopping nginx and %d replicas", len(supervisor.replicas))
    except RuntimeError as e:
        log.error("%s", e)
        code = 1
    finally:
        supervisor.stop()
    if args.run_dir is None and code == 0:
        shutil.rmtree(run_dir, ignore_errors=True)
    elif code:
        log.error("logs kept in %s", run_dir)
    return code


if __name__ == "__main__":
    sys.exit(main())
