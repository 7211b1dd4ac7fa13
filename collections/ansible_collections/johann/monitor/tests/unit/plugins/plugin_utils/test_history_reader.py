"""Reading run summaries back from ARA's API, and the trends built from them.

The client here is a stand-in with ARA's client interface (get(path, **params) -> decoded JSON),
for these functions only; the real client against a real ARA server is in tests/integration/test_history.py.
"""
from __future__ import annotations

import json

import pytest
from ansible_collections.johann.monitor.plugins.plugin_utils._report import history as hist

GIG = 1_000_000_000


def _summary(time, cpu, status="ok", boot="2026-11-01T00:00:00.000Z", in_octets=0):
    return {"status": status, "time": time, "polled_at": time, "boot_time": boot, "version": "17.9.4a",
            "cpu": cpu, "memory": 40.0, "temperature": 41.0, "alerts": 0, "neighbors": [],
            "interfaces": {"Gi1": {"in": in_octets, "out": 0, "err": 0, "up": True, "speed": GIG}}}


class FakeAra:
    """ARA's API for records: a list without values, details with them (as ARA serialises them)."""

    def __init__(self, values, fail=None, parts=None):
        """values: record id -> value of each run's first part; parts: (playbook, key) -> id of a further part."""
        self.values, self.fail, self.calls, self.parts = values, fail, [], parts or {}

    def get(self, path, **params):
        self.calls.append((path, params))
        if self.fail:
            raise self.fail
        if path == "/api/v1/records" and "playbook" in params:   # a further part of one run
            part = self.parts.get((params["playbook"], params["key"]))
            return {"count": int(part is not None), "results": [{"id": part}] if part else []}
        if path == "/api/v1/records":
            assert params["key"] == "johann.summary" and params["order"] == "-id"
            firsts = set(self.values) - set(self.parts.values())
            ids = sorted(firsts, reverse=True)[:params["limit"]]
            return {"count": len(ids), "results": [{"id": i, "key": "johann.summary", "playbook": i * 10} for i in ids]}
        record_id = int(path.rsplit("/", 1)[1])
        return {"id": record_id, "playbook": {"id": record_id * 10}, "created": "x", "value": self.values[record_id]}


def _run(time, **devices):
    return {"schema": hist.SUMMARY_SCHEMA, "generated_at": time, "devices": devices}


def test_the_last_runs_come_back_oldest_first_from_json_strings_or_objects():
    values = {1: json.dumps(_run("T1", a=_summary("T1", 10))), 2: _run("T2", a=_summary("T2", 20)),
              3: json.dumps(_run("T3", a=_summary("T3", 30)))}
    client = FakeAra(values)
    runs = hist.load_runs(client, limit=2)
    assert [r["time"] for r in runs] == ["T2", "T3"] and [r["playbook"] for r in runs] == [20, 30]
    assert runs[1]["devices"]["a"]["cpu"] == 30
    assert len(client.calls) == 3   # one list, one detail per run


def test_a_record_that_is_not_a_summary_is_left_out_not_fatal():
    values = {1: "not json {", 2: json.dumps({"schema": 1, "devices": {}}), 3: json.dumps(["a"]),
              4: json.dumps(_run("T4", a=_summary("T4", 5)))}
    assert [r["time"] for r in hist.load_runs(FakeAra(values), limit=30)] == ["T4"]


def test_only_the_newest_run_of_a_device_keeps_its_interfaces():
    """Older runs feed the series (CPU, memory, temperature, status, boot time); rates need the newest only."""
    values = {i: json.dumps(_run(f"T{i}", a=_summary(f"T{i}", i, in_octets=i))) for i in (1, 2, 3)}
    runs = hist.load_runs(FakeAra(values), limit=3)
    assert [r["devices"]["a"]["cpu"] for r in runs] == [1, 2, 3]
    assert [bool(r["devices"]["a"].get("interfaces")) for r in runs] == [False, False, True]


def test_a_large_run_is_split_under_aras_request_limit_and_put_together_again():
    devices = {f"d{i:04d}": _summary("T", i % 100, in_octets=i) for i in range(600)}
    texts = hist.split_summary({"schema": hist.SUMMARY_SCHEMA, "generated_at": "T", "devices": devices},
                               part_bytes=50_000)
    assert len(texts) >= 3 and all(len(t) <= 50_000 + 2_000 for t in texts)
    assert [json.loads(t)["part"] for t in texts] == list(range(1, len(texts) + 1))
    client = FakeAra({1: texts[0], **{1000 + n: t for n, t in enumerate(texts[1:], start=2)}},
                     parts={(10, f"johann.summary.{n}"): 1000 + n for n in range(2, len(texts) + 1)})
    (run,) = hist.load_runs(client, limit=5)
    assert run["devices"] == devices   # every device, once, from every part
    client.parts.pop((10, "johann.summary.2"))
    assert hist.load_runs(client, limit=5) == []   # a part missing: the run is left out, not shown half


