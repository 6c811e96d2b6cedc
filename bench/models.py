"""Model-level forward latency: each of archdemo's models beside the article's original of its family.

For batch 1 (one user) and batch 64 (a full batch), on CPU and on CUDA when available, under
``torch.inference_mode()``: warm-up calls, then ``--repeats`` timed calls of ours and the article's
model, interleaved so both see the same machine state; the ratio column is ours / article's median.
The article's four models are re-implemented below from its description (the reference); ours come
from ``archdemo.weights.hub.load_model`` (the bundled weights), or a random-init model of the same config when
those weights do not load, which the output says (weights do not change the time of a forward).

    python -m bench.models [--repeats 200] [--device all|cpu|cuda] [--out bench/results]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from archdemo.weights.hub import WeightsError, load_config, load_model
from archdemo.weights.registry import get_spec
from bench.common import RESULTS, machine_info, percentile, table, write_json

SEQ_LEN = 20  # tokens per sentence: about the SST-2 dev set's average


# ---------------------------------------------------------------- the article's models (the reference)


class ArticleCNN(nn.Module):
    """SimpleCNN: conv 16 -> pool -> conv 32 -> pool -> one linear layer."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(32 * 7 * 7, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.conv1(x)))  # (B, 16, 14, 14)
        x = self.pool(torch.relu(self.conv2(x)))  # (B, 32, 7, 7)
        return self.fc(x.flatten(1))  # (B, num_classes)


class ArticleAutoencoder(nn.Module):
    """SimpleAutoencoder: an MLP 784 -> 128 -> 32 -> 128 -> 784 with a sigmoid output."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 32))
        self.decoder = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 784), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x.flatten(1))).view(-1, 1, 28, 28)  # (B, 1, 28, 28)


class ArticleRNN(nn.Module):
    """SimpleRNN: embedding 32, a plain nn.RNN with 64 hidden units, classifier on the last step."""

    def __init__(self, vocab_size: int, num_classes: int = 2, embed: int = 32, hidden: int = 64) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed)
        self.rnn = nn.RNN(embed, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.embedding(ids))  # (B, T, hidden)
        return self.fc(out[:, -1])  # (B, num_classes)


class ArticleTransformer(nn.Module):
    """SimpleTransformer: nn.TransformerEncoder, 2 layers of width 64 with 4 heads, learned positions up to 32.

    Like the article it uses the layer's defaults (feed-forward 2048, sequence-first) and reads the
    output at position 0.
    """

    def __init__(self, vocab_size: int, num_classes: int = 2, dim: int = 64, heads: int = 4, max_len: int = 32):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim)
        self.pos = nn.Parameter(torch.randn(1, max_len, dim))
        layer = nn.TransformerEncoderLayer(d_model=dim, nhead=heads)
        # Nested tensors only apply to batch-first layers; saying so up front silences torch's warning.
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embedding(ids) + self.pos[:, : ids.shape[1]]  # (B, T, dim)
        x = self.encoder(x.transpose(0, 1))  # (T, B, dim)
        return self.fc(x[0])  # (B, num_classes)


# ---------------------------------------------------------------- the pairs


@dataclass
class Pair:
    family: str
    ours: nn.Module
    article: nn.Module
    weights: str  # where ours came from
    ours_call: Callable[[int], Callable[[], torch.Tensor]]  # batch size -> a zero-argument forward
    article_call: Callable[[int], Callable[[], torch.Tensor]]


def load_ours(name: str, device: torch.device) -> tuple[nn.Module, str]:
    """The bundled model, or (weights missing or mid-training) a random-init one of the same config."""
    try:
        return load_model(name, device=device), "bundled weights"
    except WeightsError as e:
        why = str(e).splitlines()[0][:160]
    spec = get_spec(name)
    try:
        config, note = load_config(name), "random init, bundled config"
    except WeightsError:
        config, note = spec.config_cls(), "random init, default config"
    return spec.model_cls(config).to(device).eval(), f"{note} (weights did not load: {why})"


def image_pair(family: str, device: torch.device, g: torch.Generator) -> Pair:
    ours, weights = load_ours(family, device)
    article = (ArticleCNN() if family == "cnn" else ArticleAutoencoder()).to(device).eval()

    def call(model: nn.Module) -> Callable[[int], Callable[[], torch.Tensor]]:
        def at(batch: int) -> Callable[[], torch.Tensor]:
            x = torch.rand(batch, 1, 28, 28, generator=g).to(device)  # (B, 1, 28, 28)
            return lambda: model(x)

        return at

    return Pair(family, ours, article, weights, call(ours), call(article))


def text_pair(family: str, device: torch.device, g: torch.Generator) -> Pair:
    ours, weights = load_ours(family, device)
    c = ours.config
    vocab, cls = len(c.vocab), getattr(c, "cls_id", None)
    article = (ArticleRNN(vocab) if family == "rnn" else ArticleTransformer(vocab)).to(device).eval()
    low = min(3, vocab - 1)  # real words: skip [PAD], [UNK], [CLS]

    def ours_at(batch: int) -> Callable[[], torch.Tensor]:
        ids = torch.randint(low, vocab, (batch, SEQ_LEN), generator=g)  # (B, T)
        if cls is not None:  # ours reads [CLS] + the sentence
            ids = torch.cat([torch.full((batch, 1), cls), ids], 1)
        lengths = torch.full((batch,), ids.shape[1])
        ids, lengths = ids.to(device), lengths.to(device)
        return lambda: ours(ids, lengths)

    def article_at(batch: int) -> Callable[[], torch.Tensor]:
        ids = torch.randint(low, vocab, (batch, SEQ_LEN), generator=g).to(device)
        return lambda: article(ids)

    return Pair(family, ours, article, weights, ours_at, article_at)


def make_pairs(device: torch.device, families: list[str]) -> list[Pair]:
    g = torch.Generator().manual_seed(0)
    return [(image_pair if f in ("cnn", "autoencoder") else text_pair)(f, device, g) for f in families]


# ---------------------------------------------------------------- timing


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.inference_mode()
def time_pair(pair: Pair, batch: int, device: torch.device, repeats: int, warmup: int) -> dict[str, list[float]]:
    """Milliseconds per forward, ours and article's interleaved call by call."""
    calls = {"ours": pair.ours_call(batch), "article": pair.article_call(batch)}
    for fn in calls.values():
        for _ in range(warmup):
            fn()
    sync(device)
    times: dict[str, list[float]] = {k: [] for k in calls}
    for _ in range(repeats):
        for key, fn in calls.items():
            t0 = time.perf_counter()
            fn()
            sync(device)
            times[key].append((time.perf_counter() - t0) * 1e3)
    return times


