from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lablib import ROOT

# ARA is off in these runs unless a test asks for it (ara=True, with its own server: see
# tests/integration/test_history.py): the project's ansible.cfg records every run into the
# user's local ARA server, which a test must never touch.
ARA_OFF = {"ANSIBLE_CALLBACK_PLUGINS": "/nonexistent"}


def run_playbook(lab, playbook: Path, *args: str, extra_env: dict | None = None,
                 ara: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", **({} if ara else ARA_OFF), **(extra_env or {}))
    for name in [k for k in env if k.startswith(("ARA_", "JOHANN_ARA_")) and not ara]:
        del env[name]
    ansible = Path(sys.executable).with_name("ansible-playbook")
    return subprocess.run([str(ansible), str(playbook), "-i", str(lab.state_dir / "inventory.yml"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="session")
def device_info_run(lab, tmp_path_factory):
    """device_info over the whole test fleet once, verbose, with the results and the output kept."""
    out = tmp_path_factory.mktemp("device_info") / "results.json"
    started = time.monotonic()
    result = run_playbook(lab, ROOT / "tests/integration/device_info.yml", "-vvv", "-e", f"results_file={out}")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = json.loads(out.read_text())
    return {"results": results, "stdout": result.stdout, "stderr": result.stderr, "elapsed": elapsed,
            "file": out}
