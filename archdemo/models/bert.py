"""PretrainedSentimentTransformer: a BERT encoder pretrained elsewhere, taught sentiment here with LoRA.

The encoder is MiniLM-L6 as published in sentence-transformers/all-MiniLM-L6-v2 (6 layers, width 384,
12 heads): its weights come from the Hub at a pinned revision and are never stored in this repo. What
fine-tuning learned is small: a low-rank update (LoRA) beside chosen weight matrices, the layer norms,
and a classifier head. Only those are saved (``fine_tuned_state_dict``); loading puts the base weights
in first (``load_base_state``), then the fine-tuned ones.

Unlike the from-scratch Transformer, this one has read a billion sentence pairs before it ever saw a
movie review, so "not bad" arrives with what it learned about negation elsewhere.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class PretrainedSentimentTransformerConfig:
    base_repo: str = "sentence-transformers/all-MiniLM-L6-v2"  # where the pretrained encoder lives on the Hub
    base_revision: str = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"  # the pinned commit of that repo
    base_sha256: str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"  # its model.safetensors
    tokenizer_sha256: str = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"  # its tokenizer.json
    vocab_size: int = 30522  # uncased WordPiece
    hidden_size: int = 384  # width of every layer
    num_layers: int = 6
    num_heads: int = 12
    intermediate_size: int = 1536  # hidden size of each feed-forward block
    max_position: int = 512  # learned positions the base has
    type_vocab_size: int = 2  # BERT's sentence A/B embeddings (only A is used here)
    layer_norm_eps: float = 1e-12
    dropout: float = 0.1  # on embeddings, attention weights and block outputs, while training
    max_len: int = 128  # most tokens read, [CLS] and [SEP] included; longer text is cut (with a notice)
    lora_rank: int = 8  # rank of each low-rank update
    lora_alpha: float = 16.0  # the update is scaled by alpha / rank
    lora_targets: list[str] = field(default_factory=lambda: ["query", "key", "value", "out", "ff_in", "ff_out"])
    labels: list[str] = field(default_factory=lambda: ["negative", "positive"])
    pad_id: int = 0  # id of [PAD]
    pooling: str = "mean"  # "mean": the mean of the real tokens' states (how the base was trained); or "cls"

    def __post_init__(self) -> None:
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be two or more distinct names, got {self.labels}")
        if self.pooling not in ("cls", "mean"):
            raise ValueError(f"pooling must be 'cls' or 'mean', got {self.pooling!r}")
        if not 2 <= self.max_len <= self.max_position:
            raise ValueError(f"max_len must be from 2 to {self.max_position}, got {self.max_len}")
        unknown = set(self.lora_targets) - {"query", "key", "value", "out", "ff_in", "ff_out"}
        if unknown:
            raise ValueError(f"unknown LoRA targets {sorted(unknown)}")


class LoRALinear(nn.Module):
    """A frozen pretrained linear layer plus a trainable low-rank update: W x + (alpha / r) B A x.

    B starts at zero, so before training the layer is exactly the pretrained one.
    """

    def __init__(self, d_in: int, d_out: int, rank: int, alpha: float, dropout: float) -> None:
        super().__init__()
        self.base = nn.Linear(d_in, d_out)
        self.lora_a = nn.Parameter(torch.empty(rank, d_in))
        self.lora_b = nn.Parameter(torch.zeros(d_out, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / rank
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (self.dropout(x) @ self.lora_a.T @ self.lora_b.T) * self.scale


def linear(c: PretrainedSentimentTransformerConfig, name: str, d_in: int, d_out: int) -> nn.Module:
    if name in c.lora_targets:
        return LoRALinear(d_in, d_out, c.lora_rank, c.lora_alpha, c.dropout)
    return nn.Linear(d_in, d_out)


class Attention(nn.Module):
    """Multi-head self-attention that also returns its weights, with a padding mask on the keys."""

    def __init__(self, c: PretrainedSentimentTransformerConfig) -> None:
        super().__init__()
        self.heads = c.num_heads
        self.query, self.key, self.value = (
            linear(c, n, c.hidden_size, c.hidden_size) for n in ("query", "key", "value")
        )
        self.out = linear(c, "out", c.hidden_size, c.hidden_size)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # x: (B, T, C); pad: (B, T) True at padding
        B, T, C = x.shape
        q, k, v = (
            f(x).view(B, T, self.heads, C // self.heads).transpose(1, 2) for f in (self.query, self.key, self.value)
        )
        scores = q @ k.transpose(-2, -1) / math.sqrt(C // self.heads)  # (B, h, T, T)
        weights = scores.masked_fill(pad[:, None, None, :], float("-inf")).softmax(-1)  # rows sum to 1 over real tokens
        y = (self.dropout(weights) @ v).transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        return self.out(y), weights


class EncoderLayer(nn.Module):
    """BERT's post-norm block: norm(x + attention(x)), then norm(x + feed-forward(x))."""

    def __init__(self, c: PretrainedSentimentTransformerConfig) -> None:
        super().__init__()
        self.attention = Attention(c)
        self.attention_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.ff_in = linear(c, "ff_in", c.hidden_size, c.intermediate_size)
        self.ff_out = linear(c, "ff_out", c.intermediate_size, c.hidden_size)
        self.ff_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, weights = self.attention(x, pad)
        x = self.attention_norm(x + self.dropout(a))
        h = self.ff_out(nn.functional.gelu(self.ff_in(x)))  # (B, T, C) via (B, T, intermediate)
        return self.ff_norm(x + self.dropout(h)), weights


