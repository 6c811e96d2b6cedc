"""The autoencoder tab's "Is this a digit?" meter: a percentile as a bar, with a sentence that reads it."""

from __future__ import annotations

import math

import gradio as gr

from archdemo.tasks.anomaly import UNUSUAL_AT, AnomalyReading, load_calibration

DOUBTFUL_AT = 90.0  # percentile: from here the bar turns amber
COLOURS = ((UNUSUAL_AT, "#c62828"), (DOUBTFUL_AT, "#f9a825"), (0.0, "#2e7d32"))  # red, amber, green


def anomaly_meter() -> gr.HTML:
    return gr.HTML(elem_id="ae-anomaly", js_on_load=None, min_height=90)


def verdict(p: float, n: int) -> str:
    """The sentence under the bar, e.g. 'Rebuilt worse than 99.7% of MNIST test digits: probably not a digit.'"""
    if p >= 100.0:
        return f"Rebuilt worse than every one of the {n:,} MNIST test digits: <b>probably not a digit</b>."
    if p <= 0.0:
        return f"Rebuilt better than every one of the {n:,} MNIST test digits: <b>nothing unusual</b> to it."
    # Rounded down, so that 99.97 reads 99.9% (not 100.0%, which only the worst-rebuilt input earns).
    share = f"{math.floor(p * 10) / 10:.1f}%" if p >= DOUBTFUL_AT else f"{math.floor(p)}%"
    if p >= UNUSUAL_AT:
        return f"Rebuilt worse than {share} of MNIST test digits: <b>probably not a digit</b>."
    if p >= DOUBTFUL_AT:
        return f"Rebuilt worse than {share} of MNIST test digits: <b>an unusual digit, or not a digit</b>."
    return f"Rebuilt worse than only {share} of MNIST test digits: <b>nothing unusual</b> to this autoencoder."


def meter_html(r: AnomalyReading) -> str:
    """The bar (0-100, a tick at the 'unusual' line), the verdict, and what the reading can and cannot tell."""
    cal = load_calibration()
    p = min(max(r.percentile, 0.0), 100.0)
    colour = next(c for at, c in COLOURS if p >= at)
    measured = (
        f". Measured against letters, scribbles, shapes and noise, its ROC AUC is {cal.roc_auc:.2f} (the chance "
        "that a random non-digit scores worse than a random digit: 1.0 would tell them apart every time, 0.5 "
        "is guessing)"
        if cal.roc_auc
        else ""
    )
    own = (
        ""
        if r.calibrated
        else "<br><b>Your model has no calibration of its own:</b> its rebuild error is placed among the errors "
        "<i>archdemo's</i> autoencoder makes on MNIST test digits, so read the bar as a rough guide only."
    )
    return (
        '<div style="padding:0.3em 0">'
        '<div style="font-weight:600;margin-bottom:0.3em">Is this a digit?</div>'
        f'<div role="meter" aria-label="Rebuild error percentile" aria-valuemin="0" aria-valuemax="100" '
        f'aria-valuenow="{p:.1f}" style="position:relative;height:14px;border-radius:7px;'
        'background:rgba(128,128,128,0.25);overflow:hidden">'
        f'<div style="width:{p:.2f}%;height:100%;background:{colour}"></div>'
        f'<div title="unusual from here" style="position:absolute;top:0;bottom:0;left:{UNUSUAL_AT}%;'
        'width:2px;background:var(--body-text-color, #222)"></div></div>'
        f'<div style="margin-top:0.4em">{verdict(p, cal.n)}</div>'
        '<div style="font-size:0.85em;opacity:0.8;margin-top:0.2em">The score is how badly the autoencoder '
        "rebuilds the clean digit. It rebuilds most clean strokes well, letters and circles included, so a low "
        f"reading means digit-like strokes, not that it is a digit{measured}.{own}</div></div>"
    )
