# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers shared by the platform normalisers: YANG JSON in, plain values out.

Unknown is ``None``, never 0: a missing or unparseable leaf gives ``None``.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SECTIONS = ("identity", "config", "cpu", "memory", "storage", "interfaces", "environment",
            "neighbors", "arp", "licensing")
MIN_SECTIONS = ("identity",)
MASK = "********"
# what datetime.fromisoformat reads exactly as _TIME's parse does (hours 00-23, offsets within a day, at most
# 6 digits of fraction); every other form _TIME accepts (a space or comma, "z", "+0530", more digits) goes the long way
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT(?:[01]\d|2[0-3]):\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?",
                      re.ASCII)
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
    note: str | None = None   # the section's message when it is read: what the family cannot fill, and why

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
    no_content: str = "the feature is not running"   # what a 204 to a GET means on this family

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
    """The value of a one-member RESTCONF reply (``{"mod:node": value}`` → value).

    An ``xmlns`` member beside it (NX-OS puts its XML namespace into JSON objects) is not a member.
    """
    if isinstance(document, dict):
        members = [v for k, v in document.items() if k != "xmlns"]
        if len(members) == 1:
            return members[0]
    return document


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text(value: Any) -> str | None:
    """A string leaf with the padding devices add stripped; empty is unknown."""
    if type(value) is str:   # pylint: disable=unidiomatic-typecheck  # exactly str: the common case first
        return value.strip() or None
    if value is None or isinstance(value, (dict, list)):
        return None
    out = str(value).strip()
    return out or None


INT_MIN, INT_MAX = -(1 << 63), (1 << 64) - 1   # YANG's widest integers: int64 and uint64


def to_int(value: Any) -> int | None:
    """Numbers and numeric strings alike (RFC 7951 sends 64-bit integers as strings).

    A value no YANG integer can hold is not a reading: unknown.
    """
    kind = type(value)
    if kind is int:   # the common cases first: a plain number, then a 64-bit one sent as a string
        return value if INT_MIN <= value <= INT_MAX else None
    if kind is str and len(value) <= 40:
        try:
            number = int(value)   # int() ignores the padding strip() would remove
        except ValueError:
            pass
        else:
            return number if INT_MIN <= number <= INT_MAX else None
    if isinstance(value, int):   # a bool, or an int subclass
        return value if INT_MIN <= value <= INT_MAX and not isinstance(value, bool) else None
    if value is None or isinstance(value, (dict, list)):
        return None
    text_value = str(value).strip()
    if len(text_value) > 40:
        return None
    try:
        number = int(text_value)
    except ValueError:
        as_float = to_float(value)
        number = int(as_float) if as_float is not None else None
    return number if number is not None and INT_MIN <= number <= INT_MAX else None


def to_float(value: Any) -> float | None:
    """A finite number (``inf`` and ``nan`` from a device are unknown, not readings)."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None
    text_value = str(value).strip()
    if len(text_value) > 40:
        return None
    try:
        number = float(text_value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_time(value: Any) -> dt.datetime | None:
    """RFC 3339 with or without fractions, ``Z`` or an offset; no zone means UTC."""
    # the common form, exactly a str: datetime's own parser, 20x faster
    if type(value) is str and _RFC3339.fullmatch(value):   # pylint: disable=unidiomatic-typecheck
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:   # a day, hour or second out of range
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    match = _TIME.match(str(value).strip()) if value else None
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tz = dt.UTC
    try:
        if zone and zone.upper() != "Z":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))   # within a day
        return dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz)
    except ValueError:
        return None


def iso(moment: dt.datetime | None) -> str | None:
    """UTC, milliseconds, with the zone shown: ``2026-11-29T10:26:37.123Z``."""
    if moment is None:
        return None
    if moment.tzinfo is not dt.UTC:
        moment = moment.astimezone(dt.UTC)
    # isoformat(timespec="milliseconds") less its "+00:00", written out: a third of its cost
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (moment.year, moment.month, moment.day, moment.hour,  # noqa: UP031
                                                    moment.minute, moment.second, moment.microsecond // 1000)


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


# Sensor states by meaning. Devices say the same thing many ways: IOS XE "Norm", "Normal", "GOOD",
# "Shut", "Not Present", "Minor", "Major", "Fail"; RFC 8348 ok / unavailable / nonoperational.
SENSOR_STATES = {
    "normal": ("normal", "norm", "ok", "good", "green", "healthy", "nominal", "on", "up", "fine", "online",
               "active"),
    "inactive": ("shut", "shutdown", "off", "not present", "notpresent", "absent", "standby", "na", "n/a",
                 "unavailable", "disabled", "empty", "powered off", "power off", "not installed", "inactive"),
    "warning": ("warning", "warn", "minor", "yellow", "degraded", "high", "low", "elevated"),
    "critical": ("critical", "crit", "major", "red", "alarm", "danger"),
    "failed": ("fail", "failed", "failure", "faulty", "fault", "bad", "down", "error", "nonoperational",
               "non operational", "not ok", "dead"),
}
_STATE_CLASS = {word: meaning for meaning, words in SENSOR_STATES.items() for word in words}
ALERTING_STATES = ("warning", "critical", "failed")   # states that alert by themselves
THRESHOLD_NAMES = ("low_critical", "low_normal", "high_normal", "high_critical")


def state_class(state: Any) -> str:
    """What a sensor's state means: normal, inactive, warning, critical, failed, or unknown."""
    if not isinstance(state, str) or not state.strip():
        return "unknown"
    key = " ".join(state.strip().lower().replace("_", " ").replace("-", " ").split())
    return _STATE_CLASS.get(key, "unknown")


def sensor_thresholds(low_critical: Any, low_normal: Any, high_normal: Any, high_critical: Any) -> dict:
    """A sensor's own thresholds; all zero is IOS XE's way of saying it has none (then all unknown)."""
    values = dict(zip(THRESHOLD_NAMES, (to_float(v) for v in (low_critical, low_normal, high_normal, high_critical)),
                      strict=True))
    if all(not v for v in values.values()):
        return dict.fromkeys(THRESHOLD_NAMES)
    return values


def reading_level(reading: float | None, thresholds: dict) -> str | None:
    """critical / warning when a reading leaves its sensor's critical / normal band; None inside or unknown."""
    if reading is None:
        return None
    t = {name: thresholds.get(name) for name in THRESHOLD_NAMES}
    if (t["high_critical"] is not None and reading >= t["high_critical"]) or \
            (t["low_critical"] is not None and reading <= t["low_critical"]):
        return "critical"
    if (t["high_normal"] is not None and reading > t["high_normal"]) or \
            (t["low_normal"] is not None and reading < t["low_normal"]):
        return "warning"
    return None


def sensor_alert(state: str | None, reading: float | None, thresholds: dict) -> bool:
    """Alerting when the state means trouble, or when a sensor in use leaves its own normal band.

    A sensor without thresholds never alerts on its reading, and an inactive one (a power supply
    that is shut or not present) not at all, whatever it reads.
    """
    meaning = state_class(state)
    if meaning in ALERTING_STATES:
        return True
    return meaning != "inactive" and reading_level(reading, thresholds) is not None


def sensor(name, location, unit, reading: float | None, state: str | None, thresholds: dict) -> dict:
    """One environment sensor of the record, whatever model it came from."""
    return {"name": text(name), "location": text(location), "kind": sensor_kind(unit), "reading": reading,
            "unit": text(unit), "state": state, "state_class": state_class(state), "thresholds": thresholds,
            "alert": sensor_alert(state, reading, thresholds)}


def mask_secret(value: Any) -> str | None:
    return None if value is None else MASK
