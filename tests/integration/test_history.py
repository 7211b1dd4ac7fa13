"""Run history end to end: two monitor runs recorded by ARA, trends and rates in the second report.

A lab of its own (its clock moves between the runs, one device reboots in between) and an ARA
server of its own, started by the project's johann.monitor.ara_server callback exactly as a
user's first run starts it: only the address and the data directory differ from ansible.cfg.
"""
from __future__ import annotations

import base64
import csv
import gzip
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import EPOCH, subnet
from tests.integration.conftest import run_playbook
from tests.lablib import ROOT, start_lab

MONITOR = ROOT / "tests/integration/monitor_and_keep.yml"   # playbooks/monitor.yml, then keeps its report result
FLEET = {"groups": [{"profile": "iosxe-17", "name": "c9300"}, {"profile": "iosxe-16.12", "name": "csr"},
                    {"profile": "ietf", "name": "gx"}, {"profile": "iosxe-17.12", "name": "rebooter"}]}
FIRST_TO_REBOOT, REBOOT_TO_SECOND = 240.0, 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def history_lab(tmp_path_factory):
    state = tmp_path_factory.mktemp("history-lab")
    fleet = state / "fleet.yml"
    fleet.write_text(yaml.safe_dump(FLEET))
    running = start_lab(fleet, state, "--epoch", str(EPOCH), "--frozen", "--network", subnet(150))
    yield running
    assert running.stop() == 0, running.stderr()


@pytest.fixture(scope="module")
def ara_server(tmp_path_factory):
    """Where the runs record: a fresh data directory and port; the server is started by the first run."""
    data = tmp_path_factory.mktemp("ara")
    endpoint = f"http://127.0.0.1:{_free_port()}"
    yield {"endpoint": endpoint, "data": data,
           "env": {"ARA_API_SERVER": endpoint, "JOHANN_ARA_DATA_DIR": str(data)}}
    pid_file = data / "gunicorn.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text()), signal.SIGTERM)


@pytest.fixture(scope="module")
def two_runs(history_lab, ara_server, tmp_path_factory):
    out = tmp_path_factory.mktemp("history-report")
    log = out.parent / f"{out.name}-ansible.log"   # Ansible's own log: searched for secrets too
    env = dict(ara_server["env"], ANSIBLE_LOG_PATH=str(log))
    results = [out.parent / f"{out.name}-result-{n}.json" for n in (1, 2)]

    def monitor(result: Path) -> subprocess.CompletedProcess:
        return run_playbook(history_lab, MONITOR, "-e", f"johann_report_dir={out}", "-e", f"keep_result={result}",
                            extra_env=env, ara=True)

    runs = [monitor(results[0])]
    first_csv = (out / "interfaces.csv").read_text()
    history_lab.advance(FIRST_TO_REBOOT)
    history_lab.admin("POST", "/devices/rebooter/reboot")
    history_lab.advance(REBOOT_TO_SECOND)
    runs.append(monitor(results[1]))
    for run in runs:
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-3000:]
    return {"runs": runs, "out": out, "log": log, "first_csv": first_csv, "results": results}


def _api(ara_server, path: str, **params) -> dict:
    return httpx.get(ara_server["endpoint"] + path, params=params, timeout=10).json()


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(text.splitlines()))


def test_the_first_run_starts_the_server_and_both_runs_are_recorded(two_runs, ara_server):
    first, second = two_runs["runs"]
    assert f"Starting ARA's API server at {ara_server['endpoint']}" in first.stdout
    assert "Starting ARA's API server" not in second.stdout   # already up
    playbooks = _api(ara_server, "/api/v1/playbooks", order="started")["results"]
    assert [p["status"] for p in playbooks] == ["completed", "completed"]
    assert {p["name"] for p in playbooks} == {"johann.monitor"}
    labels = {label["name"] for label in playbooks[-1]["labels"]}
    assert {"johann.monitor", "project:johann.monitor", "target:all", "inventory:inventory.yml"} <= labels
    # the ara CLI, as a user runs it, lists both
    listing = subprocess.run([str(Path(sys.executable).with_name("ara")), "playbook", "list", "-f", "json"],
                             env=dict(os.environ, ARA_API_CLIENT="http", ARA_API_SERVER=ara_server["endpoint"]),
                             capture_output=True, text=True, timeout=60, check=True)
    assert sorted(p["id"] for p in json.loads(listing.stdout)) == sorted(p["id"] for p in playbooks)
    for playbook in playbooks:   # every device's result recorded, and the run's records attached
        results = _api(ara_server, "/api/v1/results", playbook=playbook["id"], limit=1000)["results"]
        assert len(results) >= len(FLEET["groups"])
        records = {r["key"]: r for r in _api(ara_server, "/api/v1/records", playbook=playbook["id"])["results"]}
        assert set(records) == {"johann.summary", "report"}
        assert records["report"]["type"] == "url"


