"""DigitTransformer: a small Vision Transformer that reads a 28x28 digit as a set of 4x4 patches.

The image is cut into 7x7 = 49 patches, each flattened and projected to a token; a learned class token
goes in front and learned position embeddings say where each patch was. Pre-norm encoder blocks let
every token look at every other one, and the class token's final state is classified. Unlike a CNN
nothing here is local by design: which patches matter is learned, and the class token's attention
weights (per layer and head) show where it looked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class DigitTransformerConfig:
    image_size: int = 28  # input is image_size x image_size, one channel, pixels in [0, 1]
    patch_size: int = 4  # patches are patch_size x patch_size pixels; image_size must divide by it
    d_model: int = 64  # width of every token
    num_heads: int = 4  # attention heads per layer
    num_layers: int = 4  # encoder blocks
    mlp_ratio: int = 2  # hidden width of each block's MLP, in multiples of d_model
    dropout: float = 0.1  # on attention weights, residual branches and embeddings (training only)
    num_classes: int = 10  # digits 0-9
    mean: float = 0.1307  # MNIST pixel mean, applied after scaling pixels to [0, 1]
    std: float = 0.3081  # MNIST pixel standard deviation
    labels: list[str] = field(default_factory=lambda: [str(d) for d in range(10)])  # one name per class

    def __post_init__(self) -> None:
        if self.image_size % self.patch_size:
            raise ValueError(f"image_size={self.image_size} must divide into patch_size={self.patch_size}")
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model={self.d_model} must divide evenly into num_heads={self.num_heads}")
        if len(self.labels) != self.num_classes or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be {self.num_classes} distinct names, got {self.labels}")
        if self.std <= 0:
            raise ValueError(f"std must be positive, got {self.std}")

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size  # patches per side (7)


class SelfAttention(nn.Module):
    """Multi-head self-attention over all tokens (no mask: every token sees every other)."""

    def __init__(self, config: DigitTransformerConfig) -> None:
        super().__init__()
        self.num_heads = config.num_heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.out = nn.Linear(config.d_model, config.d_model)
        self.attn_dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, need_weights: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        # x: (B, T, C) -> (B, T, C), and the weights (B, h, T, T) when asked (rows: queries, sum to 1)
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.num_heads, C // self.num_heads).transpose(1, 2) for t in (q, k, v))  # (B, h, T, c)
        weights = None
        if need_weights:
            weights = (q @ k.transpose(-2, -1) / math.sqrt(C // self.num_heads)).softmax(dim=-1)  # (B, h, T, T)
            y = F.dropout(weights, self.attn_dropout, self.training) @ v
        else:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_dropout if self.training else 0.0)
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.resid_dropout(self.out(y)), weights


class Block(nn.Module):
    """Pre-norm encoder block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, config: DigitTransformerConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.d_model)
        self.attn = SelfAttention(config)
        self.norm2 = nn.LayerNorm(config.d_model)
        hidden = config.mlp_ratio * config.d_model
        self.mlp = nn.Sequential(
            nn.Linear(config.d_model, hidden),
            nn.GELU(),
            nn.Linear(hidden, config.d_model),
            nn.Dropout(config.dropout),
        )

    def forward(self, x: torch.Tensor, need_weights: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        a, weights = self.attn(self.norm1(x), need_weights)
        x = x + a
        return x + self.mlp(self.norm2(x)), weights


class DigitTransformer(nn.Module):
    """Patches -> tokens (+ class token, + positions) -> encoder blocks -> the class token's state -> logits."""

    def __init__(self, config: DigitTransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.tensor(config.mean), persistent=False)
        self.register_buffer("std", torch.tensor(config.std), persistent=False)
        p, n = config.patch_size, config.grid**2
        self.patch_embedding = nn.Linear(p * p, config.d_model)  # one flattened patch -> one token
        self.class_token = nn.Parameter(torch.zeros(1, 1, config.d_model))
        self.positions = nn.Parameter(torch.randn(1, n + 1, config.d_model) * 0.02)  # class token is position 0
        self.dropout = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.num_layers))
        self.norm = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.num_classes)

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) -> (B, 49, 16): row-major patches (patch i is at grid row i // 7, column i % 7)."""
        p, g = self.config.patch_size, self.config.grid
        x = x[:, 0].reshape(x.shape[0], g, p, g, p)  # (B, row, y, col, x)
        return x.permute(0, 1, 3, 2, 4).reshape(x.shape[0], g * g, p * p)

    def forward_with_attention(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """x (B, 1, 28, 28) pixels in [0, 1] -> logits (B, num_classes) and, per layer, the attention
        weights (B, heads, T, T) with T = 1 + 49: token 0 is the class token, token 1 + i is patch i."""
        return self._run(x, need_weights=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x, need_weights=False)[0]  # (B, 1, 28, 28) in [0, 1] -> (B, num_classes) logits

    @staticmethod
    def class_attention(attentions: list[torch.Tensor], grid: int = 7) -> torch.Tensor:
        """The class token's attention over the patches as pictures: [(B, h, T, T)] * L -> (B, L, h, grid, grid).

        Its weight on itself is left out, so each picture sums to 1 minus that weight.
        """
        rows = torch.stack([a[:, :, 0, 1:] for a in attentions], dim=1)  # (B, L, h, 49)
        return rows.reshape(*rows.shape[:3], grid, grid)

    def _run(self, x: torch.Tensor, need_weights: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        tokens = self.patch_embedding(self.patches((x - self.mean) / self.std))  # (B, 49, C)
        cls = self.class_token.expand(x.shape[0], -1, -1)  # (B, 1, C)
        h = self.dropout(torch.cat([cls, tokens], dim=1) + self.positions)  # (B, T, C)
        attentions = []
        for layer in self.layers:
            h, weights = layer(h, need_weights)
            if weights is not None:
                attentions.append(weights)
        return self.head(self.norm(h[:, 0])), attentions  # (B, num_classes) from the class token
