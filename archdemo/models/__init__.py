"""The architectures, one file each. This package imports torch and nothing of the project."""

from archdemo.models.autoencoder import DenoisingAutoencoder, DenoisingAutoencoderConfig
from archdemo.models.autoencoder_probe import AutoencoderProbe, AutoencoderProbeConfig
from archdemo.models.bert import PretrainedSentimentTransformer, PretrainedSentimentTransformerConfig
from archdemo.models.char_cnn import CharCNN, CharCNNConfig
from archdemo.models.char_lm import CharGPT, CharGPTConfig, CharRNN, CharRNNConfig
from archdemo.models.cnn import DigitCNN, DigitCNNConfig
from archdemo.models.digit_rnn import DigitRNN, DigitRNNConfig
from archdemo.models.digit_transformer import DigitTransformer, DigitTransformerConfig
from archdemo.models.rnn import SentimentRNN, SentimentRNNConfig
from archdemo.models.text_cnn import TextCNN, TextCNNConfig
from archdemo.models.transformer import SentimentTransformer, SentimentTransformerConfig

__all__ = [
    "AutoencoderProbe",
    "AutoencoderProbeConfig",
    "CharCNN",
    "CharCNNConfig",
    "CharGPT",
    "CharGPTConfig",
    "CharRNN",
    "CharRNNConfig",
    "DenoisingAutoencoder",
    "DenoisingAutoencoderConfig",
    "DigitCNN",
    "DigitCNNConfig",
    "DigitRNN",
    "DigitRNNConfig",
    "DigitTransformer",
    "DigitTransformerConfig",
    "PretrainedSentimentTransformer",
    "PretrainedSentimentTransformerConfig",
    "SentimentRNN",
    "SentimentRNNConfig",
    "SentimentTransformer",
    "SentimentTransformerConfig",
    "TextCNN",
    "TextCNNConfig",
]
