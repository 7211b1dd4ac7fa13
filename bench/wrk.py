"""Run wrk against one URL and read its report.

wrk (C, epoll, one connection = one keep-alive TLS session) is the load
generator for single-device throughput because it costs far less CPU per
request than any Python client: with the lab on core 0 and wrk on core 1,
the figure is the lab's, not the client's.  wrk targets one host per run.
"""
from __future__ import annotations

import re
import resource
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


@dataclass
class WrkReport:
    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: dict[str, int]
    client_cpu_s: float
    wall_s: float

    def as_dict(self) -> dict:
        return asdict(self)


def available() -> bool:
    return shutil.which("wrk") is not None


def version() -> str:
    if not available():
        return "not installed"
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0].split("[")[0].strip()


def run(url: str, headers: dict[str, str], duration_s: int, connections: int, core: int) -> tuple[WrkReport, str]:
    """One wrk run pinned to ``core``; returns the parsed report and wrk's own text."""
    argv = ["taskset", "-c", str(core), "wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--latency",
            "--timeout", "5s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    out = subprocess.run([*argv, url], capture_output=True, text=True, timeout=duration_s + 60, check=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return parse(out.stdout, cpu, wall), out.stdout


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return round(float(match[1]) * UNITS[match[2]], 3)


def parse(text: str, client_cpu_s: float = 0.0, wall_s: float = 0.0) -> WrkReport:
    """Read the figures out of ``wrk --latency`` output."""
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+),", text)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not total or not rate:
        raise ValueError(f"wrk output without a request count:\n{text}")
    percentiles = {int(p): _ms(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\S+)$", text, re.M)}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    names = ("connect", "read", "write", "timeout")
    return WrkReport(
        requests=int(total[1]), seconds=_ms(total[2] + total[3]) / 1000, requests_per_s=float(rate[1]),
        p50_ms=percentiles.get(50, 0.0), p90_ms=percentiles.get(90, 0.0), p99_ms=percentiles.get(99, 0.0),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=dict(zip(names, map(int, errors.groups()), strict=True)) if errors else dict.fromkeys(names, 0),
        client_cpu_s=round(client_cpu_s, 2), wall_s=round(wall_s, 2))
