"""TextCNN: a sentence classifier that slides word-window detectors over the sentence (Kim, 2014).

Each filter looks at a window of 1 to 5 consecutive word vectors and answers "how much does this
window look like my pattern?". Only the best window of each filter counts (max over time), so the
model sees short phrases such as "not good" or "a must see" wherever they are, but not word order
beyond a window. The windows that fired hardest are what the sentence tab highlights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class TextCNNConfig:
    vocab: list[str] = field(default_factory=lambda: ["[PAD]", "[UNK]"])  # token strings, id = index
    embed_dim: int = 50  # word vector size (GloVe 6B-50d at initialisation)
    widths: tuple[int, ...] = (1, 2, 3, 4, 5)  # window widths in words, one group of filters per width
    num_filters: int = 150  # filters per width
    dropout: float = 0.5  # on the pooled filter maxima before the head (training only)
    max_len: int = 256  # longest input in tokens; longer text is truncated (with a notice)
    labels: list[str] = field(default_factory=lambda: ["negative", "positive"])
    pad_id: int = 0  # id of [PAD]
    unk_id: int = 1  # id of [UNK]

    def __post_init__(self) -> None:
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be two or more distinct names, got {self.labels}")
        if not self.widths or min(self.widths) < 1:
            raise ValueError(f"widths must be one or more positive window sizes, got {self.widths}")


class TextCNN(nn.Module):
    """Word vectors -> one 1-D convolution per width -> max over windows -> dropout -> linear head."""

    def __init__(self, config: TextCNNConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(len(config.vocab), config.embed_dim, padding_idx=config.pad_id)
        self.convs = nn.ModuleList(nn.Conv1d(config.embed_dim, config.num_filters, w) for w in config.widths)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.num_filters * len(config.widths), len(config.labels))

    def filter_maxima(
        self, ids: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Where each filter fired hardest. ids (B, T) padded with pad_id, lengths (B,) >= 1 ->

        values (B, N): each filter's largest activation (after ReLU; 0 means it found nothing it likes),
        starts (B, N): the first word of that window, widths (N,): its width in words, N = widths x filters.
        A window never starts past a sentence's end; in a sentence shorter than a filter, the filter's one
        window starts at word 0 and covers the whole sentence (the rest of it is zeros, as padding is).
        """
        B, T = ids.shape
        longest = max(self.config.widths)
        real = torch.arange(T, device=ids.device)[None, :] < lengths[:, None]  # (B, T)
        x = self.embedding(ids) * real[..., None]  # (B, T, E): padding is exactly zero, whatever its vector
        x = F.pad(x.transpose(1, 2), (0, max(0, longest - T)))  # (B, E, T') with T' >= every width
        values, starts, widths = [], [], []
        for width, conv in zip(self.config.widths, self.convs, strict=True):
            a = conv(x)  # (B, F, T' - width + 1): window s covers words s .. s + width - 1
            last = (lengths - width).clamp(min=0)  # (B,) the last start that stays inside the sentence
            inside = torch.arange(a.shape[2], device=ids.device)[None, :] <= last[:, None]  # (B, windows)
            best, where = a.masked_fill(~inside[:, None, :], float("-inf")).max(dim=2)  # (B, F) each
            values.append(best.relu())
            starts.append(where)
            widths.append(torch.full((conv.out_channels,), width, device=ids.device))
        return torch.cat(values, 1), torch.cat(starts, 1), torch.cat(widths)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # ids: (B, T) padded with pad_id; lengths: (B,) true lengths >= 1 -> logits (B, num_labels)
        values, _, _ = self.filter_maxima(ids, lengths)
        return self.head(self.dropout(values))  # logit c = sum_n head.weight[c, n] * values[:, n] + bias[c]
