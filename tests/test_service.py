"""The tasks on the bundled weights: real answers for real input, clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from archdemo.errors import InputError
from archdemo.tasks import digits
from archdemo.tasks.sentences import read_sentence
from archdemo.weights.hub import BUNDLED_DIR
from archdemo.weights.registry import MODELS

DIGITS = sorted((BUNDLED_DIR.parent / "archdemo" / "assets" / "digits").glob("*.png"))


def test_sample_digits_are_classified_correctly(answers, store):
    for path in DIGITS:
        answer = answers.classify_digit(np.asarray(Image.open(path)))
        assert digits.classify_digit(store, np.asarray(Image.open(path))).answer["label"] == path.stem
        assert answer["label"] == path.stem
        assert set(answer["probabilities"]) == {str(d) for d in range(10)}
        assert sum(answer["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


def test_a_drawn_seven_on_transparent_canvas_is_a_seven(answers):
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[60:80, 70:210, 3] = 255  # the top bar
    for i in range(150):  # the diagonal, from the right end of the bar down-left
        y, x = 80 + i, int(205 - i * 0.6)
        canvas[y : y + 3, x - 9 : x + 9, 3] = 255
    assert answers.classify_digit(canvas)["label"] == "7"


def test_denoising_improves_psnr(store, answers):
    digit = np.asarray(Image.open(DIGITS[4]))
    r = digits.denoise_digit(store, digit, 0.5)
    assert r.noisy.shape == r.denoised.shape == r.clean.shape == (28, 28)
    assert r.metrics["psnr_denoised"] > r.metrics["psnr_noisy"] + 5
    _, noisy, denoised, metrics = answers.denoise_digit(digit, 0.5)  # the API's path: the same picture
    np.testing.assert_array_equal(r.noisy, noisy)  # same input, same seed, same picture
    np.testing.assert_allclose(r.denoised, denoised, atol=1e-5)
    assert metrics == r.metrics


@pytest.mark.parametrize("name", ["rnn", "transformer"])
def test_sentiment_on_clear_sentences(store, answers, name):
    pos = read_sentence(store, name, "A wonderful, moving and beautifully acted film.")
    neg = read_sentence(store, name, "A dull, boring mess with awful acting.")
    assert pos.answer["label"] == "positive" and neg.answer["label"] == "negative"
    p = pos.answer["probabilities"]
    assert list(p) == store.get(name).config.labels and p["positive"] + p["negative"] == pytest.approx(1.0)
    api = answers.sentiment(name, "A wonderful, moving and beautifully acted film.")
    assert api["label"] == "positive" and api["probabilities"]["positive"] == pytest.approx(p["positive"], abs=1e-5)


@pytest.mark.parametrize("name", ["rnn", "transformer"])
def test_long_text_is_truncated_with_a_notice(store, name):
    r = read_sentence(store, name, "good " * 900)
    assert any("cut to its first" in n for n in r.notices)
    assert len(r.tokens) == store.get(name).config.max_len


@pytest.mark.parametrize(
    "call",
    [
        lambda s, a: a.classify_digit(None),
        lambda s, a: digits.classify_digit(s, np.zeros((280, 280, 4), np.uint8)),
        lambda s, a: digits.denoise_digit(s, np.asarray(Image.open(DIGITS[1])), float("nan")),
        lambda s, a: a.denoise_digit(np.asarray(Image.open(DIGITS[1])), "loud"),
        lambda s, a: a.sentiment("rnn", ""),
        lambda s, a: read_sentence(s, "transformer", "🙂" * 10),
        lambda s, a: read_sentence(s, "rnn", "a" * 100_000),
    ],
)
def test_bad_input_raises_input_error(store, answers, call):
    with pytest.raises(InputError):
        call(store, answers)


def test_compare_table_measures_once_per_minute(store):
    from archdemo.ui.model_table import ModelTable

    table = ModelTable(store)
    first = table.rows()
    assert [row[0] for row in first] == [spec.title for spec in MODELS.values()]
    assert all("nats/char validation loss" in row[4] for row in first[-2:])  # the character models' number
    assert all(row[5].endswith(" ms") for row in first)
    assert "99.65%" in first[0][4]  # the quality column quotes archdemo/assets/metrics.json
    assert table.rows() is first  # a second visitor within the minute reuses it
