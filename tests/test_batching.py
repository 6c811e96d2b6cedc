"""Micro-batched answers are exactly the one-at-a-time answers, request by request.

Batched serving runs the model once for many concurrent requests (``Answers(store, micro_batching=True)``,
the path the API endpoints take); these tests hold it to the per-request path (the reference, the
unbatched ``answers`` fixture): same labels and probabilities (to float rounding), and a bad request gets
its own ``InputError`` (the same message as alone) while every other request in the batch is still answered.

To make the sharing certain rather than likely, the batched store's models sit behind a gate: the
first request's batch is held inside the model until every other request has either failed on its own
(bad input, before batching) or is waiting in the batcher's queue; the gate then opens and all the
waiting requests run as one batch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest
import torch
from PIL import Image

from archdemo.errors import InputError
from archdemo.paths import SAMPLE_DIGITS
from archdemo.runtime.batching import RECENT_BATCHES, MicroBatcher
from archdemo.serving.answers import Answers
from archdemo.settings import Settings
from archdemo.tasks.sentences import read_sentence, sentiment_batch
from archdemo.weights.store import ModelStore

DIGITS = SAMPLE_DIGITS
TEXTS = [
    "An absolute delight from start to finish.",
    "Tedious, ugly and far too long.",
    "It's not bad at all, though the second half drags and the jokes don't land as often as they should.",
    "meh",
    "A quietly moving film whose small moments add up to something rare: a comedy with a heart.",
]
BAD_TEXTS = ["", "😀🎉", None, 42, "x" * 100_000]
USED = ("cnn", "autoencoder", "rnn", "transformer")  # the models these tests send requests to


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def digit_images() -> list:
    """The ten sample digits, as PIL images and as arrays, white-on-black and black-on-white."""
    images: list = [Image.open(DIGITS / f"{d}.png") for d in range(10)]
    images += [255 - np.asarray(Image.open(DIGITS / f"{d}.png").convert("L")) for d in (1, 4, 8)]
    return images


# ---------------------------------------------------------------- the batched path, held to one shared batch


class Gated(torch.nn.Module):
    """Wraps a model; a forward waits for ``gate`` to open, so requests queue up behind the first batch."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner, self.config = inner, inner.config
        self.entered, self.gate = threading.Event(), threading.Event()
        self.gate.set()

    def forward(self, *args, **kwargs):
        self.entered.set()
        assert self.gate.wait(timeout=60), "the test never opened the gate"
        return self.inner(*args, **kwargs)


@pytest.fixture(scope="module")
def batched(store) -> Answers:
    """The API's micro-batched answers over a private store: the shared store's models, each behind a gate."""
    gated = ModelStore(Settings(device="cpu"))
    gated._models.update({name: Gated(store.get(name)) for name in USED})
    return Answers(gated, micro_batching=True)


def concurrently(batched: Answers, name: str, calls: list[Callable[[], object]]) -> tuple[list, list[int]]:
    """calls[0] (a good request) until its batch is inside model ``name``, then all the others at once.

    -> per call, its result or the exception it raised; and the sizes of the batches this ran.
    """
    model, batcher = batched.store.get(name), batched.batchers[name]
    runs_before = batcher.batches
    model.gate.clear()
    model.entered.clear()
    out: list = [None] * len(calls)
    finished: list[int] = []

    def run(i: int) -> None:
        try:
            out[i] = calls[i]()
        except Exception as e:  # noqa: BLE001 - the test looks at each request's own outcome
            out[i] = e
        finally:
            finished.append(i)

    first = threading.Thread(target=run, args=(0,))
    first.start()
    try:
        assert model.entered.wait(timeout=60), "the first request never reached the model"
        others = [threading.Thread(target=run, args=(i,)) for i in range(1, len(calls))]
        for t in others:
            t.start()
        deadline = time.monotonic() + 60
        # Every other request has failed on its own thread, or waits in the queue for the next batch.
        while batcher._queue.qsize() + len(finished) < len(others):
            assert time.monotonic() < deadline, "the requests never queued up"
            time.sleep(0.01)
    finally:
        model.gate.set()
    for t in (first, *others):
        t.join(timeout=60)
    assert sorted(finished) == list(range(len(calls)))
    sizes = batcher.batch_sizes  # the recent ones: this run's are the last (batches - runs_before)
    return out, sizes[len(sizes) - (batcher.batches - runs_before) :]


