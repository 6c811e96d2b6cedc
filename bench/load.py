"""Load test: many concurrent API clients against the app started as a user starts it, and the queue bound.

Phase 1 (main): ``--clients`` threads, each with its own ``gradio_client.Client``, each sending
``--requests-per-client`` requests that cycle over every endpoint (digit PNGs from archdemo/assets/digits
and short sentences). Every answer is checked (the digit k sample must be classified "k", sentiment labels
must be positive/negative, denoising must return two images and PSNR metrics). Reports requests, failures
(with the first messages), p50/p95 latency, requests per second, and the app's resident memory (VmRSS from
/proc) after warm-up vs after the run.

Phase 2 (queue bound): a second app started with ``--max-queue 4`` is flooded with ``--flood`` simultaneous
requests; counts how many were served and how many got Gradio's "Queue is full" answer (gradio_client raises
``QueueError``). Every request must end: none may wait forever.

A global ``--deadline`` (seconds) bounds the whole run. Writes bench/results/load.json; exits 0 whatever the
timings (a failed request in the main phase is printed clearly).

    python -m bench.load [--clients 64] [--requests-per-client 40] [--deadline 900] [--flood 64]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from archdemo.weights.registry import CHAR_MODELS, DIGIT_MODELS, MODELS
from bench.common import (
    DIGITS,
    RESULTS,
    api_client,
    machine_info,
    percentile,
    rss_kib,
    start_app,
    wait_http,
    write_json,
)

# Every endpoint the app serves: each model's (from the registry) and the anomaly meter's.
ENDPOINTS = (*(f"/{spec.api_name}" for spec in MODELS.values()), "/digit_anomaly")
DIGIT_READERS = {f"/{MODELS[n].api_name}" for n in DIGIT_MODELS}
WRITERS = {f"/{MODELS[n].api_name}" for n in CHAR_MODELS}
SENTENCES = (
    "a wonderful, warm and funny film",
    "dull, lifeless and far too long",
    "the acting is superb",
    "i hated every minute of it",
    "an uneven but charming story",
)


@dataclass
class Outcome:
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    queue_full: int = 0
    refusals: list[str] = field(default_factory=list)  # the messages of the queue-full answers
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, error: str | None = None, queue_full: bool = False) -> None:
        with self.lock:
            if queue_full:
                self.queue_full += 1
                self.refusals.append(error or "")
            elif error is None:
                self.ok += 1
                self.latencies.append(seconds)
            else:
                self.failures.append(error)


def make_request(i: int) -> tuple[str, tuple, Callable[[object], str | None]]:
    """(api_name, args, check) for the i-th request of a client; check returns an error text or None."""
    from gradio_client import handle_file

    api = ENDPOINTS[i % len(ENDPOINTS)]
    digit = (i // len(ENDPOINTS)) % 10
    if api in DIGIT_READERS:
        args: tuple = (handle_file(str(DIGITS / f"{digit}.png")),)

        def check(r: object) -> str | None:  # the CNN reads every sample right; the others must answer a digit
            right = str(digit) if api == "/classify_digit" else r.get("label") if isinstance(r, dict) else None
            ok = isinstance(r, dict) and r.get("label") == right and len(r.get("probabilities", {})) == 10
            return None if ok else f"{api} {digit}.png gave {r!r:.200}"
    elif api == "/digit_anomaly":
        args = (handle_file(str(DIGITS / f"{digit}.png")),)

        def check(r: object) -> str | None:
            ok = isinstance(r, dict) and set(r) == {"score", "percentile", "unusual"}
            return None if ok else f"anomaly gave {r!r:.200}"
    elif api in WRITERS:
        args = ("ROMEO:\n", 20, 0.8, i)

        def check(r: object) -> str | None:
            return None if isinstance(r, str) and len(r) == 20 else f"{api} gave {r!r:.200}"
    elif api == "/denoise_digit":
        args = (handle_file(str(DIGITS / f"{digit}.png")), 0.3)

        def check(r: object) -> str | None:
            ok = isinstance(r, (tuple, list)) and len(r) == 3 and isinstance(r[2], dict) and "psnr_denoised" in r[2]
            return None if ok else f"denoise gave {r!r:.200}"
    else:
        args = (SENTENCES[(i // len(ENDPOINTS)) % len(SENTENCES)],)

        def check(r: object) -> str | None:
            ok = isinstance(r, dict) and r.get("label") in ("positive", "negative")
            return None if ok else f"{api} gave {r!r:.200}"

    return api, args, check


def new_client(url: str):
    # download_files=False: denoised images stay on the server (no temp files piling up on the client side)
    return api_client(url, download_files=False)


def call(client, i: int, outcome: Outcome, deadline: float) -> None:
    """Send request i, wait at most until ``deadline``, record the outcome."""
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError

    api, args, check = make_request(i)
    t0 = time.perf_counter()
    try:
        job = client.submit(*args, api_name=api)
        result = job.result(timeout=max(0.1, deadline - time.perf_counter()))
    except QueueError as e:
        outcome.add(time.perf_counter() - t0, f"QueueError: {e}", queue_full=True)
        return
    except (AppError, Exception) as e:  # noqa: BLE001 - every failure is counted, with its message
        text = f"{api}: {type(e).__name__}: {e}"
        if "queue is full" in str(e).lower():
            outcome.add(time.perf_counter() - t0, text, queue_full=True)
        else:
            outcome.add(time.perf_counter() - t0, text[:300])
        return
    outcome.add(time.perf_counter() - t0, check(result))


def run_clients(url: str, clients: int, per_client: int, deadline_s: float) -> dict:
    """``clients`` threads x ``per_client`` mixed requests; returns counts, latencies and throughput."""
    outcome = Outcome()
    deadline = time.perf_counter() + deadline_s
    made = [new_client(url) for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    not_sent = [0]

    def worker(c: int) -> None:
        start.wait()
        for k in range(per_client):
            if time.perf_counter() >= deadline:
                with outcome.lock:
                    not_sent[0] += per_client - k
                return
            call(made[c], c + k, outcome, deadline)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.perf_counter()) + 5)
    elapsed = time.perf_counter() - t0
    hung = sum(t.is_alive() for t in threads)
    close_later(made)
    done = outcome.ok + len(outcome.failures) + outcome.queue_full
    return {
        "clients": clients,
        "requests_per_client": per_client,
        "requests_planned": clients * per_client,
        "requests_done": done,
        "not_sent_deadline": not_sent[0],
        "threads_still_running": hung,
        "ok": outcome.ok,
        "failures": len(outcome.failures),
        "queue_full": outcome.queue_full,
        "first_failures": outcome.failures[:5],
        "seconds": round(elapsed, 2),
        "req_per_s": round(done / elapsed, 2) if elapsed else None,
        "latency_p50_s": _r(percentile(outcome.latencies, 50)),
        "latency_p95_s": _r(percentile(outcome.latencies, 95)),
        "latency_max_s": _r(max(outcome.latencies) if outcome.latencies else None),
    }


def flood(url: str, n: int, timeout_s: float, api: str = "/transformer_sentiment") -> dict:
    """``n`` requests released at the same instant, each its own client; every one must end within timeout_s."""
    outcome = Outcome()
    made = [new_client(url) for _ in range(n)]
    start = threading.Barrier(n + 1)
    index = ENDPOINTS.index(api)
    deadline_box = [0.0]

    def worker(c: int) -> None:
        start.wait()
        call(made[c], index + len(ENDPOINTS) * c, outcome, deadline_box[0])

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(n)]
    for t in threads:
        t.start()
    deadline_box[0] = time.perf_counter() + timeout_s
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=max(0.0, deadline_box[0] - time.perf_counter()) + 5)
    hung = sum(t.is_alive() for t in threads)
    seconds = time.perf_counter() - t0
    close_later(made)
    with outcome.lock:
        return {
            "requests": n,
            "served": outcome.ok,
            "queue_full": outcome.queue_full,
            "first_refusals": sorted(set(outcome.refusals))[:3],
            "other_failures": len(outcome.failures),
            "first_failures": outcome.failures[:5],
            "still_waiting": hung,
            "seconds": round(seconds, 2),
        }


def close_later(clients: list) -> None:
    """Close the clients in a background thread: Client.close() waits ~0.6 s each for its heartbeat thread."""

    def close_all() -> None:
        for client in clients:
            try:
                client.close()
            except Exception:  # noqa: BLE001, S110 - closing is best effort
                pass

    threading.Thread(target=close_all, name="close-clients", daemon=True).start()


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--requests-per-client", type=int, default=40)
    p.add_argument("--deadline", type=float, default=900, help="seconds for the whole run (default 900)")
    p.add_argument("--flood", type=int, default=64, help="simultaneous requests in the queue-bound phase")
    p.add_argument("--max-queue", type=int, default=4, help="queue bound of the second app")
    p.add_argument("--out", type=Path, default=RESULTS / "load.json")
    args = p.parse_args(argv)
    t_end = time.perf_counter() + args.deadline
    env = {"ARCHDEMO_DEVICE": "cpu"}
    report: dict = {"machine": machine_info("cpu"), "settings": vars(args) | {"out": str(args.out)}}

    app = start_app("app.py", env, "load_app.log")
    try:
        wait_http(app, timeout=min(180, t_end - time.perf_counter()))
        warm = run_clients(app.url, min(8, args.clients), 4, max(10.0, min(120, t_end - time.perf_counter())))
        rss_before = rss_kib(app.proc.pid)
        print(f"warm-up: {warm['ok']} ok, {warm['failures']} failed; RSS {_mib(rss_before['VmRSS'])} MiB")
        main_budget = max(10.0, t_end - time.perf_counter() - 120)  # leave time for the queue-bound phase
        result = run_clients(app.url, args.clients, args.requests_per_client, main_budget)
        rss_after = rss_kib(app.proc.pid)
        result["rss_after_warmup_kib"] = rss_before["VmRSS"]
        result["rss_after_run_kib"] = rss_after["VmRSS"]
        result["rss_peak_kib"] = rss_after["VmHWM"]
        result["rss_change_pct"] = round(100 * (rss_after["VmRSS"] - rss_before["VmRSS"]) / rss_before["VmRSS"], 1)
        report["warmup"] = warm
        report["main"] = result
    finally:
        app.stop()

    bounded = start_app("app.py", env, "load_app_bounded.log", ["--max-queue", str(args.max_queue)])
    try:
        wait_http(bounded, timeout=max(30.0, min(180, t_end - time.perf_counter())))
        report["queue_bound"] = {"max_queue": args.max_queue} | flood(
            bounded.url, args.flood, timeout_s=max(30.0, min(120, t_end - time.perf_counter()))
        )
    finally:
        bounded.stop()

    write_json(args.out, report)
    m, q = report["main"], report["queue_bound"]
    print(
        f"main: {m['requests_done']}/{m['requests_planned']} requests from {m['clients']} clients in {m['seconds']} s"
        f" = {m['req_per_s']} req/s; ok {m['ok']}, failures {m['failures']}, queue-full {m['queue_full']};"
        f" p50 {m['latency_p50_s']} s, p95 {m['latency_p95_s']} s, max {m['latency_max_s']} s"
    )
    print(
        f"RSS after warm-up {_mib(m['rss_after_warmup_kib'])} MiB, after run {_mib(m['rss_after_run_kib'])} MiB"
        f" ({m['rss_change_pct']:+.1f}%), peak {_mib(m['rss_peak_kib'])} MiB"
    )
    print(
        f"queue bound (--max-queue {q['max_queue']}): {q['requests']} simultaneous requests -> served {q['served']},"
        f" queue full {q['queue_full']}, other failures {q['other_failures']}, still waiting {q['still_waiting']}"
        f" ({q['seconds']} s)"
    )
    if m["failures"] or m["not_sent_deadline"] or m["threads_still_running"]:
        print(
            f"!!! MAIN PHASE NOT CLEAN: {m['failures']} failed, {m['not_sent_deadline']} not sent before the deadline,"
            f" {m['threads_still_running']} clients still running; first failures: {m['first_failures']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
