"""10,000 devices on one controller (issue 15): wall, CPU and peak memory of each controller process.

    .venv/bin/python -m bench.scale_bench                          # 1000, 3000, 10000 devices; ARA on at 1000
    .venv/bin/python -m bench.scale_bench --sizes 1000,3000 --lab-size 10000   # the smaller sizes first ...
    .venv/bin/python -m bench.scale_bench --sizes 10000 --merge bench/results/<date>-scale.json   # ... then 10000
    .venv/bin/python -m bench.scale_bench --quick                  # 100, 300 devices, ARA on at 100: ~3 min

One lab as big as the largest size (or --lab-size; 127.89.0.0/16, state in bench/work/scale/, latency 0),
TLS verified against its CA; a size N reads the lab's first N devices (the profile mix is the same at every
N). Per size, ``playbooks/monitor.yml`` with the project's ansible.cfg (forks 50), ARA off
(ANSIBLE_CALLBACK_PLUGINS=/nonexistent); at --ara-at (default: the smallest size) once more with the
project's ARA server (bench/ara_overhead.py's Server: gunicorn as ara_server.start_server starts it, a fresh
data dir; the database checked for a complete recording afterwards).

Every controller process is found and followed while the run lasts: /proc is read every --sample-s (0.2 s);
the process tree below ansible-playbook, plus the processes it orphans (this bench is their child subreaper
during a run, so they are reparented to it and reaped by it with wait4). The roles:

* ``main``: the ansible-playbook process;
* ``workers``: the processes it forks (one per host and task, at most forks=50 at once; each calls setsid);
* ``renderer``: the worker of the ``Write the report`` task (the worker first seen between the log's
  ``TASK [Write the report]`` line and the next TASK line), and ``page writers``, the processes it forks
  (plugin_utils/_report/pages.py: write_pages);
* ``poller``: device_info's shared poller (plugin_utils/_poller.py; command line ``python -c ... _poller
  import main <socket> <ansible-playbook pid>``), started by the first worker that needs it, orphaned when
  that worker ends: its CPU is its own wait4 rusage; its peak RSS its sampled VmHWM (wait4's ru_maxrss keeps
  the pre-exec high-water mark: the RSS of the worker it was forked from);
* ``ARA server``: the gunicorn master and its workers (not in the tree: /proc by pid);
* the lab: CPU (/proc), requests served (its admin /stats), VmHWM.

How each figure is taken (the Markdown repeats it): CPU of main = utime+stime of its zombie (waitid WNOWAIT,
then /proc/<pid>/stat before the reaping wait4): exact; CPU of all workers = the zombie main's cutime+cstime
(every worker and what each reaped, the page writers included): exact; renderer = its own and its reaped
children's (page writers') CPU at the last sample before it exited (within one sample); poller = its wait4
rusage: exact; peak RSS = VmHWM of /proc/<pid>/status at the last sample (VmHWM only grows; a peak in a
process's last sample interval is missed); private = the peak over the
samples of Private_Clean+Private_Dirty (and Pss) of /proc/<pid>/smaps_rollup: what the process holds of its
own, without the pages a forked child shares with its parent (which RSS counts again in every child); for
workers, the largest VmHWM of those sampled (a worker living less than a sample may be missed: the count
seen is given) and the peak over the samples of the sum of the live workers' RSS and Pss (Pss every 25th
sample: smaps_rollup is the sampler's main cost). Also: the run's wall, the whole tree's CPU (RUSAGE_CHILDREN), the devices ok in the recap, the
report's size on disk (total, per device, by kind of file), the report's ``rendered in N s``, the machine's
busy CPU and load average (others' CPU = busy - the run's tree - ARA - the lab). Per-device ratios between
sizes (larger over smaller; 1.0 = linear) and memory slopes (KiB per added device) say what grows.

Results: bench/results/<date>-scale[-quick].{md,json}, written after every run (a run that fails at 10,000
keeps the smaller sizes' figures); scratch in bench/work/scale/ (report dirs removed after being measured,
unless --keep-reports).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import ara_overhead, netcommon_bench, procfs, results
from bench.lab_process import DISCOVERY_CACHE, ROOT, RunningLab, inventory_subset

NETWORK = "127.89.0.0/16"   # apart from the demo (127.77), the tests (127.78), lab bench (127.80), ARA (127.87), fleet (127.88)
PLAYBOOK = ROOT / "playbooks" / "monitor.yml"
CONFIG = ROOT / "ansible.cfg"
DEFAULT_SIZES = (1000, 3000, 10000)
QUICK_SIZES = (100, 300)
REPORT_TASK = "Write the report"
POLLER_MARK = "_poller import main"
RENDERED = re.compile(r"rendered in ([0-9.]+) s")
STATUSES = re.compile(r"\((\d+) devices: ([^;]*);")
ORPHAN_WAIT_S = 40.0
WORKER_PSS_EVERY = 25   # samples: smaps_rollup costs ~1.5 ms a process, 50 workers ~70 ms


def run_timeout_s(devices: int) -> float:
    """A run's time-out: 900 s, plus 0.25 s per device (1000 devices took 60 s on 2 cores, 2026-11-29)."""
    return 900 + 0.25 * devices


class Lab(RunningLab):
    """bench.lab_process.RunningLab on this bench's own network; 10,000 devices start in ~50 s."""

    def argv(self) -> list[str]:
        argv = super().argv()
        argv[argv.index("--network") + 1] = NETWORK
        return argv


@dataclass
class Seen:
    """One process of the run, as the samples saw it."""

    pid: int
    ppid: int
    role: str
    first_s: float
    last_s: float
    cmd: str = ""
    hwm_kib: int = 0
    rss_kib: int = 0
    cpu_s: float = 0.0           # own, at the last sample
    children_cpu_s: float = 0.0  # of the children it reaped, at the last sample
    private_peak_kib: int = 0
    pss_peak_kib: int = 0
    samples: int = 0


