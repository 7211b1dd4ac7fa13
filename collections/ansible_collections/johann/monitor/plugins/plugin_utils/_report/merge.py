# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Partial runs keep the fleet: the previous report's devices that are not in this run, with their age.

A run over part of the inventory (``--limit``, ``-e target=core``; one slice of a sliced job)
reads only some devices. ``merge`` takes the previous report's records (its ``fleet.json``,
read and checked by ``read_previous``), this run's records and the time, and returns the
records of the new report: every host of this run with its new record (whatever its status),
and every other device of the previous report with its last known record, marked as carried
over with its age. A carried device older than ``stale_after`` is stale; one older than
``forget_after`` leaves the report (a device removed from the inventory leaves after that
time, not on the next partial run).

The age counts from the device's last read (its record's ``polled_at``), never later than
the last run that had the host (``seen``, kept in fleet.json; the previous report's
``generated_at`` when fleet.json has none): a record cannot be newer than the report that
held it, so a ``polled_at`` in the future (a skewed clock) cannot keep a device forever.

Pure apart from ``read_previous``: no templates, no Ansible. Merging the slices of a sliced
job is the same call with the other slices' records as ``previous``.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible_collections.johann.monitor.plugins.plugin_utils._report import records as recs
from ansible_collections.johann.monitor.plugins.plugin_utils._report import shape

FLEET_SCHEMA = 1   # fleet.json's "schema" (render.py writes it)
STALE_AFTER = 3600   # seconds: four missed runs of a 15-minute schedule, or one missed hourly run
FORGET_AFTER = 7 * 86400   # seconds: a device off the inventory leaves within a week, after a weekend's outage


@dataclass(frozen=True)
class Limits:
    """Seconds after its last read that a carried device is stale, and leaves the report."""
    stale_after: float = STALE_AFTER
    forget_after: float = FORGET_AFTER

    def __post_init__(self) -> None:
        for name in ("stale_after", "forget_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number of seconds, 0 or more, not {value!r}")


@dataclass
class Merged:
    """The new report's records and what the merge did.

    ``carried``: host -> ``{"last_read": ISO time, "age": seconds (0 or more), "stale": bool,
    "clock_skew": bool (the stored time was in the future), "stale_after": seconds}``;
    ``seen``: host -> when it was last in a run (ISO), for the next fleet.json;
    ``forgotten``: host -> age in seconds (carried longer than forget_after: left out);
    ``renamed``: old host -> new host (the same device, read in this run under another name: left out).
    """
    records: dict[str, dict | None]
    carried: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)
    forgotten: dict[str, int] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)


def parse_time(text: Any) -> dt.datetime | None:
    """An ISO 8601 time (``...Z``, an offset, or none: UTC) as an aware datetime, else None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def check_previous(data: Any) -> tuple[dict | None, str | None]:
    """A previous fleet.json's content, checked: (fleet, None), or (None, why it cannot be carried over)."""
    if not isinstance(data, dict) or not isinstance(data.get("devices"), Mapping) or "schema" not in data:
        return None, "it is not a johann.monitor fleet.json (no 'schema' and 'devices')"
    if data["schema"] != FLEET_SCHEMA:
        return None, f"its schema is {data['schema']!r}, this collection reads schema {FLEET_SCHEMA}"
    if parse_time(data.get("generated_at")) is None:
        return None, "its generated_at is not a time"
    if "seen" in data and not isinstance(data["seen"], dict):
        return None, "its seen is not a mapping"
    return data, None


def read_previous(path: Path) -> tuple[dict | None, str | None]:
    """The previous report's stored records: (fleet, None); (None, None) when there are none; (None, warning).

    ``path``: the report directory or its fleet.json.gz; a fleet.json of an earlier version is read too
    (records.stored_fleet: the newer of the two when both are there). The devices of a fleet.json.gz are
    read from the file when merged (records.read_fleet), a device at a time."""
    path = recs.stored_fleet(path)
    try:
        data = recs.read_fleet(path)
    except FileNotFoundError:
        return None, None
    except json.JSONDecodeError as exc:
        return None, f"the previous report's {path} is not valid JSON ({exc}); devices not in this run are left out"
    except (OSError, ValueError) as exc:
        return None, f"the previous report's {path} cannot be read ({exc}); devices not in this run are left out"
    fleet, why = check_previous(data)
    if fleet is None:
        return None, f"the previous report's {path} cannot be carried over: {why}; devices not in this run are left out"
    return fleet, None


