"""The data-efficiency measurements: the command that makes them, the stored results, and the view that plots them."""

from __future__ import annotations

import json

import pytest
import torch

from archdemo.paths import DATA_EFFICIENCY_PATH
from archdemo.tools import data_efficiency as tool
from archdemo.training.loop import Run
from archdemo.weights.cards import data_efficiency, data_efficiency_accuracies


def test_a_run_passes_its_limit_to_the_recipe_only_when_asked():
    plain = Run("cnn", None, torch.device("cpu"), epochs=3)
    assert plain.sized(epochs="epochs") == {"epochs": 3}  # the bundled runs: exactly what they were before
    assert Run("cnn", None, torch.device("cpu"), limit=100).sized(epochs="epochs") == {"limit": 100}


@pytest.mark.data
def test_one_point_is_trained_scored_saved_and_not_retrained(data, tmp_path):
    path = tmp_path / "curves.json"
    cpu = torch.device("cpu")
    results = tool.run_task("digits", str(data), cpu, ["autoencoder_probe"], [100], path=path)
    point = results["digits"]["models"]["autoencoder_probe"]["100"]
    assert 0.3 < point["accuracy"] <= 1.0  # 100 labelled digits on the autoencoder's code: far above chance (0.1)
    assert point["steps"] == 235  # the budget: one pass over all 60,000 digits at batch 256, whatever the size
    assert json.loads(path.read_text()) == results  # saved after the point
    again = tool.run_task("digits", str(data), cpu, ["autoencoder_probe"], [100], path=path)
    assert again["digits"]["models"]["autoencoder_probe"]["100"] == point  # stored points are skipped, not retrained
    assert data_efficiency_accuracies(again) == {"digits": {"autoencoder_probe": {"100": point["accuracy"]}}}


def test_points_from_another_budget_are_dropped(tmp_path, monkeypatch):
    path = tmp_path / "curves.json"
    old = {"budget": {"epochs": 5, "fixed_steps": {}}, "models": {"cnn": {"100": {"accuracy": 0.5}}}}
    path.write_text(json.dumps({"digits": old}))
    monkeypatch.setattr(tool, "READERS", {"digits": []})
    results = tool.run_task("digits", None, torch.device("cpu"), [], [], path=path)
    assert results["digits"]["models"] == {} and results["digits"]["budget"]["epochs"] == tool.BUDGET_EPOCHS


def test_the_command_refuses_a_reader_of_another_task():
    with pytest.raises(SystemExit):
        tool.main(["--task", "digits", "--models", "rnn"])


def test_the_stored_curves_cover_every_reader_and_size():
    """What the repository ships: every reader of each task at every size, each a real accuracy."""
    curves = data_efficiency_accuracies(data_efficiency())
    assert DATA_EFFICIENCY_PATH.exists(), "run python -m archdemo.tools.data_efficiency (README: Train and evaluate)"
    for task, readers in tool.READERS.items():
        assert set(curves[task]) == set(readers), task
        for name in readers:
            assert set(curves[task][name]) == {str(s) for s in tool.SIZES[task]}, (task, name)
            assert all(0.0 <= a <= 1.0 for a in curves[task][name].values())
            # More data never makes a reader much worse: a check that sizes were not mixed up.
            smallest, largest = (curves[task][name][str(s)] for s in (tool.SIZES[task][0], tool.SIZES[task][-1]))
            assert largest >= smallest - 0.02, (task, name, smallest, largest)


def test_the_view_draws_one_picture_per_task():
    from PIL import Image

    from archdemo.ui.data_efficiency import pictures

    files = pictures()
    assert len(files) == 2 and all(files)
    for f in files:
        with Image.open(f) as im:
            assert im.width >= 500 and im.height >= 300


@pytest.mark.browser
def test_compare_shows_both_curves(browser, app_url):
    from test_browser import open_tab

    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    try:
        page.goto(app_url)
        page.wait_for_selector("#cnn-sketchpad canvas", timeout=30_000)
        open_tab(page, "Compare")
        for task in ("digits", "sentences"):
            page.locator(f"#data-efficiency-{task}").scroll_into_view_if_needed()
            # The final state: the picture loaded (its natural width known), not just an <img> placed.
            page.wait_for_function(
                f"() => {{ const i = document.querySelector('#data-efficiency-{task} img');"
                " return i && i.complete && i.naturalWidth >= 500; }",
                timeout=30_000,
            )
        assert "one pass over the full training set" in page.locator("#data-efficiency-intro").inner_text()
    finally:
        ctx.close()
