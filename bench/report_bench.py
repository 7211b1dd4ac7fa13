"""Render time of the HTML report for a large fleet, without a lab process or Ansible.

Records come from the lab's profiles answering in-process and the collection's
normalisers (the same path as device_info, minus the network), cycled over the
profiles, so a 1000-device report has realistic interfaces, sensors and faults.

    .venv/bin/python -m bench.report_bench --devices 1000 [--history 30]

With --history N the report also gets N past runs (this run's summaries, shifted back
5 minutes per run, as JSON text the way they come back from ARA): it measures the
size of one run's summary, decoding N of them, and rendering with trends.

The renderer is called here, not through the report action (``johann.monitor.report`` with ``fleet_json``
re-renders stored records through the public face): it measures the renderer alone, with its process's and
its page writers' peak memory apart, where inside an Ansible worker they would mix with Ansible's; and
--history and --results feed it what no documented option takes (past runs without an ARA server, records as
device_info results). Its collection imports come from bench/internals.py.
"""
from __future__ import annotations

import argparse
import base64
import functools
import gzip
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.internals import alerts, normalise_common, platforms
from bench.internals import report_history as hist
from bench.internals import report_records as recs
from bench.internals import report_render as render
from lab import restconf
from lab.fleet import DeviceSpec, Fleet, build_devices
from lab.model import Clock

ROOT = Path(__file__).resolve().parent.parent
EPOCH = 1795000000.0
PROFILES = ("iosxe-17", "iosxe-17", "iosxe-16.12", "ietf")


def _record(device, platform_name: str) -> dict:
    platform = platforms.BY_NAME[platform_name]
    raw = {r.key: restconf.get_json(device, r.path, r.params, EPOCH)[1] for r in platform.resources}
    record = {"schema": 1, "host": device.name, "address": device.address, "port": device.port, "status": "ok",
              "message": None, "platform": platform_name, "restconf_root": "/restconf", "root_source": "host-meta",
              "polled_at": "2026-11-18T11:06:40.000Z", "duration": 0.1, "requests": 14, "alerts": [],
              "sections": {}, **{name: None for name in normalise_common.SECTIONS}}
    for section in platform.sections:
        record[section.name] = section.build(raw, {"now": None})
    record["alerts"] = alerts.evaluate(record, alerts.DEFAULT_THRESHOLDS)   # as device_info does: the report shows the record's
    return record


def records(count: int) -> dict[str, dict]:
    """``count`` records: four real ones per profile mix, then copies under new names."""
    fleet = Fleet([DeviceSpec(f"dev-{i:04d}", PROFILES[i % len(PROFILES)],
                              {"hostile": True} if i % 97 == 5 else {}) for i in range(min(count, 40))], seed=5)
    devices = build_devices(fleet, {"username": "u", "password": "p"}, Clock(EPOCH, frozen=True))
    base = [_record(d, d.profile.platform) for d in devices]
    out = {}
    for i in range(count):
        record = dict(base[i % len(base)], host=f"dev-{i:04d}")
        if i % 50 == 7:
            record = dict(record, status="unreachable", message="timed out after 10 s connecting to 10.0.0.7:443")
        out[record["host"]] = record
    return out


class _Records:
    """ARA's records API in memory: a listing, then each record's value as JSON text (as ARA returns it)."""

    def __init__(self, texts: list[str]):
        self.texts = texts

    def get(self, path: str, **params) -> dict:
        if path == "/api/v1/records":
            ids = list(range(len(self.texts), 0, -1))[:params["limit"]]
            return {"results": [{"id": i} for i in ids]}
        record_id = int(path.rsplit("/", 1)[1])
        return {"id": record_id, "playbook": record_id, "value": self.texts[record_id - 1]}


def _past_runs(data: dict, count: int) -> tuple[list[dict], int, float]:
    """``count`` past runs read back by the report's own reader; one run's size; CPU to read them."""
    texts = []
    for n in range(count, 0, -1):
        summary = hist.run_summary(data, f"2026-11-28T{23 - n // 12:02d}:{(60 - 5 * (n % 12)) % 60:02d}:00Z")
        for s in summary["devices"].values():
            s["time"] = summary["generated_at"]
        texts.append(json.dumps(summary, separators=(",", ":")))
    started = time.process_time()
    runs = hist.load_runs(_Records(texts), count)
    return runs, len(texts[0]) if texts else 0, time.process_time() - started


def packed(data: dict[str, dict]) -> dict[str, Any]:
    """The records as a monitor run hands them to the report: device_info results with result_format json_gz
    (the registered results are in memory anyway), each read where it is rendered (records.Lazy). A version
    without records.Lazy gets them read all at once, as its report action did."""
    results = {host: {"changed": False, "status": rec["status"], "device_json_gz": base64.b64encode(gzip.compress(
        json.dumps(rec, separators=(",", ":")).encode(), 6, mtime=0)).decode()} for host, rec in data.items()}
    if hasattr(recs, "Lazy"):
        return {host: recs.Lazy(functools.partial(recs.from_result, host, result)) for host, result in results.items()}
    return {host: recs.from_result(host, result) for host, result in results.items()}


def run(devices: int, work: Path, history: int = 0, as_results: bool = False) -> dict:
    started = time.monotonic()
    data = records(devices)
    built = time.monotonic() - started
    past, summary_bytes, decode_cpu = _past_runs(data, history)
    if as_results:
        data = packed(data)
    cpu0 = time.process_time()
    summary = render.render_report(data, work, [ROOT / "reports" / "templates"], "bench",
                            "2026-11-29T00:00:00Z", completed=as_results,
                            history={"enabled": bool(history), "reason": None if history else "off (bench)",
                                     "source": "bench", "past": past})
    cpu = time.process_time() - cpu0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    size = sum(p.stat().st_size for p in work.rglob("*") if p.is_file())
    return {"devices": devices, "history_runs": history, "records_built_s": round(built, 2),
            "render_wall_s": summary["render_seconds"], "render_cpu_s": round(cpu, 2),
            "page_writers_cpu_s": round(children.ru_utime + children.ru_stime, 2),
            "summary_bytes_per_run": summary_bytes, "history_decode_cpu_s": round(decode_cpu, 2),
            "index_bytes": (work / "index.html").stat().st_size,
            "report_bytes": size, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "page_writers_peak_rss_mb": round(children.ru_maxrss / 1024, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--history", type=int, default=0, help="past runs to render trends from")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "bench" / "work" / "report")
    parser.add_argument("--results", action="store_true",
                        help="hand the records over as device_info results (json_gz), as a monitor run does")
    args = parser.parse_args()
    print(json.dumps(run(args.devices, args.work_dir, args.history, args.results), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
