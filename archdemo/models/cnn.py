"""DigitCNN: a small convolutional network that reads a 28x28 digit and names it.

Three convolution stages find strokes, then stroke combinations, then digit parts; each stage
halves the resolution so later filters see more of the image. Global average pooling keeps the
head tiny and makes class-activation maps (which pixels drove the answer) exact to compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class DigitCNNConfig:
    channels: tuple[int, ...] = (24, 48, 96)  # output channels of each conv stage
    num_classes: int = 10  # digits 0-9
    dropout: float = 0.25  # dropout before the linear head
    image_size: int = 28  # input is image_size x image_size, one channel
    mean: float = 0.1307  # MNIST pixel mean, applied after scaling pixels to [0, 1]
    std: float = 0.3081  # MNIST pixel standard deviation
    labels: list[str] = field(default_factory=lambda: [str(d) for d in range(10)])  # one name per class

    def __post_init__(self) -> None:
        if len(self.labels) != self.num_classes:
            raise ValueError(f"labels names {len(self.labels)} classes but num_classes is {self.num_classes}")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be distinct, got {self.labels}")
        if self.std <= 0:
            raise ValueError(f"std must be positive, got {self.std}")


class ConvStage(nn.Module):
    """Two 3x3 convolutions with batch norm, then (optionally) 2x2 max pooling."""

    def __init__(self, c_in: int, c_out: int, pool: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.pool(x)


class DigitCNN(nn.Module):
    def __init__(self, config: DigitCNNConfig) -> None:
        super().__init__()
        self.config = config
        # The model normalises its own input, so every caller passes plain pixels in [0, 1]. Not saved
        # with the weights: the config carries the numbers.
        self.register_buffer("mean", torch.tensor(config.mean), persistent=False)
        self.register_buffer("std", torch.tensor(config.std), persistent=False)
        c = config.channels
        ins = (1, *c[:-1])
        # 28 -> 14 -> 7 -> 7: the last stage keeps 7x7 so the activation map stays readable.
        self.stages = nn.ModuleList(
            ConvStage(i, o, pool=k < len(c) - 1) for k, (i, o) in enumerate(zip(ins, c, strict=True))
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(c[-1], config.num_classes)

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One pass that also keeps every stage's output, for the tab's pictures.

        x (B, 1, 28, 28) pixels in [0, 1] -> logits (B, num_classes) and
        [(B, C1, 14, 14), (B, C2, 7, 7), (B, C3, 7, 7)].
        """
        x = (x - self.mean) / self.std
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        pooled = x.mean(dim=(2, 3))  # (B, C)
        return self.head(self.dropout(pooled)), feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_features(x)[0]  # (B, 1, 28, 28) in [0, 1] -> (B, num_classes) logits

    def class_activation_map(self, last_features: torch.Tensor, cls: torch.Tensor) -> torch.Tensor:
        """CAM: the head's weights for class ``cls`` applied per pixel of the last stage.

        last_features (B, C, 7, 7), cls (B,) -> (B, 7, 7); its spatial mean plus the bias is the logit.
        """
        w = self.head.weight[cls]  # (B, C)
        return torch.einsum("bc,bchw->bhw", w, last_features)
