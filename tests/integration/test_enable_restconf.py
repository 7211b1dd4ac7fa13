"""playbooks/enable_restconf.yml against the lab's SSH CLI: cisco.ios.ios_config over network_cli (libssh),
then device_info over RESTCONF; check mode, idempotence, saving, privilege 1, and each SSH fault on its own.

Devices (tests/lab/fleet.yml): `sshplay` is as from the factory (none of the three lines, its HTTPS port
closed), `sshsave` has HTTPS but not `restconf` (404), `priv1` logs in at `host>` and needs enable,
`sshbadpass`, `sshclosed` and `slowcli` (1.5 s per command) are the SSH faults, and `c9300x` has
RESTCONF on already.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.integration.conftest import ARA_OFF, run_playbook
from tests.lablib import ROOT

PLAYBOOK = ROOT / "playbooks/enable_restconf.yml"
LINES = ["ip http secure-server", "ip http authentication local", "restconf"]
DEFAULT_OUT = {"ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_FORCE_COLOR": "0"}


@pytest.fixture(scope="module")
def lab(ssh_lab):
    """This module's tests run on the SSH fleet's own lab (tests/lab/ssh_fleet.yml), not the session's."""
    return ssh_lab


def enable(lab, *args: str):
    return run_playbook(lab, PLAYBOOK, *args, extra_env=DEFAULT_OUT)


