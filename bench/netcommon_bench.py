"""Interop: stock ansible.netcommon (httpapi + restconf_get) reads the lab.

Why: the lab must look like a RESTCONF device to a client we did not write.
ansible.netcommon is never a runtime dependency of johann.monitor; it lives in
its own environment, .venv-bench, made from the PyPI ``ansible`` package
(which carries the community collections).  A second run with the system CA
bundle instead of the lab CA must fail certificate verification, which shows
the first run really verified the lab's certificates.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

from bench.lab_process import ROOT, RunningLab

VENV = ROOT / ".venv-bench"
PLAYBOOK = ROOT / "bench" / "netcommon" / "restconf_get.yml"
CONFIG = ROOT / "bench" / "netcommon" / "ansible.cfg"
PROFILES = ("iosxe-17", "iosxe-16.12")
PER_PROFILE = 3
WRONG_CA = "/etc/ssl/certs/ca-certificates.crt"
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def ensure_venv() -> bool:
    """Create .venv-bench with ``ansible>=10`` when missing; True when it had to be made."""
    if (VENV / "bin" / "ansible-playbook").exists():
        return False
    subprocess.run(["python3", "-m", "venv", str(VENV)], check=True, timeout=120)
    subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", "ansible>=10"], check=True, timeout=900)
    return True


def versions() -> dict[str, str]:
    code = ("import importlib.metadata as m, json, pathlib, ansible_collections as c;"
            "p = pathlib.Path(c.__path__[0]) / 'ansible/netcommon/MANIFEST.json';"
            "print(json.dumps({'ansible': m.version('ansible'), 'ansible-core': m.version('ansible-core'),"
            "'ansible.netcommon': json.loads(p.read_text())['collection_info']['version']}))")
    out = subprocess.run([str(VENV / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _playbook(lab: RunningLab, hosts: list[str], log: Path, *extra: str) -> tuple[int, float, str]:
    """ansible-playbook in its own session, bounded in time; the whole group is ended on a time-out."""
    assert lab.inventory is not None
    env = dict(os.environ, ANSIBLE_CONFIG=str(CONFIG), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               PATH=f"{VENV / 'bin'}:{os.environ['PATH']}")
    argv = [str(VENV / "bin" / "ansible-playbook"), "-i", str(lab.inventory.path), str(PLAYBOOK),
            "-e", "netcommon_hosts=" + ",".join(hosts), *extra]
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, _ = proc.communicate()
    wall = time.monotonic() - started
    log.write_text(out)
    return proc.returncode, round(wall, 1), out


def run(lab: RunningLab, work_dir: Path) -> dict:
    """The interop playbook on a few devices of each IOS XE profile, then the wrong-CA check."""
    assert lab.inventory is not None
    created = ensure_venv()
    hosts = [h.name for p in PROFILES for h in lab.inventory.of_profile(p)[:PER_PROFILE]]
    rc, wall, out = _playbook(lab, hosts, work_dir / "netcommon.log")
    recap = {m[1]: {"ok": int(m[2]), "unreachable": int(m[3]), "failed": int(m[4])} for m in RECAP.finditer(out)}
    passed = rc == 0 and sorted(recap) == sorted(hosts) and all(
        r["ok"] == 4 and not r["failed"] and not r["unreachable"] for r in recap.values())
    bad_rc, bad_wall, bad_out = _playbook(lab, hosts[:1], work_dir / "netcommon-wrong-ca.log",
                                          "-e", f"ansible_httpapi_ca_path={WRONG_CA}")
    rejected = bad_rc != 0 and "CERTIFICATE_VERIFY_FAILED" in bad_out
    return {"versions": versions(), "venv_created": created, "hosts": hosts, "passed": passed, "rc": rc,
            "wall_s": wall, "recap": recap, "wrong_ca_rejected": rejected, "wrong_ca_wall_s": bad_wall,
            "tail": out.strip().splitlines()[-12:] if not passed else []}


def markdown(r: dict) -> list[str]:
    v = r["versions"]
    lines = [
        "## Interop: stock ansible.netcommon against the lab", "",
        f"`ansible.netcommon.restconf_get` over `connection: ansible.netcommon.httpapi`, "
        f"`ansible_network_os: ansible.netcommon.restconf`, HTTPS with `ansible_httpapi_validate_certs: true` "
        f"and `ansible_httpapi_ca_path` = the lab CA (ansible {v['ansible']}, ansible-core {v['ansible-core']}, "
        f"ansible.netcommon {v['ansible.netcommon']}, in .venv-bench). Playbook: `bench/netcommon/restconf_get.yml` "
        f"(reads `Cisco-IOS-XE-native:native` and `Cisco-IOS-XE-interfaces-oper:interfaces`; asserts the hostname is "
        f"the inventory name, the interface list is non-empty, counters are integers).", "",
        "| run | hosts | result | wall |", "| --- | --- | --- | --- |",
        f"| lab CA | {len(r['hosts'])} ({', '.join(r['hosts'])}) | {'pass' if r['passed'] else '**FAIL**'} "
        f"| {r['wall_s']:.1f} s |",
        f"| system CA bundle instead (must fail verification) | 1 | "
        f"{'rejected, as it must be' if r['wrong_ca_rejected'] else '**NOT rejected**'} | {r['wrong_ca_wall_s']:.1f} s |",
        "",
    ]
    if r["tail"]:
        lines += ["```", *r["tail"], "```", ""]
    return lines
