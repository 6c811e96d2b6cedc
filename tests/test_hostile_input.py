"""Hostile input at the task level, through exactly the calls the public API and the tabs make.

Uploaded files go through ``image_processing.load_image_file`` and then ``Answers.classify_digit`` or
``Answers.denoise_digit`` or ``Answers.digit_anomaly`` (what ui/api.py's ``_load`` and endpoints do); text
goes to ``Answers.sentiment``. The tabs hand the same input to ``digits.classify_digit``,
``digits.denoise_digit``, ``anomaly.digit_anomaly`` and ``sentiment.read_sentence``, and every case goes
both ways. Every bad input must come back as an ``InputError`` whose message is a plain sentence a user
can act on, or, where a sensible answer exists (a CMYK or 16-bit copy of a real digit, Hebrew text, text
with null bytes that still has words), as a valid answer, the same both ways. After each one the models
must still answer a good input.

Models whose bundled weights are missing or do not load (they may be in training) are replaced by
seeded random models in a private model store, so this file runs either way; answers that need a
trained model (the CMYK copy of a 3 is read as "3") are only checked when the real weights load.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from archdemo.errors import InputError
from archdemo.inputs.images import load_image_file, prepare_digit
from archdemo.paths import SAMPLE_DIGITS
from archdemo.serving.answers import Answers
from archdemo.settings import Settings
from archdemo.tasks import anomaly as A
from archdemo.tasks import digits as D
from archdemo.tasks.sentences import SentimentReading, read_sentence
from archdemo.weights.hub import WeightsError, load_config
from archdemo.weights.registry import DIGIT_MODELS, MODELS, TEXT_MODELS
from archdemo.weights.store import ModelStore

DIGITS = SAMPLE_DIGITS  # MNIST test digits, white on black
GOOD_TEXT = "A wonderful, moving and beautifully acted film."


# ---------------------------------------------------------------- the models under test


@dataclass
class Served:
    store: ModelStore  # what the tabs call the tasks with
    answers: Answers  # what the API calls
    real: frozenset[str]  # the models answering with their real trained weights


def _stand_in(name: str) -> torch.nn.Module:
    """A seeded random model of the right architecture (the real vocabulary for the text models)."""
    spec = MODELS[name]
    try:
        config = load_config(name) if name in TEXT_MODELS else spec.config_cls()
    except WeightsError:
        config = spec.config_cls()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return spec.model_cls(config).eval()


@pytest.fixture(scope="module")
def served(request) -> Served:
    shared = request.getfixturevalue("store")
    missing = []
    for name in MODELS:
        try:
            shared.get(name)
        except WeightsError:
            missing.append(name)
    if not missing:
        return Served(shared, Answers(shared), frozenset(MODELS))
    store = ModelStore(Settings(device="cpu"))  # private: random models must not leak into other test files
    for name in missing:
        store._models[name] = _stand_in(name)
    return Served(store, Answers(store), frozenset(set(MODELS) - set(missing)))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("uploads")


# ---------------------------------------------------------------- inputs


@cache
def digit(d: int) -> np.ndarray:
    return np.asarray(Image.open(DIGITS / f"{d}.png"))


def saved(name: str, image: Callable[[], Image.Image], **save) -> Callable[[Path], Path]:
    """A maker: writes ``image()`` to ``folder/name`` once (both image tasks share the file)."""

    def make(folder: Path) -> Path:
        path = folder / name
        if not path.exists():
            image().save(path, **save)
        return path

    return make


def raw(name: str, data: Callable[[], bytes]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        if not path.exists():
            path.write_bytes(data())
        return path

    return make


def value(v: object) -> Callable[[Path], object]:
    return lambda folder: v


def encoded(image: Image.Image, fmt: str, **save) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **save)
    return buf.getvalue()


def big_digit(d: int) -> Image.Image:
    return Image.fromarray(digit(d)).resize((280, 280))


def first_half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming width x height, with a few bytes of pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def palette_with_transparency(d: int) -> Image.Image:
    """The digit as a palette image whose black (the background) is the transparent colour."""
    img = Image.fromarray(digit(d)).convert("P")  # L -> P keeps grey g at palette index g
    img.info["transparency"] = 0
    return img


def stroke_5000x1() -> Image.Image:
    a = np.zeros((1, 5000), np.uint8)
    a[0, 1500:3500] = 255
    return Image.fromarray(a)


def first_frame_2_then_8(fmt: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / f"animated-2-then-8.{fmt.lower()}"
        if not path.exists():
            frames = [Image.fromarray(digit(2)), Image.fromarray(digit(8))]
            frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
        return path

    return make


def mpo(d: int) -> Callable[[Path], Path]:
    """A multi-picture JPEG, as phone cameras write them (Pillow opens these as format "MPO")."""

    def make(folder: Path) -> Path:
        path = folder / "phone-photo.jpg"
        if not path.exists():
            rgb = Image.fromarray(digit(d)).convert("RGB")
            rgb.save(path, "MPO", save_all=True, append_images=[rgb.resize((14, 14))], quality=95)
        return path

    return make


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[Path], object]  # a Path: uploaded through load_image_file, like the API; else passed as is
    error: str | None = None  # a phrase the InputError's message must contain; None: a valid answer
    bug: str | None = None  # a known bug in the project: the case is xfail(strict) with this reason


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><text x="8" y="20">3</text></svg>'

IMAGE_CASES = [
    # blank drawings and uploads
    Case("transparent-png", saved("transparent.png", lambda: Image.new("RGBA", (280, 280), (0, 0, 0, 0))), "blank"),
    Case("transparent-sketch", value(np.zeros((280, 280, 4), np.uint8)), "blank"),
    Case("all-black-png", saved("black.png", lambda: Image.new("L", (280, 280), 0)), "blank"),
    Case("all-white-png", saved("white.png", lambda: Image.new("RGB", (280, 280), "white")), "blank"),
    Case("all-grey-jpeg", saved("grey.jpg", lambda: Image.new("RGB", (200, 200), (128, 128, 128))), "blank"),
    Case("1x1-black-png", saved("1x1-black.png", lambda: Image.new("L", (1, 1), 0)), "blank"),
    Case("1x1-white-png", saved("1x1-white.png", lambda: Image.new("L", (1, 1), 255)), "blank"),
    Case("1x5000-blank-png", saved("1x5000.png", lambda: Image.new("L", (1, 5000), 255)), "blank"),
    Case("5000x1-stroke-png", saved("5000x1-stroke.png", stroke_5000x1)),
    # too big
    Case("10000x10000-png", saved("10000x10000.png", lambda: Image.new("L", (10_000, 10_000))), "10000x10000"),
    Case("20000x20000-header-png", raw("bomb.png", lambda: png_header_only(20_000, 20_000)), "too large"),
    Case("1x9000-header-png", raw("1x9000.png", lambda: png_header_only(1, 9000)), "smaller image"),
    # real digits in other modes and formats: a valid answer
    Case("16bit-png", saved("7-16bit.png", lambda: Image.fromarray(digit(7).astype(np.uint16) * 257))),
    Case("cmyk-jpeg", saved("3-cmyk.jpg", lambda: Image.fromarray(digit(3)).convert("CMYK"), quality=95)),
    Case("palette-png", saved("5-palette.png", lambda: Image.fromarray(digit(5)).convert("P"))),
    Case("palette-transparent-png", saved("5-palette-t.png", lambda: palette_with_transparency(5), transparency=0)),
    Case("palette-transparent-gif", saved("4-palette-t.gif", lambda: palette_with_transparency(4), transparency=0)),
    Case("animated-gif", first_frame_2_then_8("GIF")),
    Case("animated-png", first_frame_2_then_8("PNG")),
    Case("rgba-cutout-png", saved("0-cutout.png", lambda: Image.fromarray(np.dstack([digit(0)] * 4)))),
    Case("1bit-png", saved("6-1bit.png", lambda: Image.fromarray(digit(6)).convert("1"))),
    Case("webp-lossless", saved("9-lossless.webp", lambda: Image.fromarray(digit(9)), lossless=True)),
    Case("phone-mpo-jpeg", mpo(1)),
    # broken files, and files that are not images at all
    Case("float-tiff-nan", saved("nan.tif", lambda: Image.fromarray(np.full((28, 28), np.nan, np.float32))), "NaN"),
    Case("truncated-png", raw("cut.png", lambda: first_half(encoded(big_digit(3), "PNG"))), "truncated or corrupt"),
    Case("truncated-jpeg", raw("cut.jpg", lambda: first_half(encoded(big_digit(3), "JPEG"))), "truncated or corrupt"),
    Case("png-signature-only", raw("signature.png", lambda: b"\x89PNG\r\n\x1a\n"), "not an image"),
    Case("text-as-png", raw("notes.png", lambda: b"just some text, not a picture\n"), "not an image"),
    Case("pdf-as-png", raw("doc.png", lambda: PDF), "not an image"),
    Case("zero-bytes-png", raw("empty.png", lambda: b""), "not an image"),
    Case("random-bytes-png", raw("noise.png", lambda: np.random.default_rng(0).bytes(4096)), "not an image"),
    Case("svg-as-png", raw("drawing.png", lambda: SVG), "not an image"),
    Case("ico-as-png", saved("icon.png", lambda: Image.fromarray(digit(3)), format="ICO"), "ICO images are not"),
    Case("missing-file", lambda folder: folder / "never-uploaded.png", "could not be found"),
    Case("a-folder", lambda folder: folder, "not an image"),
    # what a client could hand the tasks directly
    Case("none", value(None), "No image"),
    Case("inf-array", value(np.full((28, 28), np.inf)), "NaN or infinite"),
    Case("int", value(42), "Expected an image"),
    Case("list", value([[0, 255], [255, 0]]), "Expected an image"),
    Case("dict", value({"composite": None, "layers": []}), "Expected an image"),
    Case("bytes", value(encoded(Image.fromarray(digit(3)), "PNG")), "Expected an image"),
]

NOISE_CASES = [
    Case("nan", value(float("nan")), "from 0 to 1"),
    Case("inf", value(float("inf")), "from 0 to 1"),
    Case("-inf", value(float("-inf")), "from 0 to 1"),
    Case("negative", value(-0.5), "from 0 to 1"),
    Case("above-1", value(1.5), "from 0 to 1"),
    Case("string", value("0.5"), "must be a number"),
    Case("bool", value(True), "must be a number"),
    Case("list", value([0.5]), "must be a number"),
    Case("none", value(None), "noise level"),
    Case("huge-int", value(10**400), "noise level"),
    Case("numpy-float32", value(np.float32(0.5))),
    Case("zero", value(0)),
    Case("one", value(1.0)),
]

TEXT_CASES = [
    Case("empty", value(""), "empty"),
    Case("whitespace", value("   \n\t \u3000 "), "empty"),
    Case("100000-chars", value("x" * 100_000), "100,000 characters"),
    Case("5001-chars", value("good " * 1000 + "!"), "limit is 5,000"),
    Case("emoji-only", value("😀🎉🔥👍🏽"), "no words"),
    Case("control-chars-only", value("\x00\x01\x02\x7f"), "no words"),
    Case("zero-width-only", value("\u200b\u200d\ufeff"), "no words"),
    Case("arabic", value("هذا الفيلم رائع جدا")),
    Case("hebrew", value("הסרט הזה נהדר")),
    Case("rtl-override", value("\u202egood film, great acting\u202c")),
    Case("mixed-direction", value("a great film \u05d8\u05d5\u05d1 \u0645\u0645\u062a\u0627\u0632")),
    Case("control-chars", value("a \x07great\x1b[31m film\x7f, \x08truly")),
    Case("null-bytes", value("good\x00movie\x00 with\x00 fine acting")),
    Case("lone-surrogate", value("good \ud800 movie")),
    Case("nfkc-expanding", value("\ufdfa" * 5000)),  # 5,000 characters that NFKC turns into 90,000
    Case("combining-marks", value("A" + "\u0301" * 4000)),
    Case("int", value(42), "Expected text"),
    Case("list", value(["good", "movie"]), "Expected text"),
    Case("dict", value({"text": "good movie"}), "Expected text"),
    Case("bytes", value(b"good movie"), "Expected text"),
    Case("none", value(None), "text"),
]


def _matrix() -> list:
    rows = [(task, c) for task in ("classify", "readers", "denoise", "anomaly") for c in IMAGE_CASES]
    rows += [("noise-level", c) for c in NOISE_CASES]
    rows += [(name, c) for name in TEXT_MODELS for c in TEXT_CASES]
    return [
        pytest.param(
            task,
            case,
            id=f"{task}-{case.id}",
            marks=[pytest.mark.xfail(strict=False, reason=case.bug)] if case.bug else [],
        )
        for task, case in rows
    ]


# ---------------------------------------------------------------- checks


PATHS = ("api", "tab")


def call(served: Served, task: str, path: str, given: object):
    """``given`` as the API ("api": ``Answers``) or a tab ("tab": the task functions) hands it over."""
    api, store = path == "api", served.store
    if task in ("classify", "readers", "denoise", "anomaly"):
        image = load_image_file(str(given)) if isinstance(given, Path) else given  # ui/api.py's _load
        if task == "readers":  # every digit reader: its own endpoint, and the CNN tab's row at pen-up
            if api:
                return {name: served.answers.classify_digit(image, name) for name in DIGIT_MODELS}
            return D.read_every_reader(store, prepare_digit(image))
        if task == "classify":
            return served.answers.classify_digit(image) if api else D.classify_digit(store, image)
        if task == "anomaly":
            return served.answers.digit_anomaly(image) if api else A.digit_anomaly(store, image)
        return served.answers.denoise_digit(image, 0.5) if api else D.denoise_digit(store, image, 0.5)
    if task == "noise-level":
        image = load_image_file(str(DIGITS / "4.png"))
        return served.answers.denoise_digit(image, given) if api else D.denoise_digit(store, image, given)
    return served.answers.sentiment(task, given) if api else read_sentence(store, task, given)


PYTHON_NOISE = re.compile(
    r"Traceback|File \"|NoneType|<\w|object at 0x|\w+(Error|Exception)\b|array\(|dtype|np\.|"
    r"\\x[0-9a-f]{2}|\\u[0-9a-f]{4}"
)


def assert_clear_sentence(message: str, phrase: str, folder: Path) -> None:
    assert phrase.lower() in message.lower(), message
    assert not PYTHON_NOISE.search(message), message
    assert message[:1].isupper() and message.endswith("."), message
    assert "\n" not in message and len(message) <= 300, message
    assert str(folder) not in message, message  # server paths stay on the server


def assert_valid_label_answer(answer: dict, labels: list[str]) -> None:
    """The API's shape: {"label": ..., "probabilities": {label: p}}, labels in the model's config order."""
    assert set(answer) == {"label", "probabilities"}
    probs = answer["probabilities"]
    assert list(probs) == labels
    assert all(np.isfinite(p) and 0.0 <= p <= 1.0 for p in probs.values())
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-4)
    assert answer["label"] == max(probs, key=probs.get)


def assert_same_label_answer(api: dict, tab: dict) -> None:
    assert api["label"] == tab["label"] and list(api["probabilities"]) == list(tab["probabilities"])
    np.testing.assert_allclose(list(api["probabilities"].values()), list(tab["probabilities"].values()), atol=1e-5)


def assert_valid_answer(served: Served, task: str, api: object, tab: object) -> None:
    """Both ways' answers are valid, and they agree."""
    if task == "classify":
        assert_valid_label_answer(api, [str(d) for d in range(10)])
        assert isinstance(tab, D.DigitReading)
        assert_valid_label_answer(tab.answer, [str(d) for d in range(10)])
        assert tab.digit.shape == tab.cam.shape == (28, 28)
        assert np.isfinite(tab.digit).all() and np.isfinite(tab.cam).all()
        assert_same_label_answer(api, tab.answer)
    elif task == "readers":
        assert isinstance(tab, D.EveryReader) and list(api) == list(DIGIT_MODELS)
        tabs = {"cnn": tab.cnn.answer, **{r.name: r.answer for r in tab.others}}
        for name in DIGIT_MODELS:
            assert_valid_label_answer(api[name], [str(d) for d in range(10)])
            assert_same_label_answer(api[name], tabs[name])
        assert all(np.isfinite(r.inside).all() for r in tab.others)
    elif task in ("denoise", "noise-level"):
        assert isinstance(api, tuple) and len(api) == 4
        assert isinstance(tab, D.DenoiseReading)
        for clean, noisy, denoised, metrics in (api, (tab.clean, tab.noisy, tab.denoised, tab.metrics)):
            for a in (clean, noisy, denoised):
                assert a.shape == (28, 28) and np.isfinite(a).all() and a.min() >= 0.0 and a.max() <= 1.0
            assert set(metrics) == {"psnr_noisy", "psnr_denoised"}
            assert all(np.isfinite(v) for v in metrics.values())
        np.testing.assert_array_equal(api[0], tab.clean)
        np.testing.assert_array_equal(api[1], tab.noisy)
        np.testing.assert_allclose(api[2], tab.denoised, atol=1e-5)
        assert np.isfinite(tab.code).all()
    elif task == "anomaly":
        assert set(api) == {"score", "percentile", "unusual"} and isinstance(tab, A.AnomalyReading)
        assert np.isfinite(api["score"]) and 0.0 <= api["percentile"] <= 100.0 and isinstance(api["unusual"], bool)
        assert tab.score == pytest.approx(api["score"], rel=1e-4) and tab.unusual == api["unusual"]
        assert tab.digit28.shape == tab.rebuilt28.shape == (28, 28) and np.isfinite(tab.rebuilt28).all()
    else:
        labels = served.store.get(task).config.labels
        assert set(labels) == {"positive", "negative"}
        assert_valid_label_answer(api, labels)
        assert isinstance(tab, SentimentReading)
        assert_valid_label_answer(tab.answer, labels)
        assert_same_label_answer(api, tab.answer)
        assert tab.tokens and all(t.strip() and "\x00" not in t for t in tab.tokens)
        assert tab.tokens[tab.words]  # at least one of the visitor's words was read
        assert all(isinstance(n, str) for n in tab.notices)


