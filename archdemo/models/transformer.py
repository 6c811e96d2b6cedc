"""SentimentTransformer: every word looks at every other word at once, through attention.

A learned [CLS] token is put in front of the sentence; after a few encoder layers its vector has
gathered what the classifier needs. Order comes from fixed sinusoids (with a learned volume) and a
per-head penalty for attending far away (ALiBi), so any length up to ``max_len`` works without
retraining; a padding mask keeps batches of unequal sentences exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class SentimentTransformerConfig:
    vocab: list[str] = field(default_factory=lambda: ["[PAD]", "[UNK]", "[CLS]"])  # id = index
    embed_dim: int = 50  # word vector size (GloVe 6B-50d at initialisation)
    d_model: int = 128  # width of the encoder
    num_heads: int = 4  # attention heads per layer
    num_layers: int = 2  # encoder layers
    ff_dim: int = 256  # hidden size of each feed-forward block
    dropout: float = 0.2  # dropout in attention, feed-forward and embeddings
    max_len: int = 256  # longest input in tokens, [CLS] included; longer text is truncated
    labels: list[str] = field(default_factory=lambda: ["negative", "positive"])
    pad_id: int = 0  # id of [PAD]
    unk_id: int = 1  # id of [UNK]
    cls_id: int = 2  # id of [CLS], always at position 0
    pooling: str = "cls"  # "cls": classify the [CLS] state; "mean": the mean of all real positions' states
    distance_bias: bool = True  # ALiBi-style: each head pays a (head-specific) price for attending far away

    def __post_init__(self) -> None:
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be two or more distinct names, got {self.labels}")
        if self.pooling not in ("cls", "mean"):
            raise ValueError(f"pooling must be 'cls' or 'mean', got {self.pooling!r}")


def distance_bias(length: int, num_heads: int) -> torch.Tensor:
    """(h, T, T) attention bias -slope_h * |i - j| with slopes 1/4, 1/16, ... (ALiBi, Press et al. 2022).

    Some heads become local (neighbouring words, as in "not good"), others stay global. Row and column
    0 belong to [CLS], which should see and be seen from everywhere, so they carry no penalty.
    """
    pos = torch.arange(length, dtype=torch.float32)
    dist = (pos[None, :] - pos[:, None]).abs()  # (T, T)
    dist[0, :] = 0.0
    dist[:, 0] = 0.0
    slopes = torch.tensor([2.0 ** (-2.0 * (h + 1)) for h in range(num_heads)])
    return -slopes[:, None, None] * dist  # (h, T, T)


def sinusoidal_positions(length: int, dim: int) -> torch.Tensor:
    """(length, dim) fixed position codes: sin/cos at geometrically spaced frequencies."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


class SelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention that also returns its weights."""

    def __init__(self, d_model: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        assert d_model % num_heads == 0, "d_model must divide evenly into heads"
        self.num_heads = num_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, pad_mask: torch.Tensor, bias: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # x: (B, T, C); pad_mask: (B, T) True where padding; bias: (h, T, T) added to the scores
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.num_heads, C // self.num_heads).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(C // self.num_heads)  # (B, h, T, T)
        if bias is not None:
            scores = scores + bias
        scores = scores.masked_fill(pad_mask[:, None, None, :], float("-inf"))
        weights = scores.softmax(dim=-1)  # (B, h, T, T), rows sum to 1 over real tokens
        y = self.dropout(weights) @ v  # (B, h, T, C/h)
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.out(y), weights


class EncoderLayer(nn.Module):
    """Pre-norm block: x + attention(norm(x)), then x + feed-forward(norm(x))."""

    def __init__(self, config: SentimentTransformerConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.d_model)
        self.attn = SelfAttention(config.d_model, config.num_heads, config.dropout)
        self.norm2 = nn.LayerNorm(config.d_model)
        self.ff = nn.Sequential(
            nn.Linear(config.d_model, config.ff_dim),
            nn.GELU(),
            nn.Linear(config.ff_dim, config.d_model),
        )
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, pad_mask: torch.Tensor, bias: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, weights = self.attn(self.norm1(x), pad_mask, bias)
        x = x + self.dropout(a)
        x = x + self.dropout(self.ff(self.norm2(x)))
        return x, weights


class SentimentTransformer(nn.Module):
    def __init__(self, config: SentimentTransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(len(config.vocab), config.embed_dim, padding_idx=config.pad_id)
        self.proj = nn.Linear(config.embed_dim, config.d_model)
        self.register_buffer("positions", sinusoidal_positions(config.max_len, config.d_model), persistent=False)
        # Sinusoids have amplitude 1 while projected word vectors start near 0.3: unscaled, position
        # would drown out which word it is. The model learns how loud position should be.
        self.position_scale = nn.Parameter(torch.tensor(0.1))
        if config.distance_bias:
            self.register_buffer("attn_bias", distance_bias(config.max_len, config.num_heads), persistent=False)
        self.dropout = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.num_layers))
        self.norm = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, len(config.labels))

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """ids (B, T) starting with [CLS] -> final states (B, T, d_model) and each layer's (B, h, T, T) weights.

        ``lengths`` is unused (the padding mask comes from pad_id); both Transformers share this call.
        """
        T = ids.shape[1]
        if T > self.config.max_len:
            raise ValueError(f"sequence of {T} tokens is longer than max_len={self.config.max_len}")
        pad_mask = ids == self.config.pad_id  # (B, T)
        x = self.proj(self.embedding(ids))
        x = self.dropout(x + self.position_scale * self.positions[:T])  # (B, T, d_model)
        bias = self.attn_bias[:, :T, :T] if self.config.distance_bias else None
        attentions = []
        for layer in self.layers:
            x, w = layer(x, pad_mask, bias)
            attentions.append(w)
        return self.norm(x), attentions

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        # ids: (B, T) = [CLS] w1 .. wn [PAD]..; lengths unused (the mask comes from pad_id) but kept
        # so both text models share one call signature.
        states, _ = self.encode(ids)
        return self.head(self.pool(states, ids))  # (B, num_labels)

    def pool(self, states: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """(B, T, C) final states -> (B, C): the [CLS] state, or the mean over real (non-pad) positions."""
        if self.config.pooling == "cls":
            return states[:, 0]
        real = (ids != self.config.pad_id).unsqueeze(-1).to(states.dtype)  # (B, T, 1)
        return (states * real).sum(1) / real.sum(1)
