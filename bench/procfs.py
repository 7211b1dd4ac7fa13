"""What the kernel says about a process: memory peak, CPU time, core pinning.

Read from /proc rather than psutil so the bench needs nothing beyond the
project's own requirements, and so the figures are exactly the kernel's.
"""
from __future__ import annotations

import os
import subprocess
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def status_kib(pid: int, field: str) -> int:
    """A ``Vm*`` line of /proc/<pid>/status in KiB (VmHWM is the peak RSS)."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(f"{field} not in /proc/{pid}/status")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as handle:
        text = handle.read()
    # The command name may hold spaces and parentheses: fields start after the last ')'.
    fields = text.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLOCK_TICKS


def pin(pid: int, core: int) -> None:
    """Pin a process (every thread) to one core, so its CPU share is one core at most."""
    subprocess.run(["taskset", "-a", "-cp", str(core), str(pid)], check=True, capture_output=True)


def cpu_model() -> str:
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def mem_total_gib() -> float:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def core_busy_seconds(core: int) -> float:
    """Time one core spent not idle (any process, interrupts, steal): to see who else used it."""
    with open("/proc/stat") as handle:
        for line in handle:
            if line.startswith(f"cpu{core} "):
                user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, line.split()[1:9])
                return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS
    raise KeyError(f"cpu{core} not in /proc/stat")


def load_average() -> list[float]:
    with open("/proc/loadavg") as handle:
        return [float(x) for x in handle.read().split()[:3]]


def machine_busy(window_s: float = 3.0) -> float:
    """Share of all cores busy over a short window: is anything else running?"""
    cores = range(os.cpu_count() or 1)
    before = [core_busy_seconds(c) for c in cores]
    time.sleep(window_s)
    after = [core_busy_seconds(c) for c in cores]
    return round(sum(after) - sum(before), 3) / (window_s * len(before))


def stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: [state, ppid, ...]; index i is proc(5)'s field i + 3."""
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()


def times(fields: list[str]) -> tuple[float, float]:
    """(own CPU s, CPU s of the children it has waited for) from ``stat_fields``: utime+stime, cutime+cstime.

    A zombie's stat still has both (read it between waitid(WNOWAIT) and the reaping wait4)."""
    return ((int(fields[11]) + int(fields[12])) / CLOCK_TICKS, (int(fields[13]) + int(fields[14])) / CLOCK_TICKS)


def status(pid: int, fields: tuple[str, ...] = ("VmHWM", "VmRSS")) -> dict[str, int]:
    """Some ``Vm*`` lines of /proc/<pid>/status in KiB (absent for a zombie: its memory is gone)."""
    found = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            name = line.split(":", 1)[0]
            if name in fields:
                found[name] = int(line.split()[1])
    return found


def smaps_rollup(pid: int) -> dict[str, int]:
    """Pss and private memory (Private_Clean + Private_Dirty) in KiB: what the process holds of its own,
    apart from the pages it shares with its parent after a fork (which RSS counts again in every child)."""
    found = {"Pss": 0, "Private": 0}
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            name = line.split(":", 1)[0]
            if name == "Pss":
                found["Pss"] = int(line.split()[1])
            elif name in ("Private_Clean", "Private_Dirty"):
                found["Private"] += int(line.split()[1])
    return found


def cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()


def process_table() -> dict[int, tuple[int, int]]:
    """Every process: pid -> (ppid, start time in clock ticks since boot; with the pid, one process's identity)."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = stat_fields(int(entry))
            except (OSError, IndexError):
                continue
            table[int(entry)] = (int(fields[1]), int(fields[19]))
    return table
