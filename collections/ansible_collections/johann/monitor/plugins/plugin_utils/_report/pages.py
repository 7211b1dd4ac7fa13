# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The device pages of a report, and each device's parts of the fleet files (render.py puts them together).

The page writers (forked from 100 hosts on, a contiguous share of the hosts each) read each host's
record where they render it (records.Lazy), write its page, its part of fleet.json.gz, summary.json
and the exports' rows to files of their own (``Parts``), and keep only its index row (the view, with
the record's long lists as their length). A device page that fails to render is replaced by a plain
page naming the problem.
"""
from __future__ import annotations

import gzip
import json
import os
import pickle
import select
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ansible_collections.johann.monitor.plugins.plugin_utils._report import history as hist
from ansible_collections.johann.monitor.plugins.plugin_utils._report import records as recs
from ansible_collections.johann.monitor.plugins.plugin_utils._report import shape, view, writer, xlsx
from ansible_collections.johann.monitor.plugins.plugin_utils._report.staging import ReportWriteError, Staging

PARALLEL_FROM = 100   # device pages: below this, forking costs more than it saves
PAGES_DEADLINE = 900.0   # seconds for all device pages; a writer still running then is killed


def problem_of(exc: BaseException) -> str:
    """An exception as a line of the report: its type and message, at most 500 characters."""
    return f"{type(exc).__name__}: {exc}"[:500]


class Writer(NamedTuple):
    """What every page writer needs, the same for all (forked writers inherit it)."""
    records: Mapping[str, Any]   # host -> record, None, or records.Lazy (read where it is rendered)
    completed: bool   # the records are complete (shape.complete) already
    carried: dict[str, dict]
    history: dict   # render_report's ``history``
    generated_at: str
    template: Any   # device.html
    common: dict   # the device pages' context
    configs: dict[str, float]   # config/ of the report directory: file name -> modification time

    def record(self, host: str) -> dict | None:
        try:
            record = recs.load(self.records[host])
            return record if self.completed or record is None else shape.complete(record, host)
        except Exception as exc:   # noqa: BLE001 - one record never costs the others their report
            return shape.blank(host, "error", f"the report could not read this device's record ({problem_of(exc)})")

    def view(self, host: str) -> tuple[dict, dict | None]:
        """The device's view (its page's ``d``) and its entry in this run's summary (None: not in it)."""
        record = self.record(host)
        d = view.safe_device_view(host, record)
        summary = None
        if host in self.carried:
            view.mark_carried(d, self.carried[host])
        else:
            summary = hist.device_summary(record)
        d["config_copy"] = view.config_copy(host, self.configs)
        d["trend"] = hist.host_trend(host, self.history.get("past") or [], self.generated_at, summary) \
            if self.history["enabled"] else None
        return d, summary


SEP = b",\n"   # between two devices of fleet.json.gz and summary.json: a device per line


def _write_hosts(hosts: list[str], work: Writer, stage: Staging, folder: Path) -> dict[str, str]:
    """Each host's page, and its parts of the fleet files in ``folder`` (``Parts``); returns the pages
    that failed to render (host -> problem): each got a plain page naming the problem instead."""
    failed = {}
    folder.mkdir(parents=True)
    with Parts(folder, "wb") as parts:
        for host in hosts:
            d, summary = work.view(host)
            try:
                html = work.template.render(d=d, root="../", **work.common)
            except Exception as exc:   # noqa: BLE001 - any template or record problem: this page only
                failed[host] = problem_of(exc)
                html = writer.error_page(d, failed[host], work.common["title"])
                _failed_page(d, failed[host])
            stage.write(f"devices/{d['page']}", html)
            parts.add(d, summary)
    return failed


