# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape of a device record the report reads, and any record brought to it (``complete``).

The pages, the alerts and the history all read the record's sections deeply; one record
of another shape (a failed task, a result from something else registered under the
same name, a section of the wrong type) used to fail the whole report. ``RECORD`` says
every key the report reads and the type it reads; ``complete`` gives a record with all of
them, keeping what is usable and naming the cause in ``message`` (status ``error``), and
``blank`` the record of a host that has none. records.py turns results and stored reports
into records with these.

A healthy record is returned as it is (checked, not copied): the check is the cost of
reading a record once, about 0.1 ms per device.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import SECTIONS

STATUSES = ("ok", "degraded", "auth_failed", "unreachable", "error", "missing")
SHAPE = "the device_info result for this host has an unexpected shape"
MAX_PROBLEMS = 5
MAX_MESSAGE = 2000

# leaf kinds: None is always allowed; a value of another kind becomes None
STR, NUM, BOOL, ANY = "a string", "a number", "a boolean", "a scalar"
_TYPES = {STR: (str,), NUM: (int, float), BOOL: (bool,), ANY: (str, int, float, bool)}
_MISSING = object()   # a key a record does not have


class Fields:
    """A mapping with these keys (missing ones are added as None, or empty when not nullable).

    ``rest``: the kind of every other value (None: other keys are kept as they are)."""

    __slots__ = ("keys", "nullable", "rest", "leaves", "nested")

    def __init__(self, keys: dict, nullable: bool = False, rest: str | None = None) -> None:
        self.keys, self.nullable, self.rest = keys, nullable, rest
        # for the quick check of healthy records: leaf keys with their exact types, then the rest
        self.leaves = tuple((key, _TYPES[sub]) for key, sub in keys.items() if isinstance(sub, str))
        self.nested = tuple((key, sub) for key, sub in keys.items() if not isinstance(sub, str))


class Items(NamedTuple):
    """A list of ``of`` (items of another kind are dropped); None or missing is [] unless nullable."""
    of: Any
    nullable: bool = False


def _section(**keys: Any) -> Fields:
    return Fields(keys, nullable=True)


# the counters the pages, the exports and the alerts read (the others are kept as they are)
COUNTERS = Fields({name: NUM for name in ("in_octets", "out_octets", "in_errors", "in_crc_errors", "in_discards",
                                          "out_errors", "out_discards", "in_unicast_pkts", "in_multicast_pkts",
                                          "in_broadcast_pkts")})
SENSOR_LIMITS = Fields({name: NUM for name in ("low_critical", "low_normal", "high_normal", "high_critical")}, rest=NUM)
NEIGHBOR = Fields({"device": STR, "local_interface": ANY, "remote_interface": ANY, "platform": ANY, "address": ANY})
SECTION_STATE = Fields({"status": STR, "message": STR, "duration": NUM, "resources": Items(STR)})

