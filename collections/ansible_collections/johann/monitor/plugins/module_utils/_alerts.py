# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thresholds: which readings of a device record call for attention.

Pure functions over a device record. ``device_info`` evaluates them when it reads a
device, with that host's thresholds, and attaches the alerts to the record it returns;
the report, the run's summary in ARA and the exports show those (one evaluation).
"""
from __future__ import annotations

from typing import Any, NamedTuple

from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import (
    THRESHOLD_NAMES,
    reading_level,
    sensor_thresholds,
    state_class,
)

DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {
    "cpu_percent": {"warning": 80.0, "critical": 95.0},          # an average of a minute or more: cpu_load
    "memory_percent": {"warning": 85.0, "critical": 95.0},       # processor pool used
    "storage_percent": {"warning": 85.0, "critical": 95.0},      # any partition used
    "temperature_celsius": {"warning": 60.0, "critical": 75.0},  # sensors without thresholds of their own
    "interface_error_ratio": {"warning": 0.0001, "critical": 0.01},  # input errors per input packet since reset
}
MIN_ERRORS = 10   # fewer errors than this never alert, whatever the ratio
MIN_CPU_AVERAGE_SECONDS = 60   # a device's own CPU average over less than this is too jumpy to alert on


class ThresholdError(ValueError):
    """Thresholds that cannot be used, with what to fix."""


def merge_thresholds(overrides: dict | None) -> dict[str, dict[str, float]]:
    """Defaults with the user's overrides; refuses unknown names and non-numbers."""
    merged = {name: dict(levels) for name, levels in DEFAULT_THRESHOLDS.items()}
    for name, levels in (overrides or {}).items():
        if name not in merged:
            raise ThresholdError(f"unknown threshold {name!r}; known: {', '.join(DEFAULT_THRESHOLDS)}")
        if not isinstance(levels, dict):
            raise ThresholdError(f"threshold {name} must be a mapping of warning/critical levels")
        for level, value in levels.items():
            if level not in ("warning", "critical"):
                raise ThresholdError(f"threshold {name}: level {level!r} is not warning or critical")
            try:
                merged[name][level] = float(value)
            except (TypeError, ValueError):
                raise ThresholdError(f"threshold {name}.{level} must be a number, not {value!r}") from None
    return merged


def _level(value: float | None, levels: dict[str, float]) -> str | None:
    if value is None:
        return None
    if value >= levels["critical"]:
        return "critical"
    if value >= levels["warning"]:
        return "warning"
    return None


def _alert(kind: str, level: str, message: str, subject: str | None = None) -> dict[str, Any]:
    return {"kind": kind, "level": level, "subject": subject, "message": message}


class CpuLoad(NamedTuple):
    """The CPU figure alerts, trends and the fleet table use, and what it averages over."""
    value: float
    seconds: float   # the span of the average
    span: str        # the span in words: "5 minutes", "1 minute", "the device's 1000 s average"
    label: str       # the span in short: "5 min", "1 min", "1000 s avg"


def cpu_load(cpu: dict | None) -> CpuLoad | None:
    """The one rule for the CPU figure that alerts and trends read (None: the device gives none).

    The 5-minute average, else the 1-minute one, else the device's own average (``average``, OpenConfig's
    avg over ``average_seconds``: EOS averages over 1000 s) when it covers at least a minute. Never an
    instant reading (``five_seconds``, all NX-OS gives): it would alert on every spike.
    """
    cpu = cpu if isinstance(cpu, dict) else {}
    if cpu.get("five_minutes") is not None:
        return CpuLoad(cpu["five_minutes"], 300, "5 minutes", "5 min")
    if cpu.get("one_minute") is not None:
        return CpuLoad(cpu["one_minute"], 60, "1 minute", "1 min")
    value, seconds = cpu.get("average"), cpu.get("average_seconds")
    if value is None or isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not seconds >= MIN_CPU_AVERAGE_SECONDS:
        return None
    return CpuLoad(value, seconds, f"the device's {seconds:g} s average", f"{seconds:g} s avg")


