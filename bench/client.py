"""Asyncio RESTCONF clients for the lab: reach every device, or load many at once.

httpx is the client the project itself uses, so its figures say what the
monitor's own client can do; aiohttp's (cheaper per request) is there to
tell the lab's limit apart from the client's.  Certificates are verified against the lab
CA, as a real client must.  Concurrency is bounded, and load runs for a fixed
time with a per-connection cap on requests.
"""
from __future__ import annotations

import asyncio
import base64
import ssl
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import httpx

from bench.lab_process import Host, Inventory

ACCEPT = "application/yang-data+json"
SMALL_PATHS = {"ietf": "ietf-system:system/hostname"}
SMALL_DEFAULT = "Cisco-IOS-XE-native:native/hostname"
BIG_PATH = "Cisco-IOS-XE-interfaces-oper:interfaces"


def small_url(host: Host) -> str:
    """The small GET of a device: its hostname leaf (tens of bytes of JSON)."""
    return f"https://{host.address}:{host.port}/restconf/data/{SMALL_PATHS.get(host.platform, SMALL_DEFAULT)}"


def big_url(host: Host) -> str:
    """The big GET: every interface with its counters (tens of kB on iosxe-17)."""
    return f"https://{host.address}:{host.port}/restconf/data/{BIG_PATH}"


def headers(inv: Inventory) -> dict[str, str]:
    token = base64.b64encode(f"{inv.username}:{inv.password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Accept": ACCEPT}


def run_async(main: Callable[[], Awaitable]) -> object:
    """uvloop when installed (as the lab uses), so the client's TLS is as cheap as Python's gets."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    return uvloop.run(main())


def _client(inv: Inventory, connections: int) -> httpx.AsyncClient:
    context = ssl.create_default_context(cafile=str(inv.ca_path))
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(verify=context, limits=limits, headers=headers(inv),
                             timeout=httpx.Timeout(10.0, connect=5.0))


@dataclass
class Sweep:
    """Every device asked once for its hostname."""

    devices: int
    answered: int
    seconds: float
    failures: list[str] = field(default_factory=list)


async def _hostname(client: httpx.AsyncClient, host: Host, gate: asyncio.Semaphore) -> str | None:
    """None when the device answered with its own name, else what went wrong."""
    async with gate:
        try:
            reply = await client.get(small_url(host))
        except httpx.HTTPError as exc:
            return f"{host.name}: {type(exc).__name__}: {exc}"[:160]
    if reply.status_code != 200:
        return f"{host.name}: HTTP {reply.status_code}"
    try:
        (value,) = reply.json().values()
    except ValueError:
        return f"{host.name}: 200 without one JSON value: {reply.text[:60]!r}"
    return None if value == host.name else f"{host.name}: hostname {value!r}"


def sweep(inv: Inventory, concurrency: int) -> Sweep:
    """One small GET per device, ``concurrency`` at a time; each a new TLS session."""
    async def main() -> Sweep:
        gate = asyncio.Semaphore(concurrency)
        started = time.monotonic()
        async with _client(inv, concurrency) as client:
            results = await asyncio.gather(*(_hostname(client, h, gate) for h in inv.hosts))
        failures = [r for r in results if r]
        return Sweep(len(inv.hosts), len(inv.hosts) - len(failures), round(time.monotonic() - started, 2),
                     failures[:10])
    return run_async(main)  # type: ignore[return-value]


@dataclass
class Load:
    """Small GETs over many devices, one keep-alive connection each, for a fixed time."""

    client: str
    devices: int
    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]
    client_cpu_s: float


Get = Callable[[], Awaitable[int]]  # one GET of one device; returns the HTTP status


async def _worker(get: Get, deadline: float, cap: int, latencies: list[float], errors: Counter) -> None:
    for _ in range(cap):
        if time.monotonic() >= deadline:
            return
        started = time.perf_counter()
        try:
            status = await get()
        except (httpx.HTTPError, aiohttp.ClientError, TimeoutError) as exc:
            errors[type(exc).__name__] += 1
            continue
        if status != 200:
            errors[f"HTTP {status}"] += 1
            continue
        latencies.append(time.perf_counter() - started)


async def _measure(name: str, gets: list[Get], duration_s: float, cap: int) -> Load:
    """Warm every connection with one GET (TLS handshake not timed), then load all devices at once."""
    await asyncio.gather(*(get() for get in gets))
    latencies: list[float] = []
    errors: Counter = Counter()
    cpu0, started = time.process_time(), time.monotonic()
    deadline = started + duration_s
    await asyncio.gather(*(_worker(get, deadline, cap, latencies, errors) for get in gets))
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu0
    return Load(name, len(gets), len(latencies), round(seconds, 2), round(len(latencies) / seconds, 1),
                *_percentiles(latencies), dict(errors), round(cpu, 2))


def _httpx_get(c: httpx.AsyncClient, url: str) -> Get:
    async def get() -> int:
        return (await c.get(url)).status_code
    return get


def _aiohttp_get(session: aiohttp.ClientSession, url: str) -> Get:
    async def get() -> int:
        async with session.get(url) as reply:
            await reply.read()
            return reply.status
    return get


def spread_httpx(inv: Inventory, hosts: list[Host], duration_s: float, cap_per_device: int) -> Load:
    """httpx, the project's client, with one AsyncClient per device as a per-host poller holds.

    Not one shared client: httpcore's pool matches every queued request against
    every connection, so one pool of hundreds of connections spends its CPU on
    bookkeeping (and now and then fails a read with ClosedResourceError on a
    connection the pool itself closed).
    """
    async def main() -> Load:
        clients = [_client(inv, 1) for _ in hosts]
        try:
            gets = [_httpx_get(c, small_url(h)) for c, h in zip(clients, hosts, strict=True)]
            return await _measure("httpx", gets, duration_s, cap_per_device)
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))
    return run_async(main)  # type: ignore[return-value]


def spread_aiohttp(inv: Inventory, hosts: list[Host], duration_s: float, cap_per_device: int) -> Load:
    """aiohttp's client, which costs the client about a fifth of httpx's CPU per request.

    With it the lab, not the client, is closer to the limit, so this row tells
    what the lab serves when the load is spread over many devices.
    """
    async def main() -> Load:
        context = ssl.create_default_context(cafile=str(inv.ca_path))
        connector = aiohttp.TCPConnector(ssl=context, limit=0, limit_per_host=1)
        timeout = aiohttp.ClientTimeout(total=10, connect=5)
        async with aiohttp.ClientSession(connector=connector, headers=headers(inv), timeout=timeout) as session:
            gets = [_aiohttp_get(session, small_url(h)) for h in hosts]
            return await _measure("aiohttp", gets, duration_s, cap_per_device)
    return run_async(main)  # type: ignore[return-value]


SPREAD_CLIENTS = {"httpx": spread_httpx, "aiohttp": spread_aiohttp}


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    if len(seconds) < 2:
        return 0.0, 0.0
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return round(cuts[49] * 1000, 2), round(cuts[98] * 1000, 2)