def assert_still_serving(served: Served, task: str) -> None:
    if task == "classify":
        api, tab = served.answers.classify_digit(digit(7)), D.classify_digit(served.store, digit(7))
        assert_valid_answer(served, task, api, tab)
        if "cnn" in served.real:
            assert api["label"] == tab.answer["label"] == "7"
    elif task == "readers":
        api = {name: served.answers.classify_digit(digit(7), name) for name in DIGIT_MODELS}
        assert_valid_answer(served, task, api, D.read_every_reader(served.store, prepare_digit(digit(7))))
    elif task in ("denoise", "noise-level"):
        api, tab = served.answers.denoise_digit(digit(7), 0.3), D.denoise_digit(served.store, digit(7), 0.3)
        assert_valid_answer(served, task, api, tab)
    elif task == "anomaly":
        api, tab = served.answers.digit_anomaly(digit(7)), A.digit_anomaly(served.store, digit(7))
        assert_valid_answer(served, task, api, tab)
        if "autoencoder" in served.real:
            assert not api["unusual"] and not tab.unusual
    else:
        api, tab = served.answers.sentiment(task, GOOD_TEXT), read_sentence(served.store, task, GOOD_TEXT)
        assert_valid_answer(served, task, api, tab)
        if task in served.real:
            assert api["label"] == tab.answer["label"] == "positive"


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("task,case", _matrix())
def test_hostile_input(served, folder, task, case):
    given = case.make(folder)
    if case.error is None:
        assert_valid_answer(served, task, *(call(served, task, path, given) for path in PATHS))
    else:
        for path in PATHS:
            with pytest.raises(InputError) as info:
                call(served, task, path, given)
            assert_clear_sentence(str(info.value), case.error, folder)
    assert_still_serving(served, task)


