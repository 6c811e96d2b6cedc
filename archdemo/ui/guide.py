"""The guided lesson on the page: each tab's step buttons, its card, its architecture picture, and the wiring.

``build()`` opens a ``Course``, calls ``panel(tab)`` at the top of every tab, and each tab file hands over
the components a step loads with one call, ``steps_for(tab, text=..., read=...)``. ``Course.wire`` then
connects every step button (a step may switch to another tab with the same input) and, in
``archdemo.ui.links``, the page's query parameters, which load the same way.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Iterator

import gradio as gr
import numpy as np

from archdemo.inputs.images import prepare_digit, to_pad
from archdemo.paths import HARD_DIGITS, SAMPLE_DIGITS
from archdemo.plots import architecture as arch
from archdemo.ui.layout import LIVE
from archdemo.ui.lesson import BY_ID, TAB_TITLES, Step, steps_on
from archdemo.ui.links import copy_link_row
from archdemo.weights.store import ModelStore

DEFAULT_TEXT = "It's not bad, I'd say!"  # the sentence the pictures are drawn for while a box is empty
INTRO = (
    '<p class="lesson-intro">Each step puts its input in place and says what to look at. '
    "Click one, look, then try your own.</p>"
)
_current: Course | None = None


def digit_picture(name: str) -> np.ndarray:
    """A step's digit: "digits/7" and "hard/<stem>" are the bundled pictures, "drawn/x" an X drawn here."""
    from PIL import Image, ImageDraw

    kind, _, stem = name.partition("/")
    if kind == "drawn":
        im = Image.new("L", (280, 280), 0)
        draw = ImageDraw.Draw(im)
        draw.line((40, 40, 240, 240), fill=255, width=22)
        draw.line((240, 40, 40, 240), fill=255, width=22)
        return prepare_digit(np.asarray(im))
    folder = SAMPLE_DIGITS if kind == "digits" else HARD_DIGITS
    return prepare_digit(np.asarray(Image.open(folder / f"{stem}.png")))


def card_html(step: Step) -> str:
    """The step's card: try, notice, why, and a link down to the picture it points at."""
    e = html.escape
    on = steps_on(step.tab)
    where = f", opened on the {TAB_TITLES[step.target]} tab" if step.opens else ""
    data_input = e(step.text or step.prompt, quote=True)
    return (
        f'<div class="lesson-card" data-step="{e(step.id)}" data-input="{data_input}">'
        f"<p><strong>{TAB_TITLES[step.tab]} lesson, step {on.index(step) + 1} of {len(on)}: {e(step.title)}</strong>"
        f"{e(where)}</p>"
        f"<p><strong>Try:</strong> {e(step.try_)}</p>"
        f"<p><strong>Notice:</strong> {e(step.notice)} "
        f'<a href="#{e(step.look)}" class="lesson-look">Show me</a></p>'
        f"<p><strong>Why:</strong> {e(step.why)}</p></div>"
    )


def steps_for(tab: str, **components) -> None:
    """A tab's one hook: the components its steps load (text, reader, layer, head, pad, noise, kind, prompt,
    length, temperature, seed) and, as ``read=(fn, inputs, outputs)``, how the tab reads its input."""
    if _current is not None:
        _current.inputs[tab].update(components)


@contextlib.contextmanager
def course(store: ModelStore) -> Iterator[Course]:
    global _current
    _current = Course(store)
    try:
        yield _current
    finally:
        _current = None


