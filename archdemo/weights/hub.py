"""Weights: a model name -> a ready model on the device, from the bundled folder or the Hub.

Sources, in this order of precedence (``archdemo.settings`` parses them once):
1. a source named for one model (``ARCHDEMO_<NAME>_WEIGHTS``): a local folder, or ``hub:ORG/REPO@REVISION``;
2. ``weights="hub"``: every model from its registry repo at the registry's pinned revision;
3. the bundled folder ``weights/<name>/`` (the default).

A folder holds exactly the Hub layout: ``config.json``, ``model.safetensors``, ``README.md``.
Loading is strict: the config must name this architecture and only its fields, every tensor
must match, and weights are read with safetensors (never unpickled).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import typing
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from archdemo import __version__
from archdemo.paths import BUNDLED_DIR, CARD_NAME, CONFIG_NAME, WEIGHTS_NAME
from archdemo.weights import visitor_files
from archdemo.weights.reach import transport_errors
from archdemo.weights.registry import ModelSpec, get_spec

log = logging.getLogger("archdemo.weights.hub")

# A Hub repo id as the Hub accepts it: ORG/NAME, letters, digits, '-', '_', '.'. The one pattern for
# every place a repo id comes in (a visitor's panel, a weights source, publish's --repo-id).
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")
_REVISION = re.compile(r"^[\w.][\w./-]{0,99}$")  # a commit hash, tag or branch name
# What a model someone points the app at may cost: each file's size, checked before it is downloaded and
# on the bytes that arrive (archdemo.weights.visitor_files), and its parameters, counted on the "meta"
# device before any memory is given to it.
USER_MAX_WEIGHTS_BYTES = 50 * 1024 * 1024
USER_MAX_FILE_BYTES = {CONFIG_NAME: 1024 * 1024, WEIGHTS_NAME: USER_MAX_WEIGHTS_BYTES}
USER_MAX_OTHER_FILE_BYTES = 20 * 1024 * 1024  # any other file (a tokenizer's)
USER_MAX_PARAMETERS = 10_000_000
USER_MAX_TEXT_LEN = 512


class WeightsError(RuntimeError):
    """Weights could not be found or do not fit; the message names the file or repo."""


@dataclass(frozen=True)
class WeightsSource:
    kind: typing.Literal["dir", "hub"]
    location: str  # folder path, or Hub repo id
    revision: str | None = None  # Hub revision (a commit hash pins it)

    def __str__(self) -> str:
        return self.location if self.kind == "dir" else f"hub:{self.location}@{self.revision}"


def parse_source(text: str) -> WeightsSource:
    """'hub:ORG/REPO@REV' or a folder path -> WeightsSource; raises WeightsError if malformed."""
    if text.startswith("hub:"):
        repo, _, rev = text[4:].partition("@")
        if not REPO_ID.match(repo):
            raise WeightsError(f"{repo!r} is not a Hub repo id (expected ORG/NAME)")
        if not rev:
            raise WeightsError(f"pin a revision for {repo}: hub:{repo}@<commit hash>")
        return WeightsSource("hub", repo, rev)
    return WeightsSource("dir", text)


def bundled_source(name: str) -> WeightsSource:
    return WeightsSource("dir", str(BUNDLED_DIR / name))


def default_source(spec: ModelSpec, weights: str = "bundled", named: str | None = None) -> WeightsSource:
    """Where model ``spec`` comes from: ``named`` (a folder or hub:REPO@REV), else the Hub or the bundled copy."""
    if named:
        return parse_source(named)
    if weights == "hub":
        if spec.revision is None:
            raise WeightsError(f"{spec.name} has no published revision in the registry yet")
        return WeightsSource("hub", spec.hub_repo_id, spec.revision)
    return bundled_source(spec.name)


def fetch(source: WeightsSource, filename: str, visitor: bool = False) -> Path:
    """Path to one file of a source; Hub files come through huggingface_hub's cache, or for a ``visitor``'s
    repo capped (``USER_MAX_FILE_BYTES``) through the bounded cache of ``archdemo.weights.visitor_files``."""
    if source.kind == "dir":
        path = Path(source.location) / filename
        if not path.is_file():
            raise WeightsError(f"{path} not found")
        return path
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        if visitor:
            limit = USER_MAX_FILE_BYTES.get(filename, USER_MAX_OTHER_FILE_BYTES)
            return visitor_files.download(source.location, filename, source.revision or "main", limit)
        return Path(hf_hub_download(source.location, filename, revision=source.revision, library_name="archdemo"))
    except visitor_files.FileRefused as e:
        raise WeightsError(f"{source.location}'s {e}") from None
    except RepositoryNotFoundError:
        raise WeightsError(f"Hub repo {source.location} not found (or it is private)") from None
    except RevisionNotFoundError:
        raise WeightsError(f"revision {source.revision} not found in Hub repo {source.location}") from None
    except LocalEntryNotFoundError as e:  # before EntryNotFoundError: it is a subclass of it
        raise WeightsError(f"cannot reach the Hub for {source} and it is not in the local cache ({e})") from None
    except EntryNotFoundError:
        raise WeightsError(f"{filename} not found in Hub repo {source.location}@{source.revision}") from None
    except (HfHubHTTPError, OSError) as e:
        raise WeightsError(f"Hub download of {filename} from {source} failed: {e}") from None
    except ValueError as e:  # HFValidationError: a repo id or revision huggingface_hub refuses
        raise WeightsError(f"{source}: {e}") from None
    except Exception as e:
        # huggingface_hub >= 1.0 talks httpx (httpx2 in 2.x), whose transport errors are not OSErrors.
        if not isinstance(e, transport_errors()):
            raise
        raise WeightsError(f"Hub download of {filename} from {source} failed: {type(e).__name__}: {e}") from None


def user_source(repo_id: str, revision: str = "") -> WeightsSource:
    """A Hub repo someone typed into the app -> a source, or a WeightsError that says what to fix."""
    repo_id, revision = (repo_id or "").strip(), (revision or "").strip()
    if not repo_id:
        raise WeightsError("Type a Hub repo id, such as your-name/my-digit-cnn.")
    if not REPO_ID.match(repo_id):
        raise WeightsError(
            f"{repo_id[:100]!r} is not a Hub model repo id: it should look like ORG/NAME, with letters, "
            "digits, '-', '_' or '.'."
        )
    if revision and (not _REVISION.match(revision) or ".." in revision):
        raise WeightsError(f"{revision[:100]!r} is not a commit hash, tag or branch name.")
    return WeightsSource("hub", repo_id, revision or "main")


def pin(source: WeightsSource) -> WeightsSource:
    """A visitor's Hub source at the commit its revision points to now (a branch or tag moves; a commit does not)."""
    commit = Path(fetch(source, CONFIG_NAME, visitor=True)).parent.name  # the snapshot folder is named by its commit
    return WeightsSource("hub", source.location, commit) if re.fullmatch(r"[0-9a-f]{40}", commit) else source


