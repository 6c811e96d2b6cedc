"""The one table of archdemo's models: name, classes, task and where published weights live."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from archdemo.models import (
    DenoisingAutoencoder,
    DenoisingAutoencoderConfig,
    DigitCNN,
    DigitCNNConfig,
    SentimentRNN,
    SentimentRNNConfig,
    SentimentTransformer,
    SentimentTransformerConfig,
)


@dataclass(frozen=True)
class ModelSpec:
    name: str  # short name: CLI argument, weights/<name>/, API prefix
    title: str  # what the UI calls it
    model_cls: type[nn.Module]
    config_cls: type
    task: str  # Hub pipeline tag
    hub_repo_id: str  # where `python -m archdemo.publish` puts it
    revision: str | None  # pinned Hub commit; None until published (then only bundled weights are used)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec("cnn", "CNN", DigitCNN, DigitCNNConfig, "image-classification", "archdemo/digit-cnn", None),
        ModelSpec(
            "autoencoder",
            "Autoencoder",
            DenoisingAutoencoder,
            DenoisingAutoencoderConfig,
            "image-to-image",
            "archdemo/denoising-autoencoder",
            None,
        ),
        ModelSpec(
            "rnn", "RNN", SentimentRNN, SentimentRNNConfig, "text-classification", "archdemo/sentiment-rnn", None
        ),
        ModelSpec(
            "transformer",
            "Transformer",
            SentimentTransformer,
            SentimentTransformerConfig,
            "text-classification",
            "archdemo/sentiment-transformer",
            None,
        ),
    ]
}


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}") from None
