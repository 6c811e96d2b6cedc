"""Train one model and write weights/<name>/: ``python -m archdemo.train cnn --data-dir ../shared/data``.

The registry names each model's recipe (``ModelSpec.recipe``); this command runs it and saves the model
in the Hub layout, with its training record beside it when the recipe measured one. Without
--data-dir the data sets are downloaded (torchvision's MNIST, GLUE's SST-2, char-rnn's tiny
Shakespeare). Seeds are fixed; the same command on the same machine gives the same weights.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from pathlib import Path

from archdemo.device import describe, pick_device
from archdemo.paths import BUNDLED_DIR, CURVE_NAME
from archdemo.training.loop import Run
from archdemo.weights.cards import model_card
from archdemo.weights.hub import save_pretrained
from archdemo.weights.registry import MODELS, get_spec


def recipe(name: str):
    """The function that trains model ``name``, from its registry row's "module:function"."""
    module, _, function = get_spec(name).recipe.partition(":")
    return getattr(importlib.import_module(module), function)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m archdemo.train", description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=list(MODELS))
    parser.add_argument(
        "--data-dir", help="folder with MNIST/raw, SST-2/ and tinyshakespeare/input.txt (default: download)"
    )
    parser.add_argument("--out", type=Path, help="output folder (default: weights/<model>)")
    parser.add_argument("--epochs", type=int, help="override the recipe's number of epochs")
    parser.add_argument("--steps", type=int, help="override the step-counted recipes' number of steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", help="cpu, cuda, cuda:N (default: cuda if available)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    device = pick_device(args.device)
    name, out = args.model, args.out or BUNDLED_DIR / args.model
    print(f"training {name} on {describe(device)}")
    checkpoint = lambda m: save_pretrained(m, out, model_card(name, None))  # noqa: E731
    run = Run(name, args.data_dir, device, args.seed, args.epochs, args.steps, checkpoint)
    model, record = recipe(name)(run)
    if record is not None:
        out.mkdir(parents=True, exist_ok=True)
        record["command"] = "python -m archdemo.train " + " ".join(sys.argv[1:] if argv is None else argv)
        (out / CURVE_NAME).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    out = save_pretrained(model.to("cpu"), out, model_card(name, None, record))
    print(f"wrote {out} (run `python -m archdemo.evaluate --data-dir DIR --write-cards` for the card's numbers)")


if __name__ == "__main__":
    main()
