# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole report: records in, pages and exports out, a summary back.

One device never costs the others their report: its record is completed to the shape the
pages read (shape.complete), a device page that fails to render is replaced by a plain
page naming the problem, and a device whose data breaks a fleet page (index, statistics,
licensing) is shown there as an error row. The report is staged and put in place at once
(staging.py): a run stopped half way leaves the previous report whole.

Memory is a constant plus the index, whatever the fleet's size: the page writers (forked, a
contiguous share of the hosts each: pages.py) read each host's record where they render it
(records.Lazy), write its page, its part of fleet.json.gz, summary.json and the exports' rows to files
of their own, and keep only its index row (the view, with the record's long lists as their length).
The parent renders the fleet pages from the index rows (here), then puts the writers' files together
in host order (``exports``).
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from ansible_collections.johann.monitor.plugins.module_utils._history import SUMMARY_SCHEMA
from ansible_collections.johann.monitor.plugins.plugin_utils._report import history as hist
from ansible_collections.johann.monitor.plugins.plugin_utils._report import records as recs
from ansible_collections.johann.monitor.plugins.plugin_utils._report import view, writer, xlsx
from ansible_collections.johann.monitor.plugins.plugin_utils._report.merge import FLEET_SCHEMA
from ansible_collections.johann.monitor.plugins.plugin_utils._report.pages import (
    SEP,
    Parts,
    Writer,
    problem_of,
    read_views,
    write_pages,
)
from ansible_collections.johann.monitor.plugins.plugin_utils._report.staging import (
    ReportWriteError,
    Staging,
    interruptible,
)

FLEET_PAGES = ("stats.html", "licensing.html", "index.html")   # in this order: the index last
PARTS = ".parts"   # of the staging directory: the page writers' parts of the fleet files (removed before commit)


def load_fleet_json(path: Path) -> dict[str, Any]:
    """Records and settings of an earlier report, to render it again without polling.

    ``path``: its fleet.json.gz, its directory, or the fleet.json an earlier version wrote (records.stored_fleet).
    The devices of a fleet.json.gz are read from the file a device at a time when used (records.read_fleet)."""
    path = recs.stored_fleet(path)
    try:
        data = recs.read_fleet(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read stored records from {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("devices"), Mapping):
        raise ValueError(f"{path} is not a johann.monitor fleet.json (no 'devices' mapping)")
    return data


def _head(values: dict[str, Any], key: str) -> bytes:
    """The first line of a file written a device per line: ``values`` then ``"key":{`` (and a newline)."""
    text = json.dumps(values, separators=(",", ":"), ensure_ascii=False, default=writer.jsonable)
    return (text[:-1] + ("," if values else "") + json.dumps(key) + ":{\n").encode()


def _joined(out: IO[bytes], head: bytes, pieces: list[Path], compressed: bool) -> None:
    """``head``, the writers' pieces (a device per line) joined by SEP, and the end: a file read a device at a
    time (records.read_fleet). Compressed: the pieces are gzip members, and so are the head and the joins."""
    def put(data: bytes) -> None:
        out.write(gzip.compress(data, writer.GZIP_LEVEL, mtime=0) if compressed else data)

    put(head)
    wrote = False
    for piece in pieces:
        if not piece.exists():
            continue
        if wrote:
            put(SEP)
        with piece.open("rb") as data:
            shutil.copyfileobj(data, out, 1 << 20)
        wrote = True
    put(b"\n}}\n" if wrote else b"}}\n")


def _breakers(render: Callable[[list[dict]], str], devices: list[dict], failing: bool = False) -> dict[int, str]:
    """The devices whose data make ``render`` fail (index -> problem), by bisection: a few renders per device."""
    if len(devices) == 1:
        try:
            render(devices)
        except Exception as exc:   # noqa: BLE001 - which device, and why, is what we look for
            return {id(devices[0]): problem_of(exc)}
        return {}
    if not failing:
        try:
            render(devices)
            return {}
        except Exception:   # noqa: BLE001, S110 - bisect below
            pass
    middle = len(devices) // 2
    return _breakers(render, devices[:middle]) | _breakers(render, devices[middle:])


def fleet_page(template, devices: list[dict], context: Callable[[list[dict]], dict],
               page: str) -> tuple[str, dict[str, str]]:
    """A page over the whole fleet; a device whose data break it is shown as an error row instead.

    A page that fails without any device, or with every one of two or more, is a template
    problem: that fails the report (the message names it) and the previous report stays.
    """
    def render(subset: list[dict]) -> str:
        return template.render(devices=subset, root="", **context(subset))

    try:
        return render(devices), {}
    except Exception as first:   # noqa: BLE001 - find out whether one device's data is the cause
        try:
            render([])
        except Exception:   # noqa: BLE001 - the template itself
            raise first from None
        broken = _breakers(render, devices, failing=True) if devices else {}
        if not broken or (len(broken) == len(devices) > 1):
            raise first from None
    failed = {}
    for number, d in enumerate(devices):
        if id(d) in broken:
            failed[d["host"]] = f"the report could not show this device on {page} ({broken[id(d)]})"
            devices[number] = dict(view.error_view(d["host"], failed[d["host"]]), carried=d.get("carried"))
    return render(devices), failed


def _fleet_file(stage: Staging, template, devices: list[dict], context: Callable[[list[dict]], dict],
                page: str) -> dict[str, str]:
    """A fleet page written as Jinja renders it (the stats page of 10,000 devices is millions of pieces: never
    all held at once); when it fails, ``fleet_page`` finds the devices that break it. Returns those."""
    try:
        with stage.open(page) as out:
            for piece in template.generate(devices=devices, root="", **context(devices)):
                out.write(piece)
        return {}
    except ReportWriteError:
        raise
    except Exception:   # noqa: BLE001, S110 - written again below, without the devices whose data break it
        pass
    html, broken = fleet_page(template, devices, context, page)
    stage.write(page, html)
    return broken


def _config_copies(output_dir: Path) -> dict[str, float]:
    """The JSON copies of running configurations playbooks/show_run.yml wrote into the report directory
    (config/, never pruned by the report): file name -> modification time (view.config_copy reads it)."""
    written: dict[str, float] = {}
    try:
        with os.scandir(output_dir / view.CONFIG_DIR) as entries:
            for entry in entries:
                if entry.name.endswith(".json") and entry.is_file():
                    written[entry.name] = entry.stat().st_mtime
    except OSError:   # no config/ (show_run.yml never ran) or not readable: no links
        pass
    return written


def render_report(records: Mapping[str, Any], output_dir: Path, template_dirs: list[Path],
                  title: str, generated_at: str,
                  history: dict[str, Any] | None = None, completed: bool = False,
                  carried: dict[str, dict] | None = None, seen: dict[str, str] | None = None) -> dict[str, Any]:
    """Write index, device pages, statistics, licensing and exports; return counts and paths.

    ``records``: host -> device record (any shape: completed here, unless ``completed`` says the
    caller did it with shape.complete or records.from_result), None (no result), or a records.Lazy
    that gives it (read by the page writer that renders the host, never all at once).
    ``history``: ``{"enabled": bool, "reason": str | None, "source": str | None,
    "past": [run summaries, oldest first]}``; off when None.
    ``carried``: the hosts of ``records`` not read in this run (merge.merge's ``carried``): shown with
    their age, stale ones as such; the history, the summary's statuses, ``not_ok`` and ``alerting`` are
    about the other hosts, the ones of this run. ``seen``: host -> when it was last in a run (fleet.json
    keeps it for the next merge; this run's time for hosts it does not name).
    """
    started = time.monotonic()
    history = history or {"enabled": False, "reason": "history was not asked for", "source": None, "past": []}
    hosts = sorted(records)
    seen = {host: (seen or {}).get(host) or generated_at for host in hosts}
    shown = {"enabled": bool(history["enabled"]), "reason": history.get("reason"), "source": history.get("source"),
             "past_runs": len(history.get("past") or []), "runs": []}
    env = writer.environment(template_dirs)
    script, script_hash = writer.script_and_hash(env)   # for own templates that still inline the script
    base = {"title": title, "generated_at": generated_at, "script": script, "script_hash": script_hash}
    work = Writer(records, completed, carried or {}, history, generated_at, env.get_template("device.html"),
                  dict(base, fleet={"total": len(hosts), "history": shown}),   # a device page's fleet: no index
                  _config_copies(output_dir))

    def context(subset: list[dict]) -> dict:
        return dict(base, fleet=dict(view.fleet_view(subset), history=shown))

    with interruptible(), Staging(output_dir) as stage:
        for name, text in writer.assets(env).items():
            stage.write(name, text)
        failed, folders = write_pages(hosts, work, stage, stage.dir / PARTS)
        devices = [d for folder in folders for d in read_views(folder)]   # the index: a row per device
        statuses = {d["host"]: d["summary_status"] for d in devices if d["summary_status"] is not None}
        if history["enabled"]:
            shown["runs"] = hist.current_history(history.get("past") or [], generated_at, statuses)
        for name in FLEET_PAGES:
            failed.update(_fleet_file(stage, env.get_template(name), devices, context, name))
        head = {"schema": FLEET_SCHEMA, "title": title, "generated_at": generated_at, "seen": seen}
        export_errors = exports(stage, devices, folders, head, generated_at)
        shutil.rmtree(stage.dir / PARTS)
        stale = stage.commit()
        for name in (*export_errors, recs.OLD_FLEET_FILE):   # the previous report's copy would pass for this one's
            with suppress(OSError):
                (output_dir / name).unlink(missing_ok=True)
    return dict(_summary(devices, output_dir, shown, history, failed, stale, started),
                export_errors=export_errors, **_warnings(export_errors))


def exports(stage: Staging, devices: list[dict], folders: list[Path], head: dict[str, Any],
            generated_at: str) -> dict[str, str]:
    """The CSV, XLSX and JSON files: what spreadsheets, the next re-render and ARA read, put together from the
    index (``devices``, in host order) and the page writers' parts (``folders``, in host order).

    Returns the exports that could not be made (file -> problem): a
    workbook that fails (a full disk...) costs the report that file only."""
    errors: dict[str, str] = {}
    try:
        book = xlsx.Book(head["title"], generated_at)
    except Exception as exc:   # noqa: BLE001 - any problem of the workbook: the rest of the report is written
        book, errors["devices.xlsx"] = None, problem_of(exc)
    try:
        with stage.open("devices.csv") as out:
            writer.write_devices_csv(out, devices)
        with stage.open("interfaces.csv") as out:
            rows = writer.interface_rows_csv(out)
            at = 0
            for folder in folders:
                with Parts(folder, "rb") as parts:
                    for device_rows in parts.items(parts.rows):
                        rows(device_rows)
                        book = _book_rows(book, errors, devices[at], device_rows)
                        at += 1
        if book is not None:
            try:
                workbook = book.close()
            except Exception as exc:   # noqa: BLE001 - the workbook only: the other files are written
                errors["devices.xlsx"] = problem_of(exc)
            else:
                stage.write_bytes("devices.xlsx", workbook)
    finally:
        if book is not None:
            book.__exit__()
    with stage.open(recs.FLEET_FILE, binary=True) as out:
        _joined(out, _head(head, "devices"), [folder / "fleet.gz" for folder in folders], compressed=True)
    with stage.open("summary.json", binary=True) as out:
        _joined(out, _head({"schema": SUMMARY_SCHEMA, "generated_at": generated_at}, "devices"),
                [folder / "summary" for folder in folders], compressed=False)
    return errors


def _book_rows(book: xlsx.Book | None, errors: dict[str, str], d: dict, rows: list) -> xlsx.Book | None:
    """A device's rows of devices.xlsx; a workbook that fails on them is dropped (the error says why)."""
    if book is None:
        return None
    try:
        book.device(d, d.get("xlsx"))
        book.interfaces(rows)
    except Exception as exc:   # noqa: BLE001 - the workbook only: the other files are written
        errors["devices.xlsx"] = problem_of(exc)
        book.__exit__()
        return None
    return book


def _warnings(export_errors: dict[str, str]) -> dict[str, list[str]]:
    """Ansible's warnings for the exports that could not be written (none: no key)."""
    if not export_errors:
        return {}
    return {"warnings": [f"johann.monitor.report: {name} was not written: {problem}"
                         for name, problem in export_errors.items()]}


def _summary(devices: list[dict], output_dir: Path, shown: dict, history: dict, failed: dict[str, str],
             stale: int, started: float) -> dict[str, Any]:
    carried = [d for d in devices if d.get("carried")]
    polled = [d for d in devices if not d.get("carried")]   # statuses, alerts, not_ok: the devices of this run
    statuses = Counter(d["status"] for d in polled)
    return {
        "path": str(output_dir / "index.html"), "output_dir": str(output_dir), "devices": len(devices),
        "polled": len(polled),
        "statuses": {s: statuses.get(s, 0) for s in (*view.STATUSES, "missing")},
        "carried": {d["host"]: {k: d["carried"][k] for k in ("last_status", "last_read", "age", "stale")}
                    for d in carried},
        "alerting": {d["host"]: d["alerts"] for d in polled if d["alerts"]},
        "not_ok": {d["host"]: f"{d['status']}: {d['message']}" for d in polled if d["status"] != "ok"},
        "page_errors": failed, "stale_pages_removed": stale, "render_seconds": round(time.monotonic() - started, 3),
        "summary_path": str(output_dir / "summary.json"),
        "history": dict({k: shown[k] for k in ("enabled", "reason", "source", "past_runs")},
                        recording=bool(history.get("recording"))),
        "changes": {d["host"]: [c["text"] for c in d["trend"]["changes"]] for d in devices
                    if d.get("trend") and d["trend"]["changes"]},
    }
