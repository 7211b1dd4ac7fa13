"""Trends from run history in real headless Chromium: a report rendered in-process from the lab model
at three clock times 300 s apart (one device rebooted between the last two, one unreachable in the middle),
the first two as past run summaries; and the same report with history off.

A browser test of the private renderer (plugin_utils._report.render) given past runs in process: the report's
public face reads past runs from ARA only, at the real times of real runs (a report from ``fleet_json`` shows
no history), so these exact lab times cannot go through it; tests/integration/test_history.py runs that path
end to end (two monitor runs recorded in ARA, trends in the second report).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible_collections.johann.monitor.plugins.plugin_utils._report.render import render_report

from lab.fleet import DeviceSpec, Fleet, build_devices
from lab.model import Clock, iso
from lab.truth import device_truth
from tests.lablib import EPOCH
from tests.records import TEMPLATES, past_run, record, record_at

TIMES = (EPOCH, EPOCH + 300, EPOCH + 600)
REBOOT_AT = EPOCH + 400          # c9300 reboots between the second run and this one
OFF_REASON = "ARA is not installed (pip install 'ara[server]'), so runs are not recorded"
FLEET = Fleet([DeviceSpec("c9300", "iosxe-17"), DeviceSpec("c9300x", "iosxe-17.12"), DeviceSpec("csr", "iosxe-16.12"),
               DeviceSpec("gx", "ietf"), DeviceSpec("hostile", "iosxe-17", {"hostile": True})], seed=3)
UNITS = {"bit/s": 1, "kbit/s": 1e3, "Mbit/s": 1e6, "Gbit/s": 1e9, "Tbit/s": 1e12}
RATE_CELLS_JS = """() => Array.from(document.querySelectorAll('table.interfaces tbody tr'), row => {
    const cells = Array.from(row.cells);
    const header = Array.from(document.querySelectorAll('table.interfaces thead th'), th => th.innerText.trim());
    const at = name => cells[header.indexOf(name)];
    return {name: cells[0].innerText.trim(), ...Object.fromEntries(['In (bit/s)', 'Out (bit/s)', 'Errors/s'].map(h =>
        [h, {text: at(h).innerText.trim(), sort: at(h).getAttribute('data-sort'),
             title: (at(h).querySelector('[title]') || {title: null}).title}]))};
})"""
POLYLINES_JS = """() => Array.from(document.querySelectorAll('.trends figure.spark'), f => ({
    caption: f.querySelector('figcaption').innerText.trim(),
    lines: Array.from(f.querySelectorAll('polyline'), p => p.getAttribute('points').trim().split(/\\s+/).length),
    dots: f.querySelectorAll('circle.dot').length}))"""


def _records(devices, at: float, down: tuple[str, ...] = ()) -> dict[str, dict]:
    """device_info-like records of the lab fleet at one clock time; hosts in ``down`` did not answer."""
    records = {}
    for device in devices:
        if device.name in down:
            records[device.name] = record(device.name, status="unreachable",
                                          message=f"connection refused by {device.address}:443",
                                          polled_at=iso(at, 3, z=True))
            continue
        sections = record_at(device, at)
        sections.update(polled_at=iso(at, 3, z=True), platform=device_truth(device, at)["platform"])
        records[device.name] = record(device.name, **sections)
    return records


@pytest.fixture(scope="module")
def lab_runs():
    """Three runs of the lab fleet (records per host), the devices, and the first two as past run summaries."""
    devices = build_devices(FLEET, {"username": "u", "password": "p"}, Clock(EPOCH, frozen=True))
    first = _records(devices, TIMES[0])
    second = _records(devices, TIMES[1], down=("gx",))
    next(d for d in devices if d.name == "c9300").reboot(REBOOT_AT, "Power Failure")
    now = _records(devices, TIMES[2])
    past = [past_run(iso(at, 3, z=True), run) for at, run in zip(TIMES, (first, second), strict=False)]
    return {"devices": {d.name: d for d in devices}, "now": now, "past": past}


@pytest.fixture(scope="module")
def trends_dir(lab_runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trends-report")
    summary = render_report(lab_runs["now"], out, TEMPLATES, "Trends test",
                            iso(TIMES[2], 3, z=True),
                            history={"enabled": True, "reason": None, "source": "test", "past": lab_runs["past"]})
    assert summary["history"]["past_runs"] == 2
    assert any("rebooted" in text for text in summary["changes"]["c9300"])
    return out


@pytest.fixture(scope="module")
def history_off_dir(lab_runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trends-off-report")
    render_report(lab_runs["now"], out, TEMPLATES, "Trends test", iso(TIMES[2], 3, z=True),
                  history={"enabled": False, "reason": OFF_REASON, "source": None, "past": []})
    return out


def _bit_rate(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+) (\S+)", text).groups()
    return float(number) * UNITS[unit]


def _changes(page) -> dict[str, list[str]]:
    """The change labels per host in the fleet table."""
    return page.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('#devices tbody tr'), row =>
        [row.cells[0].innerText.trim(), Array.from(row.querySelectorAll('td.changes .change'), s => s.innerText)]))""")


