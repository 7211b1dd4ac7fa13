# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run history for the report: read past run summaries from ARA, turn them into trends.

Each monitor run attaches one ARA record (key ``johann.summary``, type json) to its
playbook: the compact summary of every device (module_utils/_history.summarise).
The report reads the last N of those records and, with this run's summaries,
builds per-device series (CPU, memory, temperature, status), rates between the
previous run and this one, what changed, and the fleet's availability per run.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from ansible_collections.johann.monitor.plugins.module_utils._history import (
    SUMMARY_SCHEMA,
    changes,
    rates,
    rebooted,
    summarise,
)
from ansible_collections.johann.monitor.plugins.plugin_utils._compat import ara_active_client, ara_client_kind
from ansible_collections.johann.monitor.plugins.plugin_utils._report import records as recs

RECORD_KEY = "johann.summary"   # part 1; parts 2..n: johann.summary.2 ...
PART_BYTES = 1_000_000   # per record: ARA's API (Django) refuses request bodies over 2.5 MB
ANSWERED = ("ok", "degraded")


class HistoryError(Exception):
    """History could not be read; the message says why and what to do."""


def ara_client() -> tuple[Any, str | None]:
    """ARA's client of this run (made by ARA's callback in the controller process), or None and why not."""
    try:
        from ara.clients.utils import active_client  # noqa: F401  # pylint: disable=unused-import
    except ImportError:
        return None, "ARA is not installed (pip install 'ara[server]'), so runs are not recorded"
    client = ara_active_client()
    if client is None:
        return None, ("ARA's callback is not loaded in this run (callback_plugins in ansible.cfg, "
                      "see README: Run history), so runs are not recorded")
    return client, None


def describe(client: Any) -> str:
    """The ARA that ``client`` reads from and records to, for messages."""
    if ara_client_kind(client) == "offline":
        return "ARA (offline client, local database)"
    return f"ARA at {getattr(client, 'endpoint', '?')}"


def _summarised(record: dict) -> dict[str, Any] | None:
    try:
        return summarise(record)
    except Exception:   # noqa: BLE001 - a record that cannot be summarised has no trend, the others do
        return None


def run_summary(records: dict[str, dict | None], generated_at: str) -> dict[str, Any]:
    """What one run attaches to ARA: every device device_info gave a record for (answered or not), compact.

    A host without a record (no result, or its task skipped: status missing) is left out, as before."""
    summaries = {host: _summarised(rec) for host, rec in sorted(records.items())
                 if rec is not None and rec.get("status") != "missing"}
    return {"schema": SUMMARY_SCHEMA, "generated_at": generated_at,
            "devices": {host: summary for host, summary in summaries.items() if summary is not None}}


def _groups(sizes: Iterable[int], part_bytes: int) -> list[int]:
    """How many devices go in each part, from each device's size in bytes: at most about ``part_bytes`` a part
    (whole devices; one part, maybe empty, at least)."""
    groups, size = [0], 0
    for length in sizes:
        if groups[-1] and size + length > part_bytes:
            groups.append(0)
            size = 0
        groups[-1] += 1
        size += length
    return groups


def split_summary(summary: dict[str, Any], part_bytes: int = PART_BYTES) -> list[str]:
    """A run summary as JSON texts of at most about ``part_bytes`` each (whole devices per part).

    Each part carries ``part`` and ``parts``; part 1 is recorded under RECORD_KEY, part n under
    ``RECORD_KEY.n``. A 1000-device run is about 2.2 MB, over what ARA accepts in one request.
    """
    texts = [(host, json.dumps(device, separators=(",", ":"), ensure_ascii=False))
             for host, device in summary["devices"].items()]
    return list(_parts({k: v for k, v in summary.items() if k != "devices"}, lambda: iter(texts), part_bytes))


def split_stored(path: Path, part_bytes: int = PART_BYTES) -> Iterator[str]:
    """``split_summary`` of a summary.json that render.py wrote a device per line, read a device at a time."""
    data = recs.read_fleet(path)
    devices = data["devices"]
    if not isinstance(devices, recs.StoredDevices):   # not written a device per line: read whole
        yield from split_summary(data, part_bytes)
        return
    yield from _parts({k: v for k, v in data.items() if k != "devices"}, devices.raw_items, part_bytes)


def _parts(head: dict[str, Any], devices: Callable[[], Iterator[tuple[str, str]]], part_bytes: int) -> Iterator[str]:
    """The parts' texts: ``head``, part and parts, then the devices (``devices()``: host and JSON text, twice)."""
    groups = _groups((len(text) + len(host) + 4 for host, text in devices()), part_bytes)
    items = devices()
    for number, count in enumerate(groups, start=1):
        start = json.dumps(dict(head, part=number, parts=len(groups)), separators=(",", ":"), ensure_ascii=False)
        body = ",".join(f"{json.dumps(host, ensure_ascii=False)}:{text}" for host, text in islice(items, count))
        yield f'{start[:-1]},"devices":{{{body}}}}}'


