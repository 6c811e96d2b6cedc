"""Model cards: the registry's text and evaluate's numbers, exactly as ``evaluate --write-cards`` writes them."""

from __future__ import annotations

import json

import pytest

from archdemo.paths import BUNDLED_DIR, CARD_NAME, METRICS_PATH
from archdemo.weights.cards import model_card
from archdemo.weights.registry import MODELS


@pytest.mark.parametrize("name", list(MODELS))
def test_each_bundled_card_is_what_the_registry_and_metrics_make(name):
    metrics = json.loads(METRICS_PATH.read_text(encoding="utf-8"))[name]
    card = (BUNDLED_DIR / name / CARD_NAME).read_text(encoding="utf-8")
    assert card == model_card(name, metrics), f"{name}'s card is stale: rerun python -m archdemo.evaluate --write-cards"
    assert f"# archdemo {MODELS[name].title}: {MODELS[name].model_cls.__name__}" in card


def test_every_registry_recipe_resolves_to_a_function():
    from archdemo.training.cli import recipe

    for name in MODELS:
        assert callable(recipe(name)), name
