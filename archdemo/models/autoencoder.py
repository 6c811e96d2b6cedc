"""DenoisingAutoencoder: squeeze a noisy 28x28 digit through a small code, rebuild it clean.

The encoder must throw information away to fit the bottleneck; trained on (noisy -> clean) pairs,
what it learns to keep is the digit and what it learns to drop is the noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class DenoisingAutoencoderConfig:
    latent_dim: int = 64  # size of the bottleneck code
    channels: tuple[int, int] = (32, 64)  # conv widths at 14x14 and 7x7
    image_size: int = 28  # input and output are image_size x image_size, pixels in [0, 1]


class DenoisingAutoencoder(nn.Module):
    def __init__(self, config: DenoisingAutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        c1, c2 = config.channels
        flat = c2 * 7 * 7
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1),  # (B, c1, 14, 14)
            nn.ReLU(),
            nn.Conv2d(c1, c1, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1),  # (B, c2, 7, 7)
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(flat, config.latent_dim),  # (B, latent_dim): the bottleneck
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, flat),
            nn.ReLU(),
            nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1),  # (B, c1, 14, 14)
            nn.ReLU(),
            nn.Conv2d(c1, c1, 3, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28)
            nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (B, 1, 28, 28) -> (B, latent_dim)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (B, latent_dim) -> (B, 1, 28, 28) in [0, 1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))
