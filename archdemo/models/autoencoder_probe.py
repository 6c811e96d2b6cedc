"""AutoencoderProbe: how much of a digit's identity the denoising autoencoder's code holds.

The autoencoder learned its 64-number code without ever seeing a label: it was only asked to rebuild
clean digits from noisy ones. The probe keeps a frozen copy of that encoder and puts one linear layer
on the code. Only the linear layer is trained, so its accuracy measures what the code already made
linearly readable; it adds no features of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from archdemo.models.autoencoder import DenoisingAutoencoder, DenoisingAutoencoderConfig


@dataclass
class AutoencoderProbeConfig:
    latent_dim: int = 64  # size of the autoencoder's code (must match the autoencoder it copies)
    channels: tuple[int, int] = (32, 64)  # the autoencoder's conv widths at 14x14 and 7x7
    image_size: int = 28  # input is image_size x image_size, pixels in [0, 1] (no normalisation, as the autoencoder)
    num_classes: int = 10  # digits 0-9
    labels: list[str] = field(default_factory=lambda: [str(d) for d in range(10)])  # one name per class

    def __post_init__(self) -> None:
        if len(self.labels) != self.num_classes or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be {self.num_classes} distinct names, got {self.labels}")


class AutoencoderProbe(nn.Module):
    """A frozen copy of DenoisingAutoencoder's encoder, then ``head``: nn.Linear(latent_dim, num_classes)."""

    def __init__(self, config: AutoencoderProbeConfig) -> None:
        super().__init__()
        self.config = config
        # The very module the autoencoder builds, so layer names (encoder.0.weight, ...) and shapes match.
        ae_config = DenoisingAutoencoderConfig(config.latent_dim, tuple(config.channels), config.image_size)
        self.encoder = DenoisingAutoencoder(ae_config).encoder
        self.encoder.requires_grad_(False)  # never trained here: the code stays the autoencoder's
        self.head = nn.Linear(config.latent_dim, config.num_classes)

    @torch.no_grad()
    def copy_encoder(self, autoencoder: DenoisingAutoencoder) -> None:
        """Take the encoder weights of a trained autoencoder (shapes must match exactly)."""
        self.encoder.load_state_dict(autoencoder.encoder.state_dict(), strict=True)

    def forward_with_code(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 1, 28, 28) pixels in [0, 1] -> logits (B, num_classes) and the code (B, latent_dim).

        Each logit is ``head.bias[c] + sum_j head.weight[c, j] * code[:, j]``: ``contributions`` splits it.
        """
        code = self.encoder(x)  # (B, latent_dim), the autoencoder's bottleneck (its weights need no gradient)
        return self.head(code), code

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_code(x)[0]  # (B, 1, 28, 28) -> (B, num_classes) logits

    def contributions(self, code: torch.Tensor, cls: torch.Tensor) -> torch.Tensor:
        """How much each code number adds to class ``cls``'s logit: code (B, latent), cls (B,) -> (B, latent).

        Their sum plus ``head.bias[cls]`` is the logit.
        """
        return self.head.weight[cls] * code
