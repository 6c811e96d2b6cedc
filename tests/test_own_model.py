""" "Use your own model": a visitor points a tab at a Hub repo (here the loopback Hub stand-in).

A compatible model of another size is loaded for that visitor only and explained like the app's own;
everything that does not fit is refused with a message that says why, before it costs memory or a
large download.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hub_standin import HubStandin, use_standin
from PIL import Image

from archdemo.inputs.images import prepare_digit
from archdemo.models import (
    DenoisingAutoencoder,
    DenoisingAutoencoderConfig,
    DigitCNN,
    DigitCNNConfig,
    SentimentTransformer,
    SentimentTransformerConfig,
)
from archdemo.paths import SAMPLE_DIGITS
from archdemo.settings import Settings
from archdemo.tasks import digits
from archdemo.tasks.sentences import read_sentence
from archdemo.weights.hub import WeightsError, save_pretrained, user_source
from archdemo.weights.store import ModelStore

DIGITS = SAMPLE_DIGITS


@pytest.fixture
def hub(tmp_path, monkeypatch):
    with HubStandin() as standin:
        use_standin(monkeypatch, standin.url, tmp_path / "hf")
        yield standin


@pytest.fixture(scope="module")
def store():
    """A private store: the visitors' models these tests load stay out of the shared one."""
    return ModelStore(Settings(device="cpu"))


def publish(hub: HubStandin, model: torch.nn.Module, folder: Path, repo: str) -> str:
    return hub.add_folder(repo, save_pretrained(model, folder))


def small_cnn() -> DigitCNN:
    torch.manual_seed(0)
    return DigitCNN(DigitCNNConfig(channels=(4, 8, 8))).eval()


def digit(d: int) -> np.ndarray:
    return np.asarray(Image.open(DIGITS / f"{d}.png"))


def test_a_smaller_cnn_from_the_hub_serves_this_visitor_and_nobody_else(hub, store, tmp_path):
    sha = publish(hub, small_cnn(), tmp_path / "m", "someone/tiny-cnn")
    before = store.get("cnn")

    choice, message = store.load_user_model("cnn", "someone/tiny-cnn")  # no revision: main, pinned to its commit

    assert choice == f"hub:someone/tiny-cnn@{sha}"
    assert "someone/tiny-cnn" in message and sha[:12] in message
    assert store.get("cnn", choice).config.channels == (4, 8, 8)
    assert store.get("cnn") is before  # everyone else keeps the app's model
    assert store.get("cnn", None) is before
    inside = digits.read_digit(store, prepare_digit(digit(3)), choice)
    assert [m.shape[0] for m in inside.feature_maps] == [4, 8, 8]
    # The CNN normalises its own input: the visitor's model gets plain pixels in [0, 1], as the app's does.
    expected = small_cnn()(torch.as_tensor(inside.digit)[None, None]).softmax(-1)[0]
    assert np.allclose(inside.probabilities, expected.detach().numpy(), atol=1e-5)
    assert np.allclose(digits.classify_digit(store, digit(3), choice).probabilities, inside.probabilities, atol=1e-6)
    theirs = digits.classify_digit(store, digit(3))  # nobody else: without the choice, the app's model answers
    assert [m.shape[0] for m in theirs.feature_maps] == list(before.config.channels)


def test_a_pinned_revision_is_used_and_a_second_load_comes_from_memory(hub, store, tmp_path):
    first = publish(hub, small_cnn(), tmp_path / "a", "someone/cnn-history")
    torch.manual_seed(1)
    publish(hub, DigitCNN(DigitCNNConfig(channels=(4, 8, 16))), tmp_path / "b", "someone/cnn-history")

    choice, _ = store.load_user_model("cnn", "someone/cnn-history", first)
    assert store.get("cnn", choice).config.channels == (4, 8, 8)
    hub.clear()
    store.load_user_model("cnn", "someone/cnn-history", first)
    assert hub.paths() == []


def test_loading_main_again_after_a_push_gets_the_new_model(hub, store, tmp_path):
    publish(hub, small_cnn(), tmp_path / "a", "someone/cnn-updated")
    first, _ = store.load_user_model("cnn", "someone/cnn-updated")
    torch.manual_seed(2)
    newer = publish(hub, DigitCNN(DigitCNNConfig(channels=(4, 8, 16))), tmp_path / "b", "someone/cnn-updated")

    again, message = store.load_user_model("cnn", "someone/cnn-updated")

    assert again == f"hub:someone/cnn-updated@{newer}" != first and newer[:12] in message
    assert store.get("cnn", again).config.channels == (4, 8, 16)
    assert store.get("cnn", first).config.channels == (4, 8, 8)  # a session on the old one keeps it


