"""The report's pure parts: page names, durations, charts, CSV safety (staging: test_report_staging.py)."""
from __future__ import annotations

import math

import pytest
from ansible_collections.johann.monitor.plugins.plugin_utils._report import charts, view, writer


@pytest.mark.parametrize("host,expected", [
    ("c9300-01", "c9300-01.html"), ("core.example.net", "core.example.net.html"),
])
def test_plain_host_names_keep_their_page_name(host, expected):
    assert view.page_name(host) == expected


@pytest.mark.parametrize("host", ["../etc/passwd", "a/b", "<script>", "index", "Stats", "x" * 300, "..", "ü-router", " "])
def test_hostile_host_names_get_safe_distinct_page_names(host):
    name = view.page_name(host)
    assert name.endswith(".html") and "/" not in name and ".." not in name[:-5]
    assert name not in ("index.html", "stats.html", "licensing.html") and len(name) < 90
    assert name != view.page_name(host + "x")


@pytest.mark.parametrize("seconds,text", [(None, None), (59, "0m 59s"), (3600, "1h 0m"), (90061, "1d 1h"),
                                          (2068607, "23d 22h")])
def test_duration(seconds, text):
    assert view.duration(seconds) == text


@pytest.mark.parametrize("interface,cls", [
    ({"admin_status": "down", "oper_status": "down"}, "admin-down"),
    ({"admin_status": "up", "oper_status": "up"}, "up"),
    ({"admin_status": "up", "oper_status": "lower_layer_down"}, "down"),
    ({"admin_status": None, "oper_status": None}, "down"),
])
def test_interface_colour_classes(interface, cls):
    assert view.interface_class(interface) == cls


def test_device_view_of_a_missing_and_a_failed_device():
    missing = view.device_view("r1", None)
    assert missing["status"] == "missing" and missing["alerts"] == []
    failed = view.device_view("r2", {"status": "unreachable", "message": "connection refused", "cpu": {"five_minutes": 99},
                                     "identity": None, "interfaces": None})
    assert failed["status_label"] == "Unreachable" and failed["alerts"] == [] and failed["uptime_text"] is None


@pytest.mark.parametrize("cpu,shown,span,label", [
    ({"five_seconds": 9, "one_minute": 8, "five_minutes": 7}, 7, "5 minutes", "5 min"),
    ({"five_seconds": 9, "one_minute": 8, "five_minutes": None}, 8, "1 minute", "1 min"),
    ({"five_seconds": 9, "average": 6, "average_seconds": 1000}, 6, "the device's 1000 s average", "1000 s avg"),
    ({"five_seconds": 99}, None, None, None),   # NX-OS: an instant reading only
])
def test_the_fleet_table_shows_the_cpu_figure_alerts_use(cpu, shown, span, label):
    d = view.device_view("r1", {"status": "ok", "cpu": cpu})
    assert (d["cpu"], d["cpu_span"], d["cpu_label"]) == (shown, span, label)
    row = dict(zip(writer.DEVICE_COLUMNS, writer.devices_csv([d]).splitlines()[1].split(","), strict=True))
    assert row["cpu_5min_percent"] == str(cpu.get("five_minutes") or "")   # devices.csv: the 5-minute figure


def test_pie_slices_cover_the_circle():
    pie = charts.pie([("a", 1), ("b", 3), ("c", 0)])
    assert [s["label"] for s in pie["slices"]] == ["a", "b"] and [s["percent"] for s in pie["slices"]] == [25.0, 75.0]
    assert "A 80.0 80.0 0 1 1" in pie["slices"][1]["path"]     # the larger slice sweeps the large arc
    whole = charts.pie([("only", 5)])
    assert whole["slices"][0]["percent"] == 100.0 and "Z" in whole["slices"][0]["path"]
    assert charts.pie([])["slices"] == []


def test_bars_scale_to_the_largest_and_gauges_level():
    bars = charts.bars([("x", 10), ("y", 5)])
    assert [r["width"] for r in bars["rows"]] == [320.0, 160.0]
    assert [charts.gauge(p)["level"] for p in (10, 80, 95, None)] == ["ok", "warning", "critical", "unknown"]
    assert charts.gauge(140)["width"] == 100.0 and not math.isnan(charts.gauge(0)["width"])


def test_csv_cells_never_start_a_formula():
    text = writer._csv(["a", "b"], [["=HYPERLINK(\"http://x\")", "+1"], ["@SUM(A1)", "-2"], ["fine", None]])
    assert text.splitlines() == ["a,b", "\"'=HYPERLINK(\"\"http://x\"\")\",'+1", "'@SUM(A1),'-2", "fine,"]


@pytest.mark.parametrize("value,bytes_text,bps_text", [(None, "—", "—"), (999, "999 B", "999 bit/s"),
                                                       (1_500_000, "1.5 MB", "1.5 Mbit/s"),
                                                       (10_000_000_000, "10.0 GB", "10.0 Gbit/s")])
def test_human_units(value, bytes_text, bps_text):
    env = writer.environment([])
    assert env.filters["bytes"](value) == bytes_text and env.filters["bps"](value) == bps_text


def test_the_report_shows_the_alerts_device_info_found_with_each_hosts_own_thresholds():
    """One evaluation: device_info's, with each host's johann_thresholds; the report never evaluates again."""
    from ansible_collections.johann.monitor.plugins.module_utils._alerts import evaluate, merge_thresholds
    cpu = {"five_seconds": 95, "one_minute": 95, "five_minutes": 95}
    core = {"status": "ok", "cpu": cpu}
    core["alerts"] = evaluate(core, merge_thresholds({"cpu_percent": {"warning": 97, "critical": 99}}))
    access = {"status": "ok", "cpu": dict(cpu, five_minutes=50)}
    access["alerts"] = evaluate(access, merge_thresholds({"cpu_percent": {"warning": 40, "critical": 90}}))
    assert view.device_view("core", core)["alerts"] == []   # 95% under its own 97%: no alert (defaults would say 80)
    (alert,) = view.device_view("access", access)["alerts"]
    assert alert["level"] == "warning" and "(threshold 40%)" in alert["message"]
    stale = dict(access, status="unreachable")   # a device not read now: no alerts from its old readings
    assert view.device_view("access", stale)["alerts"] == []
