# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a whole report beside the previous one, then put it in place at once.

Replacing the files of a report one by one left a mix of new device pages and the old
index when the run was stopped half way (Ctrl-C, a SIGTERM, a full disk), plus temporary
files. Now every file of the new report is written into a staging directory inside the
report directory (``.johann-staging-<host>-<pid>``: same filesystem, so a rename moves a file),
and only when all of them are written are they renamed into place: device pages first,
the index last, in a short phase with SIGINT and SIGTERM held back. Stale pages are
removed after, then the staging directory. Whatever goes wrong before that phase leaves
the previous report as it was, and the staging directory is removed on the way out; one
left by a process that was killed outright (SIGKILL) is removed by the next report on that
machine (the name says which process of which machine left it).

A SIGINT or SIGTERM while the report is being rendered (``interruptible``) stops the
rendering at once, removes what was staged and then lets the signal do what it did
before (in an Ansible worker: end the worker's process group), so a stopped run leaves
the previous report whole and nothing of the new one.
"""
from __future__ import annotations

import errno
import fcntl
import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

PREFIX = ".johann-staging-"
HELD = (signal.SIGINT, signal.SIGTERM)
ORPHAN_AGE_S = 86400.0   # a staging directory this old is removed even if its pid is alive again (reused)
PRUNE = {"devices": "*.html",   # pages of the previous report no longer in this one
         "summary-parts": "part-*.json"}   # what versions before 2026-12 wrote for ARA (the report records it now)


class ReportWriteError(Exception):
    """The report directory cannot be written; the message names it, the reason and what became of it."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived while the report was rendered (a BaseException: no ``except Exception`` stops it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


class _SignalState:
    """The signals caught while ``interruptible`` is active, and whether one may raise now."""

    def __init__(self) -> None:
        self.caught: list[int] = []
        self.holding = False

    def handler(self, signum: int, _frame) -> None:
        self.caught.append(signum)
        if len(self.caught) == 1 and not self.holding:
            raise Interrupted(signum)


_state: _SignalState | None = None


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT/SIGTERM raise ``Interrupted`` inside; on the way out the previous handlers are back and get the signal.

    Only in the main thread (Python runs signal handlers there); elsewhere a no-op.
    """
    global _state   # noqa: PLW0603 - one per process: signal handlers are per process
    if threading.current_thread() is not threading.main_thread() or _state is not None:
        yield
        return
    _state = state = _SignalState()
    previous = {signum: signal.signal(signum, state.handler) for signum in HELD}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        _state = None
        if state.caught:   # what would have happened without us, now that the staged files are gone
            signal.raise_signal(state.caught[0])


@contextmanager
def _held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is over (blocked in this thread, and not raised by our handler)."""
    state = _state
    if state is not None:
        state.holding = True
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
        if state is not None:
            state.holding = False
            if state.caught:   # arrived meanwhile (through another thread): stop now, the report is in place
                raise Interrupted(state.caught[0])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def staging_name(pid: int) -> str:
    """``.johann-staging-<host>-<pid>``: the machine too, for a report directory shared between controllers."""
    return f"{PREFIX}{socket.gethostname()}-{pid}"


def _orphan(entry: Path) -> bool:
    """A staging directory of a process of this machine that is gone, or one older than any report takes."""
    host, _sep, pid = entry.name[len(PREFIX):].rpartition("-")
    if not pid.isdigit() or int(pid) == os.getpid() and host == socket.gethostname():
        return False
    if host == socket.gethostname() and not _alive(int(pid)):
        return True
    return time.time() - entry.lstat().st_mtime > ORPHAN_AGE_S


def sweep(output: Path) -> list[Path]:
    """Remove staging directories of processes that are gone (killed outright while writing)."""
    removed = []
    for entry in output.glob(PREFIX + "*"):
        with suppress(OSError):
            if _orphan(entry):
                shutil.rmtree(entry)
                removed.append(entry)
    return removed


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) if exc.errno is None else os.strerror(exc.errno)


class Staging:
    """The staging directory of one report: ``write`` files into it, then ``commit`` them into place."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.dir = output / staging_name(os.getpid())

    def __enter__(self) -> Staging:
        try:
            self.output.mkdir(parents=True, exist_ok=True)
            sweep(self.output)
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir.mkdir(mode=0o700)
        except OSError as exc:
            raise self.unwritable(exc) from None
        return self

    def __exit__(self, *_exc) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def unwritable(self, exc: OSError) -> ReportWriteError:
        """The one message for a report that could not be staged: where, why, and that nothing changed."""
        kept = "the previous report there is unchanged" if (self.output / "index.html").exists() \
            else "nothing was written"
        return ReportWriteError(f"cannot write the report to {self.output}: {_reason(exc)} ({kept})")

    def write(self, relative: str, text: str) -> None:
        """One file of the report, staged (mode 0644: a web server may serve the report)."""
        with self.open(relative) as handle:
            handle.write(text)

    def write_bytes(self, relative: str, data: bytes) -> None:
        """One binary file of the report (devices.xlsx), staged like ``write``."""
        with self.open(relative, binary=True) as handle:
            handle.write(data)

    @contextmanager
    def open(self, relative: str, binary: bool = False) -> Iterator[IO]:
        """One file of the report written a piece at a time, staged like ``write`` (the exports of 10,000
        devices are never one string: interfaces.csv alone is 50 MB)."""
        path = self.dir / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
            os.fchmod(fd, 0o644)
            handle = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise self.unwritable(exc) from None
        try:
            with handle:
                yield handle
        except OSError as exc:   # a full disk shows on a write, or on the last flush
            raise self.unwritable(exc) from None

    def _moves(self) -> list[tuple[Path, Path]]:
        """Staged files and where they go: subdirectories first, then the top files, the index last."""
        nested = [p for sub in sorted(p for p in self.dir.iterdir() if p.is_dir()) for p in sorted(sub.iterdir())]
        top = sorted((p for p in self.dir.iterdir() if p.is_file()), key=lambda p: (p.name == "index.html", p.name))
        return [(p, self.output / p.relative_to(self.dir)) for p in nested + top]

    def commit(self) -> int:
        """Put the staged report in place (signals held, one report at a time); return stale pages removed."""
        with _locked(self.output), _held():
            done = 0
            try:
                moves = self._moves()
                for source, target in moves:
                    target.parent.mkdir(exist_ok=True)
                    os.replace(source, target)
                    done += 1
                stale = self._prune({target for _source, target in moves})
                shutil.rmtree(self.dir, ignore_errors=True)
            except OSError as exc:
                raise ReportWriteError(
                    f"cannot write the report to {self.output}: {_reason(exc)} (while putting the new report in "
                    f"place, after {done} files: it may mix old and new pages until the next run)") from None
        return stale

    def _prune(self, kept: set[Path]) -> int:
        removed = 0
        for sub, pattern in PRUNE.items():
            for page in (self.output / sub).glob(pattern):
                if page not in kept:
                    page.unlink(missing_ok=True)
                    removed += sub == "devices"
        return removed


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One report at a time puts its files into a directory (two runs into one directory never mix)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            yield
            return
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
