# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``devices.xlsx``: johann's "one table with every field", as a typed Excel workbook.

Two sheets: **Devices** (the columns of devices.csv, then every per-device field of the
record a spreadsheet can hold in one cell) and **Interfaces** (the rows of interfaces.csv).
Cells are typed: numbers, booleans, datetimes (UTC, the header says so) and text.

The workbook is written here, as SpreadsheetML (ECMA-376) in a zip: a general-purpose writer
(XlsxWriter) cost 3.8 s of CPU for the 31,500 interface rows of 1000 lab devices, this one about
0.7 s, zip included. Rows are written as they come to a temporary file per sheet, so memory does
not grow with the fleet; ``close`` puts each sheet's head (its range, frozen panes, widths), rows
and foot (the filter) into the zip.

Device strings are hostile input. Every string is an inline string (``t="inlineStr"``), never
a formula, a URL or a number, so ``=HYPERLINK(...)`` stays text, and its XML is escaped here:
``&``, ``<`` and ``>`` as entities, what XML 1.0 cannot carry (control characters, carriage
returns, U+FFFE, U+FFFF) as Excel's ``_xHHHH_``, and a literal ``_xHHHH_`` as ``_x005F_xHHHH_``
so that Excel shows it as it was. Strings over Excel's 32,767-character limit are cut with a
marker; lone surrogates become U+FFFD. Integers above 2**53 (octet counters past 9 PB) are
rounded to the nearest double, as Excel holds every number; devices.csv has them exact.

One device's data never costs the others their rows: a device row that cannot be built is an
error row naming the problem, a device whose interfaces cannot be read has none in the sheet.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from typing import Any, NamedTuple

from ansible_collections.johann.monitor.plugins.plugin_utils._report import spreadsheetml as sml
from ansible_collections.johann.monitor.plugins.plugin_utils._report import writer

TEXT, INT, NUM, BOOL, TIME = "text", "int", "num", "bool", "time"
MAX_CHARS = 32767   # Excel's limit for one cell, in UTF-16 code units
TRUNCATED = " …[truncated]"
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
_EXACT = 2 ** 53   # integers a double holds exactly: the quick path (beyond: ``cell``, rounded or text)
_SURROGATE = re.compile("[\ud800-\udfff]")
_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?\s*(Z|UTC|[+-]\d\d:?\d\d)?",
                   re.IGNORECASE)


class Column(NamedTuple):
    """One column: its name (the header; times say ``(UTC)``), the kind of its cells, its width and,
    for columns beyond the CSV's, how to read it from a device's view (``d["record"]`` is the record)."""
    name: str
    kind: str = TEXT
    width: int = 14
    get: Callable[[dict], Any] | None = None

    @property
    def header(self) -> str:
        return f"{self.name} (UTC)" if self.kind == TIME else self.name


# ---------------------------------------------------------------- reading a device's view

def _section(d: dict, name: str) -> dict:
    value = (d.get("record") or {}).get(name)
    return value if isinstance(value, dict) else {}


def _field(section: str, key: str) -> Callable[[dict], Any]:
    return lambda d: _section(d, section).get(key)


def _join(values: Any, sep: str = ", ") -> str | None:
    return sep.join(str(v) for v in values if v is not None) or None if values else None


def _count(values: Any) -> int | None:
    return len(values) if isinstance(values, list) else None


def _users(d: dict) -> str | None:
    return _join(f"{u.get('name')} ({u.get('privilege')})" for u in _section(d, "config").get("users") or [])


def _snmp(key: str) -> Callable[[dict], Any]:
    def get(d: dict) -> Any:
        snmp = _section(d, "config").get("snmp") or {}
        return _count(snmp.get(key)) if key == "communities" else \
            snmp.get(key) if key == "location" else _join(snmp.get(key))
    return get


def _partitions(d: dict) -> str | None:
    return _join((f"{p.get('name')} {p.get('used_percent')}%" for p in
                  _section(d, "storage").get("partitions") or []), "; ")


def _licences(d: dict) -> str | None:
    return _join((f"{u.get('name')} ×{u.get('count')} ({u.get('status')})" for u in
                  _section(d, "licensing").get("usage") or []), "; ")


def _neighbors(kind: str) -> Callable[[dict], Any]:
    return lambda d: _count(_section(d, "neighbors").get(kind))


def _record_list(key: str) -> Callable[[dict], Any]:
    return lambda d: _count((d.get("record") or {}).get(key))


def _sensors_alerting(d: dict) -> int | None:
    sensors = (d.get("record") or {}).get("environment")
    return sum(1 for s in sensors if s.get("alert")) if isinstance(sensors, list) else None


def _from_record(key: str) -> Callable[[dict], Any]:
    return lambda d: (d.get("record") or {}).get(key)


