"""Preprocessing: drawings and uploads become MNIST-style digits; typed text becomes SST-2 tokens."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from archdemo.errors import InputError
from archdemo.inputs import images as P
from archdemo.inputs import words as T
from archdemo.paths import SAMPLE_DIGITS


def stroke_image(h: int, w: int, background: float, ink: float) -> np.ndarray:
    """A '1'-like vertical bar with a foot, drawn off-centre on an h x w canvas."""
    a = np.full((h, w), background, np.float32)
    a[h // 8 : h // 2, w // 6 : w // 6 + max(2, w // 20)] = ink
    a[h // 2 - max(2, h // 30) : h // 2, w // 8 : w // 4] = ink
    return a


@pytest.mark.parametrize("h,w", [(28, 28), (280, 280), (600, 200), (50, 900)])
def test_any_size_becomes_centred_28x28(h, w):
    out = P.prepare_digit((stroke_image(h, w, 0.0, 1.0) * 255).astype(np.uint8))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    ys, xs = np.nonzero(out > 0.05)
    assert ys.max() - ys.min() + 1 <= 21 and xs.max() - xs.min() + 1 <= 21  # fits the 20x20 box
    mass = out / out.sum()
    cy, cx = (mass.sum(1) * np.arange(28)).sum(), (mass.sum(0) * np.arange(28)).sum()
    assert abs(cy - 13.5) < 1.0 and abs(cx - 13.5) < 1.0  # centred by mass, as MNIST


def test_polarity_and_transparency_give_the_same_digit():
    white_on_black = (stroke_image(200, 200, 0.0, 1.0) * 255).astype(np.uint8)
    black_on_white = 255 - white_on_black
    rgba = np.zeros((200, 200, 4), np.uint8)  # black strokes on a transparent canvas (the sketchpad)
    rgba[..., 3] = white_on_black
    rgb = np.repeat(black_on_white[..., None], 3, axis=2)
    ref = P.prepare_digit(white_on_black)
    for other in (black_on_white, rgba, rgb, Image.fromarray(rgba)):
        np.testing.assert_allclose(P.prepare_digit(other), ref, atol=0.02)


def test_mnist_digit_survives_preprocessing_nearly_unchanged():
    digit = np.asarray(Image.open(SAMPLE_DIGITS / "3.png"))
    out = P.prepare_digit(digit)
    assert np.abs(out - digit / 255.0).mean() < 0.08


@pytest.mark.parametrize(
    "image,message",
    [
        (None, "No image"),
        (np.zeros((280, 280, 4), np.uint8), "blank"),
        (np.zeros((100, 100), np.uint8), "blank"),
        (np.full((100, 100), 255, np.uint8), "blank"),
        (np.full((50, 50, 3), 128, np.uint8), "blank"),
        (np.zeros((3, 3, 7), np.uint8), "channels"),
        (np.full((10, 10), np.nan, np.float32), "NaN"),
        ("not an image", "Expected an image"),
    ],
)
def test_bad_images_get_clear_messages(image, message):
    with pytest.raises(InputError, match=message):
        P.prepare_digit(image)


def test_huge_image_is_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("L", (10_000, 10_000)).save(path)
    with pytest.raises(InputError, match="10000x10000"):
        P.load_image_file(str(path))


def test_non_image_and_truncated_files_are_refused(tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"%PDF-1.4 not an image at all")
    with pytest.raises(InputError, match="not an image"):
        P.load_image_file(str(fake))
    buf = io.BytesIO()
    Image.fromarray((stroke_image(200, 200, 0, 1) * 255).astype(np.uint8)).save(buf, "PNG")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(InputError, match="truncated or corrupt"):
        P.load_image_file(str(truncated))


@pytest.mark.parametrize(
    "typed,sst",
    [
        ("It's not bad, I'd say!", "it 's not bad , i 'd say !"),
        ("I don't like it. Can't stand it…", "i do n't like it . ca n't stand it ..."),
        ("The movie wasn\u2019t GREAT -- but OK", "the movie was n't great -- but ok"),
        ('She called it "a triumph" (really).', "she called it `` a triumph '' ( really ) ."),
        ("They've won; we'll see.", "they 've won ; we 'll see ."),
        ("An élan of pure joy", "an élan of pure joy"),
    ],
)
def test_typed_text_becomes_sst2_form(typed, sst):
    assert T.tokenize(typed) == sst.split()


def test_sst2_text_is_left_alone():
    sst = "if you 've ever entertained the notion of doing what the title of this film implies , it 's fine ."
    assert T.tokenize(sst) == sst.split()


def test_tokenizer_truncates_with_count_and_adds_cls():
    tok = T.Tokenizer(["[PAD]", "[UNK]", "[CLS]", "good"], unk_id=1, max_len=5, cls_id=2)
    enc = tok.encode("good good zebra good good good")
    assert enc.ids == [2, 3, 3, 1, 3] and enc.tokens[0] == "[CLS]"
    assert enc.truncated == 2 and enc.unknown == 1


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("x" * 100_000, "100,000 characters"),
        ("😀🎉🔥", "no words"),
        (42, "Expected text"),
    ],
)
def test_bad_text_gets_clear_messages(text, message):
    tok = T.Tokenizer(["[PAD]", "[UNK]"], unk_id=1, max_len=8)
    with pytest.raises(InputError, match=message):
        tok.encode(text)


def test_control_characters_and_other_scripts_do_not_break_the_tokenizer():
    toks = T.tokenize("good\x00movie\u200b \u202eevil\u202c 映画 فيلم")
    assert "good" in toks and "movie" in toks and "映画" in toks
    assert all(t.strip() and "\x00" not in t for t in toks)


@pytest.mark.parametrize("kind", P.NOISE_KINDS)
def test_noise_is_clipped_seeded_and_scaled(kind):
    clean = np.random.default_rng(1).random((4, 28, 28)).astype(np.float32)
    a = P.add_noise(clean, kind, 0.3, np.random.default_rng(0))
    b = P.add_noise(clean, kind, 0.3, np.random.default_rng(0))
    assert a.shape == clean.shape and a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(P.add_noise(clean, kind, 0.0, np.random.default_rng(0)), clean)
    assert np.abs(P.add_noise(clean, kind, 0.6, np.random.default_rng(0)) - clean).mean() > np.abs(a - clean).mean()


@pytest.mark.parametrize("level", [float("nan"), -0.1, 1.5, "0.5", None])
def test_bad_noise_levels_are_refused(level):
    with pytest.raises(InputError, match="noise level"):
        P.add_noise(np.zeros((28, 28)), "gaussian", level, np.random.default_rng(0))


def test_psnr():
    a = np.zeros((28, 28))
    assert P.psnr(a, a) == 100.0
    assert P.psnr(a, np.full((28, 28), 0.1)) == pytest.approx(20.0)
