"""The one table of archdemo's models: what each is called, its classes, task, tokenizer, recipe, card and Hub home.

Everything the rest of the code needs to know about a model by name is a field here, so no file
branches on a model's name: the UI reads the titles, ``archdemo.train`` the recipe, the cards the
``Card``. Adding a model: its file in ``models/``, one row here, its recipe in ``training/`` and its
tab (or column) in ``ui/`` (the README's "Adding a model" lists what the last one touched).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from archdemo.inputs.words import Tokenizer
from archdemo.models import (
    AutoencoderProbe,
    AutoencoderProbeConfig,
    CharCNN,
    CharCNNConfig,
    DigitRNN,
    DigitRNNConfig,
    DigitTransformer,
    DigitTransformerConfig,
    TextCNN,
    TextCNNConfig,
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
from archdemo.weights.base import load_tokenizer
from archdemo.weights.descriptions import CARDS, Card


def word_tokenizer(config) -> Tokenizer:
    """The word-level tokenizer whose vocabulary and limits travel in a text model's config."""
    return Tokenizer(config.vocab, config.unk_id, config.max_len, getattr(config, "cls_id", None))


@dataclass(frozen=True)
class ModelSpec:
    name: str  # short name: CLI argument, weights/<name>/, API prefix
    title: str  # what a column, a table row or a card calls it: "RNN (LSTM)"
    short: str  # what a legend, a heading or a sentence calls it: "LSTM"
    about: str  # what it is and where it learned, after "the" or a colon: "LSTM trained here on SST-2 only"
    model_cls: type[nn.Module]
    config_cls: type
    task: str  # Hub pipeline tag; the tasks and the UI pick models by it
    family: str  # the architecture family it shows: "CNN", "RNN", "Transformer" or "Autoencoder"
    api_name: str  # its endpoint: /classify_digit, /rnn_sentiment, /generate_gpt ...
    recipe: str  # "module:function" in archdemo.training that trains it (see training.loop.Run)
    card: Card
    hub_repo_id: str  # where `python -m archdemo.publish` puts it
    revision: str | None = None  # pinned Hub commit; None until published (then only bundled weights are used)
    make_tokenizer: Callable[[object], object] | None = None  # text models: config -> tokenizer with .encode(text)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            "cnn",
            "CNN",
            "CNN",
            "small CNN trained here on MNIST",
            DigitCNN,
            DigitCNNConfig,
            "image-classification",
            "CNN",
            "classify_digit",
            "archdemo.training.images:cnn_recipe",
            CARDS["cnn"],
            "archdemo/digit-cnn",
        ),
        ModelSpec(
            "autoencoder",
            "Autoencoder",
            "autoencoder",
            "denoising autoencoder trained here on MNIST",
            DenoisingAutoencoder,
            DenoisingAutoencoderConfig,
            "image-to-image",
            "Autoencoder",
            "denoise_digit",
            "archdemo.training.images:autoencoder_recipe",
            CARDS["autoencoder"],
            "archdemo/denoising-autoencoder",
        ),
        ModelSpec(
            "digit_rnn",
            "RNN (LSTM, row by row)",
            "row-reading LSTM",
            "LSTM that reads the digit one row of pixels at a time, trained here on MNIST",
            DigitRNN,
            DigitRNNConfig,
            "image-classification",
            "RNN",
            "classify_digit_rnn",
            "archdemo.training.digit_readers:digit_rnn_recipe",
            CARDS["digit_rnn"],
            "archdemo/digit-rnn",
        ),
        ModelSpec(
            "digit_transformer",
            "Transformer (ViT)",
            "Vision Transformer",
            "small Vision Transformer over 4x4-pixel patches, trained here on MNIST",
            DigitTransformer,
            DigitTransformerConfig,
            "image-classification",
            "Transformer",
            "classify_digit_transformer",
            "archdemo.training.digit_readers:digit_transformer_recipe",
            CARDS["digit_transformer"],
            "archdemo/digit-vit",
        ),
        ModelSpec(
            "autoencoder_probe",
            "Autoencoder code + linear probe",
            "autoencoder's probe",
            "linear classifier on the frozen autoencoder's 64-number code, trained here on MNIST",
            AutoencoderProbe,
            AutoencoderProbeConfig,
            "image-classification",
            "Autoencoder",
            "classify_digit_probe",
            "archdemo.training.digit_readers:autoencoder_probe_recipe",
            CARDS["autoencoder_probe"],
            "archdemo/digit-autoencoder-probe",
        ),
        ModelSpec(
            "rnn",
            "RNN (LSTM)",
            "LSTM",
            "LSTM trained here on SST-2 only",
            SentimentRNN,
            SentimentRNNConfig,
            "text-classification",
            "RNN",
            "rnn_sentiment",
            "archdemo.training.text:text_recipe",
            CARDS["rnn"],
            "archdemo/sentiment-rnn",
            make_tokenizer=word_tokenizer,
        ),
        ModelSpec(
            "transformer",
            "Transformer, from scratch",
            "from-scratch Transformer",
            "Transformer trained here from scratch, on SST-2 only",
            SentimentTransformer,
            SentimentTransformerConfig,
            "text-classification",
            "Transformer",
            "transformer_sentiment",
            "archdemo.training.text:text_recipe",
            CARDS["transformer"],
            "archdemo/sentiment-transformer",
            make_tokenizer=word_tokenizer,
        ),
        ModelSpec(
            "pretrained_transformer",
            "Transformer, pretrained",
            "pretrained Transformer",
            "MiniLM-L6, pretrained by others on a billion sentence pairs, fine-tuned here on SST-2 with LoRA",
            PretrainedSentimentTransformer,
            PretrainedSentimentTransformerConfig,
            "text-classification",
            "Transformer",
            "pretrained_transformer_sentiment",
            "archdemo.training.finetune:pretrained_recipe",
            CARDS["pretrained_transformer"],
            "archdemo/sentiment-minilm-lora",
            make_tokenizer=load_tokenizer,  # the base's own WordPiece tokenizer, pinned by hash
        ),
        ModelSpec(
            "text_cnn",
            "CNN over words",
            "word CNN",
            "1-D CNN over word vectors (windows of 2-5 words), trained here on SST-2 only",
            TextCNN,
            TextCNNConfig,
            "text-classification",
            "CNN",
            "cnn_sentiment",
            "archdemo.training.text_cnn:text_cnn_recipe",
            CARDS["text_cnn"],
            "archdemo/sentiment-cnn",
            make_tokenizer=word_tokenizer,
        ),
        # The Write tab's writers: character-level language models of tiny Shakespeare (vocabulary in the config).
        ModelSpec(
            "char_rnn",
            "Char RNN (LSTM)",
            "LSTM",
            "character-level LSTM trained here on tiny Shakespeare",
            CharRNN,
            CharRNNConfig,
            "text-generation",
            "RNN",
            "generate_rnn",
            "archdemo.training.chars:chars_recipe",
            CARDS["char_rnn"],
            "archdemo/char-rnn-shakespeare",
        ),
        ModelSpec(
            "char_gpt",
            "Char GPT",
            "GPT",
            "character-level GPT trained here on tiny Shakespeare",
            CharGPT,
            CharGPTConfig,
            "text-generation",
            "Transformer",
            "generate_gpt",
            "archdemo.training.chars:chars_recipe",
            CARDS["char_gpt"],
            "archdemo/char-gpt-shakespeare",
        ),
        ModelSpec(
            "char_cnn",
            "Char CNN (dilated)",
            "CNN",
            "causal dilated character-level CNN trained here on tiny Shakespeare",
            CharCNN,
            CharCNNConfig,
            "text-generation",
            "CNN",
            "generate_cnn",
            "archdemo.training.chars:chars_recipe",
            CARDS["char_cnn"],
            "archdemo/char-cnn-shakespeare",
        ),
    ]
}


def names_for(task: str) -> tuple[str, ...]:
    """The models of one task (a Hub pipeline tag), in the table's order."""
    return tuple(name for name, spec in MODELS.items() if spec.task == task)


DIGIT_MODELS = names_for("image-classification")
TEXT_MODELS = names_for("text-classification")
CHAR_MODELS = names_for("text-generation")


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}") from None