CASES = {c.id: c for c in IMAGE_CASES}
CONVERSIONS = [  # (case, the digit it shows, how far its 28x28 may be from the plain PNG's (mean abs))
    ("16bit-png", 7, 0.02),
    ("cmyk-jpeg", 3, 0.02),
    ("palette-png", 5, 0.02),
    ("palette-transparent-png", 5, 0.02),
    ("palette-transparent-gif", 4, 0.02),
    ("animated-gif", 2, 0.02),
    ("animated-png", 2, 0.02),
    ("rgba-cutout-png", 0, 0.02),
    ("1bit-png", 6, 0.06),  # thresholding to 1 bit drops the antialiasing
    ("webp-lossless", 9, 0.02),
    ("phone-mpo-jpeg", 1, 0.02),
]


def _conversions(bugs: dict[str, str]) -> list:
    params = []
    for row in CONVERSIONS:
        marks = [pytest.mark.xfail(strict=False, reason=bugs[row[0]])] if row[0] in bugs else []
        params.append(pytest.param(*row, id=row[0], marks=marks))
    return params


@pytest.mark.parametrize(
    "case_id,d,tolerance",
    _conversions({}),
)
def test_converted_digit_is_the_same_digit(served, folder, case_id, d, tolerance):
    """Needs no trained model: the 28x28 the models see is the same as for the plain MNIST PNG."""
    seen = D.denoise_digit(served.store, load_image_file(str(CASES[case_id].make(folder))), 0.0).clean
    plain = D.denoise_digit(served.store, load_image_file(str(DIGITS / f"{d}.png")), 0.0).clean
    assert np.abs(seen - plain).mean() < tolerance
    if case_id.startswith("animated"):  # the first frame, not the last
        last = D.denoise_digit(served.store, digit(8), 0.0).clean
        assert np.abs(seen - last).mean() > 0.05


@pytest.mark.parametrize("case_id,d,tolerance", _conversions({}))
def test_converted_digit_gets_the_right_label(served, folder, case_id, d, tolerance):
    if "cnn" not in served.real:
        pytest.skip("the CNN's trained weights are not there (yet): a random CNN has no right answer")
    image = load_image_file(str(CASES[case_id].make(folder)))
    assert served.answers.classify_digit(image)["label"] == str(d)
    assert D.classify_digit(served.store, image).answer["label"] == str(d)


@pytest.mark.parametrize("name", TEXT_MODELS)
def test_hostile_text_does_not_change_the_answer_for_the_words(served, name):
    """Control characters, null bytes and bidi marks around words are dropped, not read as words."""
    words, hostile = "a great film with fine acting", "a\x00 great\u202e film\x07 with\u200b fine\x1b acting\x7f"
    clean, noisy = read_sentence(served.store, name, words), read_sentence(served.store, name, hostile)
    assert noisy.tokens == clean.tokens
    assert noisy.answer == clean.answer
    assert served.answers.sentiment(name, hostile) == served.answers.sentiment(name, words)