@dataclass
class Sampling:
    """What the sampler thread gathers."""

    processes: dict[tuple[int, int], Seen] = field(default_factory=dict)
    tasks: list[tuple[float, str]] = field(default_factory=list)       # (s since start, task name)
    main_series: list[tuple[float, int, float]] = field(default_factory=list)   # (s, VmRSS KiB, own CPU s)
    workers_rss_peak_kib: int = 0
    workers_pss_peak_kib: int = 0
    workers_live_peak: int = 0
    controller_rss_peak_kib: int = 0
    ara: dict[int, Seen] = field(default_factory=dict)
    ara_rss_peak_kib: int = 0
    samples: int = 0
    sample_cost_s: float = 0.0   # the sampler thread's own CPU (thread_time)


DETAILED = ("main", "poller", "renderer", "page writer")   # smaps_rollup at every sample


class Sampler(threading.Thread):
    """Reads /proc every ``interval`` s: the run's process tree, each process's memory and CPU, the log's tasks."""

    def __init__(self, main_pid: int, log_path: Path, exclude: set[int], ara_pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.main_pid, self.log_path, self.exclude, self.ara_pid = main_pid, log_path, exclude, ara_pid
        self.interval = interval
        self.data = Sampling()
        self.stop_event = threading.Event()
        self.started = time.monotonic()
        self._log_pos = 0
        self._log_rest = ""
        self.main_zombie = False   # set once main has exited: not read any more (its figures come from wait)

    def report_window(self) -> bool:
        names = [name for _, name in self.data.tasks]
        return REPORT_TASK in names and names[-1] == REPORT_TASK

    def _read_log(self, now: float) -> None:
        try:
            with open(self.log_path, errors="replace") as handle:
                handle.seek(self._log_pos)
                text = handle.read()
                self._log_pos = handle.tell()
        except OSError:
            return
        text = self._log_rest + text
        lines = text.split("\n")
        self._log_rest = lines.pop()
        for line in lines:
            if line.startswith("TASK ["):
                self.data.tasks.append((round(now, 2), line[6:line.rfind("]")]))

    def _tree(self, table: dict[int, tuple[int, int]]) -> list[int]:
        me = os.getpid()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _start) in table.items():
            children.setdefault(ppid, []).append(pid)
        roots = [self.main_pid] + [p for p in children.get(me, []) if p != self.main_pid and p not in self.exclude]
        found, todo = [], list(roots)
        while todo:
            pid = todo.pop()
            if pid in table and pid not in self.exclude:
                found.append(pid)
                todo.extend(children.get(pid, []))
        return found

    def _role(self, pid: int, ppid: int, cmd: str) -> str:
        if pid == self.main_pid:
            return "main"
        if POLLER_MARK in cmd:
            return "poller"
        if ppid == self.main_pid:
            return "renderer" if self.report_window() else "worker"
        parent = next((s for s in self.data.processes.values() if s.pid == ppid and s.last_s >= 0), None)
        if parent is not None and parent.role == "renderer":
            return "page writer"
        return "other"

    def sample(self) -> None:
        now = time.monotonic() - self.started
        began = time.thread_time()
        self._read_log(now)
        table = procfs.process_table()
        d = self.data
        d.samples += 1
        workers_rss = workers_pss = controller_rss = live_workers = 0
        with_pss = d.samples % WORKER_PSS_EVERY == 0
        for pid in self._tree(table):
            if pid == self.main_pid and self.main_zombie:
                continue
            ppid, start = table[pid]
            key = (pid, start)
            seen = d.processes.get(key)
            try:
                if seen is None or seen.role == "other":
                    cmd = procfs.cmdline(pid)
                    role = self._role(pid, ppid, cmd)
                    if seen is None:
                        seen = d.processes[key] = Seen(pid, ppid, role, round(now, 2), round(now, 2), cmd[:200])
                    else:
                        seen.role, seen.cmd = role, cmd[:200]
                fields = procfs.stat_fields(pid)
                if fields[0] == "Z":
                    continue
                own, reaped = procfs.times(fields)
                mem = procfs.status(pid)
                if not mem:
                    continue
                seen.last_s, seen.cpu_s, seen.children_cpu_s, seen.samples = round(now, 2), own, reaped, seen.samples + 1
                seen.hwm_kib = max(seen.hwm_kib, mem.get("VmHWM", 0))
                seen.rss_kib = mem.get("VmRSS", 0)
                controller_rss += seen.rss_kib
                if seen.role in DETAILED or (seen.role == "worker" and with_pss):
                    smaps = procfs.smaps_rollup(pid)
                    seen.private_peak_kib = max(seen.private_peak_kib, smaps["Private"])
                    seen.pss_peak_kib = max(seen.pss_peak_kib, smaps["Pss"])
                    if seen.role == "worker":
                        workers_pss += smaps["Pss"]
                if seen.role == "worker":
                    workers_rss += seen.rss_kib
                    live_workers += 1
                if seen.role == "main":
                    d.main_series.append((round(now, 2), seen.rss_kib, own))
            except (OSError, IndexError, ValueError):
                continue   # it ended while we read it
        d.workers_rss_peak_kib = max(d.workers_rss_peak_kib, workers_rss)
        d.workers_pss_peak_kib = max(d.workers_pss_peak_kib, workers_pss)
        d.workers_live_peak = max(d.workers_live_peak, live_workers)
        d.controller_rss_peak_kib = max(d.controller_rss_peak_kib, controller_rss)
        if self.ara_pid:
            ara_rss = 0
            for pid in [self.ara_pid, *[p for p, (pp, _) in table.items() if pp == self.ara_pid]]:
                try:
                    mem = procfs.status(pid)
                    own, _ = procfs.times(procfs.stat_fields(pid))
                except (OSError, IndexError, ValueError):
                    continue
                seen = d.ara.setdefault(pid, Seen(pid, table.get(pid, (0, 0))[0], "ARA server", round(now, 2),
                                                  round(now, 2)))
                seen.last_s, seen.cpu_s, seen.samples = round(now, 2), own, seen.samples + 1
                seen.hwm_kib = max(seen.hwm_kib, mem.get("VmHWM", 0))
                seen.rss_kib = mem.get("VmRSS", 0)
                ara_rss += seen.rss_kib
            d.ara_rss_peak_kib = max(d.ara_rss_peak_kib, ara_rss)
        d.sample_cost_s += time.thread_time() - began

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)
        self._read_log(time.monotonic() - self.started)


