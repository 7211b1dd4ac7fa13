# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole report: records in, pages and exports out, a summary back.

One device never costs the others their report: its record is completed to the shape the
pages read (records.complete), a device page that fails to render is replaced by a plain
page naming the problem, and a device whose data breaks a fleet page (index, statistics,
licensing) is shown there as an error row. The report is staged and put in place at once
(staging.py): a run stopped half way leaves the previous report whole.
"""
from __future__ import annotations

import gzip
import json
import os
import select
import signal
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from ansible_collections.johann.monitor.plugins.plugin_utils._report import history as hist
from ansible_collections.johann.monitor.plugins.plugin_utils._report import records as recs
from ansible_collections.johann.monitor.plugins.plugin_utils._report import view, writer, xlsx
from ansible_collections.johann.monitor.plugins.plugin_utils._report.merge import FLEET_SCHEMA
from ansible_collections.johann.monitor.plugins.plugin_utils._report.staging import (
    ReportWriteError,
    Staging,
    interruptible,
)

PARALLEL_FROM = 100   # device pages: below this, forking costs more than it saves
PAGES_DEADLINE = 900.0   # seconds for all device pages; a writer still running then is killed
FLEET_PAGES = ("stats.html", "licensing.html", "index.html")   # in this order: the index last


def _problem(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _write_pages(devices: list[dict], stage: Staging, template, common: dict) -> dict[str, str]:
    """Each device's page; one that fails to render gets a plain page naming the problem instead."""
    failed = {}
    for d in devices:
        try:
            html = template.render(d=d, root="../", **common)
        except Exception as exc:   # noqa: BLE001 - any template or record problem: this page only
            failed[d["host"]] = _problem(exc)
            html = writer.error_page(d, failed[d["host"]], common["title"])
        stage.write(f"devices/{d['page']}", html)
    return failed


def _child(devices: list[dict], stage: Staging, template, common: dict, report_fd: int) -> None:
    """A forked page writer: write its share, send what failed on the pipe, and leave with os._exit.

    os._exit skips the atexit handlers and finalizers the child inherited from Ansible's worker
    (a multiprocessing.Pool here hung after the last page in 2 of 2 runs inside ansible-playbook).
    Signals are back to their defaults: the parent stops its writers with SIGKILL when it is stopped.
    """
    code = 0
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        report = {"failed": _write_pages(devices, stage, template, common)}
    except BaseException as exc:   # noqa: BLE001 - anything, reported to the parent
        report = {"error": str(exc) if isinstance(exc, ReportWriteError) else _problem(exc),
                  "unwritable": isinstance(exc, ReportWriteError)}
        code = 1
    try:
        data = json.dumps(report).encode()
        while data:
            data = data[os.write(report_fd, data):]
    finally:
        os._exit(code)


def _read_reports(children: dict[int, int], deadline: float) -> tuple[dict[int, bytes], set[int]]:
    """Everything the writers send, read as it comes (a pipe holds 64 kB: a writer must never block on it).

    Also returns the pipes still open at the deadline: their writers are still running."""
    data = {fd: b"" for fd in children.values()}
    open_fds = set(data)
    while open_fds and time.monotonic() < deadline:
        ready = select.select(list(open_fds), [], [], min(1.0, max(0.0, deadline - time.monotonic())))[0]
        for fd in ready:
            chunk = os.read(fd, 65536)
            data[fd] += chunk
            if not chunk:
                open_fds.discard(fd)
    return data, open_fds


def _stop(children: dict[int, int]) -> None:
    """Writers still running are killed and reaped; their pipes closed."""
    for pid, fd in children.items():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)


def _outcome(status: int, data: bytes) -> dict[str, Any]:
    try:
        report = json.loads(data.decode("utf-8", "replace")) if data else {}
    except ValueError:
        report = {}
    if not report:
        code = os.waitstatus_to_exitcode(status)
        how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
        report = {"error": f"a page writer {how} before it reported"}
    return report


def write_device_pages(devices: list[dict], stage: Staging, template, common: dict,
                       meanwhile: Callable[[], Any] | None = None) -> dict[str, str]:
    """One page per device, on up to 4 cores for a large fleet (forked writers share the parsed templates).

    ``meanwhile``: the parent's own work while its writers write (render_report: the fleet pages and the
    exports, a third of a large report's CPU). Returns the pages that could not be rendered, by host, with
    the problem."""
    workers = min(4, os.cpu_count() or 1)
    if len(devices) < PARALLEL_FROM or workers < 2 or not hasattr(os, "fork"):
        failed = _write_pages(devices, stage, template, common)
        if meanwhile is not None:
            meanwhile()
        return failed
    children: dict[int, int] = {}   # pid -> read end of its report pipe
    try:
        for share in range(workers):
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_fd)
                _child(devices[share::workers], stage, template, common, write_fd)
            os.close(write_fd)
            children[pid] = read_fd
        deadline = time.monotonic() + PAGES_DEADLINE
        if meanwhile is not None:
            meanwhile()
        data, running = _read_reports(children, deadline)
        reports = [{"error": f"a page writer was still running after {PAGES_DEADLINE:g} s and was stopped"}
                   for fd in running]
        for pid, fd in list(children.items()):
            if fd not in running:   # it closed its pipe: it has finished
                reports.append(_outcome(os.waitpid(pid, 0)[1], data[fd]))
                os.close(children.pop(pid))
    finally:
        _stop(children)
    return _merge(reports)


