"""The word tokenizer's clitic splitting in one pass (archdemo/inputs/words.py: split_clitics).

It replaced a regex substituted until nothing changed, which found one more split per pass on text
like ``"n't" * 1666`` (1,665 passes over 5,000 characters). Checked against that substitution, kept
here as the reference, on typed sentences and on many seeded random strings made of the pieces that
interact; and on long pathological inputs, for the tokens they give (timing is for bench/, not here).
"""

from __future__ import annotations

import random
import re

import pytest

from archdemo.inputs.words import MAX_TEXT_CHARS, split_clitics, tokenize

_END = r"(?![^\W_])"
_REFERENCE = re.compile(rf"(?i)([a-z])(n't){_END}|([a-z0-9])('s|'re|'ve|'ll|'d|'m){_END}")


def reference(text: str) -> str:
    """The substitution as it was: split one clitic off each word per pass, until none is left."""
    n = 1
    while n:
        text, n = _REFERENCE.subn(lambda m: f"{m[1]} {m[2]}" if m[1] else f"{m[3]} {m[4]}", text)
    return text


SENTENCES = [
    "It's not bad, I'd say!",
    "i don't think it'sn't worth it",
    "We'll see; they're sure you've won, and I'm glad he'd come.",
    "the 90's were fine, weren't they?",
    "rock'n'roll isn't dead: o'neill's band can't stop",
    'She said "don\'t" twice -- then ... nothing.',
    "ain't it grand , y'all 're here",
    "DON'T SHOUT, it's RUDE",
    "he'dn't've known",
]


@pytest.mark.parametrize("text", SENTENCES)
def test_typed_sentences_split_as_before(text):
    lowered = text.lower()
    assert split_clitics(lowered) == reference(lowered)


def test_random_strings_of_the_pieces_that_interact_split_as_before():
    rng = random.Random(20)
    pieces = ["n't", "'s", "'re", "'ve", "'ll", "'d", "'m", "'", "n", "t", "a", "x", "0", " ", "_", "-", ".", "é"]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert split_clitics(text) == reference(text), text


def test_long_pathological_inputs_give_the_right_tokens():
    text = "n't" * 1666  # 4,998 characters: under the limit
    assert len(text) <= MAX_TEXT_CHARS
    assert tokenize(text) == ["n't"] * 1666
    assert tokenize("x" + "n't" * 1666) == ["x"] + ["n't"] * 1666  # every clitic splits, the first off the x
    assert tokenize("it" + "'s" * 2499) == ["it"] + ["'s"] * 2499
    mixed = "don'tn't've" * 450
    assert split_clitics(mixed) == reference(mixed)
