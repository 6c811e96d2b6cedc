"""The service on the bundled weights: real answers for real input, clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from archdemo.hub import BUNDLED_DIR
from archdemo.processing import InputError

DIGITS = sorted((BUNDLED_DIR.parent / "archdemo" / "assets" / "digits").glob("*.png"))


def test_sample_digits_are_classified_correctly(service):
    for path in DIGITS:
        answer = service.classify_digit(np.asarray(Image.open(path)))
        assert answer["label"] == path.stem
        assert set(answer["probabilities"]) == {str(d) for d in range(10)}
        assert sum(answer["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


def test_a_drawn_seven_on_transparent_canvas_is_a_seven(service):
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[60:80, 70:210, 3] = 255  # the top bar
    for i in range(150):  # the diagonal, from the right end of the bar down-left
        y, x = 80 + i, int(205 - i * 0.6)
        canvas[y : y + 3, x - 9 : x + 9, 3] = 255
    assert service.classify_digit(canvas)["label"] == "7"


def test_denoising_improves_psnr(service):
    digit = np.asarray(Image.open(DIGITS[4]))
    r = service.denoise_digit(digit, 0.5)
    assert r.noisy.shape == r.denoised.shape == r.clean.shape == (28, 28)
    assert r.metrics["psnr_denoised"] > r.metrics["psnr_noisy"] + 5
    again = service.denoise_digit(digit, 0.5)
    np.testing.assert_array_equal(r.noisy, again.noisy)  # same input, same seed, same picture


@pytest.mark.parametrize("name", ["rnn", "transformer"])
def test_sentiment_on_clear_sentences(service, name):
    pos = service.sentiment(name, "A wonderful, moving and beautifully acted film.")
    neg = service.sentiment(name, "A dull, boring mess with awful acting.")
    assert pos.answer["label"] == "positive" and neg.answer["label"] == "negative"
    p = pos.answer["probabilities"]
    assert list(p) == ["positive", "negative"] and p["positive"] + p["negative"] == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["rnn", "transformer"])
def test_long_text_is_truncated_with_a_notice(service, name):
    r = service.sentiment(name, "good " * 900)
    assert any("cut to its first" in n for n in r.notices)
    assert len(r.tokens) == service.model(name).config.max_len


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.classify_digit(None),
        lambda s: s.classify_digit(np.zeros((280, 280, 4), np.uint8)),
        lambda s: s.denoise_digit(np.asarray(Image.open(DIGITS[1])), float("nan")),
        lambda s: s.denoise_digit(np.asarray(Image.open(DIGITS[1])), "loud"),
        lambda s: s.sentiment("rnn", ""),
        lambda s: s.sentiment("transformer", "🙂" * 10),
        lambda s: s.sentiment("rnn", "a" * 100_000),
    ],
)
def test_bad_input_raises_input_error(service, call):
    with pytest.raises(InputError):
        call(service)


def test_compare_table_measures_once_per_minute(service):
    from archdemo import facts

    first = facts.model_table(service)
    assert [row[0] for row in first] == ["CNN", "Autoencoder", "RNN", "Transformer"]
    assert all(row[5].endswith(" ms") for row in first)
    assert "99.65%" in first[0][4]  # the quality column quotes archdemo/assets/metrics.json
    assert facts.model_table(service) is first  # a second visitor within the minute reuses it
