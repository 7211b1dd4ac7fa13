"""playbooks/show_run.yml against the lab: each device's running configuration as JSON beside the report,
secrets masked, a failing device failing alone and keeping its previous file, and the report linking it."""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.integration.conftest import run_playbook
from tests.lablib import ROOT

MASK = "********"
NATIVE = "Cisco-IOS-XE-native:native"
OLD = b'{"previous": "kept"}\n'
OLD_MTIME = 1_700_000_000
HREF = re.compile(r'<a href="(\.\./config/[^"]*)"[^>]*>Running configuration \(JSON\)</a>')


def _recap(stdout: str) -> dict[str, dict[str, int]]:
    return {m[1]: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m[2])}
            for m in re.finditer(r"^(\S+)\s+: (ok=.*)$", stdout, re.M)}


@pytest.fixture(scope="module")
def show_run(lab, tmp_path_factory):
    """show_run.yml for two IOS XE devices, the IETF one and two failing ones that had a file already."""
    out = tmp_path_factory.mktemp("show_run")
    config = out / "config"
    config.mkdir()
    for host in ("badpass", "norestconf"):   # an earlier run's files
        (config / f"{host}.json").write_bytes(OLD)
        os.utime(config / f"{host}.json", (OLD_MTIME, OLD_MTIME))
    log = out.parent / f"{out.name}-ansible.log"
    run = run_playbook(lab, ROOT / "playbooks/show_run.yml", "-vvv", "--limit", "c9300,csr,gx,badpass,norestconf",
                       "-e", f"johann_report_dir={out}", extra_env={"ANSIBLE_LOG_PATH": str(log)})
    files = {p.name: p.read_bytes() for p in config.iterdir()}
    return {"dir": out, "run": run, "output": run.stdout + run.stderr, "log": log.read_text(), "files": files}


def _config(show_run, host: str) -> dict:
    return json.loads(show_run["files"][f"{host}.json"])


def test_only_the_failing_devices_fail_and_each_says_why(show_run):
    run = show_run["run"]
    assert run.returncode == 2, run.stdout[-3000:] + run.stderr[-2000:]   # host failures
    recap = _recap(run.stdout)
    assert {h: r["failed"] for h, r in recap.items()} == {"c9300": 0, "csr": 0, "gx": 0, "badpass": 1,
                                                         "norestconf": 1}
    output = show_run["output"]
    assert re.search(r'fatal: \[badpass\]: FAILED! => \{[^}]*"msg": "auth_failed: authentication failed: 401 '
                     r'access-denied', output)
    assert re.search(r'fatal: \[norestconf\]: FAILED! => \{[^}]*"msg": "error: RESTCONF not enabled: 404', output)
    assert re.search(r"Running configurations: \S+/config \(3 written; not read: badpass, norestconf\)", output)


def test_a_failing_device_keeps_its_previous_file_untouched(show_run):
    config = show_run["dir"] / "config"
    for host in ("badpass", "norestconf"):
        assert show_run["files"][f"{host}.json"] == OLD
        assert (config / f"{host}.json").stat().st_mtime == OLD_MTIME
    # each file written in one piece: nothing else in the directory (no temporary file left)
    assert set(show_run["files"]) == {"c9300.json", "csr.json", "gx.json", "badpass.json", "norestconf.json"}


@pytest.mark.parametrize("host", ["c9300", "csr"])
def test_ios_xe_native_configuration_is_the_devices_with_secrets_masked(lab, show_run, host):
    truth = lab.truth(host)["config"][NATIVE]
    secrets = [u["secret"]["secret"] for u in truth["username"]]
    communities = [c["name"] for c in truth["snmp-server"]["Cisco-IOS-XE-snmp:community-config"]]
    assert len(secrets) == 3 and len(communities) == 1 and all(secrets + communities)
    got = _config(show_run, host)
    native = got[NATIVE]
    assert list(got) == [NATIVE] and native["hostname"] == truth["hostname"] == host
    described = [(kind, e["name"], e["description"]) for kind, entries in truth["interface"].items()
                 for e in entries if e.get("description")]
    assert described
    for kind, name, description in described:
        (entry,) = [e for e in native["interface"][kind] if e["name"] == name]
        assert entry["description"] == description
    assert [u["secret"] for u in native["username"]] == [{"encryption": "9", "secret": MASK}] * 3
    assert native["snmp-server"]["Cisco-IOS-XE-snmp:community-config"] == [{"name": MASK, "permission": "ro"}]
    # nothing else differs from the device's configuration, in the device's order
    for user in truth["username"]:
        user["secret"]["secret"] = MASK
    truth["snmp-server"]["Cisco-IOS-XE-snmp:community-config"][0]["name"] = MASK
    assert json.dumps(native) == json.dumps(truth)
    for secret in secrets + communities:
        assert secret not in show_run["files"][f"{host}.json"].decode()
        assert secret not in show_run["output"], "a secret in ansible-playbook's output (-vvv)"
        assert secret not in show_run["log"], "a secret in Ansible's log"


