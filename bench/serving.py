"""Serving under load: the app started as a user starts it, hit by 1 to 64 concurrent API users.

Configurations (bench/serving_apps.py): ``defaults`` (app.py with Gradio's defaults: one request at a
time per endpoint, no batching), ``tuned`` (app.py as shipped: 16 API requests in flight at once,
sharing forward passes through the service's micro-batchers), ``tutorial`` (the article's CNN in a
``gr.Interface`` with Gradio's defaults, bench/tutorial_app.py: /classify_digit only) and
``replicasN`` (``python -m archdemo.replicas --replicas N``: N tuned apps behind nginx). Each is
launched on a free port; then, per endpoint it serves and per user count, every user (a thread with
its own ``gradio_client.Client``) sends ``--requests-per-user`` requests one after another. Recorded:
p50/p95 latency, requests/s (answered requests / wall time of the phase) and errors; printed at the
end: throughput ratios tuned / defaults, tuned / tutorial and replicasN / tuned. Bounded request
counts, a per-request timeout and a global deadline make it stop by itself.

    python -m bench.serving [--configs defaults,tuned] [--users 1,8,32,64] [--requests-per-user 10] [--endpoints all]
    python -m bench.serving --configs tutorial,tuned --users 32 --endpoints classify_digit
    python -m bench.serving --configs tuned,replicas2 --users 32

The load generator runs on the same machine as the app: compare configurations with each other,
not with a machine serving real users from elsewhere.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    DIGITS,
    RESULTS,
    api_client,
    api_settings,
    machine_info,
    percentile,
    table,
    wait_ready,
    write_json,
)
from bench.serving_apps import CONFIGS, ratio_pairs, start_config

SENTENCES = [
    "An absolute delight from start to finish, with a cast that clearly enjoys every minute of it.",
    "Tedious, ugly and far too long; even the best scenes feel like they were assembled by committee.",
    "It is not a great film, but its quiet honesty and a lovely final scene make it worth seeing.",
    "The jokes land, the songs are catchy and the story moves briskly toward a satisfying ending.",
    "A muddled plot and flat dialogue sink what might have been an interesting premise about grief.",
]


def endpoint_args(endpoint: str) -> Callable[[int], tuple]:
    """Request number -> the arguments of that request (images cycle through the ten sample digits)."""
    from gradio_client import handle_file

    if endpoint == "/classify_digit":
        return lambda i: (handle_file(str(DIGITS / f"{i % 10}.png")),)
    if endpoint == "/denoise_digit":
        return lambda i: (handle_file(str(DIGITS / f"{i % 10}.png")), 0.5)
    if endpoint.endswith("_sentiment"):
        return lambda i: (SENTENCES[i % len(SENTENCES)],)
    raise SystemExit(f"unknown endpoint {endpoint}")


ENDPOINTS = [
    "/classify_digit",
    "/denoise_digit",
    "/rnn_sentiment",
    "/transformer_sentiment",
    "/pretrained_transformer_sentiment",
]


@dataclass
class Phase:
    """One endpoint under one number of users."""

    endpoint: str
    users: int
    sent: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    wall_s: float = 0.0
    timed_out: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, ms: float | None, error: BaseException | None = None) -> None:
        with self.lock:
            self.sent += 1
            if error is None and ms is not None:
                self.latencies_ms.append(ms)
            else:
                self.errors += 1
                self.first_error = self.first_error or f"{type(error).__name__}: {str(error)[:200]}"

    def summary(self) -> dict:
        ok = len(self.latencies_ms)
        return {
            "endpoint": self.endpoint,
            "users": self.users,
            "sent": self.sent,
            "ok": ok,
            "errors": self.errors,
            "p50_ms": percentile(self.latencies_ms, 50),
            "p95_ms": percentile(self.latencies_ms, 95),
            "requests_per_s": ok / self.wall_s if self.wall_s > 0 else None,
            "wall_s": self.wall_s,
            "timed_out": self.timed_out,
            "first_error": self.first_error,
        }


def run_phase(clients: list, endpoint: str, per_user: int, request_timeout: float, deadline: float) -> Phase:
    phase = Phase(endpoint, len(clients))
    make_args = endpoint_args(endpoint)
    start = threading.Barrier(len(clients) + 1)

    def user(k: int, client) -> None:
        start.wait()
        for j in range(per_user):
            left = min(request_timeout, deadline - time.perf_counter())
            if left <= 0:
                phase.timed_out = True
                return
            t0 = time.perf_counter()
            job = None
            try:
                job = client.submit(*make_args(k * per_user + j), api_name=endpoint)
                job.result(timeout=left)
                phase.record((time.perf_counter() - t0) * 1e3)
            except Exception as e:
                phase.record(None, e)
                if job is not None:
                    job.cancel()

    threads = [threading.Thread(target=user, args=(k, c), daemon=True) for k, c in enumerate(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.perf_counter()) + request_timeout)
    phase.timed_out = phase.timed_out or any(t.is_alive() for t in threads)
    phase.wall_s = time.perf_counter() - t0
    return phase


def bench_config(config: str, args: argparse.Namespace, deadline: float, downloads: Path) -> dict:
    app = start_config(config, args.device)
    try:
        startup_s = wait_ready(app, timeout=args.start_timeout)
        settings = {e: s for e, s in api_settings(app.url).items() if e in args.endpoints}
        # Tuned serving batches inside the service (archdemo/batching.py), so Gradio's own "batch" flag
        # stays off; what differs in /config is the endpoints' concurrency limit.
        print(f"\n[{config}] up in {startup_s:.1f} s; endpoint settings: {settings}")
        if missing := [e for e in args.endpoints if e not in settings]:
            print(f"[{config}] does not serve {', '.join(missing)}: skipped")
        clients = [api_client(app.url, download_files=str(downloads)) for _ in range(max(args.users))]
        phases = []
        for endpoint in [e for e in args.endpoints if e in settings]:
            make_args = endpoint_args(endpoint)
            for i in range(args.warmup):  # not timed: first calls load lazily on both sides
                clients[0].predict(*make_args(i), api_name=endpoint)
            for users in args.users:
                if time.perf_counter() > deadline:
                    print(f"[{config}] global timeout reached: skipping the rest")
                    break
                phase = run_phase(clients[:users], endpoint, args.requests_per_user, args.request_timeout, deadline)
                phases.append(phase.summary())
                s = phases[-1]
                print(
                    f"[{config}] {endpoint} users={users}: {s['ok']}/{s['sent']} ok, p50 {s['p50_ms'] or 0:.0f} ms, "
                    f"p95 {s['p95_ms'] or 0:.0f} ms, {s['requests_per_s'] or 0:.1f} req/s"
                    + (f", first error: {s['first_error']}" if s["errors"] else "")
                )
        for c in clients:
            c.close()
        return {"config": config, "startup_s": startup_s, "api_settings": settings, "phases": phases}
    finally:
        app.stop()


def report(runs: list[dict]) -> list[dict]:
    """Print one table per endpoint, then the throughput ratios (serving_apps.RATIOS); return the ratio rows."""
    by_key = {(r["config"], p["endpoint"], p["users"]): p for r in runs for p in r["phases"]}
    endpoints = list(dict.fromkeys(p["endpoint"] for r in runs for p in r["phases"]))
    headers = ["config", "users", "ok/sent", "errors", "p50 ms", "p95 ms", "req/s"]
    for endpoint in endpoints:
        rows = [
            [
                r["config"],
                p["users"],
                f"{p['ok']}/{p['sent']}",
                p["errors"],
                p["p50_ms"],
                p["p95_ms"],
                p["requests_per_s"],
            ]
            for r in runs
            for p in r["phases"]
            if p["endpoint"] == endpoint
        ]
        print(f"\n{endpoint}\n{table(headers, rows)}")
    ratios = []
    for config, baseline in ratio_pairs([r["config"] for r in runs]):
        for (c, endpoint, users), p in by_key.items():
            base = by_key.get((baseline, endpoint, users))
            if c == config and base and base["requests_per_s"] and p["requests_per_s"]:
                ratio = p["requests_per_s"] / base["requests_per_s"]
                ratios.append({"ratio": f"{config} / {baseline}", "endpoint": endpoint, "users": users, "value": ratio})
    if ratios:
        print("\nthroughput ratios (requests/s of one configuration over another's, same endpoint and users)")
        print(table(["ratio", "endpoint", "users", "x"], [list(r.values()) for r in ratios]))
    return ratios


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--users", default="1,8,32,64", help="concurrent users per phase (default 1,8,32,64)")
    p.add_argument("--requests-per-user", type=int, default=10, help="requests each user sends per phase (default 10)")
    p.add_argument("--endpoints", default="all", help=f"comma-separated, or all: {','.join(ENDPOINTS)}")
    p.add_argument("--configs", default="defaults,tuned", help=f"comma-separated, from: {CONFIGS}")
    p.add_argument("--device", help="the app's device (ARCHDEMO_DEVICE); default: the app's choice")
    p.add_argument("--warmup", type=int, default=2, help="untimed requests per endpoint first (default 2)")
    p.add_argument("--request-timeout", type=float, default=120.0, help="seconds one request may take (default 120)")
    p.add_argument("--timeout", type=float, default=3600.0, help="global deadline in seconds (default 3600)")
    p.add_argument("--start-timeout", type=float, default=300.0, help="seconds the app may take to start")
    p.add_argument("--out", type=Path, help="JSON path (default bench/results/serving-<device>.json)")
    args = p.parse_args(argv)
    args.users = [int(u) for u in args.users.split(",")]
    args.endpoints = (
        ENDPOINTS
        if args.endpoints == "all"
        else [e if e.startswith("/") else "/" + e for e in args.endpoints.split(",")]
    )
    args.configs = args.configs.split(",")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    deadline = time.perf_counter() + args.timeout
    with tempfile.TemporaryDirectory(prefix="archdemo-bench-") as downloads:
        runs = [bench_config(config, args, deadline, Path(downloads)) for config in args.configs]
    ratios = report(runs)
    result = {
        "machine": machine_info(device),
        "requests_per_user": args.requests_per_user,
        "users": args.users,
        "runs": runs,
        "throughput_ratios": ratios,
    }
    write_json(args.out or RESULTS / f"serving-{device.replace(':', '')}.json", result)


if __name__ == "__main__":
    main()