RECORD = Fields({
    "schema": ANY, "host": STR, "address": ANY, "port": ANY, "status": STR, "message": STR, "platform": ANY,
    "restconf_root": ANY, "root_source": ANY, "polled_at": STR, "duration": NUM, "requests": ANY,
    "notes": Items(STR),
    "identity": _section(hostname=ANY, vendor=ANY, platform=ANY, model=ANY, serial=ANY, os_version=ANY,
                         os_version_full=ANY, software_version=ANY, rommon=ANY, uptime=NUM, boot_time=STR,
                         current_time=STR, last_reboot_reason=ANY, unsaved_config=ANY,
                         reload_history=Items(Fields({"time": STR, "reason": ANY}), nullable=True)),
    "config": _section(domain=ANY, default_gateway=ANY, name_servers=Items(ANY), ntp_servers=Items(ANY),
                       users=Items(Fields({"name": ANY, "privilege": ANY})),
                       snmp=Fields({"communities": Items(Fields({"name": ANY, "permission": ANY})),
                                    "groups": Items(ANY), "users": Items(ANY), "location": ANY}, nullable=True),
                       spanning_tree_mode=ANY, iox=ANY, boot_files=Items(ANY)),
    "cpu": _section(five_seconds=NUM, one_minute=NUM, five_minutes=NUM, average=NUM, average_seconds=NUM,
                    per_core=Items(Fields({"name": ANY, "user": NUM, "system": NUM, "idle": NUM}), nullable=True)),
    "memory": _section(used_percent=NUM, used=NUM, total=NUM, status=ANY),
    "storage": _section(partitions=Items(Fields({"name": ANY, "used_percent": NUM, "used": NUM, "total": NUM}),
                                         nullable=True),
                        images=Items(ANY, nullable=True)),
    "interfaces": Items(Fields({
        "name": STR, "description": ANY, "admin_status": ANY, "oper_status": ANY, "speed": NUM, "duplex": ANY,
        "mtu": ANY, "mac": ANY, "ipv4": Items(Fields({"address": ANY, "prefix_length": ANY})), "ipv6": Items(STR),
        "last_change": STR, "last_change_seconds_ago": NUM, "counters": COUNTERS,
        "counter_widths": Fields({}), "rates": Fields({"in_bps": NUM, "out_bps": NUM}),
        "flaps": NUM}), nullable=True),
    "environment": Items(Fields({"name": ANY, "location": ANY, "kind": ANY, "reading": NUM, "unit": ANY,
                                 "state": ANY, "thresholds": SENSOR_LIMITS, "alert": ANY}), nullable=True),
    "neighbors": _section(cdp=Items(NEIGHBOR, nullable=True), lldp=Items(NEIGHBOR, nullable=True)),
    "arp": Items(Fields({"vrf": ANY, "address": ANY, "mac": ANY, "interface": ANY, "type": ANY}), nullable=True),
    "licensing": _section(transport=ANY, cslu_url=ANY, policy=ANY, last_report=STR, next_report=STR,
                          udi=Fields({"pid": ANY, "serial": ANY}), usage=Items(Fields({"name": ANY, "count": ANY,
                                                                                       "status": ANY}))),
    "sections": Fields({name: SECTION_STATE for name in SECTIONS}),
    "alerts": Items(Fields({"kind": ANY, "level": ANY, "subject": ANY, "message": ANY})),
})


def kind_of(value: Any) -> str:
    """What a value is, in words (Ansible's tagged strings and lists are strings and lists)."""
    for types, word in ((type(None), "null"), (bool, "a boolean"), (str, "a string"), ((int, float), "a number"),
                        (Mapping, "a mapping"), (list, "a list")):
        if isinstance(value, types):
            return word
    return f"a {type(value).__name__}"


def _leaf_ok(value: Any, kind: str) -> bool:
    if kind == STR:
        return isinstance(value, str)
    if kind == NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == BOOL:
        return isinstance(value, bool)
    return isinstance(value, (str, int, float, bool))


def _empty(schema: Any) -> Any:
    """What a missing value is: None, or an empty list / a mapping of Nones the pages can read."""
    if isinstance(schema, Items):
        return None if schema.nullable else []
    if isinstance(schema, Fields):
        return None if schema.nullable else {key: _empty(sub) for key, sub in schema.keys.items()}
    return None


def _checker(schema: Any) -> Callable[[Any], bool]:
    """A function telling whether a value has the shape already: exact types, no copies, no messages.

    Compiled once from the schema: a healthy record is checked in about 0.1 ms per 30 interfaces."""
    if isinstance(schema, str):
        types = _TYPES[schema]
        return lambda value: value is None or type(value) in types
    if isinstance(schema, Items):
        return _list_checker(schema)
    return _mapping_checker(schema)


def _list_checker(schema: Items) -> Callable[[Any], bool]:
    nullable = schema.nullable
    if isinstance(schema.of, str):
        types = _TYPES[schema.of]
        return lambda value: nullable if value is None else isinstance(value, list) and all(
            item is None or type(item) in types for item in value)
    entry = _checker(schema.of)
    return lambda value: nullable if value is None else isinstance(value, list) and all(
        item is not None and entry(item) for item in value)


def _mapping_checker(schema: Fields) -> Callable[[Any], bool]:
    leaves, nullable = schema.leaves, schema.nullable
    nested = tuple((key, _checker(sub)) for key, sub in schema.nested)
    rest = _TYPES[schema.rest] if schema.rest is not None else None
    known = set(schema.keys)

    def check(value: Any) -> bool:
        if value is None:
            return nullable
        if not isinstance(value, dict):
            return False
        get = value.get
        for key, types in leaves:
            now = get(key, _MISSING)
            if now is not None and type(now) not in types:
                return False
        for key, sub in nested:
            if key not in value or not sub(value[key]):
                return False
        return rest is None or all(now is None or type(now) in rest or key in known for key, now in value.items())
    return check


