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


def word_tokenizer(config) -> Tokenizer:
    """The word-level tokenizer whose vocabulary and limits travel in a text model's config."""
    return Tokenizer(config.vocab, config.unk_id, config.max_len, getattr(config, "cls_id", None))


MNIST = ("mnist", "MNIST")
SST2 = ("glue", "SST-2 (GLUE)")
SHAKESPEARE = ("tiny_shakespeare", "tiny Shakespeare")
ACCURACY_MNIST = ("accuracy", "accuracy", "Accuracy on the 10,000 MNIST test digits")
ACCURACY_SST2 = ("accuracy", "accuracy", "Accuracy on the 872 SST-2 dev sentences")
VAL_LOSS = (
    "loss",
    "val_loss",
    "Validation loss (mean cross-entropy, nats per character) over the last 10% of tiny Shakespeare",
)


@dataclass(frozen=True)
class Card:
    """What a model card says beyond the numbers (``weights.cards`` writes it)."""

    dataset: tuple[str, str]  # (Hub dataset id, its name)
    tags: tuple[str, ...]
    about: str  # what the model is and how it was trained
    metric: tuple[str, str, str]  # (model-index type, key in evaluate's JSON, what it measures)
    scoring: str | None = None  # how it was scored, where that needs saying


@dataclass(frozen=True)
class ModelSpec:
    name: str  # short name: CLI argument, weights/<name>/, API prefix
    title: str  # what a column, a table row or a card calls it: "RNN (LSTM)"
    short: str  # what a legend, a heading or a sentence calls it: "LSTM"
    about: str  # what it is and where it learned, after "the" or a colon: "LSTM trained here on SST-2 only"
    model_cls: type[nn.Module]
    config_cls: type
    task: str  # Hub pipeline tag; the tasks and the UI pick models by it
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
            "archdemo.training.images:cnn_recipe",
            Card(
                MNIST,
                ("image-classification", "mnist", "cnn"),
                "A small convolutional network (three conv stages with batch norm, global average pooling, "
                "one linear layer) that classifies 28x28 handwritten digits. Trained on the 60,000 MNIST "
                "training digits with small random affine distortions.",
                ACCURACY_MNIST,
            ),
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
            "archdemo.training.images:autoencoder_recipe",
            Card(
                MNIST,
                ("image-to-image", "denoising", "autoencoder", "mnist"),
                "A convolutional denoising autoencoder: conv encoder -> 64-number bottleneck -> "
                "transposed-conv decoder. Trained to map MNIST digits corrupted by Gaussian noise, "
                "salt-and-pepper noise or a blanked patch back to the clean digit. How badly it rebuilds a clean "
                'input is also the app\'s "is this a digit?" meter (`anomaly_roc_auc`: MNIST test digits against '
                "rendered letters, scribbles, shapes and noise; circles, read as zeros, are the weak spot); its "
                "calibration over the test digits ships with archdemo "
                "(`weights/autoencoder/anomaly_calibration.json`).",
                (
                    "psnr",
                    "psnr_denoised",
                    "Mean per-image PSNR (dB) on the MNIST test digits, Gaussian noise sigma 0.5",
                ),
            ),
            "archdemo/denoising-autoencoder",
        ),
        ModelSpec(
            "rnn",
            "RNN (LSTM)",
            "LSTM",
            "LSTM trained here on SST-2 only",
            SentimentRNN,
            SentimentRNNConfig,
            "text-classification",
            "archdemo.training.text:text_recipe",
            Card(
                SST2,
                ("text-classification", "sentiment-analysis", "lstm", "sst2"),
                "A one-layer LSTM that reads a sentence left to right from GloVe 6B-50d word vectors "
                "and classifies its final state as positive or negative. Trained on the 67,349 SST-2 "
                "training phrases.",
                ACCURACY_SST2,
            ),
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
            "archdemo.training.text:text_recipe",
            Card(
                SST2,
                ("text-classification", "sentiment-analysis", "transformer", "sst2"),
                "A two-layer pre-norm Transformer encoder (4 heads, width 128, padding mask) over GloVe "
                "6B-50d word vectors. Word order enters through sinusoidal position codes with a learned scale and "
                "an ALiBi-style penalty on attending far away, so any length up to 256 tokens works. A [CLS] "
                "token's final state is classified as positive or negative. Trained on the 67,349 SST-2 training "
                "phrases, each weighted by its length (capped at 25 tokens), with word dropout.",
                ACCURACY_SST2,
            ),
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
            "archdemo.training.finetune:pretrained_recipe",
            Card(
                SST2,
                ("text-classification", "sentiment-analysis", "transformer", "lora", "sst2"),
                "The MiniLM-L6 encoder of sentence-transformers/all-MiniLM-L6-v2 (6 layers, width 384, 12 heads, "
                "22.7 M parameters; pretrained by others on a billion sentence pairs), fine-tuned on the 67,349 "
                "SST-2 training phrases with LoRA (rank 8) on every attention and feed-forward matrix, plus its "
                "layer norms and a linear head on the mean of the token states. This repo holds only what "
                "fine-tuning learned; the base is read from its Hub repo at the revision and SHA-256 pinned in "
                "config.json.",
                ACCURACY_SST2,
            ),
            "archdemo/sentiment-minilm-lora",
            make_tokenizer=load_tokenizer,  # the base's own WordPiece tokenizer, pinned by hash
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
            "archdemo.training.chars:chars_recipe",
            Card(
                SHAKESPEARE,
                ("text-generation", "character-level", "lstm", "tiny-shakespeare"),
                "A two-layer LSTM (hidden size 384, 64-number character vectors, dropout 0.2) that writes like "
                "Shakespeare, one character at a time. Trained on the first 90% of tiny Shakespeare's 1,115,394 "
                "characters by truncated backpropagation through time: 64 parallel streams through the text, 128 "
                "characters per step, the state carried from step to step.",
                VAL_LOSS,
                "Scored on exactly the windows the GPT is scored on: 256 characters every 128, each window "
                "read from a fresh (zero) state and scored on its last 128 predictions (the first window on all of "
                "them), so every character after the first is predicted exactly once, from the same 128 to 255 "
                "characters before it as the GPT sees (fewer only in the first window). Reading the whole text in "
                "one stream would let the LSTM remember further back, but it gains nothing measurable from that: a "
                "first training run (dropout 0.1) scored 1.5032 on these windows and 1.5033 on 2,048-character "
                "windows that gave it 256 or more characters of warm-up.",
            ),
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
            "archdemo.training.chars:chars_recipe",
            Card(
                SHAKESPEARE,
                ("text-generation", "character-level", "gpt", "transformer", "tiny-shakespeare"),
                "A small GPT (4 pre-norm decoder blocks, width 192, 3 heads of causal self-attention, learned "
                "positions, a 256-character context window, the head tied to the character embeddings) that "
                "writes like Shakespeare, one character at a time. Trained on random 256-character windows of the "
                "first 90% of tiny Shakespeare's 1,115,394 characters, every position a target.",
                VAL_LOSS,
                "The validation text is read in windows of the model's full 256-character context, every 128 "
                "characters; each window is scored on its last 128 predictions (the first window on all of them), "
                "so every character after the first is predicted exactly once, with 128 to 255 characters before "
                "it (fewer only in the first window).",
            ),
            "archdemo/char-gpt-shakespeare",
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
