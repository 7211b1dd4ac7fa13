"""Value parsing as tables: what devices send → what the record holds (unknown is None, never 0)."""
from __future__ import annotations

import pytest
from ansible_collections.johann.monitor.plugins.module_utils._normalise import common as c


@pytest.mark.parametrize("raw,expected", [
    ("2026-11-29T10:26:37+00:00", "2026-11-29T10:26:37.000Z"),
    ("2026-11-29T10:26:37.5+00:00", "2026-11-29T10:26:37.500Z"),
    ("2026-11-29T10:26:37.123456789Z", "2026-11-29T10:26:37.123Z"),
    ("2026-11-29T16:26:37+06:00", "2026-11-29T10:26:37.000Z"),
    ("2026-11-29T05:26:37-0500", "2026-11-29T10:26:37.000Z"),
    ("2026-11-29 10:26:37", "2026-11-29T10:26:37.000Z"),
    ("29/11/2026", None), ("", None), (None, None), ("2026-13-40T10:26:37Z", None),
])
def test_parse_time(raw, expected):
    assert c.iso(c.parse_time(raw)) == expected


@pytest.mark.parametrize("raw,expected", [
    ("22839709", 22839709), (22839709, 22839709), ("18446744073709551615", 2 ** 64 - 1), (" 7 ", 7),
    ("1.30", 1), (None, None), ("n/a", None), (True, None), ([], None),
])
def test_to_int(raw, expected):
    assert c.to_int(raw) == expected


@pytest.mark.parametrize("raw,expected", [("FOC2418L1AB   ", "FOC2418L1AB"), ("   ", None), ("", None),
                                          (None, None), (15, "15"), ({"a": 1}, None)])
def test_text_strips_padding_and_empty_is_unknown(raw, expected):
    assert c.text(raw) == expected


@pytest.mark.parametrize("args,expected", [
    (("10.0.0.1", "255.255.255.0"), {"address": "10.0.0.1", "netmask": "255.255.255.0", "prefix_length": 24}),
    (("10.0.0.1", None, 31), {"address": "10.0.0.1", "netmask": "255.255.255.254", "prefix_length": 31}),
    (("0.0.0.0", "0.0.0.0"), None), ((None,), None),
])
def test_ipv4_entry(args, expected):
    assert c.ipv4_entry(*args) == expected


@pytest.mark.parametrize("state,reading,alert", [
    ("Normal", 30.0, False), ("Norm", 30.0, False), ("GREEN", 30, False), ("Warning", 30.0, True),
    ("Normal", 50.0, True), ("Normal", -1.0, True), (None, None, False), ("Shut", None, True),
])
def test_sensor_alert(state, reading, alert):
    assert c.sensor_alert(state, reading, {"low_normal": 0.0, "high_normal": 46.0}) is alert


def test_member_ignores_module_prefixes_and_percent():
    data = {"Cisco-IOS-XE-ntp:server": {"server-list": [1]}}
    assert c.member(data, "server", "server-list") == [1]
    assert c.member(data, "nothing", "x") is None
    assert c.percent(1, 0) is None and c.percent(1, 3) == 33.3
