"""CharCNN: a causal, dilated convolutional character model (WaveNet-like), the third Shakespeare writer.

Each block looks at ``kernel_size`` positions spaced ``dilation`` apart, all at or before the current
one; dilations doubling from block to block (1, 2, 4, ...) let the receptive field grow exponentially
with depth. Unlike CharRNN there is no memory beyond that fixed window (``receptive_field`` characters),
and unlike CharGPT where it looks inside the window is fixed by the architecture, not chosen per input.

``forward(ids) -> logits (B, T, V)`` reads any length (the output at t depends on ids[<= t] only);
``read`` goes on from a cache of each block's last inputs, so writing costs one position per character.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

# The 65 characters of tiny Shakespeare (its sorted set), the default vocabulary; trained configs carry their own.
SHAKESPEARE_CHARS = list("\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@dataclass
class CharCNNConfig:
    vocab: list[str] = field(default_factory=lambda: list(SHAKESPEARE_CHARS))  # characters, id = index
    channels: int = 160  # width of the residual stream
    kernel_size: int = 3  # positions each causal convolution looks at
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)  # one residual block per entry: its tap spacing
    mlp_ratio: int = 2  # hidden width of each block's per-position MLP, in multiples of channels (0: none)
    dropout: float = 0.0  # on residual branches (training only)

    def __post_init__(self) -> None:
        if len(self.vocab) < 2 or len(set(self.vocab)) != len(self.vocab) or any(len(c) != 1 for c in self.vocab):
            raise ValueError("vocab must be two or more distinct single characters")
        if self.kernel_size < 2 or not self.dilations or min(self.dilations) < 1:
            raise ValueError("kernel_size must be >= 2 and dilations one or more positive spacings")

    @property
    def receptive_field(self) -> int:
        """Characters the prediction at t can see: t itself and (kernel_size - 1) * sum(dilations) before it."""
        return 1 + (self.kernel_size - 1) * sum(self.dilations)


Cache = list[torch.Tensor]  # per block: its last (kernel_size - 1) * dilation normalised inputs, (B, P, C)


class CausalBlock(nn.Module):
    """x + proj(tanh(a) * sigmoid(b)) with (a, b) a causal dilated convolution of norm(x); then x + MLP(norm(x)).

    The convolution is written as one matrix product over the taps x[t - (k-1)d], ..., x[t - d], x[t]
    laid side by side, which keeps the (B, T, C) layout and makes the cache a plain slice.
    """

    def __init__(self, config: CharCNNConfig, dilation: int) -> None:
        super().__init__()
        C, k = config.channels, config.kernel_size
        self.kernel_size, self.dilation = k, dilation
        self.norm1 = nn.LayerNorm(C)
        self.conv = nn.Linear(k * C, 2 * C)  # taps (k * C) -> filter and gate (2 * C)
        self.proj = nn.Linear(C, C)
        self.norm2 = nn.LayerNorm(C) if config.mlp_ratio else None
        self.mlp = (
            nn.Sequential(
                nn.Linear(C, config.mlp_ratio * C),
                nn.GELU(),
                nn.Linear(config.mlp_ratio * C, C),
            )
            if config.mlp_ratio
            else None
        )
        self.dropout = nn.Dropout(config.dropout)

    @property
    def past(self) -> int:
        return (self.kernel_size - 1) * self.dilation  # positions before t that position t reads

    def forward(self, x: torch.Tensor, past: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        # x: (B, T, C); past: (B, P, C) normalised inputs before x (None: zeros, the start of a text)
        B, T, C = x.shape
        h = self.norm1(x)
        if past is None:
            past = h.new_zeros(B, self.past, C)
        h = torch.cat([past, h], dim=1)  # (B, P + T, C)
        taps = torch.cat([h[:, j * self.dilation : j * self.dilation + T] for j in range(self.kernel_size)], 2)
        a, b = self.conv(taps).chunk(2, dim=2)  # (B, T, C) each
        x = x + self.dropout(self.proj(torch.tanh(a) * torch.sigmoid(b)))
        if self.mlp is not None:
            x = x + self.dropout(self.mlp(self.norm2(x)))
        return x, h[:, h.shape[1] - self.past :]  # the new past: the last P normalised inputs


class CharCNN(nn.Module):
    """Character embeddings -> causal dilated blocks -> norm -> next-character logits."""

    save_dtype = torch.float16  # weights are stored in half precision (half the file) and run in float32

    def __init__(self, config: CharCNNConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(len(config.vocab), config.channels)
        self.layers = nn.ModuleList(CausalBlock(config, d) for d in config.dilations)
        self.norm = nn.LayerNorm(config.channels)
        self.head = nn.Linear(config.channels, len(config.vocab))
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                # Residual branches start small so that the stream's variance does not grow with depth.
                nn.init.normal_(p, 0.0, 0.02 / (2 * len(config.dilations)) ** 0.5)

    @property
    def receptive_field(self) -> int:
        return self.config.receptive_field

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        # ids: (B, T) -> logits (B, T, V) for the character after each position
        return self.read(ids)[0]

    def read(self, ids: torch.Tensor, cache: Cache | None = None) -> tuple[torch.Tensor, Cache]:
        """Go on reading after what ``cache`` holds (None: the start of a text): logits (B, T, V) and the
        cache to carry on from. Reading a text in pieces gives the same logits as reading it at once."""
        x = self.embedding(ids)  # (B, T, C)
        new_cache = []
        for i, layer in enumerate(self.layers):
            x, past = layer(x, cache[i] if cache else None)
            new_cache.append(past)
        return self.head(self.norm(x)), new_cache

    def step(self, ids: torch.Tensor, cache: Cache | None = None) -> tuple[torch.Tensor, Cache]:
        """One character per row, ids (B,) -> logits (B, V) and the new cache."""
        logits, cache = self.read(ids[:, None], cache)
        return logits[:, 0], cache
