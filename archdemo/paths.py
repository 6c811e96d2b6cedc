"""Where archdemo's files are: the bundled weights, the assets the tabs show, and what tools write for the app.

The one place paths are worked out; it imports nothing of the project, so every layer may use it.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout: app.py, weights/, tests/
BUNDLED_DIR = ROOT / "weights"  # weights/<name>/: config.json + model.safetensors + README.md (the Hub layout)
CONFIG_NAME, WEIGHTS_NAME, CARD_NAME = "config.json", "model.safetensors", "README.md"
CURVE_NAME = "training_curve.json"  # beside a model's weights: what its training recorded (steps, seconds, loss)

ASSETS = Path(__file__).resolve().parent / "assets"
SAMPLE_DIGITS = ASSETS / "digits"  # a clear drawing of each digit, 0.png .. 9.png
HARD_DIGITS = ASSETS / "hard"  # MNIST test digits the CNN gets wrong (written by evaluate --write-cards)
METRICS_PATH = ASSETS / "metrics.json"  # evaluate's numbers, quoted by the Compare tab
DATA_EFFICIENCY_PATH = ASSETS / "data_efficiency.json"  # accuracy by training-set size (tools/data_efficiency)
HARD_SENTENCES = ASSETS / "negation_contrast.tsv"  # written for the project; never trained on
CALIBRATION_PATH = BUNDLED_DIR / "autoencoder" / "anomaly_calibration.json"  # the meter's scale


def bundled(name: str) -> Path:
    """The bundled folder of model ``name``."""
    return BUNDLED_DIR / name


def training_record_path(name: str) -> Path:
    return BUNDLED_DIR / name / CURVE_NAME
