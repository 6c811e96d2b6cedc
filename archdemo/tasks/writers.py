"""Each character model's state for many continuations at once: the rows that ``runtime.decoding`` steps together.

A row is one visitor's continuation. Every step samples one character per row from the logits the last
read left (each row with its own temperature and its own repeatable random numbers), then reads all the
new characters in one forward pass:
- the LSTM (``RNNBatch``) carries its (h, c) state, (layers, B, H);
- the CNN (``CNNBatch``) carries each block's last inputs, (B, P, C), as far back as its filters reach;
- the GPT (``GPTBatch``) keeps a key/value cache of ``block_size`` slots per row, (B, heads, W, C/h), each
  row at its own position, the empty slots masked out of attention. A row whose window is full reads its
  last ``KEEP`` characters afresh and goes on from there, so its context stays ``KEEP``..``block_size``.
A batch of one row is plain unbatched decoding; the same rows give the same characters in any batch
(``tests/test_writing.py`` checks both against a plain forward pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

TOP_K = 5  # candidates kept for each written character


@dataclass
class Row:
    """What a batch needs to know about one continuation (a ``Stream``'s task)."""

    ids: list[int]  # the prompt, then every character written (the GPT re-reads its tail)
    temperature: float
    uniforms: object  # position -> the uniform number that picks the character written there
    seen: int = 0  # the GPT: how many characters its cache holds for this row
    extra: dict = field(default_factory=dict)


@dataclass
class Written:
    """One written character, with what the model saw when it chose it."""

    id: int
    top_ids: np.ndarray  # (TOP_K,)
    top_probs: np.ndarray  # (TOP_K,)
    hidden: np.ndarray | None = None  # the LSTM's top-layer state (H,) float16


def sample(logits: torch.Tensor, rows: list) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(B, V) logits -> one id per row by the inverse CDF at the row's uniform, and the top-k ids and probabilities."""
    temps = torch.tensor([r.task.temperature for r in rows], dtype=torch.float32, device=logits.device)
    probs = (logits.float() / temps[:, None]).softmax(-1).cpu().double()  # (B, V)
    u = torch.tensor([[r.task.uniforms(r.written)] for r in rows], dtype=torch.float64)  # (B, 1)
    chosen = torch.searchsorted(probs.cumsum(1), u * probs.sum(1, keepdim=True))[:, 0].clamp(max=probs.shape[1] - 1)
    top = probs.topk(TOP_K, dim=1)
    return chosen.tolist(), top.indices.numpy(), top.values.float().numpy()


def _last(streams) -> bool:
    """Every row is writing its last character: no row needs the forward pass that would read it."""
    return all(s.written + 1 >= s.length for s in streams)


def _drop(t: torch.Tensor, row: int, n: int, dim: int = 0) -> torch.Tensor:
    """Row ``row`` of the first n along ``dim`` replaced by row n - 1; returns the first n - 1."""
    if row != n - 1:
        t.select(dim, row).copy_(t.select(dim, n - 1))
    return t.narrow(dim, 0, n - 1)


class _Batch:
    def __init__(self, model: torch.nn.Module, device: torch.device) -> None:
        self.model, self.device = model, device
        self.logits: torch.Tensor | None = None  # (B, V): what each row's next character is chosen from
        self.n = 0

    def _ids(self, ids: list[int]) -> torch.Tensor:
        return torch.tensor(ids, device=self.device)

    def _append_logits(self, logits: torch.Tensor) -> None:
        self.logits = logits if self.logits is None else torch.cat([self.logits[: self.n], logits])
        self.n += 1

    def _remove_logits(self, row: int) -> None:
        self.logits = _drop(self.logits, row, self.n)
        self.n -= 1


class RNNBatch(_Batch):
    def __init__(self, model, device) -> None:
        super().__init__(model, device)
        self.hidden: torch.Tensor | None = None  # (B, H) the top layer's state that produced ``logits``
        self.state: tuple[torch.Tensor, torch.Tensor] | None = None  # (h, c), each (layers, B, H)

    def add(self, stream) -> None:
        logits, hidden, (h, c) = self.model.read(self._ids([stream.task.ids]), None, fused=False)
        if self.state is None or self.n == 0:
            self.hidden, self.state = hidden[:, -1], (h, c)
        else:
            self.hidden = torch.cat([self.hidden[: self.n], hidden[:, -1]])
            self.state = tuple(torch.cat([s[:, : self.n], new], 1) for s, new in zip(self.state, (h, c), strict=True))
        self._append_logits(logits[:, -1])

    def remove(self, row: int) -> None:
        self.hidden = _drop(self.hidden, row, self.n)
        self.state = tuple(_drop(s, row, self.n, dim=1) for s in self.state)
        self._remove_logits(row)

    def step(self, streams) -> list[Written]:
        chosen, top_ids, top_probs = sample(self.logits, streams)
        hidden = self.hidden.half().cpu().numpy()
        if not _last(streams):
            self.logits, self.hidden, self.state = self.model.step(self._ids(chosen), self.state)
        for s, c in zip(streams, chosen, strict=True):
            s.task.ids.append(c)
        return [Written(c, top_ids[i], top_probs[i], hidden[i]) for i, c in enumerate(chosen)]


class CNNBatch(_Batch):
    """Each block's last P normalised inputs per row, in a ring: a step writes one slot per block instead of
    copying the whole past (the model's own ``read`` concatenates it: a third of a 30-row step's time)."""

    def __init__(self, model, device) -> None:
        super().__init__(model, device)
        self.rings: list[torch.Tensor] | None = None  # per block (B, P, C); slot (at + i) % P holds past[i]
        self.at = 0  # the slot the next step writes: the oldest position of every row

    def add(self, stream) -> None:
        logits, cache = self.model.read(self._ids([stream.task.ids]))  # cache: per block (1, P, C), oldest first
        rows = [torch.roll(c, self.at, dims=1) for c in cache]
        if self.rings is None or self.n == 0:
            self.rings = rows
        else:
            self.rings = [torch.cat([r[: self.n], new]) for r, new in zip(self.rings, rows, strict=True)]
        self._append_logits(logits[:, -1])

    def remove(self, row: int) -> None:
        self.rings = [_drop(r, row, self.n) for r in self.rings]
        self._remove_logits(row)

    def step(self, streams) -> list[Written]:
        chosen, top_ids, top_probs = sample(self.logits, streams)
        if not _last(streams):
            self.logits = self._read(self._ids(chosen))
        for s, c in zip(streams, chosen, strict=True):
            s.task.ids.append(c)
        return [Written(c, top_ids[i], top_probs[i]) for i, c in enumerate(chosen)]

    def _read(self, ids: torch.Tensor) -> torch.Tensor:
        """``CausalBlock.forward`` for one position per row, the taps read from the rings -> logits (B, V)."""
        m = self.model
        x = m.embedding(ids)  # (B, C)
        for layer, ring in zip(m.layers, self.rings, strict=True):
            h = layer.norm1(x)
            past = ring.shape[1]  # P = (k - 1) * dilation; tap j is P - j * dilation steps back
            taps = [ring[:, (self.at + j * layer.dilation) % past] for j in range(layer.kernel_size - 1)]
            a, b = layer.conv(torch.cat([*taps, h], 1)).chunk(2, dim=1)
            x = x + layer.proj(torch.tanh(a) * torch.sigmoid(b))
            if layer.mlp is not None:
                x = x + layer.mlp(layer.norm2(x))
            ring[:, self.at % past] = h  # the oldest position goes, the newest comes
        self.at += 1
        return m.head(m.norm(x))


class GPTBatch(_Batch):
    """Key/value slots per row: ``keys[l][:n]`` is (n, heads, block_size, C/h); row i holds ``pos[i]`` of them."""

    def __init__(self, model, device) -> None:
        super().__init__(model, device)
        c = model.config
        self.block, self.heads, self.head_dim = c.block_size, c.num_heads, c.d_model // c.num_heads
        self.keep = c.block_size // 2  # a full window goes on from its last KEEP characters
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.pos = torch.zeros(0, dtype=torch.long, device=device)

    def _slots(self, rows: int) -> None:
        """Room for at least ``rows`` rows (grown by doubling: a join rarely copies the whole cache)."""
        have = self.keys[0].shape[0] if self.keys else 0
        if rows <= have:
            return
        size = max(rows, 2 * have, 4)
        shape = (size - have, self.heads, self.block, self.head_dim)
        grow = lambda t: torch.cat([t, t.new_zeros(shape)]) if have else torch.zeros(shape, device=self.device)  # noqa: E731
        n_layers = len(self.model.layers)
        self.keys = [grow(t) for t in self.keys] if have else [grow(None) for _ in range(n_layers)]
        self.values = [grow(t) for t in self.values] if have else [grow(None) for _ in range(n_layers)]
        self.pos = torch.cat([self.pos, self.pos.new_zeros(size - have)])

    def _fill(self, row: int, ids: list[int]) -> torch.Tensor:
        """Read ``ids`` afresh into ``row``'s slots: -> the logits after the last of them (V,)."""
        logits, cache, _ = self.model.read(self._ids([ids]))
        for layer, (k, v) in enumerate(cache):  # (1, heads, T, C/h)
            self.keys[layer][row, :, : len(ids)] = k[0]
            self.values[layer][row, :, : len(ids)] = v[0]
        self.pos[row] = len(ids)
        return logits[0, -1]

    def add(self, stream) -> None:
        window = stream.task.ids[-self.block :]
        self._slots(self.n + 1)
        logits = self._fill(self.n, window)
        stream.task.seen = len(window)
        self._append_logits(logits[None])

    def remove(self, row: int) -> None:
        for t in (*self.keys, *self.values):
            _drop(t, row, self.n)
        _drop(self.pos, row, self.n)
        self._remove_logits(row)

    def step(self, streams) -> list[Written]:
        chosen, top_ids, top_probs = sample(self.logits, streams)
        n = self.n
        for s, c in zip(streams, chosen, strict=True):
            s.task.ids.append(c)
        if _last(streams):  # what the last characters would be read with (the GPT's attention at the end)
            for s, pos in zip(streams, self.pos[:n].tolist(), strict=True):
                s.task.seen = pos + 1 if pos < self.block else self.keep
            return [Written(c, top_ids[i], top_probs[i]) for i, c in enumerate(chosen)]
        for i in (self.pos[:n] == self.block).nonzero()[:, 0].tolist():  # a full window goes on from its last KEEP
            self._fill(i, streams[i].task.ids[-self.keep : -1])
        pos = self.pos[:n]
        m = self.model
        x = m.embedding(self._ids(chosen)) + m.positions(pos)  # (B, C)
        rows = torch.arange(n, device=self.device)
        # Only the slots some row has filled, and attention written out: for one query per row, torch's
        # fused kernel (scaled_dot_product_attention, flash on the CPU) tiled the 256 slots for nothing and
        # took 2.7 of a step's 4.7 ms at 30 rows; two small batched products take a tenth of that.
        width = int(pos.max()) + 1
        hidden = torch.arange(width, device=self.device)[None] > pos[:, None]  # (B, W): empty slots
        scale = self.head_dim**-0.5
        for layer, block in enumerate(m.layers):
            a = block.attn
            q, k, v = a.qkv(block.norm1(x)).split(x.shape[1], dim=1)  # (B, C) each
            q, k, v = (t.view(n, self.heads, self.head_dim) for t in (q, k, v))
            self.keys[layer][rows, :, pos] = k
            self.values[layer][rows, :, pos] = v
            keys, values = self.keys[layer][:n, :, :width], self.values[layer][:n, :, :width]  # (B, h, W, C/h)
            scores = (q[:, :, None] @ keys.transpose(2, 3)) * scale  # (B, heads, 1, W)
            weights = scores.masked_fill(hidden[:, None, None], float("-inf")).softmax(-1)
            y = weights @ values  # (B, heads, 1, C/h)
            x = x + a.out(y.reshape(n, -1))
            x = x + block.mlp(block.norm2(x))
        x = m.norm(x)
        self.logits = x @ m.embedding.weight.T if m.head is None else m.head(x)  # (B, V)
        self.pos[:n] += 1
        for s, seen in zip(streams, self.pos[:n].tolist(), strict=True):
            s.task.seen = seen
        return [Written(c, top_ids[i], top_probs[i]) for i, c in enumerate(chosen)]


def gpt_attention(model, ids: list[int]) -> np.ndarray:
    """The newest of ``ids`` (the GPT's window) attending over all of them: (layers, heads, W)."""
    _, _, weights = model.read(torch.tensor([ids], device=next(model.parameters()).device), need_weights=True)
    return torch.stack([w[0, :, -1] for w in weights]).float().cpu().numpy()


def batch_for(model: torch.nn.Module, device: torch.device) -> _Batch:
    """The batch that fits this writer: it carries a state (LSTM), a cache of inputs (CNN) or of keys (GPT)."""
    if hasattr(model, "receptive_field"):
        return CNNBatch(model, device)
    if hasattr(model, "step"):
        return RNNBatch(model, device)
    return GPTBatch(model, device)
