"""The monitor playbook under ansible-runner, the engine AWX/AAP runs jobs with, against the lab.

As an AWX job: the project's checkout as the project directory (its ansible.cfg), an inventory
without credentials, the device login injected by the custom credential type in awx/ (environment
variables, the CA bundle as a file of the private data directory), runner's event callback, and
the env files left out (AWX_RUNNER_OMIT_ENV_FILES). ARA is off: it would record into the user's
local server.
"""
from __future__ import annotations

import base64
import gzip
import json
import os
import sys
from collections import Counter
from pathlib import Path

import ansible_runner
import pytest
import yaml

from tests.awx import RESTCONF_TYPE, inject_credential, load
from tests.lablib import ROOT

# What each device of the test fleet (tests/lab/fleet.yml) is; wrongcert proves the injected CA
# bundle is used (its certificate names another host), the ok ones that it is trusted.
DEVICES = {
    "c9300": "ok", "c9300x": "ok", "csr": "ok", "gx": "ok",
    "badpass": "auth_failed", "err500": "degraded", "malformed": "error",
    "closed": "unreachable", "wrongcert": "unreachable",
}
SECRET_VARS = ("ansible_user", "ansible_password", "restconf_ca_path", "restconf_validate_certs",
               "lab_enable_secret")   # the lab's SSH enable secret, when its fleet has SSH


@pytest.fixture(scope="module")
def job(lab, tmp_path_factory):
    private = tmp_path_factory.mktemp("awx_job")
    inventory = yaml.safe_load((lab.state_dir / "inventory.yml").read_text())
    user, password = lab.auth
    for name in SECRET_VARS:
        inventory["all"]["vars"].pop(name, None)
    (private / "inventory").mkdir()
    (private / "inventory/hosts.yml").write_text(yaml.safe_dump(inventory))

    credential = {"username": user, "password": password, "ca_bundle": Path(lab.ca_path).read_text(),
                  "validate_certs": "yes"}
    injected, files = inject_credential(load(RESTCONF_TYPE), credential, private)
    report = private / "report"
    env = {**injected, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_CALLBACK_PLUGINS": "/nonexistent",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false",
           # this venv's ansible-playbook, as the execution environment's is the one on its PATH
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    with pytest.MonkeyPatch.context() as mp:   # runner starts from this process's environment
        for name in [k for k in os.environ if k.startswith(("ARA_", "JOHANN_"))]:
            mp.delenv(name)
        run = ansible_runner.run(
            private_data_dir=str(private), project_dir=str(ROOT), playbook="playbooks/monitor.yml",
            inventory=str(private / "inventory/hosts.yml"), envvars=env,
            extravars={"target": ",".join(DEVICES), "johann_report_dir": str(report)},
            ident="monitor",
            suppress_env_files=True, quiet=True, timeout=600)
    events = list(run.events)
    return {"run": run, "events": events, "private": private, "password": password, "report": report,
            "artifacts": Path(run.config.artifact_dir), "inventory": private / "inventory/hosts.yml",
            "ca_file": files["template.ca_bundle"], "stdout": run.stdout.read()}


def test_job_succeeds(job):
    run = job["run"]
    assert (run.rc, run.status) == (0, "successful"), job["stdout"][-3000:]
    assert job["inventory"].read_text().count("password") == 0


def test_artifacts_carry_counts_per_status_and_the_report_location(job):
    stats = [e for e in job["events"] if e["event"] == "playbook_on_stats"]
    assert len(stats) == 1
    artifact = stats[0]["event_data"]["artifact_data"]["johann_monitor"]
    assert {s: n for s, n in artifact["statuses"].items() if n} == dict(Counter(DEVICES.values()))
    assert artifact["devices"] == len(DEVICES) and artifact["not_ok"] == 5
    assert isinstance(artifact["alerting"], int)
    assert artifact["path"] == str(job["report"] / "index.html") and Path(artifact["path"]).is_file()
    assert set(artifact) == {"devices", "statuses", "not_ok", "alerting", "path", "carried", "stale"}
    assert (artifact["carried"], artifact["stale"]) == (0, 0)   # a first run: nothing carried over
    fleet = json.loads(gzip.decompress((job["report"] / "fleet.json.gz").read_bytes()))
    assert {h: d["status"] for h, d in fleet["devices"].items()} == DEVICES


def test_job_events_have_every_device(job):
    events = job["events"]
    assert events[0]["event"] == "playbook_on_start" and events[-1]["event"] == "playbook_on_stats"
    read = [e for e in events if e["event"] == "runner_on_ok" and e["event_data"].get("task") == "Read the device"]
    assert sorted(e["event_data"]["host"] for e in read) == sorted(DEVICES)
    for event in read:
        device = _record(event["event_data"]["res"])
        assert device["status"] == DEVICES[event["event_data"]["host"]], device["message"]
    tasks = [e["event_data"]["task"] for e in events if e["event"] == "playbook_on_task_start"]
    assert tasks[:3] == ["Read the device", "Write the report",
                         "Publish the outcome as job artifacts (AWX/AAP, ansible-runner; a workflow's next node gets them)"]
    assert not [e for e in events if e["event"] in ("runner_on_failed", "runner_on_unreachable")]
    assert job["run"].stats["ok"].keys() >= set(DEVICES)


def test_the_injected_ca_file_is_the_one_trusted(job):
    """wrongcert fails verification against it, the others pass: the bundle was read from the injected file."""
    by_host = {e["event_data"]["host"]: _record(e["event_data"]["res"]) for e in job["events"]
               if e["event"] == "runner_on_ok" and e["event_data"].get("task") == "Read the device"}
    assert "TLS certificate verification failed" in by_host["wrongcert"]["message"]
    assert job["ca_file"].parent == job["private"] / "env"


def test_password_is_in_no_event_output_or_artifact(job):
    password = job["password"]
    assert password not in job["stdout"]
    assert password not in json.dumps(job["events"])
    leaks = [p for p in job["private"].rglob("*") if p.is_file() and password.encode() in p.read_bytes()]
    # ansible-runner records the process environment (the injected credential included) in
    # artifacts/<ident>/command by design; AWX runs it in the job's throwaway container and removes it
    # (AWX_CLEANUP_PATHS). Nothing else may hold it: no event, no env file, no report, no fact cache.
    assert leaks == [job["artifacts"] / "command"], leaks
    assert not (job["private"] / "env/envvars").exists() and not (job["private"] / "env/extravars").exists()
    assert not [p for p in job["report"].rglob("*") if p.is_file() and password.encode() in _inflated(p)]


def _inflated(path: Path) -> bytes:
    """A report file as a reader sees it: fleet.json.gz decompressed."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _record(result: dict) -> dict:
    """The device record in a device_info result of monitor.yml (result_format json_gz: base64 of gzip)."""
    return json.loads(gzip.decompress(base64.b64decode(result["device_json_gz"])))
