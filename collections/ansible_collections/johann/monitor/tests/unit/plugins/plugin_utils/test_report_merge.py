"""Partial runs keep the fleet: previous records + this run's records + now -> the new report's records (merge.py)."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from pathlib import Path

import pytest
from ansible_collections.johann.monitor.plugins.plugin_utils._report import merge, render, shape
from ansible_collections.johann.monitor.plugins.plugin_utils._report.project import COLLECTION_TEMPLATES

NOW = dt.datetime(2026, 11, 29, 12, 0, 0, tzinfo=dt.UTC)
BEFORE = "2026-11-29T11:45:00Z"   # the previous report, 15 minutes ago


def record(host: str, polled_at: str | None = "2026-11-29T11:44:50Z", status: str = "ok", serial: str | None = None,
           address: str | None = None, port: int = 443) -> dict:
    return {"host": host, "status": status, "message": None if status == "ok" else "it failed",
            "address": address or f"192.0.2.{sum(map(ord, host)) % 250}", "port": port,
            "polled_at": polled_at, "identity": {"hostname": host, "serial": serial or f"SN-{host}"}}


def fleet(devices: dict, generated_at: str = BEFORE, **more) -> dict:
    return dict({"schema": 1, "title": "t", "generated_at": generated_at, "thresholds": {}, "devices": devices}, **more)


def current(*hosts: str, **kw) -> dict:
    return {h: shape.complete(record(h, polled_at="2026-11-29T11:59:55Z", **kw), h) for h in hosts}


def test_hosts_not_in_this_run_are_carried_with_their_age():
    previous = fleet({"a": record("a"), "b": record("b"), "c": record("c", status="unreachable")})
    merged = merge.merge(previous, current("a"), NOW)
    assert sorted(merged.records) == ["a", "b", "c"]
    assert merged.records["a"]["polled_at"] == "2026-11-29T11:59:55Z"   # replaced by this run's record
    assert merged.records["b"]["polled_at"] == "2026-11-29T11:44:50Z"   # the last known one
    assert merged.records["c"]["status"] == "unreachable"
    assert merged.carried == {h: {"last_read": "2026-11-29T11:44:50Z", "age": 910, "stale": False,
                                  "clock_skew": False, "stale_after": 3600} for h in ("b", "c")}
    assert merged.seen == {"a": "2026-11-29T12:00:00Z", "b": BEFORE, "c": BEFORE}
    assert merged.forgotten == {} and merged.renamed == {}


def test_hosts_of_this_run_replace_their_record_whatever_their_status():
    previous = fleet({"a": record("a"), "b": record("b")})
    merged = merge.merge(previous, {"a": shape.blank("a", "unreachable", "gone"), "b": None}, NOW)
    assert merged.records["a"]["status"] == "unreachable" and merged.records["b"] is None
    assert merged.carried == {}


def test_carried_devices_are_stale_past_stale_after_and_leave_past_forget_after():
    previous = fleet({"fresh": record("fresh", "2026-11-29T11:40:00Z"),
                      "stale": record("stale", "2026-11-29T10:00:00Z"),
                      "gone": record("gone", "2026-11-20T12:00:00Z")},
                     seen={"fresh": BEFORE, "stale": "2026-11-29T10:00:05Z", "gone": "2026-11-20T12:00:05Z"})
    merged = merge.merge(previous, current("x"), NOW, merge.Limits(stale_after=1800, forget_after=7 * 86400))
    assert merged.carried["fresh"]["stale"] is False and merged.carried["fresh"]["age"] == 1200
    assert merged.carried["stale"]["stale"] is True and merged.carried["stale"]["age"] == 7200
    assert merged.forgotten == {"gone": 9 * 86400} and "gone" not in merged.records
    assert merged.seen["stale"] == "2026-11-29T10:00:05Z"   # kept: the next run counts from the same time


def test_the_limits_are_exclusive_and_zero_is_allowed():
    previous = fleet({"b": record("b", "2026-11-29T11:00:00Z")}, seen={"b": "2026-11-29T11:00:00Z"})
    assert merge.merge(previous, {}, NOW, merge.Limits(3600, 3600)).carried["b"]["stale"] is False
    assert merge.merge(previous, {}, NOW, merge.Limits(3599, 3600)).carried["b"]["stale"] is True
    assert merge.merge(previous, {}, NOW, merge.Limits(0, 3599)).forgotten == {"b": 3600}


@pytest.mark.parametrize("bad", [-1, "60", None, True])
def test_limits_must_be_seconds(bad):
    with pytest.raises(ValueError, match="must be a number of seconds, 0 or more"):
        merge.Limits(stale_after=bad)


def test_no_previous_report_carries_nothing():
    merged = merge.merge(None, current("a"), NOW)
    assert list(merged.records) == ["a"] and merged.carried == {}


def test_a_host_renamed_in_the_inventory_is_not_shown_twice():
    previous = fleet({"old-name": record("old-name", serial="FOC123", address="192.0.2.7"),
                      "other": record("other", serial="FOC123", address="192.0.2.8")})   # same serial, elsewhere
    now = {"new-name": shape.complete(record("new-name", serial="FOC123", address="192.0.2.7"), "new-name")}
    merged = merge.merge(previous, now, NOW)
    assert merged.renamed == {"old-name": "new-name"}
    assert sorted(merged.records) == ["new-name", "other"] and list(merged.carried) == ["other"]


def test_a_shared_identity_is_not_taken_for_a_rename():
    """Devices behind one address with one serial (a lab, a proxy, cloned VMs): none of them is dropped."""
    previous = fleet({h: record(h, serial="9SN", address="127.0.0.1") for h in ("p1", "p2")})
    now = {"n1": shape.complete(record("n1", serial="9SN", address="127.0.0.1"), "n1")}
    merged = merge.merge(previous, now, NOW)
    assert merged.renamed == {} and sorted(merged.carried) == ["p1", "p2"]
    previous = fleet({"p1": record("p1", serial="9SN", address="127.0.0.1")})
    now = {h: shape.complete(record(h, serial="9SN", address="127.0.0.1"), h) for h in ("n1", "n2")}
    assert merge.merge(previous, now, NOW).renamed == {}


def test_devices_without_a_serial_are_never_taken_for_renamed():
    previous = fleet({"old": dict(record("old", address="192.0.2.7"), identity={"serial": None})})
    now = {"new": shape.complete(dict(record("new", address="192.0.2.7"), identity={"serial": None}), "new")}
    assert list(merge.merge(previous, now, NOW).carried) == ["old"]


def test_a_polled_at_in_the_future_counts_from_the_report_that_held_it():
    """A device clock (or a controller clock) ahead: the record cannot be newer than the report it was in."""
    previous = fleet({"ahead": record("ahead", "2099-01-01T00:00:00Z")}, generated_at="2026-11-20T12:00:00Z")
    merged = merge.merge(previous, {}, NOW)
    assert merged.forgotten == {"ahead": 9 * 86400}    # not kept forever
    previous = fleet({"ahead": record("ahead", "2026-11-29T11:58:00Z")}, generated_at=BEFORE)
    carried = merge.merge(previous, {}, NOW).carried["ahead"]
    assert carried == {"last_read": BEFORE, "age": 900, "stale": False, "clock_skew": True, "stale_after": 3600}


def test_a_controller_clock_set_back_gives_age_zero_not_negative():
    previous = fleet({"b": record("b", "2026-11-29T12:30:00Z")}, generated_at="2026-11-29T12:30:05Z")
    carried = merge.merge(previous, {}, NOW).carried["b"]
    assert carried["age"] == 0 and carried["clock_skew"] is True and carried["stale"] is False


def test_a_device_without_polled_at_counts_from_its_last_run():
    previous = fleet({"blank": shape.blank("blank", "unreachable", "no route"), "none": None},
                     seen={"blank": "2026-11-29T09:00:00Z"})
    merged = merge.merge(previous, {}, NOW)
    assert merged.carried["blank"]["age"] == 3 * 3600 and merged.carried["blank"]["stale"] is True
    assert merged.carried["none"]["age"] == 900 and merged.records["none"] is None


def test_carried_records_are_completed_and_odd_entries_left_out():
    previous = fleet({"odd": {"host": "odd", "status": "ok", "identity": "not a mapping", "polled_at": BEFORE},
                      "list": [1, 2], "": record("x")})
    merged = merge.merge(previous, {}, NOW)
    assert list(merged.records) == ["odd"]
    assert merged.records["odd"]["status"] == "error" and "identity" in merged.records["odd"]["message"]


@pytest.mark.parametrize(("content", "why"), [
    ("{not json", "is not valid JSON"),
    (json.dumps({"devices": {}}), "not a johann.monitor fleet.json"),              # foreign
    (json.dumps([1, 2]), "not a johann.monitor fleet.json"),
    (json.dumps(fleet({}, schema=2) | {"schema": 2}), "its schema is 2, this collection reads schema 1"),
    (json.dumps(fleet({}, generated_at="yesterday")), "its generated_at is not a time"),
    (json.dumps(fleet({}, seen=[1])), "its seen is not a mapping"),
])
def test_a_previous_fleet_json_that_cannot_be_read_carries_nothing_and_says_why(tmp_path, content, why):
    (tmp_path / "fleet.json").write_text(content)
    previous, warning = merge.read_previous(tmp_path / "fleet.json")
    assert previous is None and why in warning and "devices not in this run are left out" in warning


def test_a_missing_fleet_json_carries_nothing_silently(tmp_path):
    assert merge.read_previous(tmp_path / "fleet.json") == (None, None)
    assert merge.read_previous(tmp_path / "fleet.json.gz") == (None, None)
    assert merge.read_previous(tmp_path) == (None, None)


def _store(path: Path, hosts: tuple[str, ...], mtime: int) -> None:
    text = json.dumps(fleet({h: record(h) for h in hosts})).encode()
    path.write_bytes(gzip.compress(text) if path.suffix == ".gz" else text)
    os.utime(path, (mtime, mtime))


@pytest.mark.parametrize(("files", "read"), [
    ({"fleet.json": 100}, "fleet.json"),                          # a report of an earlier version
    ({"fleet.json.gz": 100}, "fleet.json.gz"),                    # this version's
    ({"fleet.json.gz": 100, "fleet.json": 200}, "fleet.json"),    # both: the newer file wins
    ({"fleet.json.gz": 200, "fleet.json": 100}, "fleet.json.gz"),
    ({"fleet.json.gz": 100, "fleet.json": 100}, "fleet.json.gz"),  # as old: the compressed one
])
@pytest.mark.parametrize("asked", ["fleet.json", "fleet.json.gz", ""])
def test_stored_records_are_read_from_either_format_and_the_newer_wins(tmp_path, files, read, asked):
    for name, mtime in files.items():
        _store(tmp_path / name, (name,), mtime)
    previous, warning = merge.read_previous(tmp_path / asked if asked else tmp_path)
    assert warning is None and list(previous["devices"]) == [read]
    assert list(render.load_fleet_json(tmp_path / asked if asked else tmp_path)["devices"]) == [read]


@pytest.mark.parametrize(("content", "why"), [
    (gzip.compress(b'{"schema": 1, "devi')[:-6], "is not whole gzip data"),   # truncated
    (gzip.compress(b"\xff\xfe{}"), "is not UTF-8 text"),
    (gzip.compress(b"{not json"), "is not valid JSON"),
])
def test_a_damaged_fleet_json_gz_carries_nothing_and_says_why(tmp_path, content, why):
    (tmp_path / "fleet.json.gz").write_bytes(content)
    previous, warning = merge.read_previous(tmp_path / "fleet.json.gz")
    assert previous is None and why in warning and "fleet.json.gz" in warning
    with pytest.raises(ValueError, match="cannot read stored records from .*fleet.json.gz|not a johann"):
        render.load_fleet_json(tmp_path / "fleet.json.gz")


def test_a_report_written_by_render_is_read_back_and_merged(tmp_path):
    """The round trip: render writes fleet.json.gz with seen; a partial run reads it and carries the others."""
    first = {h: record(h) for h in ("a", "b", "c")}
    render.render_report(first, tmp_path, [COLLECTION_TEMPLATES], "t", BEFORE)
    assert not (tmp_path / "fleet.json").exists()
    previous, warning = merge.read_previous(tmp_path / "fleet.json.gz")
    assert warning is None and previous["seen"] == {"a": BEFORE, "b": BEFORE, "c": BEFORE}
    merged = merge.merge(previous, current("a"), NOW, merge.Limits(stale_after=600))
    summary = render.render_report(merged.records, tmp_path, [COLLECTION_TEMPLATES], "t",
                                   merge.iso(NOW), completed=True, carried=merged.carried, seen=merged.seen)
    assert summary["devices"] == 3 and summary["polled"] == 1 and summary["stale_pages_removed"] == 0
    assert summary["statuses"]["ok"] == 1 and sum(summary["statuses"].values()) == 1   # this run's devices only
    assert summary["carried"] == {h: {"last_status": "ok", "last_read": "2026-11-29T11:44:50Z", "age": 910,
                                      "stale": True} for h in ("b", "c")}
    assert {p.name for p in (tmp_path / "devices").glob("*.html")} == {"a.html", "b.html", "c.html"}
    index = (tmp_path / "index.html").read_text()
    row = index[index.index('href="devices/b.html"'):]
    row = row[:row.index("</tr>")]
    assert 'badge stale">Stale<' in row and "last read 15m ago" in row and "its last status was OK" in row
    assert '<b>2</b>Stale' in index and '<b>2</b>carried over' in index and '<b>1</b>OK' in index
    page = (tmp_path / "devices" / "b.html").read_text()
    assert "Last read 15m ago" in page and "2026-11-29 11:44:50 UTC" in page
    stored = json.loads(gzip.decompress((tmp_path / "fleet.json.gz").read_bytes()))
    assert stored["seen"] == {"a": "2026-11-29T12:00:00Z", "b": BEFORE, "c": BEFORE}
    assert stored["devices"]["b"]["status"] == "ok"   # the record as it was read, not the view's stale
    assert list(json.loads((tmp_path / "summary.json").read_text())["devices"]) == ["a"]   # history: this run


def test_a_fresh_carried_device_keeps_its_status_and_shows_its_age(tmp_path):
    previous = fleet({"b": record("b", status="degraded")})
    merged = merge.merge(previous, current("a"), NOW)
    summary = render.render_report(merged.records, tmp_path, [COLLECTION_TEMPLATES], "t",
                                   merge.iso(NOW), completed=True, carried=merged.carried, seen=merged.seen)
    assert summary["not_ok"] == {} and summary["carried"]["b"]["stale"] is False
    index = (tmp_path / "index.html").read_text()
    assert 'badge degraded">Degraded<' in index and "last read 15m ago" in index and "Stale" not in index
    assert "(status then: Degraded)" in (tmp_path / "devices" / "b.html").read_text()


def test_age_text():
    from ansible_collections.johann.monitor.plugins.plugin_utils._report.view import _age
    assert [_age(s) for s in (0, 59, 60, 899, 3600, 3660, 86400, 90000)] == \
        ["0s", "59s", "1m", "14m", "1h", "1h 1m", "1d", "1d 1h"]


def test_the_module_documents_the_defaults_it_uses():
    from ansible_collections.johann.monitor.plugins.module_utils._tasks import report_spec
    spec = report_spec()
    assert spec["stale_after"]["default"] == merge.STALE_AFTER and spec["forget_after"]["default"] == merge.FORGET_AFTER
    docs = (Path(merge.__file__).parents[2] / "modules" / "report.py").read_text()
    assert "default: 3600" in docs and "default: 604800" in docs
