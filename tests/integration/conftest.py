from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.lablib import ARA_OFF as ARA_OFF  # the integration tests take it from here with run_playbook
from tests.lablib import EPOCH, ROOT, RunningLab, ansible_playbook, start_lab


def run_playbook(lab, playbook: Path, *args: str, extra_env: dict | None = None,
                 ara: bool = False) -> subprocess.CompletedProcess:
    """``ansible-playbook`` over the lab's inventory (tests/lablib.py: ansible_playbook; ARA off unless ``ara``)."""
    return ansible_playbook(playbook, "-i", str(lab.state_dir / "inventory.yml"), *args, extra_env=extra_env,
                            ara=ara)


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


@contextlib.contextmanager
def fleet_read(fleet: dict, state: Path, network: str) -> Iterator[tuple[RunningLab, dict]]:
    """A lab of its own (``fleet``: a fleet.yml's content; frozen at EPOCH, on ``network``) and every device of it
    read once with johann.monitor.device_info (tests/integration/device_info.yml): the lab and the results by host.
    The lab is stopped after, also when the run fails."""
    (state / "fleet.yml").write_text(yaml.safe_dump(fleet))
    running = start_lab(state / "fleet.yml", state / "lab", "--epoch", str(EPOCH), "--frozen", "--network", network)
    try:
        out = state / "results.json"
        run = run_playbook(running, ROOT / "tests/integration/device_info.yml", "-e", f"results_file={out}")
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        yield running, json.loads(out.read_text())
    finally:
        assert running.stop() == 0, running.stderr()
