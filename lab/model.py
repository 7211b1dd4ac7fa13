"""The living state of a simulated device: a pure function of seed and time.

Nothing here keeps counters in memory.  Every counter, CPU figure, flap and
reading is computed from the device's seed, its boot time and the lab clock,
so the lab is deterministic for a given seed and clock, and its ground truth
(``Device.truth``) is exact: a counter read at ``t2`` minus one read at ``t1``
is the published rate times ``t2 - t1``.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import math
import time
from dataclasses import dataclass, field

COUNTER32 = 2 ** 32


class Clock:
    """The lab's clock: real time, optionally frozen or shifted by the tests."""

    def __init__(self, epoch: float | None = None, frozen: bool = False) -> None:
        self._offset = 0.0 if epoch is None else epoch - time.time()
        self.real_time = epoch is None and not frozen
        self._frozen_at: float | None = (epoch if epoch is not None else time.time()) if frozen else None

    def now(self) -> float:
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self, at: float | None = None) -> None:
        self._frozen_at = self.now() if at is None else at

    def advance(self, seconds: float) -> None:
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds

    def thaw(self) -> None:
        if self._frozen_at is not None:
            self._offset = self._frozen_at - time.time()
            self._frozen_at = None


def unit(seed: int, *parts) -> float:
    """A deterministic number in [0, 1) for a seed and any labels."""
    text = "|".join(str(p) for p in (seed, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") / 2 ** 64


def pick(seed: int, options, *parts):
    return options[int(unit(seed, *parts) * len(options))]


def iso(t: float, digits: int = 0, z: bool = False) -> str:
    """RFC 3339 date-and-time as devices print it: fractions optional, +00:00 or Z."""
    stamp = dt.datetime.fromtimestamp(t, dt.UTC)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += f".{stamp.microsecond:06d}"[: digits + 1]
    return text + ("Z" if z else "+00:00")


@dataclass
class Interface:
    """Static facts and traffic model of one interface (never mutated by GETs)."""

    name: str                  # full name, e.g. GigabitEthernet1/0/1
    kind: str                  # native list name, e.g. GigabitEthernet
    number: str | int          # native key, e.g. "1/0/1" or 0 for Loopback0
    ifindex: int
    mac: str
    speed: int                 # bit/s
    mtu: int = 1500
    connected: bool = True     # a cable is in: oper up when admin up
    in_bps: float = 0.0
    out_bps: float = 0.0
    pkt_size: int = 800
    errors_per_s: float = 0.0
    crc_per_s: float = 0.0
    discards_per_s: float = 0.0
    flap_period: float = 0.0   # seconds between flaps, 0: never flaps
    flap_down: float = 20.0    # seconds down per flap
    ipv4: tuple[str, str] | None = None
    ipv6: tuple[str, ...] = ()
    ethernet: bool = True
    link_up_delay: float = 35.0

    def in_pkts_per_s(self) -> float:
        return self.in_bps / 8 / self.pkt_size

    def out_pkts_per_s(self) -> float:
        return self.out_bps / 8 / self.pkt_size


@dataclass
class Link:
    """Oper state of an interface at one instant."""
    up: bool
    last_change: float
    flaps: int


@dataclass
class Device:
    """One simulated device: identity, config datastore and living state."""

    name: str
    profile: object
    address: str
    port: int
    seed: int
    username: str
    password: str
    dns_name: str
    boot_time: float
    faults: dict = field(default_factory=dict)
    hostname: str = ""
    identity: dict = field(default_factory=dict)
    interfaces: list[Interface] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    reloads: list[dict] = field(default_factory=list)
    unsaved_config: bool = False
    config_version: int = 1
    last_modified: float = 0.0
    ssh_port: int | None = None       # the SSH CLI's port (lab/ssh.py); None: no CLI
    startup: dict | None = None       # the config as last saved; None: the same as the running config

    # ------------------------------------------------------------ startup config
    def keep_startup(self) -> None:
        """The running config is about to change: keep a copy of it as the startup config, once."""
        if self.startup is None:
            self.startup = copy.deepcopy(self.config)

    def saved(self) -> None:
        """``write memory`` or ``cisco-ia:save-config``: startup is running again."""
        self.startup = None
        self.unsaved_config = False

    # ------------------------------------------------------------ uptime
    def uptime(self, now: float) -> float:
        return max(0.0, now - self.boot_time)

    def reboot(self, now: float, reason: str = "Reload Command") -> None:
        self.reloads.insert(0, {"time": now, "reason": reason})
        del self.reloads[10:]
        self.boot_time = now
        self.unsaved_config = False

    # ------------------------------------------------------------ interfaces
    def interface(self, name: str) -> Interface | None:
        return next((i for i in self.interfaces if i.name == name), None)

    def link(self, intf: Interface, now: float, admin_up: bool) -> Link:
        boot = self.boot_time
        if not admin_up:
            return Link(False, boot + 10.0, 0)
        up_at = boot + intf.link_up_delay
        if not intf.connected or now < up_at:
            return Link(False, boot, 0)
        if not intf.flap_period:
            return Link(True, up_at, 0)
        period, down = intf.flap_period, intf.flap_down
        window = int((now - up_at) // period)
        start = up_at + window * period + unit(self.seed, "flap", intf.name, window) * (period - down)
        if now < start:
            if window == 0:
                return Link(True, up_at, 0)
            prev = up_at + (window - 1) * period + unit(
                self.seed, "flap", intf.name, window - 1) * (period - down)
            return Link(True, prev + down, 2 * window)
        if now < start + down:
            return Link(False, start, 2 * window + 1)
        return Link(True, start + down, 2 * window + 2)

    def counters(self, intf: Interface, now: float) -> dict[str, int]:
        """Counters since boot as exact integers (64-bit; callers wrap 32-bit ones)."""
        up = self.uptime(now)
        in_octets = int(intf.in_bps / 8 * up)
        out_octets = int(intf.out_bps / 8 * up)
        in_pkts, out_pkts = in_octets // intf.pkt_size, out_octets // intf.pkt_size
        return {
            "in-octets": in_octets, "out-octets": out_octets,
            "in-unicast-pkts": in_pkts - in_pkts // 50 - in_pkts // 200,
            "in-multicast-pkts": in_pkts // 50, "in-broadcast-pkts": in_pkts // 200,
            "out-unicast-pkts": out_pkts - out_pkts // 50 - out_pkts // 200,
            "out-multicast-pkts": out_pkts // 50, "out-broadcast-pkts": out_pkts // 200,
            "in-errors": int(intf.errors_per_s * up), "in-crc-errors": int(intf.crc_per_s * up),
            "in-discards": int(intf.discards_per_s * up), "out-errors": 0, "out-discards": 0,
            "in-unknown-protos": 0,
        }

    # ------------------------------------------------------------ cpu / memory
    def cpu_at(self, t: float) -> float:
        base = 4 + 25 * unit(self.seed, "cpu-base")
        if self.faults.get("high_cpu"):
            base = 92.0
        wave = 6 * math.sin(2 * math.pi * t / 900 + 6.283 * unit(self.seed, "cpu-phase"))
        spike = 8 * (unit(self.seed, "cpu", int(t // 5)) - 0.5)
        return min(100.0, max(0.0, base + wave + spike))

    def cpu(self, now: float) -> dict[str, int]:
        samples = [self.cpu_at(now - 5 * i) for i in range(60)]
        return {"five-seconds": round(samples[0]),
                "five-seconds-intr": round(samples[0] * 0.1),
                "one-minute": round(sum(samples[:12]) / 12),
                "five-minutes": round(sum(samples) / 60)}

    def memory_fraction(self, now: float) -> float:
        base = 0.35 + 0.3 * unit(self.seed, "mem-base")
        if self.faults.get("high_memory"):
            base = 0.93
        return min(0.99, base + 0.03 * math.sin(2 * math.pi * now / 3600
                                                + 6.283 * unit(self.seed, "mem-phase")))
