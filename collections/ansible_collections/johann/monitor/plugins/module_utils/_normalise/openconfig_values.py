# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every OpenConfig section reads: reply shapes and value types, as OpenConfig servers send them.

A reply wrapped in its target node or made of the node's children (EOS), a list bare or in its
container, identities with or without their module, 64-bit numbers as strings or numbers, times as
nanoseconds since the epoch or RFC 3339, ieeefloat32 as a number or base64 (openconfig.py and
openconfig_interfaces.py read replies with these).
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import re
import struct

from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import (
    as_list,
    member,
    parse_time,
    text,
    to_float,
    to_int,
)

_SPEED = re.compile(r"SPEED_(\d+(?:\.\d+)?)(MB|GB)$")
MIN_TICKS = 10 ** 15   # timeticks64 below this (before 1970-01-12 in nanoseconds) are no time: 0 is "never"


def local(value) -> str | None:
    """An identity or enumeration without its module: ``openconfig-platform-types:CPU`` → ``CPU``."""
    raw = text(value)
    return raw.rsplit(":", 1)[-1] if raw else None


def node(data, name: str) -> dict:
    """Container ``name`` of a reply, or the reply itself when the device answered the container's children."""
    inner = member(data, name)
    if isinstance(inner, dict):
        return inner
    return data if isinstance(data, dict) else {}


def entries(data, container: str, name: str) -> list[dict]:
    """List ``name``'s entries: the bare list (EOS answers a container's children), or in its container."""
    if isinstance(data, list):
        found = data
    else:
        found = member(data, name)
        found = member(data, container, name) if found is None else found
    return [e for e in as_list(found) if isinstance(e, dict)]


def moment(value) -> dt.datetime | None:
    """A timeticks64 (nanoseconds since the epoch; 0 is never) or an RFC 3339 date-and-time."""
    ticks = to_int(value)
    if ticks is None:
        return parse_time(value)
    if ticks < MIN_TICKS:
        return None
    try:
        return dt.datetime.fromtimestamp(ticks // 1000 / 1e6, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def speed_bits(identity) -> int | None:
    """An ETHERNET_SPEED identity in bit/s (``openconfig-if-ethernet:SPEED_10GB`` → 10000000000)."""
    match = _SPEED.search(text(identity) or "")
    if not match:
        return None
    number, unit = match.groups()
    return int(float(number) * (10 ** 6 if unit == "MB" else 10 ** 9))


def float32(value) -> float | None:
    """An ieeefloat32: a number, a numeric string, or RFC 7951's base64 of the four bytes."""
    number = to_float(value)
    if number is not None or not isinstance(value, str):
        return number
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    number = struct.unpack(">f", raw)[0] if len(raw) == 4 else None
    return round(number, 3) if number is not None and math.isfinite(number) else None


def ago(moment_: dt.datetime | None, now: dt.datetime | None) -> int | None:
    """Whole seconds from ``moment_`` to ``now`` (never negative); None when either is unknown."""
    if moment_ is None or now is None:
        return None
    return max(0, int((now - moment_).total_seconds()))
