"""What each model's card says about it: the data set, tags, how it was made and scored (the prose).

One ``Card`` per registry row, kept apart from the registry's table only for length: ``weights.cards``
writes the card from it and ``archdemo.evaluate``'s numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Card:
    """What a model card says beyond the numbers (``weights.cards`` writes it)."""

    dataset: tuple[str, str]  # (Hub dataset id, its name)
    tags: tuple[str, ...]
    about: str  # what the model is and how it was trained
    metric: tuple[str, str, str]  # (model-index type, key in evaluate's JSON, what it measures)
    scoring: str | None = None  # how it was scored, where that needs saying


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


CARDS: dict[str, Card] = {
    "cnn": Card(
        MNIST,
        ("image-classification", "mnist", "cnn"),
        "A small convolutional network (three conv stages with batch norm, global average pooling, "
        "one linear layer) that classifies 28x28 handwritten digits. Trained on the 60,000 MNIST "
        "training digits with small random affine distortions.",
        ACCURACY_MNIST,
    ),
    "autoencoder": Card(
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
    "rnn": Card(
        SST2,
        ("text-classification", "sentiment-analysis", "lstm", "sst2"),
        "A one-layer LSTM that reads a sentence left to right from GloVe 6B-50d word vectors "
        "and classifies its final state as positive or negative. Trained on the 67,349 SST-2 "
        "training phrases.",
        ACCURACY_SST2,
    ),
    "transformer": Card(
        SST2,
        ("text-classification", "sentiment-analysis", "transformer", "sst2"),
        "A two-layer pre-norm Transformer encoder (4 heads, width 128, padding mask) over GloVe "
        "6B-50d word vectors. Word order enters through sinusoidal position codes with a learned scale and "
        "an ALiBi-style penalty on attending far away, so any length up to 256 tokens works. A [CLS] "
        "token's final state is classified as positive or negative. Trained on the 67,349 SST-2 training "
        "phrases, each weighted by its length (capped at 25 tokens), with word dropout.",
        ACCURACY_SST2,
    ),
    "pretrained_transformer": Card(
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
    "char_rnn": Card(
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
    "char_gpt": Card(
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
    "digit_rnn": Card(
        MNIST,
        ("image-classification", "mnist", "lstm", "rnn"),
        "A two-layer LSTM (hidden size 128) that reads a 28x28 handwritten digit one row of 28 pixels at a "
        "time, top to bottom, and classifies its state after the last row; the same head on the state after "
        "every row shows its opinion forming. Trained on the 60,000 MNIST training digits.",
        ACCURACY_MNIST,
    ),
    "digit_transformer": Card(
        MNIST,
        ("image-classification", "mnist", "vit", "transformer"),
        "A small Vision Transformer: the 28x28 digit cut into 49 patches of 4x4 pixels, each a token, plus a "
        "learned class token and learned positions, through 4 pre-norm encoder blocks (width 64, 4 heads); "
        "the class token's final state is classified. Trained on the 60,000 MNIST training digits.",
        ACCURACY_MNIST,
    ),
    "autoencoder_probe": Card(
        MNIST,
        ("image-classification", "mnist", "autoencoder", "linear-probe"),
        "A linear probe: one linear layer on the 64-number code of archdemo's denoising autoencoder, whose "
        "encoder is copied in and frozen. The autoencoder never saw a label; only the 650 numbers of the "
        "linear layer were trained, on the 60,000 MNIST training digits, so the accuracy measures what the "
        "unsupervised code already made readable.",
        ACCURACY_MNIST,
    ),
    "text_cnn": Card(
        SST2,
        ("text-classification", "sentiment-analysis", "cnn", "sst2"),
        "A 1-D convolutional network over GloVe 6B-50d word vectors (Kim 2014's design): filters over "
        "windows of 2, 3, 4 and 5 words, each filter's largest response anywhere in the sentence (max over "
        "time), dropout and a linear layer. Same tokenizer, vocabulary and starting vectors as the LSTM. "
        "Trained on the 67,349 SST-2 training phrases.",
        ACCURACY_SST2,
    ),
    "char_cnn": Card(
        SHAKESPEARE,
        ("text-generation", "character-level", "cnn", "wavenet", "tiny-shakespeare"),
        "A causal, dilated 1-D convolutional network (residual blocks with kernel 3 and dilations 1 to 64, "
        "width 160) that writes like Shakespeare, one character at a time: each character is predicted from "
        "the 255 before it, never from later ones. Trained on random windows of the first 90% of tiny "
        "Shakespeare's 1,115,394 characters, every position a target.",
        VAL_LOSS,
        "Scored on the same windows as the LSTM and the GPT: 256 characters every 128, each window scored on "
        "its last 128 predictions (the first window on all of them), so every character after the first is "
        "predicted exactly once.",
    ),
}
