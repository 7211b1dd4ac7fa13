# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Device records → what the report pages show. Pure: no I/O, no templates."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from typing import Any

from ansible_collections.johann.monitor.plugins.module_utils._alerts import cpu_load
from ansible_collections.johann.monitor.plugins.plugin_utils._report.shape import blank

STATUSES = ("ok", "degraded", "auth_failed", "unreachable", "error")
STATUS_LABELS = {"ok": "OK", "degraded": "Degraded", "auth_failed": "Auth failed", "unreachable": "Unreachable",
                 "error": "Error", "missing": "No record", "stale": "Stale"}
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")
CONFIG_DIR = "config"   # of the report directory: playbooks/show_run.yml's JSON copies of running configurations


def page_name(host: str) -> str:
    """A file name for a device page that no host name can turn into a path or a clash."""
    return device_file(host, ".html")


def device_file(host: str, suffix: str) -> str:
    """A device's file name: the host name when it is a safe one, else a slug and a hash of it.

    The device page is devices/<name>.html; playbooks/show_run.yml writes config/<name>.json
    (the lookup johann.monitor.report_path gives it the name)."""
    if _SAFE.match(host) and not host.endswith(".") and host.lower() not in ("index", "stats", "licensing"):
        return f"{host}{suffix}"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", host)[:60].strip("._") or "device"
    return f"{slug}-{hashlib.sha256(host.encode()).hexdigest()[:10]}{suffix}"


def config_copy(host: str, written: dict[str, float]) -> dict[str, str] | None:
    """The device's running configuration as playbooks/show_run.yml wrote it (config/<name>.json), when
    ``written`` (file name -> modification time, of the report directory's config/) has it."""
    name = device_file(host, ".json")
    if name not in written:
        return None
    when = dt.datetime.fromtimestamp(written[name], dt.UTC).isoformat(timespec="seconds")
    return {"name": name, "written": utc(when)}


def duration(seconds: int | float | None) -> str | None:
    """``3d 4h``, ``5h 12m``, ``12m 3s``: uptime the way engineers read it."""
    if seconds is None:
        return None
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


def utc(text: str | None) -> str | None:
    """``2026-11-29T10:51:05.708Z`` → ``2026-11-29 10:51:05 UTC``."""
    if not text:
        return None
    return text.replace("T", " ")[:19] + " UTC"


def interface_class(interface: dict) -> str:
    """johann's colours: up (green), admin down (orange), down (red)."""
    if interface.get("admin_status") == "down":
        return "admin-down"
    if interface.get("oper_status") == "up":
        return "up"
    return "down"


def _interface_counts(interfaces: list[dict]) -> dict[str, int]:
    counts = Counter(interface_class(i) for i in interfaces)
    return {"up": counts["up"], "down": counts["down"], "admin_down": counts["admin-down"], "total": len(interfaces)}


def _get(record: dict, section: str, key: str) -> Any:
    return (record.get(section) or {}).get(key)


def _sensor_levels(alerts: list[dict]) -> dict[str, str]:
    levels: dict[str, str] = {}
    for alert in alerts:   # critical first, so the worst level of a sensor wins
        if alert["kind"] == "environment":
            levels.setdefault(alert["subject"], alert["level"])
    return levels


