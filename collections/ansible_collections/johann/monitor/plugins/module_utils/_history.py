# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run history: the compact summary kept per device and run, and what two summaries tell.

Pure functions. ``summarise`` shrinks a device record to what trends need
(a few hundred bytes per device instead of tens of kilobytes); ``rates``
turns two summaries into per-interface rates, handling 32-bit wraps and
counter resets at reboot; ``changes`` names what happened between two runs.
Rates never go negative and never exceed what the interface can carry: an
interval where that would happen gives ``None`` with the reason.
"""
from __future__ import annotations

from typing import Any

from ansible_collections.johann.monitor.plugins.module_utils._alerts import cpu_load
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import parse_time

SUMMARY_SCHEMA = 2   # 2: interfaces as rows (see summarise)
REBOOT_SLACK = 2.0   # seconds of disagreement between boot-time readings that is not a reboot
MARGIN = 1.05        # a rate may exceed the nominal speed by this much (framing, clock skew)


def _max_temperature(record: dict) -> float | None:
    readings = [s["reading"] for s in record.get("environment") or []
                if s.get("kind") == "temperature" and s.get("reading") is not None]
    return max(readings) if readings else None


def summarise(record: dict) -> dict[str, Any]:
    """The compact per-run summary of one device record (cpu: the figure alerts use, _alerts.cpu_load)."""
    identity = record.get("identity") or {}
    cpu = cpu_load(record.get("cpu"))
    interfaces = {}
    for i in record.get("interfaces") or []:
        c, widths = i.get("counters") or {}, i.get("counter_widths") or {}
        narrow = sum(bit for bit, counter in ((1, "in_octets"), (2, "out_octets"), (4, "in_errors"))
                     if widths.get(counter, 64) == 32)
        interfaces[i["name"]] = [c.get("in_octets"), c.get("out_octets"), c.get("in_errors"),
                                 1 if i.get("oper_status") == "up" else 0, i.get("speed"), narrow]
    neighbors = record.get("neighbors") or {}
    return {
        "schema": SUMMARY_SCHEMA, "status": record.get("status"), "polled_at": record.get("polled_at"),
        "time": identity.get("current_time") or record.get("polled_at"), "boot_time": identity.get("boot_time"),
        "version": identity.get("os_version_full") or identity.get("os_version"),
        "cpu": cpu.value if cpu else None, "memory": (record.get("memory") or {}).get("used_percent"),
        "temperature": _max_temperature(record), "alerts": len(record.get("alerts") or []),
        "neighbors": sorted({n["device"] for proto in ("cdp", "lldp") for n in neighbors.get(proto) or []
                             if n.get("device")}),
        "interfaces": interfaces,
    }


def interface(entry: list | dict) -> dict[str, Any]:
    """One interface of a summary as a dict. Summaries keep rows, ``[in, out, err, up, speed, narrow]``
    (``narrow``: bit 1, 2, 4 for a 32-bit in, out, error counter), to stay small: about 3 kB
    per device and run, which ARA stores and the report reads back 30 times."""
    if isinstance(entry, dict):
        return entry
    in_octets, out_octets, errors, up, speed, narrow = entry
    return {"in": in_octets, "out": out_octets, "err": errors, "up": bool(up), "speed": speed,
            "w_in": 32 if narrow & 1 else 64, "w_out": 32 if narrow & 2 else 64, "w_err": 32 if narrow & 4 else 64}


def _seconds(a: str | None, b: str | None) -> float | None:
    start, end = parse_time(a), parse_time(b)
    return (end - start).total_seconds() if start and end else None


def rebooted(previous: dict, current: dict) -> bool:
    """A new boot time (beyond reading jitter) between two runs."""
    moved = _seconds(previous.get("boot_time"), current.get("boot_time"))
    return moved is not None and moved > REBOOT_SLACK


def _delta(before: int | None, after: int | None, width: int) -> tuple[int | None, str | None]:
    if before is None or after is None:
        return None, "counter unknown"
    if after >= before:
        return after - before, None
    if width == 32:
        # one wrap; more than one within an interval cannot be seen (keep intervals short on 32-bit counters)
        return after + 2 ** 32 - before, None
    return None, "counter went backwards without a reboot (cleared?)"


def _rate(before, after, width, seconds, limit_bps, bits: bool) -> tuple[float | None, str | None]:
    delta, why = _delta(before, after, width)
    if delta is None:
        return None, why
    rate = delta * (8 if bits else 1) / seconds
    if bits and limit_bps and rate > limit_bps * MARGIN:
        return None, f"implausible: {rate:.0f} bit/s on a {limit_bps} bit/s interface"
    return rate, None


def rates(previous: dict, current: dict) -> dict[str, Any]:
    """Per-interface rates between two summaries of one device.

    After a reboot the counters restarted from zero at boot, so the rate is
    taken over the time since boot instead of since the previous run.
    """
    seconds = _seconds(previous.get("time"), current.get("time"))
    reboot = rebooted(previous, current)
    if reboot:
        seconds = _seconds(current.get("boot_time"), current.get("time"))
    if not seconds or seconds <= 0:
        return {"seconds": seconds, "rebooted": reboot, "interfaces": {}, "reason": "no time between the runs"}
    out = {}
    for name, row in current.get("interfaces", {}).items():
        now = interface(row)
        before = {"in": 0, "out": 0, "err": 0} if reboot else previous.get("interfaces", {}).get(name)
        if before is None:
            continue
        before = interface(before)
        in_bps, why_in = _rate(before.get("in"), now.get("in"), now.get("w_in", 64), seconds, now.get("speed"), True)
        out_bps, why_out = _rate(before.get("out"), now.get("out"), now.get("w_out", 64), seconds, now.get("speed"),
                                 True)
        errors, why_err = _rate(before.get("err"), now.get("err"), now.get("w_err", 64), seconds, None, False)
        out[name] = {"in_bps": in_bps, "out_bps": out_bps, "errors_per_s": errors,
                     "reasons": [r for r in (why_in, why_out, why_err) if r]}
    return {"seconds": seconds, "rebooted": reboot, "interfaces": out, "reason": None}


def changes(previous: dict, current: dict) -> list[dict[str, str]]:
    """What happened between two runs, in words for the report."""
    found = []
    ok = ("ok", "degraded")
    if previous.get("status") in ok and current.get("status") not in ok:
        found.append({"kind": "went_down", "text": f"became {current.get('status')}"})
    elif previous.get("status") not in ok and current.get("status") in ok:
        found.append({"kind": "came_back", "text": f"answers again (was {previous.get('status')})"})
    if rebooted(previous, current):
        found.append({"kind": "rebooted", "text": f"rebooted at {current.get('boot_time')}"})
    if previous.get("version") and current.get("version") and previous["version"] != current["version"]:
        found.append({"kind": "version", "text": f"software {previous['version']} -> {current['version']}"})
    before, after = set(previous.get("neighbors") or []), set(current.get("neighbors") or [])
    for name in sorted(after - before):
        found.append({"kind": "neighbor_new", "text": f"new neighbour {name}"})
    for name in sorted(before - after):
        found.append({"kind": "neighbor_lost", "text": f"lost neighbour {name}"})
    old_if, new_if = previous.get("interfaces") or {}, current.get("interfaces") or {}
    for name in sorted(set(old_if) & set(new_if)):
        was_up, is_up = interface(old_if[name]).get("up"), interface(new_if[name]).get("up")
        if was_up and not is_up:
            found.append({"kind": "interface_down", "text": f"{name} went down"})
        elif not was_up and is_up:
            found.append({"kind": "interface_up", "text": f"{name} came up"})
    return found
