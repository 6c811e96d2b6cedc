"""A small stand-in for the Hugging Face Hub, for tests: serves model repos over HTTP on 127.0.0.1.

It speaks just enough of the Hub's file protocol for ``huggingface_hub.hf_hub_download`` (checked against
huggingface_hub 2.4) to download from it when ``HF_ENDPOINT`` points at it:

* ``HEAD`` / ``GET /{org}/{name}/resolve/{revision}/{filename}``: the file, with the headers the client reads:
  ``X-Repo-Commit`` (the resolved 40-hex commit), ``ETag`` (sha256 of the content, quoted), ``Content-Length``;
  ``GET`` honours ``Range: bytes=N-`` (the client's resume). No redirects and no ``X-Xet-*`` headers, so the client
  always takes its plain HTTP download path.
* ``GET /api/models/{org}/{name}[/revision/{revision}]``: a minimal model-info JSON (``sha``, ``siblings``).
* Errors as the Hub signals them, in ``X-Error-Code`` (which huggingface_hub maps to exception types):
  unknown repo -> 404 ``RepoNotFound`` (-> ``RepositoryNotFoundError``), unknown revision -> 404 ``RevisionNotFound``
  (-> ``RevisionNotFoundError``), unknown file in a known commit -> 404 ``EntryNotFound`` with ``X-Repo-Commit``
  (-> ``RemoteEntryNotFoundError``).

Repos live in memory. Each ``add_commit`` makes a new commit (a 40-hex sha) whose tree is its parent's tree updated
with the given files, and moves a branch ("main" by default) to it. A revision is a commit sha or a ref name.
Every request is recorded in ``requests`` as ``(method, path)``, so a test can assert what went over the wire,
e.g. that a cached load made none.

Use as a context manager (``with HubStandin() as hub: ...``) or ``start()`` / ``stop()``; the server runs in daemon
threads. ``use_standin(monkeypatch, url, home)`` points huggingface_hub at it (env vars *and* the module constants it
read at import time) with a private cache; ``set_offline(monkeypatch)`` switches huggingface_hub to offline mode.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class _Commit:
    sha: str
    files: dict[str, bytes]
    message: str


@dataclass
class _Repo:
    commits: dict[str, _Commit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # branch/tag name -> commit sha


class HubStandin:
    """In-memory Hub serving model repos on ``http://127.0.0.1:<ephemeral port>``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._repos: dict[str, _Repo] = {}
        self._counter = 0
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.request_headers: list[dict[str, str]] = []  # headers of every request, same order
        self.fail_with: int | None = None  # answer every request with this status (e.g. 500: "Hub down")
        self.drop_downloads: bool = False  # GET of a file: headers, then the connection drops before the body
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- content -------------------------------------------------------------------------------------------

    def add_commit(
        self,
        repo_id: str,
        files: dict[str, bytes | str],
        *,
        branch: str = "main",
        inherit: bool = True,
        message: str = "",
        sha: str | None = None,
    ) -> str:
        """Commit ``files`` (name -> content) to ``repo_id`` on ``branch`` (created with the repo if new); returns sha.

        ``sha`` forces the commit's hash (to serve a public repo at the revision a config pins).

        The new tree is the branch's current tree updated with ``files`` (``inherit=False``: only ``files``).
        """
        blobs = {name: data.encode("utf-8") if isinstance(data, str) else bytes(data) for name, data in files.items()}
        with self._lock:
            repo = self._repos.setdefault(repo_id, _Repo())
            parent = repo.refs.get(branch)
            tree = dict(repo.commits[parent].files) if inherit and parent else {}
            tree.update(blobs)
            self._counter += 1
            h = hashlib.sha1(f"{repo_id}\0{parent}\0{self._counter}\0{message}".encode())
            for name in sorted(tree):
                h.update(name.encode() + b"\0" + hashlib.sha256(tree[name]).digest())
            sha = sha or h.hexdigest()
            repo.commits[sha] = _Commit(sha, tree, message)
            repo.refs[branch] = sha
            return sha

    def add_folder(self, repo_id: str, folder: str | Path, **kwargs) -> str:
        """Commit every file under ``folder`` (relative posix paths) to ``repo_id``; see ``add_commit``."""
        folder = Path(folder)
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        return self.add_commit(repo_id, files, **kwargs)

    def set_ref(self, repo_id: str, name: str, sha: str) -> None:
        """Point branch or tag ``name`` of ``repo_id`` at commit ``sha``."""
        with self._lock:
            repo = self._repos[repo_id]
            if sha not in repo.commits:
                raise KeyError(f"{sha} is not a commit of {repo_id}")
            repo.refs[name] = sha

    def resolve(self, repo_id: str, revision: str) -> str | None:
        """Commit sha a revision of ``repo_id`` means, or None."""
        with self._lock:
            repo = self._repos.get(repo_id)
            if repo is None:
                return None
            if revision in repo.refs:
                return repo.refs[revision]
            return revision if revision in repo.commits else None

    # ----- request log ---------------------------------------------------------------------------------------

    def paths(self, method: str | None = None) -> list[str]:
        """Paths of the recorded requests (of one method, if given)."""
        with self._lock:
            return [p for m, p in self.requests if method is None or m == method]

    def clear(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()
            self.request_headers.clear()

    # ----- server --------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Hub stand-in is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HubStandin:
        if self._server is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"hub": self})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="hub-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: later connections are refused. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HubStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- request handling (called from server threads) ----------------------------------------------------

    def _record(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((method, path))
            self.request_headers.append(headers)

    def _commit_locked(self, repo_id: str, revision: str):
        """The repo if ``revision`` (a branch or a commit sha) exists in it, else the 404 answer to send.
        Call with the lock held."""
        repo = self._repos.get(repo_id)
        if repo is None:
            return _error(404, "RepoNotFound", f"Repository {repo_id} not found")
        if revision not in repo.refs and revision not in repo.commits:
            return _error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return repo

    def _lookup(self, repo_id: str, revision: str, filename: str) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for a /resolve/ request."""
        with self._lock:
            found = self._commit_locked(repo_id, revision)
            if isinstance(found, tuple):
                return found
            repo, sha = found, found.refs.get(revision) or revision
            data = repo.commits[sha].files.get(filename)
            if data is None:
                status, headers, body = _error(404, "EntryNotFound", f"{filename} does not exist at {sha}")
                headers["X-Repo-Commit"] = sha
                return status, headers, body
        headers = {
            "X-Repo-Commit": sha,
            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
            "Content-Type": "application/octet-stream",
            "Accept-Ranges": "bytes",
        }
        return 200, headers, data

    def _model_info(self, repo_id: str, revision: str) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            found = self._commit_locked(repo_id, revision)
            if isinstance(found, tuple):
                return found
            sha = found.refs.get(revision) or revision
            files = sorted(found.commits[sha].files)
        info = {"id": repo_id, "modelId": repo_id, "sha": sha, "siblings": [{"rfilename": f} for f in files]}
        return 200, {"Content-Type": "application/json", "X-Repo-Commit": sha}, json.dumps(info).encode()


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    headers = {"X-Error-Code": code, "X-Error-Message": message, "Content-Type": "application/json"}
    return status, headers, json.dumps({"error": message}).encode()


_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_API_MODEL = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?/?$")


class _Handler(http.server.BaseHTTPRequestHandler):
    hub: HubStandin  # set on the per-server subclass
    protocol_version = "HTTP/1.1"
    server_version = "HubStandin/1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        raw_path = urlsplit(self.path).path
        self.hub._record(self.command, raw_path, {k: v for k, v in self.headers.items()})
        if self.hub.fail_with is not None:
            status, headers, body = self.hub.fail_with, {"Content-Type": "text/plain"}, b"stand-in failure\n"
        elif m := _RESOLVE.match(raw_path):
            status, headers, body = self.hub._lookup(
                unquote(m["repo"]), unquote(m["rev"]), "/".join(unquote(p) for p in m["file"].split("/"))
            )
        elif m := _API_MODEL.match(raw_path):
            status, headers, body = self.hub._model_info(unquote(m["repo"]), unquote(m["rev"] or "main"))
        else:
            status, headers, body = _error(404, "NotFound", f"no route for {raw_path}")

        full_length = len(body)
        if status == 200 and not head and (rng := self.headers.get("Range")):
            start = _range_start(rng)
            if start is not None and start < full_length:
                status = 206
                headers["Content-Range"] = f"bytes {start}-{full_length - 1}/{full_length}"
                body = body[start:]
        send = b"" if status in (200, 206) and self.hub.drop_downloads else body

        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if not head:
            try:
                self.wfile.write(send)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass


def _range_start(header: str) -> int | None:
    m = re.fullmatch(r"\s*bytes=(\d+)-\s*", header)
    return int(m[1]) if m else None


# ----- pointing huggingface_hub at the stand-in ---------------------------------------------------------------


def use_standin(monkeypatch, url: str, home: str | Path) -> Path:
    """Make huggingface_hub talk to ``url`` with a fresh cache under ``home``; returns the hub cache folder.

    huggingface_hub reads HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE, ... once, into
    ``huggingface_hub.constants``, when it is imported; ``hf_hub_download`` then reads those constants at call time
    (``HUGGINGFACE_CO_URL_TEMPLATE`` builds the URL, ``HF_HUB_CACHE`` is the cache, ``is_offline_mode()`` reads
    ``HF_HUB_OFFLINE``). So set both the environment (for anything imported later or in subprocesses) and the
    constants. No token is sent: the implicit token is disabled and the token file points into ``home``.
    """
    from huggingface_hub import constants

    home = Path(home)
    cache = home / "hub"
    cache.mkdir(parents=True, exist_ok=True)
    url = url.rstrip("/")
    env = {
        "HF_ENDPOINT": url,
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(cache),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
        "HF_HUB_DISABLE_XET": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in (
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_OIDC_RESOURCE",
        "HUGGINGFACE_CO_STAGING",
        "HUGGINGFACE_HUB_CACHE",
        "HF_HUB_ETAG_TIMEOUT",
    ):
        monkeypatch.delenv(key, raising=False)
    patches = {
        "ENDPOINT": url,
        "HUGGINGFACE_CO_URL_TEMPLATE": url + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(cache),
        "HUGGINGFACE_HUB_CACHE": str(cache),
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_TELEMETRY": True,
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": True,
        "HF_HUB_DISABLE_XET": True,
        "HF_HUB_ETAG_TIMEOUT": constants.DEFAULT_ETAG_TIMEOUT,
    }
    for name, value in patches.items():
        if hasattr(constants, name):
            monkeypatch.setattr(constants, name, value)
    return cache


def set_offline(monkeypatch, offline: bool = True) -> None:
    """Switch huggingface_hub's offline mode (HF_HUB_OFFLINE) on or off, in the env and in its constants."""
    from huggingface_hub import constants

    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
