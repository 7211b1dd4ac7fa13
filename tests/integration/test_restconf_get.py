"""restconf_get and the shared options, through ansible-playbook against the lab."""
from __future__ import annotations

import json

import pytest
import yaml

from tests.integration.conftest import run_playbook
from tests.lablib import ROOT


@pytest.fixture(scope="module")
def results(lab, tmp_path_factory):
    out = tmp_path_factory.mktemp("restconf_get") / "results.json"
    run = run_playbook(lab, ROOT / "tests/integration/restconf_get.yml", "-e", f"results_file={out}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return json.loads(out.read_text())


def test_leaf_with_headers(results):
    leaf = results["leaf"]
    assert leaf["data"] == {"Cisco-IOS-XE-native:hostname": "c9300"}
    assert leaf["status"] == 200 and leaf["absent"] is False
    assert leaf["headers"]["content_type"] == "application/yang-data+json" and leaf["headers"]["etag"]
    assert leaf["restconf_root"] == "/restconf"


def test_fields_and_keys(results):
    (entry,) = results["fields"]["data"]["Cisco-IOS-XE-interfaces-oper:interface"]
    assert set(entry) == {"name", "oper-status", "statistics"} and set(entry["statistics"]) == {"in-octets"}


def test_depth_and_content(results):
    interfaces = results["depth"]["data"]["ietf-interfaces:interfaces"]["interface"]
    assert all("statistics" not in i for i in interfaces) and interfaces[0]["ietf-ip:ipv4"] == {}


def test_missing_is_absent_or_fails(results):
    assert results["missing"]["absent"] is True and results["missing"]["status"] == 404
    assert results["missing"].get("failed") is not True
    failed = results["missing_fails"]
    assert failed["failed"] is True and failed["error"]["error_tag"] == "invalid-value"
    assert "not found: 404 invalid-value (uri keypath not found)" in failed["msg"]


def test_snmp_communities_masked(lab, results):
    community = results["snmp"]["data"]["Cisco-IOS-XE-native:snmp-server"]["Cisco-IOS-XE-snmp:community-config"][0]
    assert community == {"name": "********", "permission": "ro"}
    truth = lab.truth("c9300")["config"]["Cisco-IOS-XE-native:native"]["snmp-server"]
    assert truth["Cisco-IOS-XE-snmp:community-config"][0]["name"] not in json.dumps(results)


@pytest.mark.parametrize("key,message", [
    ("bad_timeout", "timeout must be more than 0 seconds, not -1.0"),
    ("bad_option", "unsupported parameters: colour; supported: ca_path, client_cert"),
    ("bad_gather", "unknown gather section 'weather'"),
    ("failing", "auth_failed"),
])
def test_bad_parameters_and_fail_on_error_give_clear_messages(results, key, message):
    assert results[key]["failed"] is True
    if key == "failing":
        assert "unreachable: connection refused by 127." in results[key]["msg"] and ".0.1:1:" in results[key]["msg"]
    else:
        assert message in results[key]["msg"]


def test_credentials_from_the_environment(lab, tmp_path):
    """AWX injects credentials as environment variables; they are used when the inventory has none."""
    host = lab.host("gx")
    inventory = tmp_path / "inv.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"gx": {
        "ansible_host": host["ansible_host"], "ansible_port": host["ansible_port"], "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
    playbook = tmp_path / "p.yml"
    playbook.write_text(
        "- hosts: gx\n  gather_facts: false\n  tasks:\n"
        "    - johann.monitor.restconf_get: {path: 'ietf-system:system/hostname'}\n      register: r\n"
        "    - ansible.builtin.assert: {that: [\"r.data['ietf-system:hostname'] == 'gx'\"]}\n")
    user, password = lab.auth
    env = {"JOHANN_RESTCONF_USERNAME": user, "JOHANN_RESTCONF_PASSWORD": password,
           "JOHANN_RESTCONF_CA_PATH": lab.ca_path}
    lab_run = type(lab)(lab.process, tmp_path, lab.inventory, lab.admin_url)
    (tmp_path / "inventory.yml").write_text(inventory.read_text())
    run = run_playbook(lab_run, playbook, extra_env=env)
    assert run.returncode == 0, run.stdout[-2000:]
    assert password not in run.stdout + run.stderr
    without = run_playbook(lab_run, playbook, extra_env={"JOHANN_RESTCONF_CA_PATH": lab.ca_path})
    assert without.returncode != 0 and "authentication failed: 401" in without.stdout
