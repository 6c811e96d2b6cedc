"""Every architecture on every task: the same drawing through every digit reader, the word CNN's windows,
and the "which to use when" table, checked against the answers the API gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from archdemo.inputs.images import prepare_digit
from archdemo.paths import SAMPLE_DIGITS
from archdemo.plots.digits import every_reader_pictures
from archdemo.tasks.digits import classify_batch, read_every_reader
from archdemo.tasks.sentences import read_sentence
from archdemo.ui.which_to_use import FAMILIES, HEADERS, which_to_use_rows
from archdemo.weights.registry import DIGIT_MODELS, MODELS


@pytest.fixture(scope="module")
def seven() -> np.ndarray:
    return prepare_digit(Image.open(SAMPLE_DIGITS / "7.png"))


def test_one_pass_reads_the_drawing_with_every_digit_reader(store, seven):
    every = read_every_reader(store, seven)
    readings = {"cnn": every.cnn, **{r.name: r for r in every.others}}
    assert list(readings) == list(DIGIT_MODELS) and len(DIGIT_MODELS) == 4
    for name, r in readings.items():
        np.testing.assert_allclose(r.probabilities, classify_batch(store, seven[None], name)[0], atol=1e-5)
        assert r.answer["label"] == "7", name  # a clear test digit: every reader gets it
    rows, patches, code = (readings[n].inside for n in DIGIT_MODELS[1:])
    np.testing.assert_allclose(rows[-1], readings["digit_rnn"].probabilities, atol=1e-5)  # the last row is the answer
    assert rows.shape == (28, 10) and np.allclose(rows.sum(1), 1, atol=1e-4)
    config = store.get("digit_transformer").config
    assert patches.shape == (config.num_layers, config.num_heads, 7, 7)
    assert (patches >= 0).all() and (patches.sum((-1, -2)) <= 1 + 1e-5).all()  # the rest is on the class token
    assert code.shape == (store.get("autoencoder_probe").config.latent_dim,)


def test_the_probe_reads_exactly_the_autoencoders_code(store, seven):
    x = torch.as_tensor(seven)[None, None]
    with torch.inference_mode():
        code = store.get("autoencoder").encode(x)[0]
    probe = next(r for r in read_every_reader(store, seven).others if r.name == "autoencoder_probe")
    np.testing.assert_allclose(probe.inside, code.numpy(), atol=1e-5)


def test_every_readers_picture_is_an_rgb_image(store, seven):
    pictures = every_reader_pictures(read_every_reader(store, seven))
    assert list(pictures) == list(DIGIT_MODELS)
    for name, p in pictures.items():
        assert p.dtype == np.uint8 and p.ndim == 3 and p.shape[2] == 3 and min(p.shape[:2]) >= 100, name


@pytest.mark.parametrize("sentence", ["It's not bad, I'd say!", "The plot is thin and the jokes fall flat.", "Fine."])
def test_the_word_cnns_windows_add_up_to_its_verdict(store, sentence):
    r = read_sentence(store, "text_cnn", sentence)
    model, tokenizer = store.reader("text_cnn")
    ids = torch.tensor([tokenizer.encode(sentence).ids])
    with torch.inference_mode():
        logits = model(ids, torch.tensor([ids.shape[1]]))[0]
    bias = model.head.bias
    # The head is linear in the filters' maxima: the windows' pushes are the whole verdict, less the bias.
    assert float(r.influence.sum()) == pytest.approx(float(logits[1] - logits[0] - bias[1] + bias[0]), abs=1e-4)
    assert r.windows and all(0 <= s < len(r.tokens) and w >= 1 for s, w, _ in r.windows)
    pushes = [abs(p) for _, _, p in r.windows]
    assert pushes == sorted(pushes, reverse=True)


def test_which_to_use_places_every_reader_by_family_and_task(store):
    metrics = {"cnn": {"accuracy": 0.99, "n": 10}, "char_cnn": {"val_loss": 1.6}}
    rows = which_to_use_rows(store, metrics, {"cnn": 1.5})
    assert [r[0] for r in rows] == FAMILIES and all(len(r) == len(HEADERS) for r in rows)
    cells = {(r[0], h): c for r in rows for h, c in zip(HEADERS[1:], r[1:], strict=True)}
    assert "99.0%" in cells["CNN", "digits (MNIST)"] and "1.5 ms" in cells["CNN", "digits (MNIST)"]
    assert "1.600 nats/char" in cells["CNN", "writing (tiny Shakespeare)"]
    assert cells["Autoencoder", "sentences (SST-2)"].startswith("Not made for it")
    assert cells["Autoencoder", "writing (tiny Shakespeare)"].startswith("Not made for it")
    for spec in MODELS.values():
        if spec.task in ("image-classification", "text-classification", "text-generation"):
            assert any(spec.title in c for c in cells.values()), spec.name
