from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.lablib import ROOT, RunningLab, start_lab  # noqa: E402

EPOCH = 1795000000.0  # 2026-11-18T11:06:40Z: a fixed, frozen lab clock makes values exact


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> RunningLab:
    """The test fleet (tests/lab/fleet.yml) with a frozen clock, for the whole session."""
    running = start_lab(ROOT / "tests/lab/fleet.yml", tmp_path_factory.mktemp("lab"),
                        "--epoch", str(EPOCH), "--frozen")
    yield running
    assert running.stop() == 0, running.stderr()
