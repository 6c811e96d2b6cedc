"""Writing tasks: the character models continue a visitor's prompt, and show how they chose each character.

Plain functions over the model store, no gradio. ``write`` (and ``write_async``, for an event loop) yields
the text as it grows, in pieces of a few characters. Everyone writing with one model is written together:
one decoding loop per model (``archdemo.runtime.decoding``) steps every visitor's row in one forward pass
per character (the rows: ``archdemo.tasks.writers``), each model call under the guard
(``archdemo.runtime.guard``). Every step gives the answer and the insides at once: the sampled character,
its five likeliest candidates, and the LSTM's hidden state; at the end the GPT's newest character is read
once more to show where its attention goes. ``batched=False`` decodes one row on the caller's thread.

Sampling is repeatable: each chunk of positions draws its uniform numbers from a generator seeded by
(seed, position), so the same prompt, settings and seed give the same text on any run, in any batch.
"""

from __future__ import annotations

import asyncio
import bisect
import copy
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch

from archdemo.device import zerogpu
from archdemo.errors import InputError
from archdemo.inputs.answers import number, whole_number
from archdemo.inputs.characters import encode
from archdemo.runtime.apart import LoopApart
from archdemo.runtime.decoding import DecodingLoop, Stream
from archdemo.runtime.guard import guarded
from archdemo.runtime.threads import serving_threads
from archdemo.settings import Settings
from archdemo.tasks.writers import TOP_K, Row, Written, batch_for, gpt_attention
from archdemo.weights.registry import CHAR_MODELS
from archdemo.weights.store import ModelStore

MAX_PROMPT_CHARS = 500
MAX_LENGTH = 2000
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.1, 2.0
MAX_SEED = 2**31 - 1
FIRST_CHUNKS = (4, 8)  # small first chunks, so the first characters show at once; then CHUNK at a time
CHUNK = 16
WARM_ROWS = 8  # rows each writing process writes at its start
# Typed characters that tiny Shakespeare spells otherwise (curly quotes, Windows line ends).
_SPELLED = {"\r\n": "\n", "\r": "\n", "\u2019": "'", "\u2018": "'", "\u2014": "-", "\u2013": "-"}


@dataclass
class Writing:
    """One model's continuation of a prompt so far, and what it saw while writing it."""

    model: str
    prompt: str
    text: str  # the characters written so far (without the prompt)
    # The insides are filled in with the last snapshot (``done``); before it they are empty.
    top_ids: np.ndarray  # (N, TOP_K) the likeliest candidates for each written character, best first
    top_probs: np.ndarray  # (N, TOP_K) their probabilities at the temperature used
    vocab: list[str]
    hidden: np.ndarray | None = None  # the LSTM: (N, H) float16, its top layer's state when it wrote each character
    attention: np.ndarray | None = None  # the GPT, when done: (layers, heads, W) from the newest character
    context: str = ""  # the GPT, when done: the W characters that attention spreads over (newest last)
    first_seconds: float | None = None  # from the request to the first written character
    done: bool = False

    def candidates(self, position: int) -> list[tuple[str, float]]:
        """The top candidates for written character ``position`` (0-based) as (character, probability)."""
        ids, probs = self.top_ids[position], self.top_probs[position]
        return [(self.vocab[i], float(p)) for i, p in zip(ids, probs, strict=True)]


