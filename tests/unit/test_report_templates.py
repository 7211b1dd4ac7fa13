"""The default templates render any record device_info can give: sparse, odd, or hostile."""
from __future__ import annotations

import gzip
import json

from ansible_collections.johann.monitor.plugins.module_utils._normalise import iosxe
from ansible_collections.johann.monitor.plugins.plugin_utils._report.history import run_summary
from ansible_collections.johann.monitor.plugins.plugin_utils._report.render import render_report

from tests.records import TEMPLATES, record

SPARSE_INTERFACE = {   # a configured interface with no hardware: no statistics at all (ietf-interfaces)
    "name": "Loopback42", "description": None, "type": "loopback", "admin_status": "up", "oper_status": "not_present",
    "mtu": None, "speed": None, "duplex": None, "mac": None, "vrf": None, "ipv4": [], "ipv6": [], "last_change": None,
    "last_change_seconds_ago": None, "counters": {"in_octets": None, "out_octets": None, "in_errors": None,
                                                  "in_crc_errors": None, "in_discards": None},
    "counter_widths": {}, "flaps": None, "rates": {"in_bps": None, "out_bps": None, "in_pps": None, "out_pps": None},
    "discontinuity_time": None}


def test_sparse_and_odd_records_render(tmp_path):
    records = {
        "bare": record("bare"),
        "sparse-interface": record("sparse-interface", interfaces=[SPARSE_INTERFACE],
                                   identity=iosxe.identity({}, {})),   # every identity key, all unknown
        "failed": record("failed", status="unreachable", message="connection refused by 192.0.2.1:443"),
        "no-record": None,
        "../odd name<>": record("../odd name<>", environment=[], neighbors={"cdp": [], "lldp": []}, arp=[]),
    }
    summary = render_report(records, tmp_path, TEMPLATES, "t", "2026-11-29T00:00:00Z")
    assert summary["devices"] == 5 and summary["statuses"]["missing"] == 1
    page = (tmp_path / "devices" / "sparse-interface.html").read_text()
    assert "Loopback42" in page and "not_present" in page
    assert "&lt;&gt;" in (tmp_path / "index.html").read_text()
    assert not list((tmp_path / "devices").glob("..*"))
    assert json.loads(gzip.decompress((tmp_path / "fleet.json.gz").read_bytes()))["devices"]["no-record"] is None


# CPU as each family gives it: IOS XE 1 and 5 minutes, EOS its own 1000 s average, NX-OS an instant reading
CPUS = {
    "ios": ("iosxe", {"five_seconds": 9, "one_minute": 8, "five_minutes": 7, "average": None, "average_seconds": None}),
    "eos": ("openconfig", {"five_seconds": 93, "one_minute": None, "five_minutes": None, "average": 91,
                           "average_seconds": 1000}),
    "nx": ("nxos", {"five_seconds": 99, "one_minute": None, "five_minutes": None, "average": None,
                    "average_seconds": None}),
}


def test_the_cpu_figure_alerts_use_is_shown_with_its_span_and_trended(tmp_path):
    """The device page shows EOS's own average with its span, the trend and the fleet table use the same figure."""
    records = {host: record(host, platform=platform, cpu=cpu) for host, (platform, cpu) in CPUS.items()}
    past = {host: dict(rec, cpu=dict(rec["cpu"], average=rec["cpu"]["average"] and 85, five_minutes=None))
            for host, rec in records.items()}   # the run before: 1-minute (IOS XE), 85% (EOS)
    history = {"enabled": True, "reason": None, "source": "test",
               "past": [{"time": "2026-11-28T23:45:00Z", "devices": run_summary(past, "x")["devices"]}]}
    render_report(records, tmp_path, TEMPLATES, "t", "2026-11-29T00:00:00Z", history=history)
    eos, ios, nx = ((tmp_path / "devices" / f"{h}.html").read_text() for h in ("eos", "ios", "nx"))
    assert "<th>CPU avg 1000 s</th>" in eos and "the device's own average over 1000 s" in eos
    assert "<th>CPU 5 min</th>" not in eos and "<th>CPU 5 min</th>" in ios and "<th>CPU avg" not in ios + nx
    assert "<figcaption>CPU 1000 s avg</figcaption>" in eos and "CPU 1000 s avg: " in eos
    assert "now <b>91 %</b>" in eos and "min 85 · max 91 · 2 of 2 runs" in eos
    assert "<figcaption>CPU 5 min</figcaption>" in ios and "min 7 · max 8 · 2 of 2 runs" in ios
    assert "<figcaption>CPU average</figcaption>" in nx and "No readings in 2 runs." in nx   # never the instant
    index = (tmp_path / "index.html").read_text()
    assert 'data-sort="91" title="over the device&#39;s 1000 s average">91<' in index
    assert 'data-sort="7" title="over 5 minutes">7<' in index
    assert "CPU 91% over the device&#39;s 1000 s average (threshold 80%)" in index