def recap(stdout: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP: {host: {ok, changed, unreachable, failed, ...}}."""
    rows = re.findall(r"^(\S+)\s+:\s+(ok=.*)$", stdout.split("PLAY RECAP")[-1], re.M)
    return {host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)} for host, counts in rows}


def cli(lab, name: str) -> dict:
    return lab.admin("GET", f"/devices/{name}/cli").json()


def restconf_status(lab, name: str) -> int | str:
    """The HTTP status of a RESTCONF GET, or "refused" when nothing listens on the HTTPS port."""
    try:
        with lab.client(name) as client:
            return client.get("/restconf/data/Cisco-IOS-XE-native:native/hostname").status_code
    except httpx.ConnectError as exc:
        assert "refused" in str(exc).lower(), exc
        return "refused"


def fatal(stdout: str, host: str) -> str:
    """The last failure line of a host: the playbook's own, with the cause and what to check."""
    found = re.findall(rf"^fatal: \[{host}\]: .*$", stdout, re.M)
    assert found, f"no failure line for {host}:\n{stdout[-3000:]}"
    return found[-1]


@pytest.fixture(scope="module")
def check_run(lab):
    """--check --diff first, while sshplay's RESTCONF is still off."""
    assert restconf_status(lab, "sshplay") == "refused"
    before = cli(lab, "sshplay")
    run = enable(lab, "--limit", "sshplay", "--check", "--diff")
    return run, before


def test_check_mode_changes_nothing_and_shows_the_three_lines(lab, check_run):
    run, before = check_run
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    after = cli(lab, "sshplay")
    assert after["running_config"] == before["running_config"] and not after["restconf_enabled"]
    assert restconf_status(lab, "sshplay") == "refused"
    assert "no ip http secure-server" in after["running_config"] and "restconf" not in after["running_config"]
    for line in LINES:
        assert re.search(rf"^\+\s*{re.escape(line)}$", run.stdout, re.M), (line, run.stdout[-3000:])
    assert "ip http secure-server / ip http authentication local / restconf" in run.stdout
    assert recap(run.stdout)["sshplay"]["failed"] == 0
    assert re.search(r"TASK \[Read the device's identity over RESTCONF\] \**\nskipping: \[sshplay\]", run.stdout)
    typed = after["commands"][len(before["commands"]):]
    assert "show running-config" in typed and not any(c.startswith("conf") for c in typed)


@pytest.fixture(scope="module")
def first_run(lab, check_run):
    return enable(lab, "--limit", "sshplay,c9300x,priv1", "--diff")


def test_enable_turns_restconf_on_and_proves_it(lab, first_run):
    assert first_run.returncode == 0, first_run.stdout[-4000:] + first_run.stderr[-2000:]
    state = cli(lab, "sshplay")
    assert state["restconf_enabled"] and restconf_status(lab, "sshplay") == 200
    for line in LINES:
        assert line in state["running_config"] and line not in state["startup_config"]   # not saved unless asked
    truth = lab.truth("sshplay")
    assert state["https_enabled"] and truth["restconf_enabled"]
    assert (f'"msg": "RESTCONF answers on {truth["address"]}:{truth["port"]}/restconf: sshplay, {truth["model"]}, '
            f'Cisco IOS XE Software, Version {truth["os_version_full"]}"') in first_run.stdout
    for line in LINES:   # --diff: the running configuration before and after
        assert re.search(rf"^\+{re.escape(line)}$", first_run.stdout, re.M), line
    counts = recap(first_run.stdout)
    assert counts["sshplay"]["changed"] == 1 and counts["sshplay"]["failed"] == 0
    assert counts["c9300x"]["changed"] == 0 and counts["c9300x"]["failed"] == 0   # already on: nothing typed
    assert counts["priv1"]["failed"] == 0   # privilege 1: enable with the inventory's become password
    assert "enable" in cli(lab, "priv1")["commands"]
    secrets = (lab.auth[1], lab.inventory["all"]["vars"]["lab_enable_secret"])
    assert not any(secret in first_run.stdout + first_run.stderr for secret in secrets)


def test_only_the_three_lines_are_typed_in_config_mode(lab, first_run):
    """cisco.ios 11.1.1's ios_config sends its block once per item of `lines` (three times here): the same
    three lines each time, and nothing else."""
    commands = cli(lab, "sshplay")["commands"]
    blocks, at = [], 0
    while "configure terminal" in commands[at:]:
        start = commands.index("configure terminal", at)
        at = commands.index("end", start)
        blocks.append(commands[start + 1:at])
    assert blocks and all(block == LINES for block in blocks), blocks


def test_second_run_changes_nothing(lab, first_run):
    run = enable(lab, "--limit", "sshplay")
    assert run.returncode == 0, run.stdout[-3000:]
    assert recap(run.stdout)["sshplay"] == {**recap(run.stdout)["sshplay"], "changed": 0, "failed": 0}


def test_the_monitor_then_reads_the_device_ok(lab, first_run, tmp_path):
    run = run_playbook(lab, ROOT / "playbooks/monitor.yml", "--limit", "sshplay", "-e",
                       f"johann_report_dir={tmp_path}", "-e", "johann_history_runs=0")
    assert run.returncode == 0, run.stdout[-3000:]
    record = json.loads(gzip.decompress((tmp_path / "fleet.json.gz").read_bytes()))["devices"]["sshplay"]
    assert record["status"] == "ok" and record["identity"]["hostname"] == "sshplay"


def test_save_config_writes_startup_only_when_asked(lab):
    assert restconf_status(lab, "sshsave") == 404
    run = enable(lab, "--limit", "sshsave", "-e", "johann_save_config=true")
    assert run.returncode == 0, run.stdout[-3000:]
    assert recap(run.stdout)["sshsave"]["changed"] == 1 and restconf_status(lab, "sshsave") == 200
    state = cli(lab, "sshsave")
    assert all(line in state["startup_config"] for line in LINES) and not state["unsaved_config"]
    assert any(c.startswith(("copy running-config startup-config", "write memory")) for c in state["commands"])


def test_each_ssh_fault_fails_that_host_alone(lab):
    run = enable(lab, "--limit", "sshbadpass,sshclosed,slowcli,c9300", "-e", "ansible_command_timeout=1")
    assert run.returncode != 0
    counts = recap(run.stdout)
    assert counts["c9300"]["failed"] == 0 and counts["c9300"]["unreachable"] == 0
    for host in ("sshbadpass", "sshclosed", "slowcli"):
        assert counts[host]["failed"] + counts[host]["unreachable"] == 1, (host, counts)
    assert "ssh connection failed: Failed to authenticate" in fatal(run.stdout, "sshbadpass")
    assert "(SSH login refused: check ansible_user and ansible_password)" in fatal(run.stdout, "sshbadpass")
    host = lab.host("sshclosed")
    assert (f"ssh connect failed: Connection refused (nothing listens on {host['ansible_host']} port "
            f"{host['johann_ssh_port']}: set johann_ssh_port") in fatal(run.stdout, "sshclosed")
    assert "command timeout triggered, timeout value is 1 secs" in fatal(run.stdout, "slowcli")
    assert "slower than ansible_command_timeout, 1 s" in fatal(run.stdout, "slowcli")
    assert lab.auth[1] not in run.stdout + run.stderr


def test_a_user_below_privilege_15_without_become_is_named(lab):
    run = enable(lab, "--limit", "priv1", "-e", "ansible_become=false")
    assert run.returncode != 0
    message = fatal(run.stdout, "priv1")
    assert "operation requires privilege escalation (the SSH user is below privilege 15: set ansible_become" in message


def test_a_wrong_enable_secret_is_named(lab):
    run = enable(lab, "--limit", "priv1", "-e", "ansible_become_password=not-the-secret")
    assert run.returncode != 0
    message = fatal(run.stdout, "priv1")
    assert "failed to elevate privilege to enable mode" in message and "check ansible_become_password" in message
    assert "not-the-secret" not in message


def test_ssh_password_from_a_vaulted_inventory(lab, tmp_path):
    """The SSH (and RESTCONF) password as an Ansible Vault string in group_vars, never in the output."""
    inventory = yaml.safe_load((lab.state_dir / "inventory.yml").read_text())
    password = inventory["all"]["vars"].pop("ansible_password")
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv/hosts.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "vault-pass").write_text("lab-vault-key\n")
    vault = subprocess.run([str(Path(sys.executable).with_name("ansible-vault")), "encrypt_string",
                            "--vault-password-file", str(tmp_path / "vault-pass"), "--name", "ansible_password",
                            "--", password], capture_output=True, text=True, timeout=60, check=True).stdout
    assert "$ANSIBLE_VAULT;1.1;AES256" in vault and password not in vault
    (tmp_path / "inv/group_vars/all").mkdir(parents=True)
    (tmp_path / "inv/group_vars/all/vault.yml").write_text(vault)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), **ARA_OFF, **DEFAULT_OUT)
    run = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), str(PLAYBOOK), "-i",
                          str(tmp_path / "inv"), "--limit", "c9300", "--vault-password-file", str(tmp_path / "vault-pass"),
                          "-v"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert recap(run.stdout)["c9300"]["failed"] == 0 and "RESTCONF answers on" in run.stdout
    assert password not in run.stdout + run.stderr
    without = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), str(PLAYBOOK), "-i",
                              str(tmp_path / "inv"), "--limit", "c9300"], cwd=ROOT, capture_output=True, text=True,
                             timeout=300, env=env)
    assert without.returncode != 0 and "no vault secrets" in without.stdout + without.stderr