def load_user_model(name: str, source: WeightsSource, device: str | torch.device = "cpu") -> nn.Module:
    """A model from a repo a visitor chose (best ``pin``ned first), with limits.

    Beyond what ``load_model`` checks (the architecture, every field and tensor), this refuses any
    file over its cap (``USER_MAX_FILE_BYTES``) before downloading it or as its bytes arrive, a config
    that would build more than ``USER_MAX_PARAMETERS`` parameters before allocating them, text models
    that read more than ``USER_MAX_TEXT_LEN`` tokens, and a fine-tuned model on any base but the app's
    own pinned one (so a visitor never has the app download a base or a tokenizer of their choosing).
    """
    spec = get_spec(name)
    config = load_config(name, source, visitor=True)
    try:
        with torch.device("meta"):
            n_params = sum(p.numel() for p in spec.model_cls(config).parameters())
    except Exception as e:
        raise WeightsError(f"{source}: config cannot build {spec.model_cls.__name__}: {e}") from None
    if n_params > USER_MAX_PARAMETERS:
        raise WeightsError(
            f"{source.location} would build a {n_params:,}-parameter {spec.model_cls.__name__}; this app takes "
            f"up to {USER_MAX_PARAMETERS:,}."
        )
    max_len = getattr(config, "max_len", None)
    if max_len is not None and max_len > USER_MAX_TEXT_LEN:
        raise WeightsError(f"{source.location} reads up to {max_len} tokens; this app takes up to {USER_MAX_TEXT_LEN}.")
    own, base = spec.config_cls, ("base_repo", "base_revision", "base_sha256", "tokenizer_sha256")
    if hasattr(config, "base_repo") and any(getattr(config, k) != getattr(own, k) for k in base):
        raise WeightsError(
            f"{source.location} builds on {str(config.base_repo)[:100]}; this app takes fine-tuned models on its "
            f"own base only: {own.base_repo} at {own.base_revision[:12]}, with its files' pinned hashes."
        )
    return load_model(name, source, device, visitor=True)


