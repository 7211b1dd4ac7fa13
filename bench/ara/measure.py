"""Time one ansible-playbook run: wall, CPU of it and its children, CPU of a server pid.

    python -m bench.ara.measure --label NAME [--server-pid PID] [--json OUT] -- ansible-playbook ...

Environment variables pass through (ARA_*, ANSIBLE_*), so each variant is a different env.
Also reports the whole machine's busy CPU over the run (other load on the 2 cores skews
wall times; look at it before trusting a figure).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from bench.procfs import cpu_seconds


def machine_busy() -> float:
    with open("/proc/stat") as handle:
        fields = list(map(int, handle.readline().split()[1:9]))
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ara.measure")
    parser.add_argument("--label", required=True)
    parser.add_argument("--server-pid", type=int, action="append", default=[])
    parser.add_argument("--json", help="append one JSON line here")
    parser.add_argument("--log", help="write the playbook's output here")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    server_before = sum(cpu_seconds(pid) for pid in args.server_pid)
    busy_before = machine_busy()
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    row = {
        "label": args.label,
        "rc": proc.returncode,
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime - usage_before.ru_utime - usage_before.ru_stime, 2),
        "server_cpu_s": round(sum(cpu_seconds(pid) for pid in args.server_pid) - server_before, 2)
        if args.server_pid else None,
        "machine_busy_s": round(machine_busy() - busy_before, 2),
    }
    if args.log:
        with open(args.log, "w") as handle:
            handle.write(proc.stdout)
    # ARA's client logs a failed API call as "Failed to <method> on <url>" and the run goes on.
    row["ara_failed_calls"] = proc.stdout.count("Failed to ")
    if proc.returncode:
        sys.stderr.write(proc.stdout[-3000:])
    print(json.dumps(row))
    if args.json:
        with open(args.json, "a") as handle:
            handle.write(json.dumps(row) + "\n")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
