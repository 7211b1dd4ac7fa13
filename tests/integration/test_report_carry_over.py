"""Partial runs update the fleet view: a --limit run keeps the other devices with their age (merge.py)."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import time
from html import unescape
from pathlib import Path

from tests.integration.conftest import run_playbook
from tests.lablib import ROOT

MONITOR = ROOT / "playbooks/monitor.yml"
HOSTS = ("c9300", "csr", "gx")
TARGET = ",".join(HOSTS)


def _monitor(lab, out: Path, *args: str):
    run = run_playbook(lab, MONITOR, "-e", f"johann_report_dir={out}", "-e", f"target={TARGET}", *args)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return run


def _fleet(out: Path) -> dict:
    return json.loads(gzip.decompress((out / "fleet.json.gz").read_bytes()))


def _row(out: Path, host: str) -> str:
    html = (out / "index.html").read_text()
    row = html[html.index(f'href="devices/{host}.html"'):]
    return unescape(row[:row.index("</tr>")])


def _links_resolve(out: Path) -> set[str]:
    """Every device link of the index points at a page, and every page links back; returns the linked pages."""
    linked = set(re.findall(r'href="devices/([^"]+\.html)"', (out / "index.html").read_text()))
    assert linked == {p.name for p in (out / "devices").glob("*.html")}
    for name in linked:
        assert 'href="../index.html"' in (out / "devices" / name).read_text()
    return linked


def _polled(fleet: dict, host: str) -> dt.datetime:
    return dt.datetime.fromisoformat(fleet["devices"][host]["polled_at"].replace("Z", "+00:00"))


def test_a_limit_run_keeps_the_fleet_marks_ages_then_stale_then_forgets(lab, tmp_path):
    out = tmp_path / "r"
    _monitor(lab, out)
    full = _fleet(out)
    assert sorted(full["devices"]) == sorted(HOSTS) and set(full["seen"]) == set(HOSTS)
    time.sleep(1.1)   # polled_at has milliseconds: the next read of c9300 is visibly newer

    limited = _monitor(lab, out, "--limit", "c9300")
    fleet = _fleet(out)
    assert sorted(fleet["devices"]) == sorted(HOSTS)
    assert _polled(fleet, "c9300") > _polled(full, "c9300")
    for host in ("csr", "gx"):
        assert fleet["devices"][host] == full["devices"][host]   # the last known record, unchanged
        assert fleet["seen"][host] == full["seen"][host]
        row = _row(out, host)
        assert 'badge ok">OK<' in row and re.search(r"last read \d+s ago", row), row
        page = (out / "devices" / f"{host}.html").read_text()
        assert re.search(r"Last read \d+s ago</strong>", page) and "(status then: OK)" in page
    assert "last read" not in _row(out, "c9300")
    assert _links_resolve(out) == {f"{h}.html" for h in HOSTS}
    assert re.search(r"\(3 devices: 1 ok; 2 carried over \(0\s+stale\); 0 alerting", limited.stdout), \
        limited.stdout[-2000:]
    index = (out / "index.html").read_text()
    assert "<b>2</b>carried over" in index and "<b>3</b>OK" in index   # fresh carried devices keep their status
    assert list(json.loads((out / "summary.json").read_text())["devices"]) == ["c9300"]   # history: this run only

    time.sleep(1.1)
    stale = _monitor(lab, out, "--limit", "c9300", "-e", "johann_stale_after=1")
    for host in ("csr", "gx"):
        row = _row(out, host)
        assert 'badge stale">Stale<' in row and "over the stale age of 1s; its last status was OK" in row
    index = (out / "index.html").read_text()
    assert "<b>2</b>Stale" in index and "<b>1</b>OK" in index
    assert re.search(r"\(3 devices: 1 ok; 2 carried over \(2\s+stale\);", stale.stdout), stale.stdout[-2000:]
    assert _fleet(out)["devices"]["csr"]["status"] == "ok"   # fleet.json keeps the record as read
    assert _links_resolve(out) == {f"{h}.html" for h in HOSTS}

    time.sleep(1.1)
    gone = _monitor(lab, out, "--limit", "c9300", "-e", "johann_forget_after=1")
    assert sorted(_fleet(out)["devices"]) == ["c9300"]
    assert _links_resolve(out) == {"c9300.html"}
    assert re.search(r"\(1 devices: 1 ok; 2 left out \(not\s+read for johann_forget_after\);", gone.stdout), \
        gone.stdout[-2000:]


def test_carry_over_false_writes_this_runs_hosts_only_and_a_bad_fleet_json_warns(lab, tmp_path):
    out = tmp_path / "r"
    _monitor(lab, out, "--limit", "c9300,csr")
    _monitor(lab, out, "--limit", "c9300", "-e", "johann_carry_over=false")
    assert sorted(_fleet(out)["devices"]) == ["c9300"] and _links_resolve(out) == {"c9300.html"}
    (out / "fleet.json.gz").write_bytes(gzip.compress(b'{"schema": 1, "devices": '))
    run = _monitor(lab, out, "--limit", "csr")
    assert "is not valid JSON" in run.stdout + run.stderr and "devices not in this run are left out" in \
        re.sub(r"\s+", " ", run.stdout + run.stderr)
    assert sorted(_fleet(out)["devices"]) == ["csr"]
