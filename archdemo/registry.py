"""The one table of archdemo's models: name, classes, task, tokenizer and where published weights live.

Adding a model: its file in ``models/``, one row here, its tab in ``ui/`` and its recipe in ``training/``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from archdemo.base_weights import load_tokenizer
from archdemo.models import (
    CharGPT,
    CharGPTConfig,
    CharRNN,
    CharRNNConfig,
    DenoisingAutoencoder,
    DenoisingAutoencoderConfig,
    DigitCNN,
    DigitCNNConfig,
    PretrainedSentimentTransformer,
    PretrainedSentimentTransformerConfig,
    SentimentRNN,
    SentimentRNNConfig,
    SentimentTransformer,
    SentimentTransformerConfig,
)
from archdemo.text_processing import Tokenizer


def word_tokenizer(config) -> Tokenizer:
    """The word-level tokenizer whose vocabulary and limits travel in a text model's config."""
    return Tokenizer(config.vocab, config.unk_id, config.max_len, getattr(config, "cls_id", None))


@dataclass(frozen=True)
class ModelSpec:
    name: str  # short name: CLI argument, weights/<name>/, API prefix
    title: str  # what the UI calls it
    model_cls: type[nn.Module]
    config_cls: type
    task: str  # Hub pipeline tag
    hub_repo_id: str  # where `python -m archdemo.publish` puts it
    revision: str | None  # pinned Hub commit; None until published (then only bundled weights are used)
    make_tokenizer: Callable[[object], object] | None = None  # text models: config -> tokenizer with .encode(text)


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
            "rnn",
            "RNN",
            SentimentRNN,
            SentimentRNNConfig,
            "text-classification",
            "archdemo/sentiment-rnn",
            None,
            word_tokenizer,
        ),
        ModelSpec(
            "transformer",
            "Transformer",
            SentimentTransformer,
            SentimentTransformerConfig,
            "text-classification",
            "archdemo/sentiment-transformer",
            None,
            word_tokenizer,
        ),
        ModelSpec(
            "pretrained_transformer",
            "Pretrained Transformer",
            PretrainedSentimentTransformer,
            PretrainedSentimentTransformerConfig,
            "text-classification",
            "archdemo/sentiment-minilm-lora",
            None,
            load_tokenizer,  # the base's own WordPiece tokenizer, pinned by hash
        ),
        # The Write tab's pair: character-level language models of tiny Shakespeare (vocabulary in the config).
        ModelSpec(
            "char_rnn", "Char RNN", CharRNN, CharRNNConfig, "text-generation", "archdemo/char-rnn-shakespeare", None
        ),
        ModelSpec(
            "char_gpt", "Char GPT", CharGPT, CharGPTConfig, "text-generation", "archdemo/char-gpt-shakespeare", None
        ),
    ]
}


TEXT_MODELS = tuple(name for name, spec in MODELS.items() if spec.task == "text-classification")
CHAR_MODELS = tuple(name for name, spec in MODELS.items() if spec.task == "text-generation")


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}") from None
