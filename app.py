"""archdemo's browser app: one tab per architecture, each on the task it is made for.

This file parses the options once into a ``Settings`` object, loads and warms the models once, and
launches the UI built by ``archdemo.ui`` (one module per tab). It holds no model code.
Run ``python app.py --help`` for host, port, share link, device and weights options.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import threading
import time
from dataclasses import replace

from archdemo.deploy.processes import READY
from archdemo.device import worth_a_gpu_call, zerogpu
from archdemo.runtime.heap import freeze_startup_objects, return_large_buffers
from archdemo.runtime.offload import PICTURES
from archdemo.runtime.threads import serving_threads
from archdemo.serving.answers import Answers
from archdemo.settings import Settings
from archdemo.tasks.writing import start_writing, stop_writing, writing_ready
from archdemo.ui import CSS, build
from archdemo.ui.compression import compressed_pages
from archdemo.ui.limits import request_limits
from archdemo.ui.live import live_routes
from archdemo.ui.model_table import latency_ms
from archdemo.ui.serving import async_login_check, keep_connections_open, lean_sessions, quick_static_check
from archdemo.weights.registry import MODELS
from archdemo.weights.store import ModelStore

log = logging.getLogger("archdemo.app")
# Quick API requests (a digit, a sentence) in flight at once when tuned: enough to keep the micro-batchers'
# batches full while the preprocessing of other requests runs on the worker threads. Writing jobs are a
# group of their own (--max-writers): they take seconds, and shared a limit with the quick ones they held
# a sentence up for minutes (288 s behind 32 generations of 2,000 characters).
API_CONCURRENCY = 16
# Gradio keeps a record of up to 10,000 past requests and, by default, rebuilds a pandas summary of all
# of them after every request; the summary feeds only the monitoring dashboard, which is off. Measured
# on this 2-core machine (8 clients, /rnn_sentiment, 3,200 requests): 79-91 req/s and +93 MB resident
# memory with Gradio's setting, 125-133 req/s and +13 MB with these.
PICTURE_MODULES = ("archdemo.ui.digit_readers", "archdemo.ui.write")  # what the picture helpers draw with
# The picture helpers' nice value: pictures come after what a visitor watches live (a readout, a text), so
# they take the CPU the server and the GPT's loop leave. bench.writing --room, 30 visitors, two helpers: at
# nice 0 the texts slowed to 76-78 chars/s (90-92 with one helper); at 10 they were as fast as with one
# (86 against 87-88 in the same hour), their pictures drawn 4.2 s after the text at the median (one helper:
# 7.4 s). The drawing room's pen-up insides: p95 116-138 ms.
PICTURE_NICENESS = 10
GRADIO_ANALYTICS = {"GRADIO_ANALYTICS_CACHE_FREQUENCY": "1000", "GRADIO_ANALYTICS_MAX_EVENTS": "1000"}


# ---------------------------------------------------------------- launch


def parse_args(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Flags, then ARCHDEMO_* / GRADIO_* variables, then defaults -> one Settings object."""
    defaults = Settings.from_env(environ)
    p = argparse.ArgumentParser(description="Serve the archdemo app.")
    p.add_argument("--host", help=f"address to bind (default: $GRADIO_SERVER_NAME, else {defaults.host})")
    p.add_argument("--port", type=int, help=f"port (default: $GRADIO_SERVER_PORT, else {defaults.port})")
    p.add_argument("--share", action="store_true", default=None, help="also ask Gradio for a public share link")
    p.add_argument(
        "--mcp",
        action="store_true",
        default=None,
        help="also serve the tasks as MCP tools (default: $GRADIO_MCP_SERVER)",
    )
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: $ARCHDEMO_DEVICE, else cuda if available)")
    p.add_argument(
        "--weights", choices=["bundled", "hub"], help="where weights come from (default: $ARCHDEMO_WEIGHTS or bundled)"
    )
    p.add_argument(
        "--max-queue",
        type=int,
        help="most requests waiting in the queue; beyond it a request is refused with 'Queue is full' "
        f"(default: $ARCHDEMO_MAX_QUEUE, else {defaults.max_queue})",
    )
    p.add_argument(
        "--max-sessions",
        type=int,
        help="browser tabs and API clients whose Gradio session state is kept (200-270 KB each); the oldest "
        f"are dropped beyond it (default: $ARCHDEMO_MAX_SESSIONS, else {defaults.max_sessions})",
    )
    p.add_argument(
        "--serving",
        choices=["tuned", "defaults"],
        help="tuned: API requests run concurrently and share forward passes (micro-batching); defaults: "
        "Gradio's defaults, one request at a time per endpoint, for comparison (default: $ARCHDEMO_SERVING or tuned)",
    )
    p.add_argument(
        "--max-writers",
        type=int,
        help="writing jobs (Write tab visitors and /generate_* calls) at once, written in one batch per model; "
        f"the rest wait in the queue, shown their place (default: $ARCHDEMO_MAX_WRITERS, else {defaults.max_writers})",
    )
    p.add_argument(
        "--zerogpu",
        choices=["measured", "always", "never"],
        help="on a ZeroGPU Space: measured = the models go inside spaces.GPU only if one is slower on the CPU "
        "than a GPU call costs; never = all on the CPU; always = every model call in a GPU call "
        "(default: $ARCHDEMO_ZEROGPU or measured)",
    )
    p.add_argument(
        "--gpu-call-ms",
        type=float,
        help="what one ZeroGPU call costs before it runs, in ms "
        f"(default: $ARCHDEMO_GPU_CALL_MS, else {defaults.gpu_call_ms:.0f})",
    )
    p.add_argument(
        "--picture-workers",
        type=int,
        help="helper processes that draw the insides' pictures off the server's GIL; 0 = in the server "
        "(default: $ARCHDEMO_PICTURE_WORKERS, else 2 when tuned on 2+ cores)",
    )
    p.add_argument(
        "--writer-processes",
        choices=["on", "off"],
        help="each writer's decoding loop in a process of its own, off the server's GIL "
        "(default: $ARCHDEMO_WRITER_PROCESSES, else on when tuned on 2+ cores)",
    )
    args = p.parse_args(argv)
    if args.writer_processes is not None:
        args.writer_processes = args.writer_processes == "on"
    flags = {k: v for k, v in vars(args).items() if v is not None}
    return Settings.from_env(environ, **flags).with_helpers(environ, chosen=flags)


