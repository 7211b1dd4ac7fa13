"""Sparkline and availability-bar geometry: values, gaps, flat series, nothing known."""
from __future__ import annotations

import pytest
from ansible_collections.johann.monitor.plugins.plugin_utils._report import charts, writer


def _points(segment: dict) -> list[tuple[float, float]]:
    points = [tuple(float(n) for n in pair.split(",")) for pair in segment["points"].split()]
    assert len(points) == segment["count"]
    return points


def test_a_full_series_is_one_segment_scaled_to_its_range():
    line = charts.sparkline([10, 20, 30], width=104, height=24)
    assert len(line["segments"]) == 1 and line["dots"] == []
    points = _points(line["segments"][0])
    assert [p[0] for p in points] == [2, 52, 102]          # 2 px inside each edge, evenly spaced
    assert [p[1] for p in points] == [22, 12, 2]           # larger is higher; min at the bottom, max at the top
    assert (line["min"], line["max"], line["last"]) == (10, 30, 30)
    assert (line["last_x"], line["last_y"]) == ("102", "2") and line["current"] is True
    assert (line["count"], line["known"]) == (3, 3)


def test_none_breaks_the_line_and_lone_values_become_dots():
    line = charts.sparkline([1, 2, None, 4, None, None, 3, 5], width=74, height=24)
    assert [len(_points(s)) for s in line["segments"]] == [2, 1, 2]
    assert line["dots"] == [{"x": "32", "y": "7"}]                # 4 on a 1..5 scale: 3/4 up the 20 px inside
    assert (line["min"], line["max"], line["last"], line["known"], line["count"]) == (1, 5, 5, 5, 8)
    xs = [p[0] for s in line["segments"] for p in _points(s)]
    assert xs == [2, 12, 32, 62, 72]                       # gaps keep the time axis: index 2, 4 and 5 are missing


def test_a_missing_current_value_keeps_the_last_known_one():
    line = charts.sparkline([3, 4, None])
    assert line["last"] == 4 and line["current"] is False
    assert line["last_x"] == "60" and line["segments"] == [{"points": "2,26 60,2", "count": 2}]


@pytest.mark.parametrize("values", [[7, 7, 7], [7]])
def test_a_flat_series_runs_across_the_middle(values):
    line = charts.sparkline(values, width=120, height=28)
    points = [p for s in line["segments"] for p in _points(s)]
    assert {p[1] for p in points} == {14}
    assert line["min"] == line["max"] == line["last"] == 7
    if len(values) == 1:
        assert line["dots"] == [{"x": "60", "y": "14"}]   # one run: one dot in the middle


@pytest.mark.parametrize("values", [[], [None], [None, None, None]])
def test_nothing_known_draws_nothing(values):
    line = charts.sparkline(values)
    assert line["segments"] == [] and line["dots"] == []
    assert line["min"] is line["max"] is line["last"] is line["last_x"] is None
    assert line["known"] == 0 and line["count"] == len(values) and line["current"] is False


def test_a_fixed_scale_clamps_values_outside_it():
    line = charts.sparkline([-10, 50, 150], width=104, height=24, lo=0, hi=100)
    assert _points(line["segments"][0]) == [(2, 22), (52, 12), (102, 2)]
    assert (line["min"], line["max"]) == (-10, 150)        # the labels tell the real values


def test_coordinates_stay_inside_the_box_for_any_series():
    for values in ([0.001, 1e9, None, -5], [3.14159, 2.71828, 1.41421, 1.73205], [1] * 50):
        line = charts.sparkline(values, width=120, height=28)
        for x, y in (p for s in line["segments"] for p in _points(s)):
            assert 0 <= x <= 120 and 0 <= y <= 28


def test_availability_bars_one_per_run_scaled_to_percent():
    runs = [{"time": "t1", "total": 4, "answered": 4, "availability": 100.0, "current": False},
            {"time": "t2", "total": 4, "answered": 3, "availability": 75.0, "current": False},
            {"time": "t3", "total": 0, "answered": 0, "availability": None, "current": False},
            {"time": "t4", "total": 4, "answered": 2, "availability": 50.0, "current": True}]
    chart = charts.availability_bars(runs, height=80, slot=20)
    bars = chart["bars"]
    assert [b["height"] for b in bars] == [80, 60, 0, 40]
    assert [b["y"] + b["height"] for b in bars] == [80] * 4          # all stand on the baseline
    assert [b["level"] for b in bars] == ["ok", "critical", "unknown", "critical"]
    assert [b["current"] for b in bars] == [False, False, False, True]
    assert chart["width"] == 80 and bars[1]["x"] > bars[0]["x"] + bars[0]["width"]


def test_availability_bars_narrow_for_many_runs():
    runs = [{"time": str(i), "total": 10, "answered": 9, "availability": 90.0} for i in range(200)]
    chart = charts.availability_bars(runs, max_width=600)
    assert chart["width"] <= 600 and all(b["width"] > 0 for b in chart["bars"])
    assert {b["level"] for b in chart["bars"]} == {"warning"}
    assert charts.availability_bars([])["bars"] == []


def test_change_labels_are_short_and_counted():
    found = [{"kind": "rebooted", "text": "rebooted at x"}, {"kind": "neighbor_new", "text": "new neighbour a"},
             {"kind": "neighbor_new", "text": "new neighbour b"}, {"kind": "neighbor_lost", "text": "lost x"},
             {"kind": "interface_down", "text": "Gi1 went down"}, {"kind": "version", "text": "software a -> b"},
             {"kind": "came_back", "text": "answers again"}, {"kind": "something_new", "text": "?"}]
    assert writer.change_labels(found) == ["back", "rebooted", "version", "+2 neighbours", "−1 neighbour",
                                           "1 interface down", "something new"]
    assert writer.change_labels([]) == [] and writer.change_labels(None) == []
