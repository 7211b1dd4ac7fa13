"""The chaos suite's engine: one watched monitor run and the judging of what it left.

``run`` starts ``playbooks/monitor.yml`` against a lab, samples the peak RSS of every process of
the run by role (main: ansible-playbook; workers: its forks and the report's page writers;
poller: the shared poller), can act once when a line shows in the run's log (a signal, a stopped
ARA server, a lab restart), waits for what the run leaves behind and returns the records of its
report. bench/chaos.py and tests/integration/test_chaos.py use it.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from bench import ara_overhead, chaos_cases, procfs
from bench.lab_process import DISCOVERY_CACHE, ROOT, RunningLab
from bench.slices_bench import read_fleet

NETWORK = "127.89.0.0/16"   # apart from the demo (127.77), tests (127.78/79), other benches (127.80/87/88)
PLAYBOOK = ROOT / "playbooks" / "monitor.yml"
RUN_TIMEOUT_S = 900
MEMORY_BOUND_MIB = 512      # no controller process may pass this, in any case
POLLER_MARK = "_poller import main"


class Lab(RunningLab):
    """A lab from a fleet file, on the chaos network."""

    fleet_file: Path | None = None

    def argv(self) -> list[str]:
        assert self.fleet_file is not None
        return [sys.executable, "-m", "lab", "run", "--fleet", str(self.fleet_file), "--network", NETWORK,
                "--state-dir", str(self.state_dir), "--inventory", str(self.state_dir / "inventory.yml"),
                "--admin-port", "0"]

    def truth(self, name: str) -> dict:
        return httpx.get(f"{self.admin_url}/devices/{name}/truth", timeout=30).json()

    def restart(self) -> float:
        """Stop the lab and start it again on the same addresses and state: seconds it was down."""
        started = time.monotonic()
        self.stop()
        self._start()
        return round(time.monotonic() - started, 2)


def start_lab(work: Path, fleet_file: Path) -> Lab:
    lab = Lab(count=0, work_dir=work, ready_timeout_s=300)
    lab.fleet_file = fleet_file
    return lab.__enter__()


# ---------------------------------------------------------------- one watched run


def _proc_table() -> dict[int, int]:
    """pid -> parent pid, from one pass over /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                with open(f"/proc/{entry}/stat") as handle:
                    table[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
    return table


def _descendants(roots: set[int], table: dict[int, int]) -> set[int]:
    found, frontier = set(roots), set(roots)
    while frontier:
        frontier = {pid for pid, parent in table.items() if parent in frontier and pid not in found}
        found |= frontier
    return found


def _role(pid: int, root: int, cache: dict[int, str]) -> str:
    if pid == root:
        return "main"
    if pid not in cache:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            command = ""
        cache[pid] = "poller" if POLLER_MARK in command else "workers" if "ansible-playbook" in command else \
            "lab" if " -m lab run " in command else "other"
    return cache[pid]


class Watch:
    """Samples the peak RSS (VmHWM) of every process of a run, by role, until stopped."""

    def __init__(self, root: int, ignore: set[int]) -> None:
        self.root, self.ignore, self.peaks, self.pids = root, ignore, Counter(), set()
        self._roles: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            table = _proc_table()
            for pid in _descendants({self.root}, table) | (_descendants({me}, table) - {me} - self.ignore):
                role = _role(pid, self.root, self._roles)
                if role == "lab":   # a lab the run's trigger restarted: not a controller process
                    continue
                with contextlib.suppress(OSError, KeyError):
                    self.peaks[role] = max(self.peaks[role], procfs.status_kib(pid, "VmHWM"))
                    self.pids.add((pid, role))
            self._stop.wait(0.2)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {role: round(kib / 1024, 1) for role, kib in sorted(self.peaks.items())}

    def pollers(self) -> int:
        return sum(1 for _pid, role in self.pids if role == "poller")


def _trigger(log: Path, needle: str, action, fired: dict, proc: subprocess.Popen, delay: float) -> None:
    """Run ``action(proc)`` once ``needle`` shows in the run's log (then ``delay`` seconds later)."""
    while proc.poll() is None:
        if log.exists() and needle in log.read_text(errors="replace"):
            time.sleep(delay)
            if proc.poll() is None:
                fired["at_s"] = round(time.monotonic() - fired["started"], 2)
                fired["what"] = action(proc)
            return
        time.sleep(0.05)


def run(lab: Lab | None, run_dir: Path, *, inventory: Path | None = None, limit: str | None = None,
        extra: list[str] | None = None, env: dict | None = None, ara: bool = False,
        trigger: tuple[str, float, object] | None = None, deadline: float | None = None) -> dict:
    """One monitor run: wall, CPU, peak RSS by role, its records, and whatever ``trigger`` did."""
    run_dir.mkdir(parents=True, exist_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ARA_", "ANSIBLE_", "JOHANN_ARA_"))}
    base.update({"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                 "ANSIBLE_LOCAL_TEMP": str(run_dir / "tmp"), "PATH": f"{Path(sys.executable).parent}:{base['PATH']}"})
    base.setdefault("JOHANN_DISCOVERY_CACHE_DIR", str(DISCOVERY_CACHE))   # not the user's ~/.cache
    if not ara:
        base["ANSIBLE_CALLBACK_PLUGINS"] = "/nonexistent"
    base.update(env or {})
    report = run_dir / "report"
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory or lab.state_dir /
               "inventory.yml"), str(PLAYBOOK), "-e", f"johann_report_dir={report}", *(extra or [])]
    if limit:
        command += ["--limit", limit]
    if deadline:
        command += ["-e", f"restconf_deadline={deadline:g}"]
    log = run_dir / "ansible.log"
    keep = _descendants({os.getpid()}, _proc_table())   # ours before the run (a lab, an ARA server): not its
    ara_overhead.subreaper(True)
    started = time.monotonic()
    fired: dict = {"started": started}
    try:
        with open(log, "w") as out:
            proc = subprocess.Popen(command, cwd=ROOT, env=base, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        watch = Watch(proc.pid, keep)
        if trigger:
            needle, delay, action = trigger
            threading.Thread(target=_trigger, args=(log, needle, action, fired, proc, delay), daemon=True).start()
        try:
            proc.wait(RUN_TIMEOUT_S)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            timed_out = True
        wall = time.monotonic() - started
        left = _wait_orphans(keep | ({lab.pid} if lab is not None else set()))   # a lab restarted by the trigger
        peaks = watch.stop()
    finally:
        ara_overhead.subreaper(False)
    text = log.read_text(errors="replace")
    return {"rc": proc.returncode, "timed_out": timed_out, "wall_s": round(wall, 2), "peak_rss_mib": peaks,
            "pollers_seen": watch.pollers(), "left_running": left, "trigger": {k: v for k, v in fired.items()
                                                                                if k != "started"},
            "report": str(report), "log": str(log), "records": _records(report),
            "report_path_printed": f"Report: {report}/index.html" in text, "log_tail": text[-1500:]}


def _wait_orphans(keep: set[int], limit_s: float = 10.0) -> list[str]:
    """Processes the run left behind (reparented to us): waited for a while, then named and killed."""
    deadline, me = time.monotonic() + limit_s, os.getpid()
    left: list[int] = []
    while time.monotonic() < deadline:
        for pid in [p for p, parent in _proc_table().items() if parent == me and p not in keep]:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        table = _proc_table()
        left = [p for p, parent in table.items() if parent == me and p not in keep]
        if not left:
            return []
        time.sleep(0.2)
    names = []
    for pid in left:
        with contextlib.suppress(OSError):
            names.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120])
            os.kill(pid, signal.SIGKILL)
    return names


def _records(report: Path) -> dict:
    if not (report / "fleet.json.gz").exists() and not (report / "fleet.json").exists():
        return {}
    return read_fleet(report)["devices"]


# ---------------------------------------------------------------- judging a run


def exact(lab: Lab, host: str, record: dict) -> str | None:
    """A healthy device's identity against the lab's ground truth."""
    truth, identity = lab.truth(host), record.get("identity") or {}
    for key in ("serial", "model", "os_version", "hostname"):
        if truth.get(key) is not None and identity.get(key) != truth.get(key):
            return f"{key} {identity.get(key)!r} != truth {truth.get(key)!r}"
    return None


def judge_devices(lab: Lab, outcome: dict, hosts: list[str], deadline: float) -> list[str]:
    """What is wrong with a run's records: missing, not exact, a cause not named."""
    problems = []
    for host in hosts:
        record = outcome["records"].get(host)
        problem = chaos_cases.judge(host, record, deadline)
        if problem is None and record is not None and chaos_cases.case_of(host) is None:
            problem = exact(lab, host, record)
        if problem:
            problems.append(f"{host}: {problem}")
    return problems


def summary_of(outcome: dict, hosts: list[str]) -> dict:
    return {host: {"status": (outcome["records"].get(host) or {}).get("status"),
                   "cause": ((outcome["records"].get(host) or {}).get("message") or "")[:240]} for host in hosts}


def over_bound(outcome: dict) -> list[str]:
    return [f"{role} peaked at {mib} MiB" for role, mib in outcome["peak_rss_mib"].items() if mib > MEMORY_BOUND_MIB]


def _ended(outcome: dict) -> list[str]:
    problems = []
    if outcome["timed_out"]:
        problems.append(f"the run did not end within {RUN_TIMEOUT_S} s")
    if not outcome["report_path_printed"]:
        problems.append("the run did not print the report's path")
    if outcome["left_running"]:
        problems.append(f"left running: {outcome['left_running']}")
    return problems


def _hosts(lab: Lab) -> list[str]:
    assert lab.inventory is not None
    return [h.name for h in lab.inventory.hosts]