# ---------------------------------------------------------------- the columns

_CSV_KINDS = {   # the columns of devices.csv and interfaces.csv (writer.py): kind and width; text otherwise
    "host": (TEXT, 16), "status": (TEXT, 11), "message": (TEXT, 40), "hostname": (TEXT, 18), "address": (TEXT, 15),
    "model": (TEXT, 16), "version": (TEXT, 10), "serial": (TEXT, 14), "uptime_seconds": (INT, 16),
    "cpu_5min_percent": (NUM, 18), "memory_used_percent": (NUM, 21), "interfaces_up": (INT, 15),
    "interfaces_down": (INT, 17), "interfaces_admin_down": (INT, 23), "alerts": (TEXT, 40), "polled_at": (TIME, 20),
    "name": (TEXT, 26), "description": (TEXT, 30), "speed_bps": (INT, 16), "mtu": (INT, 8), "mac": (TEXT, 18),
    "ipv4": (TEXT, 18), "ipv6": (TEXT, 24), "last_change": (TIME, 20), "in_octets": (INT, 20),
    "out_octets": (INT, 20), "in_errors": (INT, 12), "in_crc_errors": (INT, 15), "in_discards": (INT, 13),
    "out_errors": (INT, 12), "out_discards": (INT, 14), "flaps": (INT, 8), "in_bps": (INT, 16), "out_bps": (INT, 16),
    "delta_seconds": (NUM, 15), "delta_in_bps": (INT, 16), "delta_out_bps": (INT, 16),
    "delta_in_errors_per_s": (NUM, 22), "delta_note": (TEXT, 30),
}


def _csv_columns(names: list[str]) -> list[Column]:
    return [Column(name, *_CSV_KINDS.get(name, (TEXT, max(12, len(name) + 3)))) for name in names]


# Devices: the CSV's columns (values from writer._device_row), then these, read from the view
EXTRA_DEVICE_COLUMNS = [
    Column("vendor", TEXT, 10, _field("identity", "vendor")),
    Column("os_version", TEXT, 12, _field("identity", "os_version")),
    Column("software_version", TEXT, 40, _field("identity", "software_version")),
    Column("rommon", TEXT, 16, _field("identity", "rommon")),
    Column("uptime", TEXT, 10, lambda d: d.get("uptime_text")),
    Column("boot_time", TIME, 20, _field("identity", "boot_time")),
    Column("device_time", TIME, 20, _field("identity", "current_time")),
    Column("last_reboot_reason", TEXT, 22, _field("identity", "last_reboot_reason")),
    Column("unsaved_config", BOOL, 16, _field("identity", "unsaved_config")),
    Column("domain", TEXT, 18, _field("config", "domain")),
    Column("default_gateway", TEXT, 17, _field("config", "default_gateway")),
    Column("name_servers", TEXT, 24, lambda d: _join(_section(d, "config").get("name_servers"))),
    Column("ntp_servers", TEXT, 24, lambda d: _join(_section(d, "config").get("ntp_servers"))),
    Column("local_users", TEXT, 30, _users),
    Column("snmp_communities", INT, 18, _snmp("communities")),
    Column("snmp_groups", TEXT, 14, _snmp("groups")),
    Column("snmp_users", TEXT, 14, _snmp("users")),
    Column("snmp_location", TEXT, 16, _snmp("location")),
    Column("spanning_tree_mode", TEXT, 20, _field("config", "spanning_tree_mode")),
    Column("iox", BOOL, 7, _field("config", "iox")),
    Column("boot_files", TEXT, 24, lambda d: _join(_section(d, "config").get("boot_files"))),
    Column("cpu_5s_percent", NUM, 16, _field("cpu", "five_seconds")),
    Column("cpu_1min_percent", NUM, 18, _field("cpu", "one_minute")),
    Column("cpu_average_percent", NUM, 21, _field("cpu", "average")),
    Column("cpu_average_seconds", NUM, 21, _field("cpu", "average_seconds")),
    Column("cpu_user_percent", NUM, 18, _field("cpu", "user")),
    Column("cpu_system_percent", NUM, 20, _field("cpu", "system")),
    Column("cpu_idle_percent", NUM, 18, _field("cpu", "idle")),
    Column("cpu_cores", INT, 11, lambda d: _count(_section(d, "cpu").get("per_core"))),
    Column("memory_status", TEXT, 15, _field("memory", "status")),
    Column("memory_total_bytes", INT, 20, _field("memory", "total")),
    Column("memory_used_bytes", INT, 20, _field("memory", "used")),
    Column("storage", TEXT, 32, _partitions),
    Column("images", TEXT, 32, lambda d: _join(_section(d, "storage").get("images"))),
    Column("interfaces_total", INT, 18, lambda d: (d.get("interfaces") or {}).get("total")),
    Column("sensors", INT, 10, _record_list("environment")),
    Column("sensors_alerting", INT, 18, _sensors_alerting),
    Column("cdp_neighbors", INT, 15, _neighbors("cdp")),
    Column("lldp_neighbors", INT, 16, _neighbors("lldp")),
    Column("arp_entries", INT, 13, _record_list("arp")),
    Column("license_transport", TEXT, 19, _field("licensing", "transport")),
    Column("license_policy", TEXT, 18, _field("licensing", "policy")),
    Column("licenses", TEXT, 32, _licences),
    Column("license_last_report", TIME, 20, _field("licensing", "last_report")),
    Column("license_next_report", TIME, 20, _field("licensing", "next_report")),
    Column("port", INT, 7, _from_record("port")),
    Column("restconf_root", TEXT, 15, _from_record("restconf_root")),
    Column("poll_seconds", NUM, 14, _from_record("duration")),
    Column("requests", INT, 10, _from_record("requests")),
]
DEVICE_SHEET = _csv_columns(writer.DEVICE_COLUMNS) + EXTRA_DEVICE_COLUMNS
INTERFACE_SHEET = _csv_columns(writer.INTERFACE_COLUMNS)