def place_models(settings: Settings) -> tuple[ModelStore, Answers, dict]:
    """The store and answers to serve from, warmed up, and where the models went and why.

    On ZeroGPU (``--zerogpu measured``, the default) every model is first timed on the CPU, one request
    through the app's own code (median of 5); the models go to the GPU only if one of them takes longer
    than a GPU call costs (``--gpu-call-ms``). One store has one device, so it is all of them or none.
    """
    placement: dict = {"zerogpu": zerogpu(), "gpu_models": []}
    if zerogpu() and settings.zerogpu != "always":
        store = ModelStore(replace(settings, device="cpu"))
        answers = Answers(store, micro_batching=settings.micro_batching)
        answers.warm_up()
        if settings.zerogpu == "never":
            return store, answers, placement
        costs = {name: round(latency_ms(answers, name, repeats=5), 2) for name in MODELS}
        placement.update(cpu_ms=costs, gpu_call_ms=settings.gpu_call_ms)
        placement["gpu_models"] = worth_a_gpu_call(costs, settings.gpu_call_ms)
        log.info(
            "ZeroGPU: CPU time per request %s ms against %.0f ms per GPU call; to the GPU: %s",
            costs,
            settings.gpu_call_ms,
            placement["gpu_models"] or "none (no GPU calls)",
        )
        if not placement["gpu_models"]:
            return store, answers, placement
    store = ModelStore(settings)
    answers = Answers(store, micro_batching=settings.micro_batching)
    answers.warm_up()
    return store, answers, placement


