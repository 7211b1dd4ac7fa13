"""The johann.monitor.csv inventory plugin through Ansible's own commands and the project's ansible.cfg:
ansible-inventory on the example files, ansible-doc, a broken file, and the monitor playbook against the lab
from a CSV device list (half the passwords in the CSV, the other half vaulted in group_vars)."""
from __future__ import annotations

import csv
import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from tests.integration.conftest import ARA_OFF, run_playbook
from tests.lablib import ROOT

BIN = Path(sys.executable).parent


def ansible(command: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", **ARA_OFF, **extra_env)
    return subprocess.run([str(BIN / command), *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


def plain(value):
    """ansible-inventory marks untrusted values (all of an inventory plugin's) as {"__ansible_unsafe": value}."""
    if isinstance(value, dict):
        return value["__ansible_unsafe"] if set(value) == {"__ansible_unsafe"} else {k: plain(v) for k, v in value.items()}
    return [plain(v) for v in value] if isinstance(value, list) else value


def inventory_list(source: str, *args: str) -> dict:
    run = ansible("ansible-inventory", "-i", source, "--list", *args)
    assert run.returncode == 0, run.stderr
    assert "WARNING" not in run.stderr, run.stderr
    return plain(json.loads(run.stdout))


def test_the_example_config_lists_the_example_devices():
    listed = inventory_list("inventory/johann.example.johann_csv.yml")
    hostvars = listed["_meta"]["hostvars"]
    assert sorted(hostvars) == ["access-01", "core-01", "core-02", "lab-gx", "sw-07.example.net"]
    assert hostvars["core-01"] == {"ansible_host": "192.0.2.11", "ansible_user": "netops", "johann_platform": "iosxe",
                                   "site": "dc1", "ansible_connection": "local"}
    assert hostvars["lab-gx"]["ansible_host"] == "2001:db8::30" and hostvars["lab-gx"]["restconf_port"] == 8443
    assert not [h for h, v in hostvars.items() if "ansible_password" in v]     # the example carries no password
    assert sorted(listed["johann"]["hosts"]) == sorted(hostvars)
    assert listed["core"]["hosts"] == ["core-01", "core-02"] == listed["dc1"]["hosts"]
    assert sorted(listed["access"]["hosts"]) == ["access-01", "sw-07.example.net"]
    assert listed["site_dc1"]["hosts"] == ["core-01", "core-02"] and listed["site_lab"]["hosts"] == ["lab-gx"]


def test_the_example_csv_is_an_inventory_source_itself():
    # ansible.cfg enables johann.monitor.csv and not ini, which would otherwise take every line for a host
    listed = inventory_list("inventory/johann.example.csv")
    assert sorted(listed["_meta"]["hostvars"]) == ["access-01", "core-01", "core-02", "lab-gx", "sw-07.example.net"]
    assert "site_dc1" not in listed                                              # no config, no keyed groups
    assert "ip,username,password,name,platform,port,group,site" not in json.dumps(listed)


def test_ansible_doc_documents_the_plugin_and_the_password_alternatives():
    run = ansible("ansible-doc", "-t", "inventory", "johann.monitor.csv")
    assert run.returncode == 0, run.stderr
    text = " ".join(run.stdout.split())
    for words in ("ansible-vault encrypt_string", "JOHANN_RESTCONF_PASSWORD", "AWX", ".johann_csv.yml",
                  "keyed_groups", "default_group"):
        assert words in text, words


def test_a_broken_file_is_an_error_naming_the_file_and_lines_and_no_password(tmp_path):
    (tmp_path / "devices.csv").write_text("ip,name,password,port\n10.0.0.1,r1,S3cret-csv-pw,8443\n"
                                          "10.0.0.2,r2,S3cret-csv-pw,84430\n10.0.0.3,r1,,\n")
    (tmp_path / "bad.johann_csv.yml").write_text("plugin: johann.monitor.csv\npath: devices.csv\n")
    run = ansible("ansible-inventory", "-i", str(tmp_path / "bad.johann_csv.yml"), "--list",
                  ANSIBLE_INVENTORY_UNPARSED_FAILED="true")
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert f"{tmp_path / 'devices.csv'}: 2 problems in the device list, nothing was loaded from it" in output
    assert "line 3: port '84430' is not a number from 1 to 65535" in output
    assert "line 4: name 'r1' is already used on line 2" in output
    assert "S3cret" not in output


def test_a_broken_csv_given_directly_stops_the_run(lab, tmp_path):
    """With the project's ansible.cfg no other plugin turns the broken file into hosts, and the run fails."""
    (tmp_path / "devices.csv").write_text("ip,name,port\n127.0.0.1,r1,84430\n")
    run = run_playbook(lab, ROOT / "playbooks/monitor.yml", "-i", str(tmp_path / "devices.csv"),
                       "-e", f"johann_report_dir={tmp_path / 'report'}")
    assert run.returncode != 0
    assert "line 2: port '84430' is not a number from 1 to 65535" in run.stdout + run.stderr
    assert not (tmp_path / "report").exists()   # nothing polled, nothing written


def test_monitor_playbook_reads_the_devices_of_a_csv(lab, tmp_path):
    user, password = lab.auth
    names = {"c9300": "iosxe", "c9300x": "", "csr": "auto", "gx": "ietf"}       # platform cells
    with_password = {"c9300", "csr"}
    with (tmp_path / "devices.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["IP", "Username", "Password", "Name", "Platform", "Port", "Group"])
        for name, platform in names.items():
            host = lab.host(name)
            writer.writerow([host["ansible_host"], user, password if name in with_password else "", f"csv-{name}",
                             platform, host["ansible_port"], "" if name in with_password else "vaulted"])

    # run_playbook gives ansible-playbook -i <state_dir>/inventory.yml: here a directory of that name, an
    # inventory directory holding the plugin's configuration and group_vars, with the CSV beside it
    inventory = tmp_path / "inventory.yml"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "devices.johann_csv.yml").write_text("plugin: johann.monitor.csv\npath: ../devices.csv\n")
    (inventory / "group_vars" / "johann.yml").write_text(yaml.safe_dump({"restconf_ca_path": lab.ca_path}))
    secret = [("default", VaultSecret(b"csv-inventory-test"))]
    vaulted = VaultLib(secret).encrypt(password).decode()
    (inventory / "group_vars" / "vaulted.yml").write_text(
        "ansible_password: !vault |\n" + "".join(f"  {line}\n" for line in vaulted.splitlines()))
    (tmp_path / "vault-pass").write_text("csv-inventory-test\n")

    out = tmp_path / "report"
    run = run_playbook(SimpleNamespace(state_dir=tmp_path), ROOT / "playbooks/monitor.yml",
                       "--vault-password-file", str(tmp_path / "vault-pass"), "-e", f"johann_report_dir={out}")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert re.search(r"Report: \S+/index.html \(4 devices: 4 ok;", run.stdout), run.stdout[-2000:]
    rows = {r["host"]: r for r in csv.DictReader((out / "devices.csv").open())}
    assert {h: r["status"] for h, r in rows.items()} == {f"csv-{n}": "ok" for n in names}
    assert rows["csv-gx"]["platform"] == "ietf" and rows["csv-c9300"]["platform"] == "iosxe"

    # one warning for the file, counting the rows that carry a password; the password itself nowhere
    warning = " ".join(output.split())
    assert warning.count("rows carry a password") == 1 and "2 rows carry a password (of 4)" in warning
    assert password not in output
    for page in out.rglob("*"):
        if page.is_file():
            data = page.read_bytes()
            assert password.encode() not in (gzip.decompress(data) if page.suffix == ".gz" else data), page