class Course:
    """What the steps and links touch, collected while ``build()`` runs."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store
        self.inputs: dict[str, dict] = {tab: {} for tab in TAB_TITLES}
        self.accordions: dict[str, gr.Accordion] = {}
        self.cards: dict[str, gr.HTML] = {}
        self.buttons: dict[str, gr.Button] = {}
        self.pictures: dict[str, gr.HTML] = {}

    def panel(self, tab: str) -> None:
        """The top of a tab: its guided steps, folded until used."""
        steps = steps_on(tab)
        with gr.Accordion(
            f"Guided lesson: {len(steps)} steps, one click each", open=False, elem_id=f"{tab}-lesson"
        ) as self.accordions[tab]:
            gr.HTML(INTRO)
            with gr.Row(elem_classes="lesson-steps"):
                for i, s in enumerate(steps, 1):
                    self.buttons[s.id] = gr.Button(f"{i}. {s.title}", size="sm", elem_id=f"step-{s.id}", min_width=120)
            self.cards[tab] = gr.HTML(elem_id=f"{tab}-lesson-card")

    def foot(self, tab: str) -> None:
        """The foot of a tab: a link to share and its architecture, folded. Below the tab's input and insides,
        so that on a phone the input still starts on the first screen."""
        copy_link_row(tab)
        if tab == "compare":
            return
        with gr.Accordion(
            "The architecture: its blocks, and the shape of your input after each one",
            open=False,
            elem_id=f"{tab}-architecture",
        ):
            self.pictures[tab] = gr.HTML(self.architecture(tab), elem_id=f"{tab}-architecture-picture")

    # ------------------------------------------------------------ the architecture pictures

    def architecture(self, tab: str, text: str | None = None, reader: str | None = None) -> str:
        """The tab's diagrams for the input in it (the default one until the visitor types)."""
        get = lambda name: self.store.get(name).config  # noqa: E731
        if tab == "cnn":
            return arch.page([arch.digit_cnn(get("cnn"))])
        if tab == "autoencoder":
            return arch.page([arch.autoencoder(get("autoencoder"))])
        if tab == "write":
            n = len(text or "ROMEO:\n")
            said = f"<p>Shapes while reading your {n}-character prompt.</p>"
            return said + arch.page([arch.char_rnn(get("char_rnn"), n), arch.char_gpt(get("char_gpt"), n),
                                     arch.char_cnn(get("char_cnn"), n)])  # fmt: skip
        name = (
            "rnn"
            if tab == "rnn"
            else (reader if reader in ("pretrained_transformer", "transformer") else "pretrained_transformer")
        )
        text = text if (text or "").strip() else DEFAULT_TEXT
        try:
            tokens = len(self.store.tokenizer(name).encode(text).tokens)
        except Exception:  # noqa: BLE001 - a text the tab itself will explain: draw the default's shapes
            text, tokens = DEFAULT_TEXT, len(self.store.tokenizer(name).encode(DEFAULT_TEXT).tokens)
        draw = {"rnn": arch.sentiment_rnn, "transformer": arch.sentiment_transformer}.get(
            name, arch.pretrained_transformer
        )
        said = f"<p>Shapes for the sentence in the box: {tokens} tokens.</p>"
        return said + arch.page([draw(get(name), tokens)])

    # ------------------------------------------------------------ what a step changes

    def updates(self, step: Step, *, reader_now: str | None = None) -> dict:
        """The component updates that load ``step``: its tab, its card, its inputs."""
        target, c = step.target, self.inputs[step.target]
        out = {self.cards[step.tab]: card_html(step), self.cards[target]: card_html(step)}
        out[self.accordions[target]] = gr.update(open=True)
        if step.text and "text" in c:
            out[c["text"]] = step.text
        if step.reader and "reader" in c:
            out[c["reader"]] = step.reader
            if step.layer and reader_now == step.reader:  # no reader change, so no menu reset to wait for
                out[c["layer"]], out[c["head"]] = step.layer, step.head
        if step.digit and "pad" in c:
            out[c["pad"]] = to_pad(digit_picture(step.digit))
        if step.noise is not None and "noise" in c:
            out[c["noise"]], out[c["kind"]] = step.noise, step.kind
        if step.prompt and "prompt" in c:
            out[c["prompt"]] = step.prompt
            for key in ("length", "temperature"):
                if getattr(step, key) is not None and key in c:
                    out[c[key]] = getattr(step, key)
            if "seed" in c:
                out[c["seed"]] = 0
        return out

    def outputs(self) -> list:
        """Every component a step or a link may change."""
        found = [*self.cards.values(), *self.accordions.values()]
        for c in self.inputs.values():
            found += [v for k, v in c.items() if k != "read"]
        return found

    def wire(self, tabs: gr.Tabs, tab_objects: dict[str, gr.Tab]) -> None:
        """Step buttons, the tabs' first reading when opened, and the architecture pictures' updates."""
        self.tabs = tabs
        for sid, button in self.buttons.items():
            step = BY_ID[sid]
            c = self.inputs[step.target]
            reader = [c["reader"]] if step.layer and "reader" in c else []
            load = lambda *now, step=step: {  # noqa: E731
                **self.updates(step, reader_now=now[0] if now else None),
                **({tabs: gr.update(selected=step.target)} if step.opens else {}),
            }
            touched = list(self.updates(step, reader_now=step.reader))  # only what this step can change
            event = button.click(load, reader, [*touched, *([tabs] if step.opens else [])], api_visibility="private")
            self.after(event, step)
        for tab in ("rnn", "transformer"):
            self.preload(tab, tab_objects[tab])
        self.watch_architecture()

    def after(self, event, step: Step):
        """What a step needs once its inputs are in place: the menus (after a reader change), writing."""
        c = self.inputs[step.target]
        if step.layer and "layer" in c:
            event = event.then(lambda: (step.layer, step.head), None, [c["layer"], c["head"]], api_visibility="private")
        if step.prompt and "read" in c:
            fn, inputs, outputs, *options = c["read"]  # options: the event's settings, then what follows it
            event = event.then(fn, inputs, outputs, **{"api_visibility": "private", **(options[0] if options else {})})
            if len(options) > 1:
                event = event.then(*options[1], api_visibility="private")
        return event

    def preload(self, tab: str, tab_object: gr.Tab) -> None:
        """Opening the tab the first time reads what is in its box (later, it shows what it last read)."""
        c = self.inputs[tab]
        if "read" not in c or "text" not in c:
            return
        fn, inputs, outputs, *_ = c["read"]
        read_once = gr.State(False)  # this visitor's tab has read something already

        def opened(done: bool | None, text: str | None, *rest):
            if done or not (text or "").strip():
                return (True, *(gr.skip() for _ in outputs))
            return (True, *fn(text, *rest))

        tab_object.select(opened, [read_once, *inputs], [read_once, *outputs], **LIVE)

    def watch_architecture(self) -> None:
        for tab, picture in self.pictures.items():
            c = self.inputs[tab]
            box = c.get("text") or c.get("prompt")
            if box is None:
                continue
            reader = [c["reader"]] if "reader" in c else []
            triggers = [box.change, *([c["reader"].change] if reader else [])]
            gr.on(triggers, lambda t, *r, tab=tab: self.architecture(tab, t, *r), [box, *reader], picture, **LIVE)