def test_index_shows_history_availability_and_changes(report_page, trends_dir):
    page = report_page.open(trends_dir / "index.html")
    page.assert_clean()
    assert page.text(".history-on") == "Trends from test: 2 past runs"
    assert page.evaluate("document.querySelector('.history-off')") is None
    bars = page.evaluate("""() => Array.from(document.querySelectorAll('figure.availability rect.bar'), r => ({
        height: parseFloat(r.getAttribute('height')), current: r.classList.contains('current'),
        title: r.querySelector('title').textContent}))""")
    assert len(bars) == 3
    assert [b["current"] for b in bars] == [False, False, True]
    assert bars[1]["height"] < bars[0]["height"] == bars[2]["height"] > 0       # gx did not answer in the middle run
    assert "4 of 5 answered (80.0%)" in bars[1]["title"] and "(this run): 5 of 5" in bars[2]["title"]
    changes = _changes(page)
    assert "rebooted" in changes["c9300"]
    assert changes["gx"] == ["back"] and changes["csr"] == []
    assert page.evaluate("window.__johann_xss") is None


def test_changes_column_sorts_and_filters(report_page, trends_dir):
    page = report_page.open(trends_dir / "index.html")
    column = page.table_headers("#devices").index("Changes")
    page.click(f"#devices th:nth-child({column + 1})")
    page.click(f"#devices th:nth-child({column + 1})")                          # descending: most changes first
    assert page.table_rows("#devices")[0][0] == "c9300"
    page.type("#filter", "rebooted")
    assert [row[0] for row in page.table_rows("#devices")] == ["c9300"]
    page.fill("#filter", "")
    page.run(lambda p: p.select_option("#status-filter", "changed"))
    changed = {row[0] for row in page.table_rows("#devices")}
    assert {"c9300", "gx"} <= changed and "csr" not in changed
    assert page.text("#shown") == str(len(changed))
    page.assert_clean()


def test_device_page_shows_trends_and_rates_true_to_the_lab(report_page, trends_dir, lab_runs):
    page = report_page.open(trends_dir / "devices" / "c9300.html")
    page.assert_clean()
    sparks = page.evaluate(POLYLINES_JS)
    assert [s["caption"] for s in sparks] == ["CPU 5 min", "Memory used", "Temperature (hottest sensor)"]
    assert all(s["lines"] == [3] and s["dots"] == 0 for s in sparks), sparks
    trends = page.text(".trends")
    assert re.search(r"now \d+ %\s+min \d+ · max \d+ · 3 of 3 runs", trends)
    assert "Since the previous run (" + iso(TIMES[1]).replace("T", " ")[:19] + " UTC)" in trends
    assert "rebooted at " in page.text(".trends ul.changes")
    assert "Reboots in the window: 1" in trends
    assert "counted from boot" in page.text(".rates-note.rebooted")

    truth = device_truth(lab_runs["devices"]["c9300"], TIMES[2])["interfaces"]
    rows = page.evaluate(RATE_CELLS_JS)
    assert len(rows) == len(truth)
    checked = 0
    for row in rows:
        expected = truth[row["name"]]["rates"]
        for header, key in (("In (bit/s)", "in_bps"), ("Out (bit/s)", "out_bps")):
            cell = row[header]
            value = float(cell["sort"])
            assert value >= 0, (row["name"], cell)
            assert value == pytest.approx(expected[key], rel=0.01, abs=50), (row["name"], header, cell)
            shown = _bit_rate(cell["text"])                                      # the human text says the same
            assert shown == pytest.approx(expected[key], rel=0.06, abs=1), (row["name"], header, cell)
            checked += expected[key] > 0
        assert row["Errors/s"]["text"].endswith("/s") and float(row["Errors/s"]["sort"]) >= 0
    assert checked >= 8
    page.screenshot("report-device-trends")


