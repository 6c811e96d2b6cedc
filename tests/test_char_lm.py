"""The character models: shapes, causality, the step APIs against the full forward, references, scoring."""

from __future__ import annotations

import pytest
import torch

from archdemo.inputs.characters import decode, encode, split, vocabulary
from archdemo.models import CharGPT, CharGPTConfig, CharRNN, CharRNNConfig
from archdemo.models.char_lm import SHAKESPEARE_CHARS, CausalSelfAttention
from archdemo.training.scoring import validation_loss, window_plan
from archdemo.weights.hub import WeightsSource, load_model, save_pretrained

V = len(SHAKESPEARE_CHARS)


def gpt(**fields) -> CharGPT:
    torch.manual_seed(0)
    config = {"block_size": 32, "d_model": 48, "num_heads": 3, "num_layers": 2, **fields}
    return CharGPT(CharGPTConfig(**config)).eval()


def rnn(**fields) -> CharRNN:
    torch.manual_seed(0)
    return CharRNN(CharRNNConfig(**{"embed_dim": 16, "hidden_size": 32, "num_layers": 2, **fields})).eval()


def ids(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, V, shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("make", [gpt, rnn])
def test_logits_for_every_position(make):
    out = make()(ids(3, 20))
    assert out.shape == (3, 20, V) and torch.isfinite(out).all()


@pytest.mark.parametrize("make", [gpt, rnn])
def test_a_later_character_never_changes_earlier_predictions(make):
    model, x = make(), ids(2, 24)
    y = x.clone()
    y[:, 10] = (y[:, 10] + 1) % V
    a, b = model(x), model(y)
    torch.testing.assert_close(a[:, :10], b[:, :10])
    assert not torch.allclose(a[:, 10:], b[:, 10:])


def test_gpt_key_value_cache_gives_the_full_forward():
    model, x = gpt(), ids(2, 32)
    full = model(x)
    logits, cache, _ = model.read(x[:, :20])  # a prompt, then one character at a time
    steps = [logits]
    for t in range(20, 32):
        logits, cache, _ = model.read(x[:, t : t + 1], cache)
        steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, 1), full, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="block_size"):
        model.read(x[:, :1], cache)  # a 33rd character does not fit the window


def test_gpt_attention_weights_are_causal_and_give_the_same_answer():
    model, x = gpt(), ids(1, 16)
    logits, _, weights = model.read(x, need_weights=True)
    torch.testing.assert_close(logits, model(x), atol=1e-5, rtol=1e-4)
    assert len(weights) == 2 and weights[0].shape == (1, 3, 16, 16)
    for w in weights:
        torch.testing.assert_close(w.sum(-1), torch.ones(1, 3, 16))
        assert (w.triu(diagonal=1) == 0).all()  # nobody looks ahead