def _merge(reports: list[dict[str, Any]]) -> dict[str, str]:
    for report in reports:
        if report.get("unwritable"):
            raise ReportWriteError(report["error"])
    errors = [r["error"] for r in reports if r.get("error")]
    if errors:
        raise RuntimeError(f"writing device pages failed: {errors[0]}")
    return {host: problem for r in reports for host, problem in r.get("failed", {}).items()}


def load_fleet_json(path: Path) -> dict[str, Any]:
    """Records and settings of an earlier report, to render it again without polling.

    ``path``: its fleet.json.gz, its directory, or the fleet.json an earlier version wrote (records.stored_fleet)."""
    path = recs.stored_fleet(path)
    try:
        data = json.loads(recs.read_stored(path))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read stored records from {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("devices"), dict):
        raise ValueError(f"{path} is not a johann.monitor fleet.json (no 'devices' mapping)")
    return data


def write_fleet_gz(out: IO[bytes], devices: list[dict], head: dict[str, Any], seen: dict[str, str]) -> None:
    """fleet.json.gz: ``head`` (schema, title, time, thresholds), every record, when each host was last in a run.

    Compressed and written a record at a time: the JSON of the whole fleet (~380 MB at 10,000 devices) is
    never one string."""
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=writer.GZIP_LEVEL, mtime=0) as packed:
        packed.write(json.dumps(head, separators=(",", ":"), ensure_ascii=False, default=writer.jsonable)[:-1].encode())
        packed.write(b',"devices":{')
        for number, d in enumerate(devices):
            packed.write(f'{"," if number else ""}{json.dumps(d["host"], ensure_ascii=False)}:'
                         f'{writer.record_json(d["record"])}'.encode())
        packed.write(b'},"seen":' + json.dumps(seen, separators=(",", ":"), ensure_ascii=False).encode() + b"}")


def _breakers(render: Callable[[list[dict]], str], devices: list[dict], failing: bool = False) -> dict[int, str]:
    """The devices whose data make ``render`` fail (index -> problem), by bisection: a few renders per device."""
    if len(devices) == 1:
        try:
            render(devices)
        except Exception as exc:   # noqa: BLE001 - which device, and why, is what we look for
            return {id(devices[0]): _problem(exc)}
        return {}
    if not failing:
        try:
            render(devices)
            return {}
        except Exception:   # noqa: BLE001, S110 - bisect below
            pass
    middle = len(devices) // 2
    return _breakers(render, devices[:middle]) | _breakers(render, devices[middle:])


def fleet_page(template, devices: list[dict], context: Callable[[list[dict]], dict], page: str,
               thresholds: dict) -> tuple[str, dict[str, str]]:
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
            devices[number] = dict(view.error_view(d["host"], failed[d["host"]], thresholds), carried=d.get("carried"))
    return render(devices), failed


def _failed_pages(devices: list[dict], failed: dict[str, str]) -> None:
    """The index and the summary show the device whose page could not be rendered as an error, and why."""
    for d in devices:
        if d["host"] in failed:
            said = f"; device_info's status: {d['status']}" + (f" ({d['message']})" if d["message"] else "")
            d.update(status="error", status_label=view.STATUS_LABELS["error"],
                     message=f"the report could not render this device's page ({failed[d['host']]}){said}")


def _config_copies(devices: list[dict], output_dir: Path) -> None:
    """Each device's ``config_copy``: the JSON of its running configuration that playbooks/show_run.yml
    wrote into the report directory (config/, never pruned by the report), or None."""
    written: dict[str, float] = {}
    try:
        with os.scandir(output_dir / view.CONFIG_DIR) as entries:
            for entry in entries:
                if entry.name.endswith(".json") and entry.is_file():
                    written[entry.name] = entry.stat().st_mtime
    except OSError:   # no config/ (show_run.yml never ran) or not readable: no links
        pass
    for d in devices:
        d["config_copy"] = view.config_copy(d["host"], written)


