# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared poller: one process per ansible-playbook run that does device_info's network work.

Ansible forks a fresh worker process for every host and task. Polling a device inside that
worker costs about 60 ms of CPU on a small controller, of which only about 25 ms is the
polling itself: the rest is the price of a cold process (copy-on-write page faults, cold
caches, a new event loop and TLS context for every device). With ``poller: shared`` the worker
still validates the task's options, then hands them over a Unix socket to one long-lived
asyncio process that polls every device of the run with warm state, and gets the finished
result back. Ansible's model is unchanged: one task per host, forks, per-host results and
failures, ARA records each host's result.

Lifecycle. The first worker that needs the poller starts it (under a lock, so only one
starts) with the controller's own Python. It listens on ``<tmp>/johann-monitor-<uid>/
poller-<pid>.sock``, where ``<pid>`` is the ansible-playbook process (every worker's parent)
and the directory is private (0700, owned by the user, checked). A controller with more than
three cores gets one poller per two cores (``poller-<pid>-<n>.sock``), a host always the same
one (by a hash of its name), so the polling is not held to one core. Each serves requests
concurrently (at most one per fork) and exits when the ansible-playbook process is gone, when
its socket file is removed, or after ``IDLE_S`` seconds without a request (the next worker
starts a new one).

Failure. Whatever goes wrong with the poller (it cannot start, it dies mid-request or between
requests, it answers garbage), the worker polls the device itself, as with ``poller: worker``,
and so does the rest of the run (a poller of the run that died is not started again); the first
worker that finds the poller unusable says why in one warning. A device's own faults are never poller
faults: they are in the device record, exactly as in-process.

Secrets. The task's options (the password included) cross only the private Unix socket; the
poller logs nothing but its own failures (to ``poller-<pid>.log`` beside the socket, removed
with it), never options or device data.
"""
from __future__ import annotations

import asyncio
import errno
import fcntl
import json
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from pathlib import Path
from typing import Any

PROTOCOL = 1
HEADER = struct.Struct("!I")
MAX_MESSAGE = 256 * 1024 * 1024   # a device record is ~15-100 kB; anything near this is not ours
IDLE_S = 60.0                      # no request for this long: exit (a later task starts a new poller)
START_TIMEOUT_S = 20.0             # a poller not listening by then counts as failed to start
WATCH_S = 0.5                      # how often the poller checks its run and socket are still there
GRACE_S = 15.0                     # beyond the device's deadline, how long a worker waits for the poller
SOCKET_PATH_MAX = 107              # sun_path minus the NUL
PATH_FILES = ("ca_path", "client_cert", "client_key")   # options the poller must see as absolute paths


class Unavailable(Exception):
    """The shared poller cannot be used for this request: the caller polls in-process.

    ``first`` is true for the one request of the run that found out (it warns); later requests
    of the run do not try the poller again.
    """

    first = True
    marked = False   # recorded in the run's marker file already


class Stalled(Unavailable):
    """The poller took the request but gave no answer within the device's deadline and ``GRACE_S``.

    The device's time is spent: the caller reports it unread rather than polling it again
    (which would double its bound); the rest of the run polls in its workers.
    """


# ---------------------------------------------------------------- shared: framing and paths


def _send(sock: socket.socket, payload: dict) -> None:
    data = json.dumps(payload, separators=(",", ":")).encode()
    sock.sendall(HEADER.pack(len(data)) + data)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise Unavailable("the shared poller closed the connection without an answer (did it die?)")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket) -> dict:
    (size,) = HEADER.unpack(_recv_exactly(sock, HEADER.size))
    if size > MAX_MESSAGE:
        raise Unavailable(f"the shared poller sent a {size}-byte answer (more than {MAX_MESSAGE}): not a poller")
    try:
        reply = json.loads(_recv_exactly(sock, size))
    except ValueError as exc:
        raise Unavailable(f"the shared poller's answer is not JSON: {exc}") from None
    if not isinstance(reply, dict) or reply.get("protocol") != PROTOCOL:
        raise Unavailable("the shared poller answered in an unknown protocol")
    return reply


def runtime_dir() -> Path:
    """The user's private directory for poller sockets (created 0700; refused if anyone else can use it)."""
    path = Path(tempfile.gettempdir()) / f"johann-monitor-{os.getuid()}"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise Unavailable(f"cannot create {path}: {exc.strerror}") from None
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise Unavailable(f"{path} is not a private directory of this user (it must be a real directory, "
                          f"owned by uid {os.getuid()}, mode 0700): remove it or fix its mode")
    return path


def poller_count() -> int:
    """Pollers per run: one per two controller cores (at least one), so the polling scales with the cores."""
    return max(1, (os.cpu_count() or 2) // 2)


def socket_path(run_pid: int, index: int = 0) -> Path:
    path = runtime_dir() / (f"poller-{run_pid}.sock" if not index else f"poller-{run_pid}-{index}.sock")
    if len(os.fsencode(path)) > SOCKET_PATH_MAX:
        raise Unavailable(f"the socket path {path} is longer than {SOCKET_PATH_MAX} bytes: set TMPDIR shorter")
    return path


# ---------------------------------------------------------------- the worker's side


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(os.fspath(path))
    except OSError:
        sock.close()
        raise
    return sock


def _collections_root() -> str:
    """The directory holding ``ansible_collections`` that this module was loaded from."""
    return str(Path(__file__).resolve().parents[5])


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
    try:
        path.unlink()   # a socket left by a run that died (or a pid reused): nobody listens on it
    except FileNotFoundError:
        pass
    log_path = path.with_suffix(".log")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_collections_root(), env.get("PYTHONPATH")) if p)
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
                raise Unavailable(f"cannot connect to the shared poller at {path}: {exc.strerror}") from None
        code_ = proc.poll()
        if code_ is not None or time.monotonic() > deadline:
            if code_ is None:
                proc.kill()
            tail = _why(log_path.read_text(errors="replace") if log_path.exists() else "")
            why = (f"not listening after {START_TIMEOUT_S:g} s" if code_ is None
                   else f"it was killed by {_signal_name(-code_)}" if code_ < 0 else f"it exited with status {code_}")
            raise Unavailable(f"the shared poller did not start ({why}){': ' + ' | '.join(tail) if tail else ''}")
        time.sleep(0.01)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def connection(run_pid: int, index: int = 0) -> socket.socket:
    """A connection to this run's poller number ``index``, starting it if nobody has."""
    path = socket_path(run_pid, index)
    try:
        return _connect(path)
    except OSError:
        pass
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # one starter; the others wait here, then connect
        try:
            return _connect(path)
        except OSError:
            pass
        if socket_path(run_pid).with_suffix(".unavailable").exists():   # a starter before us failed: not again
            exc = Unavailable("the shared poller failed to start")
            exc.first = False
            raise exc
        try:
            if _died_in_this_run(path, run_pid):
                raise Unavailable(f"the shared poller stopped answering on {path} (it died or was killed; its "
                                  f"log, if any: {path.with_suffix('.log')})")
            return _start(path, run_pid)
        except Unavailable as exc:   # marked before the lock is released, so the next worker does not start one
            _mark_unavailable(run_pid, exc)
            raise