def test_a_transformer_with_other_layers_and_heads_is_explained(hub, store, tmp_path):
    own = store.get("transformer").config
    torch.manual_seed(0)
    config = SentimentTransformerConfig(vocab=own.vocab, d_model=32, num_heads=2, num_layers=1, max_len=64)
    publish(hub, SentimentTransformer(config).eval(), tmp_path / "t", "someone/tiny-transformer")

    choice, _ = store.load_user_model("transformer", "someone/tiny-transformer")
    t = read_sentence(store, "transformer", "a warm and funny film", choice)
    assert len(t.attention) == 1 and t.attention[0].shape[0] == 2


def refusal(store, name: str, repo: str, revision: str = "") -> str:
    with pytest.raises(WeightsError) as e:
        store.load_user_model(name, repo, revision)
    return str(e.value)


def test_another_architecture_is_refused_by_name(hub, store, tmp_path):
    torch.manual_seed(0)
    publish(hub, DenoisingAutoencoder(DenoisingAutoencoderConfig()).eval(), tmp_path / "ae", "someone/an-autoencoder")
    message = refusal(store, "cnn", "someone/an-autoencoder")
    assert "DenoisingAutoencoder" in message and "DigitCNN" in message


def test_a_repo_that_is_not_an_archdemo_model_is_refused(hub, store):
    hub.add_commit("someone/bert", {"config.json": json.dumps({"model_type": "bert", "hidden_size": 768})})
    assert "DigitCNN" in refusal(store, "cnn", "someone/bert")


def test_a_model_too_big_is_refused_before_its_weights_are_fetched(hub, store):
    config = {"architecture": "DigitCNN", "channels": [512, 1024, 2048]}
    hub.add_commit("someone/huge-cnn", {"config.json": json.dumps(config), "model.safetensors": b"x" * 64})
    message = refusal(store, "cnn", "someone/huge-cnn")
    assert re.search(r"[\d,]+-parameter", message) and "10,000,000" in message
    assert not [p for p in hub.paths() if p.endswith("model.safetensors")]


def test_a_broken_weights_file_is_refused(hub, store, tmp_path):
    folder = save_pretrained(small_cnn(), tmp_path / "broken")
    (folder / "model.safetensors").write_bytes(b"\x00" * 100)
    hub.add_folder("someone/broken-cnn", folder)
    assert "model.safetensors" in refusal(store, "cnn", "someone/broken-cnn")


@pytest.mark.parametrize(
    ("repo", "revision", "says"),
    [
        ("", "", "Type a Hub repo id"),
        ("not a repo", "", "ORG/NAME"),
        ("../../etc/passwd", "", "ORG/NAME"),
        ("someone/x", "../../main", "not a commit hash"),
        ("a" * 300 + "/b", "", "ORG/NAME"),
    ],
)
def test_malformed_repo_ids_and_revisions_are_refused_without_a_request(repo, revision, says):
    with pytest.raises(WeightsError, match=re.escape(says)):
        user_source(repo, revision)


def test_a_missing_repo_or_revision_says_so(hub, store, tmp_path):
    assert "not found" in refusal(store, "cnn", "someone/does-not-exist")
    publish(hub, small_cnn(), tmp_path / "m", "someone/tiny")
    assert "not found" in refusal(store, "cnn", "someone/tiny", "no-such-branch")


def test_whoever_runs_the_app_can_turn_the_panels_off():
    import gradio as gr

    from archdemo.ui.own_model import own_model_picker

    off = Settings.from_env({"ARCHDEMO_USER_MODELS": "off"}, device="cpu")  # as app.py reads it
    assert off.user_models is False
    with gr.Blocks() as demo:
        _, events = own_model_picker(ModelStore(off), "cnn")
    assert events == [] and not [b for b in demo.blocks.values() if isinstance(b, gr.Accordion)]
    on = Settings.from_env({"ARCHDEMO_USER_MODELS": "on"}, device="cpu")
    assert on.user_models is True and Settings().user_models is True  # on unless turned off
    with gr.Blocks() as demo:
        _, events = own_model_picker(ModelStore(on), "cnn")
    assert len(events) == 2 and [b for b in demo.blocks.values() if isinstance(b, gr.Accordion)]


