"""The "is this a digit?" meter: its calibration, its percentiles, its readings through the tab and the API.

How well the meter separates digits from non-digits is measured, not asserted here: see
``python -m archdemo.anomaly`` and the calibration file's "separation" (ROC AUC 0.77 overall; circles
look like zeros). These tests check the machinery on clear cases.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from archdemo.errors import InputError
from archdemo.paths import CALIBRATION_PATH, SAMPLE_DIGITS
from archdemo.tasks import anomaly
from archdemo.tasks import digits as D
from archdemo.tools import calibration
from archdemo.tools.non_digits import fonts, letter, non_digits, stroke

DIGITS = SAMPLE_DIGITS  # MNIST test digits


def sample(d: int) -> np.ndarray:
    return np.asarray(Image.open(DIGITS / f"{d}.png"))


def zigzag() -> np.ndarray:
    """A scribble: one pen stroke zigzagging across the pad."""
    return stroke(np.array([(40 + 25 * i, 60 if i % 2 else 220) for i in range(9)], float))


def test_calibration_file_loads_and_fits_the_bundled_weights(store):
    cal = anomaly.load_calibration()
    assert len(cal.quantiles) == anomaly.QUANTILES and cal.n == 10_000
    assert (np.diff(cal.quantiles) >= 0).all() and cal.quantiles[0] >= 0
    assert cal.fingerprint == anomaly.model_fingerprint(store), (
        "the autoencoder's weights changed since the calibration was made: run python -m archdemo.anomaly"
    )
    data = json.loads(CALIBRATION_PATH.read_text())
    assert data["score"] == anomaly.SCORE and data["made_by"]["commit"] not in ("", "unknown")
    assert CALIBRATION_PATH.stat().st_size < 50_000
    assert 0.5 <= data["separation"]["roc_auc"] <= 1 and set(data["separation"]["variants"]) == set(anomaly.VARIANTS)


def test_percentile_is_monotone_in_score():
    cal = anomaly.load_calibration()
    scores = np.linspace(0, 2 * cal.quantiles[-1], 5000)
    p = np.array([anomaly.percentile(s) for s in scores])
    assert (np.diff(p) >= 0).all()
    assert p[0] == 0.0 and p[-1] == 100.0
    assert anomaly.percentile(float(cal.quantiles[500])) == pytest.approx(50.0, abs=0.1)
    assert anomaly.percentile(float(cal.quantiles[990])) == pytest.approx(anomaly.UNUSUAL_AT, abs=0.1)


def test_roc_auc_counts_pairs_and_ties_like_brute_force():
    rng = np.random.default_rng(0)
    neg, pos = rng.integers(0, 20, 60).astype(float), rng.integers(5, 25, 40).astype(float)  # many ties
    pairs = (pos[:, None] > neg[None]).mean() + 0.5 * (pos[:, None] == neg[None]).mean()
    assert calibration.roc_auc(neg, pos) == pytest.approx(pairs)
    assert calibration.roc_auc(np.zeros(3), np.ones(3)) == 1.0 and calibration.roc_auc(np.ones(3), np.zeros(3)) == 0.0


def test_mnist_digits_score_low(store, data):
    """Training digits (never in the calibration): about as many are called unusual as test digits are."""
    from archdemo.training.data import load_mnist

    images = load_mnist("train", data)[0][:500]
    p = np.array([anomaly.digit_anomaly(store, im).percentile for im in images])
    assert np.median(p) < 60 and (p >= anomaly.UNUSUAL_AT).mean() <= 0.03


def test_sample_digits_are_not_unusual(store):
    for d in range(10):
        r = anomaly.digit_anomaly(store, sample(d))
        assert not r.unusual and r.calibrated, (d, r.percentile)
        assert r.digit28.shape == r.rebuilt28.shape == (28, 28)


@pytest.mark.parametrize("char", ["M", "W"])
def test_a_rendered_letter_is_unusual(store, char):
    """M and W are among the letters this autoencoder rebuilds worst (O, o, l, S are read as digits)."""
    r = anomaly.digit_anomaly(store, letter(char, (fonts() or (None,))[0]))
    assert r.unusual and r.percentile >= anomaly.UNUSUAL_AT


def test_a_scribble_is_unusual(store):
    assert anomaly.digit_anomaly(store, zigzag()).unusual


def test_the_tab_the_task_and_the_api_give_the_same_reading(store, answers):
    """The tab reads the meter from denoise_digit's one pass; the task and the API rebuild on their own."""
    for image in (sample(3), zigzag()):
        tab = D.denoise_digit(store, image, 0.5).anomaly
        task = anomaly.digit_anomaly(store, image)
        api = answers.digit_anomaly(image)
        assert set(api) == {"score", "percentile", "unusual"}
        assert isinstance(api["score"], float) and isinstance(api["percentile"], float)
        assert isinstance(api["unusual"], bool)
        for r in (tab, task):
            assert r.score == pytest.approx(api["score"], rel=1e-4)
            assert r.percentile == pytest.approx(api["percentile"], abs=0.01) and r.unusual == api["unusual"]
        np.testing.assert_allclose(tab.rebuilt28, task.rebuilt28, atol=1e-5)


@pytest.mark.parametrize(
    "image,message",
    [(None, "No image"), (np.zeros((280, 280, 4), np.uint8), "blank"), ("7.png", "Expected an image")],
)
def test_bad_input_gets_a_clear_message(store, answers, image, message):
    for ask in (lambda: answers.digit_anomaly(image), lambda: anomaly.digit_anomaly(store, image)):
        with pytest.raises(InputError, match=message):
            ask()


def test_a_visitors_model_is_read_against_archdemos_calibration_and_says_so():
    from archdemo.ui.meter import meter_html

    digit = np.zeros((28, 28), np.float32)
    digit[6:22, 13:15] = 1.0
    theirs = anomaly.reading(digit, digit * 0.9, model_fp="another-model")
    ours = anomaly.reading(digit, digit * 0.9)
    assert not theirs.calibrated and ours.calibrated and theirs.percentile == ours.percentile
    assert "no calibration of its own" in meter_html(theirs)
    assert "no calibration" not in meter_html(ours)


def test_the_meter_says_what_the_percentile_means():
    from archdemo.ui.meter import verdict

    assert verdict(99.7, 10_000) == ("Rebuilt worse than 99.7% of MNIST test digits: <b>probably not a digit</b>.")
    assert "every one of the 10,000" in verdict(100.0, 10_000)
    assert "99.9%" in verdict(99.97, 10_000)  # rounded down: only the worst input reads as 100%
    assert "nothing unusual" in verdict(42.0, 10_000) and "42%" in verdict(42.0, 10_000)
    assert "unusual digit" in verdict(95.0, 10_000)


def test_non_digits_are_seeded_and_drawn_like_a_pad_drawing():
    a, b = non_digits(seed=3, per_kind=4), non_digits(seed=3, per_kind=4)
    assert set(a) == {"letters", "random walks", "bezier curves", "circles", "shapes", "noise"}
    for kind in a:
        assert all(np.array_equal(x, y) for x, y in zip(a[kind], b[kind], strict=True)), kind
        assert all(x.shape == (280, 280) and x.dtype == np.uint8 and x.max() > 0 for x in a[kind]), kind
