"""Render time of the HTML report for a large fleet, without a lab process or Ansible.

Records come from the lab's profiles answering in-process and the collection's
normalisers (the same path as device_info, minus the network), cycled over the
profiles, so a 1000-device report has realistic interfaces, sensors and faults.

    .venv/bin/python bench/report_bench.py --devices 1000
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "collections")]

from ansible_collections.johann.monitor.plugins.module_utils._alerts import DEFAULT_THRESHOLDS  # noqa: E402
from ansible_collections.johann.monitor.plugins.module_utils._normalise import platforms  # noqa: E402
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import SECTIONS  # noqa: E402
from ansible_collections.johann.monitor.plugins.plugin_utils._report.render import render_report  # noqa: E402

from lab import restconf  # noqa: E402
from lab.fleet import DeviceSpec, Fleet, build_devices  # noqa: E402
from lab.model import Clock  # noqa: E402

EPOCH = 1795000000.0
PROFILES = ("iosxe-17", "iosxe-17", "iosxe-16.12", "ietf")


def _record(device, platform_name: str) -> dict:
    platform = platforms.BY_NAME[platform_name]
    raw = {r.key: restconf.get_json(device, r.path, r.params, EPOCH)[1] for r in platform.resources}
    record = {"schema": 1, "host": device.name, "address": device.address, "port": device.port, "status": "ok",
              "message": None, "platform": platform_name, "restconf_root": "/restconf", "root_source": "host-meta",
              "polled_at": "2026-11-18T11:06:40.000Z", "duration": 0.1, "requests": 14, "alerts": [],
              "sections": {}, **{name: None for name in SECTIONS}}
    for section in platform.sections:
        record[section.name] = section.build(raw, {"now": None})
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


def run(devices: int, work: Path) -> dict:
    started = time.monotonic()
    data = records(devices)
    built = time.monotonic() - started
    cpu0 = time.process_time()
    summary = render_report(data, work, [ROOT / "reports" / "templates"], DEFAULT_THRESHOLDS, "bench",
                            "2026-11-29T00:00:00Z")
    cpu = time.process_time() - cpu0
    size = sum(p.stat().st_size for p in work.rglob("*") if p.is_file())
    return {"devices": devices, "records_built_s": round(built, 2), "render_wall_s": summary["render_seconds"],
            "render_cpu_s": round(cpu, 2), "index_bytes": (work / "index.html").stat().st_size,
            "report_bytes": size, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--work-dir", type=Path, default=ROOT / "bench" / "work" / "report")
    args = parser.parse_args()
    print(json.dumps(run(args.devices, args.work_dir), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
