"""How a character model is scored: mean cross-entropy over the validation text, every character once.

Training (the curve), ``archdemo.evaluate`` (the cards) and the tests all score a model with
``validation_loss``, over the windows ``window_plan`` lays out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SCORING_WINDOW = 256  # characters per scoring window, for models without a context window of their own


def scoring_windows(model: nn.Module) -> tuple[int, int]:
    """(window, stride) in characters: a window of the GPT's full context (an LSTM: SCORING_WINDOW, the same
    windows as the bundled GPT), scored on its last half, so both models predict each character from the
    same 128 to 255 characters before it."""
    window = getattr(model.config, "block_size", SCORING_WINDOW)
    return window, window // 2


def window_plan(n: int, window: int, stride: int) -> tuple[list[int], list[int]]:
    """Where windows over ``n`` ids start, and from which position of each the predictions count.

    A window at s reads ids[s : s + window] and predicts ids[s + 1 : s + window + 1]. The first window
    counts every prediction; each later one only those no earlier window made, so every id after the
    first is predicted exactly once, with at least ``window - stride`` characters before it (except near
    the start). The last window is moved back to end at the text's end.
    """
    window = min(window, n - 1)
    starts = list(range(0, n - 1 - window + 1, stride))
    if starts[-1] + window < n - 1:
        starts.append(n - 1 - window)
    first, done = [], 0  # done: how many predictions (targets 1 .. done) are already counted
    for s in starts:
        first.append(done - s)  # position in this window of the first new prediction (0 for the first window)
        done = s + window
    return starts, first


@torch.inference_mode()
def validation_loss(
    model: nn.Module, ids: torch.Tensor, every: int = 1, batch_size: int = 32, device: str | torch.device = "cpu"
) -> float:
    """Mean cross-entropy (nats per character) of predicting each id of ``ids`` from those before it.

    Windows from ``window_plan`` with the model's ``scoring_windows``; ``every`` > 1 scores only every
    ``every``-th window (a fixed, evenly spread sample: the training curve's quick estimate).
    """
    was_training = model.training
    model.eval()
    window, stride = scoring_windows(model)
    starts, first = window_plan(len(ids), window, stride)
    plan = list(zip(starts, first, strict=True))[::every]
    window = min(window, len(ids) - 1)
    total, count = 0.0, 0
    for i in range(0, len(plan), batch_size):
        rows = plan[i : i + batch_size]
        x = torch.stack([ids[s : s + window] for s, _ in rows]).to(device)  # (B, W)
        y = torch.stack([ids[s + 1 : s + window + 1] for s, _ in rows]).to(device)  # (B, W)
        keep = (
            torch.arange(window, device=device)[None, :] >= torch.tensor([f for _, f in rows], device=device)[:, None]
        )
        losses = F.cross_entropy(model(x).float().transpose(1, 2), y, reduction="none")  # (B, W)
        total += float(losses[keep].sum())
        count += int(keep.sum())
    model.train(was_training)
    return total / count
