"""Writing tasks: the two character models continue a visitor's prompt, and show how they chose each character.

Plain functions over the model store, no gradio. ``write`` is a generator that yields the text as it
grows, made in chunks of a few characters, each chunk one guarded call (``archdemo.runtime.guard``: on ZeroGPU a
generator cannot hold the GPU, a call can). Every step of a chunk gives the answer and the insides at
once: the sampled character, its five likeliest candidates, and the LSTM's hidden state; the GPT's
last chunk also reads the newest character to show where its attention goes.

Sampling is repeatable: each chunk draws its uniform numbers from a generator seeded by (seed, position),
so the same prompt, settings and seed give the same text on any run and any device.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch

from archdemo.errors import InputError
from archdemo.inputs.answers import number, whole_number
from archdemo.inputs.characters import encode
from archdemo.runtime.guard import guarded
from archdemo.weights.registry import CHAR_MODELS
from archdemo.weights.store import ModelStore

MAX_PROMPT_CHARS = 500
MAX_LENGTH = 2000
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.1, 2.0
MAX_SEED = 2**31 - 1
TOP_K = 5  # candidates kept for each written character
FIRST_CHUNKS = (4, 8)  # small first chunks, so the first characters show at once; then CHUNK at a time
CHUNK = 16
# Typed characters that tiny Shakespeare spells otherwise (curly quotes, Windows line ends).
_SPELLED = {"\r\n": "\n", "\r": "\n", "\u2019": "'", "\u2018": "'", "\u2014": "-", "\u2013": "-"}


@dataclass
class Writing:
    """One model's continuation of a prompt so far, and what it saw while writing it."""

    model: str
    prompt: str
    text: str  # the characters written so far (without the prompt)
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


def _uniforms(seed: int, start: int, n: int) -> torch.Tensor:
    """n uniform numbers for the characters written at positions start .. start + n - 1."""
    return torch.rand(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + start), dtype=torch.float64)


def _pick(logits: torch.Tensor, temperature: float, u: float) -> tuple[int, torch.Tensor, torch.Tensor]:
    """(V,) logits -> the sampled id (inverse CDF at u), and the top-k ids and probabilities."""
    probs = (logits.float() / temperature).softmax(-1).cpu().double()
    chosen = int(torch.searchsorted(probs.cumsum(0), torch.tensor([u * float(probs.sum())], dtype=torch.float64)))
    top = probs.topk(TOP_K)
    return min(chosen, len(probs) - 1), top.indices, top.values.float()


def _read_on(model, ids: torch.Tensor, state) -> tuple[torch.Tensor, torch.Tensor | None, object]:
    """(1, T) ids read on from ``state`` -> logits (1, T, V), the LSTM's top states (1, T, H) or None, new state.

    Two writers carry something from character to character: the LSTM its state, the CNN a cache of the
    inputs its dilated filters still reach back to (its receptive field)."""
    if hasattr(model, "receptive_field"):
        logits, state = model.read(ids, state)
        return logits, None, state
    return model.read(ids, state, fused=False)


@guarded
def _rnn_chunk(
    store: ModelStore, name: str, ids: list[int], state: tuple | None, n: int, temperature: float, seed: int, start: int
) -> dict:
    """Read ``ids`` (the prompt, or the last written character) from ``state``, then write n characters."""
    model = store.get(name)
    x = torch.tensor([ids], device=store.device)  # (1, T)
    state = None if state is None else tuple(s.to(store.device) for s in state)
    logits, hidden, state = _read_on(model, x, state)  # (1, T, V), (1, T, H) or None
    out, tops, probs, states = [], [], [], []
    for i, u in enumerate(_uniforms(seed, start, n).tolist()):
        chosen, top, p = _pick(logits[0, -1], temperature, u)
        out.append(chosen)
        tops.append(top)
        probs.append(p)
        if hidden is not None:
            states.append(hidden[0, -1])
        if i < n - 1:  # the last character is read at the start of the next chunk
            logits, hidden, state = _read_on(model, torch.tensor([[chosen]], device=store.device), state)
    return {
        "ids": out,
        "top_ids": torch.stack(tops).numpy(),
        "top_probs": torch.stack(probs).numpy(),
        # float16: kept per visitor, drawn only (the LSTM's memory; the CNN has none to show)
        "hidden": torch.stack(states).half().cpu().numpy() if states else None,
        "state": tuple(s.cpu() for s in state),
    }


