"""The chaos suite's quick subset (make test; the whole suite is make chaos, bench/chaos.py).

One run of playbooks/monitor.yml over a lab of every misbehaving device of bench/chaos_cases.py
(a body or headers a byte at a time, an endless body, a lying Content-Length, a gzip bomb, a
nesting bomb, HTML for JSON, hostile JSON of six kinds, TLS that never answers, a reset after 100
bytes, a device that takes one request at a time) beside healthy ones, over real TLS, with a short
device deadline: the run ends by itself within about one deadline, every healthy device is read
exactly, every sick one carries its cause, no controller process grows past the memory bound, and
the report is written. Then ARA's server is stopped (SIGSTOP) mid-run: the run still ends and
writes its report.
"""
from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import pytest
from markupsafe import escape

from bench import ara_overhead, chaos_cases
from bench import chaos_run as engine
from tests.conftest import subnet
from tests.lablib import start_lab

DEADLINE = 12.0   # above the 10 s read timeout, so a lying Content-Length shows as a read timeout


@pytest.fixture(scope="module")
def chaos_lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("chaos")
    fleet = chaos_cases.write_fleet(work / "fleet.yml", network=subnet(170), healthy=1)
    running = start_lab(fleet, work / "lab")
    yield running
    assert running.stop() == 0, running.stderr()


@pytest.fixture(scope="module")
def chaos_run(chaos_lab, tmp_path_factory):
    return engine.run(None, tmp_path_factory.mktemp("chaos-run"), inventory=chaos_lab.state_dir / "inventory.yml",
                     deadline=DEADLINE)


def _hosts(lab) -> list[str]:
    return [h for group in lab.inventory["all"]["children"]["lab"]["children"].values() for h in group["hosts"]]


def test_the_run_ends_within_about_one_deadline_and_prints_the_report(chaos_run):
    assert chaos_run["rc"] == 0 and not chaos_run["timed_out"], chaos_run["log_tail"]
    # the trickling devices really were held until their deadline, and nothing held the run longer
    assert DEADLINE <= chaos_run["wall_s"] < DEADLINE + 30, chaos_run["wall_s"]
    assert chaos_run["report_path_printed"]
    assert chaos_run["left_running"] == []


def test_every_sick_device_names_its_cause_and_every_healthy_one_is_exact(chaos_lab, chaos_run):
    hosts = _hosts(chaos_lab)
    assert set(chaos_run["records"]) == set(hosts)
    assert len(hosts) == len(chaos_cases.CASES) + len(chaos_cases.HEALTHY)
    problems = {h: chaos_cases.judge(h, chaos_run["records"][h], DEADLINE) for h in hosts}
    assert {h: p for h, p in problems.items() if p} == {}
    for host in hosts:
        if chaos_cases.case_of(host) is None:
            identity, truth = chaos_run["records"][host]["identity"], chaos_lab.truth(host)
            assert (identity["serial"], identity["hostname"]) == (truth["serial"], truth["hostname"]) == \
                (truth["serial"], host)


def test_the_busy_device_was_read_one_request_at_a_time(chaos_run):
    record = chaos_run["records"]["one-at-a-time"]
    assert record["status"] == "ok" and record["concurrency"]["used"] == 1
    assert record["concurrency"]["busy_replies"] >= 1
    assert all(s["status"] in ("ok", "absent") for s in record["sections"].values())


def test_no_controller_process_passes_the_memory_bound(chaos_run):
    peaks = chaos_run["peak_rss_mib"]
    assert {"main", "workers", "poller"} <= set(peaks), peaks
    assert max(peaks.values()) < engine.MEMORY_BOUND_MIB, peaks


def test_each_device_page_shows_its_cause(chaos_run):
    report = Path(chaos_run["report"])
    index = (report / "index.html").read_text()
    for case in chaos_cases.CASES:
        page = (report / "devices" / f"{case.name}.html").read_text()
        assert f"devices/{case.name}.html" in index
        if case.cause:
            assert str(escape(case.cause.format(deadline=f"{DEADLINE:g}"))) in page, case.name


def test_the_bounds_hold_the_same_when_each_worker_polls_its_device(chaos_lab, tmp_path):
    """poller=worker: the deadline, the size limit and the memory bound, in Ansible's workers."""
    sick = ["drip-body", "endless-body", "gzip-bomb", "nesting-bomb"]
    outcome = engine.run(None, tmp_path / "run", inventory=chaos_lab.state_dir / "inventory.yml",
                        limit=",".join([*sick, "ok-c9300-0001"]), extra=["-e", "johann_poller=worker"], deadline=5)
    assert outcome["rc"] == 0 and outcome["report_path_printed"], outcome["log_tail"]
    assert outcome["pollers_seen"] == 0 and "poller" not in outcome["peak_rss_mib"]
    assert {h: chaos_cases.judge(h, r, 5) for h, r in outcome["records"].items()} == dict.fromkeys(
        [*sick, "ok-c9300-0001"])
    assert 5 <= outcome["wall_s"] < 5 + 25
    assert max(outcome["peak_rss_mib"].values()) < engine.MEMORY_BOUND_MIB, outcome["peak_rss_mib"]


def test_a_hung_ara_server_costs_one_timeout_and_the_report_is_written(chaos_lab, tmp_path):
    server = ara_overhead.Server(tmp_path / "ara", None, None)
    server.start()
    pids = [server.pid, *ara_overhead._children(server.pid)]

    def stop_ara(_proc) -> str:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return "stopped"

    env = {"ARA_API_SERVER": server.endpoint, "JOHANN_ARA_DATA_DIR": str(server.data_dir),
           "JOHANN_ARA_AUTOSTART": "false", "ARA_API_TIMEOUT": "5"}
    healthy = [h for h in _hosts(chaos_lab) if chaos_cases.case_of(h) is None]
    try:
        outcome = engine.run(None, tmp_path / "run", inventory=chaos_lab.state_dir / "inventory.yml",
                            limit=",".join(healthy), ara=True, env=env,
                            trigger=("TASK [Read the device]", 0.0, stop_ara), deadline=DEADLINE)
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
    log = Path(outcome["log"]).read_text()
    assert outcome["trigger"]["what"] == "stopped"
    assert outcome["rc"] == 0 and outcome["report_path_printed"], outcome["log_tail"]
    assert f"ARA's API server {server.endpoint} did not answer (timed out)" in log
    assert "history: off, could not read run history from ARA" in log
    assert {r["status"] for r in outcome["records"].values()} == {"ok"}
    # one 5 s timeout, then ARA's requests fail at once (each result waiting 5 s would take 30 s more)
    assert outcome["wall_s"] < 25, outcome["wall_s"]
