"""The drawing pad both digit tabs draw on: a canvas that answers while the pen is still moving.

Gradio's own sketchpad sends nothing during a stroke and, at pen-up, exports and uploads three PNGs
before the event even reaches the queue. This pad is a ``gr.HTML`` canvas (``pad.js``): the browser
reduces the drawing to the 28x28 picture the models read, sends those 784 bytes several times a second
while the pen moves, with one request in flight per visitor (over one WebSocket per visitor to the
app's own route, ``archdemo/ui/live.py``, with ``pad_live.js``), and at pen-up makes them the pad's
value, whose ``change`` event draws the insides.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gradio as gr

HERE = Path(__file__).resolve().parent
SIDE = 280  # canvas pixels; shown at up to this size, smaller on a phone

TEMPLATE = """
<div class="pad">
  <div class="pad-paper">
    <span class="pad-title">${title}</span>
    <canvas width="${side}" height="${side}" aria-label="${title}" role="img"></canvas>
    <button type="button" class="pad-clear" id="${clear_id}">Clear</button>
  </div>
  ${readout_html}
</div>
"""

READOUT = (
    '<div class="pad-side"><span class="pad-title">Prediction, live while you draw</span>'
    '<div class="pad-readout" id="{id}" aria-live="polite" data-empty="{empty}">{empty}</div></div>'
)
EMPTY = '<p class="pad-hint">Start drawing: the answer follows your pen.</p>'

CSS = """
.pad { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.pad-paper { display: flex; flex-direction: column; gap: 6px; width: 100%; max-width: ${side}px; }
.pad-title { font-size: var(--block-label-text-size); color: var(--block-label-text-color); }
.pad canvas {
  width: 100%; aspect-ratio: 1; background: #fff; border: 1px solid var(--border-color-primary);
  border-radius: var(--radius-lg); touch-action: none; cursor: crosshair;
}
.pad-clear {
  padding: 6px 12px; border-radius: var(--radius-md); border: 1px solid var(--border-color-primary);
  background: var(--button-secondary-background-fill); color: var(--button-secondary-text-color);
  cursor: pointer;
}
.pad-side { flex: 1; min-width: 200px; display: flex; flex-direction: column; gap: 6px; }
.pad-top { font-size: 2.6em; font-weight: 700; line-height: 1.1; margin-bottom: 6px; }
.pad-row { display: flex; align-items: center; gap: 8px; margin: 2px 0; }
.pad-label { width: 1.5em; text-align: right; font-weight: 600; }
.pad-bar { flex: 1; height: 12px; background: var(--neutral-100); border-radius: 6px; overflow: hidden; }
.pad-bar span { display: block; height: 100%; background: var(--color-accent); }
.pad-pct { width: 3em; text-align: right; font-variant-numeric: tabular-nums; }
.pad-hint, .pad-error { color: var(--body-text-color-subdued); }
"""


def drawing_pad(
    *,
    elem_id: str,
    title: str,
    clear_id: str,
    live: Callable[[dict], dict] | None = None,
    readout_id: str | None = None,
    value: str = "",
) -> gr.HTML:
    """The pad; with ``live``, a readout beside it shows ``live({"pixels", "model"})``'s answer while drawing.

    ``live`` gets the reduced drawing as base64 (see ``image_processing.from_pad``) and the model the
    visitor chose (the pad's ``model`` property), and returns ``{"label", "probabilities"}`` or
    ``{"error": message}``. The pad's value is the same base64 string, set at pen-up and by examples.
    """
    readout = READOUT.format(id=readout_id or f"{elem_id}-readout", empty=EMPTY.replace('"', "&quot;")) if live else ""
    return gr.HTML(
        value=value,
        html_template=TEMPLATE,
        css_template=CSS,
        js_on_load="\n".join((HERE / f).read_text(encoding="utf-8") for f in ("pad.js", "pad_live.js")),
        server_functions=[live] if live else None,
        elem_id=elem_id,
        padding=False,
        container=False,
        apply_default_css=False,
        title=title,
        side=SIDE,
        clear_id=clear_id,
        readout_html=readout,
        model=None,
    )
