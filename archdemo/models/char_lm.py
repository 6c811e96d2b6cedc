"""Two character-level language models that write like Shakespeare: CharRNN (an LSTM) and CharGPT.

Both map character ids of their config's vocabulary to next-character logits at every position,
``forward(ids) -> logits (B, T, V)``, and both have a step API for generation that also returns what
the Write tab draws from the same pass: the LSTM carries its (h, c) state and gives its top layer's
hidden state after each character; the GPT carries a key/value cache and gives each layer's attention
weights. The LSTM can read any length; the GPT sees at most ``block_size`` characters (learned positions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

# The 65 characters of tiny Shakespeare (its sorted set), the default vocabulary; trained configs carry their own.
SHAKESPEARE_CHARS = list("\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _check_vocab(vocab: list[str]) -> None:
    if len(vocab) < 2 or len(set(vocab)) != len(vocab) or any(len(ch) != 1 for ch in vocab):
        raise ValueError("vocab must be two or more distinct single characters")


@dataclass
class CharRNNConfig:
    vocab: list[str] = field(default_factory=lambda: list(SHAKESPEARE_CHARS))  # characters, id = index
    embed_dim: int = 64  # character vector size
    hidden_size: int = 384  # LSTM state size per layer
    num_layers: int = 2  # stacked LSTM layers
    dropout: float = 0.1  # between LSTM layers and before the head (training only)

    def __post_init__(self) -> None:
        _check_vocab(self.vocab)


RNNState = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (layers, B, H)


class CharRNN(nn.Module):
    """An LSTM that reads one character at a time; everything it remembers is in its (h, c) state."""

    save_dtype = torch.float16  # weights are stored in half precision (half the file) and run in float32

    def __init__(self, config: CharRNNConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(len(config.vocab), config.embed_dim)
        self.lstm = nn.LSTM(
            config.embed_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, len(config.vocab))

    def forward(self, ids: torch.Tensor, state: RNNState | None = None) -> torch.Tensor:
        # ids: (B, T) -> logits (B, T, V) for the character after each position
        return self.read(ids, state)[0]

    def read(
        self, ids: torch.Tensor, state: RNNState | None = None, fused: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, RNNState]:
        """Go on reading from ``state`` (None: a fresh start): logits (B, T, V), the top layer's hidden
        state after each character (B, T, H), and the state to carry on from.

        ``fused``: nn.LSTM's kernel, best for batches; else the LSTM's equations written out, one character
        at a time (the same numbers; on a CPU ~10x faster for one sequence, as when writing).
        """
        x = self.embedding(ids)  # (B, T, E)
        out, state = self.lstm(x, state) if fused else self._unfused(x, state)  # out: (B, T, H)
        return self.head(self.dropout(out)), out, state

    def step(self, ids: torch.Tensor, state: RNNState | None = None) -> tuple[torch.Tensor, torch.Tensor, RNNState]:
        """One character per row, ids (B,) -> logits (B, V), hidden state (B, H), new state."""
        logits, hidden, state = self.read(ids[:, None], state, fused=False)
        return logits[:, 0], hidden[:, 0], state

    def _unfused(self, x: torch.Tensor, state: RNNState | None) -> tuple[torch.Tensor, RNNState]:
        """nn.LSTM's computation written out, layer by layer: x (B, T, E) -> top layer's states (B, T, H)."""
        L, B, H = self.config.num_layers, x.shape[0], self.config.hidden_size
        h0, c0 = state if state is not None else (x.new_zeros(L, B, H), x.new_zeros(L, B, H))
        hs, cs = [], []
        for k in range(L):
            w_ih, b_ih, w_hh, b_hh = (
                getattr(self.lstm, f"{n}_l{k}") for n in ("weight_ih", "bias_ih", "weight_hh", "bias_hh")
            )
            from_input = F.linear(x, w_ih, b_ih)  # (B, T, 4H): the input's share of every gate, for all steps at once
            h, c, out = h0[k], c0[k], []
            for t in range(x.shape[1]):
                i, f, g, o = (from_input[:, t] + F.linear(h, w_hh, b_hh)).chunk(4, dim=1)  # the four gates
                c = f.sigmoid() * c + i.sigmoid() * g.tanh()  # forget some of the cell, write some new
                h = o.sigmoid() * c.tanh()  # what the cell shows
                out.append(h)
            x = torch.stack(out, dim=1)  # (B, T, H): the next layer's input
            if k < L - 1:
                x = F.dropout(x, self.lstm.dropout, self.training)
            hs.append(h)
            cs.append(c)
        return x, (torch.stack(hs), torch.stack(cs))


@dataclass
class CharGPTConfig:
    vocab: list[str] = field(default_factory=lambda: list(SHAKESPEARE_CHARS))  # characters, id = index
    block_size: int = 256  # context window: the most characters it sees at once
    d_model: int = 192  # width of the residual stream
    num_heads: int = 3  # attention heads per layer
    num_layers: int = 4  # decoder blocks
    dropout: float = 0.1  # on attention weights, residual branches and embeddings (training only)
    tie_weights: bool = True  # the head reuses the character embeddings (transposed) instead of its own matrix

    def __post_init__(self) -> None:
        _check_vocab(self.vocab)
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model={self.d_model} must divide evenly into num_heads={self.num_heads}")


KVCache = list[tuple[torch.Tensor, torch.Tensor]]  # per layer (keys, values), each (B, h, P, C/h)


class CausalSelfAttention(nn.Module):
    """Multi-head attention in which each position sees itself and the positions before it only."""

    def __init__(self, config: CharGPTConfig) -> None:
        super().__init__()
        self.num_heads = config.num_heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.out = nn.Linear(config.d_model, config.d_model)
        self.attn_dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None, need_weights: bool
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor], torch.Tensor | None]:
        # x: (B, T, C) new positions; past: keys and values (B, h, P, C/h) of the P positions before them
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.num_heads, C // self.num_heads).transpose(1, 2) for t in (q, k, v))
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)  # (B, h, P + T, C/h)
        P = k.shape[2] - T
        # New position i (absolute P + i) may see keys 0 .. P + i.
        mask = torch.ones(T, P + T, dtype=torch.bool, device=x.device).tril(diagonal=P)
        weights = None
        if need_weights:
            scores = q @ k.transpose(-2, -1) / math.sqrt(C // self.num_heads)  # (B, h, T, P + T)
            weights = scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)
            y = F.dropout(weights, self.attn_dropout, self.training) @ v  # (B, h, T, C/h)
        else:
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=None if P == 0 else mask, is_causal=P == 0 and T > 1,
                dropout_p=self.attn_dropout if self.training else 0.0,
            )  # fmt: skip
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.resid_dropout(self.out(y)), (k, v), weights


class Block(nn.Module):
    """Pre-norm decoder block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, config: CharGPTConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.d_model)
        self.attn = CausalSelfAttention(config)
        self.norm2 = nn.LayerNorm(config.d_model)
        self.mlp = nn.Sequential(
            nn.Linear(config.d_model, 4 * config.d_model),
            nn.GELU(),
            nn.Linear(4 * config.d_model, config.d_model),
            nn.Dropout(config.dropout),
        )

    def forward(self, x: torch.Tensor, past, need_weights: bool):
        a, kv, weights = self.attn(self.norm1(x), past, need_weights)
        x = x + a
        return x + self.mlp(self.norm2(x)), kv, weights