def _ansible_env(run_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARA_", "ANSIBLE_", "JOHANN_ARA_"))}
    env.update({"ANSIBLE_CONFIG": str(CONFIG), "ANSIBLE_LOCAL_TEMP": str(run_dir / "tmp"), "ANSIBLE_NOCOLOR": "1",
                "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"})
    env.setdefault("JOHANN_DISCOVERY_CACHE_DIR", str(DISCOVERY_CACHE))
    return env


REPORT_CODE = ("collections/ansible_collections/johann/monitor/plugins/plugin_utils/_report",
               "collections/ansible_collections/johann/monitor/plugins/action/report.py",
               "collections/ansible_collections/johann/monitor/templates/report", "playbooks/monitor.yml")


def code_state() -> dict:
    """The commit, and a digest of the uncommitted changes to the report's code at the time of the run: the
    report code changes while these figures are taken, so each run says which state it measured."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout
    diff = git("diff", "HEAD", "--", *REPORT_CODE) + git("ls-files", "--others", "--exclude-standard", "--",
                                                          *REPORT_CODE)
    return {"head": git("rev-parse", "--short", "HEAD").strip(),
            "report_code_changes": hashlib.sha256(diff.encode()).hexdigest()[:12] if diff else None,
            "changed_files": git("diff", "HEAD", "--name-only", "--", *REPORT_CODE).split()}


SNAPSHOT_PATHS = ("ansible.cfg", "collections", "playbooks", "reports/templates")


def snapshot(commit: str, dest: Path) -> Path:
    """The project's run files (ansible.cfg, the collection, the playbooks, the report templates) as of ``commit``,
    in ``dest``, with the checkout's .venv linked in: runs then measure one state of the code, not whatever the
    working tree holds while others edit it."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", commit, *SNAPSHOT_PATHS], cwd=ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def report_size(report: Path, devices: int) -> dict:
    """Bytes on disk of the report by kind of file: device pages, fleet pages, fleet.json, CSV, XLSX, the rest."""
    kinds: dict[str, list[int]] = {}
    for path in report.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(report).as_posix()
        kind = ("device pages" if rel.startswith("devices/") and rel.endswith(".html")
                else "fleet pages" if "/" not in rel and rel.endswith(".html")
                else rel if "/" not in rel else rel.split("/", 1)[0] + "/")
        entry = kinds.setdefault(kind, [0, 0])
        entry[0] += 1
        entry[1] += path.stat().st_size
    total = sum(b for _, b in kinds.values())
    return {"total_bytes": total, "per_device_bytes": round(total / devices) if devices else None,
            "kinds": {k: {"files": n, "bytes": b, "per_device_bytes": round(b / devices) if devices else None}
                      for k, (n, b) in sorted(kinds.items(), key=lambda kv: -kv[1][1])}}


