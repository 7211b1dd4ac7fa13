# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whatever a host's device_info result is, a complete device record the report can show.

The pages, the alerts and the history all read the record's sections deeply; one record
of another shape (a failed task, a result from something else registered under the
same name, a section of the wrong type) used to fail the whole report. ``from_result``
turns any result into a record with every key the report reads, of the type it reads,
keeping what is usable and naming the cause in ``message`` (status ``error``, or
``unreachable`` / ``missing`` for Ansible's own unreachable and skipped results).

A healthy record is returned as it is (checked, not copied): the check is the cost of
reading a record once, about 0.1 ms per device.
"""
from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import SECTIONS

STATUSES = ("ok", "degraded", "auth_failed", "unreachable", "error", "missing")
FLEET_FILE = "fleet.json.gz"   # the stored records of a report: what render.py writes
OLD_FLEET_FILE = "fleet.json"   # what versions before it wrote (plain JSON): still read
SHAPE = "the device_info result for this host has an unexpected shape"
MAX_PROBLEMS = 5
MAX_MESSAGE = 2000

# leaf kinds: None is always allowed; a value of another kind becomes None
STR, NUM, BOOL, ANY = "a string", "a number", "a boolean", "a scalar"


_TYPES = {STR: (str,), NUM: (int, float), BOOL: (bool,), ANY: (str, int, float, bool)}
_MISSING = object()
MISSING = _MISSING   # a Lazy's polled_at when it was not given


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


def _kind(value: Any) -> str:
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
    problems.append(f"{path} is {_kind(value)}, not {schema}")
    return None


def _fields(value: Any, schema: Fields, path: str, problems: list[str]) -> Any:
    if not isinstance(value, Mapping):
        problems.append(f"{path} is {_kind(value)}, not a mapping")
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
                problems.append(f"{path}.{key} is {_kind(now)}, not {schema.rest}")
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
        problems.append(f"{path} is {_kind(value)}, not a list")
        return _empty(schema)
    out, changed = [], False
    for number, item in enumerate(value):
        if item is None and not isinstance(schema.of, (Fields, Items)):
            out.append(None)   # an unknown value in a list of values (an NTP server without an address)
        elif item is None or not _fits(item, schema.of):
            problems.append(f"{path}[{number}] is {_kind(item)}, not {_expected(schema.of)}")
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
        return blank(host, "error", f"{SHAPE}: the record is {_kind(record)}, not a mapping")
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
    return dict(fixed, status="error", message=_clip(f"{SHAPE}: {_listing(problems)}{said}"))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


def blank(host: str, status: str, message: str) -> dict:
    """The record of a host device_info gave no record for: every key, nothing read, and why."""
    sections = {name: {"status": "skipped", "message": "not read", "duration": 0.0, "resources": []}
                for name in SECTIONS}
    return dict(_empty(RECORD), host=host, status=status, message=_clip(message), sections=sections, notes=[], alerts=[])


MAX_PACKED = 256 * 1024 * 1024   # bytes a device_json_gz may inflate to: the largest reply a device may send, x4


def _unpacked(packed: Any) -> tuple[str | None, str | None]:
    """device_json_gz (base64 of gzip, result_format=json_gz) as the JSON text, or why it cannot be read."""
    if not isinstance(packed, str):
        return None, f"device_json_gz is {_kind(packed)}, not a string"
    try:
        inflater = zlib.decompressobj(wbits=31)   # gzip
        data = inflater.decompress(base64.b64decode(packed, validate=True), MAX_PACKED)
        if inflater.unconsumed_tail or not inflater.eof:
            return None, f"device_json_gz inflates to more than {MAX_PACKED} bytes, or is cut short"
        return data.decode("utf-8"), None
    except (ValueError, zlib.error) as exc:   # binascii.Error and UnicodeDecodeError are ValueErrors
        return None, f"device_json_gz is not base64 gzip of UTF-8 ({exc})"


def _parsed(result: Mapping) -> tuple[Any, str | None]:
    """The record inside a result (device_json_gz or device_json first, else device) and what was wrong."""
    text, problem = result.get("device_json"), None
    if "device_json_gz" in result:
        text, problem = _unpacked(result["device_json_gz"])
    if text is not None:
        if not isinstance(text, str):
            problem = f"device_json is {_kind(text)}, not a JSON string"
        else:
            try:
                record = json.loads(text)
            except ValueError as exc:
                problem = f"device_json is not valid JSON ({exc})"
            else:
                if isinstance(record, dict):
                    return record, None
                problem = f"device_json holds {_kind(record)}, not an object"
    device = result.get("device")
    if isinstance(device, Mapping):
        return device, problem
    if device is not None:
        problem = problem or f"device is {_kind(device)}, not a mapping"
    return None, problem


def timed_out(result: Any) -> bool:
    """Whether Ansible's task timeout ended the task (its result then has ``timedout``)."""
    return isinstance(result, Mapping) and isinstance(result.get("timedout"), Mapping)


def _period(result: Mapping) -> str:
    period = result["timedout"].get("period")
    return f" after {period:g} s" if isinstance(period, (int, float)) and not isinstance(period, bool) else ""


def _failure(host: str, result: Mapping) -> dict | None:
    """The record of a task that ended without a record of the device: unreachable, timed out, failed."""
    msg = str(result.get("msg") or "no message").strip()
    if result.get("unreachable"):
        return blank(host, "unreachable", f"the device_info task could not run, Ansible found the host "
                                          f"unreachable: {msg}")
    if timed_out(result):
        return blank(host, "error", f"the device_info task timed out{_period(result)} (Ansible's task timeout, "
                                    f"a backstop above the device's deadline: the read did not end in time)")
    if result.get("failed") or result.get("exception"):
        return blank(host, "error", f"the device_info task failed: {msg}")
    return None


def from_result(host: str, result: Any) -> dict | None:
    """The complete record of one host's device_info result (as registered), whatever its shape.

    None when there is no result at all (the host never ran the task): the report shows it
    as having no record.
    """
    if result is None:
        return None
    if not isinstance(result, Mapping):
        return blank(host, "error", f"{SHAPE}: it is {_kind(result)}, not a mapping")
    if result.get("skipped"):
        reason = result.get("skip_reason")
        return blank(host, "missing", "the device_info task was skipped for this host"
                     + (f" ({reason})" if reason else ""))
    record, problem = _parsed(result)
    if record is None:
        return _failure(host, result) or blank(host, "error", f"{SHAPE}: {problem or 'it has no device record'}")
    fixed = complete(record, host)
    if problem:
        message = f"{SHAPE}: {problem}; the summary in device is shown"
        return dict(fixed, status="error", message=_clip(message + (f" ({fixed['message']})" if fixed["message"]
                                                                    else "")))
    return fixed


def stored_fleet(path: Path) -> Path:
    """The file of stored records to read for ``path``: a report directory, or its fleet.json.gz or fleet.json.

    The two names are one report's records in two formats (fleet.json from an earlier version): the newer
    file of the two is read, fleet.json.gz when they are as old. Any other file name is read as it is."""
    if path.is_dir():
        names = [path / FLEET_FILE, path / OLD_FLEET_FILE]
    elif path.name in (FLEET_FILE, OLD_FLEET_FILE):
        names = [path.with_name(FLEET_FILE), path.with_name(OLD_FLEET_FILE)]
    else:
        return path
    found = []
    for number, name in enumerate(names):
        try:
            found.append((name.stat().st_mtime_ns, -number, name))
        except OSError:
            continue
    return max(found)[2] if found else names[0]


def read_stored(path: Path) -> str:
    """The JSON text of stored records: gzip-compressed (by its magic bytes, whatever the name) or plain.

    Raises OSError (cannot read), ValueError (not gzip data after all, truncated, not UTF-8)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"it is not whole gzip data ({exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"it is not UTF-8 text ({exc})") from None


# ---------------------------------------------------------------- records read when they are rendered

class Lazy:
    """A host's record, read when it is rendered (in the page writer that renders it), never all at once.

    ``load`` gives the completed record (or None: no result). ``identity()`` is what merge.py compares to find
    a renamed host, computed once (it reads the record, then lets it go). Packed records kept for a later read
    (carried devices, a stored report rendered again) are zlib-compressed JSON: ``packed``."""

    __slots__ = ("_load", "_identity", "polled_at")

    def __init__(self, load: Callable[[], dict | None]) -> None:
        self._load, self._identity, self.polled_at = load, _MISSING, _MISSING

    @classmethod
    def packed(cls, host: str, text: str, record: dict | None = None) -> Lazy:
        """The record whose JSON is ``text`` (a stored report's), kept compressed until it is read;
        ``record``: the same, parsed by the caller (its identity and polled_at are kept, not the record)."""
        blob = zlib.compress(text.encode("utf-8"), 1)
        lazy = cls(lambda: _stored_record(host, zlib.decompress(blob).decode("utf-8")))
        if isinstance(record, dict):
            lazy._identity, lazy.polled_at = identity(record), record.get("polled_at")
        return lazy

    def load(self) -> dict | None:
        return self._load()

    def identity(self) -> tuple | None:
        if self._identity is _MISSING:
            self._identity = identity(self._load())
        return self._identity


def _stored_record(host: str, text: str) -> dict | None:
    """A record of a stored report (fleet.json.gz), completed; one that is not JSON is an error that says so."""
    try:
        record = json.loads(text)
    except ValueError as exc:
        return blank(host, "error", f"the stored record of this device is not valid JSON ({exc})")
    return None if record is None else complete(record, host)


def load(value: Any) -> Any:
    """A record as ``records`` hold it for rendering: a Lazy is read now, anything else is the record."""
    return value.load() if isinstance(value, Lazy) else value


def identity(record: Any) -> tuple | None:
    """What makes two records the same device: serial, address and port, all known (merge.py)."""
    if isinstance(record, Lazy):
        return record.identity()
    if not isinstance(record, dict):
        return None
    serial = (record.get("identity") or {}).get("serial") if isinstance(record.get("identity"), dict) else None
    address, port = record.get("address"), record.get("port")
    if not (isinstance(serial, str) and serial.strip() and isinstance(address, str) and address):
        return None
    return serial.strip(), address, str(port)


# ---------------------------------------------------------------- stored reports read a device at a time

DEVICES_OPEN = b'"devices":{'   # render.py writes fleet.json.gz as: the head, this, then a device per line


class StoredDevices(Mapping):
    """The ``devices`` of a stored report (fleet.json.gz), read from the file a device at a time.

    render.py writes the head of the report on the first line (ending with ``"devices":{``), then one
    ``"host":record`` per line: ``raw_items`` gives each host with its record's JSON text without parsing
    it, so a 10,000-device report (~380 MB of JSON) is never in memory at once. ``hosts``: the hosts in the
    file's order (read when the file was checked)."""

    def __init__(self, path: Path, hosts: list[str]) -> None:
        self.path, self.hosts = path, hosts

    def __iter__(self):
        return iter(self.hosts)

    def __len__(self) -> int:
        return len(self.hosts)

    def __getitem__(self, host: str) -> Any:
        for name, text in self.raw_items():
            if name == host:
                return json.loads(text)
        raise KeyError(host)

    def items(self):
        return ((host, json.loads(text)) for host, text in self.raw_items())

    def raw_items(self):
        with _open_stored(self.path) as lines:
            next(lines, None)   # the head
            for line in lines:
                entry = _entry(line)
                if entry is None:
                    return
                yield entry


_DECODER = json.JSONDecoder()


def _entry(line: bytes) -> tuple[str, str] | None:
    """``"host":record`` (a line of a stored report) as (host, the record's JSON text); None at the end."""
    text = line.decode("utf-8").rstrip("\n")
    if text.startswith("}"):
        return None
    host, end = _DECODER.raw_decode(text)
    if not isinstance(host, str) or text[end:end + 1] != ":":
        raise ValueError(f"a device line does not start with a host name and ':' ({text[:80]!r})")
    return host, text[end + 1:].rstrip(",")


class _open_stored:   # noqa: N801 - a context manager used like open()
    """The lines of a stored report file, gzip or plain, as bytes; errors as OSError or ValueError."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self):
        self.handle = self.path.open("rb")
        if self.handle.read(2) == b"\x1f\x8b":
            self.handle.seek(0)
            self.handle = gzip.GzipFile(fileobj=self.handle, mode="rb")
        else:
            self.handle.seek(0)
        return self._lines()

    def _lines(self):
        try:
            yield from self.handle
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ValueError(f"it is not whole gzip data ({exc})") from None

    def __exit__(self, *_exc) -> None:
        self.handle.close()


def read_fleet(path: Path) -> dict[str, Any]:
    """A stored report (fleet.json.gz, or an earlier version's fleet.json): its head and its ``devices``.

    A file render.py wrote a device per line is checked whole (every line a host and its record: a truncated
    or damaged file is refused here, not half way through a render) and its devices are a StoredDevices, read
    again when used; any other JSON file is parsed whole. Raises OSError (cannot read) or ValueError (not gzip
    data after all, truncated, not UTF-8, not JSON)."""
    try:
        with _open_stored(path) as lines:
            first = next(lines, b"")
            if not first.rstrip(b"\n").endswith(DEVICES_OPEN):
                return json.loads((first + b"".join(lines)).decode("utf-8"))
            head = json.loads(first.rstrip(b"\n")[:-len(DEVICES_OPEN)].rstrip(b",").decode("utf-8") + "}")
            hosts, tail = [], None
            for line in lines:
                entry = _entry(line)
                if entry is None:
                    tail = line
                    break
                hosts.append(entry[0])
    except UnicodeDecodeError as exc:
        raise ValueError(f"it is not UTF-8 text ({exc})") from None
    if tail is None or tail.strip() != b"}}":
        raise ValueError("it ends before its last device (truncated)")
    return dict(head, devices=StoredDevices(path, hosts))
