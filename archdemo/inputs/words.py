"""Text in: any typed sentence -> tokens -> ids, for the text models.

The word-level models read SST-2's token form (``Tokenizer``); the pretrained Transformer reads its
base's own word pieces (``WordPieceTokenizer``, from the base's pinned tokenizer.json). No torch, no
gradio. ``validate_text`` is the edge where visitors' text is checked (type, length, emptiness); the
tokenizers themselves only map tokens to ids, so training and serving share them without repeating
the checks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from archdemo.errors import InputError

MAX_TEXT_CHARS = 5_000  # a long review is ~2,000 characters


_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "--",
        "\u2026": "...",
    }
)
_BACKTICKS = re.compile(r"`+")
_END = r"(?![^\W_])"  # the end of a word as _TOKEN sees words (\b would treat "_" as part of one)
# Where a clitic may split off: the character before it and the clitic, found at every position
# (a lookahead, so overlapping places are all found); whether it splits depends on what follows it.
_CLITIC_PLACES = re.compile(r"(?i)(?=[a-z](n't)|[a-z0-9]('s|'re|'ve|'ll|'d|'m))")
_WORD_CHAR = re.compile(r"[^\W_]")
_TOKEN = re.compile(rf"\.\.\.|--|``|''|n't|'(?:s|re|ve|ll|d|m){_END}|[^\W_]+(?:[-'.][^\W_]+)*|\S")


@dataclass
class Encoded:
    tokens: list[str]  # the tokens the model reads (after truncation), special tokens included
    ids: list[int]
    truncated: int  # how many tokens were cut off the end
    unknown: int  # how many tokens are not in the vocabulary (read as [UNK])


NO_WORDS = "The text has no words in it (only symbols or emoji): type a sentence."


def without_controls(text: str) -> str:
    """Control characters, null bytes and lone surrogates (which no tokenizer can take) become spaces."""
    return "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)


def validate_text(text: object) -> str:
    if text is None:
        raise InputError("No text was sent: type a sentence.")
    if not isinstance(text, str):
        raise InputError(f"Expected text, got {type(text).__name__}.")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(
            f"The text is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,}. Please shorten it."
        )
    if not text.strip():
        raise InputError("The text is empty: type a sentence.")
    return text


def tokenize(text: str) -> list[str]:
    """Typed text -> SST-2's form: lower case, PTB-style clitics ("do n't", "it 's"), split punctuation.

    Control characters and null bytes are dropped; accents are kept (SST-2 has "élan"); curly quotes
    become straight ones and double quotes become SST's `` and ''.
    """
    text = unicodedata.normalize("NFKC", validate_text(text)).translate(_QUOTES)
    text = _BACKTICKS.sub(lambda m: "``" * (len(m[0]) // 2) + "'" * (len(m[0]) % 2), text)  # keep SST's ``
    text = without_controls(text).lower()
    text = re.sub(rf"(?<=[a-z])n\s*'\s*t{_END}", " n't", text)  # SST's "don ' t", however spaced
    text = split_clitics(text)
    out: list[str] = []
    quote_open = True
    for tok in _TOKEN.findall(text):
        if tok == '"':
            tok = "``" if quote_open else "''"
            quote_open = not quote_open
        out.append(tok)
    return out


def split_clitics(text: str) -> str:
    """A space before every clitic (n't after a letter; 's 're 've 'll 'd 'm after a letter or digit) that
    ends a word, where splitting one can end the word before it: "it'sn't" -> "it 's n't".

    In one pass from the right, so it takes time linear in the text (a regex substituted until nothing
    changes found one more split per pass: ``"n't" * 1666`` took 1,665 passes, 0.5-2 s). The result is
    the same: a split only ever adds a space, which can only let a clitic to its left end a word.
    """
    ends = {m.start() + 1: m.start() + 1 + len(m.group(1) or m.group(2)) for m in _CLITIC_PLACES.finditer(text)}
    splits: set[int] = set()
    for start in sorted(ends, reverse=True):  # what follows a clitic is settled before the clitic itself
        end = ends[start]
        if end == len(text) or end in splits or not _WORD_CHAR.match(text, end):
            splits.add(start)
    if not splits:
        return text
    cuts = [0, *sorted(splits), len(text)]
    return " ".join(text[a:b] for a, b in zip(cuts, cuts[1:], strict=False))


class Tokenizer:
    """Word-level tokenizer whose vocabulary travels in the model's config.json."""

    def __init__(self, vocab: Sequence[str], unk_id: int, max_len: int, cls_id: int | None = None) -> None:
        self.vocab = list(vocab)
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.unk_id = unk_id
        self.cls_id = cls_id
        self.max_len = max_len

    def encode(self, text: str) -> Encoded:
        """A visitor's text (checked here, at the edge) -> what the model reads."""
        tokens = tokenize(text)
        if not any(any(ch.isalnum() for ch in t) for t in tokens):
            raise InputError(NO_WORDS)
        return self.encode_tokens(tokens)

    def encode_tokens(self, tokens: Sequence[str]) -> Encoded:
        """Tokens (already in SST-2's form) -> ids, cut to ``max_len``, with [CLS] in front if the model has one.

        Training calls this on SST-2's own tokens, so the ids it learns from are made exactly as served.
        """
        room = self.max_len - (1 if self.cls_id is not None else 0)
        truncated = max(0, len(tokens) - room)
        tokens = list(tokens[:room])
        ids = [self.index.get(t, self.unk_id) for t in tokens]
        unknown = sum(i == self.unk_id for i in ids)
        if self.cls_id is not None:
            tokens, ids = ["[CLS]", *tokens], [self.cls_id, *ids]
        return Encoded(tokens, ids, truncated, unknown)


class WordPieceTokenizer:
    """The base's own tokenizer (``tokenizers`` from its tokenizer.json): lower-cases, splits into word
    pieces, adds [CLS] and [SEP]; texts longer than ``max_len`` pieces are cut, keeping [SEP] last."""

    def __init__(self, tokenizer_json: str, max_len: int) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.max_len = max_len
        self.unk_id = self.tokenizer.token_to_id("[UNK]")

    def encode(self, text: str) -> Encoded:
        """A visitor's text (checked here: type, length, any words at all) -> what the model reads."""
        text = without_controls(validate_text(text))
        if not any(ch.isalnum() for ch in text):
            raise InputError(NO_WORDS)
        return self.encode_unchecked(text)

    def encode_unchecked(self, text: str) -> Encoded:
        """Training data, already known to be text."""
        enc = self.tokenizer.encode(text)
        tokens, ids = list(enc.tokens), list(enc.ids)
        truncated = max(0, len(ids) - self.max_len)
        if truncated:
            tokens, ids = tokens[: self.max_len - 1] + tokens[-1:], ids[: self.max_len - 1] + ids[-1:]
        return Encoded(tokens, ids, truncated, sum(i == self.unk_id for i in ids))