class Embeddings(nn.Module):
    """Word piece + learned position + segment embeddings, then a layer norm."""

    def __init__(self, c: PretrainedSentimentTransformerConfig) -> None:
        super().__init__()
        self.words = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_id)
        self.positions = nn.Embedding(c.max_position, c.hidden_size)
        self.segments = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        T = ids.shape[1]
        pos = torch.arange(T, device=ids.device)
        x = self.words(ids) + self.positions(pos)[None] + self.segments.weight[0]  # (B, T, C): all segment A
        return self.dropout(self.norm(x))


# Base checkpoint names (Hugging Face's BertModel) -> this file's names.
BASE_NAMES = [
    (r"^embeddings\.word_embeddings\.", "embeddings.words."),
    (r"^embeddings\.position_embeddings\.", "embeddings.positions."),
    (r"^embeddings\.token_type_embeddings\.", "embeddings.segments."),
    (r"^embeddings\.LayerNorm\.", "embeddings.norm."),
    (r"^encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)\.", r"layers.\1.attention.\2."),
    (r"^encoder\.layer\.(\d+)\.attention\.output\.dense\.", r"layers.\1.attention.out."),
    (r"^encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.", r"layers.\1.attention_norm."),
    (r"^encoder\.layer\.(\d+)\.intermediate\.dense\.", r"layers.\1.ff_in."),
    (r"^encoder\.layer\.(\d+)\.output\.dense\.", r"layers.\1.ff_out."),
    (r"^encoder\.layer\.(\d+)\.output\.LayerNorm\.", r"layers.\1.ff_norm."),
]
BASE_UNUSED = re.compile(r"^(pooler\.|embeddings\.position_ids$)")  # BERT's pooler; a constant buffer
FINE_TUNED = re.compile(r"(lora_[ab]$|norm\.(weight|bias)$|^head\.)")  # what fine-tuning trains and saves


class PretrainedSentimentTransformer(nn.Module):
    def __init__(self, config: PretrainedSentimentTransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = Embeddings(config)
        self.layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.num_layers))
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(config.hidden_size, len(config.labels)))

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """ids (B, T) [CLS] .. [SEP] [PAD].., lengths (B,) -> states (B, T, C) and each layer's (B, h, T, T) weights."""
        pad = torch.arange(ids.shape[1], device=ids.device)[None, :] >= lengths[:, None]  # (B, T)
        x = self.embeddings(ids)
        attentions = []
        for layer in self.layers:
            x, w = layer(x, pad)
            attentions.append(w)
        return x, attentions

    def pool(self, states: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, C) -> (B, C): [CLS]'s state, or the mean of the real tokens' states."""
        if self.config.pooling == "cls":
            return states[:, 0]
        real = (torch.arange(states.shape[1], device=states.device)[None, :] < lengths[:, None]).to(states.dtype)
        return (states * real[..., None]).sum(1) / real.sum(1, keepdim=True)  # (B, C)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        states, _ = self.encode(ids, lengths)
        return self.head(self.pool(states, lengths))  # (B, num_labels) logits

    # ------------------------------------------------------------ what is stored where

    def load_base_state(self, state: dict[str, torch.Tensor]) -> None:
        """Put the pretrained encoder's weights (its checkpoint's names) in, strictly: every base weight
        this model has must be there with its shape; anything else but BERT's pooler is refused."""
        mapped = {}
        for key, value in state.items():
            if BASE_UNUSED.match(key):
                continue
            new = key
            for pattern, repl in BASE_NAMES:
                new = re.sub(pattern, repl, new)
            if new == key:
                raise ValueError(f"unexpected weight {key!r} in the base checkpoint")
            if new.split(".")[-2] in ("query", "key", "value", "out", "ff_in", "ff_out") and self._is_lora(new):
                new = new.rsplit(".", 1)[0] + ".base." + new.rsplit(".", 1)[1]
            mapped[new] = value
        wanted = {k for k in self.state_dict() if not k.startswith("head.") and "lora_" not in k}
        missing, extra = wanted - set(mapped), set(mapped) - wanted
        if missing or extra:
            raise ValueError(
                f"base checkpoint does not fit: missing {sorted(missing)[:3]}, unexpected {sorted(extra)[:3]}"
            )
        self.load_state_dict(mapped, strict=False)

    def _is_lora(self, name: str) -> bool:
        return isinstance(self.get_submodule(name.rsplit(".", 1)[0]), LoRALinear)

    def fine_tuned_state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.state_dict().items() if FINE_TUNED.search(k)}

    def load_fine_tuned_state(self, state: dict[str, torch.Tensor]) -> None:
        """Strict for what fine-tuning saved: exactly those keys, each with its shape."""
        wanted = set(self.fine_tuned_state_dict())
        missing, extra = wanted - set(state), set(state) - wanted
        if missing or extra:
            raise ValueError(
                f"fine-tuned weights do not fit: missing {sorted(missing)[:3]}, unexpected {sorted(extra)[:3]}"
            )
        self.load_state_dict(state, strict=False)

    def freeze_base(self) -> None:
        """Train only what is saved: LoRA updates, layer norms and the head."""
        for name, p in self.named_parameters():
            p.requires_grad_(bool(FINE_TUNED.search(name)))
