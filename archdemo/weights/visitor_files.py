"""Files of a visitor's own Hub repo: each capped in size and time, in a bounded cache of archdemo's own.

A visitor's repo is anybody's, and so is the server's word on its sizes. Each file is held to its cap
twice: on the size the Hub announces, before a byte is downloaded, and on the bytes as they arrive
(a server may understate the size or leave it out), so an oversized file stops within one chunk and
huggingface_hub deletes the partial file. (A Xet download fetches the content the announced size and
hash name; its file is checked on disk once it is there.) A download also stops once it has taken ``DOWNLOAD_TIMEOUT_S``
in all (huggingface_hub's own timeouts are per request and per read: a slow trickle passes them).
Files go to ``$HF_HOME/archdemo/user-models`` (huggingface_hub's cache layout, one folder per repo),
never to the Hub cache that the app's own pinned models use; once that folder holds more than
``CACHE_MAX_BYTES``, the repos used least recently are deleted (never one being downloaded now).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

log = logging.getLogger("archdemo.weights.visitor_files")

CACHE_MAX_BYTES = 512 * 2**20  # about 10 repos at the largest files the caps allow (hub.USER_MAX_FILE_BYTES)
DOWNLOAD_TIMEOUT_S = 120.0  # one file, from its first byte to its last
HEAD_TIMEOUT_S = 10.0  # asking a file's size and commit

_lock = threading.Lock()
_in_use: Counter[str] = Counter()  # repo folders with a download in progress: eviction leaves them


class FileRefused(RuntimeError):
    """A visitor's file is over its cap or took too long; the message says which and by how much."""


def cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "archdemo" / "user-models"


def megabytes(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 2**10:.0f} KB"


def too_big(filename: str, size: str, limit: int) -> FileRefused:
    return FileRefused(f"{filename} is {size}; this app takes up to {megabytes(limit)} for it.")


def announced_size(repo_id: str, filename: str, revision: str) -> int | None:
    """The size the Hub announces (None when it gives none, or cannot be asked: the download then says why)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    try:
        return get_hf_file_metadata(hf_hub_url(repo_id, filename, revision=revision), timeout=HEAD_TIMEOUT_S).size
    except Exception:  # noqa: BLE001 - offline or not found: the download itself says which, clearly
        return None


def capped_progress(filename: str, limit: int) -> type:
    """A stand-in for huggingface_hub's progress bar that counts the bytes as they arrive and stops the
    download (by raising FileRefused, before the chunk is written) past ``limit`` bytes or the time limit."""
    started = time.monotonic()

    class CappedProgress:
        def __init__(self, *args: object, total: int | None = None, initial: int = 0, **kwargs: object) -> None:
            self.n = initial
            if total is not None and total > limit:  # the download's own Content-Length
                raise too_big(filename, megabytes(total), limit)

        def update(self, n: int = 1) -> None:
            self.n += n
            if self.n > limit:
                raise too_big(filename, f"over {megabytes(limit)}", limit)
            if time.monotonic() - started > DOWNLOAD_TIMEOUT_S:
                raise FileRefused(f"{filename} took over {DOWNLOAD_TIMEOUT_S:.0f} s to download; try again later.")

        def __enter__(self) -> CappedProgress:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def close(self) -> None:
            pass

    return CappedProgress


def download(repo_id: str, filename: str, revision: str, limit: int) -> Path:
    """One file of a visitor's repo, at most ``limit`` bytes, through archdemo's user-model cache.

    Raises FileRefused when it is too big or too slow; huggingface_hub's errors (repo or file not found,
    unreachable) pass through for the caller to word."""
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    root = cache_dir()
    pinned = re.fullmatch(r"[0-9a-f]{40}", revision)  # a commit's files never change: once here, no request
    if not (pinned and isinstance(try_to_load_from_cache(repo_id, filename, root, revision), str)):
        size = announced_size(repo_id, filename, revision)
        if size is not None and size > limit:
            raise too_big(filename, megabytes(size), limit)
    folder = "models--" + repo_id.replace("/", "--")
    with _lock:
        _in_use[folder] += 1
    try:
        path = Path(
            hf_hub_download(
                repo_id,
                filename,
                revision=revision,
                cache_dir=root,
                etag_timeout=HEAD_TIMEOUT_S,
                tqdm_class=capped_progress(filename, limit),
                library_name="archdemo",
            )
        )
        size = path.stat().st_size
        if size > limit:  # a Xet download, or cached before under a larger cap
            path.resolve().unlink(missing_ok=True)
            path.unlink(missing_ok=True)
            raise too_big(filename, megabytes(size), limit)
        os.utime(root / folder)  # used now: eviction goes by this time
    finally:
        with _lock:
            _in_use[folder] -= 1
            if not _in_use[folder]:
                del _in_use[folder]
    evict(root, keep=folder)
    return path


def folder_bytes(folder: Path) -> int:
    """Bytes of the files in a cache folder (blobs once: snapshots hold links to them)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def evict(root: Path, keep: str = "") -> None:
    """Delete the least recently used repo folders under ``root`` until it holds at most ``CACHE_MAX_BYTES``;
    ``keep`` (the repo just used) and repos with a download in progress stay."""
    with _lock:
        repos = sorted((p for p in root.glob("models--*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
        sizes = {p: folder_bytes(p) for p in repos}
        total = sum(sizes.values())
        for repo in repos:
            if total <= CACHE_MAX_BYTES:
                break
            if repo.name == keep or repo.name in _in_use:
                continue
            shutil.rmtree(repo, ignore_errors=True)
            shutil.rmtree(root / ".locks" / repo.name, ignore_errors=True)
            total -= sizes[repo]
            log.info(
                "visitors' model cache over %s: deleted %s (%s)",
                megabytes(CACHE_MAX_BYTES),
                repo.name,
                megabytes(sizes[repo]),
            )
