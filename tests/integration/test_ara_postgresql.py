"""Run history on a team's ARA: PostgreSQL (Debian's server, tests/ara_postgres.py), gunicorn with several
workers and ARA's callback threads. Two monitor runs over the session lab record there; the second report
reads its trends back from it; the rows are in PostgreSQL itself; ``ara playbook prune`` removes old runs.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
import zlib
from pathlib import Path

import pytest

from bench.slices_bench import read_fleet
from tests.integration.conftest import run_playbook
from tests.lablib import ROOT

MONITOR = ROOT / "tests/integration/monitor_and_keep.yml"   # playbooks/monitor.yml, then keeps its report result
POLL_TASK = "Read the device"
# a label of this module's runs only: the session's PostgreSQL ARA is shared with other tests
TAG = f"test:ara-postgresql-{uuid.uuid4().hex[:8]}"


def _hosts(lab) -> set[str]:
    return {host for group in lab.inventory["all"]["children"]["lab"]["children"].values() for host in group["hosts"]}


@pytest.fixture(scope="module")
def two_runs(lab, ara_postgresql, tmp_path_factory):
    out = tmp_path_factory.mktemp("ara-pg-report")
    results = [out.parent / f"{out.name}-result-{n}.json" for n in (1, 2)]
    env = dict(ara_postgresql.env(), ARA_DEFAULT_LABELS=f"johann.monitor,{TAG}")
    runs = []
    for result in results:
        run = run_playbook(lab, MONITOR, "-e", f"johann_report_dir={out}", "-e", f"keep_result={result}",
                           extra_env=env, ara=True)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-3000:]
        runs.append(run)
    playbooks = ara_postgresql.api("/api/v1/playbooks", label=TAG, order="id")["results"]
    return {"runs": runs, "out": out, "results": [json.loads(r.read_text()) for r in results],
            "playbooks": playbooks}


def test_both_runs_are_recorded_with_every_hosts_result(two_runs, ara_postgresql, lab):
    hosts = _hosts(lab)
    assert len(hosts) == 25
    for run in two_runs["runs"]:   # recorded without a failed call (threads lose errors silently otherwise)
        assert "Failed to" not in run.stdout + run.stderr
        assert "Starting ARA's API server" not in run.stdout   # the fixture's server, already up
    playbooks = two_runs["playbooks"]
    assert [p["status"] for p in playbooks] == ["completed", "completed"]
    assert {p["name"] for p in playbooks} == {"johann.monitor"}
    for playbook in playbooks:
        labels = {label["name"] for label in playbook["labels"]}
        assert {"johann.monitor", TAG, "project:johann.monitor", "target:all", "inventory:inventory.yml"} <= labels
        tasks = ara_postgresql.api("/api/v1/tasks", playbook=playbook["id"], name=POLL_TASK)["results"]
        assert len(tasks) == 1
        polled = ara_postgresql.api("/api/v1/results", task=tasks[0]["id"], limit=1000)
        assert polled["count"] == len(hosts)   # one result per device, none lost by the callback's threads
        recorded = ara_postgresql.api("/api/v1/hosts", playbook=playbook["id"], limit=1000)["results"]
        assert {h["name"] for h in recorded} >= hosts
        with_stats = {h["name"] for h in recorded if h["ok"] + h["changed"] + h["failed"] + h["unreachable"] > 0}
        assert with_stats >= hosts
        records = {r["key"]: r for r in ara_postgresql.api("/api/v1/records", playbook=playbook["id"])["results"]}
        assert set(records) == {"johann.summary", "report"}
        assert records["report"]["type"] == "url"
    # the lab's truth: the faulty devices are not ok, the healthy ones are, in ARA's results as in the run
    statuses = {r["host"]: r["status"] for r in _results(ara_postgresql, playbooks[-1]["id"])}
    assert statuses["c9300"] == "ok" and statuses["eos"] == "ok"


def _results(ara_postgresql, playbook: int) -> list[dict]:
    task = ara_postgresql.api("/api/v1/tasks", playbook=playbook, name=POLL_TASK)["results"][0]
    rows = ara_postgresql.api("/api/v1/results", task=task["id"], limit=1000)["results"]
    names = {h["id"]: h["name"] for h in ara_postgresql.api("/api/v1/hosts", playbook=playbook, limit=1000)["results"]}
    return [{"host": names[r["host"]], "status": r["status"]} for r in rows]


def test_the_summary_in_postgresql_is_the_runs_summary(two_runs, ara_postgresql, lab):
    last = two_runs["playbooks"][-1]
    record = ara_postgresql.api("/api/v1/records", playbook=last["id"], key="johann.summary")["results"][0]
    value = ara_postgresql.api(f"/api/v1/records/{record['id']}")["value"]
    summary = json.loads(value) if isinstance(value, str) else value
    assert (summary["part"], summary["parts"]) == (1, 1)
    assert {k: v for k, v in summary.items() if k not in ("part", "parts")} == json.loads(
        (two_runs["out"] / "summary.json").read_text())
    assert set(summary["devices"]) == _hosts(lab)
    c9300 = summary["devices"]["c9300"]
    truth = lab.truth("c9300")
    assert c9300["status"] == "ok" and c9300["boot_time"][:19] == truth["boot_time_iso"][:19]
    assert summary["devices"]["badpass"]["status"] != "ok" and summary["devices"]["hang"]["status"] != "ok"


def test_the_second_report_reads_its_history_from_postgresql(two_runs, ara_postgresql):
    first, second = two_runs["results"]
    assert first["history"]["enabled"] is True and second["history"]["enabled"] is True
    assert ara_postgresql.api_server in second["history"]["source"]
    # what the second run could read: the session's ARA is shared with other tests' runs (sliced runs of this lab
    # among them), so count in PostgreSQL what was recorded before it: every summary (the report reads the last 30,
    # whatever their devices), those holding any of this run's devices (the availability bars), and those holding
    # c9300 (its sparklines' points)
    before = two_runs["playbooks"][-1]["id"]
    hosts = set(read_fleet(two_runs["out"])["devices"])
    read = [(p, devices) for p, devices in _summaries(ara_postgresql) if p < before][-30:]   # what the report read
    every = [p for p, _ in read]
    with_any = [p for p, devices in read if devices & hosts]
    with_c9300 = [p for p, devices in read if "c9300" in devices]
    assert with_c9300 and two_runs["playbooks"][0]["id"] in with_c9300
    assert second["history"]["past_runs"] == len(every)
    index = (two_runs["out"] / "index.html").read_text()
    runs_word = "run" if len(every) == 1 else "runs"
    assert f"Trends from ARA at {ara_postgresql.api_server}: {len(every)} past {runs_word}<" in index
    assert len(re.findall(r'<rect class="bar ', index)) == len(with_any) + 1   # availability: a bar per run
    # sparklines: one point per run (CPU, memory, temperature) for a device polled in every run
    lines = re.findall(r'<polyline points="([^"]+)"', (two_runs["out"] / "devices" / "c9300.html").read_text())
    assert len(lines) == 3 and all(len(points.split()) == len(with_c9300) + 1 for points in lines), lines
    # the frozen lab: nothing changed between the runs, and the report says so
    assert second["changes"] == {}


def _summaries(ara_postgresql) -> list[tuple[int, set[str]]]:
    """Every johann.summary record in PostgreSQL, oldest first: (its playbook, the devices it holds)."""
    with ara_postgresql.connect() as db:
        rows = db.execute("select r.playbook_id, r.value from records r where r.key = 'johann.summary' "
                          "order by r.id").fetchall()
    found = []
    for playbook, value in rows:
        summary = json.loads(zlib.decompress(bytes(value)))
        summary = json.loads(summary) if isinstance(summary, str) else summary
        found.append((playbook, set(summary.get("devices", {}))))
    return found


def test_the_rows_are_in_postgresql(two_runs, ara_postgresql, lab):
    ids = [p["id"] for p in two_runs["playbooks"]]
    with ara_postgresql.connect() as db:
        assert db.execute("select version()").fetchone()[0].startswith("PostgreSQL ")
        statuses = db.execute("select status from playbooks where id = any(%s) order by id", (ids,)).fetchall()
        polled = db.execute("select t.playbook_id, count(*) from results r join tasks t on r.task_id = t.id "
                            "where t.playbook_id = any(%s) and t.name = %s group by t.playbook_id order by 1",
                            (ids, POLL_TASK)).fetchall()
        records = db.execute("select playbook_id, key from records where playbook_id = any(%s) order by 1, 2",
                             (ids,)).fetchall()
        labels = db.execute("select l.name from labels l join playbooks_labels pl on pl.label_id = l.id "
                            "where pl.playbook_id = %s", (ids[-1],)).fetchall()
    assert [s for (s,) in statuses] == ["completed", "completed"]
    assert polled == [(ids[0], len(_hosts(lab))), (ids[1], len(_hosts(lab)))]
    assert records == [(i, k) for i in ids for k in ("johann.summary", "report")]
    assert {TAG, "target:all"} <= {name for (name,) in labels}


def test_the_server_runs_several_workers_on_postgresql(ara_postgresql, two_runs):
    settings = (ara_postgresql.data_dir / "settings.yaml").read_text()
    assert "DATABASE_ENGINE: django.db.backends.postgresql" in settings
    assert "passfile" in settings and ara_postgresql.cluster.passfile.stat().st_mode & 0o777 == 0o600
    password = ara_postgresql.cluster.passfile.read_text().strip().rsplit(":", 1)[1]
    assert len(password) >= 32 and password not in settings   # the password stays in its 0600 file
    logs = (ara_postgresql.data_dir / "server.log").read_text() + ara_postgresql.cluster.log.read_text()
    assert password not in logs and "SCRAM-SHA-256$" not in logs
    master = int((ara_postgresql.data_dir / "gunicorn.pid").read_text())
    workers = [p for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == master]
    assert len(workers) == ara_postgresql.workers >= 2
    assert ara_postgresql.env()["ARA_CALLBACK_THREADS"] == str(ara_postgresql.callback_threads) != "0"
    assert not any(password in run.stdout + run.stderr for run in two_runs["runs"])
    with ara_postgresql.connect() as db:   # nor in what ARA recorded (compressed fields inflated)
        for table, column in (("results", "content"), ("records", "value"), ("file_contents", "contents"),
                              ("playbooks", "arguments"), ("hosts", "facts")):
            for (blob,) in db.execute(f"select {column} from {table}"):  # noqa: S608
                assert password.encode() not in zlib.decompress(bytes(blob)), table


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def test_prune_removes_playbooks_older_than_the_days_kept(two_runs, ara_postgresql):
    """``ara playbook prune`` as ``make ara-prune`` runs it (keep 30 days): the first run, made 40 days old in the
    database, goes with its results; the second stays. Last in this module: it deletes the first run."""
    old, new = (p["id"] for p in two_runs["playbooks"])
    with ara_postgresql.connect() as db:
        db.execute("update playbooks set started = started - interval '40 days', "
                   "ended = ended - interval '40 days' where id = %s", (old,))
        size_before = db.execute("select count(*) from results r join tasks t on r.task_id = t.id "
                                 "where t.playbook_id = %s", (old,)).fetchone()[0]
    assert size_before > 0
    ara = str(Path(sys.executable).with_name("ara"))
    env = dict(os.environ, ARA_API_CLIENT="http", ARA_API_SERVER=ara_postgresql.api_server)
    prune = subprocess.run([ara, "playbook", "prune", "--days", "30", "--label", TAG, "--confirm"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert prune.returncode == 0, prune.stdout + prune.stderr
    assert "1 playbooks deleted" in prune.stdout + prune.stderr
    left = [p["id"] for p in ara_postgresql.api("/api/v1/playbooks", label=TAG)["results"]]
    assert left == [new]
    with ara_postgresql.connect() as db:
        for table, column in (("tasks", "playbook_id"), ("hosts", "playbook_id"), ("records", "playbook_id"),
                              ("plays", "playbook_id"), ("playbooks", "id")):
            count = db.execute(f"select count(*) from {table} where {column} = %s", (old,)).fetchone()[0]  # noqa: S608
            assert count == 0, table
        kept = db.execute("select count(*) from results r join tasks t on r.task_id = t.id "
                          "where t.playbook_id = %s", (new,)).fetchone()[0]
    assert kept == size_before
