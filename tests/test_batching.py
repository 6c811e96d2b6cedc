"""The service's batch methods answer exactly what the one-at-a-time methods answer, item by item.

Batched serving runs the model once for many requests; these tests hold it to the per-request
path (the reference): same labels and probabilities (to float rounding), and a bad item gets its own
``InputError`` in its place while every other item in the batch is still answered.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from archdemo.processing import InputError

DIGITS = Path(__file__).resolve().parent.parent / "archdemo" / "assets" / "digits"
TEXTS = [
    "An absolute delight from start to finish.",
    "Tedious, ugly and far too long.",
    "It's not bad at all, though the second half drags and the jokes don't land as often as they should.",
    "meh",
    "A quietly moving film whose small moments add up to something rare: a comedy with a heart.",
]
BAD_TEXTS = ["", "😀🎉", None, 42, "x" * 100_000]


def error_of(fn, *args) -> str:
    with pytest.raises(InputError) as info:
        fn(*args)
    return str(info.value)


def digit_images() -> list:
    """The ten sample digits, as PIL images and as arrays, white-on-black and black-on-white."""
    images: list = [Image.open(DIGITS / f"{d}.png") for d in range(10)]
    images += [255 - np.asarray(Image.open(DIGITS / f"{d}.png").convert("L")) for d in (1, 4, 8)]
    return images


def test_classify_digits_equals_one_by_one(service):
    images = digit_images()
    batched = service.classify_digits(images)
    assert len(batched) == len(images)
    for image, got in zip(images, batched, strict=True):
        want = service.classify_digit(image)
        assert got["label"] == want["label"]
        assert list(got["probabilities"]) == list(want["probabilities"])
        np.testing.assert_allclose(list(got["probabilities"].values()), list(want["probabilities"].values()), atol=1e-5)


def test_one_bad_image_does_not_spoil_the_batch(service):
    good = digit_images()[:4]
    bad = [None, np.zeros((64, 64), np.uint8), np.zeros((2, 3, 5, 7)), np.full((20, 20), np.nan)]
    images = [good[0], bad[0], good[1], bad[1], bad[2], good[2], bad[3], good[3]]
    batched = service.classify_digits(images)
    for image, got in zip(images, batched, strict=True):
        if any(image is b for b in bad):
            assert isinstance(got, InputError)
            assert str(got) == error_of(service.classify_digit, image)
        else:
            want = service.classify_digit(image)
            assert got["label"] == want["label"]
            np.testing.assert_allclose(
                list(got["probabilities"].values()), list(want["probabilities"].values()), atol=1e-5
            )


def test_denoise_digits_equals_one_by_one(service):
    images = digit_images()[:6]
    levels = [0.0, 0.1, 0.3, 0.5, 0.8, 1.0]
    for kind in ("gaussian", "salt_pepper"):
        batched = service.denoise_digits(images, levels, kind=kind, seed=3)
        for image, level, got in zip(images, levels, batched, strict=True):
            want = service.denoise_digit(image, level, kind=kind, seed=3)
            np.testing.assert_array_equal(got.clean, want.clean)
            np.testing.assert_array_equal(got.noisy, want.noisy)
            np.testing.assert_allclose(got.denoised, want.denoised, atol=1e-5)
            for key in ("psnr_noisy", "psnr_denoised"):
                assert got.metrics[key] == pytest.approx(want.metrics[key], abs=0.011)


def test_one_bad_denoise_item_does_not_spoil_the_batch(service):
    sample = digit_images()[2]
    images = [sample, None, sample, sample, np.zeros((28, 28), np.float32), sample]
    levels = [0.5, 0.5, "loud", 2.0, 0.5, 0.25]
    batched = service.denoise_digits(images, levels)
    assert [isinstance(r, InputError) for r in batched] == [False, True, True, True, True, False]
    for i in (1, 2, 3, 4):
        assert str(batched[i]) == error_of(service.denoise_digit, images[i], levels[i])
    for i in (0, 5):
        np.testing.assert_allclose(batched[i].denoised, service.denoise_digit(images[i], levels[i]).denoised, atol=1e-5)


def test_denoise_digits_needs_one_level_per_image(service):
    with pytest.raises(ValueError, match="noise levels"):
        service.denoise_digits([None, None], [0.5])


@pytest.mark.parametrize("name", ["rnn", "transformer"])
def test_sentiments_equal_one_by_one_and_bad_texts_stay_apart(service, name):
    texts = [TEXTS[0], BAD_TEXTS[0], TEXTS[1], BAD_TEXTS[1], TEXTS[2], BAD_TEXTS[2], TEXTS[3]]
    texts += [BAD_TEXTS[3], TEXTS[4], BAD_TEXTS[4], "word " * 400]  # the last one is truncated
    batched = service.sentiments(name, texts)
    assert len(batched) == len(texts)
    for text, got in zip(texts, batched, strict=True):
        if any(text is b for b in BAD_TEXTS):
            assert isinstance(got, InputError)
            assert str(got) == error_of(service.sentiment, name, text)
            continue
        want = service.sentiment(name, text)
        assert got.answer["label"] == want.answer["label"]
        assert list(got.answer["probabilities"]) == ["positive", "negative"]
        np.testing.assert_allclose(
            list(got.answer["probabilities"].values()), list(want.answer["probabilities"].values()), atol=1e-5
        )
        assert got.tokens == want.tokens
        assert got.notices == want.notices


def test_an_item_that_already_failed_is_passed_through(service):
    failed = InputError("That file is not an image this app can read.")
    sample = digit_images()[5]
    classified = service.classify_digits([failed, sample])
    assert classified[0] is failed and classified[1]["label"] == service.classify_digit(sample)["label"]
    denoised = service.denoise_digits([sample, failed], [0.5, 0.5])
    assert denoised[1] is failed and not isinstance(denoised[0], InputError)
    assert service.sentiments("rnn", [failed, TEXTS[0]])[0] is failed


def test_all_bad_and_empty_batches(service):
    assert service.classify_digits([]) == []
    assert service.sentiments("rnn", []) == []
    assert service.denoise_digits([], []) == []
    assert all(isinstance(r, InputError) for r in service.sentiments("transformer", ["", None]))


def test_sentiments_refuses_an_image_model(service):
    with pytest.raises(ValueError, match="not a text model"):
        service.sentiments("cnn", ["fine"])


def test_micro_batcher_groups_concurrent_calls_and_survives_failures():
    import threading
    import time

    from archdemo.batching import MicroBatcher

    def slow_double(xs):
        time.sleep(0.05)  # while one batch runs, the other callers queue up
        if any(x < 0 for x in xs):
            raise RuntimeError("model failed")
        return [2 * x for x in xs]

    batcher = MicroBatcher(slow_double, max_batch=8)
    results = {}
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, batcher(i))) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == {i: 2 * i for i in range(20)}
    assert max(batcher.batch_sizes) > 1 and max(batcher.batch_sizes) <= 8
    with pytest.raises(RuntimeError, match="model failed"):
        batcher(-1)
    assert batcher(3) == 6  # the worker carries on after a failed batch


def test_micro_batched_service_answers_like_the_plain_one(service):
    import threading

    from archdemo.service import ArchDemoService

    batched = ArchDemoService(device="cpu", micro_batching=True)
    sentences = [f"a {w} film" for w in ("good", "bad", "moving", "dull", "wonderful", "tedious")] * 3
    got = {}

    def ask(i):
        got[i] = batched.sentiment("transformer", sentences[i]).answer

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(sentences))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for i, sentence in enumerate(sentences):
        want = service.sentiment("transformer", sentence).answer
        assert got[i]["label"] == want["label"]
        assert got[i]["probabilities"]["positive"] == pytest.approx(want["probabilities"]["positive"], abs=1e-5)
    with pytest.raises(InputError):
        batched.sentiment("rnn", "")  # bad input still fails only its own request, before batching
