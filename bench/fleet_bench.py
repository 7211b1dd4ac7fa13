"""The monitor against its alternatives over one lab fleet: Ansible's floor, ARA off/on, netcommon, asyncio.

    .venv/bin/python -m bench.fleet_bench            # 100, 300, 1000 devices at 0 and 50 ms; netcommon at 20
    .venv/bin/python -m bench.fleet_bench --quick    # 50, 100 devices at 0 ms; netcommon at 6 (under 3 minutes: ~2.5)
    .venv/bin/python -m bench.fleet_bench --sizes 100,1000 --latency-ms 50 --skip netcommon

One lab per latency (127.88.0.0/16, state in bench/work/fleet/), as big as the largest size, TLS verified
against its CA everywhere. For a size N the runs read the first N devices (the lab interleaves its
profiles iosxe-17 : iosxe-16.12 : ietf = 2 : 1 : 1, so every N has the same mix) from an inventory
written with just those hosts. Per size, in this order:

* ``floor``: ``bench/netcommon/noop.yml``, one ``ansible.builtin.debug`` task per host, with the project's
  ansible.cfg (forks 50, the progress callback), ARA off: what Ansible costs before any device work;
* ``floor-ara`` (largest size, last latency): the same with the project's ARA setting, what ARA costs Ansible;
* ``johann-worker`` (largest size, last latency): playbooks/monitor.yml, ARA off, device_info polling in
  Ansible's workers (``-e johann_poller=worker``), against johann-off's shared poller;
* ``johann-off`` / ``johann-ara``: playbooks/monitor.yml (device_info + the report), ARA off and the
  project's ARA setting, run by bench/ara_overhead.py's ``run_once`` (fresh ARA server and data dir,
  the ARA database checked for a complete recording);
* ``limit``: bench/asyncio_limit.py, asyncio + httpx reading the same resources, 50 devices x 2 requests;
* ``netcommon`` (one size only: it is slow): bench/netcommon/fleet_restconf_get.yml, one
  ansible.netcommon.restconf_get task per resource over httpapi, .venv-bench's ansible (PyPI), forks 50.

Per run: wall; CPU of the runner's whole process tree (wait4/RUSAGE_CHILDREN; netcommon's
ansible-connection daemons, device_info's shared poller, are reaped as orphans so they count too); the ARA server's
and the lab's CPU apart (/proc); the controller's peak RSS (the main process's VmHWM, sampled) and the
largest child's (ru_maxrss); the requests the lab served (its admin /stats before and after).
Ratios at each size and latency: johann/limit, johann/floor, netcommon/johann; the issue's targets are
checked at the largest size and latency with ARA on. Results: bench/results/<date>-fleet[-quick].{md,json,png}.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from bench import ara_overhead, netcommon_bench, procfs, results
from bench.lab_process import DISCOVERY_CACHE, ROOT, RunningLab, inventory_subset

NETWORK = "127.88.0.0/16"   # apart from the lab bench (127.80), ARA's (127.87), the demo (127.77), the tests (127.78)
CONFIG = ROOT / "ansible.cfg"
FLOOR_PLAYBOOK = ROOT / "bench" / "netcommon" / "noop.yml"
NETCOMMON_PLAYBOOK = ROOT / "bench" / "netcommon" / "fleet_restconf_get.yml"
NETCOMMON_CONFIG = ROOT / "bench" / "netcommon" / "fleet.cfg"
LIMIT_MODULE = "bench.asyncio_limit"   # python -m, from ROOT (run_watched's cwd)
RUN_TIMEOUT_S = 900
RUNNERS = ("floor", "floor-ara", "johann-worker", "johann-off", "johann-ara", "limit", "netcommon")
# at the largest size and the last latency only (the targets' point): what ARA costs Ansible itself, and
# device_info polling in Ansible's workers (poller=worker) against the shared poller (johann-off)
TARGET_ONLY = ("floor-ara", "johann-worker")
# netcommon costs ~1.8 CPU s per device and request on this 2-core machine (100 devices at 50 ms: killed at
# 900 s in the 12th of 18 tasks after 968 requests and 1786 CPU s; ~18 min for all), ~10 s wall per device:
# it runs once, at the last latency (50 ms, the targets'), at 20 devices (~3 min; --netcommon-at 100 for the
# issue's size, ~18 min more), quick at 6 (~50 s); the ratio to johann is also given scaled per device.
NETCOMMON_S_PER_DEVICE = 20   # its time-out: this per device, at least RUN_TIMEOUT_S
JOHANN_VARIANTS = {"johann-off": "off", "johann-worker": "off-worker", "johann-ara": "project"}
DEFAULT = {"sizes": (100, 300, 1000), "latencies": (0.0, 50.0), "netcommon_at": 20}
QUICK = {"sizes": (50, 100), "latencies": (0.0,), "netcommon_at": 6}
# The issue's targets, at the largest size and 50 ms (else the largest latency run), ARA on
TARGETS = {"johann_over_floor_max": 2.0, "johann_over_limit_max": 3.0, "netcommon_over_johann_min": 20.0}


class Lab(RunningLab):
    """bench.lab_process.RunningLab on this bench's own network."""

    def argv(self) -> list[str]:
        argv = super().argv()
        argv[argv.index("--network") + 1] = NETWORK
        return argv


