"""Recipe for the pretrained Transformer: MiniLM-L6 (frozen) + LoRA + a head, fine-tuned on SST-2.

    python -m archdemo.training.pretrained --data-dir ../shared/data --out weights/pretrained_transformer

The base comes from the Hub at the pinned revision, or its verified local copy (``archdemo.pretrained_base``).
Only the LoRA updates, the layer norms and the head train, and only they are saved (about 1.4 MB).

SST-2 is lower-cased and split like a treebank ("it 's not bad , i 'd say !") while visitors type
"It's not bad, I'd say!". The base's tokenizer lower-cases by itself but splits the two differently, so each
phrase is shown, at random each epoch, in SST-2's form or joined back the way people write it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

import archdemo
from archdemo.data import load_sst2
from archdemo.models.pretrained_transformer import PretrainedSentimentTransformer, PretrainedSentimentTransformerConfig
from archdemo.pretrained_base import load_base_weights, load_tokenizer
from archdemo.training.loop import TrainConfig, fit, seed_everything

_DETOKENIZE = [  # in this order: quotes before apostrophes, contractions before lone closing quotes
    (re.compile(r"`` ?"), '"'),  # `` opens a double quote
    (re.compile(r" ?''"), '"'),  # '' closes one
    (re.compile(r"` ?"), "'"),  # ` opens a single quote
    (re.compile(r"-lrb- ?"), "("),
    (re.compile(r" ?-rrb-"), ")"),
    (re.compile(r" (n't|'s|'re|'ve|'ll|'d|'m)\b"), r"\1"),  # do n't -> don't, it 's -> it's, ca n't -> can't
    (re.compile(r" '( |$)"), r"'\1"),  # a closing quote or a plural possessive: actors ' -> actors'
    (re.compile(r" ([,.!?;:%])"), r"\1"),  # no space before punctuation
]


def detokenize(text: str) -> str:
    """SST-2's treebank form -> the way a person types it: "it 's not bad , i 'd say !" -> "it's not bad, i'd say!"."""
    for pattern, repl in _DETOKENIZE:
        text = pattern.sub(repl, text)
    return text


def pad_batch(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token id lists -> (ids (B, T) padded with pad_id, lengths (B,))."""
    lengths = torch.tensor([len(r) for r in rows])
    ids = torch.full((len(rows), int(lengths.max())), pad_id, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
    return ids, lengths


@torch.inference_mode()
def accuracy(model: PretrainedSentimentTransformer, rows: list[list[int]], labels: np.ndarray, device) -> float:
    model.eval()
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))  # similar lengths together: little padding
    preds = np.empty(len(rows), dtype=np.int64)
    for i in range(0, len(order), 64):
        part = order[i : i + 64]
        ids, lengths = pad_batch([rows[j] for j in part], model.config.pad_id)
        preds[part] = model(ids.to(device), lengths.to(device)).argmax(1).cpu().numpy()
    return float((preds == labels).mean())


def build_for_training(config: PretrainedSentimentTransformerConfig) -> PretrainedSentimentTransformer:
    """The base's weights in, LoRA and head fresh, everything else frozen: where fine-tuning starts."""
    model = PretrainedSentimentTransformer(config)
    model.load_base_state(load_base_weights(config))
    model.freeze_base()
    return model


def train_pretrained(
    data_dir: str | Path | None,
    device: torch.device,
    epochs: int | None = None,
    seed: int = 0,
    limit: int | None = None,
    lr: float = 1e-3,
    batch_size: int = 32,
    config: PretrainedSentimentTransformerConfig | None = None,
) -> PretrainedSentimentTransformer:
    seed_everything(seed)
    config = config or PretrainedSentimentTransformerConfig()
    model = build_for_training(config).to(device)
    tok = load_tokenizer(config)
    texts, labels = load_sst2("train", data_dir)
    if limit:  # a random subset, for pilots
        keep = np.random.default_rng(seed).permutation(len(texts))[:limit]
        texts, labels = [texts[i] for i in keep], labels[keep]
    dev_texts, dev_labels = load_sst2("dev", data_dir)
    forms = [[tok.encode(t)[1] for t in texts], [tok.encode(detokenize(t))[1] for t in texts]]  # SST-2, typed
    dev_forms = {"SST-2 form": [tok.encode(t)[1] for t in dev_texts]}
    dev_forms["typed form"] = [tok.encode(detokenize(t))[1] for t in dev_texts]
    y = torch.from_numpy(labels)
    bs = batch_size

    def batches(epoch: int):
        rng = np.random.default_rng(seed * 1000 + epoch)
        form = rng.integers(0, 2, len(texts))  # per phrase and epoch: SST-2's form (0) or the typed one (1)
        rows = [forms[f][i] for i, f in enumerate(form)]
        order = rng.permutation(len(rows))
        # Batches of similar length (sorted within shuffled chunks) waste little time on padding.
        chunks = [sorted(order[i : i + bs * 50], key=lambda j: len(rows[j])) for i in range(0, len(order), bs * 50)]
        groups = [ch[i : i + bs] for ch in chunks for i in range(0, len(ch), bs)]
        for g in (groups[k] for k in rng.permutation(len(groups))):
            ids, lengths = pad_batch([rows[j] for j in g], config.pad_id)
            yield ids.to(device), lengths.to(device), y[g].to(device)

    def loss_fn(m, batch):
        ids, lengths, target = batch
        return F.cross_entropy(m(ids, lengths), target)

    def report(m, epoch):
        scores = (f"{accuracy(m, rows, dev_labels, device):.4f} ({name})" for name, rows in dev_forms.items())
        return "dev accuracy " + ", ".join(scores)

    steps = sum(math.ceil(min(bs * 50, len(texts) - i) / bs) for i in range(0, len(texts), bs * 50))
    cfg = TrainConfig(epochs=epochs or 3, lr=lr, weight_decay=0.01, seed=seed)
    return fit(model, batches, steps, loss_fn, cfg, "pretrained_transformer", report)


def save_fine_tuned(model: PretrainedSentimentTransformer, directory: str | Path) -> Path:
    """config.json + model.safetensors holding only what fine-tuning learned (the base is fetched by hash)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    config = {
        "architecture": "PretrainedSentimentTransformer",
        "model_type": "pretrained_transformer",
        "archdemo_version": archdemo.__version__,
        **dataclasses.asdict(model.config),
    }
    (out / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.fine_tuned_state_dict().items()}
    save_file(state, out / "model.safetensors", metadata={"format": "pt"})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder holding SST-2/ (GLUE layout); default: download")
    parser.add_argument("--out", default="weights/pretrained_transformer", help="where to write the fine-tuned parts")
    parser.add_argument("--epochs", type=int, default=None, help="passes over SST-2 train (default 3)")
    parser.add_argument("--limit", type=int, default=None, help="train on a random subset of this many phrases")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate of the one-cycle schedule")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # says which source the base came from
    device = torch.device(args.device)
    print(f"training pretrained_transformer on {device}, torch threads: {torch.get_num_threads()}", flush=True)
    model = train_pretrained(args.data_dir, device, epochs=args.epochs, seed=args.seed, limit=args.limit, lr=args.lr)
    print(f"wrote {save_fine_tuned(model.to('cpu'), args.out)}", flush=True)


if __name__ == "__main__":
    main()