def config_to_dict(config: object) -> dict:
    return dataclasses.asdict(config)  # type: ignore[call-overload]


def config_from_dict(spec: ModelSpec, data: dict, origin: str) -> object:
    """Strictly rebuild a config: right architecture, known fields only, right types."""
    arch = data.get("architecture")
    if arch != spec.model_cls.__name__:
        raise WeightsError(f"{origin}: architecture {arch!r} does not match {spec.name} ({spec.model_cls.__name__})")
    fields = {f.name: f for f in dataclasses.fields(spec.config_cls)}
    values = {k: v for k, v in data.items() if k not in ("architecture", "model_type", "archdemo_version")}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise WeightsError(f"{origin}: unknown config fields {unknown} for {spec.model_cls.__name__}")
    hints = typing.get_type_hints(spec.config_cls)
    for key, value in values.items():
        want = typing.get_origin(hints[key]) or hints[key]
        if want is tuple and isinstance(value, list):
            values[key] = tuple(value)
        elif want in (int, float, str, list) and not isinstance(
            values[key], want if want is not float else (int, float)
        ):
            raise WeightsError(f"{origin}: field {key!r} should be {want.__name__}, got {type(value).__name__}")
    try:
        return spec.config_cls(**values)
    except (TypeError, ValueError) as e:
        raise WeightsError(f"{origin}: {e}") from None


def load_config(name: str, source: WeightsSource | None = None, visitor: bool = False) -> object:
    spec = get_spec(name)
    source = source or default_source(spec)
    path = fetch(source, CONFIG_NAME, visitor)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise WeightsError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise WeightsError(f"{path} should hold a JSON object")
    return config_from_dict(spec, data, str(path))


def load_model(
    name: str, source: WeightsSource | None = None, device: str | torch.device = "cpu", visitor: bool = False
) -> nn.Module:
    """Build model ``name`` from ``source`` (default: see module docstring), strictly, in eval mode;
    a ``visitor``'s files are fetched capped, into their own cache (see ``fetch``)."""
    spec = get_spec(name)
    source = source or default_source(spec)
    config = load_config(name, source, visitor)
    try:
        model = spec.model_cls(config)
    except Exception as e:  # a config whose numbers cannot build the model (e.g. heads not dividing width)
        raise WeightsError(f"{source}: config cannot build {spec.model_cls.__name__}: {e}") from None
    fine_tuned = hasattr(model, "load_base_state")  # a pretrained base (pinned, hash-checked) + what was learned here
    if fine_tuned:
        from archdemo.weights.base import BaseModelError, load_base_weights

        try:
            model.load_base_state(load_base_weights(config))
        except (BaseModelError, ValueError) as e:
            raise WeightsError(f"{source}: the pretrained base: {e}") from None
    path = fetch(source, WEIGHTS_NAME, visitor)
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsError(f"{path} is not a readable safetensors file: {e}") from None
    try:
        if fine_tuned:
            model.load_fine_tuned_state(state)
        else:
            model.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError) as e:
        raise WeightsError(f"{path} does not fit the config: {str(e).splitlines()[0]} ...") from None
    log.info("loaded %s from %s", name, source)
    return model.to(device).eval()


def save_pretrained(model: nn.Module, directory: str | Path, card: str | None = None) -> Path:
    """Write config.json + model.safetensors (+ README.md) in the Hub layout; returns the folder."""
    spec = next(s for s in _all_specs() if isinstance(model, s.model_cls))
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "architecture": spec.model_cls.__name__,
        "model_type": spec.name,
        "archdemo_version": __version__,
        **config_to_dict(model.config),  # type: ignore[arg-type]
    }
    (directory / CONFIG_NAME).write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    # A model on a pretrained base saves only what fine-tuning learned; the base stays on the Hub.
    full = model.fine_tuned_state_dict() if hasattr(model, "fine_tuned_state_dict") else model.state_dict()
    # A model may ask for smaller files (``save_dtype``, e.g. float16); load_state_dict casts back to float32.
    dtype = getattr(model, "save_dtype", None)
    state = {
        k: (v.to(dtype) if dtype and v.is_floating_point() else v).detach().cpu().contiguous() for k, v in full.items()
    }
    save_file(state, str(directory / WEIGHTS_NAME), metadata={"format": "pt", "architecture": spec.model_cls.__name__})
    if card is not None:
        (directory / CARD_NAME).write_text(card, encoding="utf-8")
    return directory


def _all_specs() -> list[ModelSpec]:
    from archdemo.weights.registry import MODELS

    return list(MODELS.values())
