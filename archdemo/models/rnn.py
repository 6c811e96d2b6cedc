"""SentimentRNN: an LSTM that reads a sentence one word at a time and keeps a running summary.

Its memory is a fixed-size hidden state, updated at every word; the final state is all the
classifier sees. Applying the classifier to the state after each word shows how the model's
opinion forms while it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


@dataclass
class SentimentRNNConfig:
    vocab: list[str] = field(default_factory=lambda: ["[PAD]", "[UNK]"])  # token strings, id = index
    embed_dim: int = 50  # word vector size (GloVe 6B-50d at initialisation)
    hidden_size: int = 192  # LSTM state size
    num_layers: int = 1  # stacked LSTM layers
    dropout: float = 0.4  # dropout on embeddings and on the final state
    max_len: int = 256  # longest input in tokens; longer text is truncated (with a notice)
    labels: list[str] = field(default_factory=lambda: ["negative", "positive"])
    pad_id: int = 0  # id of [PAD]
    unk_id: int = 1  # id of [UNK]

    def __post_init__(self) -> None:
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be two or more distinct names, got {self.labels}")


class SentimentRNN(nn.Module):
    def __init__(self, config: SentimentRNNConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(len(config.vocab), config.embed_dim, padding_idx=config.pad_id)
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(
            config.embed_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.head = nn.Linear(config.hidden_size, len(config.labels))

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # ids: (B, T) padded with pad_id; lengths: (B,) true lengths >= 1
        x = self.dropout(self.embedding(ids))  # (B, T, E)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)  # h: (layers, B, H), the state after each row's last real token
        return self.head(self.dropout(h[-1]))  # (B, num_labels) logits

    def read(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Read unpadded sequences step by step: hidden states (B, T, H) and logits after each token (B, T, L).

        The last step's logits equal ``forward``'s in eval mode: the same state goes into the same head.
        """
        out, _ = self.lstm(self.embedding(ids))  # (B, T, H) top layer's state after each token
        return out, self.head(out)