def device_view(host: str, record: dict | None) -> dict[str, Any]:
    """One row of the fleet table and the header of the device page.

    The alerts are the record's own: device_info evaluates the thresholds (module_utils/_alerts.evaluate) when it
    reads the device, with that host's johann_thresholds, and the report shows what it found. One evaluation, so
    the task's result, ARA's summary and every page say the same; and a group's own thresholds (core switches at
    90% CPU) hold for its devices only, where one report-wide set could not."""
    if record is None:   # same keys as any device, so templates need no special case
        return dict(device_view(host, {"status": "missing",
                                       "message": "no device_info result for this host in this run"}), record=None)
    status = record.get("status") or "error"
    alerts = list(record.get("alerts") or []) if status in ("ok", "degraded") else []
    interfaces = record.get("interfaces") or []
    cpu = cpu_load(record.get("cpu"))
    return {
        "host": host, "record": record, "status": status, "status_label": STATUS_LABELS.get(status, status),
        "message": record.get("message"), "page": page_name(host),
        "hostname": _get(record, "identity", "hostname"), "address": record.get("address"),
        "platform": record.get("platform"), "model": _get(record, "identity", "model"),
        "version": _get(record, "identity", "os_version_full") or _get(record, "identity", "os_version"),
        "serial": _get(record, "identity", "serial"), "uptime": _get(record, "identity", "uptime"),
        "uptime_text": duration(_get(record, "identity", "uptime")),
        # the CPU figure the alerts use and its span (cpu_label: "5 min", "1000 s avg"); devices.csv keeps 5 min
        "cpu": cpu.value if cpu else None, "cpu_span": cpu.span if cpu else None,
        "cpu_label": cpu.label if cpu else None, "cpu_5min": _get(record, "cpu", "five_minutes"),
        "memory": _get(record, "memory", "used_percent"),
        "memory_status": _get(record, "memory", "status"),
        "interfaces": _interface_counts(interfaces), "alerts": alerts,
        "alert_level": alerts[0]["level"] if alerts else None,
        "sensor_levels": _sensor_levels(alerts),
        "polled_at": utc(record.get("polled_at")), "duration": record.get("duration"),
        "iox": _get(record, "config", "iox"),
        "carried": None,   # read in this run; mark_carried: from an earlier report
    }


def mark_carried(d: dict[str, Any], carried: dict[str, Any]) -> None:
    """A device of the previous report that this run did not read (merge.py): its last known record, its age.

    A stale one (older than stale_after) is shown with the status ``stale`` (its last status in the
    message): not counted as ok, no alerts from old readings; a fresh one keeps its status."""
    d["carried"] = dict(carried, age_text=_age(carried["age"]), last_read_text=utc(carried["last_read"]),
                        last_status=d["status"], last_status_label=d["status_label"])
    if carried["stale"]:
        said = f" ({d['message']})" if d["message"] else ""
        d.update(status="stale", status_label=STATUS_LABELS["stale"], alerts=[], alert_level=None, sensor_levels={},
                 message=f"not read for {_age(carried['age'])}, over the stale age of "
                         f"{_age(carried['stale_after'])}; its last status was {d['status_label']}{said}")


def _age(seconds: int | float) -> str:
    """``45s``, ``14m``, ``2h 5m``, ``3d 4h``: how long ago, as people say it."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    return duration(seconds).replace("h 0m", "h").replace("d 0h", "d")


def safe_device_view(host: str, record: dict | None) -> dict[str, Any]:
    """``device_view``, or an error view naming the problem when this record cannot be read (never raises)."""
    try:
        return device_view(host, record)
    except Exception as exc:   # noqa: BLE001 - one record never costs the others their report
        return error_view(host, f"the report could not read this device's record ({type(exc).__name__}: "
                                f"{str(exc)[:300]})")


def error_view(host: str, message: str) -> dict[str, Any]:
    """A device shown as an error with this message and nothing read: what any page can show."""
    return dict(device_view(host, blank(host, "error", message)), trend=None)


def index_row(d: dict[str, Any], changes: list[str], message: str | None) -> list[Any]:
    """One row of the fleet table as compact data, the fields in the order assets/report.js reads them (F).

    ``changes``: the short labels of its changes since the previous run; ``message``: its cause, shortened
    for the table (the whole of it is searched: the last field, when it is longer). The page's file name
    is None when it is the host's own (``<host>.html``)."""
    trend, carried, counts = d.get("trend"), d.get("carried"), d["interfaces"]
    return [d["host"], None if d["page"] == f"{d['host']}.html" else d["page"], d["status"], d["status_label"],
            message, d["hostname"], d["address"], d["model"], d["version"], d["serial"], d["uptime"],
            d["uptime_text"], d["cpu"], d["cpu_span"], d["memory"],
            [counts["up"], counts["down"], counts["admin_down"], counts["total"]], len(d["alerts"]), d["alert_level"],
            "; ".join(str(a["message"]) for a in d["alerts"]), changes,
            len(trend["changes"]) if trend else None,
            "; ".join(str(c["text"]) for c in trend["changes"]) if trend else "",
            d["platform"], d["polled_at"],
            [carried["age_text"], carried["last_read_text"]] if carried else None,
            d["message"] if d["message"] != message else None]