class CharGPT(nn.Module):
    """A small GPT: learned character and position embeddings, causal decoder blocks, a (tied) head."""

    save_dtype = torch.float16  # weights are stored in half precision (half the file) and run in float32

    def __init__(self, config: CharGPTConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(len(config.vocab), config.d_model)
        self.positions = nn.Embedding(config.block_size, config.d_model)
        self.dropout = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.num_layers))
        self.norm = nn.LayerNorm(config.d_model)
        # Tied: logits come from the embedding matrix itself (no second copy in the state dict).
        self.head = None if config.tie_weights else nn.Linear(config.d_model, len(config.vocab), bias=False)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("attn.out.weight") or name.endswith("mlp.2.weight"):
                # GPT-2: residual branches start small so that the stream's variance does not grow with depth.
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * config.num_layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        # ids: (B, T) with T <= block_size -> logits (B, T, V) for the character after each position
        return self.read(ids)[0]

    def read(
        self, ids: torch.Tensor, cache: KVCache | None = None, need_weights: bool = False
    ) -> tuple[torch.Tensor, KVCache, list[torch.Tensor]]:
        """Go on reading after the positions in ``cache`` (None: from position 0).

        Returns logits (B, T, V), the cache extended by these T positions, and when ``need_weights``
        each layer's attention weights (B, h, T, P + T) of the new positions over everything seen.
        """
        P = 0 if not cache else cache[0][0].shape[2]
        T = ids.shape[1]
        if P + T > self.config.block_size:
            raise ValueError(f"{P + T} characters is more than block_size={self.config.block_size}")
        pos = torch.arange(P, P + T, device=ids.device)
        x = self.dropout(self.embedding(ids) + self.positions(pos))  # (B, T, C)
        new_cache, attentions = [], []
        for i, layer in enumerate(self.layers):
            x, kv, weights = layer(x, cache[i] if cache else None, need_weights)
            new_cache.append(kv)
            if weights is not None:
                attentions.append(weights)
        x = self.norm(x)
        logits = x @ self.embedding.weight.T if self.head is None else self.head(x)  # (B, T, V)
        return logits, new_cache, attentions