# ----- in the browser ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_with_hub(tmp_path_factory):
    """The app as a user starts it, whose Hub is the stand-in, holding a CNN with letters for labels."""
    from bench.common import start_app, wait_http

    folder = tmp_path_factory.mktemp("lettered")
    torch.manual_seed(0)
    lettered = DigitCNN(DigitCNNConfig(channels=(4, 8, 8), labels=list("abcdefghij"))).eval()
    vocab = ModelStore(Settings(device="cpu")).get("transformer").config.vocab
    small = SentimentTransformer(SentimentTransformerConfig(vocab=vocab, d_model=32, num_heads=2, num_layers=1)).eval()
    with HubStandin() as standin:
        standin.add_folder("someone/lettered-cnn", save_pretrained(lettered, folder / "cnn"))
        standin.add_folder("someone/small-transformer", save_pretrained(small, folder / "transformer"))
        env = {
            "ARCHDEMO_DEVICE": "cpu",
            "HF_ENDPOINT": standin.url,
            "HF_HOME": str(tmp_path_factory.mktemp("hf")),
            "HF_HUB_OFFLINE": "0",
            "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
        }
        app = start_app("app.py", env, "test_own_model_app.log")
        try:
            wait_http(app, timeout=120)
            yield app.url
        finally:
            app.stop()


@pytest.fixture
def app_page(browser, app_with_hub):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_with_hub)
    page.wait_for_selector("#cnn-sketchpad canvas", timeout=30_000)
    yield page
    page.close()


def ask_for_model(page, tab: str, repo: str, expect: str) -> str:
    """Open a tab's "use your own model" panel, ask for ``repo``; wait until its status matches ``expect``."""
    panel = page.locator(f"#{tab}-own")
    if not page.locator(f"#{tab}-own-load").is_visible():
        panel.get_by_text("Use your own model").click()
    page.locator(f"#{tab}-own-repo textarea, #{tab}-own-repo input").first.fill(repo)
    page.locator(f"#{tab}-own-load").click()
    page.wait_for_function(
        f"() => /{expect}/.test(document.querySelector('#{tab}-own-status').innerText)", timeout=30_000
    )
    return page.locator(f"#{tab}-own-status").inner_text()


@pytest.mark.browser
def test_a_visitor_loads_their_own_cnn_in_the_browser_and_goes_back(app_page):
    from test_browser import SEVEN, draw

    page = app_page
    draw(page, "#cnn-sketchpad", SEVEN)
    prediction = "document.querySelector('#cnn-prediction').innerText"
    page.wait_for_function(f"() => /^\\s*7\\b/.test({prediction})", timeout=30_000)

    assert "ORG/NAME" in ask_for_model(page, "cnn", "not a repo", "Not loaded")
    ask_for_model(page, "cnn", "someone/lettered-cnn", "Using someone\\/lettered-cnn")
    # The drawing is read again by the visitor's model: its labels are letters.
    page.wait_for_function(f"() => /^\\s*[a-j]\\b/.test({prediction})", timeout=30_000)

    page.locator("#cnn-own-reset").click()
    page.wait_for_function(f"() => /^\\s*7\\b/.test({prediction})", timeout=30_000)


@pytest.mark.browser
def test_the_attention_menus_follow_a_loaded_transformers_layers_and_heads(app_page):
    from test_browser import open_tab

    page = app_page
    open_tab(page, "Transformer")
    page.locator("#transformer-input textarea").fill("a warm and funny film")
    ask_for_model(page, "transformer", "someone/small-transformer", "Using someone\\/small-transformer")
    # 1 layer, 2 heads: the menus offer exactly those, and the map is redrawn for that model.
    page.wait_for_function("() => document.querySelector('#transformer-layer input').value === '1'", timeout=30_000)
    page.locator("#transformer-head input").click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=30_000)
    assert [o.replace("✓", "").strip() for o in options.all_inner_texts()] == ["all (average)", "1", "2"]


def test_messages_shown_to_visitors_name_files_not_server_folders(hub, store, tmp_path):
    from archdemo.ui.errors import public_message

    folder = save_pretrained(small_cnn(), tmp_path / "broken")
    (folder / "model.safetensors").write_bytes(b"\x00" * 100)
    hub.add_folder("someone/broken", folder)
    with pytest.raises(WeightsError) as e:
        store.load_user_model("cnn", "someone/broken")
    assert str(tmp_path) in str(e.value)  # the log keeps the full path...
    shown = public_message(e.value)
    assert "model.safetensors" in shown and str(tmp_path) not in shown and "/" not in shown.split("model")[0]


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        ("weights/cnn/config.json not found", "config.json not found"),  # relative: once "weightsconfig.json"
        ("/srv/hub/abc/model.safetensors is not a readable safetensors file", "model.safetensors is not"),
        ("cannot read 'cache/x/tokenizer.json'", "cannot read 'tokenizer.json'"),
    ],
)
def test_a_path_in_a_message_becomes_its_file_name(error, shown):
    from archdemo.ui.errors import public_message

    assert public_message(WeightsError(error)).startswith(shown)


