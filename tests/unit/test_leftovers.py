"""tests/leftovers.py, the end-of-run check of tests/conftest.py, against real processes and sockets: a child that
listens, a daemon that left the process tree, a process of someone else; each found (or not) by pid, command line
and address, then stopped. Addresses in 127.247.0.0/16 stand for the user's defaults (a test never binds those)."""
from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time

import pytest

from tests import leftovers

NET = ipaddress.ip_network("127.247.0.0/16")   # plays the demo lab's 127.77.0.0/16 here
MARK = "unit-test-of-leftovers"
LISTEN = """
import socket, sys, time
s = socket.socket(); s.bind(("127.247.3.4", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(120)
"""
# forks, the child makes a session of its own (it leaves pytest's tree and process group), the parent exits
DAEMON = """
import os, sys, time
if os.fork():
    sys.exit(0)
os.setsid()
if os.fork():
    sys.exit(0)
print(os.getpid(), flush=True)
os.close(1)
time.sleep(120)
"""


def _spawn(code: str, mark: str | None = MARK) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if k != leftovers.MARK}
    if mark is not None:
        env[leftovers.MARK] = mark
    proc = subprocess.Popen([sys.executable, "-c", code, "leftover-under-test"], env=env, stdout=subprocess.PIPE,
                            text=True)
    return proc, proc.stdout.readline().strip()


def _gone(pid: int) -> bool:
    return leftovers.read_proc(pid) is None or leftovers.read_proc(pid).state == "Z"


@pytest.mark.parametrize("address,watched", [
    ("127.0.0.1:8055", True), ("0.0.0.0:8055", True), ("[::1]:8055", True), ("[::]:8055", True),
    ("127.77.0.1:8443", True), ("127.77.255.9:2222", True), ("[::ffff:127.77.3.4]:443", True),
    ("[::ffff:127.0.0.1]:8055", True),
    ("127.0.0.1:8056", False), ("127.78.0.1:8443", False), ("10.1.2.3:8055", False), ("[2001:db8::1]:8055", False),
])
def test_the_users_defaults_are_port_8055_on_loopback_and_the_demo_network(address, watched):
    assert leftovers.on_user_defaults(address) is watched


@pytest.mark.parametrize("line,address", [
    ("0100007F:1F77", ("127.0.0.1", 8055)),                                       # /proc/net/tcp
    ("0403F77F:20FB", ("127.247.3.4", 8443)),
    ("00000000000000000000000001000000:1F77", ("::1", 8055)),                   # /proc/net/tcp6
    ("0000000000000000FFFF00000100007F:1F77", ("::ffff:7f00:1", 8055)),
])
def test_proc_net_addresses_are_read_in_the_kernels_byte_order(line, address):
    ip, port = leftovers._address(line)
    assert (str(ip), port) == address


def test_a_child_that_listens_is_named_by_pid_command_line_and_address_then_stopped():
    proc, port = _spawn(LISTEN)
    try:
        found = leftovers.left_behind(os.getpid(), MARK, before=set(), ports=frozenset(), networks=(NET,))
        mine = [f for f in found if f.pid == proc.pid]
        assert {f.why.split(" (")[0] for f in mine} == {"a process of the test run", f"listens on 127.247.3.4:{port}, a "
                                                        "user-facing default"}
        assert all("leftover-under-test" in f.cmdline for f in mine)
        assert [f.of_run for f in mine if f.why.startswith("a process")] == [True]
        lines = leftovers.report(found)
        assert any(f"pid {proc.pid}: listens on 127.247.3.4:{port}" in line for line in lines)
        # what listened there before the run is not the run's: its socket is left out
        (listener,) = [x for x in leftovers.watched_listeners(frozenset(), (NET,)) if x.pids == (proc.pid,)]
        assert [f for f in leftovers.left_behind(os.getpid(), MARK, {listener.inode}, frozenset(), (NET,))
                if f.pid == proc.pid and not f.of_run] == []
        assert leftovers.stop(mine) == [proc.pid]
        assert proc.wait(5) is not None
    finally:
        proc.kill()
        proc.wait()
    assert [f for f in leftovers.left_behind(os.getpid(), MARK, set(), frozenset(), (NET,)) if f.pid == proc.pid] == []


def test_a_daemon_that_left_the_process_tree_is_found_by_the_runs_mark():
    parent, pid = _spawn(DAEMON)
    parent.wait(5)
    daemon = int(pid)
    try:
        proc = leftovers.read_proc(daemon)
        assert proc is not None and proc.ppid != os.getpid() and proc.pgid != os.getpgid(0)
        assert daemon not in leftovers.descendants(os.getpid(), leftovers.processes())
        (found,) = [f for f in leftovers.run_processes(os.getpid(), MARK) if f.pid == daemon]
        assert "it left the process tree" in found.why and "leftover-under-test" in found.cmdline
        assert [f.pid for f in leftovers.run_processes(os.getpid(), "another-run") if f.pid == daemon] == []
        assert leftovers.stop([found]) == [daemon]
        deadline = time.monotonic() + 5
        while not _gone(daemon) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(daemon)
    finally:
        if not _gone(daemon):
            os.kill(daemon, 9)


def test_a_process_of_someone_else_is_not_the_runs():
    parent, pid = _spawn(DAEMON, mark=None)   # not marked, and not ours once it left the tree
    parent.wait(5)
    other = int(pid)
    try:
        assert [f for f in leftovers.run_processes(os.getpid(), MARK) if f.pid == other] == []
    finally:
        os.kill(other, 9)


def test_what_ends_within_the_grace_time_is_not_reported():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"],
                            env=dict(os.environ, **{leftovers.MARK: MARK}))
    try:
        assert proc.pid in [f.pid for f in leftovers.left_behind(os.getpid(), MARK, set(), frozenset(), (NET,))]
        # a loaded machine may take seconds to start Python: the grace is long, the process ends well within it
        assert [f for f in leftovers.wait_for_none(os.getpid(), MARK, set(), grace=60.0, ports=frozenset(),
                                                   networks=(NET,)) if f.pid == proc.pid] == []
        assert proc.poll() == 0   # it ended by itself: the wait saw its end, not its grace running out
    finally:
        proc.kill()
        proc.wait()


def test_a_finding_is_one_line_with_pid_why_and_command():
    assert leftovers.Finding(7, "python -c 'a\nb'", "a process of the test run").line() == \
        "pid 7: a process of the test run: python -c 'a\\nb'"
    assert leftovers.Finding(None, "", "listens on 127.0.0.1:8055", of_run=False).line() == \
        "pid ?: listens on 127.0.0.1:8055: (no command line)"
