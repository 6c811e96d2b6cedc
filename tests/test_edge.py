"""The app's edge (archdemo/ui/limits.py): what one client sends can cost the others nothing.

Against the launched app, over raw HTTP as a hostile client would send it: every number the API takes
gets the app's own message for every bad value (never Gradio's ``{"error": null}``, never a stack trace in
the log), and a request body over the cap is refused before it is read. The upload budget and the sweep
of the upload folder are checked directly, with small limits.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

from archdemo.paths import SAMPLE_DIGITS
from archdemo.ui.limits import MAX_BODY, UploadBudget, sweep

LOG = ROOT / "tests" / ".app.log"  # conftest's app_url writes the app's output here


@pytest.fixture(scope="module")
def log_before(app_url) -> int | None:
    """How much of the app's log was there before this file's requests."""
    return None if os.environ.get("ARCHDEMO_TEST_URL") or not LOG.exists() else len(LOG.read_text(errors="replace"))


def call(app_url: str, api_name: str, body: str) -> tuple[str, str]:
    """POST /gradio_api/call/<api_name> with a raw JSON body; -> (the SSE event, its data) of the answer."""
    post = urllib.request.Request(
        f"{app_url}gradio_api/call/{api_name}", body.encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(post, timeout=30) as r:  # noqa: S310 (loopback)
        event_id = json.load(r)["event_id"]
    with urllib.request.urlopen(f"{app_url}gradio_api/call/{api_name}/{event_id}", timeout=60) as r:  # noqa: S310
        lines = r.read().decode().splitlines()
    events = [line.split(": ", 1)[1] for line in lines if line.startswith("event: ")]
    data = [json.loads(line.split(": ", 1)[1]) for line in lines if line.startswith("data: ")]
    answer = data[-1]
    return events[-1], answer["error"] if isinstance(answer, dict) and "error" in answer else answer


# (length, temperature, seed) as JSON text, and what the app's message must say
BAD_NUMBERS = [
    ("NaN", "0.8", "0", "length"),
    ("Infinity", "0.8", "0", "length"),
    ("-Infinity", "0.8", "0", "length"),
    ('"10"', "0.8", "0", "length"),
    ("true", "0.8", "0", "length"),
    ("null", "0.8", "0", "length"),
    ("1e20", "0.8", "0", "length"),
    ("10.5", "0.8", "0", "length"),
    ("1e400", "0.8", "0", "length"),
    ("[10]", "0.8", "0", "length"),
    ('{"a": 1}', "0.8", "0", "length"),
    ("10", "NaN", "0", "temperature"),
    ("10", '"hot"', "0", "temperature"),
    ("10", "0.8", "18446744073709551616", "seed"),
    ("10", "0.8", "1.5", "seed"),
    ("10", "0.8", "-1", "seed"),
    ("10", "0.8", "1" + "0" * 400, "seed"),
]


@pytest.mark.parametrize(("length", "temperature", "seed", "says"), BAD_NUMBERS)
def test_every_bad_number_gets_the_apps_own_message(app_url, log_before, length, temperature, seed, says):
    event, data = call(app_url, "generate_rnn", f'{{"data": ["To be", {length}, {temperature}, {seed}]}}')
    assert event == "error"
    message = data
    assert isinstance(message, str) and says in message and "wrong on our side" not in message, message


@pytest.mark.parametrize("level", ["0.5", True, 2, -1, None, 1e300])  # NaN: gradio_client cannot send it
def test_a_bad_noise_level_gets_the_apps_own_message(app_url, level):
    from gradio_client import Client, handle_file

    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match="noise level") as e:  # gradio_client's AppError, with our message
        client.predict(handle_file(str(SAMPLE_DIGITS / "3.png")), level, api_name="/denoise_digit")
    assert "wrong on our side" not in str(e.value)


def test_good_numbers_still_write(app_url):
    event, data = call(app_url, "generate_rnn", '{"data": ["To be", 10, 0.8, 3]}')
    assert event == "complete" and len(data[0]) == 10


def test_no_stack_trace_in_the_log_for_any_of_them(app_url, log_before):
    if log_before is None:
        pytest.skip("the app's log is not ours to read")
    assert "Traceback" not in LOG.read_text(errors="replace")[log_before:]


def test_a_body_over_the_cap_is_refused_before_it_is_read(app_url):
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(app_url)
    for path in ("/gradio_api/call/rnn_sentiment", "/gradio_api/queue/join", "/gradio_api/component_server"):
        declared = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
        declared.putrequest("POST", path)
        declared.putheader("Content-Type", "application/json")
        declared.putheader("Content-Length", str(400 * 2**20))  # announced, never sent
        declared.endheaders()
        answer = declared.getresponse()
        assert answer.status == 413 and b"too large" in answer.read(), path
        declared.close()
        chunked = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
        chunked.request("POST", path, body=iter([b"a" * (MAX_BODY // 2)] * 3), encode_chunked=True)
        answer = chunked.getresponse()  # no Content-Length: counted as it arrives, cut off at the cap
        assert answer.status in (400, 413), path  # Gradio's JSON reader turns the cut into its own 400
        chunked.close()
    with urllib.request.urlopen(app_url, timeout=10) as r:  # noqa: S310 - and it keeps serving
        assert r.status == 200


def test_an_upload_budget_refills_and_is_per_client():
    budget = UploadBudget(capacity=100, refill=0.0)
    assert budget.spend("a", 60) and not budget.spend("a", 60) and budget.spend("a", 40)
    assert budget.spend("b", 100)  # another client has its own
    refilling = UploadBudget(capacity=100, refill=1e9)
    assert refilling.spend("a", 100) and refilling.spend("a", 100)
    few = UploadBudget(capacity=10, refill=0.0, clients=2)
    for client in "abc":
        few.spend(client, 10)
    assert len(few._left) == 2  # forgotten clients cost nothing


def test_the_sweep_keeps_the_upload_folder_bounded_oldest_first(tmp_path: Path):
    now = time.time()
    for k in range(10):
        f = tmp_path / f"u{k}" / "file.png"
        f.parent.mkdir()
        f.write_bytes(b"x" * 1000)
        os.utime(f, (now - 1000 + k, now - 1000 + k))
    young = tmp_path / "young.png"
    young.write_bytes(b"y" * 5000)  # just uploaded: its request may still be reading it
    freed = sweep(tmp_path, max_bytes=8000, keep_young_s=60)
    left = sorted(p.parent.name for p in tmp_path.rglob("file.png"))
    assert freed == 9000 and young.exists() and left == ["u9"]
    assert sweep(tmp_path, max_bytes=8000) == 0  # under the bound: nothing to do
