"""make chaos: the monitor against devices and a controller that misbehave (issue 12).

Every case runs the real ``playbooks/monitor.yml`` (ARA off unless the case is about ARA)
against a lab over TLS, and records its wall time, the peak RSS of every controller process
(Ansible's main process, its workers and report writers, the shared poller), the devices'
statuses and causes, and what was lost.

* device cases (bench/chaos_cases.py): a few healthy devices plus one that trickles, floods or
  lies; every healthy device must be read exactly (serial, model, version against the lab's
  ground truth), the sick one must carry its named cause;
* controller cases: ARA's server hung (SIGSTOP) and killed mid-run, the report directory read-only
  and full (tmpfs mounts), SIGINT to the run's process group and SIGTERM to ansible-playbook
  mid-poll and mid-report (the previous report must stay whole, no temp files or poller left),
  the lab restarted mid-run, the shared poller killed mid-run;
* the fleet: 1000 devices with 20% faulty of every kind against 1000 healthy ones.

Results: ``bench/results/<date>-chaos.{md,json}``; runs and logs in ``bench/work/chaos/``.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/chaos.py` from anywhere

from bench import ara_overhead, chaos_cases, procfs, results  # noqa: E402
from bench.lab_process import ROOT, RunningLab, inventory_subset  # noqa: E402

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
    fleet = report / "fleet.json"
    if not fleet.exists():
        return {}
    return json.loads(fleet.read_text())["devices"]


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


# ---------------------------------------------------------------- the device cases


def device_cases(lab: Lab, work: Path, names: list[str], deadline: float) -> list[dict]:
    healthy = [h for h in _hosts(lab) if chaos_cases.case_of(h) is None]
    rows = []
    for name in names:
        case = chaos_cases.by_name()[name]
        hosts = [*healthy, name]
        outcome = run(lab, work / "devices" / name, limit=",".join(hosts), deadline=deadline)
        problems = judge_devices(lab, outcome, hosts, deadline) + over_bound(outcome) + _ended(outcome)
        rows.append({"case": name, "what": case.what, "faults": case.faults, "wall_s": outcome["wall_s"],
                     "rc": outcome["rc"], "peak_rss_mib": outcome["peak_rss_mib"],
                     "device": summary_of(outcome, [name])[name], "healthy_exact": len(healthy) - sum(
                         1 for p in problems if not p.startswith(name)), "healthy": len(healthy),
                     "lost": problems or ["nothing"], "ok": not problems})
        print(f"chaos: {name}: {outcome['wall_s']} s, {rows[-1]['device']['status']}, lost: {rows[-1]['lost']}",
              flush=True)
    return rows


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


# ---------------------------------------------------------------- the controller cases


def _fingerprint(report: Path) -> dict[str, str]:
    return {str(p.relative_to(report)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(report.rglob("*")) if p.is_file()}


def _debris(report: Path) -> list[str]:
    """Temporary files and staging directories a run left in the report directory."""
    return sorted(str(p.relative_to(report)) for p in report.rglob("*")
                  if p.name.endswith(".tmp") or ".staging" in p.name or p.name.startswith(".johann-"))


def _consistent(report: Path) -> str | None:
    """Every device in the index has its page, and every page is in the index (a report never half new)."""
    index = report / "index.html"
    if not index.exists():
        return "no index.html"
    text = index.read_text(errors="replace")
    pages = {p.name for p in (report / "devices").glob("*.html")}
    linked = {part.split('"')[0].split("/")[-1] for part in text.split('href="devices/')[1:]}
    if linked != pages:
        return f"index links {len(linked)} pages, {len(pages)} on disk ({sorted(linked ^ pages)[:4]})"
    return None


def _signal_case(lab: Lab, work: Path, name: str, needle: str, how: str, hosts: str, delay: float,
                 deadline: float, extra: list[str] | None = None) -> dict:
    """A previous report, then a run stopped by a signal at ``needle``: what is left must be whole."""
    run_dir = work / "controller" / name
    first = run(lab, run_dir, limit=hosts, deadline=deadline, extra=extra)
    before = _fingerprint(Path(first["report"]))

    def send(proc: subprocess.Popen) -> str:
        if how == "SIGINT":   # Ctrl-C: the terminal signals the whole foreground process group
            os.killpg(proc.pid, signal.SIGINT)
        else:                 # a service manager or a job runner: the main process
            proc.send_signal(signal.SIGTERM)
        return f"{how} sent"

    second = run(lab, run_dir, limit=hosts, deadline=deadline, extra=extra, trigger=(needle, delay, send))
    report = Path(second["report"])
    after = _fingerprint(report)
    lost = []
    if after != before:
        problem = _consistent(report)
        lost.append("previous report replaced" + (f", and not consistent: {problem}" if problem else
                                                  " by a complete new one"))
    debris = _debris(report)
    lost += [f"left in the report directory: {debris[:5]}"] if debris else []
    lost += [f"left running: {second['left_running']}"] if second["left_running"] else []
    lost += over_bound(second)
    unchanged = after == before
    ok = (unchanged or _consistent(report) is None) and not debris and not second["left_running"]
    return {"case": name, "what": f"{how} {'to the process group' if how == 'SIGINT' else 'to ansible-playbook'} "
                                  f"after '{needle}'", "wall_s": second["wall_s"], "rc": second["rc"],
            "fired_at_s": second["trigger"].get("at_s"), "peak_rss_mib": second["peak_rss_mib"],
            "previous_report": "unchanged" if unchanged else "replaced", "lost": [x for x in lost if
                                                                              "by a complete new one" not in x]
            or ["nothing"], "ok": ok}


SLOW_DEVICE_PAGE = ('{% extends "base.html" %}{% block main %}{% for i in range(4000000) %}{% endfor %}'
                    '<h1>{{ d.host }}</h1>{% endblock %}')


def _slow_templates(work: Path) -> Path:
    """A device page that takes a second or two to render, so that a signal lands while the report is written."""
    templates = work / "slow-templates"
    templates.mkdir(parents=True, exist_ok=True)
    (templates / "device.html").write_text(SLOW_DEVICE_PAGE)
    return templates


def _mount(path: Path, size: str) -> str | None:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                          text=True, check=False)
    return None if done.returncode == 0 else (done.stderr or done.stdout).strip()


def _filesystem_case(lab: Lab, work: Path, name: str, hosts: str, deadline: float) -> dict:
    """The report directory read-only, or full: the task fails naming it; the previous report is unchanged."""
    run_dir = work / "controller" / name
    mount_point = run_dir / "report"
    problem = _mount(mount_point, "64m")
    if problem:
        return {"case": name, "what": "report directory on a tmpfs", "ok": False,
                "lost": [f"not run: mount refused ({problem})"]}
    try:
        first = run(lab, run_dir, limit=hosts, deadline=deadline)
        before = _fingerprint(mount_point)
        if name == "report-dir-read-only":
            subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)
        else:   # fill it: the next report cannot be written
            with open(mount_point / "filler", "wb") as filler, contextlib.suppress(OSError):
                while True:
                    filler.write(b"\0" * (1 << 20))
            before = _fingerprint(mount_point)
        second = run(lab, run_dir, limit=hosts, deadline=deadline)
        after = _fingerprint(mount_point)
        text = Path(second["log"]).read_text(errors="replace")
        message = next((line.strip()[:400] for line in text.splitlines() if "cannot write the report" in line), None)
        lost = [] if after == before else ["the previous report changed"]
        lost += [] if message else ["no message naming the report directory"]
        lost += [f"left in the report directory: {_debris(mount_point)[:5]}"] if _debris(mount_point) else []
        return {"case": name, "what": "report directory " + ("remounted read-only" if "only" in name else
                                                            "on a full 64 MiB tmpfs"),
                "wall_s": second["wall_s"], "rc": second["rc"], "peak_rss_mib": second["peak_rss_mib"],
                "message": message, "first_rc": first["rc"], "lost": lost or ["nothing"], "ok": not lost}
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False, capture_output=True)


def _ara_case(lab: Lab, work: Path, name: str, hosts: str, deadline: float) -> dict:
    """ARA's server SIGSTOPped or SIGKILLed as the devices are read: the run and its report go on."""
    run_dir = work / "controller" / name
    server = ara_overhead.Server(run_dir / "ara-server", None, None)
    server.start()
    pids = [server.pid, *ara_overhead._children(server.pid)]
    how = signal.SIGSTOP if name == "ara-hung" else signal.SIGKILL

    def hit(_proc: subprocess.Popen) -> str:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, how)
        return f"{how.name} to ARA's server"

    env = {"ARA_API_SERVER": server.endpoint, "JOHANN_ARA_DATA_DIR": str(server.data_dir),
           "JOHANN_ARA_AUTOSTART": "false"}
    try:
        outcome = run(lab, run_dir, limit=hosts, deadline=deadline, ara=True, env=env,
                      trigger=("TASK [Read the device]", 0.0, hit))
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
    problems = _ended(outcome) + over_bound(outcome)
    problems += [] if outcome["records"] else ["no report"]
    return {"case": name, "what": f"{how.name} to ARA's API server as the devices are read",
            "wall_s": outcome["wall_s"], "rc": outcome["rc"], "peak_rss_mib": outcome["peak_rss_mib"],
            "lost": problems or ["the rest of the run's ARA recording and the report's history (named in the run's "
                                 "warnings and the report)"], "ok": not problems}


