"""Every registered model: builds, runs, saves and loads exactly; the Transformer's parts match references."""

from __future__ import annotations

import math

import pytest
import torch

from archdemo.models.transformer import SelfAttention
from archdemo.weights.hub import load_model, save_pretrained
from archdemo.weights.registry import MODELS


def example_input(name: str, model: torch.nn.Module) -> tuple:
    g = torch.Generator().manual_seed(0)
    if MODELS[name].task.startswith("image"):  # every digit model reads (B, 1, 28, 28) pixels in [0, 1]
        return (torch.rand(3, 1, 28, 28, generator=g),)
    c = model.config
    if MODELS[name].task == "text-generation":  # character models: ids only, any in the vocabulary
        return (torch.randint(0, len(c.vocab), (3, 12), generator=g),)
    vocab = len(c.vocab) if hasattr(c, "vocab") else c.vocab_size
    ids = torch.randint(3, vocab, (3, 12), generator=g)
    lengths = torch.tensor([12, 7, 1])
    for i, n in enumerate(lengths):
        ids[i, n:] = c.pad_id
    if name == "transformer":
        ids[:, 0] = c.cls_id
    return ids, lengths


def small(name: str) -> torch.nn.Module:
    spec = MODELS[name]
    if name == "pretrained_transformer":  # the real base (it is what the saved file builds on), adapters nudged
        from archdemo.training.finetune import build

        torch.manual_seed(0)
        model = build()
        with torch.no_grad():
            for p in model.parameters():
                if p.requires_grad:
                    p.add_(torch.randn_like(p) * 0.01)
        return model.eval()
    extra = (
        {"vocab": ["[PAD]", "[UNK]", "[CLS]", *[f"w{i}" for i in range(50)]]}
        if spec.task == "text-classification"  # the word-level readers (the pretrained one returned above)
        else {}
    )
    torch.manual_seed(0)
    model = spec.model_cls(spec.config_cls(**extra)).eval()
    dtype = getattr(model, "save_dtype", None)
    if dtype is not None:  # a model that stores half precision: start from weights that survive it exactly
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(dtype))
    return model


@pytest.mark.parametrize("name", list(MODELS))
def test_builds_and_runs_without_nans(name):
    model = small(name)
    out = model(*example_input(name, model))
    assert torch.isfinite(out).all()
    if name == "autoencoder":
        assert out.shape == (3, 1, 28, 28) and out.min() >= 0 and out.max() <= 1
    elif MODELS[name].task == "text-generation":
        assert out.shape == (3, 12, len(model.config.vocab))  # next-character logits at every position
    else:
        assert out.shape == (3, 10 if MODELS[name].task == "image-classification" else 2)


@pytest.mark.parametrize("name", list(MODELS))
def test_save_load_round_trip_is_exact(name, tmp_path):
    from archdemo.weights.hub import WeightsSource

    model = small(name)
    x = example_input(name, model)
    save_pretrained(model, tmp_path / name)
    loaded = load_model(name, WeightsSource("dir", str(tmp_path / name)))
    assert torch.equal(model(*x), loaded(*x))
    assert loaded.config == model.config


@pytest.mark.parametrize("name", list(MODELS))
def test_bundled_weights_load_strictly_and_are_small(name):
    from archdemo.weights.hub import BUNDLED_DIR

    model = load_model(name)
    assert not model.training
    for f in ("config.json", "model.safetensors", "README.md"):
        path = BUNDLED_DIR / name / f
        assert path.is_file(), f"{path} missing"
        assert path.stat().st_size < 10_000_000, f"{path} is over Spaces' 10 MB limit"


def test_attention_matches_torch_multihead_attention():
    torch.manual_seed(0)
    d, h = 16, 4
    ours = SelfAttention(d, h, dropout=0.0).eval()
    ref = torch.nn.MultiheadAttention(d, h, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.qkv.weight)
        ref.in_proj_bias.copy_(ours.qkv.bias)
        ref.out_proj.weight.copy_(ours.out.weight)
        ref.out_proj.bias.copy_(ours.out.bias)
    x = torch.randn(2, 5, d)
    pad = torch.tensor([[False] * 5, [False, False, False, True, True]])
    y, w = ours(x, pad)
    y_ref, w_ref = ref(x, x, x, key_padding_mask=pad, average_attn_weights=False)
    torch.testing.assert_close(y, y_ref, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(w, w_ref, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, h, 5))
    assert (w[1, :, :, 3:] == 0).all()  # nobody attends to padding


