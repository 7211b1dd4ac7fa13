# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared poller's own side: the process that ``_poller.main`` runs, and the protocol it speaks.

The whole life cycle (the workers' side too) is described at the top of ``_poller``. This process
goes through three states::

    listening   its socket bound (umask 077: only the user may connect), accepting requests
    serving     each request in a task of its own (at most one per fork of the run), its reply sent back
    exiting     at the first of: the run ended (the ansible-playbook process is gone), the socket was
                removed or replaced (by a successor), or IDLE_S seconds without a request; checked
                every WATCH_S. It removes its socket only if it is still its own, its log if empty,
                and the start lock once the run has ended (no worker of the run can come any more).

A message, either way, is a 4-byte big-endian length and that many bytes of JSON. A request is
``{"protocol", "op", "params", "label"}``; the reply ``{"protocol"}`` plus one of ``result`` (the
operation's return value), ``value_error`` (bad options: the worker raises the same ValueError as
in-process) or ``internal`` (anything else: the worker polls the device itself).
"""
from __future__ import annotations

import asyncio
import json
import os
import stat
import struct
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from ansible_collections.johann.monitor.plugins.module_utils import _json

PROTOCOL = 1
HEADER = struct.Struct("!I")
MAX_MESSAGE = 256 * 1024 * 1024   # a device record is ~15-100 kB; anything near this is not ours
IDLE_S = 60.0                      # no request for this long: exit (a later task starts a new poller)
# the collector's pace in the poller (gc.set_threshold): a young pass every 10,000 container objects kept, not 700;
# a poller's cycles (an exception and its traceback) are young when they become garbage, so memory stays the same
# (bench.poller_profile, 1000 devices: peak RSS 81-86 MiB either way; collection CPU 1.3 -> 0.1 ms per device)
GC_THRESHOLDS = (10_000, 20, 10)
WATCH_S = 0.5                      # how often the poller checks its run and socket are still there


def _operations() -> dict:
    from ansible_collections.johann.monitor.plugins.module_utils._device_info import GatherError
    from ansible_collections.johann.monitor.plugins.module_utils._tasks import device_info

    async def _device_info(params: dict, label: str) -> dict:
        try:
            return await device_info(params, label)
        except GatherError as exc:
            raise ValueError(str(exc)) from None

    return {"device_info": _device_info}


class Poller:
    """One poller process: serves the run ``run_pid`` on the Unix socket ``path``."""

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
            reply = await self.answer(json.loads(await reader.readexactly(size)))
            data = _json.dumps(reply)
            writer.write(HEADER.pack(len(data)) + data)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass   # the worker went away (task timeout, Ctrl-C) or sent garbage: nothing to answer
        finally:
            self.active -= 1
            self.last = time.monotonic()
            writer.close()

    async def answer(self, request: Any) -> dict:
        """The reply to one decoded request (a malformed one gets ``internal``: the worker polls itself)."""
        if not isinstance(request, dict) or not isinstance(request.get("params"), dict):
            request = {"op": None, "protocol": None, "params": {}}
        reply: dict[str, Any] = {"protocol": PROTOCOL}
        operation = self.operations.get(request.get("op")) if request.get("protocol") == PROTOCOL else None
        if operation is None:
            reply["internal"] = f"unknown request {request.get('op')!r} (protocol {request.get('protocol')!r})"
            return reply
        try:
            reply["result"] = await operation(request["params"], request.get("label", ""))
        except ValueError as exc:
            reply["value_error"] = str(exc)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # the worker polls itself then
            traceback.print_exc(file=sys.stderr)
            reply["internal"] = f"{type(exc).__name__}: {exc}"
        return reply

    def finished(self) -> str | None:
        """Why to exit now (the ``exiting`` state's reasons), or None to go on serving."""
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
        """Listen, serve until ``finished`` says why not, remove the socket if still ours; the reason."""
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


def tidy(path: Path, why: str) -> None:
    """After serving: the log goes if empty, the start lock once the run has ended."""
    log = path.with_suffix(".log")
    if log.exists() and not log.stat().st_size:
        log.unlink(missing_ok=True)
    if why == "run ended":   # no worker of this run can come any more: its lock file can go too
        path.with_suffix(".lock").unlink(missing_ok=True)