def check_prompt(prompt: object, vocab: list[str]) -> str:
    """The prompt as the model will read it, or an InputError that says what to change."""
    if not isinstance(prompt, str) or not prompt:
        raise InputError("Type a few words for the models to continue, such as 'ROMEO:'.")
    for typed, spelled in _SPELLED.items():
        prompt = prompt.replace(typed, spelled)
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(f"The prompt is {len(prompt):,} characters long; the limit is {MAX_PROMPT_CHARS}.")
    unknown = sorted(set(prompt) - set(vocab))
    if unknown:
        shown = ", ".join(repr(ch) for ch in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        raise InputError(
            f"These characters never occur in tiny Shakespeare, so the models cannot read them: {shown}. "
            "They know letters, spaces, new lines and ! $ & ' , - . 3 : ; ? only."
        )
    return prompt


def check_settings(length: object, temperature: object, seed: object) -> tuple[int, float, int]:
    """(length, temperature, seed) as numbers in range, or an InputError naming the one that is not."""

    n = whole_number(length, "length", 1, MAX_LENGTH, " of characters")
    t = number(temperature, "temperature")
    if not MIN_TEMPERATURE <= t <= MAX_TEMPERATURE:
        raise InputError(
            f"The temperature must be from {MIN_TEMPERATURE} (nearly always the likeliest character) "
            f"to {MAX_TEMPERATURE} (close to random)."
        )
    return n, t, whole_number(seed, "seed", 0, MAX_SEED)


def _chunks(length: int) -> list[int]:
    """Where each chunk of positions starts; a chunk's random numbers come from one generator."""
    starts, at = [], 0
    for size in (*FIRST_CHUNKS, *([CHUNK] * (length // CHUNK + 1))):
        if at >= length:
            break
        starts.append(at)
        at += size
    return starts


class Uniforms:
    """position -> the uniform number that picks the character written there: chunk by chunk, seeded by
    (seed, the chunk's start), so that a chunk's numbers never depend on how the text was batched."""

    def __init__(self, seed: int, length: int) -> None:
        self.seed, self.length = seed, length
        self.starts = _chunks(length)
        self._chunk: tuple[int, list[float]] = (-1, [])

    def __call__(self, position: int) -> float:
        start = self.starts[bisect.bisect_right(self.starts, position) - 1]
        if self._chunk[0] != start:
            i = self.starts.index(start)
            end = self.starts[i + 1] if i + 1 < len(self.starts) else self.length
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + start)
            self._chunk = (start, torch.rand(end - start, generator=g, dtype=torch.float64).tolist())
        return self._chunk[1][position - start]


@guarded(zerogpu_slot=False)
def _decode(store: ModelStore, call, *args):
    """Every model call of the writers (a prompt read, a step for all rows, the GPT's last look). Never in a
    ZeroGPU call: a loop's state must outlive each step, and a step takes milliseconds on the CPU."""
    return call(*args)


_CPU_COPIES: weakref.WeakKeyDictionary[torch.nn.Module, torch.nn.Module] = weakref.WeakKeyDictionary()


def writer_model(store: ModelStore, name: str) -> torch.nn.Module:
    """The model the writers decode with: the store's, except on ZeroGPU with the store on the GPU, where
    a GPU exists only inside spaces.GPU calls: there, a CPU copy of it."""
    model = store.get(name)
    if not zerogpu() or store.device.type == "cpu":
        return model
    with _LOOPS_LOCK:
        if model not in _CPU_COPIES:
            _CPU_COPIES[model] = copy.deepcopy(model).cpu()
        return _CPU_COPIES[model]


# A visitor's three texts are done when the slowest writer's is: the GPT's, whose step reads every row's
# key/value cache. Its loop keeps the server's priority; the other two give way to quick requests
# (``writer_niceness``). bench.writing --room, 30 visitors writing 600 characters on this 2-core CPU:
# 73-75 chars/s each with all three niced to 10, 80-81 with none niced, 84-87 so; a sentence behind
# 32 long generations still answered in 0.011 s.
NOT_NICED = frozenset({"char_gpt"})

_LOOPS: weakref.WeakKeyDictionary[ModelStore, dict[str, DecodingLoop]] = weakref.WeakKeyDictionary()
_LOOPS_LOCK = threading.Lock()


def decoding_loop(store: ModelStore, name: str) -> DecodingLoop | LoopApart:
    """The one loop that writes for everyone using model ``name`` of this store (started at its first use):
    in a process of its own when the settings say so (``writer_processes``; runtime/apart.py), else a thread."""
    with _LOOPS_LOCK:
        loops = _LOOPS.setdefault(store, {})
        if name not in loops and getattr(store.settings, "writer_processes", False):
            own = replace(store.settings, writer_processes=False, device="cpu" if zerogpu() else str(store.device))
            # The child's loop thread is niced as the server's was (its settings carry writer_niceness): niced as
            # a whole process, its pipe to the server waited too, and the room wrote 65 chars/s against 74.
            loops[name] = LoopApart(f"{__name__}:loop_in_child", own, name, name=f"write-{name}").start()
        if name not in loops:
            run = lambda call, *args: _decode(store, call, *args)  # noqa: E731
            make = lambda: _batch(store, name)  # noqa: E731
            nice = 0 if name in NOT_NICED else getattr(store.settings, "writer_niceness", 10)
            loops[name] = DecodingLoop(make, run, name=f"write-{name}", niceness=nice)
        return loops[name]


def loop_in_child(settings: Settings, name: str) -> DecodingLoop:
    """In a writing process: a store of its own with model ``name`` loaded, and the loop that writes with it."""
    serving_threads()
    store = ModelStore(settings)
    loop = decoding_loop(store, name)
    # A few rows written once, so that the first room is not also torch's first batches of every size.
    warm = [_Writer(store, name, "ROMEO:\n", 24, 0.8, seed, False).stream for seed in range(WARM_ROWS)]
    for stream in warm:
        loop.submit(stream)
    for stream in warm:
        while not stream.done:
            stream.next_piece().result(timeout=120)
    return loop


def start_writing(store: ModelStore) -> None:
    """Every writer's loop now (apart: their processes start loading the models)."""
    for name in CHAR_MODELS:
        decoding_loop(store, name)


def _started_loops(store: ModelStore) -> list[DecodingLoop | LoopApart]:
    with _LOOPS_LOCK:
        return list(_LOOPS.get(store, {}).values())


def writing_ready(store: ModelStore, timeout: float) -> bool:
    """Wait until every writing process of this store can write (True; at once for loops in threads)."""
    return all(loop.wait_ready(timeout) for loop in _started_loops(store) if hasattr(loop, "wait_ready"))


def stop_writing(store: ModelStore) -> None:
    """Every writing process of this store stopped (its loops in threads go with the server)."""
    for loop in _started_loops(store):
        if hasattr(loop, "stop"):
            loop.stop()


def _batch(store: ModelStore, name: str):
    model = writer_model(store, name)
    return batch_for(model, next(model.parameters()).device)


class _Writer:
    """One visitor's continuation: its stream, and the Writing that grows from the pieces it hands over."""

    def __init__(self, store, name, prompt, length, temperature, seed, insides) -> None:
        if name not in CHAR_MODELS:
            raise ValueError(f"{name!r} is not a character model; choose one of {CHAR_MODELS}")
        self.began = time.perf_counter()
        self.store, self.name, self.insides = store, name, insides
        model = store.get(name)
        self.vocab = list(model.config.vocab)
        prompt = check_prompt(prompt, self.vocab)
        length, temperature, seed = check_settings(length, temperature, seed)
        row = Row(encode(prompt, self.vocab).tolist(), temperature, Uniforms(seed, length))
        self.stream = Stream(row, length, pieces=[*_chunks(length)[1:], length])
        empty = np.zeros((0, TOP_K), np.int64), np.zeros((0, TOP_K), np.float32)
        self.written = Writing(name, prompt, "", *empty, self.vocab)
        self.chars: list[Written] = []

    def grow(self, piece: list[Written]) -> Writing:
        w = self.written
        self.chars += piece
        w.text += "".join(self.vocab[c.id] for c in piece)
        if w.first_seconds is None:
            w.first_seconds = time.perf_counter() - self.began
        w.done = len(self.chars) == self.stream.length
        if w.done:
            w.top_ids = np.stack([c.top_ids for c in self.chars])
            w.top_probs = np.stack([c.top_probs for c in self.chars])
            if self.chars[0].hidden is not None:
                w.hidden = np.stack([c.hidden for c in self.chars])
            model = writer_model(self.store, self.name)
            if self.insides and hasattr(model, "positions"):  # the GPT: its newest character's attention
                seen = self.stream.task.ids[-self.stream.task.seen :]
                w.attention = _decode(self.store, gpt_attention, model, seen)
                w.context = "".join(self.vocab[i] for i in seen)
        return replace(w)  # a snapshot: later pieces replace the text, never change a snapshot


def write(
    store: ModelStore,
    name: str,
    prompt: object,
    length: object,
    temperature: object,
    seed: object,
    insides: bool = True,
    batched: bool = True,
) -> Iterator[Writing]:
    """Model ``name`` continues ``prompt``: yields the Writing after each piece; the last has ``done``.

    ``batched``: written in the model's decoding loop with everyone else (this thread waits for each
    piece); else one row decoded here. Without ``insides`` the GPT does not read its text once more for
    its attention.
    """
    writer = _Writer(store, name, prompt, length, temperature, seed, insides)
    stream = writer.stream
    if batched:
        decoding_loop(store, name).submit(stream)
    else:
        batch = _batch(store, name)
        _decode(store, batch.add, stream)
    try:
        while len(writer.chars) < stream.length:
            piece = stream.next_piece()
            while not batched and not piece.done():
                stream.put(_decode(store, batch.step, [stream])[0])
            yield writer.grow(piece.result())
    finally:
        stream.close()  # a reader that stops early frees its row


async def write_async(
    store: ModelStore, name: str, prompt: object, length: object, temperature: object, seed: object, insides=True
) -> AsyncIterator[Writing]:
    """``write`` for a coroutine on an event loop: it waits for each piece without holding a thread."""
    writer = _Writer(store, name, prompt, length, temperature, seed, insides)
    stream = decoding_loop(store, name).submit(writer.stream)
    try:
        while len(writer.chars) < stream.length:
            piece = await asyncio.wrap_future(stream.next_piece())
            last = len(writer.chars) + len(piece) == stream.length  # the last piece reads the GPT's attention
            yield await asyncio.to_thread(writer.grow, piece) if last else writer.grow(piece)
    finally:
        stream.close()  # finished, or the visitor left (Gradio closes the generator): the row is freed


def generate(store: ModelStore, name: str, prompt: object, length: object, temperature: object, seed: object) -> str:
    """The whole continuation at once."""
    *_, written = write(store, name, prompt, length, temperature, seed, insides=False)
    return written.text


async def generate_async(store: ModelStore, name: str, prompt, length, temperature, seed) -> str:
    """The API's answer: the whole continuation, written with everyone else, waited for on the event loop."""
    text = ""
    async for written in write_async(store, name, prompt, length, temperature, seed, insides=False):
        text = written.text
    return text
