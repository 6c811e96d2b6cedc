"""Each architecture as a chain of blocks, with the shape the visitor's input has after each one.

The shapes come from the model's own config (passed in: this layer imports no model) and from the
input itself (a sentence's token count, a prompt's length). Each block names the submodule whose output
has that shape, so ``tests/test_architecture_plot.py`` can run the real model with forward hooks and
check every shape drawn here against the one the model produced. ``html`` draws a chain as boxes that
wrap on a narrow screen and take their colours from the page's theme.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    name: str  # what the block is, as the visitor reads it ("conv stage 1")
    shape: tuple[int, ...]  # the shape of one input after this block (batch left out)
    detail: str = ""  # how it gets there, briefly ("two 3x3 convolutions, then 2x2 max pooling")
    modules: tuple[str, ...] = ()  # submodules (dotted names; "" is the whole model) whose output has ``shape``
    side: str = "out"  # "out": the modules' output has the shape; "in": their input does


@dataclass(frozen=True)
class Diagram:
    title: str
    blocks: list[Block]
    note: str = ""  # one sentence under the chain: what the shapes mean


def digit_cnn(c) -> Diagram:
    """DigitCNN: the last stage keeps its resolution (see models.cnn), the others halve it."""
    side, blocks = c.image_size, [Block("drawing", (1, c.image_size, c.image_size), "28x28 pixels, one channel")]
    for k, ch in enumerate(c.channels):
        last = k == len(c.channels) - 1
        side = side if last else side // 2
        how = "two 3x3 convolutions" + ("" if last else ", then 2x2 max pooling")
        blocks.append(Block(f"conv stage {k + 1}", (ch, side, side), how, (f"stages.{k}",)))
    blocks += [
        Block("average pooling", (c.channels[-1],), "each map's mean: one number per filter", ("head",), "in"),
        Block("linear head", (c.num_classes,), "one score per digit", ("head",)),
    ]
    return Diagram(
        "The CNN (DigitCNN)",
        blocks,
        "Channels x height x width. Filters grow more numerous as the picture shrinks.",
    )


def autoencoder(c) -> Diagram:
    c1, c2, s = *c.channels, c.image_size
    return Diagram(
        "The denoising autoencoder",
        [
            Block("noisy digit", (1, s, s), "784 pixels"),
            Block("conv, stride 2", (c1, s // 2, s // 2), "3x3 filters on every other pixel", ("encoder.0",)),
            Block("conv", (c1, s // 2, s // 2), "3x3", ("encoder.2",)),
            Block("conv, stride 2", (c2, s // 4, s // 4), "3x3", ("encoder.4",)),
            Block("code", (c.latent_dim,), f"{c2 * (s // 4) ** 2:,} numbers flattened, then squeezed", ("encoder",)),
            Block("linear, unflatten", (c2, s // 4, s // 4), "the code spread out again", ("decoder.2",)),
            Block("transposed conv", (c1, s // 2, s // 2), "4x4, doubling the size", ("decoder.3",)),
            Block("conv", (c1, s // 2, s // 2), "3x3", ("decoder.5",)),
            Block("transposed conv", (1, s, s), "back to 28x28, squashed to [0, 1]", ("decoder",)),
        ],
        f"{s * s} numbers in, {c.latent_dim} in the middle, {s * s} out: the code is the only way through.",
    )


def sentiment_rnn(c, tokens: int) -> Diagram:
    return Diagram(
        "The LSTM (SentimentRNN)",
        [
            Block("your words", (tokens,), f"{tokens} tokens, as word ids"),
            Block("word vectors", (tokens, c.embed_dim), "GloVe 6B-50d at the start of training", ("embedding",)),
            Block(
                f"LSTM, {c.num_layers} layer" + ("s" if c.num_layers > 1 else ""),
                (tokens, c.hidden_size),
                f"one step per token; the same {c.hidden_size} numbers rewritten at every step",
                ("lstm",),
            ),
            Block("head", (tokens, len(c.labels)), "a verdict after every word; the last one counts", ("head",)),
        ],
        "Tokens x numbers per token. Whatever the length, the memory stays the same size.",
    )


def sentiment_transformer(c, tokens: int) -> Diagram:
    """The from-scratch reader: [CLS] plus the words, all positions at once in every layer."""
    return Diagram(
        "The from-scratch Transformer (SentimentTransformer)",
        [
            Block("[CLS] + your words", (tokens,), f"{tokens} tokens, [CLS] first"),
            Block("word vectors", (tokens, c.embed_dim), "GloVe 6B-50d at the start of training", ("embedding",)),
            Block("widened, + positions", (tokens, c.d_model), "sine waves say where each word is", ("proj",)),
            Block(
                f"encoder layer x {c.num_layers}",
                (tokens, c.d_model),
                f"{c.num_heads} heads, each a {tokens}x{tokens} attention map; then a feed-forward block",
                tuple(f"layers.{i}" for i in range(c.num_layers)),
            ),
            Block("[CLS]'s state" if c.pooling == "cls" else "mean of states", (c.d_model,), "", ("head",), "in"),
            Block("head", (len(c.labels),), "the verdict", ("head",)),
        ],
        "Every layer keeps one vector per token; attention lets each token mix in all the others.",
    )


def pretrained_transformer(c, tokens: int) -> Diagram:
    return Diagram(
        "The pretrained Transformer (MiniLM-L6 + LoRA)",
        [
            Block("[CLS] + word pieces + [SEP]", (tokens,), f"{tokens} tokens"),
            Block("embeddings", (tokens, c.hidden_size), "word pieces + learned positions", ("embeddings",)),
            Block(
                f"encoder layer x {c.num_layers}",
                (tokens, c.hidden_size),
                f"{c.num_heads} heads, each a {tokens}x{tokens} attention map; pretrained, with small updates here",
                tuple(f"layers.{i}" for i in range(c.num_layers)),
            ),
            Block("[CLS]'s state" if c.pooling == "cls" else "mean of states", (c.hidden_size,), "", ("head.1",), "in"),
            Block("head", (len(c.labels),), "the verdict, trained here", ("head",)),
        ],
        "Every layer keeps one vector per token; attention lets each token mix in all the others.",
    )


def char_rnn(c, chars: int) -> Diagram:
    return Diagram(
        "The character LSTM (CharRNN)",
        [
            Block("the text so far", (chars,), f"{chars} characters"),
            Block("character vectors", (chars, c.embed_dim), "", ("embedding",)),
            Block(f"LSTM, {c.num_layers} layers", (chars, c.hidden_size), "one step per character", ("lstm",)),
            Block("head", (chars, len(c.vocab)), "odds for the next character, after each one", ("head",)),
        ],
    )


def char_gpt(c, chars: int) -> Diagram:
    seen = min(chars, c.block_size)
    return Diagram(
        "The small GPT (CharGPT)",
        [
            Block("the text so far", (seen,), f"the last {seen} characters (it sees at most {c.block_size})"),
            Block("characters + positions", (seen, c.d_model), "", ("embedding",)),
            Block(
                f"decoder block x {c.num_layers}",
                (seen, c.d_model),
                f"{c.num_heads} heads; each character looks only at itself and those before it",
                tuple(f"layers.{i}" for i in range(c.num_layers)),
            ),
            Block("head", (seen, len(c.vocab)), "odds for the next character (the embedding, reused)", ("",)),
        ],
    )


def char_cnn(c, chars: int) -> Diagram:
    return Diagram(
        "The causal CNN (CharCNN)",
        [
            Block("the text so far", (chars,), f"{chars} characters"),
            Block("character vectors", (chars, c.channels), "", ("embedding",)),
            Block(
                f"causal conv block x {len(c.dilations)}",
                (chars, c.channels),
                f"{c.kernel_size} taps spaced {', '.join(map(str, c.dilations))} apart: "
                f"it sees {c.receptive_field} characters back",
                tuple(f"layers.{i}" for i in range(len(c.dilations))),
            ),
            Block("head", (chars, len(c.vocab)), "odds for the next character, after each one", ("head",)),
        ],
    )


def shape_text(shape: tuple[int, ...]) -> str:
    return " x ".join(f"{n:,}" for n in shape)


BOX = (
    "border:1px solid var(--border-color-primary);border-radius:var(--radius-md);padding:6px 8px;"
    "background:var(--block-background-fill);color:var(--body-text-color);min-width:92px;max-width:190px"
)


def html(diagram: Diagram) -> str:
    """The chain as boxes joined by arrows, wrapping on a narrow screen; theme colours only."""
    e = _html.escape
    parts = []
    for i, b in enumerate(diagram.blocks):
        if i:
            parts.append('<span aria-hidden="true" style="align-self:center;opacity:.7">&rarr;</span>')
        detail = f'<div style="font-size:.8em;opacity:.8">{e(b.detail)}</div>' if b.detail else ""
        parts.append(
            f'<div class="arch-block" style="{BOX}"><div style="font-weight:600">{e(b.name)}</div>'
            f'<div class="arch-shape" style="font-family:var(--font-mono);white-space:nowrap">'
            f"{e(shape_text(b.shape))}</div>{detail}</div>"
        )
    note = f'<p style="margin:6px 0 0;font-size:.9em;opacity:.85">{e(diagram.note)}</p>' if diagram.note else ""
    return (
        f'<div class="arch"><div style="font-weight:600;margin-bottom:4px">{e(diagram.title)}</div>'
        f'<div style="display:flex;flex-wrap:wrap;gap:6px;align-items:stretch">{"".join(parts)}</div>{note}</div>'
    )


def page(diagrams: list[Diagram]) -> str:
    return "".join(f'<div style="margin-bottom:10px">{html(d)}</div>' for d in diagrams)
