"""device_info records for the report's tests, made without sockets, and a report rendered from them.

The records are the lab's devices read through the collection's normalisers in process (``record_at``), or
written by hand (``record``), in the shape johann.monitor.device_info returns (schema 1, alerts evaluated with
the default thresholds, as device_info does). ``write_fleet`` stores them as a report's ``fleet.json.gz`` and
``render_stored`` renders that through the public face: ``ansible-playbook playbooks/report.yml``, that is
johann.monitor.report with its documented ``fleet_json`` option.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

from ansible_collections.johann.monitor.plugins.module_utils._alerts import DEFAULT_THRESHOLDS, evaluate
from ansible_collections.johann.monitor.plugins.module_utils._history import summarise
from ansible_collections.johann.monitor.plugins.module_utils._normalise import platforms
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import SECTIONS

from lab import restconf
from lab.truth import device_truth
from tests.lablib import ROOT, ansible_playbook, localhost_inventory

TEMPLATES = [ROOT / "reports" / "templates"]   # the project's templates, what a monitor run renders with
REPORT_AND_KEEP = ROOT / "tests/browser/report_and_keep.yml"   # playbooks/report.yml, then its result kept


def record(host: str, **values) -> dict:
    """A record of ``host`` as device_info gives it: every section unknown but those in ``values``."""
    made = {"schema": 1, "host": host, "address": "192.0.2.1", "port": 443, "status": "ok", "message": None,
            "platform": "ietf", "restconf_root": "/restconf", "root_source": "default", "polled_at": None,
            "duration": 0.1, "requests": 3, "alerts": [], "sections": {}, **{s: None for s in SECTIONS}}
    made.update(values)
    made["alerts"] = evaluate(made, DEFAULT_THRESHOLDS)   # as device_info does (the report shows these)
    return made


def raw_replies(device, platform, at: float) -> dict:
    """What the lab device serves for each resource of the platform at ``at``, decoded (None when not 200)."""
    return {r.key: restconf.get_json(device, r.path, r.params, at)[1] for r in platform.resources}


def record_at(device, at: float) -> dict:
    """The sections device_info builds from what the lab device serves at ``at``, with status ok (no host)."""
    platform = platforms.BY_NAME[device_truth(device, at)["platform"]]
    raw = raw_replies(device, platform, at)
    made = {"status": "ok", "polled_at": None}
    ctx: dict = {"now": None}
    for section in platform.sections:
        made[section.name] = section.build(raw, ctx)
    return made


def past_run(time: str, records: dict[str, dict]) -> dict:
    """A past run as the report reads it from ARA: its time and each device's summary."""
    return {"time": time, "devices": {host: summarise(rec) for host, rec in records.items()}}


def write_fleet(path: Path, records: dict[str, dict], title: str) -> Path:
    """``records`` (host: record) stored as a report's fleet.json.gz: gzip-compressed JSON, ``title`` and
    ``devices``. Written a device per line, as the report writes it, so that neither this process nor the
    report's reader holds 10,000 records as one JSON text."""
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        out.write(json.dumps({"title": title})[:-1] + ',"devices":{\n')
        last = len(records) - 1
        for number, (host, rec) in enumerate(records.items()):
            out.write(f"{json.dumps(host)}:{json.dumps(rec)}{',' if number < last else ''}\n")
        out.write("}}\n")
    return path


def render_stored(fleet: Path, out: Path) -> dict:
    """The report of the records in ``fleet`` written to ``out`` by ``ansible-playbook playbooks/report.yml``
    (johann.monitor.report, ``fleet_json``); the report task's result. The inventory and the result's file go
    beside ``fleet``."""
    kept = fleet.with_name(f"{fleet.name}-result.json")
    run = ansible_playbook(REPORT_AND_KEEP, "-i", str(localhost_inventory(fleet.parent)), "-e", f"fleet_json={fleet}",
                           "-e", f"johann_report_dir={out}", "-e", f"keep_result={kept}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(kept.read_text())