def shared_one_batch(sizes: list[int], good: int) -> None:
    """The first good request ran alone; all the other good ones shared the next batch."""
    assert sizes == ([1, good - 1] if good > 1 else [1]), sizes


def same_answer(got: dict, want: dict) -> None:
    assert got["label"] == want["label"]
    assert list(got["probabilities"]) == list(want["probabilities"])
    np.testing.assert_allclose(list(got["probabilities"].values()), list(want["probabilities"].values()), atol=1e-5)


# ---------------------------------------------------------------- CNN


def test_batched_classify_digit_equals_one_by_one(batched, answers):
    images = digit_images()
    got, sizes = concurrently(batched, "cnn", [lambda im=im: batched.classify_digit(im) for im in images])
    shared_one_batch(sizes, len(images))
    for image, answer in zip(images, got, strict=True):
        same_answer(answer, answers.classify_digit(image))


def test_one_bad_image_does_not_spoil_the_batch(batched, answers):
    good = digit_images()[:4]
    bad = [None, np.zeros((64, 64), np.uint8), np.zeros((2, 3, 5, 7)), np.full((20, 20), np.nan)]
    images = [good[0], bad[0], good[1], bad[1], bad[2], good[2], bad[3], good[3]]
    got, sizes = concurrently(batched, "cnn", [lambda im=im: batched.classify_digit(im) for im in images])
    shared_one_batch(sizes, len(good))
    for image, answer in zip(images, got, strict=True):
        if any(image is b for b in bad):
            assert isinstance(answer, InputError)
            assert str(answer) == error_of(answers.classify_digit, image)
        else:
            same_answer(answer, answers.classify_digit(image))


# ---------------------------------------------------------------- autoencoder


@pytest.mark.parametrize("kind", ["gaussian", "salt_pepper"])
def test_batched_denoise_digit_equals_one_by_one(batched, answers, kind):
    images = digit_images()[:6]
    levels = [0.0, 0.1, 0.3, 0.5, 0.8, 1.0]
    calls = [
        lambda im=im, lv=lv: batched.denoise_digit(im, lv, kind=kind, seed=3)
        for im, lv in zip(images, levels, strict=True)
    ]
    got, sizes = concurrently(batched, "autoencoder", calls)
    shared_one_batch(sizes, len(images))
    for image, level, (clean, noisy, denoised, metrics) in zip(images, levels, got, strict=True):
        want_clean, want_noisy, want_denoised, want_metrics = answers.denoise_digit(image, level, kind=kind, seed=3)
        np.testing.assert_array_equal(clean, want_clean)
        np.testing.assert_array_equal(noisy, want_noisy)
        np.testing.assert_allclose(denoised, want_denoised, atol=1e-5)
        for key in ("psnr_noisy", "psnr_denoised"):
            assert metrics[key] == pytest.approx(want_metrics[key], abs=0.011)


def test_one_bad_denoise_request_does_not_spoil_the_batch(batched, answers):
    sample = digit_images()[2]
    images = [sample, None, sample, sample, np.zeros((28, 28), np.float32), sample]
    levels = [0.5, 0.5, "loud", 2.0, 0.5, 0.25]
    calls = [lambda im=im, lv=lv: batched.denoise_digit(im, lv) for im, lv in zip(images, levels, strict=True)]
    got, sizes = concurrently(batched, "autoencoder", calls)
    assert [isinstance(r, InputError) for r in got] == [False, True, True, True, True, False]
    shared_one_batch(sizes, 2)
    for i in (1, 2, 3, 4):
        assert str(got[i]) == error_of(answers.denoise_digit, images[i], levels[i])
    for i in (0, 5):
        np.testing.assert_allclose(got[i][2], answers.denoise_digit(images[i], levels[i])[2], atol=1e-5)


