from __future__ import annotations

import os
import random
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

# pytest shows the values of a failing assert in these helper modules too, as in a test module
pytest.register_assert_rewrite("tests.openconfig_truth", "tests.records")

from tests import leftovers  # noqa: E402
from tests.lablib import EPOCH as EPOCH  # noqa: E402  # the lab tests take it from here
from tests.lablib import ROOT, RunningLab, start_lab  # noqa: E402

# The tests run Ansible from the virtualenv running pytest (sys.executable's directory): .venv
# (ansible-core 2.19) or .venv-2.21 (make matrix). The project's ansible.cfg names .venv's
# collections and ARA plugins; under another venv, Ansible takes that venv's own (made by the
# same recipe), unless a test sets these itself.
VENV = Path(sys.prefix).resolve()
if VENV != (ROOT / ".venv").resolve() and (VENV / "ara-plugins").is_dir():
    os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", f"{ROOT / 'collections'}{os.pathsep}{VENV / 'collections'}")
    for _kind in ("callback", "action", "lookup"):
        os.environ.setdefault(f"ANSIBLE_{_kind.upper()}_PLUGINS", str(VENV / "ara-plugins" / _kind))

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
    assert stop_lab(running) == 0, running.stderr()


@pytest.fixture(scope="session")
def ssh_lab(tmp_path_factory) -> RunningLab:
    """The SSH CLI's fleet (tests/lab/ssh_fleet.yml), on a /24 of its own: its tests change devices'
    configuration over SSH, which the session fleet's tests must never see."""
    running = start_lab(ROOT / "tests/lab/ssh_fleet.yml", tmp_path_factory.mktemp("ssh_lab"),
                        "--epoch", str(EPOCH), "--frozen", "--network", subnet(210))
    yield running
    assert stop_lab(running) == 0, running.stderr()


@pytest.fixture(scope="session")
def ara_postgresql():
    """ARA's API server on a PostgreSQL of its own (tests/ara_postgres.py): .api_server, .env(), .connect()."""
    from tests.ara_postgres import start_ara_postgres
    server = start_ara_postgres()
    try:
        yield server
    finally:
        server.stop()


def stop_lab(running: RunningLab) -> int | None:
    """Stop a lab; one that does not stop in time is killed (its exit code is then the kill's), never left running."""
    try:
        return running.stop()
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait(15)
        return running.process.returncode


# ---------------------------------------------------------------- nothing left behind, nothing on the user's defaults
# The run's mark (tests/leftovers.py): every process a test starts inherits it, so one that leaves the process tree
# (a daemon) is still known as the run's. What listened on the user's defaults before the run is not the run's.
RUN_MARK = f"{os.getpid()}-{secrets.token_hex(4)}"
BEFORE = pytest.StashKey[set]()          # socket inodes on the user's defaults when the run started
NOTES = pytest.StashKey[list]()          # said at the end, does not fail the run
LEFT_BEHIND = pytest.StashKey[list]()    # fails the run


def pytest_sessionstart(session: pytest.Session) -> None:
    os.environ[leftovers.MARK] = RUN_MARK
    there = leftovers.watched_listeners()
    session.config.stash[BEFORE] = {listener.inode for listener in there}
    session.config.stash[NOTES] = [f"already listening when the run started (not the run's; left alone): "
                                   f"{listener.address} (pid {', '.join(map(str, listener.pids)) or '?'})"
                                   for listener in there]
    session.config.stash[LEFT_BEHIND] = []


@pytest.fixture(scope="session", autouse=True)
def discovery_cache_of_the_session(tmp_path_factory):
    """device_info's discovery cache (JOHANN_DISCOVERY_CACHE_DIR) in a directory of this session, for every process a
    test starts, never the user's ~/.cache/johann.monitor; tests of the cache itself give each run its own."""
    patch = pytest.MonkeyPatch()
    patch.setenv("JOHANN_DISCOVERY_CACHE_DIR", str(tmp_path_factory.mktemp("discovery-cache")))
    try:
        yield
    finally:
        patch.undo()


@pytest.fixture(scope="session", autouse=True)
def ara_on_a_test_address(tmp_path_factory, pytestconfig):
    """ARA's callback and the project's ara_server callback, in every process a test starts, point at an address
    and data directory of this session (ARA_API_SERVER, JOHANN_ARA_DATA_DIR) instead of the user's 127.0.0.1:8055
    and .ara/server: a run a test starts with ARA loaded and no server of its own records (and auto-starts a server)
    here, and this fixture stops that server at the end. Tests that record to a server of their own set both."""
    data = tmp_path_factory.mktemp("ara-fallback")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    patch = pytest.MonkeyPatch()
    patch.setenv("ARA_API_SERVER", endpoint)
    patch.setenv("JOHANN_ARA_DATA_DIR", str(data))
    try:
        yield endpoint
    finally:
        patch.undo()
        pid_file = data / "gunicorn.pid"
        if pid_file.is_file():
            pid = int(pid_file.read_text())
            leftovers.stop([leftovers.Finding(pid, "", "ARA's fallback server")])
            pytestconfig.stash.setdefault(NOTES, []).append(
                f"a test ran ARA without a server of its own: ARA's server was started at {endpoint} (data in "
                f"{data}); stopped now (pid {pid})")


@pytest.hookimpl(trylast=True)   # after pytest's own sessionfinish, which tears the session's fixtures down
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run when a process it started is still alive, or something listens on the user's defaults."""
    if BEFORE not in session.config.stash:
        return
    found = leftovers.wait_for_none(os.getpid(), RUN_MARK, session.config.stash[BEFORE])
    if not found:
        session.config.stash[NOTES].append("no process of the run left; nothing of it on 127.0.0.1:8055 or "
                                           "127.77.0.0/16")
        return
    stopped = leftovers.stop(found)
    session.config.stash[LEFT_BEHIND] = [*leftovers.report(found),
                                         f"Stopped now (the run's own): {', '.join(map(str, stopped)) or 'none'}."]
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if session.config.pluginmanager.get_plugin("terminalreporter") is None:
        print("\n".join(session.config.stash[LEFT_BEHIND]), file=sys.stderr)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    for line in config.stash.get(NOTES, []):
        terminalreporter.write_line(f"tests/leftovers.py: {line}", yellow=True)
    if config.stash.get(LEFT_BEHIND, []):
        terminalreporter.write_sep("!", "FAILED: the test run left processes or listeners behind", red=True, bold=True)
        for line in config.stash[LEFT_BEHIND]:
            terminalreporter.write_line(line, red=True)
