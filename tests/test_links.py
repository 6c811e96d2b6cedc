"""Links that open an input: the query parameters are parsed at the edge, and nothing bad gets through."""

from __future__ import annotations

import pytest

from archdemo.inputs.words import MAX_TEXT_CHARS
from archdemo.models.char_lm import SHAKESPEARE_CHARS
from archdemo.tasks.writing import MAX_PROMPT_CHARS, check_prompt
from archdemo.ui.lesson import BY_ID, TABS
from archdemo.ui.links import parse


def link(**params):
    return parse(params, lambda p: check_prompt(p, SHAKESPEARE_CHARS))


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_opens_by_name_and_case_does_not_matter(tab):
    assert link(tab=tab).tab == tab and not link(tab=tab).notes
    assert link(tab=f" {tab.upper()} ").tab == tab


def test_a_text_fills_the_text_tab_it_names_or_compare():
    assert (link(tab="rnn", text="not bad").tab, link(tab="rnn", text="not bad").text) == ("rnn", "not bad")
    assert link(text="not bad").tab == "compare"
    got = link(tab="cnn", text="not bad")
    assert got.tab == "cnn" and got.text is None and "takes no sentence" in got.notes[0]


def test_a_prompt_opens_the_write_tab():
    got = link(prompt="ROMEO:\n")
    assert (got.tab, got.prompt, got.notes) == ("write", "ROMEO:\n", [])
    assert link(tab="rnn", prompt="ROMEO:").prompt is None


def test_a_step_brings_its_own_tab_and_input():
    got = link(step="rnn-not-bad-compare")
    assert got.step is BY_ID["rnn-not-bad-compare"] and got.step.target == "compare" and not got.notes
    mixed = link(step="tr-previous", tab="cnn", text="hello")
    assert mixed.step is BY_ID["tr-previous"] and mixed.text is None and mixed.notes


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"tab": "settings"}, "There is no tab 'settings'"),
        ({"tab": "<script>alert(1)</script>"}, "There is no tab;"),  # never echoed
        ({"step": "no-such-step"}, "There is no guided step 'no-such-step'"),
        ({"step": "../../etc/passwd"}, "There is no guided step:"),
        ({"text": "x" * (MAX_TEXT_CHARS + 1)}, f"the limit is {MAX_TEXT_CHARS:,}"),
        ({"text": "   "}, "empty"),
        ({"text": "bad\x00byte"}, "control characters"),
        ({"prompt": "café"}, "never occur in tiny Shakespeare"),
        ({"prompt": "a" * (MAX_PROMPT_CHARS + 1)}, f"the limit is {MAX_PROMPT_CHARS}"),
    ],
)
def test_a_bad_value_is_left_out_with_a_note(params, said):
    got = link(**params)
    assert got.text is None and got.prompt is None and got.step is None
    assert len(got.notes) == 1 and said in got.notes[0], got.notes
    assert "<script>" not in got.notes[0]


def test_good_values_survive_beside_bad_ones():
    got = link(tab="nope", text="A gorgeous film.", prompt="café")
    assert got.tab == "compare" and got.text == "A gorgeous film." and got.prompt is None
    assert len(got.notes) == 2


def test_the_longest_allowed_text_is_kept_whole():
    text = "good " * (MAX_TEXT_CHARS // 5)
    assert link(tab="rnn", text=text).text == text


def test_unknown_parameters_are_ignored_without_a_note():
    assert link(utm_source="mail").notes == [] and link(utm_source="mail").tab is None