# ---------------------------------------------------------------- text


@pytest.mark.parametrize("name", ["rnn", "transformer"])
def test_batched_sentiments_equal_one_by_one_and_bad_texts_stay_apart(batched, answers, store, name):
    texts = [TEXTS[0], BAD_TEXTS[0], TEXTS[1], BAD_TEXTS[1], TEXTS[2], BAD_TEXTS[2], TEXTS[3]]
    texts += [BAD_TEXTS[3], TEXTS[4], BAD_TEXTS[4], "word " * 400]  # the last one is truncated
    got, sizes = concurrently(batched, name, [lambda t=t: batched.sentiment(name, t) for t in texts])
    assert len(got) == len(texts)
    shared_one_batch(sizes, len(TEXTS) + 1)
    for text, answer in zip(texts, got, strict=True):
        if any(text is b for b in BAD_TEXTS):
            assert isinstance(answer, InputError)
            assert str(answer) == error_of(answers.sentiment, name, text)
            assert str(answer) == error_of(read_sentence, store, name, text)  # the tab says the same
            continue
        assert list(answer["probabilities"]) == store.get(name).config.labels  # the config's label order
        same_answer(answer, answers.sentiment(name, text))
        same_answer(answer, read_sentence(store, name, text).answer)  # and what the tab shows


def test_all_bad_requests_fail_alone_and_run_no_batch(batched):
    runs_before = {name: b.batches for name, b in batched.batchers.items()}
    errors: list = []

    def ask(call: Callable[[], object]) -> None:
        try:
            call()
        except InputError as e:
            errors.append(e)

    calls = [
        lambda: batched.sentiment("transformer", ""),
        lambda: batched.sentiment("transformer", None),
        lambda: batched.sentiment("rnn", "😀🎉"),
        lambda: batched.classify_digit(None),
        lambda: batched.denoise_digit(digit_images()[0], "loud"),
    ]
    threads = [threading.Thread(target=ask, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(errors) == len(calls)
    assert {name: b.batches for name, b in batched.batchers.items()} == runs_before


def test_sentiment_refuses_an_image_model(batched, answers, store):
    for api in (batched, answers):
        with pytest.raises(ValueError, match="not a text model"):
            api.sentiment("cnn", "fine")
    with pytest.raises(ValueError, match="not a text model"):
        sentiment_batch(store, "cnn", [[1, 2]])
    with pytest.raises(ValueError, match="not a text model"):
        read_sentence(store, "autoencoder", "fine")


# ---------------------------------------------------------------- the batcher itself


def test_micro_batcher_groups_concurrent_calls_and_survives_failures():
    from archdemo.runtime.batching import MicroBatcher

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


def test_micro_batched_answers_equal_the_plain_ones(store, answers):
    """The app's own wiring, ungated: Answers(store, micro_batching=True) over the shared store."""
    micro = Answers(store, micro_batching=True)
    sentences = [f"a {w} film" for w in ("good", "bad", "moving", "dull", "wonderful", "tedious")] * 3
    got = {}

    def ask(i):
        got[i] = micro.sentiment("transformer", sentences[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(sentences))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for i, sentence in enumerate(sentences):
        want = answers.sentiment("transformer", sentence)
        assert got[i]["label"] == want["label"]
        assert got[i]["probabilities"]["positive"] == pytest.approx(want["probabilities"]["positive"], abs=1e-5)
    assert sum(micro.batchers["transformer"].batch_sizes) == len(sentences)  # every request went through the batcher
    with pytest.raises(InputError):
        micro.sentiment("rnn", "")  # bad input still fails only its own request, before batching


def test_the_bookkeeping_stays_the_same_size_however_long_it_serves():
    batcher = MicroBatcher(lambda xs: xs, name="counted")
    for i in range(RECENT_BATCHES + 500):
        assert batcher(i) == i
    assert len(batcher.batch_sizes) == RECENT_BATCHES  # the recent sizes, not one entry per batch forever
    assert batcher.batches == RECENT_BATCHES + 500 and batcher.items == RECENT_BATCHES + 500
