"""Cold start: seconds from process start to the first correct API answer, and resident memory.

Each run starts ``python app.py --port P`` as a user does and polls with gradio_client until
``/classify_digit`` on archdemo/assets/digits/7.png answers label "7". Beside it, the floor: a bare
Gradio app that imports torch (bench/bare_app.py), started and polled the same way until it answers
at all. Runs alternate between the two; the medians are reported. After the first answer archdemo is
called once on each endpoint, then its resident memory is read (VmRSS, and the peak VmHWM, from
/proc/<pid>/status).

    python -m bench.cold_start [--runs 5] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import DIGITS, RESULTS, App, machine_info, median, rss_kib, start_app, table, wait_http, write_json

SEVEN = DIGITS / "7.png"


def first_answer(app: App, check: Callable[[dict], bool], timeout: float) -> tuple[float, object]:
    """Seconds from process start to an answer that passes ``check``; polls every 50 ms."""
    from gradio_client import Client, handle_file

    deadline = app.started + timeout
    client, last = None, None
    while time.perf_counter() < deadline:
        if app.proc.poll() is not None:
            raise RuntimeError(f"app exited (code {app.proc.returncode}):\n{app.log_tail()}")
        try:
            client = client or Client(app.url, verbose=False, download_files=False, analytics_enabled=False)
            last = client.predict(handle_file(str(SEVEN)), api_name="/classify_digit")
            if isinstance(last, dict) and check(last):
                return time.perf_counter() - app.started, client
        except Exception as e:  # not up yet: connection refused, endpoint not ready
            last = e
        time.sleep(0.05)
    raise TimeoutError(f"no correct answer within {timeout:.0f} s (last: {last!r}):\n{app.log_tail()}")


def touch_every_endpoint(client) -> None:
    from gradio_client import handle_file

    client.predict(handle_file(str(SEVEN)), 0.5, api_name="/denoise_digit")
    for endpoint in ("/rnn_sentiment", "/transformer_sentiment"):
        client.predict("A warm, funny and moving film.", api_name=endpoint)


def one_run(target: str, args: argparse.Namespace, run: int) -> dict:
    script = "app.py" if target == "archdemo" else "bench/bare_app.py"
    env = {"ARCHDEMO_DEVICE": args.device} if args.device and target == "archdemo" else {}
    if target == "archdemo":
        check = (lambda r: True) if args.expect_label == "any" else (lambda r: r.get("label") == args.expect_label)
    else:
        check = lambda r: "pixels" in r  # noqa: E731
    app = start_app(script, env, f"cold-start-{target}.log")
    try:
        http_s = wait_http(app, args.timeout)
        answer_s, client = first_answer(app, check, args.timeout)
        if target == "archdemo":
            touch_every_endpoint(client)
        mem = rss_kib(app.proc.pid)
        client.close()
    finally:
        app.stop()
    row = {"target": target, "run": run, "http_s": http_s, "first_answer_s": answer_s}
    row |= {"rss_mib": mem.get("VmRSS", 0) / 1024, "peak_rss_mib": mem.get("VmHWM", 0) / 1024}
    print(
        f"run {run} {target}: page {http_s:.2f} s, first answer {answer_s:.2f} s, "
        f"RSS {row['rss_mib']:.0f} MiB (peak {row['peak_rss_mib']:.0f})"
    )
    return row


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=5, help="starts of each app (default 5)")
    p.add_argument("--device", help="archdemo's device (ARCHDEMO_DEVICE); default: the app's choice")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds one start may take (default 300)")
    p.add_argument("--no-floor", action="store_true", help="time archdemo only")
    p.add_argument(
        "--expect-label", default="7", help='the answer that counts as correct (default "7"; "any" for smoke runs)'
    )
    p.add_argument("--out", type=Path, default=RESULTS / "cold-start.json", help="JSON path")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    import gradio_client  # noqa: F401  (imported before any clock starts)
    import torch

    targets = ["archdemo"] + ([] if args.no_floor else ["floor"])
    rows = []
    for run in range(args.runs):
        for target in targets if run % 2 == 0 else targets[::-1]:  # alternate, so neither always goes first
            rows.append(one_run(target, args, run))
    summary = {}
    for target in targets:
        mine = [r for r in rows if r["target"] == target]
        summary[target] = {
            key: median([r[key] for r in mine]) for key in ("http_s", "first_answer_s", "rss_mib", "peak_rss_mib")
        }
    headers = ["target", "page up s", "first answer s", "RSS MiB", "peak RSS MiB"]
    print(f"\nmedian of {args.runs} runs (archdemo: correct answer; floor: bare Gradio + torch, any answer)")
    print(table(headers, [[t, *summary[t].values()] for t in targets]))
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    result = {"machine": machine_info(device), "runs": rows, "median": summary}
    if "floor" in summary:
        a, f = summary["archdemo"], summary["floor"]
        result["archdemo_minus_floor"] = {k: a[k] - f[k] for k in a if a[k] is not None and f[k] is not None}
        print(f"archdemo over the floor: +{result['archdemo_minus_floor']['first_answer_s']:.2f} s to first answer")
    write_json(args.out, result)


if __name__ == "__main__":
    main()
