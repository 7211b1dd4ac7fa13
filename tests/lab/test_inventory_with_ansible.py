"""The generated inventory works with plain Ansible: builtin uri over verified TLS."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.lablib import ROOT


def test_lab_check_playbook_against_the_lab_inventory(lab):
    # ARA off: the project's ansible.cfg records into the user's local ARA server, which a test must not touch
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARA_", "JOHANN_ARA_"))}
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_CALLBACK_PLUGINS="/nonexistent")
    ansible = Path(sys.executable).with_name("ansible-playbook")
    result = subprocess.run(
        [str(ansible), str(ROOT / "playbooks/lab_check.yml"), "-i", str(lab.state_dir / "inventory.yml"),
         "--limit", "c9300,csr,gx,nxos,badpass,wrongcert"],
        cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)
    recap = dict(re.findall(r"^(\S+)\s+: (ok=\d+\s+changed=\d+\s+unreachable=\d+\s+failed=\d+)", result.stdout, re.M))
    summary = {h: tuple(int(n) for n in re.findall(r"(?:ok|failed)=(\d+)", v)) for h, v in recap.items()}
    assert summary == {"c9300": (2, 0), "csr": (2, 0), "gx": (2, 0), "nxos": (2, 0), "badpass": (0, 1),
                       "wrongcert": (0, 1)}, \
        result.stdout
    assert '"msg": "gx answers as gx"' in result.stdout and '"msg": "nxos answers as nxos"' in result.stdout
    assert "HTTP Error 401" in result.stdout or "Status code was 401" in result.stdout
    assert "CERTIFICATE_VERIFY_FAILED" in result.stdout
    assert lab.auth[1] not in result.stdout + result.stderr   # the password stays out of the output
