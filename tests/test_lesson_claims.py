"""Every guided step says something about the bundled models; each claim is checked here against them.

Inputs go the way the page sends them (a step's digit through the pad's bytes, the Autoencoder tab's
seed 0, the Write tab's seed 0), so a retrained model that changes its mind fails here, naming the step.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from archdemo.inputs.images import from_pad, to_pad
from archdemo.tasks import digits
from archdemo.tasks.sentences import read_sentence
from archdemo.tasks.writing import write
from archdemo.ui.guide import digit_picture
from archdemo.ui.lesson import BY_ID, STEPS, TAB_TITLES, steps_on

READERS = ["rnn", "transformer", "pretrained_transformer", "text_cnn"]


def pad(step_id: str) -> np.ndarray:
    return from_pad(to_pad(digit_picture(BY_ID[step_id].digit)))


def every(store, step_id: str) -> dict[str, tuple[str, float]]:
    r = digits.read_every_reader(store, pad(step_id))
    found = {"cnn": (r.cnn.labels[r.cnn.probabilities.argmax()], float(r.cnn.probabilities.max()))}
    for o in r.others:
        found[o.name] = (o.labels[o.probabilities.argmax()], float(o.probabilities.max()))
    return found


def denoised(store, step_id: str):
    s = BY_ID[step_id]
    r = digits.denoise_digit(store, pad(step_id), s.noise, s.kind, ask_cnn=True)
    return {k: round(v, 1) for k, v in r.metrics.items()}, [(label, round(p, 2)) for label, p in r.cnn_says]


def positive(store, name: str, text: str) -> float:
    return read_sentence(store, name, text).answer["probabilities"]["positive"]


def belief(store, text: str) -> dict[str, float]:
    r = read_sentence(store, "rnn", text)
    return [(t, round(float(b), 2)) for t, b in zip(r.tokens, r.belief, strict=True)]


def check_cnn(store):
    seven = every(store, "cnn-seven")
    assert all(label == "7" and p >= 0.95 for label, p in seven.values()), seven
    rows = digits.read_every_reader(store, pad("cnn-two")).others[0].inside.argmax(1)  # the row-reading LSTM
    said = "".join(str(i) for i in rows)
    assert said[11:21] == "7" * 10 and said[10] != "7" and set(said[21:]) == {"2"}, said
    six = every(store, "cnn-six")
    assert {n: label for n, (label, _) in six.items()} == {
        "cnn": "0", "digit_rnn": "6", "digit_transformer": "0", "autoencoder_probe": "0"
    }, six  # fmt: skip
    assert round(six["digit_rnn"][1], 2) == 0.94
    five = every(store, "cnn-five")
    assert [five[n][0] for n in ("cnn", "digit_rnn", "digit_transformer")] == ["5"] * 3, five
    assert five["autoencoder_probe"][0] == "6" and five["autoencoder_probe"][1] > 0.99, five
    x = every(store, "cnn-x")
    assert x["cnn"][0] == "4" and {x[n][0] for n in x if n != "cnn"} == {"8"}, x
    assert 0.595 <= min(p for _, p in x.values()) and max(p for _, p in x.values()) < 0.945, x


def check_autoencoder(store):
    m, says = denoised(store, "ae-noise")
    assert m == {"psnr_noisy": 9.3, "psnr_denoised": 21.5} and says[1] == ("8", 1.0) and says[2][0] == "7", (m, says)
    m, says = denoised(store, "ae-louder")
    assert m["psnr_denoised"] == 16.2 and says[2] == ("7", 0.46), (m, says)
    m, says = denoised(store, "ae-salt")
    assert m["psnr_denoised"] == 12.3 and says[2] == ("8", 0.71), (m, says)
    m, says = denoised(store, "ae-patch")
    assert m == {"psnr_noisy": 14.2, "psnr_denoised": 17.4} and says[1:] == [("7", 0.63), ("7", 0.75)], (m, says)
    m, says = denoised(store, "ae-nine")
    assert says[0] == ("4", 0.59) and says[2] == ("9", 0.89), (m, says)


def check_rnn(store):
    b = belief(store, BY_ID["rnn-not-bad"].text)
    at = dict(b)
    assert at["'s"] == 0.85 and at["not"] == 0.10 and b[-1][1] == 0.30, b
    assert max(v for _, v in b[b.index(("not", 0.10)) :]) <= 0.30, b  # it never recovers
    b = dict(belief(store, "This movie is not good."))
    assert (b["is"], b["not"], b["good"]) == (0.78, 0.06, 0.18), b
    assert dict(belief(store, "This movie is good."))["good"] == 1.0
    b = belief(store, BY_ID["rnn-contrast"].text)
    words = [t for t, _ in b]
    assert dict(b)["wonderful"] == 1.0 and b[words.index("but")][1] == 1.0, b
    assert all(v >= 0.99 for _, v in b[words.index("wonderful") : words.index("mess")]) and dict(b)["mess"] == 0.11
    text = BY_ID["rnn-not-boring"].text
    assert round(positive(store, "pretrained_transformer", text), 2) == 0.77
    b = belief(store, text)
    assert b[-1][1] == 0.15 and (b[2][1], b[3]) == (0.88, ("not", 0.09)), b
    assert max(v for _, v in b[3:]) <= 0.17, b


def check_compare_claims(store):
    for text in (BY_ID["cmp-not-bad"].text, BY_ID["cmp-not-boring"].text, BY_ID["cmp-order"].text):
        said = {n: positive(store, n, text) > 0.5 for n in READERS}
        assert said == {"rnn": False, "transformer": False, "pretrained_transformer": True, "text_cnn": False}, text
    got = [round(positive(store, n, BY_ID["cmp-not-bad"].text), 2) for n in ("rnn", "transformer", "text_cnn")]
    assert got == [0.30, 0.03, 0.09]
    assert round(positive(store, "pretrained_transformer", BY_ID["cmp-order"].text), 2) == 0.98
    won = BY_ID["cmp-won-over"].text
    assert [round(positive(store, n, won), 2) for n in READERS] == [0.29, 0.24, 0.49, 0.66]
    r = read_sentence(store, "text_cnn", won)
    start, width, _ = max(r.windows, key=lambda w: w[2])  # the strongest push towards positive
    assert " ".join(r.tokens[start : start + width]) == "i expected to hate"
    sarcasm = [positive(store, n, BY_ID["cmp-sarcasm"].text) for n in READERS]
    assert 0.545 <= min(sarcasm) and max(sarcasm) < 0.915, sarcasm


def check_transformer(store):
    r = read_sentence(store, "pretrained_transformer", BY_ID["tr-not-bad"].text)
    assert r.answer["probabilities"]["positive"] >= 0.995
    words = r.tokens[r.words]
    assert words[int(np.argmax(r.pooled_attention[r.words]))] == "bad"
    assert round(positive(store, "transformer", BY_ID["tr-not-bad-scratch"].text), 2) == 0.03
    swapped, contrast = BY_ID["tr-order"].text, BY_ID["rnn-contrast"].text
    assert round(positive(store, "pretrained_transformer", swapped), 2) == 0.98
    assert round(positive(store, "pretrained_transformer", contrast), 2) == 0.01
    assert positive(store, "transformer", swapped) < 0.005 and positive(store, "transformer", contrast) < 0.005
    a = read_sentence(store, "pretrained_transformer", BY_ID["tr-previous"].text).attention
    previous = [a[0, 2, i, i - 1] for i in range(1, a.shape[-1])]  # layer 1, head 3
    assert np.mean(np.array(previous) > 0.9) >= 0.9, previous
    assert a[5, 7, :, 0].mean() >= 0.9  # layer 6, head 8: [CLS]


def written(store, step_id: str) -> dict[str, object]:
    s = BY_ID[step_id]
    out = {}
    for name in ("char_rnn", "char_gpt", "char_cnn"):
        for w in write(store, name, s.prompt, s.length, s.temperature, 0):
            pass
        out[name] = w
    return out


def check_write(store):
    texts = {n: w.text for n, w in written(store, "wr-romeo").items()}
    for name, speaker in zip(texts, ("LADY ANNE:", "DUKE OF AUMERLE:", "LUCIO:"), strict=True):
        assert f"\n\n{speaker}\n" in texts[name], texts[name]
    cold = " ".join(w.text for w in written(store, "wr-cold").values()).lower().replace("\n", " ")
    assert all(cold.count(p) >= 3 for p in ("the sea", "the state", "the prince")), cold
    hot = " ".join(w.text for w in written(store, "wr-hot").values())
    assert re.search(r"[a-z][A-Z]", hot) and "$" in hot
    w = written(store, "wr-sample")
    assert w["char_rnn"].text.startswith("e") and w["char_gpt"].text.startswith("uy")
    first = dict((c, round(p, 2)) for c, p in w["char_gpt"].candidates(0))
    assert first["e"] == 0.89 and first["u"] == 0.02, first


CHECKS = {
    "cnn": check_cnn,
    "autoencoder": check_autoencoder,
    "rnn": check_rnn,
    "transformer": check_transformer,
    "write": check_write,
    "compare": check_compare_claims,
}


@pytest.mark.parametrize("tab", list(CHECKS))
def test_every_step_on_the_tab_says_what_the_models_do(store, tab):
    CHECKS[tab](store)


def test_every_tab_has_four_to_six_steps_with_unique_ids_and_real_inputs():
    assert set(CHECKS) == set(TAB_TITLES)
    assert len({s.id for s in STEPS}) == len(STEPS)
    for tab in TAB_TITLES:
        assert 4 <= len(steps_on(tab)) <= 6, tab
    for s in STEPS:
        assert s.opens in ("", *TAB_TITLES) and s.opens != s.tab
        assert s.text or s.prompt or s.digit, s.id  # every step loads an input
        assert (s.digit != "") == (s.target in ("cnn", "autoencoder")), s.id
    assert any(s.opens for s in STEPS)  # some steps cross tabs
