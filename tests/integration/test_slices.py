"""A sliced run makes one report: K concurrent monitor runs over slices of the inventory record to one ARA
server, then playbooks/fleet_report.yml renders the fleet from each host's newest result read back from ARA.

What AWX/AAP job slicing does, without AWX: each slice is a separate ansible-playbook process with its own
report directory (on AWX, its own execution node), tied to the others only by johann_run_id and the ARA server.
The merged report must say what one unsliced run over the same devices says, host by host.
"""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import yaml

from bench.slices_bench import read_fleet, what_it_says
from tests.integration.conftest import run_playbook
from tests.lablib import ROOT

MONITOR = ROOT / "playbooks/monitor.yml"
FLEET_REPORT = ROOT / "playbooks/fleet_report.yml"
SLICES = 3


def _hosts(lab) -> list[str]:
    inventory = yaml.safe_load((lab.state_dir / "inventory.yml").read_text())
    found: list[str] = []

    def walk(group: dict) -> None:
        found.extend((group.get("hosts") or {}).keys())
        for child in (group.get("children") or {}).values():
            walk(child or {})
    walk(inventory["all"])
    return sorted(set(found))


@pytest.fixture(scope="module")
def ara(ara_postgresql):
    """The team's ARA: PostgreSQL behind gunicorn with several workers, the slices recording concurrently."""
    return {"env": ara_postgresql.env(), "api": ara_postgresql.api_server}