def sub_inventory(lab: Lab, count: int, path: Path) -> Path:
    """The lab's inventory with its first ``count`` devices (by address: the profile mix is kept)."""
    assert lab.inventory is not None
    return inventory_subset(lab.inventory.path, [h.name for h in lab.inventory.hosts[:count]], path)


def timed(command: list[str], env: dict, lab: Lab, log_path: Path, timeout_s: float = RUN_TIMEOUT_S) -> dict:
    """One run of a command: wall, CPU of its tree, peak RSS, the lab's CPU and requests, the machine's load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    lab_before, requests_before = procfs.cpu_seconds(lab.pid), lab.stats()["requests"]
    busy_before, load_before = ara_overhead.machine_busy_s(), procfs.load_average()
    status, usage, wall, hwm, timed_out = ara_overhead.run_watched(command, env, log_path, timeout_s, poll=0.05)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    tree_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    row = {"rc": os.waitstatus_to_exitcode(status), "timed_out": timed_out, "wall_s": round(wall, 2),
           "cpu_s": round(tree_cpu, 2), "main_tree_cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
           "orphans_reaped": usage.orphans, "server_cpu_s": None,
           "lab_cpu_s": round(procfs.cpu_seconds(lab.pid) - lab_before, 2),
           "requests": lab.stats()["requests"] - requests_before,
           "machine_busy_s": round(ara_overhead.machine_busy_s() - busy_before, 2),
           "controller_hwm_mib": round(hwm.get("vm_hwm_kib", 0) / 1024, 1),
           "children_max_rss_mib": round(usage.ru_maxrss / 1024, 1), "load_before": load_before}
    row["others_cpu_s"] = round(row["machine_busy_s"] - row["cpu_s"] - row["lab_cpu_s"], 1)
    return row




def _ansible_env(config: Path, run_dir: Path, bin_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARA_", "ANSIBLE_", "JOHANN_ARA_"))}
    env.update({"ANSIBLE_CONFIG": str(config), "ANSIBLE_LOCAL_TEMP": str(run_dir / "tmp"),
                "ANSIBLE_NOCOLOR": "1", "PATH": f"{bin_dir}:{env.get('PATH', '')}"})
    env.setdefault("JOHANN_DISCOVERY_CACHE_DIR", str(DISCOVERY_CACHE))
    return env


def _recap_ok(log: Path, count: int) -> tuple[int, int]:
    """(hosts in the recap with failed=0 and unreachable=0, hosts in the recap)."""
    recap = netcommon_bench.RECAP.findall(log.read_text(errors="replace"))
    return sum(1 for r in recap if r[2] == "0" and r[3] == "0"), len(recap)


def run_floor(lab: Lab, inventory: Path, count: int, run_dir: Path, ara: bool = False) -> dict:
    """Ansible's no-op floor; with ``ara`` the project's ARA setting on a fresh server, as johann-ara has."""
    env = _ansible_env(CONFIG, run_dir, Path(sys.executable).parent)
    server = None
    if ara:
        server = ara_overhead.Server(run_dir / "ara-server", ara_overhead.VARIANTS["sync1"]["gunicorn"], {})
        server.start()
        env.update({"JOHANN_ARA_DATA_DIR": str(server.data_dir), "ARA_API_SERVER": server.endpoint,
                    "JOHANN_ARA_AUTOSTART": "false"})
    else:
        env["ANSIBLE_CALLBACK_PLUGINS"] = "/nonexistent"   # ARA off, as johann-off
    log = run_dir / "ansible.log"
    server_before = server.cpu_seconds() if server else 0.0
    try:
        row = timed([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(FLOOR_PLAYBOOK)],
                    env, lab, log)
    finally:
        if server:
            row_server = round(server.cpu_seconds() - server_before, 2)
            server.stop()
    ok, seen = _recap_ok(log, count)
    row.update(complete=row["rc"] == 0 and ok == count == seen, devices_ok=ok)
    if server:
        row["server_cpu_s"] = row_server
        row["others_cpu_s"] = round(row["others_cpu_s"] - row_server, 1)
        with sqlite3.connect(f"file:{server.data_dir / 'ansible.sqlite'}?mode=ro", uri=True) as db:
            status = db.execute("select status from playbooks").fetchall()
            results_n = db.execute("select count(*) from results").fetchone()[0]
        row["recorded"] = {"playbooks": [s[0] for s in status], "results": results_n}
        row["complete"] = row["complete"] and status == [("completed",)] and results_n == count
    return row


def run_johann(lab: Lab, inventory: Path, count: int, latency: float, variant: str, work: Path) -> dict:
    shim = SimpleNamespace(count=count, inventory=SimpleNamespace(path=inventory), pid=lab.pid)
    before = lab.stats()["requests"]
    row = ara_overhead.run_once(variant, shim, latency, count, work, serial_report=False)
    row["requests"] = lab.stats()["requests"] - before
    row["main_tree_cpu_s"] = row["cpu_s"]
    return row


def run_limit(lab: Lab, inventory: Path, count: int, run_dir: Path) -> dict:
    out = run_dir / "limit.json"
    row = timed([sys.executable, "-m", LIMIT_MODULE, "--inventory", str(inventory), "--json", str(out)],
                {**os.environ}, lab, run_dir / "limit.log")
    summary = json.loads(out.read_text()) if out.exists() else {}
    row.update(complete=row["rc"] == 0 and summary.get("read") == count, devices_ok=summary.get("read", 0),
               client_requests=summary.get("requests"), client_wall_s=summary.get("wall_s"),
               statuses=summary.get("statuses"))
    return row


def run_netcommon(lab: Lab, inventory: Path, count: int, run_dir: Path) -> dict:
    netcommon_bench.ensure_venv()
    env = _ansible_env(NETCOMMON_CONFIG, run_dir, netcommon_bench.VENV / "bin")
    log = run_dir / "ansible.log"
    row = timed([str(netcommon_bench.VENV / "bin" / "ansible-playbook"), "-i", str(inventory),
                 str(NETCOMMON_PLAYBOOK)], env, lab, log,
               timeout_s=max(RUN_TIMEOUT_S, NETCOMMON_S_PER_DEVICE * count))
    ok, seen = _recap_ok(log, count)
    row.update(complete=row["rc"] == 0 and ok == count == seen, devices_ok=ok, versions=netcommon_bench.versions())
    return row


def run(sizes: list[int], latencies: list[float], netcommon_at: int | None, skip: set[str], work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    runs: list[dict] = []
    labs: dict[str, dict] = {}
    for latency in latencies:
        lab_work = work / f"lab-{latency:g}"
        lab_work.mkdir(parents=True, exist_ok=True)
        with Lab(count=max(sizes), work_dir=lab_work, latency_ms=latency) as lab:
            assert lab.startup is not None
            labs[f"{latency:g}"] = {"ready": lab.startup.ready_line, "startup_s": lab.startup.wall_s,
                                    "vm_hwm_mib": round(lab.startup.vm_hwm_kib / 1024, 1)}
            print(f"fleet: lab {lab.startup.ready_line} (latency {latency:g} ms)", flush=True)
            for count in sizes:
                inventory = sub_inventory(lab, count, lab_work / f"inventory-{count}.yml")
                nc_inventory = sub_inventory(lab, netcommon_at, lab_work / f"inventory-{netcommon_at}.yml") \
                    if netcommon_at and netcommon_at not in sizes else inventory
                plan = [r for r in RUNNERS if r not in skip and (r != "netcommon" or count == netcommon_at)]
                if netcommon_at not in sizes and count == sizes[0] and "netcommon" not in skip:
                    plan.append("netcommon")   # a size of its own (quick: 6), run with the smallest
                if latency != latencies[-1]:
                    plan = [r for r in plan if r != "netcommon"]   # slow: at one latency only
                if latency != latencies[-1] or count != sizes[-1]:
                    plan = [r for r in plan if r not in TARGET_ONLY]
                for runner in plan:
                    run_dir = work / "runs" / f"lat{latency:g}-{netcommon_at if runner == 'netcommon' else count}-{runner}"
                    subprocess.run(["rm", "-rf", str(run_dir)], check=True)
                    run_dir.mkdir(parents=True)
                    if runner in ("floor", "floor-ara"):
                        row = run_floor(lab, inventory, count, run_dir, ara=runner == "floor-ara")
                    elif runner == "limit":
                        row = run_limit(lab, inventory, count, run_dir)
                    elif runner == "netcommon":
                        row = run_netcommon(lab, nc_inventory, netcommon_at, run_dir)
                    else:
                        row = run_johann(lab, inventory, count, latency, JOHANN_VARIANTS[runner], work)
                    row.update(runner=runner, devices=netcommon_at if runner == "netcommon" else count,
                               latency_ms=latency)
                    runs.append(row)
                    print(f"fleet: {runner:10} {row['devices']:5} dev {latency:3g} ms: wall {row['wall_s']:7.1f} s  "
                          f"cpu {row['cpu_s']:6.1f}  server {row.get('server_cpu_s') or 0:5.1f}  "
                          f"lab {row['lab_cpu_s']:5.1f}  requests {row['requests']:6}  "
                          f"rss {row['controller_hwm_mib']:.0f}/{row['children_max_rss_mib']:.0f} MiB  "
                          f"others {row['others_cpu_s']:5.1f}  {'ok' if row['complete'] else 'INCOMPLETE'}",
                          flush=True)
    return analyse({"sizes": sizes, "latencies_ms": latencies, "netcommon_at": netcommon_at, "labs": labs,
                    "runs": runs})


def _find(runs: list[dict], runner: str, count: int, latency: float) -> dict | None:
    return next((r for r in runs if r["runner"] == runner and r["devices"] == count
                 and r["latency_ms"] == latency), None)


def _ratio(a: dict | None, b: dict | None, key: str = "wall_s") -> float | None:
    if not a or not b or not b.get(key):
        return None
    return round(a[key] / b[key], 2)


def analyse(data: dict) -> dict:
    runs = data["runs"]
    ratios = []
    for latency in data["latencies_ms"]:
        for count in data["sizes"]:
            row = {"devices": count, "latency_ms": latency}
            floor, limit = _find(runs, "floor", count, latency), _find(runs, "limit", count, latency)
            netcommon = _find(runs, "netcommon", count, latency)
            for variant in ("johann-off", "johann-ara"):
                johann = _find(runs, variant, count, latency)
                tag = variant.split("-")[1]
                row[f"{tag}_over_limit"] = _ratio(johann, limit)
                row[f"{tag}_over_floor"] = _ratio(johann, floor)
                row[f"netcommon_over_{tag}"] = _ratio(netcommon, johann)
            row["floor_s_per_device_ms"] = round(floor["wall_s"] / count * 1000, 1) if floor else None
            for variant in ("johann-off", "johann-ara"):
                johann = _find(runs, variant, count, latency)
                row[f"{variant.split('-')[1]}_ms_per_device"] = round(johann["wall_s"] / count * 1000, 1) if johann else None
            ratios.append(row)
    data["ratios"] = ratios
    # linearity: wall per device at the largest size over the next smaller one (1.0 = linear)
    linear = []
    if len(data["sizes"]) >= 2:
        small, big = data["sizes"][-2], data["sizes"][-1]
        for latency in data["latencies_ms"]:
            for runner in RUNNERS:
                a, b = _find(runs, runner, small, latency), _find(runs, runner, big, latency)
                if a and b:
                    linear.append({"runner": runner, "latency_ms": latency, "from": small, "to": big,
                                   "per_device_ratio": round((b["wall_s"] / big) / (a["wall_s"] / small), 2),
                                   "cpu_per_device_ratio": round((b["cpu_s"] / big) / (a["cpu_s"] / small), 2)
                                   if a["cpu_s"] else None})
    data["linearity"] = linear
    # the issue's targets: largest size, 50 ms if measured, ARA on
    count, latency = data["sizes"][-1], (50.0 if 50.0 in data["latencies_ms"] else data["latencies_ms"][-1])
    johann = _find(runs, "johann-ara", count, latency)
    floor, limit = _find(runs, "floor", count, latency), _find(runs, "limit", count, latency)
    nc_count = data["netcommon_at"]
    netcommon = next((r for r in runs if r["runner"] == "netcommon"), None)
    nc_latency = netcommon["latency_ms"] if netcommon else None
    johann_nc = _find(runs, "johann-ara", nc_count or 0, nc_latency) if netcommon else None
    nc_ratio = _ratio(netcommon, johann_nc)
    nc_basis = f"johann-ara at {nc_count} devices"
    if netcommon and johann_nc is None:   # quick: netcommon at a size of its own; per device against the smallest
        johann_nc = _find(runs, "johann-ara", data["sizes"][0], nc_latency)
        if johann_nc:
            nc_ratio = round((netcommon["wall_s"] / nc_count) / (johann_nc["wall_s"] / johann_nc["devices"]), 2)
            nc_basis = f"per device, against johann-ara at {johann_nc['devices']} devices"
    targets = {"devices": count, "latency_ms": latency,
               "johann_over_floor": _ratio(johann, floor), "johann_over_limit": _ratio(johann, limit),
               "netcommon_over_johann_same_size": nc_ratio, "netcommon_basis": nc_basis,
               "netcommon_size": nc_count, "netcommon_latency_ms": nc_latency}
    if netcommon and johann:   # netcommon scaled linearly (per device) to the largest size: it was not run there
        targets["netcommon_scaled_over_johann"] = round(netcommon["wall_s"] / nc_count * count / johann["wall_s"], 2)
    # like for like: ARA's own cost on both sides; and what the shared poller made of device_info's cost
    floor_ara, johann_off = _find(runs, "floor-ara", count, latency), _find(runs, "johann-off", count, latency)
    worker = _find(runs, "johann-worker", count, latency)
    targets["johann_ara_over_floor_ara"] = _ratio(johann, floor_ara)
    targets["johann_ara_over_floor_ara_cpu"] = _ratio(johann, floor_ara, "cpu_s")
    targets["johann_off_over_floor"] = _ratio(johann_off, floor)
    targets["johann_off_over_floor_cpu"] = _ratio(johann_off, floor, "cpu_s")
    targets["johann_off_over_limit"] = _ratio(johann_off, limit)
    targets["worker_over_shared_wall"] = _ratio(worker, johann_off)
    targets["worker_over_shared_cpu"] = _ratio(worker, johann_off, "cpu_s")
    lin = next((r for r in linear if r["runner"] == "johann-ara" and r["latency_ms"] == latency), None)
    targets["johann_per_device_ratio"] = lin["per_device_ratio"] if lin else None
    targets["controller_peak_rss_mib"] = johann["controller_hwm_mib"] if johann else None
    targets["max_child_rss_mib"] = johann["children_max_rss_mib"] if johann else None
    # a netcommon run killed at its time-out still bounds the ratio from below
    targets["netcommon_timed_out"] = bool(netcommon and netcommon["timed_out"])
    checks = {"every_run_complete": all(r["complete"] for r in runs if r["runner"] != "netcommon")}
    if netcommon:
        checks["netcommon_complete"] = netcommon["complete"]
    if targets["johann_over_floor"] is not None:
        checks["johann_at_most_2x_floor"] = targets["johann_over_floor"] <= TARGETS["johann_over_floor_max"]
    if targets["johann_over_limit"] is not None:
        checks["johann_within_3x_limit"] = targets["johann_over_limit"] <= TARGETS["johann_over_limit_max"]
    if targets["netcommon_over_johann_same_size"] is not None:
        checks["netcommon_at_least_20x_johann"] = (targets["netcommon_over_johann_same_size"]
                                                   >= TARGETS["netcommon_over_johann_min"])
    if targets["johann_per_device_ratio"] is not None:
        checks["johann_linear_within_20_percent"] = targets["johann_per_device_ratio"] <= 1.2
    data["targets"], data["checks"] = targets, checks
    return data


def plot(data: dict, path: Path) -> Path | None:
    """Wall time against devices, one panel per latency; None when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("fleet: matplotlib not installed (requirements-dev.txt): no plot", flush=True)
        return None
    latencies = data["latencies_ms"]
    fig, axes = plt.subplots(1, len(latencies), figsize=(6 * len(latencies), 4.5), squeeze=False)
    styles = {"floor": ("Ansible no-op floor", "tab:gray", "--"), "floor-ara": ("no-op floor, ARA on", "tab:brown", ""),
              "johann-worker": ("johann, ARA off, poller=worker", "tab:cyan", ""),
              "johann-off": ("johann, ARA off", "tab:blue", "-"),
              "johann-ara": ("johann, ARA on", "tab:purple", "-"), "limit": ("asyncio + httpx limit", "tab:green", ":"),
              "netcommon": ("netcommon restconf_get", "tab:red", "")}
    for ax, latency in zip(axes[0], latencies, strict=True):
        for runner, (label, color, line) in styles.items():
            points = sorted((r["devices"], r["wall_s"]) for r in data["runs"]
                            if r["runner"] == runner and r["latency_ms"] == latency)
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o" if runner != "netcommon" else "X", markersize=6 if line else 10,
                        linestyle=line or "none", color=color, label=label)
        ax.set_title(f"device latency {latency:g} ms")
        ax.set_xlabel("devices")
        ax.set_ylabel("wall seconds (log scale)")
        ax.set_xlim(left=0)
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("monitor.yml: wall time against devices")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _fmt(value: float | None, suffix: str = "") -> str:
    return "–" if value is None else f"{value:g}{suffix}"


