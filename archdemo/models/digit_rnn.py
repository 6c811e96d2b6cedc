"""DigitRNN: an LSTM that reads a 28x28 digit one row of pixels at a time, top to bottom.

It never sees the whole image at once: after each of the 28 rows, everything it knows about the digit
so far is in its hidden state. Applying the classifier to the state after every row shows the opinion
forming as the pen strokes come into view; the state after the last row is what ``forward`` classifies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class DigitRNNConfig:
    hidden_size: int = 128  # LSTM state size per layer
    num_layers: int = 2  # stacked LSTM layers
    dropout: float = 0.1  # between LSTM layers and before the head (training only)
    num_classes: int = 10  # digits 0-9
    image_size: int = 28  # input is image_size x image_size: image_size steps of image_size pixels
    mean: float = 0.1307  # MNIST pixel mean, applied after scaling pixels to [0, 1]
    std: float = 0.3081  # MNIST pixel standard deviation
    labels: list[str] = field(default_factory=lambda: [str(d) for d in range(10)])  # one name per class

    def __post_init__(self) -> None:
        if len(self.labels) != self.num_classes or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be {self.num_classes} distinct names, got {self.labels}")
        if self.std <= 0:
            raise ValueError(f"std must be positive, got {self.std}")


class DigitRNN(nn.Module):
    """Rows of pixels in, one LSTM step per row; a linear head on the hidden state."""

    def __init__(self, config: DigitRNNConfig) -> None:
        super().__init__()
        self.config = config
        # The model normalises its own input, like DigitCNN: callers pass plain pixels in [0, 1].
        self.register_buffer("mean", torch.tensor(config.mean), persistent=False)
        self.register_buffer("std", torch.tensor(config.std), persistent=False)
        self.lstm = nn.LSTM(
            config.image_size,
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.num_classes)

    def read(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 1, 28, 28) pixels in [0, 1] -> the top layer's hidden state after each row (B, 28, H)
        and the logits after each row (B, 28, num_classes). The last row's logits are ``forward``'s."""
        rows = (x[:, 0] - self.mean) / self.std  # (B, 28 rows, 28 pixels): row t is LSTM step t
        hidden, _ = self.lstm(rows)  # (B, 28, H)
        return hidden, self.head(self.dropout(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, 1, 28, 28) in [0, 1] -> logits (B, num_classes) after the last row
        rows = (x[:, 0] - self.mean) / self.std
        _, (h, _) = self.lstm(rows)  # h: (layers, B, H), the state after the bottom row
        return self.head(self.dropout(h[-1]))
