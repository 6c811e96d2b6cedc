"""The Compare tab's measured table: latencies measured once per process, again only on request, and when."""

from __future__ import annotations

import threading

from archdemo.ui.model_table import ModelTable


def test_latencies_are_measured_once_for_everyone_and_again_on_request(store, monkeypatch):
    table = ModelTable(store)
    measurements = []
    real = table._measure
    monkeypatch.setattr(table, "_measure", lambda measure: measurements.append(measure) or real(measure))
    assert table.when() == "Latencies not measured yet."
    rooms = [threading.Thread(target=table.rows) for _ in range(6)]  # a room opens the tab at once
    for t in rooms:
        t.start()
    for t in rooms:
        t.join(timeout=300)
    first = table.rows()
    assert measurements == [True] and all(row[5].endswith(" ms") for row in first)
    assert "measured on this machine at" in table.when() and "UTC" in table.when()
    again = table.rows(again=True)
    assert measurements == [True, True] and again is not first and table.rows() is again
