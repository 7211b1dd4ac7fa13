"""A sliced run against the unsliced one on a large lab: K concurrent slices, then the report step from ARA.

    .venv/bin/python -m bench.slices_bench                     # 3000 devices, 3 slices (~10 min on 2 cores)
    .venv/bin/python -m bench.slices_bench --devices 300 --slices 3

What AWX/AAP job slicing does, on one machine: a lab of N devices (the bench mix, 127.86.0.0/16), a private
PostgreSQL cluster with ARA's server on it (tools/postgres.py, 4 gunicorn workers; the runs record with
ARA's callback threads, 4), then

1. ``whole``: playbooks/monitor.yml over every device, recording to that ARA;
2. ``slices``: K playbooks/monitor.yml at once, each over 1/K of the inventory (``-e target=...``), each with
   its own report directory, all with ``-e johann_run_id=<id>``;
3. ``report``: playbooks/fleet_report.yml ``-e johann_run_id=<id>``: each host's newest device_info result read
   back from ARA, one report.

Then it compares, host by host, what the merged report and the unsliced one say (status, message, alerts,
serial, CPU, memory, interface count). The lab's clock is frozen, so both read the same values. Per step:
wall, CPU of the process tree, the ARA server's CPU. Results: bench/results/<date>-slices.{md,json}.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench import procfs
from bench.lab_process import DISCOVERY_CACHE, ROOT, RunningLab

NETWORK = "127.86.0.0/16"   # apart from the other benches (127.80, 127.87, 127.88, 127.89) and the demo (127.77)
ARA_PORT = 18086
PG_PORT = 55486
RUN_TIMEOUT_S = 1800
EPOCH = "1795000000"


class Lab(RunningLab):
    def argv(self) -> list[str]:
        argv = super().argv()
        argv[argv.index("--network") + 1] = NETWORK
        return [*argv, "--epoch", EPOCH, "--frozen"]


def _env(work: Path, endpoint: str, ara_data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARA_", "ANSIBLE_", "JOHANN_ARA_"))}
    env.update({"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCAL_TEMP": str(work / "tmp"), "ARA_API_CLIENT": "http", "ARA_API_SERVER": endpoint,
                "ARA_CALLBACK_THREADS": "4", "JOHANN_ARA_DATA_DIR": str(ara_data), "JOHANN_ARA_AUTOSTART": "false",
                "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"})
    env.setdefault("JOHANN_DISCOVERY_CACHE_DIR", str(DISCOVERY_CACHE))   # not the user's ~/.cache
    return env


def _playbook(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    out = open(log, "w")   # noqa: SIM115 - the child writes it
    try:
        return subprocess.Popen([str(Path(sys.executable).parent / "ansible-playbook"), *args], cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    finally:
        out.close()


def _step(name: str, commands: list[tuple[list[str], Path]], env: dict, gunicorn_pids: list[int]) -> dict:
    """Run the commands at once; wall, their trees' CPU, the ARA server's CPU, each one's exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    ara_before = sum(procfs.cpu_seconds(p) for p in gunicorn_pids)
    started = time.monotonic()
    procs = [_playbook(args, env, log) for args, log in commands]
    codes = [p.wait(RUN_TIMEOUT_S) for p in procs]
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"step": name, "runs": len(procs), "rc": codes, "wall_s": round(wall, 1),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
            "ara_server_cpu_s": round(sum(procfs.cpu_seconds(p) for p in gunicorn_pids) - ara_before, 1),
            "load_after": procfs.load_average()}


def read_fleet(out: Path) -> dict:
    """A report's stored records (fleet.json.gz, or fleet.json as earlier versions wrote it)."""
    packed = out / "fleet.json.gz"
    if packed.exists():
        return json.loads(gzip.decompress(packed.read_bytes()))
    return json.loads((out / "fleet.json").read_text())


def what_it_says(fleet: dict) -> dict[str, tuple]:
    """Per host, what a report states: status, message, alerts, and values read (serial, CPU, memory, interfaces).

    tests/integration/test_slices.py compares the merged report with the unsliced one by this too."""
    said = {}
    for host, rec in fleet["devices"].items():
        rec = rec or {}
        said[host] = (rec.get("status"), rec.get("message"), json.dumps(rec.get("alerts"), sort_keys=True),
                      (rec.get("identity") or {}).get("serial"), json.dumps(rec.get("cpu"), sort_keys=True),
                      json.dumps(rec.get("memory"), sort_keys=True), len(rec.get("interfaces") or []))
    return said


def _gunicorn_pids(pid_file: Path) -> list[int]:
    master = int(pid_file.read_text().strip())
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [master, *map(int, children)]