def test_zero_runs_asks_nothing():
    client = FakeAra({})
    assert hist.load_runs(client, limit=0) == [] and client.calls == []


def test_a_server_that_does_not_answer_gives_a_history_error_naming_it():
    client = FakeAra({}, fail=ConnectionError("Connection refused"))
    client.endpoint = "http://127.0.0.1:9"
    with pytest.raises(hist.HistoryError, match=r"from ARA at http://127.0.0.1:9: ConnectionError: Connection refused"):
        hist.load_runs(client, limit=3)


def test_messages_name_the_offline_client_or_the_server_of_the_http_one(monkeypatch):
    from ara.clients import utils
    from ara.clients.http import AraHttpClient
    from ara.clients.offline import AraOfflineClient

    monkeypatch.setattr(utils.active_client, "_instance", None)   # restored after: the client below sets it
    assert hist.describe(AraOfflineClient.__new__(AraOfflineClient)) == "ARA (offline client, local database)"
    assert hist.describe(AraHttpClient(endpoint="http://127.0.0.1:9", timeout=1)) == "ARA at http://127.0.0.1:9"
    assert hist.describe(FakeAra({})) == "ARA at ?"


def test_a_refusal_from_the_api_is_named():
    class Refusing(FakeAra):
        def get(self, path, **params):
            return {"detail": "Authentication credentials were not provided."}
    with pytest.raises(hist.HistoryError, match="refused /api/v1/records: Authentication credentials"):
        hist.load_runs(Refusing({}), limit=3)


def test_trends_series_rates_changes_and_availability():
    past = [{"time": "R1", "devices": {"a": _summary("2026-11-29T10:00:00Z", 10, in_octets=0),
                                       "b": _summary("2026-11-29T10:00:00Z", 50)}},
            {"time": "R2", "devices": {"a": _summary("2026-11-29T10:05:00Z", 20, in_octets=37_500_000),
                                       "b": _summary("2026-11-29T10:05:00Z", None, status="unreachable")}}]
    current = {"generated_at": "R3", "devices": {
        "a": _summary("2026-11-29T10:10:00Z", 30, in_octets=75_000_000),
        "b": _summary("2026-11-29T10:10:00Z", 55)}}
    devices = [{"host": "a"}, {"host": "b"}, {"host": "new"}]
    fleet = hist.attach(devices, past, current)
    assert [r["availability"] for r in fleet] == [100.0, 50.0, 100.0] and fleet[-1]["current"] is True
    a, b, new = (d["trend"] for d in devices)
    assert a["cpu"] == [10, 20, 30] and a["points"] == 3 and a["previous"] == "R2"
    assert a["rates"]["interfaces"]["Gi1"]["in_bps"] == pytest.approx(37_500_000 * 8 / 300)   # 1 Mbit/s
    assert b["status"] == ["ok", "unreachable", "ok"] and b["cpu"] == [50, None, 55]
    assert [c["kind"] for c in b["changes"]] == ["came_back"]
    assert b["rates"] is None   # no counters from the previous run to take a delta from
    assert new is None          # not in this run's summary


def test_availability_counts_only_this_reports_devices():
    """Runs of another inventory or target in the same ARA do not mix into this report's availability."""
    past = [{"time": "R1", "devices": {"lab-1": _summary("T", 1, status="unreachable"),
                                       "lab-2": _summary("T", 1, status="unreachable")}},
            {"time": "R2", "devices": {"core-1": _summary("T", 1), "lab-1": _summary("T", 1, status="error")}}]
    current = {"generated_at": "R3", "devices": {"core-1": _summary("T", 1), "core-2": _summary("T", 1)}}
    fleet = hist.attach([{"host": "core-1"}, {"host": "core-2"}], past, current)
    assert [(r["time"], r["answered"], r["total"]) for r in fleet] == [("R2", 1, 1), ("R3", 2, 2)]


def test_run_summary_keeps_every_device_with_a_record():
    records = {"a": {"status": "ok", "identity": {"boot_time": "2026-11-01T00:00:00Z"}, "interfaces": []},
               "missing": None}
    summary = hist.run_summary(records, "2026-11-29T10:00:00Z")
    assert set(summary["devices"]) == {"a"} and summary["devices"]["a"]["status"] == "ok"
    assert summary["schema"] == hist.SUMMARY_SCHEMA == 2 and summary["generated_at"] == "2026-11-29T10:00:00Z"