def _mark_unavailable(run_pid: int, exc: Unavailable) -> None:
    """Record for the rest of the run that its poller is unusable; only the first to record it warns."""
    exc.marked = True
    try:
        fd = os.open(socket_path(run_pid).with_suffix(".unavailable"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        exc.first = False
    else:
        with os.fdopen(fd, "w") as out:
            out.write(str(exc))


def _run_started_at(run_pid: int) -> float | None:
    """When the process ``run_pid`` started (epoch seconds), from Linux's /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{run_pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError, StopIteration):
        return None


def _died_in_this_run(path: Path, run_pid: int) -> bool:
    """Whether the socket ``path``, that nobody answers on, was left by a poller of this very run.

    A poller that leaves normally removes its socket; one left behind that refuses connections
    is a poller that died. If it was this run's, starting another would only repeat whatever
    killed it (and a run's pollers would come and go): the run polls in its workers instead. A
    socket older than the run is a dead earlier run's whose pid was reused: it is replaced.
    """
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            return False
    except FileNotFoundError:
        return False
    return not _older_than_run(path, run_pid)


def _older_than_run(path: Path, run_pid: int) -> bool:
    """Whether ``path`` was left by an earlier process with the run's pid (then removed), not by this run."""
    started = _run_started_at(run_pid)
    try:
        if started is None or os.lstat(path).st_mtime >= started - 1.0:   # boot time: one-second resolution
            return False
    except FileNotFoundError:
        return True
    path.unlink(missing_ok=True)
    return True


def call(op: str, params: dict[str, Any], label: str, run_pid: int | None = None) -> dict:
    """Run ``op`` in the run's shared poller; its result, or ``ValueError`` for bad options.

    Raises Unavailable when the poller cannot do it: the caller polls in-process instead, and so
    does every later request of the run (a poller that failed once is not waited for again).
    """
    run_pid = run_pid or os.getppid()
    marker = socket_path(run_pid).with_suffix(".unavailable")
    if marker.exists() and not _older_than_run(marker, run_pid):
        exc = Unavailable(marker.read_text(errors="replace"))
        exc.first = False
        raise exc
    try:
        return _call(op, params, label, run_pid)
    except Unavailable as exc:
        if not exc.marked:
            _mark_unavailable(run_pid, exc)
        raise


def _call(op: str, params: dict[str, Any], label: str, run_pid: int) -> dict:
    params = dict(params)
    for name in PATH_FILES:   # the poller runs elsewhere (cwd /): relative paths are the worker's
        if params.get(name):
            params[name] = os.path.abspath(params[name])
    try:
        sock = connection(run_pid, zlib.crc32(label.encode()) % poller_count())   # a host keeps its poller
    except OSError as exc:
        raise Unavailable(f"cannot reach the shared poller: {exc}") from None
    with sock:
        wait = float(params.get("deadline") or 60.0) + GRACE_S
        sock.settimeout(wait)
        try:
            _send(sock, {"protocol": PROTOCOL, "op": op, "params": params, "label": label})
            reply = _recv(sock)
        except TimeoutError:
            raise Stalled(f"the shared poller did not answer within {wait:g} s (the device's deadline plus "
                          f"{GRACE_S:g} s): it may be stopped or starved of CPU") from None
        except OSError as exc:
            raise Unavailable(f"the shared poller failed mid-request: {exc.strerror or exc}") from None
    if "result" in reply:
        return reply["result"]
    if "value_error" in reply:
        raise ValueError(reply["value_error"])
    raise Unavailable(f"the shared poller could not do it: {reply.get('internal', 'no result')}")


# ---------------------------------------------------------------- the poller's side


def _operations() -> dict:
    from ansible_collections.johann.monitor.plugins.module_utils._device_info import GatherError
    from ansible_collections.johann.monitor.plugins.module_utils._tasks import device_info

    async def _device_info(params: dict, label: str) -> dict:
        try:
            return await device_info(params, label)
        except GatherError as exc:
            raise ValueError(str(exc)) from None

    return {"device_info": _device_info}


class _Poller:
    def __init__(self, path: Path, run_pid: int) -> None:
        self.path = path
        self.run_pid = run_pid
        self.operations = _operations()
        self.active = 0
        self.last = time.monotonic()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.active += 1
        try:
            (size,) = HEADER.unpack(await reader.readexactly(HEADER.size))
            if size > MAX_MESSAGE:
                return
            request = json.loads(await reader.readexactly(size))
            if not isinstance(request, dict) or not isinstance(request.get("params"), dict):
                request = {"op": None, "protocol": None, "params": {}}
            reply: dict[str, Any] = {"protocol": PROTOCOL}
            operation = self.operations.get(request.get("op")) if request.get("protocol") == PROTOCOL else None
            if operation is None:
                reply["internal"] = f"unknown request {request.get('op')!r} (protocol {request.get('protocol')!r})"
            else:
                try:
                    reply["result"] = await operation(request["params"], request.get("label", ""))
                except ValueError as exc:
                    reply["value_error"] = str(exc)
                except Exception as exc:  # pylint: disable=broad-exception-caught  # the worker polls itself then
                    traceback.print_exc(file=sys.stderr)
                    reply["internal"] = f"{type(exc).__name__}: {exc}"
            data = json.dumps(reply, separators=(",", ":")).encode()
            writer.write(HEADER.pack(len(data)) + data)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass   # the worker went away (task timeout, Ctrl-C) or sent garbage: nothing to answer
        finally:
            self.active -= 1
            self.last = time.monotonic()
            writer.close()

    def finished(self) -> str | None:
        try:
            os.kill(self.run_pid, 0)
        except ProcessLookupError:
            return "run ended"
        except PermissionError:
            pass
        try:
            if not stat.S_ISSOCK(os.lstat(self.path).st_mode):
                return "socket replaced"
        except FileNotFoundError:
            return "socket removed"
        if not self.active and time.monotonic() - self.last > IDLE_S:
            return "idle"
        return None

    async def serve(self) -> str:
        old = os.umask(0o077)
        try:
            server = await asyncio.start_unix_server(self.handle, path=os.fspath(self.path))
        finally:
            os.umask(old)
        identity = os.lstat(self.path)
        async with server:
            while (why := self.finished()) is None:
                await asyncio.sleep(WATCH_S)
        try:   # remove our socket, not a successor's
            now = os.lstat(self.path)
            if (now.st_ino, now.st_dev) == (identity.st_ino, identity.st_dev):
                self.path.unlink()
        except FileNotFoundError:
            pass
        return why


def main(argv: list[str]) -> int:
    """``python -c '...main(sys.argv[1:])' <socket path> <ansible-playbook pid>``: serve until the run ends."""
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: _poller <socket path> <ansible-playbook pid>", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C goes to the run's process group: the run stops us
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    path = Path(argv[0])
    why = asyncio.run(_Poller(path, int(argv[1])).serve())
    log = path.with_suffix(".log")
    if log.exists() and not log.stat().st_size:
        log.unlink(missing_ok=True)
    if why == "run ended":   # no worker of this run can come any more: its lock file can go too
        path.with_suffix(".lock").unlink(missing_ok=True)
    return 0