_HEALTHY = _checker(RECORD)


def _conform(value: Any, schema: Any, path: str, problems: list[str]) -> Any:
    """``value`` in the shape of ``schema``: the same object when it already is, else a fixed copy."""
    if value is None:
        return _empty(schema)
    if isinstance(schema, Fields):
        return _fields(value, schema, path, problems)
    if isinstance(schema, Items):
        return _items(value, schema, path, problems)
    if _leaf_ok(value, schema):
        return value
    problems.append(f"{path} is {kind_of(value)}, not {schema}")
    return None


def _fields(value: Any, schema: Fields, path: str, problems: list[str]) -> Any:
    if not isinstance(value, Mapping):
        problems.append(f"{path} is {kind_of(value)}, not a mapping")
        return _empty(schema)
    fixed = None if isinstance(value, dict) else dict(value)
    for key, sub in schema.keys.items():
        now = value.get(key)
        good = _conform(now, sub, f"{path}.{key}", problems)
        if good is not now or key not in value:
            fixed = fixed if fixed is not None else dict(value)
            fixed[key] = good
    if schema.rest is not None:
        for key, now in value.items():
            if key not in schema.keys and now is not None and not _leaf_ok(now, schema.rest):
                problems.append(f"{path}.{key} is {kind_of(now)}, not {schema.rest}")
                fixed = fixed if fixed is not None else dict(value)
                fixed[key] = None
    return fixed if fixed is not None else value


def _fits(item: Any, schema: Any) -> bool:
    """Whether a list entry can be conformed at all (a mapping where one is expected...)."""
    if isinstance(schema, Fields):
        return isinstance(item, Mapping)
    return isinstance(schema, Items) == isinstance(item, list)


def _items(value: Any, schema: Items, path: str, problems: list[str]) -> Any:
    if not isinstance(value, list):
        problems.append(f"{path} is {kind_of(value)}, not a list")
        return _empty(schema)
    out, changed = [], False
    for number, item in enumerate(value):
        if item is None and not isinstance(schema.of, (Fields, Items)):
            out.append(None)   # an unknown value in a list of values (an NTP server without an address)
        elif item is None or not _fits(item, schema.of):
            problems.append(f"{path}[{number}] is {kind_of(item)}, not {_expected(schema.of)}")
            changed = True   # an entry of another kind is left out, the others are kept
        else:
            good = _conform(item, schema.of, f"{path}[{number}]", problems)
            changed = changed or good is not item
            out.append(good)
    return out if changed else value


def _expected(schema: Any) -> str:
    return "a mapping" if isinstance(schema, Fields) else "a list" if isinstance(schema, Items) else schema


def _listing(problems: list[str]) -> str:
    shown = "; ".join(p.lstrip(".") for p in problems[:MAX_PROBLEMS])
    return shown + (f"; and {len(problems) - MAX_PROBLEMS} more" if len(problems) > MAX_PROBLEMS else "")


def complete(record: Any, host: str) -> dict:
    """A record with every key the report reads; a record that needed fixing is an error that says why."""
    if not isinstance(record, Mapping):
        return blank(host, "error", f"{SHAPE}: the record is {kind_of(record)}, not a mapping")
    if _HEALTHY(record) and record["status"] in STATUSES and record["host"] is not None:
        return record
    problems: list[str] = []
    fixed = _conform(record, RECORD, "", problems)
    status = record.get("status")
    if fixed["status"] not in STATUSES and (status is None or isinstance(status, str)):
        problems.append(f"status is {status!r}, not one of {', '.join(STATUSES)}")
    if fixed["host"] is None:
        fixed = dict(fixed, host=host)
    if not problems:
        return fixed
    said = f"; device_info's own status: {status}" if isinstance(status, str) and status != "error" else ""
    said += f" ({fixed['message']})" if said and fixed["message"] else ""
    return dict(fixed, status="error", message=clip(f"{SHAPE}: {_listing(problems)}{said}"))


def clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


def blank(host: str, status: str, message: str) -> dict:
    """The record of a host device_info gave no record for: every key, nothing read, and why."""
    sections = {name: {"status": "skipped", "message": "not read", "duration": 0.0, "resources": []}
                for name in SECTIONS}
    return dict(_empty(RECORD), host=host, status=status, message=clip(message), sections=sections, notes=[], alerts=[])
