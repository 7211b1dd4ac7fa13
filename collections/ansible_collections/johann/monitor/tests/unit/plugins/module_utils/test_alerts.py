"""Thresholds as tables: readings → alerts (or none)."""
from __future__ import annotations

import pytest
from ansible_collections.johann.monitor.plugins.module_utils._alerts import (
    ThresholdError,
    cpu_load,
    error_ratio,
    evaluate,
    merge_thresholds,
)


def _record(**sections):
    base = {"cpu": None, "memory": None, "storage": None, "environment": None, "interfaces": None}
    return dict(base, **sections)


@pytest.mark.parametrize("record,expected", [
    (_record(cpu={"five_minutes": 79}), []),
    (_record(cpu={"five_minutes": 80}), [("cpu", "warning")]),
    (_record(cpu={"five_minutes": None, "one_minute": 97}), [("cpu", "critical")]),
    (_record(memory={"used_percent": 96.0}), [("memory", "critical")]),
    (_record(storage={"partitions": [{"name": "flash:", "used_percent": 86.0}]}), [("storage", "warning")]),
    (_record(environment=[{"name": "inlet", "kind": "temperature", "reading": 47.0, "state": "Normal",
                           "thresholds": {"high_normal": 46.0, "high_critical": 56.0}}]), [("environment", "warning")]),
    (_record(environment=[{"name": "hotspot", "kind": "temperature", "reading": 68.0, "state": "Normal",
                           "thresholds": {"high_normal": 105.0, "high_critical": 125.0}}]), []),
    (_record(environment=[{"name": "cpu", "kind": "temperature", "reading": 76.0, "state": "ok",
                           "thresholds": {}}]), [("environment", "critical")]),
    (_record(environment=[{"name": "fan", "kind": "fan", "reading": 0.0, "state": "Faulty", "alert": True,
                           "thresholds": {}}]), [("environment", "critical")]),
    # a real Catalyst 9300: fans "Norm" with all thresholds 0, an unused power supply "Shut" at 0 W
    (_record(environment=[{"name": "Fan 1/1", "kind": "fan", "reading": 5400.0, "state": "Norm", "thresholds": {
        "low_critical": 0.0, "low_normal": 0.0, "high_normal": 0.0, "high_critical": 0.0}}]), []),
    (_record(environment=[{"name": "PS2", "kind": "power", "reading": 0.0, "state": "Shut", "thresholds": {
        "low_critical": 0.0, "low_normal": 0.0, "high_normal": 715.0, "high_critical": 800.0}}]), []),
    (_record(environment=[{"name": "PS1", "kind": "power", "reading": 900.0, "state": "Normal", "thresholds": {
        "low_critical": 0.0, "low_normal": 0.0, "high_normal": 715.0, "high_critical": 800.0}}]),
     [("environment", "critical")]),
    (_record(environment=[{"name": "PS1", "kind": "power", "reading": 750.0, "state": "Normal", "thresholds": {
        "low_critical": 0.0, "low_normal": 0.0, "high_normal": 715.0, "high_critical": 800.0}}]),
     [("environment", "warning")]),
    (_record(environment=[{"name": "Fan 2", "kind": "fan", "reading": 0.0, "state": "Minor", "thresholds": {}}]),
     [("environment", "warning")]),
    (_record(environment=[{"name": "Temp", "kind": "temperature", "reading": 61.0, "state": "Shut",
                           "thresholds": {}}]), []),
    (_record(environment=[{"name": "Temp", "kind": "temperature", "reading": 61.0, "state": "Normal",
                           "thresholds": {"low_critical": 0, "low_normal": 0, "high_normal": 0, "high_critical": 0}}]),
     [("environment", "warning")]),   # no thresholds of its own: the user's temperature levels (60/75)
    (_record(environment=[{"name": "Temp", "kind": "temperature", "reading": -6.0, "state": "Normal",
                           "thresholds": {"low_critical": -5.0, "low_normal": 0.0, "high_normal": 46.0,
                                          "high_critical": 56.0}}]), [("environment", "critical")]),
    (_record(interfaces=[{"name": "Gi1", "counters": {"in_errors": 50, "in_unicast_pkts": 10000}}]),
     [("interface_errors", "warning")]),
    (_record(interfaces=[{"name": "Gi1", "counters": {"in_errors": 200, "in_unicast_pkts": 10000}}]),
     [("interface_errors", "critical")]),
    (_record(interfaces=[{"name": "Gi1", "counters": {"in_errors": 9, "in_unicast_pkts": 10}}]), []),
    (_record(cpu={"five_minutes": 99}, memory={"used_percent": 86.0}), [("cpu", "critical"), ("memory", "warning")]),
])
def test_evaluate(record, expected):
    assert [(a["kind"], a["level"]) for a in evaluate(record)] == expected