class Parts:
    """A page writer's share of the fleet files, in host order: the index rows (views), the export rows,
    fleet.json.gz's devices (a gzip member: members put one after the other are one gzip file) and
    summary.json's devices. Written by a writer ("wb"), read back by the parent ("rb")."""

    def __init__(self, folder: Path, mode: str) -> None:
        self.folder, self.mode, self.first = folder, mode, True

    def __enter__(self) -> Parts:
        self.views = (self.folder / "views").open(self.mode)
        self.rows = (self.folder / "rows").open(self.mode)
        if self.mode == "wb":
            self.fleet = gzip.GzipFile(self.folder / "fleet.gz", "wb", compresslevel=writer.GZIP_LEVEL, mtime=0)
            self.summary = (self.folder / "summary").open("wb")
        return self

    def __exit__(self, *_exc) -> None:
        for handle in (self.views, self.rows, getattr(self, "fleet", None), getattr(self, "summary", None)):
            if handle is not None:
                handle.close()
        if self.mode == "wb":   # a piece with no device is no piece (render._joined puts the others together)
            if self.first:
                (self.folder / "fleet.gz").unlink()
            if not (self.folder / "summary").stat().st_size:
                (self.folder / "summary").unlink()

    def add(self, d: dict, summary: dict | None) -> None:
        host = json.dumps(d["host"], ensure_ascii=False)
        self.fleet.write((b"" if self.first else SEP) + f"{host}:".encode() + writer.record_json(d["record"]))
        if summary is not None:
            self.summary.write((b"" if self.summary.tell() == 0 else SEP)
                               + f"{host}:{json.dumps(summary, separators=(',', ':'), ensure_ascii=False)}".encode())
        self.first = False
        try:
            values = xlsx.device_values(d)
        except Exception:   # noqa: BLE001 - built again (an error row) by xlsx.Book.device
            values = None
        index = dict(d, record=view.index_record(d["record"]), xlsx=values,
                     summary_status=summary.get("status") if summary else None)
        pickle.dump(index, self.views, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(xlsx.interface_rows(d), self.rows, protocol=pickle.HIGHEST_PROTOCOL)

    def items(self, handle) -> Iterator[Any]:
        while True:
            try:
                yield pickle.load(handle)   # noqa: S301 - written by this report's own writers, in its 0700 staging
            except EOFError:
                return


def _failed_page(d: dict, problem: str) -> None:
    """The index and the summary show a device whose page could not be rendered as an error, and why."""
    said = f"; device_info's status: {d['status']}" + (f" ({d['message']})" if d["message"] else "")
    d.update(status="error", status_label=view.STATUS_LABELS["error"],
             message=f"the report could not render this device's page ({problem}){said}")


def _child(run: Callable[[], dict[str, str]], report_fd: int) -> None:
    """A forked page writer: write its share, send what failed on the pipe, and leave with os._exit.

    os._exit skips the atexit handlers and finalizers the child inherited from Ansible's worker
    (a multiprocessing.Pool here hung after the last page in 2 of 2 runs inside ansible-playbook).
    Signals are back to their defaults: the parent stops its writers with SIGKILL when it is stopped.
    """
    code = 0
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        report = {"failed": run()}
    except BaseException as exc:   # noqa: BLE001 - anything, reported to the parent
        report = {"error": str(exc) if isinstance(exc, ReportWriteError) else problem_of(exc),
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


def write_pages(hosts: list[str], work: Writer, stage: Staging, parts: Path) -> tuple[dict[str, str], list[Path]]:
    """Every host's page and its parts of the fleet files, on up to 4 cores for a large fleet: forked
    writers, each a contiguous share of ``hosts`` (sorted), its parts in a folder of ``parts``.

    Returns the pages that could not be rendered (host -> problem) and the writers' folders in host order."""
    workers = min(4, os.cpu_count() or 1)
    if len(hosts) < PARALLEL_FROM or workers < 2 or not hasattr(os, "fork"):
        return _write_hosts(hosts, work, stage, parts / "0"), [parts / "0"]
    size = -(-len(hosts) // workers)
    shares = [hosts[start:start + size] for start in range(0, len(hosts), size)]
    folders = [parts / str(number) for number in range(len(shares))]
    children: dict[int, int] = {}   # pid -> read end of its report pipe
    try:
        for share, folder in zip(shares, folders, strict=True):
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_fd)
                _child(lambda share=share, folder=folder: _write_hosts(share, work, stage, folder), write_fd)
            os.close(write_fd)
            children[pid] = read_fd
        data, running = _read_reports(children, time.monotonic() + PAGES_DEADLINE)
        reports = [{"error": f"a page writer was still running after {PAGES_DEADLINE:g} s and was stopped"}
                   for fd in running]
        for pid, fd in list(children.items()):
            if fd not in running:   # it closed its pipe: it has finished
                reports.append(_outcome(os.waitpid(pid, 0)[1], data[fd]))
                os.close(children.pop(pid))
    finally:
        _stop(children)
    return _merge(reports), folders


def _merge(reports: list[dict[str, Any]]) -> dict[str, str]:
    for report in reports:
        if report.get("unwritable"):
            raise ReportWriteError(report["error"])
    errors = [r["error"] for r in reports if r.get("error")]
    if errors:
        raise RuntimeError(f"writing device pages failed: {errors[0]}")
    return {host: problem for r in reports for host, problem in r.get("failed", {}).items()}


def read_views(folder: Path) -> list[dict]:
    """The index rows a page writer kept (its folder of ``write_pages``), in host order."""
    with Parts(folder, "rb") as parts:
        return list(parts.items(parts.views))
