"""Recipes for three more MNIST readers: DigitRNN (rows), DigitTransformer (patches), AutoencoderProbe (codes).

DigitRNN and DigitTransformer train like DigitCNN (``training.images``): the same random affine wobble,
label smoothing and one-cycle schedule through ``loop.fit``. AutoencoderProbe trains only its linear head,
on the codes of the bundled denoising autoencoder, which never sees a label.

Every recipe takes ``limit`` (train on a class-balanced subset of that many digits, with the same number
of optimiser steps as the full set: ``training.subsets``) and returns (model, training record).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from archdemo.models.autoencoder import DenoisingAutoencoder
from archdemo.models.autoencoder_probe import AutoencoderProbe, AutoencoderProbeConfig
from archdemo.models.digit_rnn import DigitRNN, DigitRNNConfig
from archdemo.models.digit_transformer import DigitTransformer, DigitTransformerConfig
from archdemo.paths import bundled
from archdemo.training.data import load_mnist
from archdemo.training.images import random_affine
from archdemo.training.loop import Run, TrainConfig, fit, seed_everything
from archdemo.training.subsets import balanced_subset, epochs_for, scored_epoch

BUDGET_RULE = (
    "limit=n: a class-balanced subset of n training digits (seeded), trained for as many optimiser steps "
    "as the full 60,000 get (epochs scaled up)"
)


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray, device: torch.device) -> float:
    """Top-1 accuracy on uint8 images (N, 28, 28), read in batches of 1,000 in eval mode."""
    model.eval()
    with torch.inference_mode():
        x = torch.from_numpy(images).float().div(255).unsqueeze(1)  # (N, 1, 28, 28) in [0, 1]
        pred = torch.cat([model(x[i : i + 1000].to(device)).argmax(1).cpu() for i in range(0, len(x), 1000)])
    return float((pred.numpy() == labels).mean())


def _train_classifier(
    name: str,
    model: nn.Module,
    data_dir: str | None,
    device: torch.device,
    epochs: int,
    seed: int,
    limit: int | None,
    cfg: TrainConfig,
    bf16: bool,
    batch_size: int = 128,
) -> tuple[nn.Module, dict]:
    """Cross-entropy on wobbled training digits, test accuracy after each epoch."""
    wall = time.perf_counter()
    images, labels = load_mnist("train", data_dir)
    test_images, test_labels = load_mnist("test", data_dir)
    keep = balanced_subset(labels, limit, seed)
    x_all = torch.from_numpy(images[keep]).float().div(255).unsqueeze(1)  # (N, 1, 28, 28)
    y_all = torch.from_numpy(labels[keep])
    cfg.epochs = epochs_for(epochs, len(images), len(keep), batch_size)
    gen = torch.Generator().manual_seed(seed)
    order_rng = np.random.default_rng(seed)
    model.to(device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)

    def batches(epoch: int):
        order = order_rng.permutation(len(keep))
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            yield random_affine(x_all[idx], gen).to(device), y_all[idx].to(device)

    def loss_fn(m, batch):
        x, y = batch
        with autocast:
            logits = m(x)
        return F.cross_entropy(logits.float(), y, label_smoothing=0.05)

    def report(m, epoch):
        if not scored_epoch(epoch, cfg.epochs):
            return ""
        return f"test accuracy {accuracy(m, test_images, test_labels, device):.4f}"

    steps = math.ceil(len(keep) / batch_size)
    start = time.perf_counter()
    fit(model, batches, steps, loss_fn, cfg, name, report)
    train_seconds = time.perf_counter() - start
    record = {
        "model": name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "training_examples": len(keep),
        "limit": limit,
        "budget_rule": BUDGET_RULE,
        "epochs": cfg.epochs,
        "steps": cfg.epochs * steps,
        "batch_size": batch_size,
        "lr": cfg.lr,
        "weight_decay": cfg.weight_decay,
        "bf16_autocast": bf16,
        "seed": seed,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "train_seconds": round(train_seconds, 1),
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "test_accuracy": accuracy(model, test_images, test_labels, device),
    }
    return model.eval(), record


def train_digit_rnn(
    data_dir: str | None, device: torch.device, epochs: int = 10, seed: int = 0, limit: int | None = None
) -> tuple[DigitRNN, dict]:
    seed_everything(seed)
    model = DigitRNN(DigitRNNConfig())
    cfg = TrainConfig(lr=3e-3, weight_decay=1e-4, seed=seed)
    return _train_classifier("digit_rnn", model, data_dir, device, epochs, seed, limit, cfg, bf16=False)


def train_digit_transformer(
    data_dir: str | None, device: torch.device, epochs: int = 12, seed: int = 0, limit: int | None = None
) -> tuple[DigitTransformer, dict]:
    seed_everything(seed)
    model = DigitTransformer(DigitTransformerConfig())
    cfg = TrainConfig(lr=2e-3, weight_decay=0.05, seed=seed)
    return _train_classifier("digit_transformer", model, data_dir, device, epochs, seed, limit, cfg, bf16=True)


def load_autoencoder(folder: str | Path) -> DenoisingAutoencoder:
    """The trained autoencoder from a weights folder (config.json + model.safetensors), strictly."""
    from archdemo.weights.hub import WeightsSource, load_model

    return load_model("autoencoder", WeightsSource("dir", str(folder)))


def train_autoencoder_probe(
    data_dir: str | None,
    device: torch.device,
    autoencoder_dir: str | Path = bundled("autoencoder"),
    epochs: int = 30,
    seed: int = 0,
    limit: int | None = None,
) -> tuple[AutoencoderProbe, dict]:
    """A linear layer on the frozen code. The encoder runs once over the digits (clean, as the app's pad
    draws them, no wobble); the head then trains on the stored codes, which is the same computation."""
    seed_everything(seed)
    wall = time.perf_counter()
    autoencoder = load_autoencoder(autoencoder_dir)
    ae = autoencoder.config
    model = AutoencoderProbe(AutoencoderProbeConfig(latent_dim=ae.latent_dim, channels=ae.channels))
    model.copy_encoder(autoencoder)
    model.to(device).eval()
    images, labels = load_mnist("train", data_dir)
    test_images, test_labels = load_mnist("test", data_dir)
    keep = balanced_subset(labels, limit, seed)
    with torch.inference_mode():
        x = torch.from_numpy(images[keep]).float().div(255).unsqueeze(1)
        codes = torch.cat([model.encoder(x[i : i + 1000].to(device)) for i in range(0, len(x), 1000)])  # (N, 64)
    y_all = torch.from_numpy(labels[keep]).to(device)
    bs = 256
    order_rng = np.random.default_rng(seed)

    def batches(epoch: int):
        order = torch.from_numpy(order_rng.permutation(len(keep)))
        for i in range(0, len(order), bs):
            yield codes[order[i : i + bs]], y_all[order[i : i + bs]]

    def loss_fn(head, batch):
        z, y = batch
        return F.cross_entropy(head(z), y)

    def report(head, epoch):
        if not scored_epoch(epoch, cfg.epochs):
            return ""
        return f"test accuracy {accuracy(model, test_images, test_labels, device):.4f}"

    cfg = TrainConfig(epochs=epochs_for(epochs, len(images), len(keep), bs), lr=1e-2, weight_decay=0.0, seed=seed)
    start = time.perf_counter()
    fit(model.head, batches, math.ceil(len(keep) / bs), loss_fn, cfg, "autoencoder_probe", report)
    train_seconds = time.perf_counter() - start
    record = {
        "model": "autoencoder_probe",
        "parameters": sum(p.numel() for p in model.parameters()),
        "trained_parameters": sum(p.numel() for p in model.head.parameters()),
        "autoencoder": str(autoencoder_dir),
        "training_examples": len(keep),
        "limit": limit,
        "budget_rule": BUDGET_RULE.replace("60,000 get", "60,000 get at batch 256"),
        "epochs": cfg.epochs,
        "steps": cfg.epochs * math.ceil(len(keep) / bs),
        "batch_size": bs,
        "lr": cfg.lr,
        "seed": seed,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "train_seconds": round(train_seconds, 1),
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "test_accuracy": accuracy(model, test_images, test_labels, device),
    }
    return model.eval(), record


def digit_rnn_recipe(run: Run) -> tuple[DigitRNN, dict]:
    return train_digit_rnn(run.data_dir, run.device, seed=run.seed, **run.sized(epochs="epochs"))


def digit_transformer_recipe(run: Run) -> tuple[DigitTransformer, dict]:
    return train_digit_transformer(run.data_dir, run.device, seed=run.seed, **run.sized(epochs="epochs"))


def autoencoder_probe_recipe(run: Run) -> tuple[AutoencoderProbe, dict]:
    return train_autoencoder_probe(run.data_dir, run.device, seed=run.seed, **run.sized(epochs="epochs"))
