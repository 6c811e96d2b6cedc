"""A model's config owns its labels: the app serves whatever names a config gives, or refuses it at load.

Both ways a model reaches the app are covered: a visitor's own repo (the loopback Hub stand-in) and a
folder named in the settings (``ARCHDEMO_<NAME>_WEIGHTS``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hub_standin import HubStandin, use_standin
from PIL import Image

from archdemo.models import DigitCNN, DigitCNNConfig
from archdemo.paths import SAMPLE_DIGITS
from archdemo.plots import sentences as plots
from archdemo.serving.answers import Answers
from archdemo.settings import Settings
from archdemo.tasks import digits
from archdemo.tasks.sentences import read_sentence
from archdemo.weights.hub import BUNDLED_DIR, WeightsError, load_model, save_pretrained
from archdemo.weights.store import ModelStore

SEVEN = np.asarray(Image.open(SAMPLE_DIGITS / "7.png"))


@pytest.fixture
def hub(tmp_path, monkeypatch):
    with HubStandin() as standin:
        use_standin(monkeypatch, standin.url, tmp_path / "hf")
        yield standin


def relabelled_rnn(folder: Path, labels: list[str]) -> Path:
    """The bundled LSTM with its two labels renamed: same weights, other names."""
    model = load_model("rnn")
    model.config.labels = labels
    return save_pretrained(model, folder)


def three_way_cnn(folder: Path, labels: list[str], num_classes: int | None = None) -> Path:
    torch.manual_seed(0)
    model = DigitCNN(DigitCNNConfig(channels=(4, 8, 8), num_classes=len(labels), labels=labels))
    save_pretrained(model, folder)
    if num_classes is not None:  # a config whose label count disagrees with its class count
        config = json.loads((folder / "config.json").read_text())
        config["num_classes"] = num_classes
        (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_a_visitors_text_model_with_other_label_names_works_end_to_end(hub, tmp_path):
    hub.add_folder("someone/neg-pos-rnn", relabelled_rnn(tmp_path / "rnn", ["neg", "pos"]))
    store = ModelStore(Settings(device="cpu"))
    choice, message = store.load_user_model("rnn", "someone/neg-pos-rnn")
    assert "someone/neg-pos-rnn" in message
    r = read_sentence(store, "rnn", "A wonderful, moving film.", choice)
    assert r.answer["label"] == "pos" and set(r.answer["probabilities"]) == {"neg", "pos"}
    assert r.labels == ["neg", "pos"] and r.belief[-1] == pytest.approx(r.answer["probabilities"]["pos"], abs=1e-5)
    figure = plots.belief_plot(r.tokens, r.belief, r.labels[1])
    assert "P(pos)" in figure.axes[0].get_title()
    # The app's own model is untouched by the visitor's choice.
    assert read_sentence(store, "rnn", "A wonderful, moving film.").answer["label"] == "positive"


def test_the_apps_own_text_model_can_name_its_labels(tmp_path):
    folder = relabelled_rnn(tmp_path / "rnn", ["bad", "good"])
    store = ModelStore(Settings(device="cpu", sources={"rnn": str(folder)}))
    answer = Answers(store).sentiment("rnn", "A dull, boring mess.")
    assert answer["label"] == "bad" and set(answer["probabilities"]) == {"bad", "good"}


def test_a_cnn_with_other_labels_and_class_count_works_end_to_end(hub, tmp_path):
    labels = ["A", "B", "C"]
    hub.add_folder("someone/abc-cnn", three_way_cnn(tmp_path / "cnn", labels))
    store = ModelStore(Settings(device="cpu"))
    choice, _ = store.load_user_model("cnn", "someone/abc-cnn")
    reading = digits.classify_digit(store, SEVEN, choice)
    assert reading.labels == labels and reading.probabilities.shape == (3,)
    assert reading.answer["label"] in labels and sum(reading.answer["probabilities"].values()) == pytest.approx(1)
    assert reading.cam.shape == (28, 28)
    # As the app's own CNN, through the API's path:
    own = ModelStore(Settings(device="cpu", sources={"cnn": str(tmp_path / "cnn")}))
    assert set(Answers(own).classify_digit(SEVEN)["probabilities"]) == set(labels)


def test_a_cnn_whose_labels_disagree_with_its_class_count_is_refused_at_load(hub, tmp_path):
    hub.add_folder("someone/odd-cnn", three_way_cnn(tmp_path / "cnn", ["A", "B", "C"], num_classes=10))
    store = ModelStore(Settings(device="cpu"))
    with pytest.raises(WeightsError, match="labels names 3 classes but num_classes is 10"):
        store.load_user_model("cnn", "someone/odd-cnn")
    with pytest.raises(WeightsError, match="num_classes"):
        ModelStore(Settings(device="cpu", sources={"cnn": str(tmp_path / "cnn")})).get("cnn")


def test_a_text_model_with_three_labels_is_refused_at_load(hub, tmp_path):
    model = load_model("transformer")
    model.config.labels = ["negative", "neutral", "positive"]
    model.head = torch.nn.Linear(model.head.in_features, 3)
    hub.add_folder("someone/three-way", save_pretrained(model, tmp_path / "tf"))
    store = ModelStore(Settings(device="cpu"))
    with pytest.raises(WeightsError, match="exactly two labels"):
        store.load_user_model("transformer", "someone/three-way")
    assert not store._user_models  # nothing kept


def test_bundled_configs_carry_their_labels_and_constants():
    cnn = json.loads((BUNDLED_DIR / "cnn" / "config.json").read_text())
    assert len(cnn["labels"]) == cnn["num_classes"] and {"mean", "std"} <= set(cnn)
    for name in ("rnn", "transformer"):
        assert json.loads((BUNDLED_DIR / name / "config.json").read_text())["labels"] == ["negative", "positive"]
