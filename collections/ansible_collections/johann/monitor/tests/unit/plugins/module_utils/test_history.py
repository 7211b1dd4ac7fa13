"""History as tables: summaries, rates across wraps and reboots, changes between runs."""
from __future__ import annotations

import pytest
from ansible_collections.johann.monitor.plugins.module_utils._history import (
    changes,
    interface,
    rates,
    rebooted,
    summarise,
)

GIG = 1_000_000_000


def _summary(time, boot="2026-11-01T00:00:00.000Z", status="ok", version="17.9.4a", neighbors=(), **interfaces):
    return {"status": status, "time": time, "boot_time": boot, "version": version, "neighbors": list(neighbors),
            "interfaces": {name: dict({"w_in": 64, "w_out": 64, "w_err": 64, "up": True, "speed": GIG}, **values)
                           for name, values in interfaces.items()}}


T0, T1 = "2026-11-29T10:00:00.000Z", "2026-11-29T10:01:00.000Z"


@pytest.mark.parametrize("before,after,expected_in,reason", [
    ({"in": 1000, "out": 0, "err": 0}, {"in": 1000 + 7_500_000, "out": 0, "err": 0}, 1_000_000.0, None),
    ({"in": 2 ** 32 - 750, "out": 0, "err": 0, "w_in": 32}, {"in": 250, "out": 0, "err": 0, "w_in": 32},
     1000 * 8 / 60, None),                                              # one 32-bit wrap
    ({"in": 5000, "out": 0, "err": 0}, {"in": 10, "out": 0, "err": 0}, None, "counter went backwards"),
    ({"in": 0, "out": 0, "err": 0}, {"in": 60 * GIG, "out": 0, "err": 0}, None, "implausible"),  # 8 Gbit/s on 1G
    ({"in": None, "out": 0, "err": 0}, {"in": 5, "out": 0, "err": 0}, None, "counter unknown"),
])
def test_interface_rates(before, after, expected_in, reason):
    result = rates(_summary(T0, Gi1=before), _summary(T1, Gi1=after))
    got = result["interfaces"]["Gi1"]
    assert result["seconds"] == 60 and result["rebooted"] is False
    assert got["in_bps"] == (pytest.approx(expected_in) if expected_in is not None else None)
    assert (reason is None and got["reasons"] == []) or any(reason in r for r in got["reasons"])


def test_after_a_reboot_rates_count_from_boot_and_never_go_negative():
    before = _summary(T0, Gi1={"in": 10_000_000, "out": 10_000_000, "err": 50})
    after = _summary(T1, boot="2026-11-29T10:00:30.000Z", Gi1={"in": 3_750_000, "out": 0, "err": 3})
    result = rates(before, after)
    assert result["rebooted"] is True and result["seconds"] == 30
    assert result["interfaces"]["Gi1"] == {"in_bps": 1_000_000.0, "out_bps": 0.0, "errors_per_s": 0.1, "reasons": []}


def test_boot_time_jitter_is_not_a_reboot():
    assert not rebooted({"boot_time": "2026-11-01T00:00:00.000Z"}, {"boot_time": "2026-11-01T00:00:01.000Z"})
    assert rebooted({"boot_time": "2026-11-01T00:00:00.000Z"}, {"boot_time": "2026-11-01T00:05:00.000Z"})


def test_no_time_between_runs_gives_no_rates():
    assert rates(_summary(T0), _summary(T0))["reason"] == "no time between the runs"


def test_changes_between_runs():
    before = _summary(T0, neighbors=["core-1", "core-2"], Gi1={"up": True}, Gi2={"up": False})
    after = _summary(T1, boot="2026-11-29T10:00:30.000Z", version="17.12.5", neighbors=["core-1", "core-3"],
                     Gi1={"up": False}, Gi2={"up": True})
    assert [c["kind"] for c in changes(before, after)] == [
        "rebooted", "version", "neighbor_new", "neighbor_lost", "interface_down", "interface_up"]
    assert changes(_summary(T0), _summary(T1, status="unreachable"))[0] == {"kind": "went_down",
                                                                            "text": "became unreachable"}
    assert changes(_summary(T0, status="auth_failed"), _summary(T1))[0]["kind"] == "came_back"


def test_summarise_keeps_what_trends_need():
    record = {"status": "ok", "polled_at": T1, "identity": {"current_time": T1, "boot_time": T0, "os_version_full": "17.9.4a"},
              "cpu": {"five_minutes": 12}, "memory": {"used_percent": 40.5}, "alerts": [{"level": "warning"}],
              "environment": [{"kind": "temperature", "reading": 30.0}, {"kind": "temperature", "reading": 41.0},
                              {"kind": "fan", "reading": 5000.0}],
              "neighbors": {"cdp": [{"device": "core-1"}], "lldp": [{"device": "core-1"}, {"device": None}]},
              "interfaces": [{"name": "Gi1", "oper_status": "up", "speed": GIG,
                              "counters": {"in_octets": 5, "out_octets": 6, "in_errors": 0},
                              "counter_widths": {"in_octets": 64, "out_octets": 32, "in_errors": 64}}]}
    summary = summarise(record)
    assert (summary["cpu"], summary["memory"], summary["temperature"], summary["alerts"]) == (12, 40.5, 41.0, 1)
    assert summary["neighbors"] == ["core-1"] and summary["time"] == T1
    assert summary["interfaces"]["Gi1"] == [5, 6, 0, 1, GIG, 2]   # a row; 2: the out counter is 32-bit
    assert interface(summary["interfaces"]["Gi1"]) == {"in": 5, "out": 6, "err": 0, "up": True, "speed": GIG,
                                                       "w_in": 64, "w_out": 32, "w_err": 64}


@pytest.mark.parametrize("cpu,trended", [
    ({"five_seconds": 90, "one_minute": 30, "five_minutes": 20}, 20),
    ({"five_seconds": 90, "one_minute": 30, "five_minutes": None}, 30),
    ({"five_seconds": 90, "one_minute": None, "five_minutes": None, "average": 40, "average_seconds": 1000}, 40),
    ({"five_seconds": 90, "one_minute": None, "five_minutes": None, "average": 40, "average_seconds": 30}, None),
    ({"five_seconds": 90, "one_minute": None, "five_minutes": None, "average": None, "average_seconds": None}, None),
    (None, None),
])
def test_the_cpu_trend_follows_the_figure_alerts_use(cpu, trended):
    """5 minutes, else 1 minute, else the device's own average over a minute or more (EOS: 1000 s); never
    the instant five_seconds (NX-OS)."""
    assert summarise({"status": "ok", "cpu": cpu})["cpu"] == trended
