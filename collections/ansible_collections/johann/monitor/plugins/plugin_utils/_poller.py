# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared poller: one process per ansible-playbook run that does device_info's network work.

A device polled in the fresh worker Ansible forks per host costs about 60 ms of CPU, 25 ms of it the
polling (the rest: a cold process, a new event loop and TLS context). With ``poller: shared`` the worker
hands the validated options to one asyncio process per run that polls every device with warm state.

Life cycle. A run is its ansible-playbook process (``run_pid``, every worker's parent); its files
are ``poller-<pid>.sock``, ``.lock``, ``.log`` and ``.unavailable`` (the marker) in the private
``<tmp>/johann-monitor-<uid>/`` (0700, the user's, checked). A request (``call``: a worker, a
host; its state in one ``Link``) finds the run's poller:

    not started  nothing answers on the socket: take the start lock (flock), then
    starting     connect again (a worker before us may have started it); the marker there, or this
                 run's dead poller's socket -> unusable; else sweep the files of ended runs, start
                 ``main`` with the controller's Python, wait START_TIMEOUT_S for it -> serving, or
                 -> unusable (exit status or signal, the log's last lines). Recorded under the lock.
    serving      send the options, wait the device's deadline plus GRACE_S for the record (or the
                 ValueError of bad options). Dies, garbage, cannot do it -> unusable; no answer in
                 time -> unusable and the device reported unread (``Stalled``: never polled twice).
                 A poller that exited idle removed its socket: the next request finds it not started.
    unusable     for the rest of the run: later requests read the marker and poll in their worker.
                 The one request that created it has ``Unavailable.first`` and warns; a poller of
                 the run that died is not started again. If the directory itself is unusable there is
                 nowhere to record it: every request polls in its worker and says why.

The poller process (``main``, then ``_poller_serve``):

    listening    its socket bound with umask 077; then at once
    serving      each request in a task of its own (at most one per fork), until
    exiting      the run ended, its socket was removed or replaced, or IDLE_S without a request.

A marker or socket older than the run (mtime against the run's start in /proc) is an earlier
process's whose pid was reused: removed, not obeyed. More than three cores: one poller per two
(``poller-<pid>-<n>.sock``, own lock and log), a host always on the same one (CRC32 of its name);
one marker per run for all. A device's own faults are in its record, as in-process, never poller
faults. The options (password too) cross only the private socket; the poller logs only its failures.
"""
from __future__ import annotations

import errno
import fcntl
import gc
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from ansible_collections.johann.monitor.plugins.module_utils._restconf import eventloop
from ansible_collections.johann.monitor.plugins.plugin_utils._poller_serve import (
    GC_THRESHOLDS,
    HEADER,
    MAX_MESSAGE,
    PROTOCOL,
    Poller,
    tidy,
)

START_TIMEOUT_S = 20.0             # a poller not listening by then counts as failed to start
GRACE_S = 15.0                     # beyond the device's deadline, how long a worker waits for the poller
SOCKET_PATH_MAX = 107              # sun_path minus the NUL
PATH_FILES = ("ca_path", "client_cert", "client_key")   # options the poller must see as absolute paths


class Unavailable(Exception):
    """The shared poller cannot serve this request: the caller polls the device in-process. ``first`` (read-only,
    set when ``call`` raises it): this request is the run's first to find the poller unusable, so it says why."""

    def __init__(self, reason: str, *, first: bool) -> None:
        super().__init__(reason)
        self._first = first

    @property
    def first(self) -> bool:
        return self._first


class Stalled(Unavailable):
    """No answer within the device's deadline and ``GRACE_S``: the device's time is spent, the caller reports it
    unread rather than polling it again (which would double its bound)."""


class _Fault(Exception):
    """Why the poller cannot serve a request, inside this module: ``call`` turns it into ``Unavailable``."""


class _Stall(_Fault):
    """No answer within the device's deadline and ``GRACE_S``: ``call`` turns it into ``Stalled``."""


# ---------------------------------------------------------------- a request: call() and its Link


def call(op: str, params: dict[str, Any], label: str, run_pid: int | None = None) -> dict:
    """Run ``op`` in the run's shared poller: its result, ``ValueError`` for bad options, or ``Unavailable``
    (``Stalled`` when the device's time is spent): then the caller polls in-process, as the rest of the run will."""
    run_pid = run_pid or os.getppid()
    try:
        link = Link(run_pid, zlib.crc32(label.encode()) % poller_count())   # a host keeps its poller
    except _Fault as fault:   # the private directory is unusable: nowhere to record it, every request says why
        raise Unavailable(str(fault), first=True) from None
    if (recorded := link.recorded()) is not None:
        raise Unavailable(recorded, first=False)
    try:
        return _result(link.request(op, _absolute(params), label))
    except _Fault as fault:
        verdict = Stalled if isinstance(fault, _Stall) else Unavailable
        raise verdict(str(fault), first=link.give_up(str(fault))) from None


def _absolute(params: dict[str, Any]) -> dict[str, Any]:
    params = dict(params)
    for name in PATH_FILES:   # the poller runs elsewhere (cwd /): relative paths are the worker's
        if params.get(name):
            params[name] = os.path.abspath(params[name])
    return params


def _result(reply: dict) -> dict:
    if "result" in reply:
        return reply["result"]
    if "value_error" in reply:
        raise ValueError(reply["value_error"])
    raise _Fault(f"the shared poller could not do it: {reply.get('internal', 'no result')}")


class Link:
    """One request's link to its run's poller number ``index``: the files it goes by, and its verdict.

    ``first`` is None until the request gives the poller up; then True if its record of the failure
    is the run's first (it warns), False if a request before it had recorded one.
    """

    def __init__(self, run_pid: int, index: int = 0) -> None:
        self.run_pid = run_pid
        self.path = socket_path(run_pid, index)
        self.marker = socket_path(run_pid).with_suffix(".unavailable")   # one per run, whichever poller failed
        self.first: bool | None = None

    def recorded(self) -> str | None:
        """Why the run's poller is unusable, if a request before this one recorded it."""
        if not _of_this_run(self.marker, self.run_pid):
            return None
        return self.marker.read_text(errors="replace")

    def give_up(self, reason: str) -> bool:
        """Record for the rest of the run that its poller is unusable (once); whether this request was the first."""
        if self.first is None:
            try:
                fd = os.open(self.marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                self.first = False
            else:
                with os.fdopen(fd, "w") as out:
                    out.write(reason)
                self.first = True
        return self.first

    def request(self, op: str, params: dict[str, Any], label: str) -> dict:
        """The poller's reply to one request (state ``serving``)."""
        try:
            sock = self.connect()
        except OSError as exc:
            raise _Fault(f"cannot reach the shared poller: {exc}") from None
        with sock:
            wait = float(params.get("deadline") or 60.0) + GRACE_S
            sock.settimeout(wait)
            try:
                _send(sock, {"protocol": PROTOCOL, "op": op, "params": params, "label": label})
                return _recv(sock)
            except TimeoutError:
                raise _Stall(f"the shared poller did not answer within {wait:g} s (the device's deadline plus "
                             f"{GRACE_S:g} s): it may be stopped or starved of CPU") from None
            except OSError as exc:
                raise _Fault(f"the shared poller failed mid-request: {exc.strerror or exc}") from None

    def connect(self) -> socket.socket:
        """A connection to the poller, starting it if nobody has (states ``not started``, ``starting``)."""
        try:
            return _connect(self.path)
        except OSError:
            pass
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)   # one starter; the others wait here, then connect
            try:
                return _connect(self.path)
            except OSError:
                pass
            try:
                if self.marker.exists():   # a starter before us failed: not again
                    raise _Fault("the shared poller failed to start")
                if _died_in_this_run(self.path, self.run_pid):
                    raise _Fault(f"the shared poller stopped answering on {self.path} (it died or was killed; its "
                                 f"log, if any: {self.path.with_suffix('.log')})")
                return _start(self.path, self.run_pid)
            except _Fault as fault:   # recorded before the lock is released, so the next worker does not start one
                self.give_up(str(fault))
                raise


# ---------------------------------------------------------------- framing and paths


def _send(sock: socket.socket, payload: dict) -> None:
    data = json.dumps(payload, separators=(",", ":")).encode()
    sock.sendall(HEADER.pack(len(data)) + data)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise _Fault("the shared poller closed the connection without an answer (did it die?)")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket) -> dict:
    (size,) = HEADER.unpack(_recv_exactly(sock, HEADER.size))
    if size > MAX_MESSAGE:
        raise _Fault(f"the shared poller sent a {size}-byte answer (more than {MAX_MESSAGE}): not a poller")
    try:
        reply = json.loads(_recv_exactly(sock, size))
    except ValueError as exc:
        raise _Fault(f"the shared poller's answer is not JSON: {exc}") from None
    if not isinstance(reply, dict) or reply.get("protocol") != PROTOCOL:
        raise _Fault("the shared poller answered in an unknown protocol")
    return reply


def runtime_dir() -> Path:
    """The user's private directory for poller sockets (created 0700; refused if anyone else can use it)."""
    path = Path(tempfile.gettempdir()) / f"johann-monitor-{os.getuid()}"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise _Fault(f"cannot create {path}: {exc.strerror}") from None
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise _Fault(f"{path} is not a private directory of this user (it must be a real directory, "
                     f"owned by uid {os.getuid()}, mode 0700): remove it or fix its mode")
    return path


def poller_count() -> int:
    """Pollers per run: one per two controller cores (at least one), so the polling scales with the cores."""
    return max(1, (os.cpu_count() or 2) // 2)


def socket_path(run_pid: int, index: int = 0) -> Path:
    path = runtime_dir() / (f"poller-{run_pid}.sock" if not index else f"poller-{run_pid}-{index}.sock")
    if len(os.fsencode(path)) > SOCKET_PATH_MAX:
        raise _Fault(f"the socket path {path} is longer than {SOCKET_PATH_MAX} bytes: set TMPDIR shorter")
    return path


# ---------------------------------------------------------------- starting the poller; files of this run or not


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(os.fspath(path))
    except OSError:
        sock.close()
        raise
    return sock


def _why(log: str) -> list[str]:
    """The lines of a failed start's stderr that say what went wrong (not its stack frames)."""
    noise = ("Traceback", "File ", "Current thread", "<no Python frame>", "Python runtime state", "Stack (most")
    lines = [line.strip() for line in log.splitlines() if line.strip() and not line.strip().startswith(noise)]
    return lines[-2:]


def _sweep(directory: Path) -> None:
    """Remove the files of runs that are over (a run that was killed leaves its socket, lock, log)."""
    for entry in directory.glob("poller-*.*"):
        pid = entry.name.split("-")[1].split(".", 1)[0]
        if pid.isdigit():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                entry.unlink(missing_ok=True)
            except PermissionError:
                pass


def _start(path: Path, run_pid: int) -> socket.socket:
    """Start the poller (the caller holds the lock) and return a connection to it."""
    _sweep(path.parent)
    path.unlink(missing_ok=True)   # whatever is left there (not a socket, or a dead run's): nobody listens on it
    log_path = path.with_suffix(".log")
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[5])   # the directory holding the ansible_collections we came from
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    code = ("import sys; from ansible_collections.johann.monitor.plugins.plugin_utils._poller import main; "
            "sys.exit(main(sys.argv[1:]))")
    with open(log_path, "ab") as log:
        os.chmod(log_path, 0o600)
        proc = subprocess.Popen(   # noqa: S603  # pylint: disable=consider-using-with
            [sys.executable, "-c", code, os.fspath(path), str(run_pid)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=log, close_fds=True, cwd="/", env=env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            return _connect(path)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ECONNREFUSED):
                raise _Fault(f"cannot connect to the shared poller at {path}: {exc.strerror}") from None
        code_ = proc.poll()
        if code_ is not None or time.monotonic() > deadline:
            if code_ is None:
                proc.kill()
            tail = _why(log_path.read_text(errors="replace") if log_path.exists() else "")
            why = (f"not listening after {START_TIMEOUT_S:g} s" if code_ is None
                   else f"it was killed by {_signal_name(-code_)}" if code_ < 0 else f"it exited with status {code_}")
            raise _Fault(f"the shared poller did not start ({why}){': ' + ' | '.join(tail) if tail else ''}")
        time.sleep(0.01)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _run_started_at(run_pid: int) -> float | None:
    """When the process ``run_pid`` started (epoch seconds), from Linux's /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{run_pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError, StopIteration):
        return None


def _of_this_run(path: Path, run_pid: int) -> bool:
    """Whether ``path`` exists and was made in this run (without /proc: assumed so). One older than the run is a
    dead run's whose pid was reused: it is removed (the boot time in /proc has a one-second resolution)."""
    try:
        made = os.lstat(path).st_mtime
    except FileNotFoundError:
        return False
    started = _run_started_at(run_pid)
    if started is None or made >= started - 1.0:
        return True
    path.unlink(missing_ok=True)
    return False


def _died_in_this_run(path: Path, run_pid: int) -> bool:
    """Whether the socket ``path``, that nobody answers on, was left by a poller of this run that died (one that
    leaves removes it): starting another would only repeat whatever killed it."""
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            return False
    except FileNotFoundError:
        return False
    return _of_this_run(path, run_pid)


# ---------------------------------------------------------------- the poller process


def main(argv: list[str]) -> int:
    """``python -c '...main(sys.argv[1:])' <socket path> <ansible-playbook pid>`` (what ``_start`` runs): serve
    until the run ends (``_poller_serve``)."""
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: _poller <socket path> <ansible-playbook pid>", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C goes to the run's process group: the run stops us
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    path = Path(argv[0])
    poller = Poller(path, int(argv[1]))   # its operations' modules imported
    # The collector's default pace (a young-generation pass every 700 container objects kept) runs ~900 passes
    # over each 1000 devices' decoded replies, ~1.3 ms of CPU per device, and the older generations re-scan
    # every module loaded: the modules are set aside for good and the pace slowed (GC_THRESHOLDS)
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    why = eventloop.run(poller.serve())   # uvloop's loop when installed
    tidy(path, why)
    return 0