def _mib(kib: float | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def run_once(lab: Lab, inventory: Path, devices: int, ara: bool, run_dir: Path, interval: float,
             keep_report: bool, project: Path = ROOT) -> dict:
    """One monitor.yml run with every controller process followed (see the module's docstring); ``project``:
    the checkout, or a snapshot of its run files (``snapshot``)."""
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    env = _ansible_env(run_dir)
    env["ANSIBLE_CONFIG"] = str(project / "ansible.cfg")
    server = None
    if ara:
        server = ara_overhead.Server(run_dir / "ara-server", None, None)   # the project's settings, as johann-ara
        server.start()
        env.update({"JOHANN_ARA_DATA_DIR": str(server.data_dir), "ARA_API_SERVER": server.endpoint,
                    "JOHANN_ARA_AUTOSTART": "false"})
    else:
        env["ANSIBLE_CALLBACK_PLUGINS"] = "/nonexistent"
    report = run_dir / "report"
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
               str(project / PLAYBOOK.relative_to(ROOT)), "-e", f"johann_report_dir={report}"]
    log_path = run_dir / "ansible.log"
    timeout_s = run_timeout_s(devices)
    load_before = procfs.load_average()
    busy_before = ara_overhead.machine_busy_s()
    lab_before, requests_before = procfs.cpu_seconds(lab.pid), lab.stats()["requests"]
    server_before = server.cpu_seconds() if server else 0.0
    tree_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    keep = set(ara_overhead._children(os.getpid()))
    ara_overhead.subreaper(True)
    started = time.monotonic()
    orphans: dict[int, dict] = {}
    timed_out = False
    try:
        with open(log_path, "w") as log:
            proc = subprocess.Popen(command, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        sampler = Sampler(proc.pid, log_path, keep | {lab.pid}, server.pid if server else 0, interval)
        sampler.start()
        while True:   # exited: still a zombie, so its own and its children's CPU can be read apart
            if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG):
                break
            if time.monotonic() - started > timeout_s and not timed_out:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.05)
        wall = time.monotonic() - started
        sampler.main_zombie = True
        zombie = procfs.stat_fields(proc.pid)
        main_own, main_reaped = procfs.times(zombie)
        # user / system apart: forking a big process (page tables, copy-on-write faults) is system time
        kernel = {"main_system_s": int(zombie[12]) / procfs.CLOCK_TICKS,
                  "workers_system_s": int(zombie[14]) / procfs.CLOCK_TICKS}
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        for done, ru in ara_overhead.reap_orphans(keep | {lab.pid}, ORPHAN_WAIT_S):
            orphans[done] = {"cpu_s": round(ru.ru_utime + ru.ru_stime, 2), "max_rss_kib": ru.ru_maxrss,
                             "system_s": round(ru.ru_stime, 2),
                             "after_run_s": round(time.monotonic() - started - wall, 2)}
        sampler.stop_event.set()
        sampler.join()
    finally:
        ara_overhead.subreaper(False)
    tree_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    tree_cpu = (tree_after.ru_utime + tree_after.ru_stime) - (tree_before.ru_utime + tree_before.ru_stime)
    lab_cpu = procfs.cpu_seconds(lab.pid) - lab_before
    requests = lab.stats()["requests"] - requests_before
    server_cpu = server.cpu_seconds() - server_before if server else None
    busy = ara_overhead.machine_busy_s() - busy_before
    lab_mem = procfs.status(lab.pid)
    text = log_path.read_text(errors="replace")
    recap = netcommon_bench.RECAP.findall(text)
    devices_ok = sum(1 for r in recap if r[2] == "0" and r[3] == "0")
    rendered = RENDERED.search(text)
    statuses = STATUSES.search(text)
    row = {"devices": devices, "ara": ara, "rc": proc.returncode, "timed_out": timed_out, "wall_s": round(wall, 2),
           "tree_cpu_s": round(tree_cpu, 2), "lab_cpu_s": round(lab_cpu, 2), "requests": requests,
           "lab_vm_hwm_mib": _mib(lab_mem.get("VmHWM")), "lab_vm_rss_mib": _mib(lab_mem.get("VmRSS")),
           "server_cpu_s": None if server_cpu is None else round(server_cpu, 2),
           "machine_busy_s": round(busy, 2), "load_before": load_before, "load_after": procfs.load_average(),
           "devices_ok": devices_ok, "recap_hosts": len(recap),
           "render_seconds": float(rendered[1]) if rendered else None,
           "report_statuses": statuses[2].strip() if statuses else None,
           "ru_maxrss_tree_mib": _mib(usage.ru_maxrss)}
    row["others_cpu_s"] = round(busy - tree_cpu - lab_cpu - (server_cpu or 0) - sampler.data.sample_cost_s, 1)
    row["code"] = code_state() if project == ROOT else {"snapshot_of": project.name.removeprefix("code-"),
                                                        "report_code_changes": None}
    row["processes"] = roles(sampler.data, main_own, main_reaped, orphans, wall)
    row["processes"]["main"]["system_s"] = round(kernel["main_system_s"], 2)
    row["processes"]["workers"]["system_s_all"] = round(kernel["workers_system_s"], 2)   # the renderer's too
    row["sampling"] = {"interval_s": interval, "samples": sampler.data.samples, "worker_pss_every": WORKER_PSS_EVERY,
                       "cost_s": round(sampler.data.sample_cost_s, 2),
                       "tasks": sampler.data.tasks, "main_phases": main_phases(sampler.data, wall, main_own)}
    row["report_size"] = report_size(report, devices) if report.exists() else None
    if server:
        server.stop()
        row["recorded"] = ara_overhead.check_database(server.data_dir / "ansible.sqlite", devices)
    row["complete"] = (row["rc"] == 0 and not timed_out and devices_ok == devices == len(recap)
                       and (not ara or row["recorded"]["complete"]))
    if not keep_report:
        shutil.rmtree(report, ignore_errors=True)
        shutil.rmtree(run_dir / "ara-server", ignore_errors=True)
    (run_dir / "processes.json").write_text(json.dumps(
        [asdict(s) for s in sampler.data.processes.values()], indent=1))
    return row


def main_phases(d: Sampling, wall: float, main_own: float) -> list[dict]:
    """The main process's CPU and RSS over the log's tasks: where it grows."""
    marks = [(t, name) for t, name in d.tasks] + [(wall, "(end)")]
    if len(marks) > 1:   # the last task's span runs to the end: the recap, the callbacks, the exit
        marks[-2] = (marks[-2][0], marks[-2][1] + " (to the end of the run)")
    phases = []
    series = d.main_series
    for (t0, name), (t1, _) in zip(marks, marks[1:], strict=False):
        inside = [s for s in series if t0 <= s[0] < t1]
        before = [s for s in series if s[0] < t0]
        cpu0 = before[-1][2] if before else 0.0
        cpu1 = inside[-1][2] if inside else cpu0
        if t1 == wall:
            cpu1 = main_own
        phases.append({"task": name, "from_s": t0, "to_s": round(t1, 2), "main_cpu_s": round(cpu1 - cpu0, 2),
                       "main_rss_start_mib": _mib(inside[0][1]) if inside else None,
                       "main_rss_end_mib": _mib(inside[-1][1]) if inside else None})
    if series and d.tasks:
        phases.insert(0, {"task": "(start: inventory, plugins)", "from_s": 0.0, "to_s": d.tasks[0][0],
                          "main_cpu_s": round(next((s[2] for s in reversed(series) if s[0] < d.tasks[0][0]), 0.0), 2),
                          "main_rss_start_mib": _mib(series[0][1]),
                          "main_rss_end_mib": _mib(next((s[1] for s in reversed(series) if s[0] < d.tasks[0][0]),
                                                        series[0][1]))})
    return phases