def render_report(records: dict[str, dict | None], output_dir: Path, template_dirs: list[Path],
                  thresholds: dict, title: str, generated_at: str,
                  history: dict[str, Any] | None = None, completed: bool = False,
                  carried: dict[str, dict] | None = None, seen: dict[str, str] | None = None) -> dict[str, Any]:
    """Write index, device pages, statistics, licensing and exports; return counts and paths.

    ``records``: host -> device record (any shape: completed here, unless ``completed`` says the
    caller did it with records.complete or records.from_result) or None (no result).
    ``history``: ``{"enabled": bool, "reason": str | None, "source": str | None,
    "past": [run summaries, oldest first]}``; off when None.
    ``carried``: the hosts of ``records`` not read in this run (merge.merge's ``carried``): shown with
    their age, stale ones as such; the history, the summary's statuses, ``not_ok`` and ``alerting`` are
    about the other hosts, the ones of this run. ``seen``: host -> when it was last in a run (fleet.json
    keeps it for the next merge; this run's time for hosts it does not name).
    """
    started = time.monotonic()
    history = history or {"enabled": False, "reason": "history was not asked for", "source": None, "past": []}
    carried = carried or {}
    if not completed:
        records = {host: None if rec is None else recs.complete(rec, host) for host, rec in records.items()}
    devices = sorted((view.safe_device_view(host, rec, thresholds) for host, rec in records.items()),
                     key=lambda d: d["host"])
    for d in devices:
        if d["host"] in carried:
            view.mark_carried(d, carried[d["host"]])
    _config_copies(devices, output_dir)
    current = hist.run_summary({h: r for h, r in records.items() if h not in carried}, generated_at)
    seen = {host: (seen or {}).get(host) or generated_at for host in records}
    shown = {"enabled": bool(history["enabled"]), "reason": history.get("reason"), "source": history.get("source"),
             "past_runs": len(history.get("past") or []), "runs": []}
    if history["enabled"]:
        shown["runs"] = hist.attach(devices, history.get("past") or [], current)
    else:
        for d in devices:
            d["trend"] = None
    env = writer.environment(template_dirs)
    script, script_hash = writer.script_and_hash(env)   # for own templates that still inline the script
    base = {"title": title, "generated_at": generated_at, "script": script, "script_hash": script_hash}

    def context(subset: list[dict]) -> dict:
        return dict(base, fleet=dict(view.fleet_view(subset), history=shown))

    with interruptible(), Staging(output_dir) as stage:
        for name, text in writer.assets(env).items():
            stage.write(name, text)
        written: dict[str, Any] = {}

        def fleet_files() -> None:   # while the page writers work
            written["broken"] = {}
            for name in FLEET_PAGES:
                html, broken = fleet_page(env.get_template(name), devices, context, name, thresholds)
                written["broken"].update(broken)
                stage.write(name, html)
            written["exports"] = exports(stage, devices, title, generated_at, thresholds, current, seen)

        failed = write_device_pages(devices, stage, env.get_template("device.html"), context(devices), fleet_files)
        if failed:   # those devices are errors in the fleet pages and the exports: written again
            _failed_pages(devices, failed)
            fleet_files()
        failed.update(written["broken"])
        parts, export_errors = written["exports"]
        stale = stage.commit()
        for name in (*export_errors, recs.OLD_FLEET_FILE):   # the previous report's copy would pass for this one's
            with suppress(OSError):
                (output_dir / name).unlink(missing_ok=True)
    return dict(_summary(devices, output_dir, shown, history, failed, stale, started, parts),
                export_errors=export_errors, **_warnings(export_errors))


def exports(stage: Staging, devices: list[dict], title: str, generated_at: str, thresholds: dict,
            current: dict, seen: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """The CSV, XLSX and JSON files: what spreadsheets, the next re-render and ARA read.

    Returns the summary's parts and the exports that could not be made (file -> problem): a
    workbook that fails (XlsxWriter missing...) costs the report that file only."""
    with stage.open("devices.csv") as out:
        writer.write_devices_csv(out, devices)
    with stage.open("interfaces.csv") as out:
        writer.write_interfaces_csv(out, devices)
    errors = {}
    try:
        workbook = xlsx.devices_xlsx(devices, title, generated_at)
    except Exception as exc:   # noqa: BLE001 - any problem of the workbook: the rest of the report is written
        errors["devices.xlsx"] = _problem(exc)
    else:
        stage.write_bytes("devices.xlsx", workbook)
    with stage.open(recs.FLEET_FILE, binary=True) as out:
        write_fleet_gz(out, devices, {"schema": FLEET_SCHEMA, "title": title, "generated_at": generated_at,
                                      "thresholds": thresholds},
                       {d["host"]: (seen or {}).get(d["host"], generated_at) for d in devices})
    stage.write("summary.json", json.dumps(current, separators=(",", ":"), ensure_ascii=False, default=writer.jsonable))
    parts = []
    for number, text in enumerate(hist.split_summary(current), start=1):   # what ARA gets: under its size limit
        parts.append(f"summary-parts/part-{number}.json")
        stage.write(parts[-1], text)
    return parts, errors


def _warnings(export_errors: dict[str, str]) -> dict[str, list[str]]:
    """Ansible's warnings for the exports that could not be written (none: no key)."""
    if not export_errors:
        return {}
    return {"warnings": [f"johann.monitor.report: {name} was not written: {problem}"
                         for name, problem in export_errors.items()]}


def _summary(devices: list[dict], output_dir: Path, shown: dict, history: dict, failed: dict[str, str],
             stale: int, started: float, parts: list[str]) -> dict[str, Any]:
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
        "summary_path": str(output_dir / "summary.json"), "summary_parts": [str(output_dir / p) for p in parts],
        "history": dict({k: shown[k] for k in ("enabled", "reason", "source", "past_runs")},
                        recording=bool(history.get("recording"))),
        "changes": {d["host"]: [c["text"] for c in d["trend"]["changes"]] for d in devices
                    if d.get("trend") and d["trend"]["changes"]},
    }