def needs_attention(devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The devices the index lists for a reader without JavaScript: not OK first (worst status first), then
    the OK ones that alert; by host within each."""
    order = ("error", "missing", "auth_failed", "unreachable", "stale", "degraded")
    rank = {status: number for number, status in enumerate(order)}
    return sorted((d for d in devices if d["status"] != "ok" or d["alerts"]),
                  key=lambda d: (rank.get(d["status"], len(rank)) if d["status"] != "ok" else len(rank) + 1, d["host"]))


class Counted:
    """A list of a record (interfaces, sensors, ARP, neighbours...) in the fleet pages: only how many.

    The fleet pages (index, statistics, licensing) hold a row per device, not the devices' records (a constant
    plus the index, at any fleet size: issue 15); ``len`` and ``| length`` work, iterating says why not."""

    __slots__ = ("count",)

    def __init__(self, count: int) -> None:
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        raise TypeError("the fleet pages (index.html, stats.html, licensing.html) hold only the number of entries of "
                        "a record's lists (interfaces, environment, arp, neighbors...): use | length here, the "
                        "entries in device.html")

    def __reduce__(self):
        return Counted, (self.count,)


LONG_LISTS = ("interfaces", "environment", "arp", "notes", "alerts")
NESTED_LISTS = {"neighbors": ("cdp", "lldp"), "storage": ("partitions", "images"), "identity": ("reload_history",),
                "cpu": ("per_core",)}


def _counted(value: Any) -> Any:
    return Counted(len(value)) if isinstance(value, list) else value


def index_record(record: dict | None) -> dict | None:
    """The record as the fleet pages see it: every section, its lists as their length (Counted), and of each
    section's state (``sections``) its status and message: a fleet page is a row per device, not its record."""
    if record is None:
        return None
    slim = dict(record)
    for key in LONG_LISTS:
        slim[key] = _counted(record.get(key))
    for section, keys in NESTED_LISTS.items():
        if isinstance(record.get(section), dict):
            slim[section] = {k: _counted(v) if k in keys else v for k, v in record[section].items()}
    if isinstance(record.get("sections"), dict):
        slim["sections"] = {name: {k: state.get(k) for k in ("status", "message")} if isinstance(state, dict)
                            else state for name, state in record["sections"].items()}
    return slim


def fleet_view(devices: list[dict]) -> dict[str, Any]:
    """Tiles and chart data over the whole fleet."""
    statuses = Counter(d["status"] for d in devices)
    answered = [d for d in devices if d.get("record") and d["status"] in ("ok", "degraded")]
    oper = Counter()
    for d in answered:
        for name, count in d["interfaces"].items():
            if name != "total":
                oper[name] += count
    return {
        "total": len(devices),
        "statuses": [(s, STATUS_LABELS[s], statuses.get(s, 0)) for s in (*STATUSES, "stale", "missing") if
                     s in STATUSES or statuses.get(s)],
        "carried": sum(1 for d in devices if d.get("carried")),
        "alerting": sum(1 for d in devices if d["alerts"]),
        "versions": Counter(d["version"] or "unknown" for d in answered).most_common(),
        "models": Counter(d["model"] or "unknown" for d in answered).most_common(),
        "memory_health": Counter(d["memory_status"] or "unknown" for d in answered).most_common(),
        "interface_status": [("up", oper["up"]), ("down", oper["down"]), ("admin down", oper["admin_down"])],
        "iox": Counter("IOx on" if d["iox"] else "IOx off" if d["iox"] is False else "unknown"
                       for d in answered).most_common(),
        "by_status": [(STATUS_LABELS[s], statuses.get(s, 0)) for s in (*STATUSES, "stale") if statuses.get(s)],
    }
