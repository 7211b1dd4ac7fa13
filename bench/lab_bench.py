"""The lab's own figures: startup, memory, every device answering, throughput over TLS.

Why these: every later fleet benchmark runs against this lab, so we first
need to know what the lab itself can serve on one core, and which numbers
are the lab's limit rather than the client's.  The lab is pinned to core 0
and the load generator to core 1 so the two never share a core.
"""
from __future__ import annotations

import os
import ssl
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench import client, procfs, wrk
from bench.lab_process import Host, RunningLab

TARGET_SMALL_GETS_PER_S = 3000
SATURATED = 0.9  # a core busy this share of the time or more is the bottleneck


@dataclass(frozen=True)
class LabBenchConfig:
    devices: int = 1000
    wrk_seconds: int = 10
    wrk_connections: int = 16
    wrk_repeats: int = 3
    sweep_concurrency: int = 100
    spread_devices: int = 200
    spread_seconds: float = 10.0
    spread_cap_per_device: int = 2000
    lab_core: int = 0
    client_core: int = 1


DEFAULT = LabBenchConfig()
QUICK = LabBenchConfig(devices=200, wrk_seconds=5, wrk_repeats=2, spread_seconds=5.0)


def run(lab: RunningLab, cfg: LabBenchConfig, work_dir: Path) -> dict:
    """Every lab measurement in turn, on a lab already started by the caller."""
    assert lab.inventory is not None and lab.startup is not None
    result: dict = {"config": asdict(cfg), "startup": asdict(lab.startup)}
    result["sweep"] = asdict(client.sweep(lab.inventory, cfg.sweep_concurrency))
    procfs.pin(lab.pid, cfg.lab_core)
    device = lab.inventory.of_profile("iosxe-17")[0]
    if wrk.available():
        result["wrk_small"] = wrk_bench(lab, device, client.small_url(device), cfg, work_dir / "wrk-small.txt")
        result["wrk_big"] = wrk_bench(lab, device, client.big_url(device), cfg, work_dir / "wrk-big.txt")
    else:
        result["wrk_small"] = result["wrk_big"] = {"skipped": "wrk is not installed (apt-get install wrk)"}
    result["spread"] = {name: spread_bench(lab, cfg, name) for name in client.SPREAD_CLIENTS}
    result["memory_end"] = {"vm_hwm_kib": procfs.status_kib(lab.pid, "VmHWM"),
                            "vm_rss_kib": procfs.status_kib(lab.pid, "VmRSS")}
    result["checks"] = checks(result, cfg)
    return result


def _body_bytes(lab: RunningLab, url: str) -> int:
    """The size of one answer, so GETs/s can be read as bytes/s too."""
    assert lab.inventory is not None
    context = ssl.create_default_context(cafile=str(lab.inventory.ca_path))
    reply = httpx.get(url, headers=client.headers(lab.inventory), verify=context, timeout=10)
    reply.raise_for_status()
    return len(reply.content)


@dataclass(frozen=True)
class Snapshot:
    """CPU counters at one moment: the lab's own, and each core's busy time whoever used it."""

    lab_cpu: float
    lab_core: float
    client_core: float

    @classmethod
    def take(cls, lab: RunningLab, cfg: LabBenchConfig) -> Snapshot:
        return cls(procfs.cpu_seconds(lab.pid), procfs.core_busy_seconds(cfg.lab_core),
                   procfs.core_busy_seconds(cfg.client_core))


def usage(before: Snapshot, after: Snapshot, seconds: float, client_cpu_s: float) -> dict:
    """CPU shares over a run, and which side bounded it, stated plainly."""
    lab_cpu = after.lab_cpu - before.lab_cpu
    shares = {"lab_cpu_s": round(lab_cpu, 2), "lab_cpu_util": round(min(lab_cpu / seconds, 1.0), 3),
              "client_cpu_util": round(client_cpu_s / seconds, 3),
              "lab_core_busy": round(min((after.lab_core - before.lab_core) / seconds, 1.0), 3),
              "client_core_busy": round(min((after.client_core - before.client_core) / seconds, 1.0), 3)}
    return {**shares, "bound_by": bound(shares)}


def bound(u: dict) -> str:
    """Which side limited the figure: a core busy nearly all the time, and by whom."""
    lab, client_, core = u["lab_cpu_util"], u["client_cpu_util"], u["lab_core_busy"]
    if lab >= SATURATED:
        return f"the lab (its one core was {lab:.0%} busy)"
    if client_ >= SATURATED:
        return f"the client (its core was {client_:.0%} busy; the lab {lab:.0%})"
    if core >= SATURATED or u["client_core_busy"] >= SATURATED:
        return (f"cores busy with other work, other processes or the kernel's network path (core 0 {core:.0%} "
                f"busy, the lab {lab:.0%} of it; core 1 {u['client_core_busy']:.0%}, the client {client_:.0%})")
    return f"neither core saturated (lab {lab:.0%}, client {client_:.0%}): too few requests in flight"


