# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole report: records in, pages and exports out, a summary back."""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ansible_collections.johann.monitor.plugins.plugin_utils._report import history as hist
from ansible_collections.johann.monitor.plugins.plugin_utils._report import view, writer

FLEET_SCHEMA = 1
PARALLEL_FROM = 100   # device pages: below this, forking costs more than it saves


PAGES_DEADLINE = 900.0   # seconds for all device pages; a writer still running then is killed


def _write_pages(devices: list[dict], pages_dir: Path, template, common: dict) -> None:
    for d in devices:
        writer.write_atomic(pages_dir / d["page"], template.render(d=d, root="../", **common))


def _child(devices: list[dict], pages_dir: Path, template, common: dict, report_fd: int) -> None:
    """A forked page writer: write its share, report a failure on the pipe, and leave with os._exit.

    os._exit skips the atexit handlers and finalizers the child inherited from Ansible's worker
    (a multiprocessing.Pool here hung after the last page in 2 of 2 runs inside ansible-playbook).
    """
    code = 0
    try:
        _write_pages(devices, pages_dir, template, common)
    except BaseException as exc:   # noqa: BLE001 - anything, reported to the parent
        os.write(report_fd, f"{type(exc).__name__}: {exc}"[:2000].encode("utf-8", "replace"))
        code = 1
    finally:
        os._exit(code)


def write_device_pages(devices: list[dict], pages_dir: Path, template, common: dict) -> None:
    """One page per device, on up to 4 cores for a large fleet (forked writers share the parsed templates)."""
    workers = min(4, os.cpu_count() or 1)
    if len(devices) < PARALLEL_FROM or workers < 2 or not hasattr(os, "fork"):
        _write_pages(devices, pages_dir, template, common)
        return
    children: dict[int, int] = {}   # pid -> read end of its error pipe
    for share in range(workers):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child(devices[share::workers], pages_dir, template, common, write_fd)
        os.close(write_fd)
        children[pid] = read_fd
    failures, deadline = [], time.monotonic() + PAGES_DEADLINE
    while children:
        for pid, read_fd in list(children.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if not done and time.monotonic() < deadline:
                continue
            if not done:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                failures.append(f"a page writer was still running after {PAGES_DEADLINE:g} s and was stopped")
            elif os.waitstatus_to_exitcode(status) != 0:
                message = os.read(read_fd, 4000).decode("utf-8", "replace")
                failures.append(message or f"a page writer exited with {os.waitstatus_to_exitcode(status)}")
            os.close(read_fd)
            del children[pid]
        if children:
            time.sleep(0.02)
    if failures:
        raise OSError(f"writing device pages failed: {failures[0]}")


def load_fleet_json(path: Path) -> dict[str, Any]:
    """Records and settings of an earlier report, to render it again without polling."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read stored records from {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("devices"), dict):
        raise ValueError(f"{path} is not a johann.monitor fleet.json (no 'devices' mapping)")
    return data


def render_report(records: dict[str, dict | None], output_dir: Path, template_dirs: list[Path],
                  thresholds: dict, title: str, generated_at: str,
                  history: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write index, device pages, statistics, licensing and exports; return counts and paths.

    ``history``: ``{"enabled": bool, "reason": str | None, "source": str | None,
    "past": [run summaries, oldest first]}``; off when None.
    """
    started = time.monotonic()
    history = history or {"enabled": False, "reason": "history was not asked for", "source": None, "past": []}
    devices = sorted((view.device_view(host, rec, thresholds) for host, rec in records.items()),
                     key=lambda d: d["host"])
    fleet = view.fleet_view(devices)
    current = hist.run_summary(records, generated_at)
    fleet["history"] = {"enabled": bool(history["enabled"]), "reason": history.get("reason"),
                        "source": history.get("source"), "past_runs": len(history.get("past") or []), "runs": []}
    if history["enabled"]:
        fleet["history"]["runs"] = hist.attach(devices, history.get("past") or [], current)
    else:
        for d in devices:
            d["trend"] = None
    env = writer.environment(template_dirs)
    script, script_hash = writer.script_and_hash(env)
    common = {"title": title, "generated_at": generated_at, "fleet": fleet, "script": script,
              "script_hash": script_hash}
    pages_dir = output_dir / "devices"
    pages_dir.mkdir(parents=True, exist_ok=True)
    write_device_pages(devices, pages_dir, env.get_template("device.html"), common)
    stale = writer.remove_stale_pages(pages_dir, {d["page"] for d in devices})
    for name in ("stats.html", "licensing.html"):
        writer.write_atomic(output_dir / name, env.get_template(name).render(devices=devices, root="", **common))
    writer.write_atomic(output_dir / "devices.csv", writer.devices_csv(devices))
    writer.write_atomic(output_dir / "interfaces.csv", writer.interfaces_csv(devices))
    writer.write_atomic(output_dir / "fleet.json", json.dumps(
        {"schema": FLEET_SCHEMA, "title": title, "generated_at": generated_at, "thresholds": thresholds,
         "devices": {d["host"]: d["record"] for d in devices}}, separators=(",", ":"), ensure_ascii=False))
    summary_path = output_dir / "summary.json"
    writer.write_atomic(summary_path, json.dumps(current, separators=(",", ":"), ensure_ascii=False))
    parts_dir = output_dir / "summary-parts"   # what ARA gets: records under its request size limit
    parts_dir.mkdir(exist_ok=True)
    parts = []
    for number, text in enumerate(hist.split_summary(current), start=1):
        parts.append(parts_dir / f"part-{number}.json")
        writer.write_atomic(parts[-1], text)
    writer.remove_stale_pages(parts_dir, {p.name for p in parts}, pattern="part-*.json")
    index = output_dir / "index.html"
    writer.write_atomic(index, env.get_template("index.html").render(devices=devices, root="", **common))
    statuses = Counter(d["status"] for d in devices)
    return {
        "path": str(index), "output_dir": str(output_dir), "devices": len(devices),
        "statuses": {s: statuses.get(s, 0) for s in (*view.STATUSES, "missing")},
        "alerting": {d["host"]: d["alerts"] for d in devices if d["alerts"]},
        "not_ok": {d["host"]: f"{d['status']}: {d['message']}" for d in devices if d["status"] != "ok"},
        "stale_pages_removed": stale, "render_seconds": round(time.monotonic() - started, 3),
        "summary_path": str(summary_path), "summary_parts": [str(p) for p in parts],
        "history": dict({k: fleet["history"][k] for k in ("enabled", "reason", "source", "past_runs")},
                        recording=bool(history.get("recording"))),
        "changes": {d["host"]: [c["text"] for c in d["trend"]["changes"]] for d in devices
                    if d.get("trend") and d["trend"]["changes"]},
    }