def _restart_case(lab: Lab, work: Path, hosts: str, deadline: float) -> dict:
    run_dir = work / "controller" / "lab-restarted"
    outcome = run(lab, run_dir, limit=hosts, deadline=deadline,
                  trigger=("TASK [Read the device]", 0.3, lambda _p: f"lab down for {lab.restart()} s"))
    statuses = Counter(r.get("status") for r in outcome["records"].values())
    problems = _ended(outcome) + over_bound(outcome) + ([] if outcome["records"] else ["no report"])
    cut = {h: (r.get("message") or "")[:160] for h, r in outcome["records"].items()
           if r.get("status") != "ok" and chaos_cases.case_of(h) is None}
    return {"case": "lab-restarted", "what": "the lab stopped and started again as the devices are read",
            "wall_s": outcome["wall_s"], "rc": outcome["rc"], "peak_rss_mib": outcome["peak_rss_mib"],
            "trigger": outcome["trigger"], "statuses": dict(statuses), "cut": cut,
            "lost": problems or ([f"{len(cut)} healthy devices read while the lab was down, each with its cause: "
                                  + "; ".join(f"{h}: {m}" for h, m in list(cut.items())[:2])] if cut else
                                 ["nothing"]), "ok": not problems}


def _poller_case(lab: Lab, work: Path, hosts: str, deadline: float) -> dict:
    run_dir = work / "controller" / "poller-killed"

    def kill_poller(_proc: subprocess.Popen) -> str:
        killed = []
        for pid in _proc_table():
            with contextlib.suppress(OSError):
                if POLLER_MARK in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
        return f"SIGKILL to the poller {killed}"

    outcome = run(lab, run_dir, limit=hosts, deadline=deadline, trigger=("TASK [Read the device]", 1.0, kill_poller))
    problems = _ended(outcome) + over_bound(outcome) + ([] if outcome["records"] else ["no report"])
    problems += judge_devices(lab, outcome, hosts.split(","), deadline)   # the workers poll in its place
    statuses = Counter(r.get("status") for r in outcome["records"].values())
    return {"case": "poller-killed", "what": "SIGKILL to the shared poller as the devices are read",
            "wall_s": outcome["wall_s"], "rc": outcome["rc"], "peak_rss_mib": outcome["peak_rss_mib"],
            "trigger": outcome["trigger"], "statuses": dict(statuses), "lost": problems or ["nothing"],
            "ok": not problems}


