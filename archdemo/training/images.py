"""Recipes for the two MNIST models: DigitCNN (classify) and DenoisingAutoencoder (denoise)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from archdemo.inputs.images import NOISE_KINDS, add_noise
from archdemo.models import DenoisingAutoencoder, DenoisingAutoencoderConfig, DigitCNN, DigitCNNConfig
from archdemo.training.data import load_mnist
from archdemo.training.loop import Run, TrainConfig, fit, seed_everything
from archdemo.training.subsets import balanced_subset, epochs_for, scored_epoch


def random_affine(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Small random rotations, scalings, shears and shifts, like the wobble of real handwriting.

    x: (B, 1, 28, 28) -> same shape. Done on whole batches with affine_grid, so it costs little.
    """
    B = x.shape[0]
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(B, generator=gen)  # noqa: E731
    angle, scale, shear = u(-0.25, 0.25), u(0.85, 1.1), u(-0.2, 0.2)
    tx, ty = u(-0.12, 0.12), u(-0.12, 0.12)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear, tx], 1), torch.stack([sin, cos, ty], 1)], 1)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def _batches(images: np.ndarray, batch_size: int, seed: int, epoch: int) -> Iterator[np.ndarray]:
    order = np.random.default_rng(seed * 1000 + epoch).permutation(len(images))
    for i in range(0, len(order), batch_size):
        yield order[i : i + batch_size]


def train_cnn(
    data_dir: str | None, device: torch.device, epochs: int = 6, seed: int = 0, limit: int | None = None
) -> DigitCNN:
    """``limit``: a class-balanced subset of that many digits, for as many steps as ``epochs`` of all of them."""
    seed_everything(seed)
    all_images, all_labels = load_mnist("train", data_dir)
    test_images, test_labels = load_mnist("test", data_dir)
    keep = balanced_subset(all_labels, limit, seed)
    images, labels = all_images[keep], all_labels[keep]
    config = DigitCNNConfig()
    model = DigitCNN(config).to(device)
    x_all = torch.from_numpy(images).float().div(255).unsqueeze(1)  # (N, 1, 28, 28)
    y_all = torch.from_numpy(labels)
    gen = torch.Generator().manual_seed(seed)
    bs = 128
    epochs = epochs_for(epochs, len(all_images), len(images), bs)

    def batches(epoch: int):
        for idx in _batches(images, bs, seed, epoch):
            x = random_affine(x_all[idx], gen)
            yield x.to(device), y_all[idx].to(device)  # pixels in [0, 1]: the model normalises

    def loss_fn(m, batch):
        x, y = batch
        return F.cross_entropy(m(x), y, label_smoothing=0.05)

    def report(m, epoch):
        if not scored_epoch(epoch, epochs):
            return ""
        with torch.inference_mode():
            x = torch.from_numpy(test_images).float().div(255).unsqueeze(1)
            pred = torch.cat([m(x[i : i + 1000].to(device)).argmax(1).cpu() for i in range(0, len(x), 1000)])
        return f"test accuracy {(pred.numpy() == test_labels).mean():.4f}"

    cfg = TrainConfig(epochs=epochs, lr=3e-3, weight_decay=5e-4, seed=seed)
    return fit(model, batches, math.ceil(len(images) / bs), loss_fn, cfg, "cnn", report)


def train_autoencoder(
    data_dir: str | None, device: torch.device, epochs: int = 15, seed: int = 0
) -> DenoisingAutoencoder:
    seed_everything(seed)
    images, _ = load_mnist("train", data_dir)
    test_images, _ = load_mnist("test", data_dir)
    model = DenoisingAutoencoder(DenoisingAutoencoderConfig()).to(device)
    clean_all = images.astype(np.float32) / 255.0
    rng = np.random.default_rng(seed)
    bs = 128
    # Mostly Gaussian noise over a range of strengths, some salt-and-pepper and blanked patches,
    # and a few clean images so the model also leaves a clean digit alone.
    kinds = np.array([*NOISE_KINDS, "none"])
    kind_p = np.array([0.6, 0.15, 0.15, 0.1])

    def batches(epoch: int):
        for idx in _batches(images, bs, seed, epoch):
            clean = clean_all[idx]
            noisy = clean.copy()
            picks = rng.choice(len(kinds), size=len(idx), p=kind_p)
            for k, kind in enumerate(kinds[:3]):
                sel = picks == k
                if sel.any():
                    hi = {"gaussian": 0.7, "salt_pepper": 0.5, "patch": 0.5}[kind]
                    noisy[sel] = add_noise(clean[sel], kind, float(rng.uniform(0.05, hi)), rng)
            yield (torch.from_numpy(noisy).unsqueeze(1).to(device), torch.from_numpy(clean).unsqueeze(1).to(device))

    def loss_fn(m, batch):
        noisy, clean = batch
        return F.mse_loss(m(noisy), clean)

    def report(m, epoch):
        clean = test_images[:2000].astype(np.float32) / 255.0
        noisy = add_noise(clean, "gaussian", 0.5, np.random.default_rng(0))
        with torch.inference_mode():
            out = m(torch.from_numpy(noisy).unsqueeze(1).to(device)).squeeze(1).cpu().numpy()
        mse = ((out - clean) ** 2).mean(axis=(1, 2))
        return f"PSNR at sigma 0.5 (2,000 test digits) {np.mean(10 * np.log10(1 / mse)):.2f} dB"

    cfg = TrainConfig(epochs=epochs, lr=2e-3, weight_decay=1e-5, seed=seed)
    return fit(model, batches, math.ceil(len(images) / bs), loss_fn, cfg, "autoencoder", report)


def cnn_recipe(run: Run) -> tuple[DigitCNN, None]:
    return train_cnn(run.data_dir, run.device, seed=run.seed, **run.sized(epochs="epochs")), None


def autoencoder_recipe(run: Run) -> tuple[DenoisingAutoencoder, None]:
    return train_autoencoder(run.data_dir, run.device, seed=run.seed, **run.overrides(epochs="epochs")), None
