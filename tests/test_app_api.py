"""The launched app answers its documented API through gradio_client, and bad input gets clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from archdemo.paths import SAMPLE_DIGITS

DIGITS = SAMPLE_DIGITS


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def test_api_lists_exactly_the_documented_endpoints(client):
    api = client.view_api(print_info=False, return_format="dict")
    names = set(api["named_endpoints"])
    assert names == {
        "/classify_digit",
        "/classify_digit_rnn",
        "/classify_digit_transformer",
        "/classify_digit_probe",
        "/denoise_digit",
        "/digit_anomaly",
        "/rnn_sentiment",
        "/transformer_sentiment",
        "/pretrained_transformer_sentiment",
        "/cnn_sentiment",
        "/generate_rnn",
        "/generate_gpt",
        "/generate_cnn",
    }
    params = api["named_endpoints"]["/denoise_digit"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["image", "noise_level"]


@pytest.mark.parametrize("endpoint", ["/classify_digit_rnn", "/classify_digit_transformer", "/classify_digit_probe"])
def test_every_digit_reader_has_the_cnns_inputs_and_answer_shape(client, endpoint):
    from gradio_client import handle_file

    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert [p["parameter_name"] for p in api[endpoint]["parameters"]] == ["image"]
    result = client.predict(handle_file(str(DIGITS / "7.png")), api_name=endpoint)
    assert result["label"] == "7" and set(result["probabilities"]) == {str(d) for d in range(10)}
    with pytest.raises(Exception, match="not an image"):
        client.predict(handle_file(__file__), api_name=endpoint)


def test_classify_digit(client):
    from gradio_client import handle_file

    result = client.predict(handle_file(str(DIGITS / "7.png")), api_name="/classify_digit")
    assert result["label"] == "7"
    assert set(result["probabilities"]) == {str(d) for d in range(10)}
    assert result["probabilities"]["7"] > 0.9


def test_classify_black_on_white_large_upload(client, tmp_path):
    from gradio_client import handle_file

    digit = np.asarray(Image.open(DIGITS / "3.png").resize((600, 600)))
    path = tmp_path / "three.png"
    Image.fromarray(255 - digit).save(path)
    assert client.predict(handle_file(str(path)), api_name="/classify_digit")["label"] == "3"


def test_denoise_digit(client):
    from gradio_client import handle_file

    noisy, denoised, metrics = client.predict(handle_file(str(DIGITS / "2.png")), 0.5, api_name="/denoise_digit")
    assert Image.open(noisy).size == (28, 28) and Image.open(denoised).size == (28, 28)
    assert metrics["psnr_denoised"] > metrics["psnr_noisy"]


def test_digit_anomaly(client, tmp_path):
    from gradio_client import handle_file

    digit = client.predict(handle_file(str(DIGITS / "7.png")), api_name="/digit_anomaly")
    assert set(digit) == {"score", "percentile", "unusual"} and digit["unusual"] is False
    from archdemo.tools.non_digits import stroke

    path = tmp_path / "scribble.png"  # a zigzag scribbled across the page
    Image.fromarray(stroke(np.array([(40 + 25 * i, 60 if i % 2 else 220) for i in range(9)], float))).save(path)
    scribble = client.predict(handle_file(str(path)), api_name="/digit_anomaly")
    assert scribble["unusual"] is True and scribble["score"] > digit["score"]


@pytest.mark.parametrize(
    "endpoint", ["/rnn_sentiment", "/transformer_sentiment", "/pretrained_transformer_sentiment", "/cnn_sentiment"]
)
def test_sentiment(client, endpoint):
    pos = client.predict("An absolute delight from start to finish.", api_name=endpoint)
    neg = client.predict("Tedious, ugly and far too long.", api_name=endpoint)
    assert pos["label"] == "positive" and neg["label"] == "negative"
    assert set(pos["probabilities"]) == {"positive", "negative"}


def bad_file(tmp_path: Path, kind: str) -> str:
    path = tmp_path / f"{kind}.png"
    if kind == "text":
        path.write_text("this is not an image")
    elif kind == "blank":
        Image.new("L", (64, 64)).save(path)
    elif kind == "huge":
        Image.new("L", (10_000, 10_000)).save(path)
    return str(path)


@pytest.mark.parametrize(
    "endpoint,args,message",
    [
        ("/classify_digit", ("file:text",), "not an image"),
        ("/classify_digit", ("file:blank",), "blank"),
        ("/classify_digit", ("file:huge",), "10000x10000"),
        ("/digit_anomaly", ("file:text",), "not an image"),
        ("/digit_anomaly", ("file:blank",), "blank"),
        ("/rnn_sentiment", ("",), "empty"),
        ("/transformer_sentiment", ("x" * 100_000,), "100,000 characters"),
        ("/transformer_sentiment", ("😀🎉",), "no words"),
    ],
)
def test_bad_input_gets_a_clear_error_and_the_app_keeps_serving(client, tmp_path, endpoint, args, message):
    from gradio_client import handle_file

    args = tuple(
        handle_file(bad_file(tmp_path, a[5:])) if isinstance(a, str) and a.startswith("file:") else a for a in args
    )
    with pytest.raises(Exception, match=message) as info:
        client.predict(*args, api_name=endpoint)
    assert "Traceback" not in str(info.value)
    assert client.predict("A fine film.", api_name="/rnn_sentiment")["label"] in ("positive", "negative")


def test_share_flag_fails_gracefully_offline_and_keeps_serving(tmp_path):
    """--share needs a tunnel download; without internet the app says so and serves locally."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from conftest import ROOT, free_port

    port = free_port()
    log = tmp_path / "share.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port), "--share"],
            cwd=ROOT,
            env={**os.environ, "ARCHDEMO_DEVICE": "cpu"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.time() + 150
            while time.time() < deadline and "no public share link" not in log.read_text():
                assert proc.poll() is None, log.read_text()[-2000:]
                time.sleep(0.5)
            assert "no public share link could be created" in log.read_text()
            assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).status == 200
        finally:
            proc.terminate()
            proc.wait(timeout=20)
