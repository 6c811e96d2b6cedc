"""The model store: every model the app runs, loaded once, shared read-only, all on one device.

It owns where weights come from (the settings' sources, the Hub with a fall-back to the bundled copy),
the app's own models, the few models visitors loaded from their own Hub repos (kept by commit), each
text model's tokenizer, and the device (every model moves to the CPU together if the GPU fails). It runs
no model: the task functions in ``archdemo.tasks.digits`` and ``archdemo.tasks.sentences`` do, under ``guarded``.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import OrderedDict

import torch
from torch import nn

from archdemo.device import describe, pick_device
from archdemo.settings import Settings
from archdemo.weights.hub import (
    WeightsError,
    WeightsSource,
    bundled_source,
    default_source,
    load_model,
    load_user_model,
    parse_source,
    pin,
    user_source,
)
from archdemo.weights.registry import MODELS, get_spec

log = logging.getLogger("archdemo.weights.store")


def check_servable(name: str, model: nn.Module, origin: str) -> None:
    """Refuse, at load, a model the app cannot show: its tabs draw a two-way verdict for text."""
    labels = getattr(model.config, "labels", None)
    if get_spec(name).task == "text-classification" and len(labels) != 2:
        raise WeightsError(
            f"{origin} names {len(labels)} labels {labels}; this app's text tabs show a two-way verdict, "
            "so a text model needs exactly two labels (any names)"
        )


class ModelStore:
    USER_MODELS_KEPT = 4  # visitors' own models kept in memory; the least recently used goes first

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.device = pick_device(self.settings.device)
        self._models: dict[str, nn.Module] = {}
        self._loaded_from: dict[str, str] = {}
        self._lock = threading.Lock()
        # Visitors' models by (name, "hub:REPO@COMMIT"): shared by everyone who picks the same commit.
        self._user_models: OrderedDict[tuple[str, str], nn.Module] = OrderedDict()
        self._user_lock = threading.Lock()  # guards the two dicts; each load holds only its own key's lock
        self._loading: dict[tuple[str, str], threading.Lock] = {}  # a crowd asking for one repo loads it once
        self._tokenizers: weakref.WeakKeyDictionary[nn.Module, object] = weakref.WeakKeyDictionary()

    @property
    def device_label(self) -> str:
        return describe(self.device)

    def source(self, name: str) -> WeightsSource:
        return default_source(get_spec(name), self.settings.weights, self.settings.sources.get(name))

    def get(self, name: str, choice: str | None = None) -> nn.Module:
        """Model ``name``: the app's own, or the visitor's ``choice`` (a pinned source from ``load_user_model``)."""
        if choice:
            try:
                source = parse_source(choice) if self.settings.user_models else None
            except WeightsError:
                source = None
            if source is None or source.kind != "hub":  # a visitor's choice is a Hub repo, never a folder
                raise WeightsError("that model is not available on this server")
            return self._user_model(name, source)
        model = self._models.get(name)
        if model is None:
            with self._lock:
                if name not in self._models:
                    self._models[name], self._loaded_from[name] = self._load(name)
                model = self._models[name]
        return model

    def _load(self, name: str) -> tuple[nn.Module, str]:
        """Load from the configured source; a registry Hub source that fails falls back to the bundled copy.

        A source named for this one model never falls back: whoever named it gets that model or a clear error.
        """
        source = None
        try:
            source = self.source(name)
            model = load_model(name, source, self.device)
            check_servable(name, model, str(source))
            return model, str(source)
        except WeightsError as e:
            if name in self.settings.explicit or self.settings.weights != "hub":
                raise
            bundled = bundled_source(name)
            log.warning("%s: %s; falling back to the bundled weights in %s", name, e, bundled)
            return load_model(name, bundled, self.device), f"{bundled} (fallback: the Hub was unavailable)"

    def loaded_from(self) -> dict[str, str]:
        return dict(self._loaded_from)

    def load_all(self) -> None:
        for name in MODELS:
            self.get(name)

    # ------------------------------------------------------------ visitors' own models

    def _user_model(self, name: str, source: WeightsSource) -> nn.Module:
        key = (name, str(source))
        with self._user_lock:
            if key in self._user_models:
                self._user_models.move_to_end(key)
                return self._user_models[key]
            lock = self._loading.setdefault(key, threading.Lock())
        with lock:  # other visitors' loads of other repos go on meanwhile
            try:
                with self._user_lock:
                    model = self._user_models.get(key)
                if model is None:
                    model = load_user_model(name, source, self.device)
                    check_servable(name, model, source.location)
                with self._user_lock:
                    self._user_models[key] = model
                    self._user_models.move_to_end(key)
                    while len(self._user_models) > self.USER_MODELS_KEPT:
                        self._user_models.popitem(last=False)
                return model
            finally:
                with self._user_lock:
                    self._loading.pop(key, None)

    def load_user_model(self, name: str, repo_id: str, revision: str = "") -> tuple[str, str]:
        """Load a visitor's own model for one tab -> (the choice to keep in their session, a message).

        The revision (default: main) is resolved to its commit each time, so loading again after a push
        gets the new model. Raises WeightsError with a message for the visitor when the repo is malformed,
        unreachable, of another architecture, too big, broken, or names labels the tab cannot show.
        """
        if not self.settings.user_models:
            raise WeightsError("visitors' own models are turned off on this server")
        source = pin(user_source(repo_id, revision))
        model = self._user_model(name, source)
        n = sum(p.numel() for p in model.parameters())
        return str(source), (
            f"Using **{source.location}** at commit `{(source.revision or '')[:12]}` ({n:,} parameters) "
            "in this tab, for you only."
        )

    # ------------------------------------------------------------ tokenizers and device

    def tokenizer(self, name: str, choice: str | None = None):
        """The tokenizer that belongs to this text model (built from its own config, once per model)."""
        return self.reader(name, choice)[1]

    def reader(self, name: str, choice: str | None = None) -> tuple[nn.Module, object]:
        """A text model and its tokenizer, looked up together (once per interaction)."""
        model = self.get(name, choice)
        tok = self._tokenizers.get(model)
        if tok is None:
            tok = get_spec(name).make_tokenizer(model.config)
            self._tokenizers[model] = tok
        return model, tok

    def move_to_cpu(self) -> None:
        """After a GPU failure: every model, the app's and visitors', goes to the CPU and stays there."""
        with self._lock, self._user_lock:
            self.device = torch.device("cpu")
            for name, model in self._models.items():
                self._models[name] = model.to(self.device)
            for key, model in self._user_models.items():
                self._user_models[key] = model.to(self.device)
        if torch.cuda.is_available():
            try:
                torch.cuda.empty_cache()
            except RuntimeError:
                pass
