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
    ("Normal", 50.0, True), ("Normal", -1.0, True), (None, None, False),
    ("Shut", None, False), ("Shut", 99.0, False),          # an unused power supply: never judged
    ("Not Present", 0.0, False), ("Fail", 30.0, True), ("Major", 30.0, True), ("nonoperational", 30.0, True),
    ("Frobnicated", 30.0, False),                          # unknown states do not alert by themselves
])
def test_sensor_alert(state, reading, alert):
    assert c.sensor_alert(state, reading, {"low_normal": 0.0, "high_normal": 46.0}) is alert


@pytest.mark.parametrize("state,meaning", [
    ("Normal", "normal"), ("Norm", "normal"), ("GOOD", "normal"), ("ok", "normal"), (" Norm ", "normal"),
    ("Shut", "inactive"), ("Not Present", "inactive"), ("not-present", "inactive"), ("Standby", "inactive"),
    ("unavailable", "inactive"), ("Warning", "warning"), ("Minor", "warning"), ("Critical", "critical"),
    ("Major", "critical"), ("Fail", "failed"), ("Faulty", "failed"), ("nonoperational", "failed"),
    ("", "unknown"), (None, "unknown"), ("Frobnicated", "unknown"), (42, "unknown"),
])
def test_sensor_states_are_mapped_by_meaning(state, meaning):
    assert c.state_class(state) == meaning


def test_thresholds_all_zero_mean_none():
    assert c.sensor_thresholds(0, 0, 0, 0) == dict.fromkeys(c.THRESHOLD_NAMES)
    assert c.sensor_thresholds("0", None, 0.0, 0) == dict.fromkeys(c.THRESHOLD_NAMES)
    assert c.sensor_thresholds(0, 0, 715, 800) == {"low_critical": 0.0, "low_normal": 0.0, "high_normal": 715.0,
                                                   "high_critical": 800.0}


def test_a_catalyst_fan_with_zero_thresholds_and_an_unused_power_supply_never_alert():
    fan = c.sensor("Fan 1/1", "Switch 1", "rpm", 5400.0, "Norm", c.sensor_thresholds(0, 0, 0, 0))
    psu = c.sensor("PS2 Power In", "Switch 1", "watts", 0.0, "Shut", c.sensor_thresholds(0, 0, 0, 0))
    assert (fan["state_class"], fan["alert"], fan["thresholds"]["high_normal"]) == ("normal", False, None)
    assert (psu["state_class"], psu["alert"]) == ("inactive", False)


@pytest.mark.parametrize("raw,expected", [
    ("22839709", 22839709), (17, 17), ("18446744073709551615", 2 ** 64 - 1), ("18446744073709551616", None),
    ("9" * 5000, None), ("1e999", None), (float("inf"), None), (float("nan"), None), ([1], None), ({}, None),
    ("-9223372036854775808", -2 ** 63), (" 12 ", 12), ("12.7", 12), (True, None),
])
def test_to_int_refuses_what_no_yang_integer_holds(raw, expected):
    assert c.to_int(raw) == expected


@pytest.mark.parametrize("raw,expected", [("45.5", 45.5), ("1e999", None), ("nan", None), ("-inf", None), (3, 3.0)])
def test_to_float_is_finite_or_unknown(raw, expected):
    assert c.to_float(raw) == expected


def test_member_ignores_module_prefixes_and_percent():
    data = {"Cisco-IOS-XE-ntp:server": {"server-list": [1]}}
    assert c.member(data, "server", "server-list") == [1]
    assert c.member(data, "nothing", "x") is None
    assert c.percent(1, 0) is None and c.percent(1, 3) == 33.3


class _Text(str):
    """A str that is not exactly ``str``: parse_time, to_int and text take their general path for it."""


_TIMES = [
    "2026-11-29T10:26:37+00:00", "2026-11-29T10:26:37.5Z", "2026-11-29T10:26:37.123456+05:30",
    "2026-11-29T10:26:37.1234567Z", "2026-11-29T10:26:37-23:59", "2026-11-29T10:26:37+24:00",
    "2026-11-29T10:26:37+05:75", "2026-11-29T24:00:00Z", "2026-11-29T23:59:60Z", "2026-11-29T23:60:00Z",
    "2026-02-29T10:00:00Z", "2024-02-29T10:00:00Z", "2026-11-29T10:26:37", "2026-11-29T10:26:37z",
    "2026-11-29t10:26:37Z", "2026-11-29 10:26:37Z", "2026-11-29T10:26:37,5Z", "2026-11-29T10:26:37 +01:00",
    " 2026-11-29T10:26:37Z ", "2026-11-29T10:26:37.Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
    "2026-11-29T10:26:37+0100", "2026-1-29T10:26:37Z", "２０２６-11-29T10:26:37Z", "2026-11-29T10:26:37\n",
]


@pytest.mark.parametrize("raw", _TIMES)
def test_parse_time_reads_the_common_form_as_its_general_parser_does(raw):
    """The fast path (datetime.fromisoformat, for the strict RFC 3339 form) and the general one agree."""
    fast, general = c.parse_time(raw), c.parse_time(_Text(raw))
    assert fast == general
    assert c.iso(fast) == (general.astimezone(c.dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
                           if general else None)
    assert (fast.utcoffset() if fast else None) == (general.utcoffset() if general else None)


@pytest.mark.parametrize("raw", ["22839709", " 7 ", "1.30", "n/a", "", "-0", "+5", "1_000", "0x10", "٣",
                                 "18446744073709551616", "-9223372036854775809", "9" * 41, " " * 30 + "12" + " " * 9,
                                 "1e3", "\t12\n", "١٢"])
def test_to_int_reads_strings_as_its_general_path_does(raw):
    assert c.to_int(raw) == c.to_int(_Text(raw))
    assert c.text(raw) == c.text(_Text(raw))


def test_iso_writes_what_isoformat_writes():
    for moment in (c.dt.datetime(1, 1, 1, tzinfo=c.dt.UTC), c.dt.datetime(2026, 3, 4, 5, 6, 7, 999999, c.dt.UTC),
                   c.dt.datetime(2026, 3, 4, 5, 6, 7, 1000, c.dt.timezone(c.dt.timedelta(hours=-7)))):
        assert c.iso(moment) == moment.astimezone(c.dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
