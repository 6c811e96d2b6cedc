"""The numbers behind the "see inside" views agree with the API's answers, and every figure draws.

Small seeded random models stand in for trained ones (the explanations must be right for any
weights), put straight into the model store's cache so the real task code paths run: the tabs'
readings (``digits``, ``sentiment``) against the API's batched answers (``answers``, ``classify_batch``).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from archdemo.errors import InputError
from archdemo.models import (
    DenoisingAutoencoder,
    DenoisingAutoencoderConfig,
    DigitCNN,
    DigitCNNConfig,
    SentimentRNN,
    SentimentRNNConfig,
    SentimentTransformer,
    SentimentTransformerConfig,
)
from archdemo.plots import digits as PD
from archdemo.plots import sentences as PL
from archdemo.serving.answers import Answers
from archdemo.settings import Settings
from archdemo.tasks import digits as D
from archdemo.tasks.sentences import read_sentence
from archdemo.weights.store import ModelStore

WORDS = "the a film movie is was good bad great awful not n't but and very plot actors , . it".split()
VOCAB = ["[PAD]", "[UNK]", "[CLS]", *WORDS]
SHORT = "The film isn't good, but the actors are great."
LONG = " ".join(["the plot was very bad and the film is awful but the actors are great ."] * 20)  # 300 tokens


def make_store(pooling: str = "cls") -> ModelStore:
    torch.manual_seed(0)
    store = ModelStore(Settings(device="cpu"))
    store._models.update(
        cnn=DigitCNN(DigitCNNConfig(channels=(4, 8, 12))).eval(),
        autoencoder=DenoisingAutoencoder(DenoisingAutoencoderConfig(latent_dim=8, channels=(4, 8))).eval(),
        rnn=SentimentRNN(SentimentRNNConfig(vocab=VOCAB, embed_dim=8, hidden_size=16)).eval(),
        transformer=SentimentTransformer(
            SentimentTransformerConfig(
                vocab=VOCAB, embed_dim=8, d_model=16, num_heads=2, num_layers=2, ff_dim=32, pooling=pooling
            )
        ).eval(),
    )
    return store


@pytest.fixture(scope="module")
def store() -> ModelStore:
    return make_store()


@pytest.fixture(scope="module")
def answers(store) -> Answers:
    return Answers(store)


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a = np.zeros((28, 28), np.float32)
    a[6:22, 12:16] = 1.0  # a "1"
    b = np.clip(rng.random((28, 28), dtype=np.float32) * 0.3, 0, 1)
    b[8:20, 8:20] = 0.9
    return a, b


# ---------------------------------------------------------------- CNN


def test_feature_maps_have_each_stages_shape_and_probabilities_match_the_api(store, pair):
    ins = D.read_digit(store, pair[0])
    assert [m.shape for m in ins.feature_maps] == [(4, 14, 14), (8, 7, 7), (12, 7, 7)]
    assert ins.digit.shape == (28, 28)
    np.testing.assert_allclose(ins.probabilities, D.classify_batch(store, pair[0][None])[0], atol=1e-6)
    assert ins.answer["label"] == ins.labels[int(np.argmax(ins.probabilities))]


@pytest.mark.parametrize("which", [0, 1])
def test_cam_is_28x28_in_unit_range_and_peaks_at_one(store, pair, which):
    cam = D.read_digit(store, pair[which]).cam
    assert cam.shape == (28, 28) and cam.dtype == np.float32
    assert cam.min() >= 0.0 and cam.max() <= 1.0
    assert cam.max() == pytest.approx(1.0) or cam.max() == 0.0  # all zero only when nothing argued for the class


def test_cnn_rejects_an_unprepared_image(store):
    with pytest.raises(InputError, match="28x28"):
        D.read_digit(store, np.zeros((32, 32), np.float32))
    with pytest.raises(InputError, match="NaN"):
        D.read_digit(store, np.full((28, 28), np.nan, np.float32))


# ---------------------------------------------------------------- autoencoder


def test_autoencoder_code_is_the_encoders_output(store, pair):
    r = D.denoise_digit(store, pair[1], 0.3)
    assert r.code.shape == (8,)
    ae = store.get("autoencoder")
    with torch.inference_mode():
        expected = ae.encode(torch.as_tensor(r.noisy)[None, None])  # the code of what was denoised: the noisy digit
        np.testing.assert_allclose(r.code, expected[0].numpy(), atol=1e-6)
        np.testing.assert_allclose(r.denoised, ae.decode(expected)[0, 0].numpy(), atol=1e-6)  # rebuilt from it


def test_latent_walk_ends_at_each_digits_reconstruction(store, pair):
    a, b = pair
    walk = D.latent_walk(store, a, b, 5)
    assert walk.shape == (5, 28, 28)
    recon = D.denoise_batch(store, np.stack([a, b]))  # decode(encode(x)), as the app shows it
    np.testing.assert_allclose(walk[0], recon[0], atol=1e-5)
    np.testing.assert_allclose(walk[-1], recon[1], atol=1e-5)
    assert not np.allclose(walk[2], walk[0])  # the middle is somewhere in between


@pytest.mark.parametrize("steps", [1, 33, 2.5, True, "4"])
def test_latent_walk_validates_steps(store, pair, steps):
    with pytest.raises(InputError, match="steps"):
        D.latent_walk(store, pair[0], pair[1], steps)


# ---------------------------------------------------------------- RNN


@pytest.mark.parametrize("text", [SHORT, "awful", LONG], ids=["short", "one-word", "300-tokens"])
def test_rnn_last_belief_is_the_apis_answer(store, answers, text):
    r = read_sentence(store, "rnn", text)
    assert r.tokens == store.tokenizer("rnn").encode(text).tokens
    assert r.tokens[r.words] == r.tokens  # no special tokens for the LSTM: every token is a word
    assert len(r.belief) == len(r.influence) == len(r.tokens) == r.hidden.shape[0]
    assert r.hidden.shape[1] == 16
    assert r.labels == ["negative", "positive"]  # belief tracks labels[1]
    api = answers.sentiment("rnn", text)["probabilities"]
    assert r.belief[-1] == pytest.approx(api["positive"], abs=1e-5)
    assert r.answer["probabilities"]["positive"] == pytest.approx(api["positive"], abs=1e-5)
    assert ((r.belief >= 0) & (r.belief <= 1)).all() and 0 <= r.prior <= 1
    # Influence telescopes: the pushes add up to the move from "nothing read" to the answer.
    assert r.influence.sum() == pytest.approx(r.belief[-1] - r.prior, abs=1e-5)
    assert r.influence[0] == pytest.approx(r.belief[0] - r.prior, abs=1e-6)


# ---------------------------------------------------------------- Transformer


@pytest.mark.parametrize("pooling", ["cls", "mean"])
@pytest.mark.parametrize("text", [SHORT, LONG], ids=["short", "300-tokens"])
def test_attention_rows_and_pooled_attention_sum_to_one(pooling, text):
    store = make_store(pooling)
    t = read_sentence(store, "transformer", text)
    T = len(t.tokens)
    assert t.tokens[0] == "[CLS]" and T == len(store.tokenizer("transformer").encode(text).ids)
    assert t.pooling == pooling and t.tokens[t.words] == t.tokens[1:]  # the words: all but [CLS]
    assert t.attention.shape == (2, 2, T, T)
    np.testing.assert_allclose(t.attention.sum(-1), 1.0, atol=1e-5)
    assert t.pooled_attention.shape == (T,) and t.pooled_attention.sum() == pytest.approx(1.0, abs=1e-5)
    last = t.attention[-1].mean(0)
    np.testing.assert_allclose(t.pooled_attention, last[0] if pooling == "cls" else last.mean(0), atol=1e-6)
    answer = Answers(store).sentiment("transformer", text)["probabilities"]
    assert t.answer["probabilities"]["positive"] == pytest.approx(answer["positive"], abs=1e-5)
    assert t.answer["label"] == max(answer, key=answer.get)


def test_nothing_attends_to_padding_and_one_sentence_alone_matches_the_batch(store):
    tok, model = store.tokenizer("transformer"), store.get("transformer")
    short, long = tok.encode("a good film").ids, tok.encode(SHORT).ids
    batch = torch.zeros(2, len(long), dtype=torch.long)  # pad_id is 0
    batch[0, : len(short)], batch[1] = torch.tensor(short), torch.tensor(long)
    with torch.inference_mode():
        _, weights = model.encode(batch)
    for w in weights:  # (2, heads, T, T)
        assert float(w[0, :, :, len(short) :].abs().max()) == 0.0
    alone = read_sentence(store, "transformer", "a good film").attention  # (layers, heads, t, t)
    batched = torch.stack([w[0, :, : len(short), : len(short)] for w in weights]).numpy()
    np.testing.assert_allclose(alone, batched, atol=1e-5)


# ---------------------------------------------------------------- figures


def _draw(fig: Figure) -> None:
    fig.savefig(io.BytesIO(), format="png")  # what gr.Plot does with it


def _no_overlap(fig: Figure, axis: str) -> None:
    """Token labels on an axis must not overlap each other once drawn."""
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
        boxes = [t.get_window_extent(renderer) for t in labels if t.get_text()]
        spans = sorted((b.x0, b.x1) if axis == "x" else (b.y0, b.y1) for b in boxes)  # pixels along the axis
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start >= end - 0.5, f"{axis} labels overlap in {ax.get_title()!r}"


@pytest.mark.parametrize("text", [SHORT, "awful", LONG], ids=["short", "one-word", "300-tokens"])
def test_text_figures_draw_for_short_and_long_inputs(store, text):
    r = read_sentence(store, "rnn", text)
    t = read_sentence(store, "transformer", text)
    figs = {
        "belief": PL.belief_plot(r.tokens, r.belief, r.labels[1]),
        "hidden": PL.hidden_state_heatmap(r.tokens, r.hidden),
        "attention": PL.attention_heatmap(t.tokens, t.attention[-1].mean(0), "Last layer"),
    }
    for name, fig in figs.items():
        assert isinstance(fig, Figure), name
        _draw(fig)
    for name in ("belief", "hidden", "attention"):
        _no_overlap(figs[name], "x")
    _no_overlap(figs["attention"], "y")
    if text == LONG:  # the LSTM's verdict is made at the end: a long text shows its last 120 tokens
        assert "last 120 of 256" in figs["belief"].axes[0].get_title()
        assert len(figs["belief"].axes) == 6  # 120 tokens wrapped in rows of 20
        assert "last 120 of 256" in figs["hidden"].axes[0].get_title()
        # the attention map labels every token it shows (128, the reader's window), none skipped
        assert len([t for t in figs["attention"].axes[0].get_xticklabels() if t.get_text()]) == 128


def test_image_figures_draw(store, pair):
    ins = D.read_digit(store, pair[0])
    for fig in (
        PD.latent_code_bars(D.denoise_digit(store, pair[0], 0.5).code),
        PL.accuracy_by_length_figure(
            ["1-10", "11-20", "21+"], {"RNN": [0.8, 0.7, 0.6], "Transformer": [0.9, 0.8, 0.7]}, [5, 6, 7]
        ),
    ):
        assert isinstance(fig, Figure)
        _draw(fig)
    overlay = PD.cam_overlay(ins.digit, ins.cam)
    assert overlay.shape == (196, 196, 3) and overlay.dtype == np.uint8


def test_no_figure_is_left_open_in_pyplot(store, pair):
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    r = read_sentence(store, "rnn", SHORT)
    _draw(PL.belief_plot(r.tokens, r.belief, r.labels[1]))
    _draw(PL.hidden_state_heatmap(r.tokens, r.hidden))
    _draw(PD.latent_code_bars(D.denoise_digit(store, pair[0], 0.5).code))
    assert set(plt.get_fignums()) == before


def test_plot_inputs_are_checked():
    with pytest.raises(ValueError):
        PL.belief_plot(["a", "b"], [0.5])
    with pytest.raises(ValueError):
        PL.attention_heatmap(["a", "b"], np.ones((3, 3)))
    with pytest.raises(ValueError):
        PL.accuracy_by_length_figure(["short", "long"], {"RNN": [0.9]}, [1, 2])
    with pytest.raises(ValueError):
        PD.cam_overlay(np.zeros((28, 28)), np.zeros((7, 7)))


def test_highlight_spans_are_token_score_pairs_in_unit_range(store):
    r = read_sentence(store, "rnn", SHORT)
    spans = PL.highlight_spans(r.tokens, r.influence)
    assert [s[0] for s in spans] == r.tokens
    scores = [s[1] for s in spans]
    assert all(type(s) is float and -1.0 <= s <= 1.0 for s in scores)  # plain floats: Gradio's JSON
    assert max(abs(s) for s in scores) == pytest.approx(1.0)
    assert PL.highlight_spans(["a", "b"], [0.2, -0.1], normalise=False) == [("a", 0.2), ("b", -0.1)]
    assert PL.highlight_spans(["a"], [0.0]) == [("a", 0.0)]
    assert PL.highlight_spans(["a", "b"], [np.nan, 5.0], normalise=False) == [("a", 0.0), ("b", 1.0)]


def test_feature_maps_mosaic_has_one_row_per_stage():
    from archdemo.models import DigitCNN, DigitCNNConfig

    torch.manual_seed(0)
    store = ModelStore(Settings(device="cpu"))
    store._models["cnn"] = DigitCNN(DigitCNNConfig()).eval()
    digit = np.zeros((28, 28), np.float32)
    digit[5:23, 12:16] = 1.0
    mosaic = PD.feature_maps_mosaic(D.read_digit(store, digit), per_stage=8, cell=56, gap=4)
    assert mosaic.shape == (3 * 60 - 4, 8 * 60 - 4) and mosaic.dtype == np.uint8
