"""The evaluate command: its JSON shape, the bundled weights' quality floors, and cards that quote it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from archdemo.tools.evaluate import evaluate
from archdemo.weights.hub import BUNDLED_DIR
from archdemo.weights.registry import MODELS

pytestmark = pytest.mark.data

FLOORS = {
    ("cnn", "accuracy"): 0.993,
    ("autoencoder", "psnr_denoised"): 20.0,
    ("rnn", "accuracy"): 0.82,
    ("transformer", "accuracy"): 0.82,
    ("digit_rnn", "accuracy"): 0.985,  # issue 18's goals for the new readers
    ("digit_transformer", "accuracy"): 0.985,
    ("autoencoder_probe", "accuracy"): 0.90,
    ("text_cnn", "accuracy"): 0.82,  # its goal is 0.83, not met (README); this floor keeps what it has
}
CEILINGS = {("char_rnn", "val_loss"): 1.60, ("char_gpt", "val_loss"): 1.55, ("char_cnn", "val_loss"): 1.65}


@pytest.fixture(scope="module")
def results(store, data):
    return evaluate(store, str(data))


def test_bundled_weights_meet_the_quality_floors(results):
    for (model, metric), floor in FLOORS.items():
        assert results[model][metric] >= floor, f"{model} {metric} {results[model][metric]} < {floor}"
    assert results["autoencoder"]["psnr_denoised"] > results["autoencoder"]["psnr_noisy"] + 8
    assert results["cnn"]["n"] == 10_000 and results["rnn"]["n"] == results["transformer"]["n"] == 872
    assert sum(results["_by_length"]["counts"]) == 872
    for (model, metric), ceiling in CEILINGS.items():
        assert results[model][metric] <= ceiling, f"{model} {metric} {results[model][metric]} > {ceiling}"
        assert results[model]["n"] == 111_539  # every validation character after the first


def test_model_cards_quote_the_evaluate_numbers(results):
    for model in (m for m in MODELS if m != "pretrained_transformer"):  # test_cards.py checks every card exactly
        metrics = results[model]
        card = (BUNDLED_DIR / model / "README.md").read_text()
        assert card.startswith("---\n") and "model-index:" in card
        assert json.dumps(metrics, indent=2) in card, f"{model}'s card is stale: rerun evaluate --write-cards"


def test_cli_prints_one_json_object(data):
    out = subprocess.run(
        [sys.executable, "-m", "archdemo.evaluate", "--data-dir", str(data), "--json", "--limit", "64"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    obj = json.loads(out)
    assert set(obj) == {*MODELS, "negation_contrast", "data_efficiency"}
    curves = obj["data_efficiency"]  # read from archdemo/assets/data_efficiency.json, not retrained
    assert set(curves) == {"digits", "sentences"}
    assert curves["digits"]["cnn"]["60000"] > curves["digits"]["cnn"]["100"]
    assert obj["char_gpt"]["n"] == 63 and obj["char_gpt"]["val_loss"] > 0  # --limit 64: the first 64 characters
    assert 0 <= obj["pretrained_transformer"]["accuracy"] <= 1
    assert obj["negation_contrast"]["rnn"]["all"]["n"] == 60
    assert set(obj["autoencoder"]) >= {"psnr_noisy", "psnr_denoised", "sigma"} and obj["autoencoder"]["sigma"] == 0.5
    assert 0 <= obj["cnn"]["accuracy"] <= 1


def test_typed_sentences_reach_the_vocabulary(store):
    tok = store.tokenizer("rnn")
    enc = tok.encode("I didn't love it, but it's a well-made film that won't bore you!")
    assert enc.unknown == 0, [t for t, i in zip(enc.tokens, enc.ids) if i == tok.unk_id]