def _value(detail: dict) -> dict | None:
    value = detail.get("value")
    try:
        value = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("devices"), dict) \
            or value.get("schema") != SUMMARY_SCHEMA:
        return None
    return value


def api_get(client: Any, path: str, **params) -> dict:
    """One GET of ARA's API through its client; HistoryError, naming the server, when it fails or refuses."""
    try:
        reply = client.get(path, **params)
    except Exception as exc:   # requests' errors, without importing requests here
        raise HistoryError(f"could not read run history from {describe(client)}: {type(exc).__name__}: {exc}") \
            from None
    if not isinstance(reply, dict):
        raise HistoryError(f"unexpected reply from {describe(client)} for {path}")
    if "detail" in reply and len(reply) == 1:   # DRF's error body (401, 403, 404)
        raise HistoryError(f"{describe(client)} refused {path}: {reply['detail']}")
    return reply


def load_runs(client: Any, limit: int, key: str = RECORD_KEY) -> list[dict[str, Any]]:
    """The last ``limit`` run summaries recorded in ARA, oldest first, their parts put together.

    A record that cannot be read as a summary, or a run with a part missing, is left
    out, so one bad record does not hide the others.
    """
    if limit <= 0:
        return []
    listing = api_get(client, "/api/v1/records", key=key, order="-id", limit=limit)
    runs, seen = [], set()
    for item in listing.get("results") or []:
        value = _value(api_get(client, f"/api/v1/records/{item['id']}"))
        if value is None:
            continue
        playbook = item.get("playbook")
        playbook = playbook.get("id") if isinstance(playbook, dict) else playbook
        for number in range(2, int(value.get("parts") or 1) + 1):   # the other parts of a large run
            found = api_get(client, "/api/v1/records", playbook=playbook, key=f"{key}.{number}").get("results") or []
            part = _value(api_get(client, f"/api/v1/records/{found[0]['id']}")) if found else None
            if part is None:
                value = None   # an incomplete run: left out rather than shown with devices missing
                break
            value["devices"].update(part["devices"])
        if value is None:
            continue
        for host, summary in value["devices"].items():   # newest first: rates need only a host's newest run
            if host in seen and isinstance(summary, dict):
                summary.pop("interfaces", None)   # 30 runs x 1000 devices would hold ~100 MB of counters
            seen.add(host)
        runs.append({"playbook": playbook, "time": value.get("generated_at"), "devices": value["devices"]})
    runs.reverse()
    return runs


def fleet_history(runs: list[dict[str, Any]], hosts: set[str] | None = None) -> list[dict[str, Any]]:
    """Availability per run: the share of the run's devices that answered.

    With ``hosts``, only those devices count, and runs without any of them are left out: a
    report of one inventory or target is not mixed with runs of others recorded in the same ARA.
    """
    out = []
    for run in runs:
        statuses = [s.get("status") if isinstance(s, dict) else None for host, s in run["devices"].items()
                    if hosts is None or host in hosts]
        if not statuses:
            continue
        answered = sum(1 for s in statuses if s in ANSWERED)
        out.append({"time": run["time"], "playbook": run.get("playbook"), "total": len(statuses),
                    "answered": answered, "current": bool(run.get("current")),
                    "availability": round(100.0 * answered / len(statuses), 1)})
    return out