def test_critical_alerts_come_first_and_messages_name_the_reading():
    alerts = evaluate(_record(memory={"used_percent": 86.0}, cpu={"five_minutes": 99}))
    assert alerts[0]["message"] == "CPU 99% over 5 minutes (threshold 95%)"
    assert alerts[1]["message"] == "memory 86.0% used (threshold 85%)"


# CPU records as each family gives them
IOSXE_CPU = {"five_seconds": 99, "one_minute": 96, "five_minutes": 97, "average": None, "average_seconds": None}
EOS_CPU = {"five_seconds": 99, "one_minute": None, "five_minutes": None, "average": 97, "average_seconds": 1000}
NXOS_CPU = {"five_seconds": 99, "one_minute": None, "five_minutes": None, "average": None, "average_seconds": None}


@pytest.mark.parametrize("cpu,message", [
    (IOSXE_CPU, "CPU 97% over 5 minutes (threshold 95%)"),
    (dict(IOSXE_CPU, five_minutes=None), "CPU 96% over 1 minute (threshold 95%)"),
    (EOS_CPU, "CPU 97% over the device's 1000 s average (threshold 95%)"),
    (dict(EOS_CPU, average=85, average_seconds=60), "CPU 85% over the device's 60 s average (threshold 80%)"),
    (dict(EOS_CPU, average=50, one_minute=96), "CPU 96% over 1 minute (threshold 95%)"),   # 1 min first
    (dict(EOS_CPU, average_seconds=59), None),      # an average over less than a minute: too jumpy
    (dict(EOS_CPU, average_seconds=None), None),    # over a span the device does not say
    (dict(EOS_CPU, average_seconds=True), None),
    (NXOS_CPU, None),                               # an instant reading only: never an alert, even at 99%
    ({"five_seconds": 100}, None),                  # records stored before average existed
    (None, None),
])
def test_cpu_alerts_on_an_average_of_a_minute_or_more_and_names_its_span(cpu, message):
    alerts = evaluate(_record(cpu=cpu))
    assert [a["message"] for a in alerts] == ([message] if message else [])
    assert all((a["kind"], a["subject"]) == ("cpu", None) for a in alerts)


def test_cpu_load_is_the_one_rule_for_the_cpu_figure():
    assert tuple(cpu_load(IOSXE_CPU)) == (97, 300, "5 minutes", "5 min")
    assert tuple(cpu_load(dict(IOSXE_CPU, five_minutes=None))) == (96, 60, "1 minute", "1 min")
    assert tuple(cpu_load(EOS_CPU)) == (97, 1000, "the device's 1000 s average", "1000 s avg")
    assert cpu_load(NXOS_CPU) is None and cpu_load(None) is None and cpu_load("busy") is None


def test_error_ratio_needs_packets_and_enough_errors():
    assert error_ratio({"counters": {"in_errors": 20, "in_unicast_pkts": 1000, "in_multicast_pkts": 1000}}) == 0.01
    assert error_ratio({"counters": {"in_errors": None}}) is None
    assert error_ratio({"counters": {"in_errors": 20}}) is None


@pytest.mark.parametrize("overrides,message", [
    ({"cpu": {"warning": 1}}, "unknown threshold 'cpu'"),
    ({"cpu_percent": 5}, "must be a mapping"),
    ({"cpu_percent": {"high": 5}}, "level 'high' is not warning or critical"),
    ({"cpu_percent": {"warning": "lots"}}, "must be a number, not 'lots'"),
])
def test_bad_thresholds_are_refused(overrides, message):
    with pytest.raises(ThresholdError, match=message):
        merge_thresholds(overrides)


def test_overrides_keep_the_other_defaults():
    merged = merge_thresholds({"cpu_percent": {"warning": "50"}})
    assert merged["cpu_percent"] == {"warning": 50.0, "critical": 95.0}
    assert merged["memory_percent"] == {"warning": 85.0, "critical": 95.0}