def test_the_ietf_device_gets_its_system_and_interfaces_configuration(lab, show_run):
    truth = lab.truth("gx")["config"]
    got = _config(show_run, "gx")
    assert list(got) == ["ietf-system:system", "ietf-interfaces:interfaces"]
    assert got["ietf-system:system"] == truth["ietf-system:system"] and got["ietf-system:system"]["hostname"] == "gx"
    assert got["ietf-interfaces:interfaces"] == truth["ietf-interfaces:interfaces"]
    (eth0,) = [i for i in got["ietf-interfaces:interfaces"]["interface"] if i["name"] == "eth0"]
    assert eth0["description"] == "management" and "statistics" not in eth0   # content=config: no state


def test_files_are_pretty_utf8_json_readable_by_their_owner_and_group_only(show_run):
    for host in ("c9300", "csr", "gx"):
        path = show_run["dir"] / "config" / f"{host}.json"
        data = path.read_bytes()
        text = data.decode("utf-8")
        assert text.endswith("}\n") and not text.endswith("\n\n")
        assert text.splitlines()[1].startswith('  "') and not text.splitlines()[1].startswith('   ')   # indent 2
        assert json.loads(text) == _config(show_run, host)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE((show_run["dir"] / "config").stat().st_mode) == 0o750


def test_a_device_without_the_model_fails_alone_and_keeps_its_file(lab, tmp_path):
    """Past the platform check: the read itself finds nothing (a model this device does not have)."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "c9300.json").write_bytes(OLD)
    models = {"iosxe": [{"path": "Cisco-IOS-XE-native:no-such-model"}], "ietf": [{"path": "ietf-system:system"}]}
    run = run_playbook(lab, ROOT / "playbooks/show_run.yml", "--limit", "c9300,gx", "-e",
                       f"johann_report_dir={tmp_path}", "-e", json.dumps({"johann_config_models": models}))
    assert run.returncode == 2, run.stdout[-3000:] + run.stderr[-2000:]
    assert {h: r["failed"] for h, r in _recap(run.stdout).items()} == {"c9300": 1, "gx": 0}
    assert re.search(r'fatal: \[c9300\]: FAILED! => \{[^}]*"msg": "no configuration: not found: 404 invalid-value '
                     r'\(uri keypath not found\) on Cisco-IOS-XE-native:no-such-model"', run.stdout)
    assert (tmp_path / "config" / "c9300.json").read_bytes() == OLD
    assert list(json.loads((tmp_path / "config" / "gx.json").read_text())) == ["ietf-system:system"]


def test_the_report_keeps_the_files_and_device_pages_link_them(lab, show_run):
    out: Path = show_run["dir"]
    run = run_playbook(lab, ROOT / "playbooks/monitor.yml", "--limit", "c9300,gx,badpass,hostile",
                       "-e", f"johann_report_dir={out}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert {p.name: p.read_bytes() for p in (out / "config").iterdir()} == show_run["files"]
    for host in ("c9300", "gx", "badpass"):   # badpass: the file of an earlier run, still linked
        page = out / "devices" / f"{host}.html"
        (href,) = HREF.findall(page.read_text())
        assert href == f"../config/{host}.json"
        assert (page.parent / unquote(href)).resolve() == (out / "config" / f"{host}.json").resolve()
    hostile = (out / "devices" / "hostile.html").read_text()   # never read by show_run: no link, how to get one
    assert HREF.findall(hostile) == [] and "Running configuration (JSON): none yet" in hostile
    assert "playbooks/show_run.yml writes it" in hostile