# ----- the drawing pad's model: only what this visitor's panel chose --------------------------------------------


@pytest.mark.parametrize("choice", ["/proc/self/cwd/weights/cnn", "weights/cnn", "hub:", "../weights/cnn"])
def test_a_choice_that_is_not_a_hub_repo_is_refused_without_touching_the_disk(store, choice):
    with pytest.raises(WeightsError) as e:
        store.get("cnn", choice)
    assert str(e.value) == "that model is not available on this server"


def test_with_own_models_off_no_path_loads_one(hub, tmp_path):
    sha = publish(hub, small_cnn(), tmp_path / "m", "someone/off-cnn")
    off = ModelStore(Settings(device="cpu", user_models=False))
    with pytest.raises(WeightsError, match="turned off"):
        off.load_user_model("cnn", "someone/off-cnn")
    with pytest.raises(WeightsError, match="not available"):
        off.get("cnn", f"hub:someone/off-cnn@{sha}")
    assert hub.paths() == []  # and the Hub was never asked


def live_pad(store):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from archdemo.inputs.images import to_pad
    from archdemo.serving.answers import Answers
    from archdemo.ui.cnn import live_reader
    from archdemo.ui.own_model import PadChoices

    pad = PadChoices()
    live = live_reader(store, Answers(store), pad)
    pixels = to_pad(prepare_digit(digit(3)))

    def ask(model) -> dict:  # on a thread of its own: the browser tests' Playwright holds this one's event loop
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, live({"pixels": pixels, "model": model})).result()

    return pad, ask


def test_the_pad_reads_with_a_visitors_model_only_through_the_token_their_panel_gave(hub, store, tmp_path):
    from archdemo.ui.own_model import UNKNOWN_MODEL

    publish(hub, DigitCNN(DigitCNNConfig(channels=(4, 8, 8), labels=list("abcdefghij"))).eval(), tmp_path, "a/b")
    choice, _ = store.load_user_model("cnn", "a/b")
    pad, ask = live_pad(store)
    token = pad.token_for(choice)
    assert token and "a/b" not in token  # opaque: the browser never holds a repo or a path
    assert ask(token)["label"] in "abcdefghij"
    assert ask(None)["label"] in "0123456789"  # no model: archdemo's
    for model in ["/proc/self/cwd/weights/cnn", "weights/cnn", choice, "hub:a/b@main", 42, ["x"], token + "x"]:
        assert ask(model) == {"error": UNKNOWN_MODEL}, model
    assert pad.token_for(None) is None and pad.token_for(choice) != token  # a fresh token each time


def test_with_own_models_off_the_pad_takes_no_model(tmp_path):
    from archdemo.ui.own_model import UNKNOWN_MODEL

    off = ModelStore(Settings(device="cpu", user_models=False))
    pad, ask = live_pad(off)
    assert ask(pad.token_for("hub:a/b@" + "0" * 40)) == {"error": UNKNOWN_MODEL}
    assert ask("/proc/self/cwd/weights/cnn") == {"error": UNKNOWN_MODEL}


# ----- what a visitor's repo may cost on disk ------------------------------------------------------------------


