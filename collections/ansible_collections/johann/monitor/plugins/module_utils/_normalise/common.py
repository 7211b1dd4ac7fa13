# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers shared by the platform normalisers: YANG JSON in, plain values out.

Unknown is ``None``, never 0: a missing or unparseable leaf gives ``None``.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SECTIONS = ("identity", "config", "cpu", "memory", "storage", "interfaces", "environment",
            "neighbors", "arp", "licensing")
MIN_SECTIONS = ("identity",)
MASK = "********"
_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?\s*(Z|[+-]\d\d:?\d\d)?$", re.I)


@dataclass(frozen=True)
class Resource:
    """One GET a platform makes: ``{root}/data/{path}`` if ``module`` is implemented."""
    key: str
    path: str
    module: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    """A part of the record, built from the data of some resources.

    ``build`` receives ``{resource key: data or None}`` for every resource of
    the section and returns the section's value.  ``optional`` resources
    enrich the section when they answer; their failure does not make the
    section fail.
    """
    name: str
    resources: tuple[str, ...]
    build: Callable[[dict, dict], Any]
    optional: tuple[str, ...] = ()

    @property
    def reads(self) -> tuple[str, ...]:
        return self.resources + self.optional


@dataclass(frozen=True)
class Platform:
    name: str
    vendor: str
    detect: Callable[[set], bool]
    resources: tuple[Resource, ...]
    sections: tuple[Section, ...]

    def resource(self, key: str) -> Resource:
        return next(r for r in self.resources if r.key == key)


def member(data: Any, *names: str) -> Any:
    """Walk containers by local name, ignoring RFC 7951 module prefixes; None if absent."""
    for name in names:
        if not isinstance(data, dict):
            return None
        if name in data:
            data = data[name]
            continue
        data = next((v for k, v in data.items() if k.rsplit(":", 1)[-1] == name), None)
    return data


def unwrap(document: Any) -> Any:
    """The value of a one-member RESTCONF reply (``{"mod:node": value}`` → value)."""
    if isinstance(document, dict) and len(document) == 1:
        return next(iter(document.values()))
    return document


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text(value: Any) -> str | None:
    """A string leaf with the padding devices add stripped; empty is unknown."""
    if value is None or isinstance(value, (dict, list)):
        return None
    out = str(value).strip()
    return out or None


def to_int(value: Any) -> int | None:
    """Numbers and numeric strings alike (RFC 7951 sends 64-bit integers as strings)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        number = to_float(value)
        return int(number) if number is not None else None


def to_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def parse_time(value: Any) -> dt.datetime | None:
    """RFC 3339 with or without fractions, ``Z`` or an offset; no zone means UTC."""
    match = _TIME.match(str(value).strip()) if value else None
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tz = dt.UTC
    if zone and zone.upper() != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz)
    except ValueError:
        return None


def iso(moment: dt.datetime | None) -> str | None:
    """UTC, milliseconds, with the zone shown: ``2026-11-29T10:26:37.123Z``."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seconds_between(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds())


def prefix_length(netmask: str | None) -> int | None:
    try:
        return ipaddress.IPv4Network(f"0.0.0.0/{netmask}").prefixlen
    except (ValueError, TypeError):
        return None


def ipv4_entry(address: Any, netmask: Any = None, length: Any = None) -> dict | None:
    address = text(address)
    if not address or address == "0.0.0.0":
        return None
    mask = text(netmask)
    plen = to_int(length) if length is not None else prefix_length(mask)
    if mask is None and plen is not None:
        mask = str(ipaddress.IPv4Network(f"0.0.0.0/{plen}").netmask)
    return {"address": address, "netmask": mask, "prefix_length": plen}


def percent(part: int | float | None, whole: int | float | None) -> float | None:
    if part is None or not whole:
        return None
    return round(100.0 * part / whole, 1)


def sensor_kind(unit: str | None) -> str:
    unit = (unit or "").lower()
    if "celsius" in unit or unit in ("c", "degc"):
        return "temperature"
    if "rpm" in unit or "revolution" in unit:
        return "fan"
    if "watt" in unit:
        return "power"
    if "volt" in unit:
        return "voltage"
    if "amp" in unit:
        return "current"
    return "other"


NORMAL_STATES = {"normal", "norm", "ok", "good", "green", "healthy"}


def sensor_alert(state: str | None, reading: float | None, thresholds: dict) -> bool:
    """Alerting when the device says so, or when the reading leaves the normal band."""
    if state and state.strip().lower() not in NORMAL_STATES:
        return True
    if reading is None:
        return False
    high, low = thresholds.get("high_normal"), thresholds.get("low_normal")
    return (high is not None and reading > high) or (low is not None and reading < low)


def sensor(name, location, unit, reading: float | None, state: str | None, thresholds: dict) -> dict:
    """One environment sensor of the record, whatever model it came from."""
    return {"name": text(name), "location": text(location), "kind": sensor_kind(unit), "reading": reading,
            "unit": text(unit), "state": state, "thresholds": thresholds,
            "alert": sensor_alert(state, reading, thresholds)}


def mask_secret(value: Any) -> str | None:
    return None if value is None else MASK