def _unique_identities(identities: Iterable[tuple[str, tuple | None]]) -> dict[tuple, str]:
    """Identity -> host, for the identities only one host has (shared serials and addresses prove nothing)."""
    found: dict[tuple, list[str]] = {}
    for host, key in identities:
        if key is not None:
            found.setdefault(key, []).append(host)
    return {key: hosts[0] for key, hosts in found.items() if len(hosts) == 1}


def _previous_records(devices: Mapping, current: Mapping) -> tuple[dict[str, Any], dict[tuple, str]]:
    """The previous report's records of the hosts not in this run (the candidates to carry over), and the
    identities only one of its hosts has. A stored report (records.StoredDevices) is read a device at a time:
    its candidates are kept compressed (records.Lazy.packed); nothing is parsed when there are none."""
    if not isinstance(devices, recs.StoredDevices):
        return ({h: r for h, r in devices.items() if h not in current},
                _unique_identities((h, recs.identity(r)) for h, r in devices.items()))
    if all(host in current for host in devices):
        return {}, {}
    candidates: dict[str, Any] = {}
    identities = []
    for host, text in devices.raw_items():
        try:
            record = json.loads(text)
        except ValueError:
            record = text   # not JSON: left out, as any record that is not a mapping
        identities.append((host, recs.identity(record)))
        if host not in current:
            candidates[host] = recs.Lazy.packed(host, text, record) if isinstance(record, dict) else record
    return candidates, _unique_identities(identities)


def merge(previous: dict | None, current: dict[str, dict | None], now: dt.datetime,
          limits: Limits | None = None) -> Merged:
    """The records of the new report: ``current`` (this run's hosts -> completed record or None), then
    every device of ``previous`` (a checked fleet.json, or None) that is not in it, carried over.

    A carried device whose serial, address and port are those of a device of this run is the same
    device under a new name (a host renamed in the inventory): it is left out, listed in ``renamed``;
    only when no other host of either report has them (lab and proxy setups share addresses and serials).
    """
    limits = limits or Limits()
    now = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    stamp = iso(now)
    merged = Merged(records=dict(current), seen={host: stamp for host in current})
    if not previous:
        return merged
    held_at = parse_time(previous.get("generated_at")) or now
    seen = previous.get("seen") if isinstance(previous.get("seen"), dict) else {}
    candidates, before = _previous_records(previous["devices"], current)
    identities = _unique_identities((h, recs.identity(r)) for h, r in current.items()) if candidates else {}
    for host, record in sorted(candidates.items(), key=lambda item: str(item[0])):
        if not isinstance(host, str) or not host or not (record is None or isinstance(record, (dict, recs.Lazy))):
            continue
        key = recs.identity(record)
        new_name = identities.get(key) if key is not None and before.get(key) == host else None
        if new_name is not None:
            merged.renamed[host] = new_name
            continue
        last_in_run = min(parse_time(seen.get(host)) or held_at, held_at)
        polled = parse_time(_polled_at(record))
        last_read = min(polled, last_in_run) if polled else last_in_run
        age = (now - last_read).total_seconds()
        if age > limits.forget_after:
            merged.forgotten[host] = int(age)
            continue
        merged.records[host] = record if record is None or isinstance(record, recs.Lazy) else shape.complete(record, host)
        merged.seen[host] = iso(last_in_run)
        merged.carried[host] = {"last_read": iso(last_read), "age": max(0, int(age)),
                                "stale": age > limits.stale_after,
                                "clock_skew": age < 0 or bool(polled and polled > last_in_run),
                                "stale_after": limits.stale_after}
    return merged


def _polled_at(record: Any) -> Any:
    """When a carried record was read (its polled_at), without keeping it: a Lazy is read and let go."""
    if isinstance(record, recs.Lazy) and record.polled_at is not recs.MISSING:
        return record.polled_at
    record = recs.load(record)
    return record.get("polled_at") if isinstance(record, dict) else None