def test_steady_device_rates_match_the_lab_and_none_is_negative(report_page, trends_dir, lab_runs):
    page = report_page.open(trends_dir / "devices" / "csr.html")
    page.assert_clean()
    assert [s["lines"] for s in page.evaluate(POLYLINES_JS)][:2] == [[3], [3]]
    assert "No readings in 3 runs." in page.text(".trends")                     # 16.12 has no environment
    assert page.text(".trends .no-changes") == "No changes."
    assert "averaged over the 5m 0s between the previous run and this one" in page.text(".rates-note")
    truth = device_truth(lab_runs["devices"]["csr"], TIMES[2])["interfaces"]
    busiest = max(truth, key=lambda name: truth[name]["rates"]["in_bps"])
    row = next(r for r in page.evaluate(RATE_CELLS_JS) if r["name"] == busiest)
    assert float(row["In (bit/s)"]["sort"]) == pytest.approx(truth[busiest]["rates"]["in_bps"], rel=0.01)
    for name in ("c9300x", "hostile"):
        page = report_page.open(trends_dir / "devices" / f"{name}.html")
        page.assert_clean()
        assert page.evaluate("window.__johann_xss") is None
        sorts = [row[h]["sort"] for row in page.evaluate(RATE_CELLS_JS) for h in ("In (bit/s)", "Out (bit/s)")]
        assert sorts and all(float(s) >= 0 for s in sorts if s), name


def test_device_back_after_a_gap(report_page, trends_dir):
    page = report_page.open(trends_dir / "devices" / "gx.html")
    page.assert_clean()
    sparks = page.evaluate(POLYLINES_JS)
    assert [s["caption"] for s in sparks if s["lines"] or s["dots"]] == ["Temperature (hottest sensor)"]   # ietf
    assert sparks[2]["lines"] == [] and sparks[2]["dots"] == 2                  # answered, not, answered: two dots
    assert "answers again (was unreachable)" in page.text(".trends ul.changes")
    rows = page.evaluate(RATE_CELLS_JS)
    assert rows and all(r["In (bit/s)"]["text"] == "—" for r in rows)
    assert rows[0]["In (bit/s)"]["title"] == "the device did not answer in the previous run (unreachable)"


def test_history_off_says_why_and_hides_trend_columns(report_page, history_off_dir):
    page = report_page.open(history_off_dir / "index.html")
    page.assert_clean()
    assert page.text(".history-off") == f"History is off: {OFF_REASON}"
    assert "Changes" not in page.table_headers("#devices")
    assert page.evaluate("document.querySelector('figure.availability')") is None
    page = report_page.open(history_off_dir / "devices" / "c9300.html")
    page.assert_clean()
    assert page.text(".trends .history-off") == f"History is off: {OFF_REASON}"
    headers = page.table_headers("table.interfaces")
    assert "In rate" in headers and not {"In (bit/s)", "Out (bit/s)", "Errors/s"} & set(headers)
    assert page.evaluate("document.querySelector('.rates-note')") is None


@pytest.mark.parametrize("name", ["index.html", "devices/c9300.html"])
def test_phone_width_does_not_scroll_sideways(report_page, trends_dir, name):
    page = report_page.open(trends_dir / name)
    page.run(lambda p: p.set_viewport_size({"width": 390, "height": 844}))
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    page.assert_clean()