def stop_helpers(store: ModelStore, signum: int, _frame) -> None:
    """SIGTERM (archdemo.replicas stops its replicas so): the helper processes first, then as SIGTERM does."""
    PICTURES.stop(kill=True)
    stop_writing(store)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def say_when_ready(store: ModelStore, timeout: float = 300.0) -> None:
    """One line in the log once every helper process is up (at once without them): from then on a room
    meets the app as it will run all day. The tests and the benchmarks' rooms wait for it (bench.common)."""
    started = time.perf_counter()
    up = PICTURES.wait_ready(timeout) and writing_ready(store, timeout)
    took = time.perf_counter() - started
    if up:
        log.info("%s: helper processes up %.1f s after the page answered", READY, took)
    else:
        log.warning("%s, without some helper processes after %.0f s (see above)", READY, took)


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return_large_buffers()  # big uploads' buffers go back to the system when freed (archdemo/runtime/heap.py)
    tuned = settings.serving == "tuned"
    if tuned:
        serving_threads()  # one torch thread per forward: a crowd is parallel across requests (runtime/threads.py)
        for key, value in GRADIO_ANALYTICS.items():
            os.environ.setdefault(key, value)  # read by Gradio itself
    store, answers, _ = place_models(settings)
    log.info("models on %s, weights from %s, %s serving", store.device_label, store.loaded_from(), settings.serving)
    writing = {"concurrency_id": "writing", "concurrency_limit": settings.max_writers} if tuned else None
    demo = build(store, answers, api_concurrency=API_CONCURRENCY if tuned else None, writing=writing)
    # A bounded queue: under a crowd, requests past --max-queue get Gradio's "Queue is full" (HTTP 503,
    # gradio_client raises QueueError) at once instead of waiting without end.
    demo.queue(default_concurrency_limit=4 if tuned else 1, max_size=settings.max_queue)
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        mcp_server=True if settings.mcp else None,
        css=CSS,
        max_file_size="10mb",
        state_session_capacity=settings.max_sessions,
        footer_links=["api", "gradio"],
        prevent_thread_lock=True,
        # Capped bodies, bounded uploads (archdemo/ui/limits.py); the page compressed (archdemo/ui/compression.py);
        # the pad's live socket (archdemo/ui/live.py).
        app_kwargs={"middleware": [*request_limits(), *compressed_pages()], "routes": live_routes(answers)},
    )
    keep_connections_open(getattr(demo, "server", None))  # clients close idle connections first (ui/serving.py)
    if tuned:
        async_login_check(getattr(demo, "server_app", None))  # warns and changes nothing if Gradio differs
        lean_sessions()  # the same
        quick_static_check()  # the same
    # The helper processes start once the app answers: started before, their imports took the two cores
    # from the app's own start (bench.cold_start, first answer: 9.6 s so, 7.0 s now, 7.3 s without them).
    # Until they are up, a pen-up's pictures and a text wait for them (once, after a start).
    PICTURES.start(settings.picture_workers, preload=PICTURE_MODULES, niceness=PICTURE_NICENESS)
    start_writing(store)
    threading.Thread(target=say_when_ready, args=(store,), name="helpers-ready", daemon=True).start()
    signal.signal(signal.SIGTERM, functools.partial(stop_helpers, store))
    if tuned:
        log.info("%d objects made at start kept out of the garbage collector's rounds", freeze_startup_objects())
    if settings.share and not demo.share_url:
        # Gradio prints its own hint; this line says what it means for the person running the app.
        log.warning(
            "no public share link could be created (it needs internet access); still serving at %s", demo.local_url
        )
    demo.block_thread()


if __name__ == "__main__":
    main()
