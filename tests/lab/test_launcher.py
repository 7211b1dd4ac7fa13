"""The fleet launcher: fleet files and flags, the inventory it writes, clean stops, clear errors."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import subnet
from tests.lablib import ROOT, start_lab


def _lab(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lab", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))


@pytest.mark.parametrize("fleet,message", [
    ("groups: [{profile: junos}]", "unknown profile 'junos'"),
    ("groups: [{profile: ietf, faults: {explode: true}}]", "unknown fault 'explode'"),
    ("groups: [{profile: ietf, faults: {hang: 3}}]", "fault hang has the wrong type"),
    ("network: 10.0.0.0/8\ngroups: [{profile: ietf}]", "is not loopback"),
    ("network: 127.1.2.0/30\ngroups: [{profile: ietf, count: 5}]", "too small for 5 devices"),
    ("groups: [{profile: ietf, name: a}, {profile: ietf, name: a}]", "names must be unique"),
    ("devices: []", "expected a mapping with a 'groups' list"),
])
def test_bad_fleet_files_are_refused_with_the_reason(tmp_path, fleet, message):
    path = tmp_path / "fleet.yml"
    path.write_text(fleet)
    result = _lab("run", "--fleet", str(path), "--state-dir", str(tmp_path / "s"))
    assert result.returncode == 2
    assert message in result.stderr


def test_flags_fleet_inventory_and_clean_stop(tmp_path):
    fleet = tmp_path / "empty.yml"
    fleet.write_text("groups: []\n")
    lab = start_lab(fleet, tmp_path / "s")   # an empty fleet is allowed: only the admin API runs
    assert lab.stop() == 0
    result = subprocess.run(
        [sys.executable, "-m", "lab", "start", "--count", "7", "--mix", "iosxe-17=1,ietf=1",
         "--network", subnet(200), "--state-dir", str(tmp_path / "bg"), "--inventory", str(tmp_path / "inv.yml")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("READY 7 devices")
        inventory = yaml.safe_load((tmp_path / "inv.yml").read_text())
        assert stat.S_IMODE((tmp_path / "inv.yml").stat().st_mode) == 0o600
        variables = inventory["all"]["vars"]
        assert variables["restconf_validate_certs"] is True and Path(variables["restconf_ca_path"]).is_file()
        groups = inventory["all"]["children"]["lab"]["children"]
        assert sorted(groups) == ["lab_ietf", "lab_iosxe_17"]
        hosts = {**groups["lab_iosxe_17"]["hosts"], **groups["lab_ietf"]["hosts"]}
        assert len(hosts) == 7 and hosts["iosxe-17-0001"]["ansible_host"] == subnet(200).replace(".0/24", ".1")
        assert hosts["ietf-0002"]["lab_platform"] == "ietf"
        status = _lab("status", "--state-dir", str(tmp_path / "bg"))
        assert status.returncode == 0 and '"devices": 7' in status.stdout
        again = _lab("start", "--count", "1", "--network", subnet(200), "--state-dir", str(tmp_path / "bg"))
        assert again.returncode == 1 and "already running" in again.stderr
    finally:
        stop = _lab("stop", "--state-dir", str(tmp_path / "bg"))
    assert stop.returncode == 0 and "stopped" in stop.stdout
    assert not (tmp_path / "bg" / "lab.json").exists()
    assert _lab("status", "--state-dir", str(tmp_path / "bg")).returncode == 1


def test_ca_is_reused_across_restarts_and_keys_are_private(tmp_path):
    fleet = tmp_path / "one.yml"
    fleet.write_text(f"network: {subnet(201)}\ngroups: [{{profile: ietf, name: only}}]\n")
    first = start_lab(fleet, tmp_path / "s")
    first.stop()
    ca, client_cert = (tmp_path / "s" / "ca.pem").read_bytes(), (tmp_path / "s" / "client.pem").read_bytes()
    second = start_lab(fleet, tmp_path / "s")
    try:
        assert (tmp_path / "s" / "ca.pem").read_bytes() == ca
        assert (tmp_path / "s" / "client.pem").read_bytes() == client_cert
        with second.client("only") as client:
            assert client.get("/restconf/data/ietf-system:system/hostname").status_code == 200
    finally:
        second.stop()
    for key in [tmp_path / "s" / "ca.key", tmp_path / "s" / "client.key", *(tmp_path / "s" / "certs").glob("*.key")]:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "s" / "credentials.json").stat().st_mode) == 0o600


def test_client_certificate_is_reused_and_reissued_for_a_new_ca(tmp_path):
    from cryptography import x509

    from lab import pki
    first = pki.client_cert_files(pki.load_or_create_ca(tmp_path), tmp_path)[0].read_bytes()
    assert pki.client_cert_files(pki.load_or_create_ca(tmp_path), tmp_path)[0].read_bytes() == first
    (tmp_path / "ca.pem").unlink()
    (tmp_path / "ca.key").unlink()
    ca = pki.load_or_create_ca(tmp_path)   # same name, new key: the old client certificate no longer chains
    cert_path, _ = pki.client_cert_files(ca, tmp_path)
    assert cert_path.read_bytes() != first
    x509.load_pem_x509_certificate(cert_path.read_bytes()).verify_directly_issued_by(ca.cert)


def test_demo_fleet_file_is_valid_and_has_every_profile_and_faults():
    from lab.fleet import load_fleet
    from lab.profiles import PROFILES
    fleet = load_fleet(ROOT / "lab/fleets/demo.yml")
    assert {d.profile for d in fleet.devices} == set(PROFILES)
    assert len(fleet.devices) >= 20 and sum(bool(d.faults) for d in fleet.devices) >= 8
