"""The shared poller's protocol, its private directory, and a real poller process (no device needed)."""
from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest
from ansible_collections.johann.monitor.plugins.plugin_utils import _poller


@pytest.fixture
def tmpdir_short(monkeypatch):
    """A TMPDIR of this test's own, short enough for a Unix socket path."""
    with tempfile.TemporaryDirectory(prefix="jp", dir="/tmp") as path:
        monkeypatch.setattr(tempfile, "tempdir", path)
        yield path


@pytest.fixture
def run_process():
    """A stand-in for the ansible-playbook process: the poller lives as long as it does."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


def _pair():
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)


def test_framing_round_trip():
    a, b = _pair()
    with a, b:
        payload = {"protocol": _poller.PROTOCOL, "result": {"device_json": '{"serial":"FOC2231X0AB"}', "n": [1, 2]}}
        _poller._send(a, payload)
        assert _poller._recv(b) == payload


@pytest.mark.parametrize("raw,message", [
    (_poller.HEADER.pack(_poller.MAX_MESSAGE + 1), "not a poller"),
    (_poller.HEADER.pack(5) + b"{nope", "not JSON"),
    (_poller.HEADER.pack(2) + b"[]", "unknown protocol"),
    (_poller.HEADER.pack(14) + b'{"protocol":9}', "unknown protocol"),
    (_poller.HEADER.pack(40) + b'{"protocol":1', "closed the connection without an answer"),
])
def test_bad_answers_are_named(raw, message):
    a, b = _pair()
    with a, b:
        a.sendall(raw)
        a.shutdown(socket.SHUT_WR)
        with pytest.raises(_poller._Fault, match=message):
            _poller._recv(b)


def test_runtime_dir_is_private(tmpdir_short):
    path = _poller.runtime_dir()
    assert path.parent == __import__("pathlib").Path(tmpdir_short)
    assert path.name == f"johann-monitor-{os.getuid()}"
    assert os.stat(path).st_mode & 0o777 == 0o700
    os.chmod(path, 0o755)   # noqa: S103  # the unsafe mode under test
    with pytest.raises(_poller._Fault, match="mode 0700"):
        _poller.runtime_dir()
    for label in ("h1", "h2"):   # nowhere to record it: every request polls in its worker and says why
        with pytest.raises(_poller.Unavailable, match="mode 0700") as caught:
            _poller.call("device_info", {"host": None}, label, run_pid=os.getpid())
        assert caught.value.first


def test_runtime_dir_refuses_a_symlink(tmpdir_short):
    target = os.path.join(tmpdir_short, "elsewhere")
    os.mkdir(target, 0o700)
    os.symlink(target, os.path.join(tmpdir_short, f"johann-monitor-{os.getuid()}"))
    with pytest.raises(_poller._Fault, match="not a private directory"):
        _poller.runtime_dir()


def test_socket_path_too_long(monkeypatch):
    with tempfile.TemporaryDirectory(prefix="j" * 100, dir="/tmp") as path:
        monkeypatch.setattr(tempfile, "tempdir", path)
        with pytest.raises(_poller._Fault, match="longer than 107 bytes: set TMPDIR shorter"):
            _poller.socket_path(12345)


def test_sweep_removes_only_dead_runs(tmpdir_short, run_process):
    directory = _poller.runtime_dir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    for pid in (dead.pid, run_process.pid):
        for suffix in ("sock", "lock", "log", "unavailable"):
            (directory / f"poller-{pid}.{suffix}").write_text("x")
    (directory / "unrelated.txt").write_text("kept")
    _poller._sweep(directory)
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [f"poller-{run_process.pid}.{s}" for s in ("sock", "lock", "log", "unavailable")] + ["unrelated.txt"])


def _wait_gone(path, seconds=5.0):
    deadline = time.monotonic() + seconds
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not path.exists()


def test_a_real_poller_answers_and_ends_with_its_run(tmpdir_short, run_process):
    # no host: the poller's device_info raises the same ValueError the worker would
    with pytest.raises(ValueError, match="no host: set `host`, or ansible_host in the inventory"):
        _poller.call("device_info", {"host": None}, "h1", run_pid=run_process.pid)
    sock = _poller.socket_path(run_process.pid)
    assert sock.exists() and os.stat(sock).st_mode & 0o077 == 0   # no one else may connect
    # bad thresholds come back as the worker's ValueError too, from the same poller
    params = {"host": "127.0.0.1", "thresholds": {"cpu_percent": {"warning": "high"}}}
    with pytest.raises(ValueError, match="cpu_percent"):
        _poller.call("device_info", params, "h1", run_pid=run_process.pid)
    # an operation the poller does not know: not the caller's fault, so the caller polls itself
    with pytest.raises(_poller.Unavailable, match="unknown request 'reboot'") as caught:
        _poller.call("reboot", {}, "h1", run_pid=run_process.pid)
    assert caught.value.first
    # garbage on the socket gets an answer the worker treats as "poll yourself", and the poller lives on
    for garbage in (b"[]", b'{"protocol":1,"op":"device_info"}', b'{"protocol":1,"op":"device_info","params":7}'):
        with socket.socket(socket.AF_UNIX) as raw:
            raw.connect(str(sock))
            raw.sendall(_poller.HEADER.pack(len(garbage)) + garbage)
            assert "unknown request" in _poller._recv(raw)["internal"]
    with socket.socket(socket.AF_UNIX) as raw:   # still serving (call() would not ask again: see the marker)
        raw.connect(str(sock))
        _poller._send(raw, {"protocol": 1, "op": "device_info", "params": {"host": None}, "label": "h1"})
        assert _poller._recv(raw)["value_error"].startswith("no host")
    assert sock.with_suffix(".unavailable").read_text().startswith("the shared poller could not do it")
    # the run ends: the poller removes its socket and its (empty) log within about a second
    run_process.kill()
    run_process.wait()
    assert _wait_gone(sock)
    assert _wait_gone(sock.with_suffix(".log"))


def test_a_poller_that_cannot_start_is_tried_once_per_run(tmpdir_short, run_process, monkeypatch):
    monkeypatch.setenv("PYTHONHOME", "/nonexistent")   # the poller's Python cannot start at all
    started = time.monotonic()
    with pytest.raises(_poller.Unavailable, match=r"the shared poller did not start \(it exited with status 1\)") \
            as first:
        _poller.call("device_info", {"host": "127.0.0.1"}, "h1", run_pid=run_process.pid)
    assert first.value.first
    with pytest.raises(AttributeError):   # the verdict is set once, when call() raises it
        first.value.first = False
    assert "No module named 'encodings'" in str(first.value)
    assert time.monotonic() - started < _poller.START_TIMEOUT_S
    monkeypatch.delenv("PYTHONHOME")
    with pytest.raises(_poller.Unavailable) as second:   # not tried again in this run, not warned again
        _poller.call("device_info", {"host": "127.0.0.1"}, "h2", run_pid=run_process.pid)
    assert not second.value.first
    assert "did not start" in str(second.value)


def test_more_cores_get_more_pollers_and_a_host_keeps_its_own(tmpdir_short, run_process, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert _poller.poller_count() == 2
    labels = [f"switch-{n:03}" for n in range(40)]
    for label in labels:
        with pytest.raises(ValueError, match="no host"):
            _poller.call("device_info", {"host": None}, label, run_pid=run_process.pid)
    first, second = _poller.socket_path(run_process.pid), _poller.socket_path(run_process.pid, 1)
    assert first.name == f"poller-{run_process.pid}.sock" and second.name == f"poller-{run_process.pid}-1.sock"
    assert first.exists() and second.exists()   # 40 names spread over both
    assert {_poller.zlib.crc32(label.encode()) % 2 for label in labels} == {0, 1}
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert _poller.poller_count() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert _poller.poller_count() == 1
    run_process.kill()
    run_process.wait()
    assert _wait_gone(first) and _wait_gone(second)
    assert not list(first.parent.glob(f"poller-{run_process.pid}*"))


def _listener_pid(path) -> int:
    """The pid of the process listening on the Unix socket ``path`` (its peer credentials)."""
    with _poller._connect(path) as conn:
        return struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[0]


def test_a_poller_killed_between_requests_is_not_started_again(tmpdir_short, run_process):
    with pytest.raises(ValueError, match="no host"):
        _poller.call("device_info", {"host": None}, "h1", run_pid=run_process.pid)
    sock = _poller.socket_path(run_process.pid)
    os.kill(_listener_pid(sock), signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:   # until its listening socket is closed too (it dies in steps)
        try:
            _poller._connect(sock).close()
        except ConnectionRefusedError:
            break
        time.sleep(0.01)
    assert sock.exists()   # left behind by the killed poller; nobody answers on it
    with pytest.raises(_poller.Unavailable, match=f"the shared poller stopped answering on {sock}") as first:
        _poller.call("device_info", {"host": None}, "h2", run_pid=run_process.pid)
    assert first.value.first   # this request warns; the run's later ones do not try again
    with pytest.raises(_poller.Unavailable, match="stopped answering") as second:
        _poller.call("device_info", {"host": None}, "h3", run_pid=run_process.pid)
    assert not second.value.first
    with pytest.raises(ConnectionRefusedError):   # no new poller took the socket over
        _poller._connect(sock)


def test_files_of_an_earlier_process_with_the_same_pid_are_replaced(tmpdir_short, run_process):
    started = _poller._run_started_at(run_process.pid)
    assert started is not None and abs(started - time.time()) < 30   # the run process started just now
    assert _poller._run_started_at(os.getpid()) <= started
    # a socket and a failure marker as a run killed long ago would leave them, the pid since reused
    sock = _poller.socket_path(run_process.pid)
    with socket.socket(socket.AF_UNIX) as old:
        old.bind(str(sock))
    marker = sock.with_suffix(".unavailable")
    marker.write_text("the shared poller did not start (it exited with status 1)")
    for path in (sock, marker):
        os.utime(path, (started - 3600, started - 3600), follow_symlinks=False)
    with pytest.raises(ValueError, match="no host"):   # answered by a new poller, no warning
        _poller.call("device_info", {"host": None}, "h1", run_pid=run_process.pid)
    assert not marker.exists()
    assert os.lstat(sock).st_mtime >= started - 1 and _listener_pid(sock) != os.getpid()


def test_a_failed_start_is_recorded_before_the_next_worker_may_start_one(tmpdir_short, run_process, monkeypatch):
    """The starter records the failure while it still holds the start lock: a worker waiting on the
    lock must find the record, not start a poller of its own (as it did when the record came later)."""
    def start(path, run_pid):
        raise _poller._Fault("the shared poller did not start (it was killed by SIGKILL)")

    monkeypatch.setattr(_poller, "_start", start)
    first = _poller.Link(run_process.pid)
    with pytest.raises(_poller._Fault):
        first.connect()
    marker = _poller.socket_path(run_process.pid).with_suffix(".unavailable")
    assert first.first is True and marker.read_text() == "the shared poller did not start (it was killed by SIGKILL)"
    monkeypatch.setattr(_poller, "_start", lambda *_: pytest.fail("a second poller was started"))
    second = _poller.Link(run_process.pid)
    with pytest.raises(_poller._Fault, match="failed to start"):
        second.connect()
    assert second.first is False


def test_a_poller_killed_before_it_listens_is_named(tmpdir_short, run_process, monkeypatch):
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):   # the poller's Python, killed as it starts
        proc = real_popen(*args, **kwargs)
        proc.kill()
        proc.wait()
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen)
    with pytest.raises(_poller.Unavailable, match=r"^the shared poller did not start \(it was killed by SIGKILL\)$"):
        _poller.call("device_info", {"host": "127.0.0.1"}, "h1", run_pid=run_process.pid)


def test_a_stopped_poller_costs_a_worker_the_deadline_and_the_grace_then_the_device_is_not_polled_twice(
        tmpdir_short, run_process, monkeypatch):
    monkeypatch.setattr(_poller, "GRACE_S", 0.5)
    with pytest.raises(ValueError, match="no host"):
        _poller.call("device_info", {"host": None}, "h1", run_pid=run_process.pid)
    poller = _listener_pid(_poller.socket_path(run_process.pid))
    os.kill(poller, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(_poller.Stalled, match=r"did not answer within 1\.5 s \(the device's deadline plus 0\.5 s\)"):
            _poller.call("device_info", {"host": "192.0.2.1", "deadline": 1.0}, "h2", run_pid=run_process.pid)
        assert 1.4 < time.monotonic() - started < 5
        with pytest.raises(_poller.Unavailable) as later:   # the rest of the run polls in its workers
            _poller.call("device_info", {"host": "192.0.2.1", "deadline": 1.0}, "h3", run_pid=run_process.pid)
        assert not later.value.first and not isinstance(later.value, _poller.Stalled)
    finally:
        os.kill(poller, signal.SIGCONT)