def roles(d: Sampling, main_own: float, main_reaped: float, orphans: dict[int, dict], wall: float) -> dict:
    """Per role: CPU, peak RSS and private memory, and how each was taken."""
    procs = list(d.processes.values())
    by = {role: [p for p in procs if p.role == role] for role in ("main", "worker", "renderer", "page writer",
                                                                    "poller", "other")}
    out: dict[str, dict] = {}
    main = by["main"][0] if by["main"] else None
    out["main"] = {"alive_s": round(wall, 2), "cpu_s": round(main_own, 2), "peak_rss_mib": _mib(main and main.hwm_kib),
                   "private_peak_mib": _mib(main and main.private_peak_kib),
                   "pss_peak_mib": _mib(main and main.pss_peak_kib)}
    renderers = sorted(by["renderer"], key=lambda p: p.last_s - p.first_s, reverse=True)
    renderer = renderers[0] if renderers else None
    writers = by["page writer"]
    render_tree = (renderer.cpu_s + renderer.children_cpu_s) if renderer else 0.0
    workers = by["worker"]
    out["workers"] = {
        "seen": len(workers), "live_peak": d.workers_live_peak,
        "cpu_s": round(main_reaped - render_tree, 2),   # every worker but the renderer (and its page writers)
        "cpu_per_worker_ms": round(1000 * (main_reaped - render_tree) / len(workers)) if workers else None,
        "largest_peak_rss_mib": _mib(max((p.hwm_kib for p in workers), default=None)),
        "largest_private_mib": _mib(max((p.private_peak_kib for p in workers), default=None)),
        "sum_rss_peak_mib": _mib(d.workers_rss_peak_kib), "sum_pss_peak_mib": _mib(d.workers_pss_peak_kib)}
    out["renderer"] = None if renderer is None else {
        "pid": renderer.pid, "alive_s": round(renderer.last_s - renderer.first_s, 2),
        "cpu_s": round(renderer.cpu_s, 2), "peak_rss_mib": _mib(renderer.hwm_kib),
        "private_peak_mib": _mib(renderer.private_peak_kib), "pss_peak_mib": _mib(renderer.pss_peak_kib),
        "candidates": len(renderers)}
    out["page_writers"] = None if not writers else {
        "count": len(writers), "cpu_s": round(renderer.children_cpu_s, 2) if renderer else None,
        "largest_peak_rss_mib": _mib(max(p.hwm_kib for p in writers)),
        "largest_private_mib": _mib(max(p.private_peak_kib for p in writers)),
        "alive_s": round(max(p.last_s - p.first_s for p in writers), 2)}
    pollers = []
    for p in by["poller"]:
        reaped = orphans.get(p.pid)
        pollers.append({"pid": p.pid, "alive_s": round(p.last_s - p.first_s, 2),
                        "cpu_s": reaped["cpu_s"] if reaped else round(p.cpu_s, 2),
                        "system_s": reaped["system_s"] if reaped else None,
                        # its own VmHWM: wait4's ru_maxrss keeps the high-water mark from before the exec, the
                        # RSS of the worker it was forked from (Linux carries it over an exec)
                        "peak_rss_mib": _mib(p.hwm_kib),
                        "ru_maxrss_mib": _mib(reaped["max_rss_kib"]) if reaped else None,
                        "private_peak_mib": _mib(p.private_peak_kib),
                        "pss_peak_mib": _mib(p.pss_peak_kib), "exact": bool(reaped),
                        "exited_after_run_s": reaped["after_run_s"] if reaped else None})
    out["poller"] = pollers[0] if len(pollers) == 1 else ({"each": pollers} if pollers else None)
    if d.ara:
        out["ara_server"] = {"processes": len(d.ara), "largest_peak_rss_mib": _mib(max(p.hwm_kib for p in d.ara.values())),
                             "sum_rss_peak_mib": _mib(d.ara_rss_peak_kib)}
    out["other"] = [{"cmd": p.cmd[:120], "ppid": p.ppid, "cpu_s": round(p.cpu_s, 2), "peak_rss_mib": _mib(p.hwm_kib)}
                    for p in by["other"]][:10]
    out["controller_sum_rss_peak_mib"] = _mib(d.controller_rss_peak_kib)
    return out


# ---------------------------------------------------------------- analysis


ROLE_FIGURES = (   # (label, path in processes, key)
    ("main", "main", "cpu_s", "peak_rss_mib", "private_peak_mib"),
    ("workers (all but the renderer)", "workers", "cpu_s", "largest_peak_rss_mib", "largest_private_mib"),
    ("workers: sum over live ones (peak)", "workers", None, "sum_rss_peak_mib", "sum_pss_peak_mib"),
    ("poller", "poller", "cpu_s", "peak_rss_mib", "private_peak_mib"),
    ("renderer (report task's worker)", "renderer", "cpu_s", "peak_rss_mib", "private_peak_mib"),
    ("page writers (largest; CPU all)", "page_writers", "cpu_s", "largest_peak_rss_mib", "largest_private_mib"),
)


def _get(row: dict, path: str, key: str | None):
    part = row["processes"].get(path)
    if not part or key is None:
        return None
    return part.get(key)