def run(devices: int, slices: int, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    (work / "tmp").mkdir(exist_ok=True)
    pg_dir, ara_data = work / "postgresql", work / "ara-server"
    endpoint = f"http://127.0.0.1:{ARA_PORT}"
    tool = [sys.executable, str(ROOT / "tools/postgres.py")]
    subprocess.run([*tool, "ara-start", str(pg_dir), "--ara-data", str(ara_data), "--ara-server", endpoint,
                    "--workers", "4", "--port", str(PG_PORT)], check=True, cwd=ROOT)
    try:
        with Lab(count=devices, work_dir=work) as lab:
            env = _env(work, endpoint, ara_data)
            inventory = str(lab.state_dir / "inventory.yml")
            hosts = [h.name for h in lab.inventory.hosts]
            pids = _gunicorn_pids(ara_data / "gunicorn.pid")
            run_id = f"bench-{uuid.uuid4().hex[:8]}"
            size = -(-len(hosts) // slices)
            steps = [_step("whole", [(["-i", inventory, "playbooks/monitor.yml", "-e", f"johann_report_dir={work / 'whole'}"],
                                      work / "whole.log")], env, pids)]
            targets = [f"all[{n}:{min(n + size, len(hosts)) - 1}]" for n in range(0, len(hosts), size)]
            steps.append(_step("slices", [(["-i", inventory, "playbooks/monitor.yml", "-e", f"target={t}",
                                            "-e", f"johann_run_id={run_id}", "-e", f"johann_report_dir={work / f'slice-{n}'}"],
                                           work / f"slice-{n}.log") for n, t in enumerate(targets)], env, pids))
            steps.append(_step("report", [(["-i", inventory, "playbooks/fleet_report.yml", "-e", f"johann_run_id={run_id}",
                                            "-e", f"johann_report_dir={work / 'merged'}"], work / "report.log")], env, pids))
            whole, merged = what_it_says(read_fleet(work / "whole")), what_it_says(read_fleet(work / "merged"))
            differ = sorted(h for h in set(whole) | set(merged) if whole.get(h) != merged.get(h))
            statuses: dict[str, int] = {}
            for said in merged.values():
                statuses[said[0]] = statuses.get(said[0], 0) + 1
            report_line = next((line.strip() for line in (work / "report.log").read_text().splitlines()
                                if '"msg": "Report:' in line), "")
    finally:
        subprocess.run([*tool, "ara-stop", str(pg_dir), "--ara-data", str(ara_data)], cwd=ROOT)
    return {"devices": devices, "slices": slices, "targets": targets, "run_id": run_id, "steps": steps,
            "hosts_compared": len(set(whole) | set(merged)), "hosts_differing": differ[:20],
            "equal": not differ and len(merged) == devices, "merged_statuses": statuses, "report_line": report_line}


def markdown(data: dict) -> list[str]:
    lines = [f"# Benchmark: a sliced run ({data['slices']} slices) against the unsliced one, {data['devices']} devices", "",
             f"Started {data['started']} with `bench/slices_bench.py --devices {data['devices']} --slices {data['slices']}`. "
             "Lab: the bench mix (iosxe-17 : iosxe-16.12 : ietf = 2 : 1 : 1), frozen clock. ARA: its server on a private "
             "PostgreSQL cluster (tools/postgres.py), 4 gunicorn workers; the runs record with ARA_CALLBACK_THREADS=4.", "",
             "| step | runs | exit codes | wall s | CPU s (playbooks) | ARA server CPU s | load after |",
             "| --- | ---: | --- | ---: | ---: | ---: | --- |"]
    for s in data["steps"]:
        lines.append(f"| {s['step']} | {s['runs']} | {' '.join(map(str, s['rc']))} | {s['wall_s']} | {s['cpu_s']} | "
                     f"{s['ara_server_cpu_s']} | {s['load_after']} |")
    lines += ["", f"Slices: {', '.join(data['targets'])} (host patterns, `-e target=`).", "",
              f"**The merged report {'equals' if data['equal'] else 'DIFFERS FROM'} the unsliced run's** host by host "
              f"(status, message, alerts, serial, CPU, memory, interface count) over {data['hosts_compared']} hosts"
              + (f"; differing: {', '.join(data['hosts_differing'])}" if data["hosts_differing"] else "") + ".", "",
              f"Statuses of the merged report: {', '.join(f'{k} {v}' for k, v in sorted(data['merged_statuses'].items()))}.",
              "", f"The report step said: `{data['report_line']}`", ""]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slices_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=3000)
    parser.add_argument("--slices", type=int, default=3)
    parser.add_argument("--work-dir", type=Path, default=ROOT / "bench" / "work" / "slices")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    data = dict(run(args.devices, args.slices, args.work_dir), started=started)
    name = f"{started[:10]}-slices"
    (args.results_dir / f"{name}.json").write_text(json.dumps(data, indent=1))
    (args.results_dir / f"{name}.md").write_text("\n".join(markdown(data)))
    print("\n".join(markdown(data)))
    return 0 if data["equal"] and all(code == 0 for s in data["steps"] for code in s["rc"]) else 1


if __name__ == "__main__":
    sys.exit(main())