def wrk_bench(lab: RunningLab, device: Host, url: str, cfg: LabBenchConfig, log: Path) -> dict:
    """wrk on core 1 against one device, ``wrk_repeats`` times; the median run is the figure.

    Repeats because this machine's figures for the same run vary by tens of per
    cent from one run to the next (a shared virtual machine); the range is kept.
    """
    assert lab.inventory is not None
    body = _body_bytes(lab, url)
    runs = [_wrk_once(lab, device, url, cfg) for _ in range(cfg.wrk_repeats)]
    log.write_text("\n".join(run.pop("text") for run in runs))
    rates = [run["wrk"]["requests_per_s"] for run in runs]
    median = sorted(runs, key=lambda run: run["wrk"]["requests_per_s"])[len(runs) // 2]
    return {"device": device.name, "profile": device.profile, "path": url.split("/restconf/data/")[1],
            "body_bytes": body, **median, "runs_requests_per_s": rates,
            "all_200": all(run["all_200"] for run in runs)}


def _wrk_once(lab: RunningLab, device: Host, url: str, cfg: LabBenchConfig) -> dict:
    """One wrk run with the lab's CPU time and its request counters (a server-side count) around it."""
    assert lab.inventory is not None
    stats0, snap0 = lab.stats()["devices"][device.name], Snapshot.take(lab, cfg)
    report, text = wrk.run(url, client.headers(lab.inventory), cfg.wrk_seconds, cfg.wrk_connections,
                           cfg.client_core)
    snap1 = Snapshot.take(lab, cfg)
    stats1 = lab.stats()["devices"][device.name]
    served = {key: stats1.get(key, 0) - stats0.get(key, 0) for key in stats1}
    shares = usage(snap0, snap1, report.wall_s, report.client_cpu_s)
    ok = served.get("200", 0)
    return {"wrk": report.as_dict(), "text": text, **shares,
            "server_requests": served.get("requests", 0), "server_200": ok,
            "gets_per_lab_cpu_s": round(ok / shares["lab_cpu_s"], 1) if shares["lab_cpu_s"] else 0.0,
            "all_200": report.non_2xx == 0 and ok == served.get("requests", 0) > 0}


def spread_bench(lab: RunningLab, cfg: LabBenchConfig, name: str) -> dict:
    """Small GETs over many devices at once from a Python client pinned to core 1.

    wrk targets one host per run, so spreading load over devices needs our own
    client, and a Python client may well be the bottleneck: the CPU shares say.
    """
    assert lab.inventory is not None
    hosts = lab.inventory.hosts[: cfg.spread_devices]
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cfg.client_core})
    try:
        snap0 = Snapshot.take(lab, cfg)
        load = client.SPREAD_CLIENTS[name](lab.inventory, hosts, cfg.spread_seconds, cfg.spread_cap_per_device)
        snap1 = Snapshot.take(lab, cfg)
    finally:
        os.sched_setaffinity(0, saved)
    # The counters also cover the untimed warm-up (one TLS handshake per device): upper bounds.
    return {**asdict(load), **usage(snap0, snap1, load.seconds, load.client_cpu_s)}


def checks(result: dict, cfg: LabBenchConfig) -> dict[str, bool]:
    """Pass/fail of what the lab must do; the throughput target is reported, not enforced here."""
    small = result["wrk_small"]
    out = {"all_devices_answered": result["sweep"]["answered"] == result["sweep"]["devices"] == cfg.devices,
           "spread_without_errors": not any(sp["errors"] for sp in result["spread"].values())}
    if "wrk" in small:
        out["wrk_all_200"] = small["all_200"] and result["wrk_big"]["all_200"]
        out[f"small_gets_at_least_{TARGET_SMALL_GETS_PER_S}_per_s"] = \
            small["wrk"]["requests_per_s"] >= TARGET_SMALL_GETS_PER_S
    return out