def test_the_summary_in_ara_is_the_runs_summary(two_runs, ara_server, history_lab):
    records = _api(ara_server, "/api/v1/records", key="johann.summary", order="id")["results"]
    value = _api(ara_server, f"/api/v1/records/{records[-1]['id']}")["value"]
    summary = json.loads(value) if isinstance(value, str) else value
    assert (summary["part"], summary["parts"]) == (1, 1)   # 4 devices: one part (1000 make three)
    assert {k: v for k, v in summary.items() if k not in ("part", "parts")} == json.loads(
        (two_runs["out"] / "summary.json").read_text())
    c9300 = summary["devices"]["c9300"]
    truth = history_lab.truth("c9300")
    assert c9300["boot_time"][:19] == truth["boot_time_iso"][:19] and c9300["status"] == "ok"
    assert len(c9300["interfaces"]) == len(truth["interfaces"])


def test_rates_between_the_runs_are_the_labs_true_rates(two_runs, history_lab):
    """Counter deltas over 300 s of lab time, through 32-bit counters, equal the configured rates."""
    rows = _rows((two_runs["out"] / "interfaces.csv").read_text())
    checked = 0
    for device in ("c9300", "csr", "gx"):
        truth = history_lab.truth(device)["interfaces"]
        for row in (r for r in rows if r["host"] == device):
            expected = truth[row["name"]]["rates"]
            assert float(row["delta_seconds"]) == pytest.approx(FIRST_TO_REBOOT + REBOOT_TO_SECOND)
            assert float(row["delta_in_bps"]) == pytest.approx(expected["in_bps"], rel=1e-3, abs=1.0), row
            assert float(row["delta_out_bps"]) == pytest.approx(expected["out_bps"], rel=1e-3, abs=1.0), row
            assert float(row["delta_in_errors_per_s"]) == pytest.approx(expected["in_errors_per_s"], rel=1e-2,
                                                                        abs=1e-3), row
            checked += 1
    assert checked >= 30   # every interface of three devices, not a lucky few
    # the first run had no previous run: no rates, no made-up zeros
    assert all(r["delta_in_bps"] == "" for r in _rows(two_runs["first_csv"]))


def test_a_device_rebooted_between_runs_shows_it_with_sane_rates(two_runs, history_lab):
    truth = history_lab.truth("rebooter")
    assert truth["reloads"] and truth["uptime"] == pytest.approx(REBOOT_TO_SECOND, abs=1)
    rows = [r for r in _rows((two_runs["out"] / "interfaces.csv").read_text()) if r["host"] == "rebooter"]
    assert rows
    for row in rows:   # counted from boot: 60 s of counters, not negative, not absurd
        expected = truth["interfaces"][row["name"]]["rates"]
        assert float(row["delta_seconds"]) == pytest.approx(REBOOT_TO_SECOND, abs=1.0)
        assert 0 <= float(row["delta_in_bps"]) <= float(row["speed_bps"]) * 1.05
        assert float(row["delta_in_bps"]) == pytest.approx(expected["in_bps"], rel=0.02, abs=1.0)
        assert "rebooted" in row["delta_note"]
    # the second report's result names the reboot; no other device changed
    result = _report_result(two_runs["results"][1])
    assert result["history"]["enabled"] is True and result["history"]["past_runs"] == 1
    assert [c for c in result["changes"].get("rebooter", []) if c.startswith("rebooted at")]
    assert set(result["changes"]) == {"rebooter"}, result["changes"]
    all_rates = [float(r[k]) for r in _rows((two_runs["out"] / "interfaces.csv").read_text())
                 for k in ("delta_in_bps", "delta_out_bps", "delta_in_errors_per_s") if r[k]]
    assert all_rates and min(all_rates) >= 0


