"""The five readers of issue 18 (tiny configs, random weights, no data, no network): shapes, insides, invariances."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from archdemo.models.autoencoder import DenoisingAutoencoder, DenoisingAutoencoderConfig
from archdemo.models.autoencoder_probe import AutoencoderProbe, AutoencoderProbeConfig
from archdemo.models.char_cnn import CharCNN, CharCNNConfig
from archdemo.models.digit_rnn import DigitRNN, DigitRNNConfig
from archdemo.models.digit_transformer import DigitTransformer, DigitTransformerConfig
from archdemo.models.text_cnn import TextCNN, TextCNNConfig
from archdemo.training.subsets import balanced_subset, epochs_for

VOCAB = ["[PAD]", "[UNK]", *[f"w{i}" for i in range(30)]]


def tiny_models() -> dict[str, nn.Module]:
    torch.manual_seed(0)
    return {
        "digit_rnn": DigitRNN(DigitRNNConfig(hidden_size=16)),
        "digit_transformer": DigitTransformer(DigitTransformerConfig(d_model=16, num_heads=2, num_layers=2)),
        "autoencoder_probe": AutoencoderProbe(AutoencoderProbeConfig(latent_dim=8, channels=(4, 8))),
        "text_cnn": TextCNN(TextCNNConfig(vocab=VOCAB, embed_dim=8, num_filters=3)),
        "char_cnn": CharCNN(CharCNNConfig(channels=16, kernel_size=2, dilations=(1, 2, 4))),
    }


def example_input(name: str) -> tuple:
    g = torch.Generator().manual_seed(1)
    if name.startswith("digit") or name == "autoencoder_probe":
        return (torch.rand(3, 1, 28, 28, generator=g),)
    if name == "text_cnn":
        return torch.randint(2, len(VOCAB), (3, 7), generator=g), torch.tensor([7, 4, 1])
    return (torch.randint(0, 65, (3, 20), generator=g),)


@pytest.mark.parametrize("name", list(tiny_models()))
def test_shapes_no_nan_and_safetensors_round_trip(name, tmp_path):
    model = tiny_models()[name].eval()
    with torch.inference_mode():
        out = model(*example_input(name))
    want = {"text_cnn": (3, 2), "char_cnn": (3, 20, 65)}.get(name, (3, 10))
    assert out.shape == want and torch.isfinite(out).all()
    # config.json and model.safetensors as the weights folder holds them: JSON turns tuples into lists.
    data = json.loads(json.dumps(dataclasses.asdict(model.config)))
    config = type(model.config)(**{k: tuple(v) if isinstance(getattr(model.config, k), tuple) else v
                                   for k, v in data.items()})  # fmt: skip
    assert config == model.config
    dtype = getattr(model, "save_dtype", None)
    state = {
        k: (v.to(dtype) if dtype and v.is_floating_point() else v).contiguous() for k, v in model.state_dict().items()
    }
    save_file(state, str(tmp_path / "model.safetensors"))
    again = type(model)(config)
    again.load_state_dict(load_file(str(tmp_path / "model.safetensors")), strict=True)
    with torch.inference_mode():
        tol = 1e-2 if dtype == torch.float16 else 1e-6
        torch.testing.assert_close(again.eval()(*example_input(name)), out, atol=tol, rtol=tol)


def test_digit_rnn_reads_row_by_row_and_its_last_row_is_forward():
    model = tiny_models()["digit_rnn"].eval()
    (x,) = example_input("digit_rnn")
    with torch.inference_mode():
        hidden, logits = model.read(x)
        assert hidden.shape == (3, 28, 16) and logits.shape == (3, 28, 10)
        torch.testing.assert_close(logits[:, -1], model(x))
        # Row t's opinion depends on rows <= t only: changing the bottom half leaves the top half's alone.
        x2 = x.clone()
        x2[:, :, 14:] = torch.rand_like(x2[:, :, 14:])
        torch.testing.assert_close(model.read(x2)[1][:, :14], logits[:, :14])


def test_vit_attention_rows_sum_to_one_and_class_token_sees_every_patch():
    model = tiny_models()["digit_transformer"].eval()
    (x,) = example_input("digit_transformer")
    with torch.inference_mode():
        logits, attentions = model.forward_with_attention(x)
        torch.testing.assert_close(logits, model(x), atol=1e-5, rtol=1e-5)  # the SDPA path agrees
    assert len(attentions) == 2
    for a in attentions:
        assert a.shape == (3, 2, 50, 50)
        torch.testing.assert_close(a.sum(-1), torch.ones(3, 2, 50))
    pictures = DigitTransformer.class_attention(attentions)
    assert pictures.shape == (3, 2, 2, 7, 7)  # (B, layers, heads, grid, grid): one weight per patch
    torch.testing.assert_close(pictures.sum((-1, -2)) + torch.stack([a[:, :, 0, 0] for a in attentions], 1),
                               torch.ones(3, 2, 2))  # fmt: skip


def test_vit_patches_are_row_major_and_attention_matches_torch():
    model = tiny_models()["digit_transformer"].eval()
    x = torch.arange(28 * 28.0).reshape(1, 1, 28, 28)
    p = model.patches(x)  # (1, 49, 16)
    torch.testing.assert_close(p[0, 8].reshape(4, 4), x[0, 0, 4:8, 4:8])  # patch 8: grid row 1, column 1
    attn = model.layers[0].attn
    ref = nn.MultiheadAttention(16, 2, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(attn.qkv.weight)
        ref.in_proj_bias.copy_(attn.qkv.bias)
        ref.out_proj.weight.copy_(attn.out.weight)
        ref.out_proj.bias.copy_(attn.out.bias)
        h = torch.randn(2, 50, 16)
        want, want_w = ref(h, h, h, need_weights=True, average_attn_weights=False)
        got, got_w = attn(h, need_weights=True)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got_w, want_w, atol=1e-6, rtol=1e-5)


def test_text_cnn_padding_never_changes_the_answer_and_windows_stay_inside():
    model = tiny_models()["text_cnn"].eval()
    ids, lengths = example_input("text_cnn")
    ids = ids.masked_fill(torch.arange(7)[None, :] >= lengths[:, None], 0)
    with torch.inference_mode():
        out = model(ids, lengths)
        padded = torch.cat([ids, torch.zeros(3, 9, dtype=torch.long)], 1)
        torch.testing.assert_close(model(padded, lengths), out)
        # Whatever sits in the padding (even real word ids, or a trained [PAD] vector) is not read.
        torch.testing.assert_close(model(padded.masked_fill(padded == 0, 5), lengths), out)
        for i in range(3):  # each sentence alone, unpadded
            torch.testing.assert_close(model(ids[i : i + 1, : lengths[i]], lengths[i : i + 1]), out[i : i + 1])
        values, starts, widths = model.filter_maxima(ids, lengths)
        torch.testing.assert_close(model.head(values), out)  # the maxima are all the head sees
    assert values.shape == starts.shape == (3, 15)
    assert widths.tolist() == [w for w in (1, 2, 3, 4, 5) for _ in range(3)]
    assert (values >= 0).all() and (starts >= 0).all()
    last = (lengths[:, None] - widths[None, :]).clamp(min=0)  # a one-word sentence: every window starts at 0
    assert (starts <= last).all()


@pytest.mark.parametrize(("kernel", "dilations"), [(2, (1, 2, 4)), (3, (1, 2, 4, 1))])
def test_char_cnn_is_strictly_causal_and_sees_its_receptive_field(kernel, dilations):
    torch.manual_seed(0)
    model = CharCNN(CharCNNConfig(channels=16, kernel_size=kernel, dilations=dilations)).eval()
    x = torch.randint(0, 65, (2, 40))
    with torch.no_grad():
        out = model(x)
        for t in (0, 5, 17, 38):
            changed = x.clone()
            changed[:, t + 1 :] = torch.randint(0, 65, changed[:, t + 1 :].shape)
            torch.testing.assert_close(model(changed)[:, : t + 1], out[:, : t + 1], atol=0, rtol=0)
    # Which inputs the last position's output depends on, by its gradient on the embeddings.
    kept = {}

    def keep(module, inputs, output):
        output.retain_grad()
        kept["e"] = output  # (1, T, C)

    handle = model.embedding.register_forward_hook(keep)
    model(x)[0, -1].sum().backward()
    handle.remove()
    seen = (kept["e"].grad[0].abs().sum(-1) > 0).nonzero().flatten().tolist()
    rf = model.receptive_field
    assert rf == 1 + (kernel - 1) * sum(dilations)
    assert seen == list(range(40 - rf, 40))


def test_char_cnn_reads_in_pieces_as_at_once():
    model = tiny_models()["char_cnn"].eval()
    (x,) = example_input("char_cnn")
    with torch.inference_mode():
        whole = model(x)
        a, cache = model.read(x[:, :3])
        b, cache = model.step(x[:, 3], cache)
        c, _ = model.read(x[:, 4:], cache)
    torch.testing.assert_close(torch.cat([a, b[:, None], c], 1), whole, atol=1e-5, rtol=1e-5)


def test_probe_holds_the_autoencoders_encoder_exactly_and_never_trains_it():
    torch.manual_seed(0)
    ae = DenoisingAutoencoder(DenoisingAutoencoderConfig(latent_dim=8, channels=(4, 8)))
    probe = AutoencoderProbe(AutoencoderProbeConfig(latent_dim=8, channels=(4, 8)))
    probe.copy_encoder(ae)
    ae_state, probe_state = ae.encoder.state_dict(), probe.encoder.state_dict()
    assert list(ae_state) == list(probe_state)
    assert all(torch.equal(ae_state[k], probe_state[k]) for k in ae_state)
    assert {k.removeprefix("encoder.") for k in probe.state_dict() if k.startswith("encoder.")} == set(ae_state)
    (x,) = example_input("autoencoder_probe")
    logits, code = probe.forward_with_code(x)
    torch.testing.assert_close(code, ae.encode(x))
    cls = logits.argmax(1)
    torch.testing.assert_close(
        probe.contributions(code, cls).sum(1) + probe.head.bias[cls], logits.gather(1, cls[:, None])[:, 0]
    )
    logits.logsumexp(1).sum().backward()
    assert all(p.grad is None and not p.requires_grad for p in probe.encoder.parameters())
    assert probe.head.weight.grad is not None and probe.head.weight.grad.abs().sum() > 0
    assert [n for n, p in probe.named_parameters() if p.requires_grad] == ["head.weight", "head.bias"]


def test_balanced_subset_and_step_budget():
    labels = np.repeat(np.arange(10), [50, 60, 70, 80, 90, 100, 110, 120, 130, 140])
    pick = balanced_subset(labels, 100, seed=0)
    assert len(pick) == len(set(pick.tolist())) == 100 and np.bincount(labels[pick]).tolist() == [10] * 10
    assert np.array_equal(pick, balanced_subset(labels, 100, seed=0))
    assert len(balanced_subset(labels, None, 0)) == len(labels)
    assert epochs_for(10, 60_000, 60_000, 128) == 10
    assert epochs_for(10, 60_000, 600, 128) == 938  # 4,690 steps either way (5 batches per pass)


def test_length_groups_batch_every_phrase_once_by_similar_length():
    from archdemo.training.text import length_group_count, length_groups

    rows = [[0] * int(k) for k in np.random.default_rng(0).integers(1, 60, 7_000)]
    groups = length_groups(np.random.default_rng(3), rows, 64)
    assert len(groups) == length_group_count(len(rows), 64)  # the schedule's steps per epoch
    assert sorted(int(j) for g in groups for j in g) == list(range(len(rows)))  # each phrase once
    assert all(len(g) <= 64 for g in groups)
    spread = np.mean([max(len(rows[j]) for j in g) - min(len(rows[j]) for j in g) for g in groups])
    assert spread < 10  # sorted within chunks: a batch's phrases have similar lengths (random: ~55)
