# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the report with Jinja2; the CSV exports; the plain page of a device that could not be rendered.

Autoescape is on and undefined variables are errors: device strings are
hostile input, and a template mistake must fail the page, not print blanks.
Files are written through staging.py (the whole report staged, then put in place).
"""
from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ansible_collections.johann.monitor.plugins.module_utils import _json
from ansible_collections.johann.monitor.plugins.plugin_utils._report import charts, view
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.filters import do_truncate
from markupsafe import Markup

CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")
ASSETS = {"assets/report.css": "partials/style.css", "assets/report.js": "partials/report.js"}   # shared by every page
GZIP_LEVEL = 3   # fleet.json.gz of 1000 lab devices (40 MB of JSON): 0.20 s and 4.5 MB; level 6 0.47 s and 3.7 MB


class Blank(dict):
    """Stands for a section the device did not give: every key reads as None."""

    def __missing__(self, key):
        return None


UNKNOWN = Markup('<span class="muted">—</span>')


def _show(value, unit: str = "") -> Markup:
    """A value as text (escaped), or a muted dash when it is unknown."""
    if value is None:
        return UNKNOWN
    return Markup.escape(value) + unit if unit else Markup.escape(value)


def _number(value) -> str:
    return "—" if value is None else f"{value:,}".replace(",", "\u202f")


def _human(value, units: tuple[str, ...], base: int) -> str:
    if value is None:
        return "—"
    amount, unit = float(value), units[0]
    for unit in units:
        if abs(amount) < base or unit == units[-1]:
            break
        amount /= base
    return f"{amount:.0f} {unit}" if unit == units[0] else f"{amount:.1f} {unit}"


def _per_second(value) -> str:
    """A small rate such as errors per second: three significant digits, ``0`` when none."""
    if value is None:
        return "—"
    return "0/s" if value == 0 else f"{value:.3g}/s"


def _decimal(value, digits: int = 1) -> str:
    """``12.0`` → ``12``, ``45.25`` → ``45.2``: readings without trailing zeros."""
    if value is None:
        return "—"
    text = f"{float(value):.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_CHANGE_LABELS = {"went_down": "down", "came_back": "back", "rebooted": "rebooted", "version": "version"}
_COUNTED_CHANGES = (("neighbor_new", "+{n} neighbour"), ("neighbor_lost", "\u2212{n} neighbour"),
                    ("interface_down", "{n} interface down"), ("interface_up", "{n} interface up"))


def change_labels(changes: list[dict] | None) -> list[str]:
    """Short labels for the fleet table: ``down``, ``rebooted``, ``+2 neighbours``... (texts are on the device page)."""
    kinds = [c["kind"] for c in changes or []]
    labels = [label for kind, label in _CHANGE_LABELS.items() if kind in kinds]
    for kind, label in _COUNTED_CHANGES:
        count = kinds.count(kind)
        if count:
            text = label.format(n=count)
            labels.append(text.replace("neighbour", "neighbours") if count > 1 and "neighbour" in text else
                          text.replace("interface", "interfaces") if count > 1 else text)
    known = {*_CHANGE_LABELS, *(pair[0] for pair in _COUNTED_CHANGES)}
    labels += sorted({kind.replace("_", " ") for kind in kinds if kind not in known})
    return labels


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(Environment):
    """Jinja's environment, with ``record.name`` looked up in a dict first (what Jinja finds, faster).

    Jinja tries ``getattr(obj, name)`` and, on AttributeError, ``obj[name]``; a record is dicts of dicts, so
    nearly every ``a.b`` in the templates raised and caught an AttributeError first: an eighth of the page
    writers' CPU (bench.report_bench, 1000 devices). A dict has no attributes but its class's: for a name that
    is not one of them (``items``, ``keys``, ``get``...), getattr always fails and Jinja's answer is the item
    or undefined, which this gives straight away.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:   # pylint: disable=unidiomatic-typecheck
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def environment(template_dirs: list[Path]) -> Environment:
    env = _Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs]),
        autoescape=select_autoescape(("html", "htm", "xml", "svg"), default_for_string=True, default=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(
        show=_show, num=_number, dash=lambda v: "—" if v is None else v, utc=view.utc,
        bytes=lambda v: _human(v, ("B", "KB", "MB", "GB", "TB", "PB"), 1000),
        bps=lambda v: _human(v, ("bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"), 1000),
        pretty_json=lambda v: json.dumps(v, indent=2, sort_keys=True, ensure_ascii=False),
        per_s=_per_second, decimal=_decimal, change_labels=change_labels, shell_quote=shlex.quote)
    # a record of an unexpected shape may hold what JSON has no type for: its raw record is still shown
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": jsonable}
    env.globals.update(pie=charts.pie, bars=charts.bars, gauge=charts.gauge, sparkline=charts.sparkline,
                       availability_bars=charts.availability_bars, duration=view.duration,
                       interface_class=view.interface_class, blank=Blank(), needs_attention=view.needs_attention,
                       fleet_rows=lambda devices: fleet_rows(env, devices))
    return env


def record_json(record: Any) -> bytes:
    """A record as compact JSON, UTF-8 (fleet.json.gz): orjson's when installed (module_utils/_json.py)."""
    return _json.dumps(record, default=jsonable)


def fleet_rows(env: Environment, devices: list[dict]) -> Markup:
    """Every row of the fleet table as JSON for a ``<script type="application/json">`` (``<``, ``>``, ``&`` and
    ``'`` escaped as in Jinja's tojson, so no device string can end the element)."""
    rows = [view.index_row(d, change_labels((d.get("trend") or {}).get("changes")),
                           do_truncate(env, d["message"], 160) if d["message"] else None) for d in devices]
    text = json.dumps(rows, separators=(",", ":"), ensure_ascii=False, default=jsonable)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")  # noqa: S704
                  .replace("'", "\\u0027"))