def _report_result(path: Path) -> dict:
    """The report task's registered result, written by monitor_and_keep.yml after monitor.yml."""
    return json.loads(path.read_text())


def test_the_report_pages_hold_both_runs(two_runs, ara_server):
    index = (two_runs["out"] / "index.html").read_text()
    assert f"Trends from ARA at {ara_server['endpoint']}: 1 past run<" in index
    assert len(re.findall(r'<rect class="bar ', index)) == 2   # availability: one bar per run
    assert re.search(r'<td class="changes"[^>]*title="rebooted at [^"]+"', index)
    device = (two_runs["out"] / "devices" / "rebooter.html").read_text()
    assert "rebooted at" in device
    # sparklines hold both runs: two points per line (CPU, memory, temperature)
    lines = re.findall(r'<polyline points="([^"]+)"', (two_runs["out"] / "devices" / "c9300.html").read_text())
    assert len(lines) == 3 and all(len(points.split()) == 2 for points in lines), lines


def _secret_strings(history_lab) -> dict[str, str]:
    """The lab's password and the SNMP community strings the IOS XE devices have in their configuration."""
    password = yaml.safe_load((history_lab.state_dir / "inventory.yml").read_text())["all"]["vars"]["ansible_password"]
    communities = {c["name"] for d in ("c9300", "csr", "rebooter")
                   for c in history_lab.truth(d)["config"]["Cisco-IOS-XE-native:native"]["snmp-server"]
                   ["Cisco-IOS-XE-snmp:community-config"]}
    return {"password": password, **{f"community {c}": c for c in communities}}


def _sqlite_texts(db: Path) -> list[str]:
    """Every value in ARA's database, with its compressed fields (results, records, files) inflated."""
    texts = []
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            for row in conn.execute(f'select * from "{table}"'):   # noqa: S608 - table names from sqlite itself
                for value in row:
                    if isinstance(value, bytes):
                        try:
                            value = zlib.decompress(value)
                        except zlib.error:
                            pass
                        value = value.decode("utf-8", "replace")
                    texts.append(str(value))
                    texts.extend(_packed_records(str(value)))
    return texts


def _packed_records(text: str) -> list[str]:
    """The records inside a result's device_json_gz (base64 of gzip, monitor.yml's result_format), inflated."""
    return [gzip.decompress(base64.b64decode(packed)).decode("utf-8", "replace")
            for packed in re.findall(r'"device_json_gz": ?"([A-Za-z0-9+/=]+)"', text)]


def test_no_secret_reaches_ara_the_report_the_output_or_the_log(two_runs, ara_server, history_lab):
    secrets = _secret_strings(history_lab)
    assert len(secrets["password"]) >= 12 and len(secrets) >= 3
    db_texts = _sqlite_texts(ara_server["data"] / "ansible.sqlite")
    # the search can find things: the serial number is in ARA's (compressed) results, inside the packed records
    serial = history_lab.truth("c9300")["serial"]
    assert any(serial in t for t in db_texts)
    places = {"ARA database (decompressed)": "\n".join(db_texts)}
    for path in [*ara_server["data"].rglob("*"), *two_runs["out"].rglob("*"), two_runs["log"]]:
        if path.is_file():
            data = path.read_bytes()
            places[str(path)] = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8", "replace")
    assert serial in places[str(two_runs["out"] / "fleet.json.gz")]   # and in the report's records, inflated
    for i, run in enumerate(two_runs["runs"]):
        places[f"run {i + 1} stdout"], places[f"run {i + 1} stderr"] = run.stdout, run.stderr
    assert two_runs["log"].stat().st_size > 1000   # the log was written
    hits = [(name, where) for name, secret in secrets.items() for where, text in places.items() if secret in text]
    assert hits == []