def markdown(data: dict) -> list[str]:
    t = data["targets"]
    lines = ["## The fleet: johann.monitor against Ansible's floor, the asyncio limit and netcommon", "",
             "Same lab (profiles iosxe-17 : iosxe-16.12 : ietf = 2 : 1 : 1, TLS verified against the lab CA), the "
             "first N devices of it per size. `floor`: one `debug` task per host, project ansible.cfg, forks 50, "
             "ARA off (`floor-ara`: the same with the project's ARA setting). `johann-off`/`johann-ara`: "
             "playbooks/monitor.yml (poll + report, device_info's shared poller), ARA off / the project's ARA server; "
             "`johann-worker`: ARA off, device_info polling in Ansible's workers (poller=worker). `limit`: bench/asyncio_limit.py (asyncio + httpx, the same GETs as device_info, 50 devices "
             "x 2 requests, JSON parsed, not normalised, no report). `netcommon`: "
             "bench/netcommon/fleet_restconf_get.yml, one ansible.netcommon.restconf_get task per resource over "
             "httpapi, forks 50 (at one size only).", "",
             "CPU s = the runner's whole process tree (ansible-playbook, its workers; netcommon's ansible-connection "
             "daemons too); the ARA server's and the lab's CPU are apart. RSS: controller = the main process's peak "
             "(VmHWM), child = the largest child's (ru_maxrss). Requests = served by the lab (its /stats). device_info's "
             "discovery cache (bench/work/discovery-cache) is kept from run to run, as a monitor run every few minutes "
             "keeps it: a device read before costs one request less (11 per device here instead of 12); on a fresh "
             "checkout the first run at each size discovers the devices no run has read yet.", ""]
    if data.get("plot"):
        lines += [f"![wall time against devices]({data['plot']})", ""]
    lines += ["### Targets (the issue)", "",
              f"At {t['devices']} devices, {t['latency_ms']:g} ms, ARA on:", "",
              "| target | measured | met |", "| --- | ---: | --- |"]
    c = data["checks"]

    def met(key: str) -> str:
        return "–" if key not in c else ("yes" if c[key] else "**no**")

    lines += [f"| johann ≤ 2x Ansible's no-op floor | {_fmt(t['johann_over_floor'], 'x')} | {met('johann_at_most_2x_floor')} |",
              f"| johann within 3x of the asyncio limit | {_fmt(t['johann_over_limit'], 'x')} | "
              f"{met('johann_within_3x_limit')} |",
              f"| johann ≥ 20x faster than netcommon (netcommon measured at {t['netcommon_size']} devices, "
              f"{_fmt(t['netcommon_latency_ms'])} ms; {t['netcommon_basis']}) | "
              f"{'≥ ' if t.get('netcommon_timed_out') else ''}{_fmt(t['netcommon_over_johann_same_size'], 'x')} | "
              f"{met('netcommon_at_least_20x_johann')} |",
              f"| the same, netcommon scaled linearly to {t['devices']} devices (not measured there) | "
              f"{'≥ ' if t.get('netcommon_timed_out') else ''}{_fmt(t.get('netcommon_scaled_over_johann'), 'x')} | – |",
              f"| cost linear in devices (wall per device, largest over the next size; ≤ 1.2) | "
              f"{_fmt(t['johann_per_device_ratio'])} | {met('johann_linear_within_20_percent')} |",
              f"| controller peak memory (main process / largest child) | {_fmt(t['controller_peak_rss_mib'])} / "
              f"{_fmt(t['max_child_rss_mib'])} MiB | stated |", "",
              "Beside the targets, at the same point:", "",
              f"- ARA on both sides (johann-ara over the floor with the same ARA setting, `floor-ara`): "
              f"{_fmt(t.get('johann_ara_over_floor_ara'), 'x')} wall, {_fmt(t.get('johann_ara_over_floor_ara_cpu'), 'x')} CPU;",
              f"- ARA off: johann over the floor {_fmt(t.get('johann_off_over_floor'), 'x')} wall, "
              f"{_fmt(t.get('johann_off_over_floor_cpu'), 'x')} CPU (issue 17's target: 2x), over the limit "
              f"{_fmt(t.get('johann_off_over_limit'), 'x')};",
              f"- device_info polling in Ansible's workers (`johann-worker`, poller=worker) over the shared poller "
              f"(`johann-off`), both ARA off: {_fmt(t.get('worker_over_shared_wall'), 'x')} wall, "
              f"{_fmt(t.get('worker_over_shared_cpu'), 'x')} CPU.", "",
              "### Every run", "",
              "| latency ms | devices | runner | wall s | CPU s | ARA server CPU s | lab CPU s | controller RSS MiB | "
              "max child RSS MiB | requests | requests/device | others' CPU s | complete |",
              "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in data["runs"]:
        bound = "≥ " if r["timed_out"] else ""   # killed at its time-out: the figures are lower bounds
        lines.append(f"| {r['latency_ms']:g} | {r['devices']} | {r['runner']} | {bound}{r['wall_s']} | {bound}{r['cpu_s']} | "
                     f"{_fmt(r.get('server_cpu_s'))} | {r['lab_cpu_s']} | {r['controller_hwm_mib']} | "
                     f"{r['children_max_rss_mib']} | {r['requests']} | {r['requests'] / r['devices']:.2f} | "
                     f"{r['others_cpu_s']} | {'yes' if r['complete'] else '**NO**' + (' (timed out)' if r['timed_out'] else '')} |")
    lines += ["", "### Ratios (wall time)", "",
              "| latency ms | devices | ARA off: /limit | /floor | netcommon/johann | ARA on: /limit | /floor | "
              "netcommon/johann | ms per device: floor | off | on |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in data["ratios"]:
        lines.append(f"| {r['latency_ms']:g} | {r['devices']} | {_fmt(r['off_over_limit'])} | "
                     f"{_fmt(r['off_over_floor'])} | {_fmt(r['netcommon_over_off'])} | {_fmt(r['ara_over_limit'])} | "
                     f"{_fmt(r['ara_over_floor'])} | {_fmt(r['netcommon_over_ara'])} | "
                     f"{_fmt(r['floor_s_per_device_ms'])} | {_fmt(r['off_ms_per_device'])} | "
                     f"{_fmt(r['ara_ms_per_device'])} |")
    if data["linearity"]:
        lines += ["", "### Linearity (wall and CPU per device at the larger size over the smaller; 1.0 = linear)", "",
                  "| runner | latency ms | sizes | wall per device | CPU per device |", "| --- | ---: | --- | ---: | ---: |"]
        for r in data["linearity"]:
            lines.append(f"| {r['runner']} | {r['latency_ms']:g} | {r['from']} → {r['to']} | {r['per_device_ratio']} | "
                         f"{_fmt(r['cpu_per_device_ratio'])} |")
    nc = next((r for r in data["runs"] if r["runner"] == "netcommon"), None)
    if nc:
        v = nc["versions"]
        lines += ["", f"netcommon: ansible {v['ansible']}, ansible-core {v['ansible-core']}, ansible.netcommon "
                  f"{v['ansible.netcommon']} (.venv-bench); {nc['orphans_reaped']} orphaned processes "
                  "(ansible-connection daemons and their children) reaped after the run: their CPU is in its CPU s."
                  + (f" **Killed at its time-out** after {nc['wall_s']} s with {nc['devices_ok']} devices done: its "
                     "wall, CPU and the netcommon ratios are lower bounds." if nc["timed_out"] else "")]
    lines += ["", "Labs: " + "; ".join(f"{k} ms: {v['ready']} (VmHWM {v['vm_hwm_mib']} MiB)"
                                         for k, v in data["labs"].items()),
              "", results.checks(data), ""]
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = results.parser("fleet_bench", __doc__)
    parser.add_argument("--quick", action="store_true", help="50 and 100 devices, 0 ms only, netcommon at 6")
    parser.add_argument("--sizes", help="comma-separated device counts (default 100,300,1000; quick 50,100)")
    parser.add_argument("--latency-ms", help="comma-separated per-device latencies (default 0,50; quick 0)")
    parser.add_argument("--netcommon-at", type=int, help="the one size netcommon runs at (default 20, quick 6)")
    parser.add_argument("--skip", default="", help=f"comma-separated runners to leave out, from {', '.join(RUNNERS)}")
    parser.add_argument("--no-write", action="store_true", help="print the JSON, write no results files")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    mode = QUICK if args.quick else DEFAULT
    sizes = sorted(int(x) for x in args.sizes.split(",")) if args.sizes else list(mode["sizes"])
    latencies = [float(x) for x in args.latency_ms.split(",")] if args.latency_ms else list(mode["latencies"])
    skip = {s for s in args.skip.split(",") if s}
    unknown = skip - set(RUNNERS)
    if unknown:
        raise SystemExit(f"unknown runners {sorted(unknown)}; known: {', '.join(RUNNERS)}")
    netcommon_at = args.netcommon_at or mode["netcommon_at"]
    started = results.Started()
    data = run(sizes, latencies, netcommon_at, skip, args.work_dir.resolve() / "fleet")
    name = "fleet-quick" if args.quick else "fleet"
    if args.no_write:
        print(json.dumps(data, indent=2))
    else:
        args.results_dir.mkdir(parents=True, exist_ok=True)
        png = plot(data, args.results_dir / f"{started.date:%Y-%m-%d}-{name}.png")
        data["plot"] = png.name if png else None
        meta = started.meta(f"the monitor over a fleet of {', '.join(map(str, sizes))} devices against Ansible's "
                            "floor, asyncio and netcommon", results.command("fleet_bench", argv), args.quick)
        json_path, md_path = results.write(args.results_dir, name, meta, [("fleet", data, markdown)])
        print(f"results: {md_path}, {json_path.name}" + (f", {png.name}" if png else ""))
    t = data["targets"]
    print(f"fleet: at {t['devices']} devices {t['latency_ms']:g} ms, ARA on: {_fmt(t['johann_over_floor'], 'x')} "
          f"the floor, {_fmt(t['johann_over_limit'], 'x')} the limit; netcommon {_fmt(t['netcommon_over_johann_same_size'], 'x')}"
          f" johann at {t['netcommon_size']}; per-device ratio {_fmt(t['johann_per_device_ratio'])}")
    if not data["checks"].get("netcommon_complete", True):
        print("fleet: the netcommon run did not complete (timed out?): its figures are lower bounds", file=sys.stderr)
    if not data["checks"]["every_run_complete"]:
        print("FAILED: a fleet run was incomplete (see bench/work/fleet/runs/)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