def files_under(folder: Path) -> dict[str, int]:
    """Bytes on disk per file (a cache's snapshots are links to its blobs: counted once, as blobs)."""
    found = (p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return {str(p.relative_to(folder)): p.stat().st_size for p in found}


def oversized_config() -> str:
    """A config.json of 2 MB: a real CNN's fields padded with spaces (still valid JSON)."""
    return json.dumps({"architecture": "DigitCNN", "channels": [4, 8, 8]}) + " " * (2 * 2**20)


def test_an_oversized_config_is_refused_from_its_announced_size_before_a_byte_is_kept(hub, store, tmp_path):
    hub.add_commit("someone/big-config", {"config.json": oversized_config(), "model.safetensors": b"x" * 64})
    message = refusal(store, "cnn", "someone/big-config")
    assert "config.json" in message and "2 MB" in message and "1 MB" in message, message
    assert not [p for p in hub.paths("GET") if p.endswith("config.json")]  # asked its size (HEAD), never its bytes
    assert not [f for f, size in files_under(tmp_path / "hf").items() if size > 2**20]


@pytest.mark.parametrize("announced", [None, 100], ids=["size-omitted", "size-understated"])
def test_an_oversized_config_is_stopped_on_its_bytes_when_the_hub_hides_its_size(hub, store, tmp_path, announced):
    import dataclasses

    import huggingface_hub
    from huggingface_hub import file_download

    real = file_download.get_hf_file_metadata

    def lying(*args, **kwargs):  # what a server that omits or understates Content-Length makes the client see
        return dataclasses.replace(real(*args, **kwargs), size=announced)

    monkeypatch = pytest.MonkeyPatch()
    with monkeypatch.context() as m:
        m.setattr(file_download, "get_hf_file_metadata", lying)
        m.setattr(huggingface_hub, "get_hf_file_metadata", lying)
        hub.add_commit("someone/lying-config", {"config.json": oversized_config(), "model.safetensors": b"x" * 64})
        message = refusal(store, "cnn", "someone/lying-config")
    assert "config.json" in message and "1 MB" in message, message
    assert not [f for f, size in files_under(tmp_path / "hf").items() if size > 2**20]


def test_visitors_downloads_stay_in_a_bounded_cache_of_their_own(hub, tmp_path, monkeypatch):
    from archdemo.weights import visitor_files

    store = ModelStore(Settings(device="cpu"))
    repos = [f"someone/cnn-{k}" for k in range(6)]
    for k, repo in enumerate(repos):
        torch.manual_seed(k)
        publish(hub, DigitCNN(DigitCNNConfig(channels=(4, 8, 8))).eval(), tmp_path / repo, repo)
    cache = visitor_files.cache_dir()
    store.load_user_model("cnn", repos[0])
    one_repo = sum(files_under(cache).values())
    assert one_repo > 0
    bound = int(2.5 * one_repo)  # room for two repos, not three
    monkeypatch.setattr(visitor_files, "CACHE_MAX_BYTES", bound)

    for repo in repos[1:4]:
        store.load_user_model("cnn", repo)
        assert sum(files_under(cache).values()) <= bound
    store.load_user_model("cnn", repos[2])  # used again: now the most recent
    store.load_user_model("cnn", repos[4])
    assert sum(files_under(cache).values()) <= bound
    kept = {p.name for p in cache.iterdir() if p.name.startswith("models--")}
    assert kept == {"models--someone--cnn-2", "models--someone--cnn-4"}, kept  # the least recently used went
    store.load_user_model("cnn", repos[0])  # an evicted repo downloads again and loads
    hub_cache = tmp_path / "hf" / "hub"
    assert not [p for p in hub_cache.iterdir() if p.name.startswith("models--someone--")]  # not the app's cache


def test_a_download_that_takes_too_long_is_stopped(hub, store, tmp_path, monkeypatch):
    from archdemo.weights import visitor_files

    publish(hub, small_cnn(), tmp_path / "m", "someone/slow-cnn")
    monkeypatch.setattr(visitor_files, "DOWNLOAD_TIMEOUT_S", -1.0)  # every byte arrives "too late"
    message = refusal(store, "cnn", "someone/slow-cnn")
    assert "config.json took over" in message, message
    assert not [f for f in files_under(visitor_files.cache_dir()) if f.endswith("config.json")]


def test_a_fine_tuned_model_on_a_base_of_the_visitors_choosing_is_refused_before_the_base_is_asked(hub, store):
    config = {"architecture": "PretrainedSentimentTransformer", "base_repo": "someone/huge-base", "hidden_size": 32}
    config |= {"num_layers": 1, "num_heads": 2, "intermediate_size": 64, "vocab_size": 100, "max_len": 32}
    hub.add_commit("someone/other-base", {"config.json": json.dumps(config), "model.safetensors": b"x" * 64})
    message = refusal(store, "pretrained_transformer", "someone/other-base")
    assert "someone/huge-base" in message and "own base" in message, message
    assert not [p for p in hub.paths() if "huge-base" in p]


def test_the_bytes_are_counted_as_they_arrive_when_no_size_is_given_at_all():
    """A chunked answer with no Content-Length and no announced size: the count of bytes stops it."""
    from archdemo.weights import visitor_files

    bar = visitor_files.capped_progress("config.json", 2**20)(total=None, desc="config.json")
    for _ in range(4):
        bar.update(256 * 2**10)  # exactly 1 MB: allowed
    with pytest.raises(visitor_files.FileRefused, match="config.json is over 1 MB"):
        bar.update(1)
