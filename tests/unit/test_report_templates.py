"""The default templates render any record device_info can give: sparse, odd, or hostile."""
from __future__ import annotations

import json

from ansible_collections.johann.monitor.plugins.module_utils._alerts import DEFAULT_THRESHOLDS
from ansible_collections.johann.monitor.plugins.module_utils._normalise import iosxe
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import SECTIONS
from ansible_collections.johann.monitor.plugins.plugin_utils._report.render import render_report

from tests.lablib import ROOT

TEMPLATES = [ROOT / "reports" / "templates"]


def _record(host, **values):
    record = {"schema": 1, "host": host, "address": "192.0.2.1", "port": 443, "status": "ok", "message": None,
              "platform": "ietf", "restconf_root": "/restconf", "root_source": "default", "polled_at": None,
              "duration": 0.1, "requests": 3, "alerts": [], "sections": {}, **{s: None for s in SECTIONS}}
    record.update(values)
    return record


SPARSE_INTERFACE = {   # a configured interface with no hardware: no statistics at all (ietf-interfaces)
    "name": "Loopback42", "description": None, "type": "loopback", "admin_status": "up", "oper_status": "not_present",
    "mtu": None, "speed": None, "duplex": None, "mac": None, "vrf": None, "ipv4": [], "ipv6": [], "last_change": None,
    "last_change_seconds_ago": None, "counters": {"in_octets": None, "out_octets": None, "in_errors": None,
                                                  "in_crc_errors": None, "in_discards": None},
    "counter_widths": {}, "flaps": None, "rates": {"in_bps": None, "out_bps": None, "in_pps": None, "out_pps": None},
    "discontinuity_time": None}


def test_sparse_and_odd_records_render(tmp_path):
    records = {
        "bare": _record("bare"),
        "sparse-interface": _record("sparse-interface", interfaces=[SPARSE_INTERFACE],
                                    identity=iosxe.identity({}, {})),   # every identity key, all unknown
        "failed": _record("failed", status="unreachable", message="connection refused by 192.0.2.1:443"),
        "no-record": None,
        "../odd name<>": _record("../odd name<>", environment=[], neighbors={"cdp": [], "lldp": []}, arp=[]),
    }
    summary = render_report(records, tmp_path, TEMPLATES, DEFAULT_THRESHOLDS, "t", "2026-11-29T00:00:00Z")
    assert summary["devices"] == 5 and summary["statuses"]["missing"] == 1
    page = (tmp_path / "devices" / "sparse-interface.html").read_text()
    assert "Loopback42" in page and "not_present" in page
    assert "&lt;&gt;" in (tmp_path / "index.html").read_text()
    assert not list((tmp_path / "devices").glob("..*"))
    assert json.loads((tmp_path / "fleet.json").read_text())["devices"]["no-record"] is None