def device_values(d: dict) -> list[Any]:
    """A device's row: the CSV's values, then the extra columns'."""
    return writer._device_row(d) + [column.get(d) for column in EXTRA_DEVICE_COLUMNS]


def _error_row(d: dict, exc: Exception) -> list[Any]:
    return [d.get("host"), "error", f"this device's row could not be written ({type(exc).__name__}: {exc})"]


# ---------------------------------------------------------------- cells

def utc_datetime(value: Any) -> dt.datetime | None:
    """A naive UTC datetime (what Excel holds) from an ISO 8601 time or ``... UTC``; None if it is none."""
    if not isinstance(value, str):
        return None
    match = _TIME.fullmatch(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                             int((fraction or "0")[:6].ljust(6, "0")))
    except ValueError:
        return None
    if zone and zone[0] in "+-":
        offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
        moment -= offset if zone[0] == "+" else -offset
    return moment if 1900 <= moment.year <= 9999 else None


def cell_text(value: Any) -> str:
    """A string Excel can hold: surrogates replaced, cut at Excel's limit."""
    text = value if isinstance(value, str) else str(value)
    if not text.isascii() and _SURROGATE.search(text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if len(text) > MAX_CHARS // 2:
        units = text.encode("utf-16-le")
        if len(units) > 2 * MAX_CHARS:
            keep = MAX_CHARS - len(TRUNCATED.encode("utf-16-le")) // 2
            text = units[:2 * keep].decode("utf-16-le", "ignore") + TRUNCATED
    return text


_STYLE = {INT: sml.INT_STYLE, TIME: sml.TIME_STYLE}
ZIP_LEVEL = 3   # 1000 lab devices: 27 MB of sheet XML, 3.3 MB zipped, the workbook in 0.73 s (level 6: 2.8 MB, 1.08 s)
# ASCII text with nothing to escape and no space to keep at either end (``"_x" not in`` it is checked apart)
_SIMPLE = re.compile(r"[^\s&<>\x00-\x1f\x7f](?:[^&<>\x00-\x1f\x7f]*[^\s&<>\x00-\x1f\x7f])?")


class _Sheet:
    """A worksheet's rows, written as SpreadsheetML to a temporary file as they come; ``finish`` puts its head,
    the rows and its foot into the workbook's zip."""

    def __init__(self, folder: str, number: int, name: str, columns: list[Column]) -> None:
        self.number, self.name, self.columns, self.row = number, name, columns, 1
        self.kinds = [column.kind for column in columns]
        self.letters = [sml.letters(n) for n in range(len(columns))]
        self.path = f"{folder}/sheet{number}.rows"
        self.rows = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by finish or Book
        self.rows.write('<row r="1">' + "".join(
            f'<c r="{letter}1" s="{sml.HEADER}" t="inlineStr"><is><t>{sml.xml_text(column.header)}</t></is></c>'
            for letter, column in zip(self.letters, columns, strict=True)) + "</row>")

    def add(self, values: list[Any]) -> None:
        """The next row: the common values straight to their cells (1 M cells in a second), the others by ``cell``."""
        self.row += 1
        row, kinds, letters = self.row, self.kinds, self.letters
        cells = []
        for col, value in enumerate(values):
            if value is None:
                continue
            kind, kind_of_value = kinds[col], type(value)
            if kind_of_value is str:
                if kind is not TIME and len(value) <= MAX_CHARS // 2 and value.isascii() and "_x" not in value \
                        and _SIMPLE.fullmatch(value):
                    cells.append(f'<c r="{letters[col]}{row}" t="inlineStr"><is><t>{value}</t></is></c>')
                    continue
            elif kind_of_value is int and kind is INT and -_EXACT <= value <= _EXACT:
                cells.append(f'<c r="{letters[col]}{row}" s="{sml.INT_STYLE}"><v>{value}</v></c>')
                continue
            cells.append(self.cell(f"{letters[col]}{row}", value, kind))
        self.rows.write(f'<row r="{row}">{"".join(cells)}</row>')

    @staticmethod
    def cell(ref: str, value: Any, kind: str) -> str:
        """One cell's XML (none for no value): a boolean, a finite number, a time, else text."""
        if value is None or value == "":
            return ""
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, (int, float)) and kind in (INT, NUM):
            try:
                number = float(value)   # past 2**53 an integer is rounded, as Excel holds every number
            except OverflowError:
                number = math.inf
            if math.isfinite(number):
                shown = value if isinstance(value, int) and -_EXACT <= value <= _EXACT else repr(number)
                style = f' s="{_STYLE[kind]}"' if kind in _STYLE else ""
                return f'<c r="{ref}"{style}><v>{shown}</v></c>'
        elif kind == TIME:
            moment = utc_datetime(value)
            if moment is not None:
                return f'<c r="{ref}" s="{sml.TIME_STYLE}"><v>{sml.excel_serial(moment)!r}</v></c>'
        text = cell_text(value)
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f'<c r="{ref}" t="inlineStr"><is><t{space}>{sml.xml_text(text)}</t></is></c>'

    @property
    def info(self) -> sml.SheetInfo:
        """The sheet as the workbook's parts name it: the header and every row, every column."""
        return sml.SheetInfo(self.number, self.name, f"A1:{self.letters[-1]}{self.row}")

    def finish(self, archive: zipfile.ZipFile) -> None:
        """The sheet as its zip member: head, rows, foot."""
        self.rows.close()
        ref = self.info.ref
        with archive.open(f"xl/worksheets/sheet{self.number}.xml", "w", force_zip64=True) as member:
            member.write(sml.sheet_head(ref, (c.width for c in self.columns), self.number == 1).encode())
            with open(self.path, "rb") as rows:
                shutil.copyfileobj(rows, member, 1 << 20)
            member.write(sml.sheet_foot(ref).encode())


