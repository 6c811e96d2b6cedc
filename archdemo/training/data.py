"""Data sets: MNIST (torchvision layout), SST-2 (GLUE layout) and tiny Shakespeare, from a folder or downloaded.

With ``data_dir`` the files are read from there and nothing is downloaded (the offline path).
Without it, MNIST comes through torchvision's own download, SST-2 from GLUE's public zip and tiny
Shakespeare from char-rnn's repository, all cached under ``~/.cache/archdemo``.
"""

from __future__ import annotations

import io
import os
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("ARCHDEMO_CACHE", Path.home() / ".cache" / "archdemo"))
SST2_URL = "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"  # GLUE's distribution of SST-2
SST2_LABELS = ("negative", "positive")  # what SST-2's labels 0 and 1 mean
SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"


def _read_idx(path: Path) -> np.ndarray:
    """Read an uncompressed IDX file (MNIST's format) without unpickling anything."""
    raw = path.read_bytes()
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(tuple(int(d) for d in dims))


def load_mnist(split: str, data_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) uint8, labels (N,) int64) for split 'train' or 'test'."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    root = Path(data_dir) if data_dir is not None else CACHE
    raw = root / "MNIST" / "raw"
    prefix = "train" if split == "train" else "t10k"
    images, labels = raw / f"{prefix}-images-idx3-ubyte", raw / f"{prefix}-labels-idx1-ubyte"
    if not images.exists():
        if data_dir is not None:
            raise FileNotFoundError(f"{images} not found: expected torchvision's MNIST layout under {root}")
        from torchvision.datasets import MNIST  # only the online path needs torchvision

        MNIST(root=str(root), train=split == "train", download=True)
    return _read_idx(images).copy(), _read_idx(labels).astype(np.int64)


def load_sst2(split: str, data_dir: str | Path | None = None) -> tuple[list[str], np.ndarray]:
    """(sentences, labels (N,) int64) for split 'train' or 'dev'; label 1 = positive."""
    if split not in ("train", "dev"):
        raise ValueError(f"split must be 'train' or 'dev', not {split!r}")
    root = Path(data_dir) if data_dir is not None else CACHE
    path = root / "SST-2" / f"{split}.tsv"
    if not path.exists():
        if data_dir is not None:
            raise FileNotFoundError(f"{path} not found: expected GLUE's SST-2 layout under {root}")
        with urllib.request.urlopen(SST2_URL, timeout=60) as response:  # noqa: S310 (fixed https URL)
            zipfile.ZipFile(io.BytesIO(response.read())).extractall(root)
    sentences, labels = [], []
    with path.open(encoding="utf-8") as f:
        next(f)  # header: sentence<TAB>label
        for line in f:
            sentence, label = line.rstrip("\n").rsplit("\t", 1)
            sentences.append(sentence)
            labels.append(int(label))
    return sentences, np.array(labels, dtype=np.int64)


def load_tinyshakespeare(data_dir: str | Path | None = None) -> str:
    """The whole tiny Shakespeare text (1,115,394 characters), from DIR/tinyshakespeare/input.txt."""
    root = Path(data_dir) if data_dir is not None else CACHE
    path = root / "tinyshakespeare" / "input.txt"
    if not path.exists():
        if data_dir is not None:
            raise FileNotFoundError(f"{path} not found: expected char-rnn's tinyshakespeare/input.txt under {root}")
        path.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(SHAKESPEARE_URL, timeout=60) as response:  # noqa: S310 (fixed https URL)
            path.write_bytes(response.read())
    return path.read_text(encoding="utf-8")
