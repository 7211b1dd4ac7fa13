# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whatever a host's device_info result is, a complete device record the report can show; and the records
of a stored report (fleet.json.gz), read a device at a time.

``from_result`` turns any result into a record of the shape the report reads (shape.py), keeping
what is usable and naming the cause in ``message`` (status ``error``, or ``unreachable`` /
``missing`` for Ansible's own unreachable and skipped results). ``Lazy`` holds a record that is
read where it is rendered; ``read_fleet`` reads a stored report without holding its devices.
"""
from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ansible_collections.johann.monitor.plugins.plugin_utils._report.shape import SHAPE, blank, clip, complete, kind_of

FLEET_FILE = "fleet.json.gz"   # the stored records of a report: what render.py writes
OLD_FLEET_FILE = "fleet.json"   # what versions before it wrote (plain JSON): still read
_MISSING = object()
MISSING = _MISSING   # a Lazy's polled_at when it was not given


MAX_PACKED = 256 * 1024 * 1024   # bytes a device_json_gz may inflate to: the largest reply a device may send, x4


def _unpacked(packed: Any) -> tuple[str | None, str | None]:
    """device_json_gz (base64 of gzip, result_format=json_gz) as the JSON text, or why it cannot be read."""
    if not isinstance(packed, str):
        return None, f"device_json_gz is {kind_of(packed)}, not a string"
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
            problem = f"device_json is {kind_of(text)}, not a JSON string"
        else:
            try:
                record = json.loads(text)
            except ValueError as exc:
                problem = f"device_json is not valid JSON ({exc})"
            else:
                if isinstance(record, dict):
                    return record, None
                problem = f"device_json holds {kind_of(record)}, not an object"
    device = result.get("device")
    if isinstance(device, Mapping):
        return device, problem
    if device is not None:
        problem = problem or f"device is {kind_of(device)}, not a mapping"
    return None, problem


def timed_out(result: Any) -> bool:
    """Whether a timeout ended the task: Ansible's (``timeout:``) or the task's backstop; the result has ``timedout``."""
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
        if result["timedout"].get("by") == "backstop":   # the task's own (plugin_utils/_action.py): its msg says
            return blank(host, "error", f"the device_info task timed out{_period(result)}: {msg}")
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
        return blank(host, "error", f"{SHAPE}: it is {kind_of(result)}, not a mapping")
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
        return dict(fixed, status="error", message=clip(message + (f" ({fixed['message']})" if fixed["message"]
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