class Book:
    """devices.xlsx written a device at a time (``device``, then its ``interfaces``), both sheets at once: each
    sheet keeps its rows in a temporary file of its own, so memory does not grow with the fleet. ``close`` gives
    the workbook's bytes; use it as a context manager (the temporary files go with it)."""

    def __init__(self, title: str | None = None, generated_at: str | None = None) -> None:
        self.title, self.created = cell_text(title or "johann.monitor"), utc_datetime(generated_at)
        self.tmp = tempfile.TemporaryDirectory(prefix="johann-xlsx-")
        self.devices = _Sheet(self.tmp.name, 1, "Devices", DEVICE_SHEET)
        self.interface_rows = _Sheet(self.tmp.name, 2, "Interfaces", INTERFACE_SHEET)

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *_exc) -> None:
        for sheet in (self.devices, self.interface_rows):
            sheet.rows.close()
        self.tmp.cleanup()

    def device(self, d: dict, values: list[Any] | None = None) -> None:
        """A device's row: ``values`` when the caller built them (device_values), else built from ``d``."""
        if values is None:
            try:
                values = device_values(d)
            except Exception as exc:   # noqa: BLE001 - one device's data never costs the others their rows
                values = _error_row(d, exc)
        self.devices.add(values)

    def interfaces(self, rows: list[list[Any]]) -> None:
        for values in rows:
            self.interface_rows.add(values)

    def close(self) -> bytes:
        sheets = [self.devices, self.interface_rows]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as archive:
            parts = sml.parts([sheet.info for sheet in sheets], self.title, self.created, DATE_FORMAT)
            for name in sml.PART_ORDER:
                archive.writestr(name, parts[name])
            for sheet in sheets:
                sheet.finish(archive)
        return out.getvalue()


def interface_rows(d: dict) -> list[list[Any]]:
    """A device's rows of the Interfaces sheet (and interfaces.csv); none when they cannot be built (as in
    interfaces.csv: this device's status says)."""
    try:
        return writer._interface_rows(d)
    except Exception:   # noqa: BLE001 - one device's data never costs the others their rows
        return []


def devices_xlsx(devices: list[dict], title: str | None = None, generated_at: str | None = None) -> bytes:
    """The workbook of the report, as bytes (the staging directory writes them)."""
    with Book(title, generated_at) as book:
        for d in devices:
            book.device(d)
        for d in devices:
            book.interfaces(interface_rows(d))
        return book.close()