def controller_cases(lab: Lab, work: Path, names: list[str], deadline: float) -> list[dict]:
    healthy = [h for h in _hosts(lab) if chaos_cases.case_of(h) is None]
    hosts = ",".join([*healthy, "drip-one"])   # one slow device keeps the poll going for its deadline
    rows = []
    for name in names:
        if name in ("sigint-poll", "sigterm-poll"):
            row = _signal_case(lab, work, name, "TASK [Read the device]",
                               "SIGINT" if name.startswith("sigint") else "SIGTERM", hosts, 1.0, deadline)
        elif name in ("sigint-report", "sigterm-report"):
            row = _signal_case(lab, work, name, "TASK [Write the report]", "SIGINT" if name.startswith("sigint")
                               else "SIGTERM", ",".join(healthy), 0.5, deadline,
                               extra=["-e", f"johann_report_templates={_slow_templates(work)}"])
        elif name.startswith("report-dir"):
            row = _filesystem_case(lab, work, name, ",".join(healthy), deadline)
        elif name.startswith("ara"):
            row = _ara_case(lab, work, name, hosts, deadline)
        elif name == "lab-restarted":
            row = _restart_case(lab, work, hosts, deadline)
        elif name == "poller-killed":
            row = _poller_case(lab, work, hosts, deadline)
        else:
            raise SystemExit(f"unknown controller case {name}")
        rows.append(row)
        print(f"chaos: {name}: {row.get('wall_s')} s, lost: {row['lost']}", flush=True)
    return rows