@pytest.fixture(scope="module")
def sliced(lab, ara, tmp_path_factory):
    """One unsliced run, then SLICES concurrent slice runs and an empty slice, then the report step."""
    work = tmp_path_factory.mktemp("slices")
    hosts = _hosts(lab)
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    whole = run_playbook(lab, MONITOR, "-e", f"johann_report_dir={work / 'whole'}", extra_env=ara["env"], ara=True)
    assert whole.returncode == 0, whole.stdout[-3000:] + whole.stderr[-2000:]
    size = -(-len(hosts) // SLICES)
    patterns = [",".join(hosts[n:n + size]) for n in range(0, len(hosts), size)]
    patterns.append("no_such_group")   # an empty slice: its play matches no host and must not fail

    def slice_run(number: int):
        return run_playbook(lab, MONITOR, "-e", f"target={patterns[number]}", "-e", f"johann_run_id={run_id}",
                            "-e", f"johann_report_dir={work / f'slice-{number}'}", extra_env=ara["env"], ara=True)

    with ThreadPoolExecutor(len(patterns)) as pool:
        slices = list(pool.map(slice_run, range(len(patterns))))
    merged = run_playbook(lab, FLEET_REPORT, "-e", f"johann_run_id={run_id}", "-e", f"johann_report_dir={work / 'merged'}",
                          extra_env=ara["env"], ara=True)
    return {"work": work, "hosts": hosts, "run_id": run_id, "patterns": patterns, "whole": whole,
            "slices": slices, "merged": merged}


def test_every_slice_and_the_empty_one_succeed(sliced):
    for run, pattern in zip(sliced["slices"], sliced["patterns"], strict=True):
        assert run.returncode == 0, pattern + run.stdout[-3000:] + run.stderr[-2000:]
    assert "skipping: no hosts matched" in sliced["slices"][-1].stdout
    assert sliced["merged"].returncode == 0, sliced["merged"].stdout[-3000:] + sliced["merged"].stderr[-2000:]


def test_the_merged_report_says_what_the_unsliced_run_says(sliced):
    whole, merged = read_fleet(sliced["work"] / "whole"), read_fleet(sliced["work"] / "merged")
    assert sorted(merged["devices"]) == sliced["hosts"]
    assert what_it_says(merged) == what_it_says(whole)
    statuses = {rec["status"] for rec in merged["devices"].values()}
    assert {"ok", "unreachable", "auth_failed"} <= statuses   # the session fleet's faults came through ARA too
    assert 'href="devices/' in (sliced["work"] / "merged" / "index.html").read_text()
    for host in sliced["hosts"]:
        assert (sliced["work"] / "merged" / "devices" / f"{host}.html").is_file()


def test_the_report_step_names_the_runs_it_read(sliced, ara):
    out = sliced["merged"].stdout
    n = len(sliced["hosts"])
    assert f"({n} devices from {n} results of {SLICES} runs in ARA:" in out
    labelled = httpx.get(f"{ara['api']}/api/v1/playbooks", params={"label": f"johann.run:{sliced['run_id']}"},
                         timeout=30).json()
    assert labelled["count"] == SLICES   # the empty slice ran no play: nothing recorded, nothing to read


def test_a_slice_that_never_ran_leaves_its_hosts_carried_or_missing(sliced, lab, ara):
    """Only the first slice ran under this id: its hosts are read; the others come from the previous report
    (the unsliced run's, in the same directory) with their age, or are missing with the reason where none."""
    work, hosts = sliced["work"], sliced["hosts"]
    first = sliced["patterns"][0].split(",")
    run_id = f"partial-{uuid.uuid4().hex[:8]}"
    one = run_playbook(lab, MONITOR, "-e", f"target={sliced['patterns'][0]}", "-e", f"johann_run_id={run_id}",
                       "-e", f"johann_report_dir={work / 'partial-slice'}", extra_env=ara["env"], ara=True)
    assert one.returncode == 0, one.stdout[-3000:]
    fresh = run_playbook(lab, FLEET_REPORT, "-e", f"johann_run_id={run_id}", "-e", f"johann_report_dir={work / 'fresh'}",
                         extra_env=ara["env"], ara=True)
    assert fresh.returncode == 0, fresh.stdout[-3000:]
    fleet = read_fleet(work / "fresh")
    for host in hosts:
        rec = fleet["devices"][host]
        if host in first:
            assert rec["status"] != "missing"
        else:
            assert rec["status"] == "missing"
            assert rec["message"] == (f"no run labelled johann.run:{run_id} recorded a device_info result for this "
                                      f"host in ARA (was it in a slice?)")
    kept = run_playbook(lab, FLEET_REPORT, "-e", f"johann_run_id={run_id}", "-e", f"johann_report_dir={work / 'whole'}",
                        extra_env=ara["env"], ara=True)
    assert kept.returncode == 0, kept.stdout[-3000:]
    assert f"{len(hosts) - len(first)} carried over" in kept.stdout
    after = read_fleet(work / "whole")
    assert {h for h in hosts if h not in first} <= set(after["devices"])
    assert all(after["devices"][h]["status"] != "missing" for h in hosts)


def test_an_unknown_run_id_fails_clearly_and_keeps_the_previous_report(sliced, lab, ara):
    out = sliced["work"] / "merged"
    before = (out / "index.html").read_bytes()
    run = run_playbook(lab, FLEET_REPORT, "-e", "johann_run_id=no-such-run", "-e", f"johann_report_dir={out}",
                       extra_env=ara["env"], ara=True)
    assert run.returncode != 0
    assert "has no run labelled johann.run:no-such-run: nothing to build the report from" in run.stdout
    assert "the previous report is unchanged" in run.stdout
    assert (out / "index.html").read_bytes() == before


def test_without_a_run_id_each_hosts_newest_result_of_the_window_is_read(sliced, lab, ara):
    """A scheduled workflow has no run id: the report step reads every run of the last johann_fleet_window s."""
    out = sliced["work"] / "window"
    run = run_playbook(lab, FLEET_REPORT, "-e", "johann_fleet_window=900", "-e", f"johann_report_dir={out}",
                       extra_env=ara["env"], ara=True)
    assert run.returncode == 0, run.stdout[-3000:]
    fleet = read_fleet(out)
    assert sorted(fleet["devices"]) == sliced["hosts"]
    assert what_it_says(fleet) == what_it_says(read_fleet(sliced["work"] / "whole"))   # same frozen lab, same values
    assert "missing" not in {rec["status"] for rec in fleet["devices"].values()}


def test_bad_report_step_parameters_are_named(sliced, lab, ara):
    run = run_playbook(lab, FLEET_REPORT, "-e", "johann_fleet_window=0", "-e", f"johann_report_dir={sliced['work'] / 'bad'}",
                       extra_env=ara["env"], ara=True)
    assert run.returncode != 0
    assert "ara_within must be a number of seconds over 0, not 0" in run.stdout
    assert not (sliced["work"] / "bad" / "index.html").exists()