def test_causal_attention_matches_torch_multihead_attention():
    torch.manual_seed(0)
    config = CharGPTConfig(d_model=16, num_heads=4, dropout=0.0)
    ours = CausalSelfAttention(config).eval()
    ref = torch.nn.MultiheadAttention(16, 4, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.qkv.weight)
        ref.in_proj_bias.copy_(ours.qkv.bias)
        ref.out_proj.weight.copy_(ours.out.weight)
        ref.out_proj.bias.copy_(ours.out.bias)
    x = torch.randn(2, 7, 16)
    future = torch.ones(7, 7, dtype=torch.bool).triu(1)
    y_ref, w_ref = ref(x, x, x, attn_mask=future, average_attn_weights=False)
    y, _, w = ours(x, None, need_weights=True)
    torch.testing.assert_close(w, w_ref, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(y, y_ref, atol=1e-5, rtol=1e-4)
    y_fast, _, _ = ours(x, None, need_weights=False)  # the training path (scaled_dot_product_attention)
    torch.testing.assert_close(y_fast, y_ref, atol=1e-5, rtol=1e-4)


def test_gpt_head_is_tied_to_the_embeddings_unless_asked_otherwise():
    assert "head.weight" not in gpt().state_dict()
    untied = gpt(tie_weights=False)
    assert untied.state_dict()["head.weight"].shape == (V, 48)


def test_rnn_step_by_step_equals_the_full_forward():
    model, x = rnn(), ids(2, 15)
    full_logits, full_hidden, (h, c) = model.read(x)
    state, logits, hidden = None, [], []
    for t in range(15):
        lg, hd, state = model.step(x[:, t], state)
        logits.append(lg)
        hidden.append(hd)
    torch.testing.assert_close(torch.stack(logits, 1), full_logits, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(torch.stack(hidden, 1), full_hidden, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(state[0], h, atol=1e-5, rtol=1e-4)
    assert full_hidden.shape == (2, 15, 32) and h.shape == (2, 2, 32)


def test_rnn_carries_its_state_across_calls():
    model, x = rnn(), ids(1, 30)
    _, _, state = model.read(x[:, :12])
    torch.testing.assert_close(model(x[:, 12:], state), model(x)[:, 12:], atol=1e-5, rtol=1e-4)


def test_rnn_written_out_equations_equal_the_fused_lstm():
    """What writing uses (faster on a CPU for one sequence) against nn.LSTM's own kernel, from a carried state."""
    model, x = rnn(), ids(3, 25)
    _, _, state = model.read(x[:, :5])
    fused, unfused = model.read(x[:, 5:], state), model.read(x[:, 5:], state, fused=False)
    for a, b in zip((fused[0], fused[1], *fused[2]), (unfused[0], unfused[1], *unfused[2]), strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(
    "cls, fields, message",
    [
        (CharRNNConfig, {"vocab": ["a"]}, "two or more"),
        (CharRNNConfig, {"vocab": ["a", "a"]}, "distinct"),
        (CharGPTConfig, {"vocab": ["ab", "c"]}, "single characters"),
        (CharGPTConfig, {"d_model": 50, "num_heads": 3}, "divide"),
    ],
)
def test_configs_refuse_what_cannot_work(cls, fields, message):
    with pytest.raises(ValueError, match=message):
        cls(**fields)


@pytest.mark.parametrize("make, name", [(gpt, "char_gpt"), (rnn, "char_rnn")])
def test_weights_are_stored_in_half_precision_and_load_as_float32(make, name, tmp_path):
    from safetensors.torch import load_file

    model = make()
    save_pretrained(model, tmp_path)
    assert all(t.dtype == torch.float16 for t in load_file(str(tmp_path / "model.safetensors")).values())
    loaded = load_model(name, WeightsSource("dir", str(tmp_path)))
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    x = ids(2, 16)
    torch.testing.assert_close(loaded(x), model(x), atol=2e-3, rtol=2e-3)


def test_text_round_trips_through_ids_and_splits_as_nanogpt():
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 10
    vocab = vocabulary(text)
    assert decode(encode(text, vocab).tolist(), vocab) == text
    train, val = split(text)
    assert train + val == text and len(train) == int(len(text) * 0.9)


@pytest.mark.parametrize("n, window, stride", [(1000, 64, 32), (1000, 2048, 1792), (777, 100, 90), (65, 64, 32)])
def test_scoring_windows_predict_every_character_once(n, window, stride):
    starts, first = window_plan(n, window, stride)
    window = min(window, n - 1)
    targets = [s + j + 1 for s, f in zip(starts, first, strict=True) for j in range(f, window)]
    assert sorted(targets) == list(range(1, n))  # every character but the first, exactly once
    context = [j + 1 for s, f in zip(starts[1:], first[1:], strict=True) for j in range(f, window)]
    assert min(context, default=window - stride) >= min(window - stride, window)


def test_validation_loss_of_a_uniform_guess_is_log_vocab():
    class Uniform(torch.nn.Module):
        config = CharRNNConfig()

        def forward(self, x):
            return torch.zeros(*x.shape, V)

    assert validation_loss(Uniform(), ids(5000)) == pytest.approx(torch.tensor(float(V)).log().item(), abs=1e-5)


@pytest.fixture(scope="module")
def shakespeare(data):
    path = data / "tinyshakespeare" / "input.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name, most", [("char_gpt", 1.75), ("char_rnn", 1.8)])
def test_bundled_weights_write_like_shakespeare(store, shakespeare, name, most):
    """On the first 20,000 validation characters (the whole text is scored by archdemo.tools.evaluate)."""
    model = store.get(name)
    assert model.config.vocab == vocabulary(shakespeare)
    _, val = split(shakespeare)
    loss = validation_loss(model, encode(val[:20_000], model.config.vocab))
    assert 1.0 < loss < most, f"{name}: validation loss {loss:.3f} on 20,000 characters"