def test_without_ara_the_report_says_history_is_off(history_lab, tmp_path):
    run = run_playbook(history_lab, MONITOR, "-e", f"johann_report_dir={tmp_path}",   # ARA switched off
                       "-e", f"keep_result={tmp_path / 'result.json'}")
    assert run.returncode == 0, run.stdout[-3000:]
    result = _report_result(tmp_path / "result.json")
    assert result["history"] == {"enabled": False, "recording": False, "source": None, "past_runs": 0,
                                 "reason": "ARA's callback is not loaded in this run (callback_plugins in "
                                           "ansible.cfg, see README: Run history), so runs are not recorded"}
    assert "TASK [Label the run in ARA" not in run.stdout   # ARA's actions are never loaded
    index = (tmp_path / "index.html").read_text()
    assert "History is off: ARA&#39;s callback is not loaded" in index
    assert json.loads((tmp_path / "summary.json").read_text())["devices"]["c9300"]["status"] == "ok"


def test_an_unreachable_ara_server_costs_the_history_not_the_report(history_lab, tmp_path):
    """ARA pointed at a closed port with autostart off: the run and its report complete; the report says why."""
    port = _free_port()
    env = {"ARA_API_SERVER": f"http://127.0.0.1:{port}", "JOHANN_ARA_AUTOSTART": "false",
           "JOHANN_ARA_DATA_DIR": str(tmp_path / "ara")}
    started = time.monotonic()
    run = run_playbook(history_lab, MONITOR, "-e", f"johann_report_dir={tmp_path}",
                       "-e", f"keep_result={tmp_path / 'result.json'}", extra_env=env, ara=True)
    assert time.monotonic() - started < 120
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"ARA's API server http://127.0.0.1:{port} does not answer" in run.stdout + run.stderr
    result = _report_result(tmp_path / "result.json")
    assert result["history"]["enabled"] is False and result["history"]["recording"] is False
    assert "could not read run history from ARA at" in result["history"]["reason"]
    assert "ConnectionError" in result["history"]["reason"]
    assert "History is off" in (tmp_path / "index.html").read_text()


def test_any_playbook_that_calls_the_report_keeps_history(history_lab, ara_server, two_runs, tmp_path):
    """No ara_record task: the report task attaches the summary, its location and its labels to the run in ARA,
    and the next run of the same playbook reads it back for its trends."""
    playbook = ROOT / "tests/integration/report_minimal.yml"
    results = [tmp_path / "result-1.json", tmp_path / "result-2.json"]
    for result in results:
        run = run_playbook(history_lab, playbook, "-e", f"johann_report_dir={tmp_path / 'out'}",
                           "-e", f"keep_result={result}", extra_env=ara_server["env"], ara=True)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    first, second = (json.loads(r.read_text()) for r in results)
    recorded = first["history"]["recorded"]
    assert recorded["keys"] == ["johann.summary"] and {"target:minimal", "site:lab"} <= set(recorded["labels"])
    playbook_id = recorded["playbook"]
    records = {r["key"]: r for r in _api(ara_server, "/api/v1/records", playbook=playbook_id)["results"]}
    assert set(records) == {"johann.summary", "report"}
    value = _api(ara_server, f"/api/v1/records/{records['johann.summary']['id']}")["value"]
    summary = json.loads(value) if isinstance(value, str) else value
    assert (summary["part"], summary["parts"]) == (1, 1) and summary["devices"]["c9300"]["status"] == "ok"
    assert set(summary["devices"]) == {g["name"] for g in FLEET["groups"]}
    report = _api(ara_server, f"/api/v1/records/{records['report']['id']}")["value"]
    assert report == (tmp_path / "out" / "index.html").as_uri()
    labels = {label["name"] for label in _api(ara_server, f"/api/v1/playbooks/{playbook_id}")["labels"]}
    assert {"target:minimal", "site:lab"} <= labels
    assert second["history"]["enabled"] is True and second["history"]["past_runs"] >= 1
    assert second["history"]["recorded"]["playbook"] != playbook_id   # its own run, recorded too
    assert not (tmp_path / "out" / "summary-parts").exists()