def growth(runs: list[dict]) -> list[dict]:
    """Between consecutive sizes (ARA off): per-device ratios of wall and CPU, memory slopes in KiB per device."""
    off = sorted((r for r in runs if not r["ara"] and r["complete"]), key=lambda r: r["devices"])
    rows = []
    for a, b in zip(off, off[1:], strict=False):
        na, nb = a["devices"], b["devices"]
        row = {"from": na, "to": nb,
               "wall_per_device_ratio": round((b["wall_s"] / nb) / (a["wall_s"] / na), 2),
               "tree_cpu_per_device_ratio": round((b["tree_cpu_s"] / nb) / (a["tree_cpu_s"] / na), 2),
               "lab_cpu_per_device_ratio": round((b["lab_cpu_s"] / nb) / (a["lab_cpu_s"] / na), 2)
               if a["lab_cpu_s"] else None,
               "render_s_per_device_ratio": round((b["render_seconds"] / nb) / (a["render_seconds"] / na), 2)
               if a.get("render_seconds") and b.get("render_seconds") else None,
               "report_bytes_per_device_ratio": round(b["report_size"]["per_device_bytes"]
                                                      / a["report_size"]["per_device_bytes"], 2)
               if a.get("report_size") and b.get("report_size") else None,
               "roles": []}
        for label, path, cpu_key, rss_key, private_key in ROLE_FIGURES:
            entry = {"role": label}
            ca, cb = _get(a, path, cpu_key), _get(b, path, cpu_key)
            if ca and cb:
                entry["cpu_per_device_ratio"] = round((cb / nb) / (ca / na), 2)
            for name, key in (("rss", rss_key), ("private", private_key)):
                ma, mb = _get(a, path, key), _get(b, path, key)
                if ma is not None and mb is not None:
                    entry[f"{name}_kib_per_device"] = round((mb - ma) * 1024 / (nb - na), 1)
                    entry[f"{name}_ratio"] = round(mb / ma, 2) if ma else None
            row["roles"].append(entry)
        rows.append(row)
    return rows


def analyse(data: dict) -> dict:
    data["growth"] = growth(data["runs"])
    data["checks"] = {"every_run_complete": all(r["complete"] for r in data["runs"])}
    return data


def _fmt(value, suffix: str = "") -> str:
    return "–" if value is None else f"{value}{suffix}"


