"""The examples the UI offers say true things about the bundled models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from archdemo.tasks.sentences import read_sentence
from archdemo.ui.cnn import examples as cnn_examples
from archdemo.ui.sentences import EXAMPLES, wrong_note


@pytest.mark.parametrize("name", ["rnn", "transformer"])
def test_clear_examples_are_right_and_wrong_notes_are_true(store, name):
    for sentence, truth, why in EXAMPLES:
        label = read_sentence(store, name, sentence).answer["label"]
        if why.startswith("clearly"):
            assert label == truth, (name, sentence)
        assert (wrong_note(store, name, sentence, truth) != "") == (label != truth)


def test_cnn_hard_examples_are_read_as_their_names_say(answers):
    hard = [(p, label) for p, label in cnn_examples() if "read as" in label]
    assert hard, "evaluate --write-cards should have saved some test digits the CNN gets wrong"
    for path, label in hard:
        true, shown = label.split(" read as ")[0], label.split(" read as ")[1].split()[0]
        answer = answers.classify_digit(np.asarray(Image.open(path)))["label"]
        assert answer == shown != true, (Path(path).name, answer)