def assets(env: Environment) -> dict[str, str]:
    """The files every page links (assets/report.css, assets/report.js), from the templates (own ones first)."""
    return {name: env.loader.get_source(env, source)[0] for name, source in ASSETS.items()}


def script_and_hash(env: Environment) -> tuple[Markup, str]:
    """The report's inline script and its CSP hash: only that script may run in the pages."""
    source = env.loader.get_source(env, "partials/report.js")[0]
    digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
    return Markup(source), f"sha256-{digest}"  # noqa: S704 - our own static file, never device data


def error_page(d: dict, problem: str, title: str) -> str:
    """A device's page when its template failed on it: plain HTML, every value escaped, no template involved."""
    def e(value: Any) -> str:
        return html.escape(str(value), quote=True)
    said = f"{d.get('status')}" + (f": {d['message']}" if d.get("message") else "")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            f'<title>{e(d["host"])} · {e(title)}</title></head>\n<body><p><a href="../index.html">← Fleet</a></p>'
            f'<h1>{e(d["host"])}</h1>\n<p class="message error"><strong>This page could not be rendered:</strong> '
            f'{e(problem)}</p>\n<p>device_info: {e(said)}</p>\n'
            f'<p>The device\'s record is in <a href="../fleet.json.gz">fleet.json.gz</a>.</p></body></html>\n')


def jsonable(value: Any) -> Any:
    """What json.dumps writes for a value JSON has no type for (a record of an unexpected shape)."""
    return sorted(value, key=str) if isinstance(value, (set, frozenset)) else str(value)


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA) else text


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    _csv_rows(out, header).writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()


def _csv_rows(out: TextIO, header: list[str]):
    """A CSV writer on ``out``, the header written."""
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow(header)
    return rows


DEVICE_COLUMNS = ["host", "status", "message", "hostname", "address", "platform", "model", "version", "serial",
                  "uptime_seconds", "cpu_5min_percent", "memory_used_percent", "interfaces_up", "interfaces_down",
                  "interfaces_admin_down", "alerts", "polled_at"]
INTERFACE_COLUMNS = ["host", "name", "description", "admin_status", "oper_status", "speed_bps", "duplex", "mtu", "mac",
                     "ipv4", "ipv6", "last_change", "in_octets", "out_octets", "in_errors", "in_crc_errors",
                     "in_discards", "out_errors", "out_discards", "flaps", "in_bps", "out_bps",
                     # from the counters of the previous run and this one (empty without history)
                     "delta_seconds", "delta_in_bps", "delta_out_bps", "delta_in_errors_per_s", "delta_note"]


def _device_row(d: dict) -> list[Any]:
    return [d["host"], d["status"], d["message"], d.get("hostname"), d.get("address"), d.get("platform"),
            d.get("model"), d.get("version"), d.get("serial"), d.get("uptime"), d.get("cpu_5min"), d.get("memory"),
            d["interfaces"]["up"], d["interfaces"]["down"], d["interfaces"]["admin_down"],
            "; ".join(str(a["message"]) for a in d["alerts"]), d.get("polled_at")]


def devices_csv(devices: list[dict]) -> str:
    out = io.StringIO()
    write_devices_csv(out, devices)
    return out.getvalue()


def write_devices_csv(out: TextIO, devices: list[dict]) -> None:
    """devices.csv, a row at a time."""
    rows = _csv_rows(out, DEVICE_COLUMNS)
    for d in devices:
        try:
            row = _device_row(d)
        except Exception as exc:   # noqa: BLE001 - one device's data never costs the others their rows
            row = [d.get("host"), "error", f"this device's row could not be written ({type(exc).__name__}: "
                                           f"{exc})"] + [None] * (len(DEVICE_COLUMNS) - 3)
        rows.writerow([_cell(v) for v in row])


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def interface_rows_csv(out: TextIO) -> Callable[[list[list[Any]]], None]:
    """interfaces.csv written a device at a time: the header now, then each device's rows
    (xlsx.interface_rows) through the function returned."""
    rows = _csv_rows(out, INTERFACE_COLUMNS)
    return lambda device_rows: rows.writerows([_cell(v) for v in row] for row in device_rows)


def _interface_rows(d: dict) -> list[list[Any]]:
    rows = []
    between = (d.get("trend") or {}).get("rates") or {}
    for i in (d["record"] or {}).get("interfaces") or []:
        c, rates = i.get("counters") or {}, i.get("rates") or {}
        delta = (between.get("interfaces") or {}).get(i["name"]) or {}
        rows.append([d["host"], i["name"], i.get("description"), i.get("admin_status"), i.get("oper_status"),
                     i.get("speed"), i.get("duplex"), i.get("mtu"), i.get("mac"),
                     " ".join(f"{a['address']}/{a['prefix_length']}" for a in i.get("ipv4") or []),
                     " ".join(i.get("ipv6") or []), i.get("last_change"), c.get("in_octets"), c.get("out_octets"),
                     c.get("in_errors"), c.get("in_crc_errors"), c.get("in_discards"), c.get("out_errors"),
                     c.get("out_discards"), i.get("flaps"), rates.get("in_bps"), rates.get("out_bps"),
                     between.get("seconds") if delta else None, _round(delta.get("in_bps")),
                     _round(delta.get("out_bps")), _round(delta.get("errors_per_s"), 4),
                     "; ".join([*(delta.get("reasons") or []),
                                *(["rebooted: counted from boot"] if delta and between.get("rebooted") else [])])])
    return rows
