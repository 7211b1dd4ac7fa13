"""The chaos suite's controller cases: ARA hung and killed, the report directory read-only and full,
SIGINT/SIGTERM mid-poll and mid-report, the lab restarted and the shared poller killed mid-run."""
from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

from bench import ara_overhead, chaos_cases
from bench.chaos_run import POLLER_MARK, Lab, _ended, _hosts, _proc_table, judge_devices, over_bound, run

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
