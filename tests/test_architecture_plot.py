"""The architecture pictures draw the shapes the models really produce, for the visitor's own input.

Each block of a diagram names the submodules whose output (or input) it claims the shape of; the real
model runs on a real input through the task function the tab calls, with forward hooks on those
submodules, and every shape drawn must equal the one recorded.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from archdemo.inputs.images import prepare_digit
from archdemo.paths import SAMPLE_DIGITS
from archdemo.plots import architecture as arch
from archdemo.tasks import digits
from archdemo.tasks.sentences import read_sentence


def recorded(model: torch.nn.Module, diagram: arch.Diagram, run) -> dict[tuple[str, str], tuple[int, ...]]:
    """Run ``run()`` with hooks on every submodule a block names: {(module, side): shape without the batch}."""
    seen: dict[tuple[str, str], tuple[int, ...]] = {}
    handles = []

    def first_tensor(x):
        while isinstance(x, tuple | list):
            x = x[0]
        return x

    for block in diagram.blocks:
        for name in block.modules:
            key = (name, block.side)

            def hook(_m, inputs, output, key=key):
                t = first_tensor(inputs if key[1] == "in" else output)
                seen.setdefault(key, tuple(t.shape[1:]))  # the first call: the pass that reads the input

            handles.append(model.get_submodule(name).register_forward_hook(hook))
    try:
        run()
    finally:
        for h in handles:
            h.remove()
    return seen


def check(diagram: arch.Diagram, seen: dict) -> None:
    checked = 0
    for block in diagram.blocks:
        for name in block.modules:
            assert seen[(name, block.side)] == block.shape, (diagram.title, block.name, name)
            checked += 1
    assert checked >= 3, diagram.title
    assert all(str(n) in arch.html(diagram).replace(",", "") for b in diagram.blocks for n in b.shape)


def seven() -> np.ndarray:
    return prepare_digit(np.asarray(Image.open(SAMPLE_DIGITS / "7.png")))


def test_the_cnn_diagram_matches_the_cnn(store):
    model = store.get("cnn")
    d = arch.digit_cnn(model.config)
    check(d, recorded(model, d, lambda: digits.read_every_reader(store, seven())))
    assert [b.shape for b in d.blocks][:3] == [(1, 28, 28), (24, 14, 14), (48, 7, 7)]


def test_the_autoencoder_diagram_matches_the_autoencoder(store):
    model = store.get("autoencoder")
    d = arch.autoencoder(model.config)
    check(d, recorded(model, d, lambda: digits.denoise_digit(store, seven(), 0.5)))
    assert (64,) in [b.shape for b in d.blocks]


@pytest.mark.parametrize(
    ("name", "draw"),
    [
        ("rnn", arch.sentiment_rnn),
        ("transformer", arch.sentiment_transformer),
        ("pretrained_transformer", arch.pretrained_transformer),
    ],
)
@pytest.mark.parametrize("sentence", ["It's not bad, I'd say!", "A gorgeous, witty and deeply moving film."])
def test_the_sentence_diagrams_match_the_readers_for_this_sentence(store, name, draw, sentence):
    model, tokenizer = store.reader(name)
    tokens = len(tokenizer.encode(sentence).tokens)  # what the tab counts to draw the picture
    d = draw(model.config, tokens)
    check(d, recorded(model, d, lambda: read_sentence(store, name, sentence)))
    assert d.blocks[0].shape == (tokens,)


@pytest.mark.parametrize(
    ("name", "draw"), [("char_rnn", arch.char_rnn), ("char_gpt", arch.char_gpt), ("char_cnn", arch.char_cnn)]
)
@pytest.mark.parametrize("prompt", ["ROMEO:\n", "To be, or not to be"])
def test_the_writer_diagrams_match_the_writers_reading_the_prompt(store, name, draw, prompt):
    model = store.get(name)
    ids = torch.tensor([[model.config.vocab.index(ch) for ch in prompt]])
    d = draw(model.config, len(prompt))
    with torch.inference_mode():
        check(d, recorded(model, d, lambda: model(ids)))


def test_a_long_prompt_is_drawn_as_the_gpt_window_sees_it(store):
    c = store.get("char_gpt").config
    assert arch.char_gpt(c, 10_000).blocks[0].shape == (c.block_size,)


def test_the_picture_escapes_what_it_shows():
    d = arch.Diagram("<script>x</script>", [arch.Block("a & b", (3,), "<i>")])
    page = arch.html(d)
    assert "<script>" not in page and "<i>" not in page and "a &amp; b" in page
