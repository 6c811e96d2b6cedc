"""The architectures, one file each. This package imports torch and nothing of the project."""

from archdemo.models.autoencoder import DenoisingAutoencoder, DenoisingAutoencoderConfig
from archdemo.models.bert import PretrainedSentimentTransformer, PretrainedSentimentTransformerConfig
from archdemo.models.char_lm import CharGPT, CharGPTConfig, CharRNN, CharRNNConfig
from archdemo.models.cnn import DigitCNN, DigitCNNConfig
from archdemo.models.rnn import SentimentRNN, SentimentRNNConfig
from archdemo.models.transformer import SentimentTransformer, SentimentTransformerConfig

__all__ = [
    "CharGPT",
    "CharGPTConfig",
    "CharRNN",
    "CharRNNConfig",
    "DenoisingAutoencoder",
    "DenoisingAutoencoderConfig",
    "DigitCNN",
    "DigitCNNConfig",
    "PretrainedSentimentTransformer",
    "PretrainedSentimentTransformerConfig",
    "SentimentRNN",
    "SentimentRNNConfig",
    "SentimentTransformer",
    "SentimentTransformerConfig",
]