def _cpu(record: dict, t: dict) -> list[dict]:
    load = cpu_load(record.get("cpu"))
    level = _level(load.value, t["cpu_percent"]) if load else None
    return [_alert("cpu", level, f"CPU {load.value}% over {load.span} (threshold {t['cpu_percent'][level]:g}%)")] \
        if level else []


def _memory(record: dict, t: dict) -> list[dict]:
    value = (record.get("memory") or {}).get("used_percent")
    level = _level(value, t["memory_percent"])
    return [_alert("memory", level, f"memory {value}% used (threshold {t['memory_percent'][level]:g}%)")] \
        if level else []


def _storage(record: dict, t: dict) -> list[dict]:
    out = []
    for part in (record.get("storage") or {}).get("partitions") or []:
        level = _level(part.get("used_percent"), t["storage_percent"])
        if level:
            out.append(_alert("storage", level, f"{part['name']} {part['used_percent']}% full", part.get("name")))
    return out


def _reading(sensor: dict, t: dict) -> str | None:
    """The level a reading calls for: against the sensor's own thresholds, else (temperatures only) the user's."""
    own = sensor.get("thresholds") or {}
    own = sensor_thresholds(*(own.get(name) for name in THRESHOLD_NAMES))   # records stored before zeros meant none
    if sensor.get("kind") == "temperature":   # the high side the device leaves open: the user's levels
        user = t["temperature_celsius"]
        if own["high_normal"] is None:
            own["high_normal"] = user["warning"] - 1e-9   # reading_level warns above high_normal; this is >=
        if own["high_critical"] is None:
            own["high_critical"] = user["critical"]
    return reading_level(sensor.get("reading"), own)   # a fan or power sensor without thresholds: never


def _sensor(sensor: dict, t: dict) -> dict | None:
    """A sensor alerts on a state that means trouble, or on a reading out of band while it is in use.

    States by meaning (module_utils/_normalise/common.py SENSOR_STATES): failed and critical are
    critical, warning is a warning; normal, inactive (shut, not present, standby) and unknown
    states never alert by themselves, and an inactive sensor's reading is not judged at all.
    """
    meaning = sensor.get("state_class") or state_class(sensor.get("state"))
    by_state = {"failed": "critical", "critical": "critical", "warning": "warning"}.get(meaning)
    by_reading = None if meaning == "inactive" else _reading(sensor, t)
    level = "critical" if "critical" in (by_state, by_reading) else by_state or by_reading
    if level is None:
        return None
    reading = sensor.get("reading")
    unit = "°C" if sensor.get("kind") == "temperature" else f" {sensor.get('unit') or ''}".rstrip()
    state = f", state {sensor['state']}" if sensor.get("state") else ""
    shown = "no reading" if reading is None else f"{reading:g}{unit}" if isinstance(reading, float) else \
        f"{reading}{unit}"
    return _alert("environment", level, f"{sensor.get('name')}: {shown}{state}", sensor.get("name"))


def _environment(record: dict, t: dict) -> list[dict]:
    return [a for a in (_sensor(s, t) for s in record.get("environment") or []) if a]


def error_ratio(interface: dict) -> float | None:
    counters = interface.get("counters") or {}
    errors = counters.get("in_errors")
    packets = sum(counters.get(k) or 0 for k in ("in_unicast_pkts", "in_multicast_pkts", "in_broadcast_pkts"))
    if errors is None or errors < MIN_ERRORS or not packets:
        return None
    return errors / packets


def _interfaces(record: dict, t: dict) -> list[dict]:
    out = []
    for interface in record.get("interfaces") or []:
        ratio = error_ratio(interface)
        level = _level(ratio, t["interface_error_ratio"])
        if level:
            errors = interface["counters"]["in_errors"]
            out.append(_alert("interface_errors", level,
                              f"{interface['name']}: {errors} input errors ({ratio:.3%} of packets)",
                              interface["name"]))
    return out


def evaluate(record: dict, thresholds: dict[str, dict[str, float]] | None = None) -> list[dict]:
    """Every alert of a device record, critical first."""
    t = thresholds or DEFAULT_THRESHOLDS
    alerts = _cpu(record, t) + _memory(record, t) + _storage(record, t) + _environment(record, t) \
        + _interfaces(record, t)
    return sorted(alerts, key=lambda a: a["level"] != "critical")
