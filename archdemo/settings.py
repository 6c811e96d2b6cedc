"""Every setting the app takes, parsed once (in ``app.py``) and passed down as one object.

Command-line flags win over environment variables, which win over the defaults. Nothing below
``app.py`` reads ``ARCHDEMO_*`` variables: the store, the tasks and the UI get this object.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

SESSION_CAPACITY = 1000  # browser tabs and API clients whose Gradio state is kept (see ui/__init__.py)
OFF = ("off", "0", "false", "no")


@dataclass(frozen=True)
class Settings:
    device: str | None = None  # "cpu", "cuda", "cuda:N"; None: cuda if available, else cpu
    weights: Literal["bundled", "hub"] = "bundled"  # every model from weights/, or from its pinned Hub repo
    sources: Mapping[str, str] = field(default_factory=dict)  # per model: a folder or hub:ORG/REPO@REVISION
    user_models: bool = True  # show the "use your own model from the Hub" panels
    micro_batching: bool = False  # concurrent API requests share one forward pass per model
    max_queue: int = 256  # requests waiting at most; past it Gradio answers "Queue is full"
    max_sessions: int = SESSION_CAPACITY
    serving: Literal["tuned", "defaults"] = "tuned"  # defaults: Gradio as it comes, for the benchmark
    max_writers: int = 32  # writing jobs (Write tab visitors, /generate_* calls) at once; the rest queue
    writer_niceness: int = 10  # the decoding threads' nice value: writers give the CPU way to quick requests
    # Helper processes that draw the insides' pictures (archdemo/runtime/offload.py; 0: drawn in the server),
    # and each writer's decoding loop in a process of its own (archdemo/runtime/apart.py). Off here, as the
    # tests run; app.py turns both on when tuned on a machine with two cores or more (``with_helpers``).
    picture_workers: int = 0
    writer_processes: bool = False
    # On ZeroGPU: "measured" sends the models to the GPU only if one is slower on the CPU than a GPU call
    # costs (gpu_call_ms; archdemo.device.worth_a_gpu_call); "never" keeps them on the CPU; "always" puts every
    # model call but the writers' inside spaces.GPU (the tests' stand-in checks that path).
    zerogpu: Literal["measured", "always", "never"] = "measured"
    # What one spaces.GPU call costs before the function runs (ms): a floor under Hugging Face's figures
    # (a warm call is a round trip to the scheduler, a cold one 3-4 s).
    gpu_call_ms: float = 300.0
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    mcp: bool = False

    def __post_init__(self) -> None:
        if self.weights not in ("bundled", "hub"):
            raise ValueError(f"weights must be 'bundled' or 'hub', not {self.weights!r}")
        if self.serving not in ("tuned", "defaults"):
            raise ValueError(f"serving must be 'tuned' or 'defaults', not {self.serving!r}")
        if self.zerogpu not in ("measured", "always", "never"):
            raise ValueError(f"zerogpu must be 'measured', 'always' or 'never', not {self.zerogpu!r}")
        if not 0 <= self.picture_workers <= 64:
            raise ValueError(f"picture_workers must be 0-64, not {self.picture_workers}")
        if self.max_writers < 1:
            raise ValueError(f"max_writers must be at least 1, not {self.max_writers}")

    def with_helpers(self, environ: Mapping[str, str] | None = None, chosen: Collection[str] = ()) -> Settings:
        """The server's defaults for the helper processes, where neither a flag (``chosen``) nor a variable
        chose: two picture helpers and a process per writer when tuned on two cores or more (one core: none).
        Two helpers, niced (``PICTURE_NICENESS`` in app.py): a room's Write-tab pictures came 4.2 s after the
        text at the median instead of 7.4 s (7.8 s at most instead of 14), the text as fast."""
        env = os.environ if environ is None else environ
        worth = self.serving == "tuned" and (os.cpu_count() or 1) >= 2
        defaults = {"picture_workers": 2 if worth else 0, "writer_processes": worth}
        variables = {"picture_workers": "ARCHDEMO_PICTURE_WORKERS", "writer_processes": "ARCHDEMO_WRITER_PROCESSES"}
        return replace(self, **{k: v for k, v in defaults.items() if k not in chosen and not env.get(variables[k])})

    @property
    def explicit(self) -> frozenset[str]:
        """Models whose weights someone named on purpose: they never fall back to the bundled copy."""
        return frozenset(self.sources)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Settings from ``ARCHDEMO_*`` / ``GRADIO_*`` variables; ``overrides`` (e.g. parsed flags) win."""
        env = os.environ if environ is None else environ
        on_spaces = bool(env.get("SPACE_ID"))
        sources = {
            key[len("ARCHDEMO_") : -len("_WEIGHTS")].lower(): value
            for key, value in env.items()
            if key.startswith("ARCHDEMO_") and key.endswith("_WEIGHTS") and key != "ARCHDEMO_WEIGHTS" and value
        }
        values = {
            "device": env.get("ARCHDEMO_DEVICE") or None,
            "weights": env.get("ARCHDEMO_WEIGHTS") or "bundled",
            "sources": sources,
            "user_models": env.get("ARCHDEMO_USER_MODELS", "on").strip().lower() not in OFF,
            "max_queue": int(env.get("ARCHDEMO_MAX_QUEUE", "256")),
            "max_sessions": int(env.get("ARCHDEMO_MAX_SESSIONS", str(SESSION_CAPACITY))),
            "serving": env.get("ARCHDEMO_SERVING") or "tuned",
            "max_writers": int(env.get("ARCHDEMO_MAX_WRITERS", "32")),
            "writer_niceness": int(env.get("ARCHDEMO_WRITER_NICENESS", "10")),
            "picture_workers": int(env.get("ARCHDEMO_PICTURE_WORKERS") or 0),
            "writer_processes": env.get("ARCHDEMO_WRITER_PROCESSES", "off").strip().lower() not in OFF,
            "zerogpu": env.get("ARCHDEMO_ZEROGPU") or "measured",
            "gpu_call_ms": float(env.get("ARCHDEMO_GPU_CALL_MS", "300")),
            "host": env.get("GRADIO_SERVER_NAME") or ("0.0.0.0" if on_spaces else "127.0.0.1"),  # noqa: S104 (Spaces)
            "port": int(env.get("GRADIO_SERVER_PORT", "7860")),
            "mcp": env.get("GRADIO_MCP_SERVER", "").strip().lower() in ("1", "true", "yes", "on"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "micro_batching" not in overrides:
            values["micro_batching"] = values["serving"] == "tuned"
        return cls(**values)
