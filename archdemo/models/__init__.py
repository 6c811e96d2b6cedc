"""The four architectures, one file each. This package imports torch and nothing of the project."""

from archdemo.models.autoencoder import DenoisingAutoencoder, DenoisingAutoencoderConfig
from archdemo.models.cnn import DigitCNN, DigitCNNConfig
from archdemo.models.rnn import SentimentRNN, SentimentRNNConfig
from archdemo.models.transformer import SentimentTransformer, SentimentTransformerConfig

__all__ = [
    "DenoisingAutoencoder",
    "DenoisingAutoencoderConfig",
    "DigitCNN",
    "DigitCNNConfig",
    "SentimentRNN",
    "SentimentRNNConfig",
    "SentimentTransformer",
    "SentimentTransformerConfig",
]