CONTROLLER_CASES = ("ara-hung", "ara-killed", "report-dir-read-only", "report-dir-full", "sigint-poll",
                    "sigterm-poll", "sigint-report", "sigterm-report", "lab-restarted", "poller-killed")


# ---------------------------------------------------------------- 1000 devices, 20% faulty


def fleet_stage(work: Path, devices: int, deadline: float) -> dict:
    """``devices`` healthy devices, and the same number with 20% of them faulty (every case alike)."""
    faulty_each = max(1, round(devices * 0.2 / len(chaos_cases.CASES)))
    faulty = faulty_each * len(chaos_cases.CASES)
    healthy_each = -(-devices // len(chaos_cases.HEALTHY))
    fleet_file = chaos_cases.write_fleet(work / "fleet-big.yml", network=NETWORK, healthy=healthy_each,
                                         copies=faulty_each)
    lab = start_lab(work / "big", fleet_file)
    try:
        names = _hosts(lab)
        healthy = [h for h in names if chaos_cases.case_of(h) is None]
        sick = [h for h in names if chaos_cases.case_of(h) is not None]
        all_healthy, mixed = healthy[:devices], healthy[:devices - faulty] + sick
        inventory = work / "big" / "lab" / "inventory.yml"
        base = run(lab, work / "big" / "healthy", inventory=inventory_subset(inventory, all_healthy, work / "big/healthy.yml"),
                   deadline=deadline)
        chaos = run(lab, work / "big" / "faulty", inventory=inventory_subset(inventory, mixed, work / "big/faulty.yml"),
                    deadline=deadline)
        problems = judge_devices(lab, chaos, mixed, deadline)
        base_problems = judge_devices(lab, base, all_healthy, deadline)
    finally:
        lab.stop()
    causes = Counter(chaos_cases.case_of(h).name for h in sick
                     if chaos_cases.judge(h, chaos["records"].get(h), deadline) is None)
    return {"devices": devices, "faulty": faulty, "faulty_per_case": faulty_each, "deadline_s": deadline,
            "healthy_run": _brief(base), "faulty_run": _brief(chaos),
            "extra_wall_s": round(chaos["wall_s"] - base["wall_s"], 1),
            "statuses": dict(Counter(r.get("status") for r in chaos["records"].values())),
            "causes_named": dict(sorted(causes.items())), "problems": problems[:40], "problem_count": len(problems),
            "healthy_run_problems": base_problems[:10],
            "ok": not problems and not base_problems and chaos["wall_s"] <= base["wall_s"] + 2 * deadline + 30}


def _brief(outcome: dict) -> dict:
    return {k: outcome[k] for k in ("rc", "wall_s", "peak_rss_mib", "timed_out", "left_running")} | {
        "records": len(outcome["records"])}


# ---------------------------------------------------------------- the page


def _rss(peaks: dict | None) -> str:
    return ", ".join(f"{role} {mib:g}" for role, mib in (peaks or {}).items()) or "-"


def markdown(data: dict) -> list[str]:
    lines = ["## Devices that misbehave", "",
             f"Each case: {data['healthy_per_case']} healthy devices and the sick one, one run of `playbooks/monitor.yml` "
             f"(ARA off, device deadline {data['deadline_s']:g} s, max_reply_size 64 MiB). Peak RSS in MiB by process "
             "role (main: ansible-playbook; workers: its forks and the report's page writers; poller: the shared "
             "poller).", "",
             "| case | what the device does | wall s | status | cause named | peak RSS MiB | lost |",
             "| --- | --- | ---: | --- | --- | --- | --- |"]
    for row in data["devices"]:
        lines.append(f"| {row['case']} | {row['what']} | {row['wall_s']} | {row['device']['status']} | "
                     f"{row['device']['cause'][:140].replace('|', '/')} | {_rss(row['peak_rss_mib'])} | "
                     f"{'; '.join(row['lost'])[:200]} |")
    lines += ["", "## The controller misbehaves", "", "| case | what | wall s | peak RSS MiB | lost |",
              "| --- | --- | ---: | --- | --- |"]
    for row in data["controller"]:
        lines.append(f"| {row['case']} | {row.get('what', '')} | {row.get('wall_s', '-')} | "
                     f"{_rss(row.get('peak_rss_mib'))} | {'; '.join(row['lost'])[:300]} |")
    big = data.get("fleet")
    if big:
        lines += ["", f"## {big['devices']} devices, {big['faulty']} of them faulty ({big['faulty_per_case']} of each "
                  "case)", "", "| run | wall s | peak RSS MiB | records |", "| --- | ---: | --- | ---: |",
                  f"| all healthy | {big['healthy_run']['wall_s']} | {_rss(big['healthy_run']['peak_rss_mib'])} | "
                  f"{big['healthy_run']['records']} |",
                  f"| 20% faulty | {big['faulty_run']['wall_s']} | {_rss(big['faulty_run']['peak_rss_mib'])} | "
                  f"{big['faulty_run']['records']} |", "",
                  f"The faulty run took {big['extra_wall_s']} s more (the device deadline is {big['deadline_s']:g} s). "
                  f"Statuses: {big['statuses']}. Causes named as expected, per case: {big['causes_named']}. "
                  f"Problems: {big['problem_count']}" + (f" (first: {big['problems'][:3]})" if big["problems"] else "")
                  + "."]
    failed = [r["case"] for r in [*data["devices"], *data["controller"]] if not r["ok"]]
    lines += ["", f"Cases not as expected: {', '.join(failed) or 'none'}."]
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/chaos.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deadline", type=float, default=60.0, help="restconf_deadline of the runs (default 60)")
    parser.add_argument("--cases", help="comma-separated case names (default: every device and controller case; "
                                        "none: only the fleet)")
    parser.add_argument("--fleet-devices", type=int, default=1000, help="size of the 20%%-faulty fleet (0: skip)")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "bench" / "work" / "chaos")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    chosen = [] if args.cases == "none" else args.cases.split(",") if args.cases else [*chaos_cases.by_name(),
                                                                                       *CONTROLLER_CASES]
    unknown = set(chosen) - set(chaos_cases.by_name()) - set(CONTROLLER_CASES)
    if unknown:
        raise SystemExit(f"unknown cases {sorted(unknown)}")
    work = args.work_dir.resolve()
    subprocess.run(["rm", "-rf", str(work)], check=True)
    busy = procfs.machine_busy()
    started, load_start, date = time.monotonic(), procfs.load_average(), datetime.now(UTC)
    fleet_file = chaos_cases.write_fleet(work / "fleet.yml", network=NETWORK, healthy=1)
    lab = start_lab(work / "small", fleet_file)
    try:
        data = {"deadline_s": args.deadline, "healthy_per_case": len(chaos_cases.HEALTHY),
                "devices": device_cases(lab, work, [c for c in chosen if c in chaos_cases.by_name()], args.deadline),
                "controller": controller_cases(lab, work, [c for c in chosen if c in CONTROLLER_CASES],
                                               args.deadline)}
    finally:
        lab.stop()
    if args.fleet_devices:
        data["fleet"] = fleet_stage(work, args.fleet_devices, args.deadline)
        print(f"chaos: fleet: {data['fleet']['faulty_run']['wall_s']} s against {data['fleet']['healthy_run']['wall_s']}"
              f" s healthy; problems {data['fleet']['problem_count']}", flush=True)
    meta = {"started": date, "title": "chaos: devices and a controller that misbehave", "mode": "default",
            "command": "bench/chaos.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "total_s": round(time.monotonic() - started, 1), "load_average_start": load_start,
            "busy_before": round(busy, 3)}
    json_path, md_path = results.write(args.results_dir, "chaos", meta, [("chaos", data, markdown)])
    print(f"results: {md_path}, {json_path.name}")
    failed = [r["case"] for r in [*data["devices"], *data["controller"]] if not r["ok"]]
    if data.get("fleet") and not data["fleet"]["ok"]:
        failed.append("fleet")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