def markdown(data: dict) -> list[str]:
    lines = ["## 10,000 devices on one controller: each controller process (issue 15)", "",
             f"Lab: {data['lab'].get('ready', '')} (VmHWM at start {data['lab'].get('vm_hwm_mib')} MiB); a size N "
             "reads its first N devices (iosxe-17 : iosxe-16.12 : ietf = 2 : 1 : 1), latency 0. "
             "`playbooks/monitor.yml`, the project's ansible.cfg (forks 50), ARA off unless the row says on"
             + (f"; the run files of commit {data['code']['commit']} (git archive to {data['code']['snapshot']}: "
                "the working tree's report code was being changed meanwhile)" if data.get("code") else "") + ".", "",
             "How each figure is taken: CPU of main = its own utime+stime read from its zombie (exact); workers = the "
             "zombie main's cutime+cstime less the renderer's tree (exact but for the renderer's last sample); "
             "renderer and page writers = their /proc/<pid>/stat at the renderer's last sample (0.2 s); poller = its "
             "wait4 rusage (this bench is the subreaper of the run's orphans: exact). Peak RSS = VmHWM at the last "
             "0.2 s sample (for the poller too: its wait4 ru_maxrss carries the pre-exec high-water mark of the worker it "
             "was forked from, given apart); private = peak of Private_Clean+Private_Dirty from "
             "smaps_rollup (a forked child's own memory, without the pages it shares with its parent); workers: the "
             "largest sampled VmHWM, and the peak over samples of the sum of live workers' RSS and Pss. "
             "Others' CPU = the machine's busy CPU - the run's tree - the ARA server - the lab - this bench's sampler.", ""]
    for r in data["runs"]:
        p = r["processes"]
        title = f"### {r['devices']} devices, ARA {'on' if r['ara'] else 'off'}"
        lines += [title, "",
                  f"wall {r['wall_s']} s, tree CPU {r['tree_cpu_s']} s, lab CPU {r['lab_cpu_s']} s, "
                  f"{r['requests']} requests ({r['requests'] / r['devices']:.1f}/device), "
                  f"devices ok {r['devices_ok']}/{r['devices']} (recap {r['recap_hosts']}), report: "
                  f"{r['report_statuses'] or '?'}, rendered in {_fmt(r['render_seconds'])} s; "
                  f"others' CPU {r['others_cpu_s']} s, load {r['load_before'][0]} → {r['load_after'][0]}; "
                  f"{'complete' if r['complete'] else '**INCOMPLETE** (rc ' + str(r['rc']) + ')'}; sampler "
                  f"{r['sampling']['samples']} samples, {r['sampling']['cost_s']} CPU s; code "
                  f"{r['code'].get('head') or 'commit ' + r['code']['snapshot_of'] + ' (a snapshot)'}"
                  + (f" + uncommitted report changes {r['code']['report_code_changes']}"
                     if r['code']['report_code_changes'] else ""), "",
                  "| process | alive s | CPU s | peak RSS MiB | private peak MiB | Pss peak MiB | notes |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        m = p["main"]
        lines.append(f"| main (ansible-playbook) | {m['alive_s']} | {m['cpu_s']} | {m['peak_rss_mib']} | "
                     f"{m['private_peak_mib']} | {m['pss_peak_mib']} | "
                     + (f"{m['system_s']} s of it in the kernel |" if m.get("system_s") is not None
                        else f"at least {m['system_s_at_least']} s of it in the kernel (read by hand) |"
                        if m.get("system_s_at_least") else "|"))
        w = p["workers"]
        lines.append(f"| workers, largest (CPU: sum) | – | {w['cpu_s']} | {w['largest_peak_rss_mib']} | "
                     f"{w['largest_private_mib']} | – | {w['seen']} seen, {w['live_peak']} at once at most, "
                     f"{_fmt(w['cpu_per_worker_ms'])} ms CPU each"
                     + (f"; {w['system_s_all']} s in the kernel (all workers)" if w.get("system_s_all") is not None
                        else f"; at least {w['system_s_all_at_least']} s in the kernel (read by hand)"
                        if w.get("system_s_all_at_least") else "") + " |")
        lines.append(f"| workers, sum of live ones (peak) | – | – | {w['sum_rss_peak_mib']} | – | "
                     f"{w['sum_pss_peak_mib']} | RSS counts the pages shared with main in each |")
        po = p.get("poller")
        if po and "each" not in po:
            lines.append(f"| poller | {po['alive_s']} | {po['cpu_s']} | {po['peak_rss_mib']} | "
                         f"{po['private_peak_mib']} | {po['pss_peak_mib']} | "
                         f"CPU {'wait4' if po['exact'] else 'sampled'}; wait4 ru_maxrss {_fmt(po.get('ru_maxrss_mib'))} "
                         f"MiB (pre-exec: the forking worker's); exited {_fmt(po['exited_after_run_s'])} s after main |")
        elif po:
            for each in po["each"]:
                lines.append(f"| poller {each['pid']} | {each['alive_s']} | {each['cpu_s']} | {each['peak_rss_mib']} | "
                             f"{each['private_peak_mib']} | {each['pss_peak_mib']} | |")
        rr = p.get("renderer")
        if rr:
            lines.append(f"| renderer (report task's worker) | {rr['alive_s']} | {rr['cpu_s']} | {rr['peak_rss_mib']} | "
                         f"{rr['private_peak_mib']} | {rr['pss_peak_mib']} | rendered in {_fmt(r['render_seconds'])} s |")
        pw = p.get("page_writers")
        if pw:
            lines.append(f"| page writers ({pw['count']}; largest, CPU all) | {pw['alive_s']} | {_fmt(pw['cpu_s'])} | "
                         f"{pw['largest_peak_rss_mib']} | {pw['largest_private_mib']} | – | |")
        ara = p.get("ara_server")
        if ara:
            lines.append(f"| ARA server ({ara['processes']} processes; largest, sum) | – | {r['server_cpu_s']} | "
                         f"{ara['largest_peak_rss_mib']} | – | – | sum of RSS peak {ara['sum_rss_peak_mib']} MiB |")
        lines.append(f"| lab (for scale) | – | {r['lab_cpu_s']} | {r['lab_vm_hwm_mib']} | – | – | one process |")
        lines += ["", f"Whole controller tree: {r['tree_cpu_s']} CPU s; peak of the sum of RSS over its live "
                  f"processes {p['controller_sum_rss_peak_mib']} MiB; largest ru_maxrss of main and what it reaped "
                  f"{r['ru_maxrss_tree_mib']} MiB."]
        if r.get("recorded"):
            rec = r["recorded"]
            lines.append(f"ARA recorded: {rec['poll_results']}/{r['devices']} polled, {rec['results']}/"
                         f"{rec['expected_results']} results, {rec['status']}, summary record {rec['summary_record']}"
                         + ("" if rec["complete"] else f" **INCOMPLETE: {rec['why']}**") + ".")
        phases = r["sampling"]["main_phases"]
        if phases:
            lines += ["", "Main process by task (from the log's TASK lines):", "",
                      "| task | from s | to s | main CPU s | main RSS MiB at start → end |",
                      "| --- | ---: | ---: | ---: | --- |"]
            for ph in phases:
                lines.append(f"| {ph['task']} | {ph['from_s']} | {ph['to_s']} | {ph['main_cpu_s']} | "
                             f"{_fmt(ph['main_rss_start_mib'])} → {_fmt(ph['main_rss_end_mib'])} |")
        size = r.get("report_size")
        if size:
            lines += ["", f"Report on disk: {size['total_bytes'] / 2**20:.1f} MiB, {size['per_device_bytes'] / 1024:.1f} "
                      "KiB per device:", "", "| kind | files | MiB | KiB per device |", "| --- | ---: | ---: | ---: |"]
            for kind, k in size["kinds"].items():
                lines.append(f"| {kind} | {k['files']} | {k['bytes'] / 2**20:.2f} | {k['per_device_bytes'] / 1024:.2f} |")
        lines.append("")
    if data["growth"]:
        lines += ["### What grows (ARA off; larger size over smaller)", "",
                  "Ratios of per-device figures (1.0 = linear: the cost per device stays the same); memory as the "
                  "slope between the two sizes in KiB per added device (0 = flat).", "",
                  "| sizes | wall/device | tree CPU/device | lab CPU/device | render s/device | report bytes/device |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for g in data["growth"]:
            lines.append(f"| {g['from']} → {g['to']} | {g['wall_per_device_ratio']} | {g['tree_cpu_per_device_ratio']} "
                         f"| {_fmt(g['lab_cpu_per_device_ratio'])} | {_fmt(g['render_s_per_device_ratio'])} | "
                         f"{_fmt(g['report_bytes_per_device_ratio'])} |")
        lines += ["", "| sizes | process | CPU/device ratio | peak RSS KiB/device (ratio) | "
                  "private KiB/device (ratio; for the workers' sum: Pss) |",
                  "| --- | --- | ---: | --- | --- |"]
        for g in data["growth"]:
            for e in g["roles"]:
                lines.append(f"| {g['from']} → {g['to']} | {e['role']} | {_fmt(e.get('cpu_per_device_ratio'))} | "
                             f"{_fmt(e.get('rss_kib_per_device'))} ({_fmt(e.get('rss_ratio'), 'x')}) | "
                             f"{_fmt(e.get('private_kib_per_device'))} ({_fmt(e.get('private_ratio'), 'x')}) |")
        lines.append("")
    if data.get("findings"):
        lines += ["### Findings", "", *data["findings"], ""]
    lines += [results.checks(data), ""]
    return lines


# ---------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    parser = results.parser("scale_bench", __doc__)
    parser.add_argument("--quick", action="store_true", help="100 and 300 devices, ARA on at 100 (~3 min)")
    parser.add_argument("--sizes", help="comma-separated device counts (default 1000,3000,10000; quick 100,300)")
    parser.add_argument("--lab-size", type=int, help="devices in the lab (default: the largest size)")
    parser.add_argument("--ara-at", type=int, help="the one size run again with ARA on (default: the smallest; "
                        "0: none)")
    parser.add_argument("--sample-s", type=float, default=0.2, help="seconds between /proc samples (default 0.2)")
    parser.add_argument("--code", default="worktree",
                        help="what to run: the working tree (default), or a commit (HEAD, a hash) whose run files "
                             "are extracted to bench/work/scale/code-<commit> (git archive): one state of the code "
                             "while others edit the tree")
    parser.add_argument("--merge", type=Path, help="an earlier scale JSON whose runs (other sizes) join these")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="run nothing: write the Markdown of this scale JSON again (with --findings)")
    parser.add_argument("--findings", type=Path, help="with --render: a Markdown file of findings to add to both")
    parser.add_argument("--keep-reports", action="store_true", help="keep each run's report dir in bench/work/scale")
    parser.add_argument("--no-write", action="store_true", help="print the JSON, write no results files")
    return parser


def render_again(path: Path, findings: Path | None) -> int:
    """The Markdown of a scale JSON written again (the analysis redone), with a findings section."""
    record = json.loads(path.read_text())
    data = analyse(record["scale"])
    if findings:
        data["findings"] = findings.read_text().rstrip("\n").split("\n")
    path.write_text(json.dumps(record, indent=2) + "\n")
    md = path.with_suffix(".md")
    md.write_text("\n".join(results._page(record, [("scale", data, markdown)])) + "\n")
    print(f"results: {md}, {path.name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.render:
        return render_again(args.render, args.findings)
    sizes = sorted(int(x) for x in args.sizes.split(",")) if args.sizes else list(
        QUICK_SIZES if args.quick else DEFAULT_SIZES)
    ara_at = sizes[0] if args.ara_at is None else args.ara_at
    lab_size = max(args.lab_size or 0, *sizes)
    name = "scale-quick" if args.quick else "scale"
    work = args.work_dir.resolve() / name
    work.mkdir(parents=True, exist_ok=True)
    started = results.Started()
    earlier = json.loads(args.merge.read_text()) if args.merge else None
    data: dict = {"sizes": sizes, "lab_size": lab_size, "ara_at": ara_at, "lab": {}, "runs": [], "merged_from": None}
    if earlier:
        old = earlier["scale"]
        data["runs"] = [r for r in old["runs"] if r["devices"] not in sizes]
        data["merged_from"] = {"file": args.merge.name, "started": earlier.get("started"), "lab": old.get("lab"),
                               "sizes": sorted({r["devices"] for r in data["runs"]})}
    meta = started.meta(f"the monitor at {', '.join(map(str, sorted({*sizes, *(r['devices'] for r in data['runs'])})))} "
                        "devices: each controller process", results.command("scale_bench", argv), args.quick)

    def write() -> None:
        analyse(data)
        meta["total_s"] = round(time.monotonic() - started.clock, 1)
        if args.no_write:
            return
        json_path, md_path = results.write(args.results_dir, name, meta, [("scale", data, markdown)])
        print(f"results: {md_path}, {json_path.name}", flush=True)

    project = ROOT
    if args.code != "worktree":
        commit = subprocess.run(["git", "rev-parse", "--short", args.code], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        project = snapshot(commit, work / f"code-{commit}")
        data["code"] = {"commit": commit, "snapshot": str(project.relative_to(ROOT))}
        print(f"scale: running commit {commit}'s run files from {project}", flush=True)
    with Lab(count=lab_size, work_dir=work, ready_timeout_s=600) as lab:
        assert lab.startup is not None and lab.inventory is not None
        data["lab"] = {"ready": lab.startup.ready_line, "startup_s": lab.startup.wall_s, "devices": lab_size,
                       "network": NETWORK, "vm_hwm_mib": _mib(lab.startup.vm_hwm_kib),
                       "fd_limit": open(f"/proc/{lab.pid}/limits").read().split("Max open files")[1].split()[:2]}
        print(f"scale: lab {lab.startup.ready_line} (VmHWM {data['lab']['vm_hwm_mib']} MiB)", flush=True)
        plan = [(n, False) for n in sizes]
        if ara_at:
            at = sizes.index(ara_at) + 1 if ara_at in sizes else len(plan)
            plan.insert(at, (ara_at, True))
        for count, ara in plan:
            inventory = inventory_subset(lab.inventory.path, [h.name for h in lab.inventory.hosts[:count]],
                                         work / f"inventory-{count}.yml")
            row = run_once(lab, inventory, count, ara, work / "runs" / f"{count}-{'ara' if ara else 'off'}",
                           args.sample_s, args.keep_reports, project)
            data["runs"].append(row)
            p = row["processes"]
            print(f"scale: {count:6} dev ARA {'on ' if ara else 'off'}: wall {row['wall_s']:7.1f} s  tree cpu "
                  f"{row['tree_cpu_s']:7.1f}  main {p['main']['cpu_s']:6.1f} s {p['main']['peak_rss_mib']} MiB  "
                  f"workers {p['workers']['cpu_s']:6.1f} s  poller {(p['poller'] or {}).get('cpu_s')} s "
                  f"{(p['poller'] or {}).get('peak_rss_mib')} MiB  renderer {(p['renderer'] or {}).get('peak_rss_mib')} "
                  f"MiB  render {row['render_seconds']} s  lab {row['lab_cpu_s']:6.1f}  others {row['others_cpu_s']:6.1f}  "
                  f"ok {row['devices_ok']}/{count}  {'complete' if row['complete'] else 'INCOMPLETE'}", flush=True)
            data["runs"].sort(key=lambda r: (r["devices"], r["ara"]))
            write()
    write()
    if args.no_write:
        print(json.dumps(data, indent=2))
    if not data["checks"]["every_run_complete"]:
        print(f"FAILED: a scale run was incomplete (see {work / 'runs'})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
