"""Links that open an input: ``?tab=``, ``?text=``, ``?prompt=``, ``?step=``, read once when the page loads.

``parse`` is the edge: it keeps what is valid, by the limits the tasks themselves use, and turns anything
else into a short note (never an error page). ``wire_links`` applies a parsed link through the same updates
a step button makes; ``copy_link_row`` is each tab's "copy a link to this" button, built in the browser
from what the tab shows now.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import gradio as gr

from archdemo.errors import InputError
from archdemo.inputs.words import validate_text
from archdemo.ui.lesson import BY_ID, TAB_TITLES, TABS, Step

if TYPE_CHECKING:  # only a type here: guide builds the panels and imports this module
    from archdemo.ui.guide import Course

TEXT_TABS = ("rnn", "transformer", "compare")
KNOWN = ("tab", "text", "prompt", "step")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NAME = re.compile(r"[a-z0-9_-]{1,40}")


@dataclass
class Link:
    tab: str | None = None
    text: str | None = None
    prompt: str | None = None
    step: Step | None = None
    notes: list[str] = field(default_factory=list)


def _shown(value: str) -> str:
    """A value in a note: short, and only if it is a plain name (never the visitor's raw text)."""
    return f" '{value}'" if _NAME.fullmatch(value) else ""


def parse(params: Mapping[str, str], check_prompt: Callable[[str], str]) -> Link:
    """The query parameters -> what to open, and a note for each value left out (``check_prompt``: Write's check)."""
    link = Link()
    tab, text, prompt, step = (params.get(k) for k in KNOWN)
    if step is not None:
        link.step = BY_ID.get(step.strip().lower())
        if link.step is None:
            link.notes.append(f"There is no guided step{_shown(step)}: each tab's 'Guided lesson' lists them.")
        elif tab or text or prompt:
            link.notes.append(
                "The link opens a guided step, which brings its own tab and input; the rest was left out."
            )
            return link
        else:
            return link
    if tab is not None:
        name = tab.strip().lower()
        if name in TABS:
            link.tab = name
        else:
            link.notes.append(f"There is no tab{_shown(name)}; the tabs are {', '.join(TABS)}.")
    if text is not None:
        why = _text_problem(text)
        if why:
            link.notes.append(f"The link's text was left out: {why}")
        elif link.tab not in (None, *TEXT_TABS):
            link.notes.append(f"The {TAB_TITLES[link.tab]} tab takes no sentence; the link's text was left out.")
        else:
            link.tab, link.text = link.tab or "compare", text
    if prompt is not None:
        try:
            value = check_prompt(prompt)
        except InputError as e:
            link.notes.append(f"The link's prompt was left out: {e}")
        else:
            if link.tab not in (None, "write"):
                link.notes.append("Only the Write tab takes a prompt; the link's prompt was left out.")
            else:
                link.tab, link.prompt = "write", value
    return link


def _text_problem(text: str) -> str | None:
    try:
        validate_text(text)
    except InputError as e:
        return str(e)
    if _CONTROL.search(text):
        return "it holds control characters, which a sentence never has."
    return None


def note_markdown(notes: list[str]) -> str:
    return "\n".join(f"- {n}" for n in notes)


def wire_links(demo: gr.Blocks, course: Course, note: gr.Markdown, check_prompt: Callable[[str], str]) -> None:
    """On page load: open what the link asks for, through the same updates a step makes."""
    pending = gr.State(None)  # the link's step, or "write" when a prompt should be written at once
    tabs = course.tabs

    def opened(request: gr.Request = None):  # None: called without a page (the ZeroGPU stand-in's driver)
        params = dict(request.query_params) if request is not None else {}
        if not any(k in params for k in KNOWN):
            # The usual visit: nothing to do. Not an empty dict: Gradio reads {} as one output's value and
            # fails the event ("didn't return enough output values"), a red badge on the pad at every load.
            return {note: gr.skip()}
        link = parse(params, check_prompt)
        out: dict = {note: note_markdown(link.notes)} if link.notes else {}
        if link.step is not None:
            out.update(course.updates(link.step))
            return {**out, tabs: gr.update(selected=link.step.target), pending: link.step.id}
        c = course.inputs.get(link.tab or "", {})
        if link.text is not None and "text" in c:
            out[c["text"]] = link.text
        if link.prompt is not None and "prompt" in c:
            out[c["prompt"]], out[pending] = link.prompt, "write"
        if link.tab:
            out[tabs] = gr.update(selected=link.tab)
        return out

    # The drawing pads are left out of this event's outputs: an output a handler skips still reaches the
    # browser as an empty update, and a pad that mounts later (in a tab not yet opened) then loses the
    # title and size its template needs and draws an error instead of a canvas. A step's digit reaches
    # its pad below, through an event that always sends the pad a value (its own, unless a step says).
    pads = [c["pad"] for c in course.inputs.values() if "pad" in c]
    outputs = [o for o in course.outputs() if all(o is not pad for pad in pads)]

    def opened_without_pads(request: gr.Request = None):
        out = opened(request)
        return {k: v for k, v in out.items() if all(k is not pad for pad in pads)} or {note: gr.skip()}

    event = demo.load(opened_without_pads, None, [note, pending, tabs, *outputs], api_visibility="private")
    if pads:  # one event for every pad, not one each: it runs at every page load

        def digits(sid: str | None, *current: str | None):
            step = BY_ID.get(sid or "")
            wanted = course.updates(step) if step is not None else {}
            return [wanted.get(pad, value) for pad, value in zip(pads, current, strict=True)]

        event = event.then(digits, [pending, *pads], pads, api_visibility="private")
    write = course.inputs["write"].get("read")
    c = course.inputs["transformer"]
    if "layer" in c:

        def menus(sid: str | None):
            step = BY_ID.get(sid or "")
            if step is None or not step.layer:
                return gr.skip(), gr.skip()
            return step.layer, step.head

        event = event.then(menus, pending, [c["layer"], c["head"]], api_visibility="private")
    if write:
        fn, inputs, outputs, *options = write  # options: the writing queue group the Write tab's own event uses

        async def written(what: str | None, *args):
            step = BY_ID.get(what or "")
            if what == "write" or (step is not None and step.prompt):
                async for update in fn(*args):  # the Write tab's writer streams (an async generator)
                    yield update
            else:
                yield tuple(gr.skip() for _ in outputs)

        settings = {"api_visibility": "private", **(options[0] if options else {})}
        event = event.then(written, [pending, *inputs], outputs, **settings)
        if len(options) > 1:  # what follows the writing (the Write tab's pictures)
            event.then(*options[1], api_visibility="private")


SOURCES = {"rnn": "#rnn-input textarea", "transformer": "#transformer-input textarea",
           "compare": "#compare-input textarea", "write": "#write-prompt textarea"}  # fmt: skip

COPY_JS = """
async () => {
  const tab = "%(tab)s", box = document.querySelector("%(source)s");
  const card = document.querySelector("#%(tab)s-lesson-card [data-step]");
  const q = new URLSearchParams();
  if (card && (!box || card.dataset.input === box.value)) q.set("step", card.dataset.step);
  else {
    q.set("tab", tab);
    if (box && box.value.trim()) q.set("%(key)s", box.value);
  }
  const url = location.origin + location.pathname + "?" + q.toString();
  let copied = false;
  try {
    if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(url); copied = true; }
  } catch (e) { copied = false; }
  const safe = url.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  const said = copied ? "Copied to the clipboard:" : "This page may not copy for you; select the link and copy it:";
  const field = `<input readonly class="lesson-url" value="${safe}">`;
  return `<div class="lesson-link" data-copied="${copied}">${said} ${field}</div>`;
}
"""


def copy_link_row(tab: str) -> None:
    """The tab's "copy a link to this" button, and the link it made (shown whether or not it was copied)."""
    with gr.Row(equal_height=False, elem_classes="lesson-share"):
        button = gr.Button("Copy a link to this", size="sm", scale=0, min_width=170, elem_id=f"{tab}-copy-link")
        shown = gr.HTML(elem_id=f"{tab}-link")
    key = "prompt" if tab == "write" else "text"
    js = COPY_JS % {"tab": tab, "source": SOURCES.get(tab, "#no-such-box"), "key": key}
    button.click(None, None, shown, js=js, api_visibility="private")
