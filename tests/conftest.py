from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.lablib import ROOT, RunningLab, start_lab  # noqa: E402

EPOCH = 1795000000.0  # 2026-11-18T11:06:40Z: a fixed, frozen lab clock makes values exact
# A network of its own for each test session, so two runs on one machine never collide.
NETWORK = os.environ.get("JOHANN_TEST_NETWORK") or f"127.{random.randint(100, 250)}.0.0/16"


def subnet(third: int) -> str:
    """A /24 of this session's network for a test's own extra lab (the session lab uses .0.x)."""
    return f"{NETWORK.split('.')[0]}.{NETWORK.split('.')[1]}.{third}.0/24"


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> RunningLab:
    """The test fleet (tests/lab/fleet.yml) with a frozen clock, for the whole session."""
    running = start_lab(ROOT / "tests/lab/fleet.yml", tmp_path_factory.mktemp("lab"),
                        "--epoch", str(EPOCH), "--frozen", "--network", NETWORK)
    yield running
    assert running.stop() == 0, running.stderr()


@pytest.fixture(scope="session")
def ssh_lab(tmp_path_factory) -> RunningLab:
    """The SSH CLI's fleet (tests/lab/ssh_fleet.yml), on a /24 of its own: its tests change devices'
    configuration over SSH, which the session fleet's tests must never see."""
    running = start_lab(ROOT / "tests/lab/ssh_fleet.yml", tmp_path_factory.mktemp("ssh_lab"),
                        "--epoch", str(EPOCH), "--frozen", "--network", subnet(210))
    yield running
    assert running.stop() == 0, running.stderr()


@pytest.fixture(scope="session")
def ara_postgresql():
    """ARA's API server on a PostgreSQL of its own (tests/ara_postgres.py): .api_server, .env(), .connect()."""
    from tests.ara_postgres import start_ara_postgres
    server = start_ara_postgres()
    try:
        yield server
    finally:
        server.stop()