def device_trend(host: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Series over the runs that include the host, and what happened since its previous run."""
    times = [run["time"] for run in runs if host in run["devices"]]
    points = [run["devices"][host] for run in runs if host in run["devices"]]
    trend: dict[str, Any] = {
        "points": len(points), "times": times, "status": [s.get("status") for s in points],
        "cpu": [s.get("cpu") for s in points], "memory": [s.get("memory") for s in points],
        "temperature": [s.get("temperature") for s in points],
        "reboots": sum(1 for before, after in zip(points, points[1:], strict=False) if rebooted(before, after)),
        "previous": None, "changes": [], "rates": None,
    }
    if len(points) >= 2:
        before, now = points[-2], points[-1]
        trend["previous"] = times[-2]
        trend["changes"] = changes(before, now)
        if now.get("status") in ANSWERED and before.get("status") in ANSWERED or rebooted(before, now):
            trend["rates"] = rates(before, now)
    return trend


def attach(devices: list[dict[str, Any]], past: list[dict[str, Any]], current: dict[str, Any]) -> list[dict]:
    """Add ``trend`` to each device view; return the fleet's availability per run (this run last)."""
    for d in devices:
        d["trend"] = host_trend(d["host"], past, current["generated_at"], current["devices"].get(d["host"]))
    statuses = {h: s.get("status") if isinstance(s, dict) else None for h, s in current["devices"].items()}
    return current_history(past, current["generated_at"], statuses)


def device_summary(record: dict | None) -> dict[str, Any] | None:
    """A device's entry in this run's summary (``run_summary``, a device at a time): None when the run
    summary leaves it out (no record, status missing, a record that cannot be summarised)."""
    if record is None or record.get("status") == "missing":
        return None
    return _summarised(record)


def host_trend(host: str, past: list[dict[str, Any]], generated_at: str,
               summary: dict[str, Any] | None) -> dict[str, Any] | None:
    """``attach`` for one device, where its page is written: its trend over the past runs and this one
    (``summary``: its entry in this run's summary; None: no trend, as ``attach`` gives)."""
    if summary is None:
        return None
    try:
        return device_trend(host, [*past, {"time": generated_at, "devices": {host: summary}}])
    except Exception:   # noqa: BLE001 - a past summary of an odd shape: no trend for this device only
        return None


def current_history(past: list[dict[str, Any]], generated_at: str, statuses: dict[str, Any]) -> list[dict]:
    """``attach``'s availability per run, from this run's status per device (``statuses``: the devices of
    this run's summary)."""
    current = {"time": generated_at, "devices": {h: {"status": s} for h, s in statuses.items()}, "current": True}
    return fleet_history([*past, current], set(statuses))


# ---------------------------------------------------------------- recording a run

REPORT_KEY = "report"   # the record of the report's location (type url)
MAX_LABEL = 254   # ARA's labels are under 255 characters


def record_run(client: Any, play_uuid: str, summary: Path, report: Path, labels: list[str]) -> dict[str, Any]:
    """Attach this run's summary (``summary``: the report's summary.json) to its playbook in ARA, in parts of
    at most about PART_BYTES (RECORD_KEY, RECORD_KEY.2, ...: what ``load_runs`` reads back), with the report's
    location (REPORT_KEY) and ``labels`` added to the playbook's. Through ARA's client of this run, as ARA's own
    ara_record and ara_label do; the playbook is the one of the play ``play_uuid``.

    Returns what was recorded (playbook id, keys, labels); raises HistoryError naming the server and the step."""
    plays = api_get(client, "/api/v1/plays", uuid=play_uuid).get("results") or []
    if not plays:
        raise HistoryError(f"{describe(client)} has no play {play_uuid} (was ARA's callback recording this run?)")
    playbook = plays[0]["playbook"]
    playbook = playbook.get("id") if isinstance(playbook, dict) else playbook
    keys = []
    for number, text in enumerate(split_stored(summary), start=1):
        keys.append(RECORD_KEY if number == 1 else f"{RECORD_KEY}.{number}")
        _put_record(client, playbook, keys[-1], text, "json")
    _put_record(client, playbook, REPORT_KEY, report.as_uri(), "url")
    current = [label["name"] for label in api_get(client, f"/api/v1/playbooks/{playbook}").get("labels") or []]
    wanted = current + [label[:MAX_LABEL] for label in labels if label[:MAX_LABEL] not in current]
    if wanted != current:
        _send(client, "patch", f"/api/v1/playbooks/{playbook}", labels=wanted)
    return {"playbook": playbook, "keys": keys, "labels": wanted}


def _put_record(client: Any, playbook: int, key: str, value: str, kind: str) -> None:
    """One record of the playbook, created or replaced (a report task run twice in a playbook keeps the last)."""
    found = api_get(client, "/api/v1/records", playbook=playbook, key=key).get("results") or []
    if found:
        _send(client, "patch", f"/api/v1/records/{found[0]['id']}", key=key, value=value, type=kind)
    else:
        _send(client, "post", "/api/v1/records", playbook=playbook, key=key, value=value, type=kind)


def _send(client: Any, method: str, path: str, **data) -> dict:
    """One POST or PATCH through ARA's client; HistoryError, naming the server, when it fails or refuses."""
    try:
        reply = getattr(client, method)(path, **data)
    except Exception as exc:   # requests' errors, without importing requests here
        raise HistoryError(f"could not record the run in {describe(client)}: {type(exc).__name__}: {exc}") from None
    if not isinstance(reply, dict) or "id" not in reply:   # ARA's client returns the error's body (400, 403...)
        said = reply.get("detail", reply) if isinstance(reply, dict) else reply
        raise HistoryError(f"{describe(client)} refused {method.upper()} {path}: {str(said)[:300]}")
    return reply
