"""Train one model and write weights/<name>/: ``python -m archdemo.train cnn --data-dir ../shared/data``.

Without --data-dir the data sets are downloaded (torchvision's MNIST, GLUE's SST-2, char-rnn's tiny Shakespeare).
Seeds are fixed; the same command on the same machine gives the same weights.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import torch

from archdemo.cards import model_card
from archdemo.device import describe, pick_device
from archdemo.hub import BUNDLED_DIR, save_pretrained
from archdemo.registry import MODELS


def main(argv: list[str] | None = None) -> None:
    record = None
    parser = argparse.ArgumentParser(prog="python -m archdemo.train", description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=list(MODELS))
    parser.add_argument(
        "--data-dir", help="folder with MNIST/raw, SST-2/ and tinyshakespeare/input.txt (default: download)"
    )
    parser.add_argument("--out", type=Path, help="output folder (default: weights/<model>)")
    parser.add_argument("--epochs", type=int, help="override the recipe's number of epochs")
    parser.add_argument("--steps", type=int, help="override the character models' number of steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", help="cpu, cuda, cuda:N (default: cuda if available)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    device = pick_device(args.device)
    out = args.out or BUNDLED_DIR / args.model
    print(f"training {args.model} on {describe(device)}")
    if args.model in ("cnn", "autoencoder"):
        from archdemo.training.images import train_autoencoder, train_cnn

        fn = train_cnn if args.model == "cnn" else train_autoencoder
        kwargs = {"epochs": args.epochs} if args.epochs else {}
        model = fn(args.data_dir, device, seed=args.seed, **kwargs)
    elif args.model == "pretrained_transformer":
        from archdemo.training.finetune import train_pretrained

        # Saved after every epoch too, so a long CPU run that is stopped still leaves its best-so-far.
        keep = lambda m, epoch: save_pretrained(m, out, model_card(args.model, None))  # noqa: E731
        model = train_pretrained(args.data_dir, device, epochs=args.epochs, seed=args.seed, on_epoch=keep)
    elif args.model in ("char_rnn", "char_gpt"):
        from archdemo.training.chars import CURVE_NAME, train_chars

        model, record = train_chars(args.model, args.data_dir, device, seed=args.seed, max_steps=args.steps)
        out.mkdir(parents=True, exist_ok=True)
        record["command"] = "python -m archdemo.train " + " ".join(sys.argv[1:] if argv is None else argv)
        (out / CURVE_NAME).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    else:
        from archdemo.training.text import train_text

        model = train_text(args.model, args.data_dir, device, epochs=args.epochs, seed=args.seed)
    card = model_card(args.model, None, record if args.model in ("char_rnn", "char_gpt") else None)
    out = save_pretrained(model.to("cpu"), out, card)
    print(f"wrote {out} (run `python -m archdemo.evaluate --data-dir DIR --write-cards` for the card's numbers)")


if __name__ == "__main__":
    torch.set_num_threads(max(1, torch.get_num_threads()))
    main()
