"""The "use your own model from the Hub" panel: a visitor's repo for one tab, for that visitor only."""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict

import gradio as gr

from archdemo.errors import InputError
from archdemo.settings import SESSION_CAPACITY
from archdemo.ui.errors import public_message
from archdemo.weights.hub import USER_MAX_PARAMETERS, USER_MAX_WEIGHTS_BYTES, WeightsError
from archdemo.weights.registry import get_spec
from archdemo.weights.store import ModelStore

log = logging.getLogger("archdemo.ui")

OWN_MODEL_DEFAULT = "Using archdemo's own model."
UNKNOWN_MODEL = "The drawing pad asked for a model this page has not loaded; load it again in the panel below."


class PadChoices:
    """A visitor's own model for the live pad, as a token only their page holds.

    The pad's server function gets only what the browser sends (Gradio hands it no session), so the pad
    carries an opaque token that ``hand_out`` made for the choice the panel stored in that visitor's
    session and sent to that visitor's page alone; ``choice`` maps it back. Anything else (a folder, a
    repo name, a made-up token) is refused with one sentence that says nothing about the server's files.
    """

    def __init__(self, capacity: int = 4 * SESSION_CAPACITY) -> None:
        self.capacity = capacity
        self._by_token: OrderedDict[str, str] = OrderedDict()  # token -> the choice it stands for
        self._lock = threading.Lock()

    def token_for(self, choice: str | None) -> str | None:
        if not choice:
            return None
        token = secrets.token_urlsafe(18)  # 144 random bits
        with self._lock:
            self._by_token[token] = choice
            while len(self._by_token) > self.capacity:
                self._by_token.popitem(last=False)
        return token

    def hand_out(self, choice: str | None) -> gr.HTML:
        """The pad's update after the panel changed the choice: a fresh token, or none for archdemo's model."""
        return gr.HTML(model=self.token_for(choice))

    def choice(self, token: object) -> str:
        with self._lock:
            found = self._by_token.get(token) if isinstance(token, str) else None
        if found is None:
            raise InputError(UNKNOWN_MODEL)
        return found


def own_model_picker(store: ModelStore, name: str, replaces: str = "") -> tuple[gr.State, list]:
    """ "Use your own model": a Hub repo id (and revision) for this tab, for this visitor only.

    ``replaces``: which of the tab's models the visitor's takes the place of, where the tab has several.
    Returns the visitor's choice (a ``gr.State``: the tasks take it as ``choice``) and the events that
    change it, so the tab can redraw with the new model.
    """
    spec = get_spec(name)
    arch = spec.model_cls.__name__
    choice = gr.State(None)
    if not store.settings.user_models:
        return choice, []
    with gr.Accordion("Use your own model from the Hugging Face Hub", open=False, elem_id=f"{name}-own"):
        gr.Markdown(
            f"Train a {arch} of your own (`python -m archdemo.train {name}`, with other sizes if you like), "
            "push it with `python -m archdemo.publish`, and load it here: everything in this tab then runs "
            "on your model, for you only"
            + (f" (it takes the place of {replaces})" if replaces else "")
            + ". The repo needs `config.json` naming the architecture "
            f"`{arch}` and `model.safetensors`; nothing else in it is read or run. Limits: "
            f"{USER_MAX_PARAMETERS / 1e6:.0f} M parameters, {USER_MAX_WEIGHTS_BYTES / 2**20:.0f} MB of weights."
        )
        with gr.Row():
            repo = gr.Textbox(
                label="Hub repo id", placeholder="your-name/my-model", max_length=200, elem_id=f"{name}-own-repo"
            )
            revision = gr.Textbox(
                label="Revision: commit, tag or branch (empty: main)", max_length=100, elem_id=f"{name}-own-revision"
            )
        with gr.Row():
            load = gr.Button("Load this model", elem_id=f"{name}-own-load")
            reset = gr.Button("Back to archdemo's model", elem_id=f"{name}-own-reset")
        status = gr.Markdown(OWN_MODEL_DEFAULT, elem_id=f"{name}-own-status")

    def pick(repo_id: str, rev: str, current: str | None) -> tuple[str | None, str]:
        still = "Still using " + ("the model you loaded before." if current else "archdemo's own model.")
        try:
            return store.load_user_model(name, str(repo_id or "")[:200], str(rev or "")[:100])
        except WeightsError as e:
            return current, f"**Not loaded.** {public_message(e)}\n\n{still}"
        except Exception:
            log.exception("loading a visitor's model for %s", name)
            return current, f"**Not loaded:** something went wrong on our side. {still}"

    events = [
        load.click(pick, [repo, revision, choice], [choice, status], api_visibility="private"),
        reset.click(lambda: (None, OWN_MODEL_DEFAULT), None, [choice, status], api_visibility="private"),
    ]
    return choice, events
