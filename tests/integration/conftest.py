from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lablib import ROOT


def run_playbook(lab, playbook: Path, *args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", **(extra_env or {}))
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