@guarded
def _gpt_chunk(
    store: ModelStore, name: str, ids: list[int], n: int, temperature: float, seed: int, start: int, last: bool
) -> dict:
    """Read the newest characters (all that fit beside n more), write n, and if ``last`` read the final one too,
    for its attention. The context is cut at the chunk's start so that it never outgrows the window."""
    model = store.get(name)
    block = model.config.block_size
    window = ids[-(block - n) :] if n < block else ids[-1:]
    logits, cache, _ = model.read(torch.tensor([window], device=store.device))
    logits = logits[0, -1]
    out, tops, probs = [], [], []
    attention = None
    for i, u in enumerate(_uniforms(seed, start, n).tolist()):
        chosen, top, p = _pick(logits, temperature, u)
        out.append(chosen)
        tops.append(top)
        probs.append(p)
        if i < n - 1 or last:
            step, cache, weights = model.read(torch.tensor([[chosen]], device=store.device), cache, need_weights=last)
            logits = step[0, -1]
    if last:  # the newest character's attention over everything the model sees: (layers, heads, W)
        attention = torch.stack([w[0, :, -1] for w in weights]).float().cpu().numpy()
    return {"ids": out, "top_ids": torch.stack(tops).numpy(), "top_probs": torch.stack(probs).numpy(),
            "attention": attention, "seen": (window + out)[-block:]}  # fmt: skip


def write(
    store: ModelStore,
    name: str,
    prompt: object,
    length: object,
    temperature: object,
    seed: object,
    insides: bool = True,
) -> Iterator[Writing]:
    """Model ``name`` continues ``prompt``: yields the Writing after each chunk; the last has ``done``.

    Without ``insides`` the GPT does not read its last character for its attention (one forward less).
    """
    if name not in CHAR_MODELS:
        raise ValueError(f"{name!r} is not a character model; choose one of {CHAR_MODELS}")
    began = time.perf_counter()
    model = store.get(name)
    vocab = list(model.config.vocab)
    stateful = hasattr(model, "step")  # the LSTM and the CNN carry a state from chunk to chunk; a GPT rereads
    prompt = check_prompt(prompt, vocab)
    length, temperature, seed = check_settings(length, temperature, seed)
    written = Writing(name, prompt, "", np.zeros((0, TOP_K), np.int64), np.zeros((0, TOP_K), np.float32), vocab)
    ids, state, hidden = encode(prompt, vocab).tolist(), None, []
    sizes = [*FIRST_CHUNKS, *([CHUNK] * (length // CHUNK + 1))]
    done = 0
    for size in sizes:
        n = min(size, length - done)
        last = done + n == length
        if stateful:
            out = _rnn_chunk(store, name, ids if done == 0 else ids[-1:], state, n, temperature, seed, done)
            state = out["state"]
            if out["hidden"] is not None:
                hidden.append(out["hidden"])
                written.hidden = np.concatenate(hidden)
        else:
            out = _gpt_chunk(store, name, ids, n, temperature, seed, done, last and insides)
            if last and insides:
                written.attention = out["attention"]
                written.context = "".join(vocab[i] for i in out["seen"])
        ids += out["ids"]
        done += n
        written.text += "".join(vocab[i] for i in out["ids"])
        written.top_ids = np.concatenate([written.top_ids, out["top_ids"]])
        written.top_probs = np.concatenate([written.top_probs, out["top_probs"]])
        if written.first_seconds is None:
            written.first_seconds = time.perf_counter() - began
        written.done = last
        yield replace(written)  # a snapshot: the arrays are replaced, never changed in place, as the text grows
        if last:
            return


def generate(store: ModelStore, name: str, prompt: object, length: object, temperature: object, seed: object) -> str:
    """The whole continuation at once (the API's answer)."""
    *_, written = write(store, name, prompt, length, temperature, seed, insides=False)
    return written.text
