# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How fast the client asks one device: the requests in flight, and how long to wait before a retry.

IOS XE serialises its RESTCONF work and caps connections: the client bounds the requests in
flight per device and lowers that bound when the device answers busy (503 or 429), and waits as
long as the device's ``Retry-After`` asks (delta-seconds or an HTTP date) before trying again.
"""
from __future__ import annotations

import asyncio
import collections
import email.utils
import time


class Limiter:
    """The requests in flight to one device; the bound drops when the device answers busy.

    A device that serialises its RESTCONF agent answers 503 (or 429) to the request beyond the
    ones it takes: the bound drops to what it took (down to one), so the device is read
    completely, one request at a time, rather than losing the reads it refused. (A semaphore
    whose bound can drop: a free slot costs no lock and no future.)
    """

    def __init__(self, limit: int) -> None:
        self.initial = self.limit = max(1, limit)
        self.active = 0
        self.busy = 0
        self._waiters: collections.deque = collections.deque()

    async def __aenter__(self) -> None:
        while self.active >= self.limit or self._waiters:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()   # woken, then cancelled: pass the turn on
                raise
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            if self.active < self.limit:
                break
        self.active += 1

    async def __aexit__(self, *exc_info) -> None:
        self.active -= 1
        self._wake()

    def _wake(self) -> None:
        if self.active < self.limit:
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)
                    return

    def refused(self) -> bool:
        """The device answered busy to a request holding a slot: lower the bound if ours was the cause."""
        self.busy += 1
        if self.active <= 1:
            return False
        self.limit = max(1, min(self.limit, self.active) - 1)
        return True


def retry_after(value: str | None, default: float) -> float:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())