def test_transformer_padding_does_not_change_the_answer():
    model = small("transformer")
    ids = torch.tensor([[2, 5, 6, 7]])
    padded = torch.tensor([[2, 5, 6, 7, 0, 0, 0]])
    torch.testing.assert_close(model(ids), model(padded), atol=1e-5, rtol=1e-5)


def test_transformer_handles_every_length_up_to_max_len_and_refuses_beyond():
    model = small("transformer")
    n = model.config.max_len
    for length in (1, 33, n):  # the article's version broke past 32 tokens
        ids = torch.full((1, length), 5)
        ids[0, 0] = model.config.cls_id
        assert torch.isfinite(model(ids)).all()
    with pytest.raises(ValueError, match="max_len"):
        model(torch.full((1, n + 1), 5))


def test_rnn_step_by_step_reading_ends_in_the_forward_answer():
    model = small("rnn")
    ids = torch.tensor([[5, 9, 11, 4]])
    _, logits = model.read(ids)
    torch.testing.assert_close(logits[:, -1], model(ids, torch.tensor([4])), atol=1e-5, rtol=1e-5)


def test_sinusoidal_positions_are_bounded_and_distinct():
    from archdemo.models.transformer import sinusoidal_positions

    pe = sinusoidal_positions(512, 32)
    assert pe.abs().max() <= 1.0
    assert torch.cdist(pe, pe).add(torch.eye(512) * 10).min() > 0.1
    assert math.isclose(pe[0, 1].item(), 1.0)


def test_cnn_feature_maps_and_cam_shapes():
    model = small("cnn")
    x = torch.rand(2, 1, 28, 28)
    logits, feats = model.forward_with_features(x)
    c = model.config.channels
    assert [tuple(f.shape) for f in feats] == [(2, c[0], 14, 14), (2, c[1], 7, 7), (2, c[2], 7, 7)]
    torch.testing.assert_close(logits, model(x))
    cls = logits.argmax(1)
    cam = model.class_activation_map(feats[-1], cls)
    assert cam.shape == (2, 7, 7)
    # CAM is exact: its mean plus the bias is the class logit.
    torch.testing.assert_close(cam.mean((1, 2)) + model.head.bias[cls], logits.gather(1, cls[:, None])[:, 0])


def test_cnn_normalises_its_own_input_with_its_configs_constants():
    """Callers pass pixels in [0, 1]; the model applies the config's mean and std (written once, here)."""
    model = small("cnn")
    x = torch.rand(3, 1, 28, 28)
    c = model.config
    by_hand = model.head(model.dropout(_stages(model, (x - c.mean) / c.std).mean(dim=(2, 3))))
    torch.testing.assert_close(model(x), by_hand)
    assert "mean" not in model.state_dict() and "std" not in model.state_dict()  # the config carries them


def _stages(model, x):
    for stage in model.stages:
        x = stage(x)
    return x


@pytest.mark.parametrize(
    "cls_name, fields, message",
    [
        ("DigitCNNConfig", {"num_classes": 3, "labels": ["a", "b"]}, "num_classes"),
        ("DigitCNNConfig", {"num_classes": 2, "labels": ["a", "a"]}, "distinct"),
        ("SentimentRNNConfig", {"labels": ["only"]}, "two or more"),
        ("SentimentTransformerConfig", {"labels": ["x", "x"]}, "two or more"),
        ("SentimentTransformerConfig", {"pooling": "max"}, "pooling"),
    ],
)
def test_configs_refuse_labels_they_cannot_mean(cls_name, fields, message):
    import archdemo.models as models

    with pytest.raises(ValueError, match=message):
        getattr(models, cls_name)(**fields)