def params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def run_device(device: torch.device, args: argparse.Namespace) -> dict:
    torch.manual_seed(0)
    pairs = make_pairs(device, args.families)
    rows = []
    for pair in pairs:
        for batch in args.batches:
            t = time_pair(pair, batch, device, args.repeats, args.warmup)
            ours, art = percentile(t["ours"], 50), percentile(t["article"], 50)
            rows.append(
                {
                    "family": pair.family,
                    "batch": batch,
                    "ours_ms": ours,
                    "article_ms": art,
                    "ratio": ours / art if ours and art else None,
                    "ours_p90_ms": percentile(t["ours"], 90),
                    "article_p90_ms": percentile(t["article"], 90),
                    "ours_us_per_item": 1e3 * ours / batch if ours else None,
                    "ours_params": params(pair.ours),
                    "article_params": params(pair.article),
                    "ours_weights": pair.weights,
                }
            )
    headers = ["model", "batch", "ours ms", "article ms", "ours/article", "ours us/item", "params ours", "article"]
    print(f"\n{device}: median of {args.repeats} forwards after {args.warmup} warm-up, inference_mode")
    print(
        table(
            headers,
            [
                [get_spec(r["family"]).model_cls.__name__, r["batch"], r["ours_ms"], r["article_ms"], r["ratio"]]
                + [r["ours_us_per_item"], f"{r['ours_params']:,}", f"{r['article_params']:,}"]
                for r in rows
            ],
        )
    )
    for pair in pairs:
        if pair.weights != "bundled weights":
            print(f"note: {pair.family}: {pair.weights}")
    info = machine_info(str(device))
    return {"machine": info, "repeats": args.repeats, "warmup": args.warmup, "seq_len": SEQ_LEN, "rows": rows}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=200, help="timed forwards per model and batch size (default 200)")
    p.add_argument("--warmup", type=int, default=20, help="untimed forwards first (default 20)")
    p.add_argument("--device", default="all", help="cpu, cuda, cuda:N or all (cpu, and cuda if available)")
    p.add_argument("--batches", default="1,64", help="comma-separated batch sizes (default 1,64)")
    p.add_argument("--families", default="cnn,autoencoder,rnn,transformer", help="which models (default all four)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder for models-<device>.json (default bench/results)")
    args = p.parse_args(argv)
    args.batches = [int(b) for b in args.batches.split(",")]
    args.families = [f.strip() for f in args.families.split(",") if f.strip()]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    for name in devices:
        if name.startswith("cuda") and not torch.cuda.is_available():
            print(f"{name}: not available on this machine, skipped")
            continue
        result = run_device(torch.device(name), args)
        write_json(args.out / f"models-{name.replace(':', '')}.json", result)


if __name__ == "__main__":
    main()