# ------------------------------------------------------------------ report
def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def markdown(r: dict) -> list[str]:
    """The lab section of the results page."""
    s, sw, end = r["startup"], r["sweep"], r["memory_end"]
    lines = [
        "## Lab: startup, memory, every device answering", "",
        "| figure | value |", "| --- | --- |",
        f"| devices | {r['config']['devices']} |",
        f"| startup, cold (certificates generated), wall from spawn to READY | {s['wall_s']:.1f} s "
        f"(lab reports {s['reported_s']:.1f} s; {s['cpu_s']:.1f} CPU-s) |",
        f"| lab RSS after start (VmHWM / VmRSS) | {_mib(s['vm_hwm_kib'])} / {_mib(s['vm_rss_kib'])} |",
        f"| lab peak RSS at the end of the bench (VmHWM) | {_mib(end['vm_hwm_kib'])} |",
        f"| every device asked its hostname once (new TLS session each, {r['config']['sweep_concurrency']} "
        f"at a time, CA verified) | {sw['answered']} of {sw['devices']} answered in {sw['seconds']:.1f} s |",
        "",
    ]
    if sw["failures"]:
        lines += ["Failures: " + "; ".join(sw["failures"]), ""]
    return lines + _throughput_markdown(r) + _checks_markdown(r["checks"])


def _throughput_markdown(r: dict) -> list[str]:
    cfg = r["config"]
    lines = [
        "## Lab: throughput over TLS (lab pinned to core 0, client to core 1)", "",
        "| load | GET | body | GETs/s (runs) | p50 | p99 | lab CPU | GETs per lab CPU-s | cores 0 / 1 busy "
        "| bounded by |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key in ("wrk_small", "wrk_big"):
        w = r[key]
        if "skipped" in w:
            lines.append(f"| wrk, one device | {key} | | skipped: {w['skipped']} | | | | | | |")
            continue
        runs = ", ".join(f"{rate:.0f}" for rate in w["runs_requests_per_s"])
        lines.append(
            f"| wrk -t1 -c{cfg['wrk_connections']} -d{cfg['wrk_seconds']}s, one device ({w['device']}) "
            f"| `{w['path']}` | {w['body_bytes']} B | **{w['wrk']['requests_per_s']:.0f}** ({runs}) "
            f"| {w['wrk']['p50_ms']:.2f} ms | {w['wrk']['p99_ms']:.2f} ms "
            f"| {w['lab_cpu_s']:.1f} s ({w['lab_cpu_util']:.0%}) | {w['gets_per_lab_cpu_s']:.0f} "
            f"| {_cores(w)} | {w['bound_by']} |")
    for sp in r["spread"].values():
        errors = f"; errors {sp['errors']}" if sp["errors"] else ""
        lines.append(
            f"| {sp['client']} (uvloop), {sp['devices']} devices, 1 connection each, {sp['seconds']:.0f} s "
            f"| hostname | | **{sp['requests_per_s']:.0f}** | {sp['p50_ms']:.2f} ms | {sp['p99_ms']:.2f} ms "
            f"| {sp['lab_cpu_s']:.1f} s (≤{sp['lab_cpu_util']:.0%}) | | {_cores(sp)} | {sp['bound_by']}{errors} |")
    lines += ["", _reading(r), ""]
    return lines


def _cores(u: dict) -> str:
    return f"{u['lab_core_busy']:.0%} / {u['client_core_busy']:.0%}"


def _reading(r: dict) -> str:
    small = r["wrk_small"]
    if "wrk" not in small:
        return "wrk was not run, so there is no single-core figure for the lab."
    rate = small["wrk"]["requests_per_s"]
    verdict = "meets" if rate >= TARGET_SMALL_GETS_PER_S else "misses"
    return (f"Reading: the wrk rows are the lab's capacity on one core (wrk costs little CPU on the other core), "
            f"the median of {r['config']['wrk_repeats']} runs (all runs in brackets; the columns after it are the "
            f"median run's); "
            f"{rate:.0f} small GETs/s {verdict} the target of {TARGET_SMALL_GETS_PER_S}/s "
            f"({small['gets_per_lab_cpu_s']:.0f} per lab CPU-second: what the lab serves with a core to itself, "
            f"and the figure that other work on the machine moves least). "
            f"The httpx and aiohttp rows spread small GETs over {r['config']['spread_devices']} devices, as the "
            f"monitor will; a Python client costs as much CPU per request as the lab or more (httpx several times "
            f"more), so those rows are bounded by the client unless the lab's core is saturated; their lab CPU "
            f"also counts the untimed warm-up handshakes, so it is an upper bound. "
            f"p50/p99 under wrk are with {r['config']['wrk_connections']} requests in flight, i.e. queueing "
            f"included, not one request's service time.")


def _checks_markdown(checks: dict[str, bool]) -> list[str]:
    lines = ["| check | result |", "| --- | --- |"]
    lines += [f"| {name.replace('_', ' ')} | {'pass' if ok else '**FAIL**'} |" for name, ok in checks.items()]
    return [*lines, ""]
