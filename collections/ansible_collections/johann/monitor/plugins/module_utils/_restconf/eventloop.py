# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event loop the collection's coroutines run on: uvloop's when it is installed, asyncio's own otherwise.

uvloop (libuv, its TLS layer in Cython) takes some CPU off reading a device: 5-10% in the shared poller,
measured on a shared machine whose noise is of that size (bench/results/2026-12-02-poller-cpu-2.md). It is
optional, and the client behaves the same on either loop: the same errors and messages, the same bounds
(its tests pass on both). The shared poller runs on it for the whole run; a worker that polls its device
itself, for that device.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

try:
    import uvloop
except ImportError:   # optional (not on Windows, not in every execution environment): asyncio's own loop
    uvloop = None


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """What ``asyncio.Runner`` makes its loop with: uvloop's when importable, else None (asyncio's default)."""
    return uvloop.new_event_loop if uvloop is not None else None


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run(coroutine)`` on the loop ``loop_factory`` picks (``asyncio.run`` has no loop factory before 3.12)."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(coroutine)
