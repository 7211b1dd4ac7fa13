"""What ARA's recording adds to a full monitor run (playbooks/monitor.yml), and whether it recorded everything.

    .venv/bin/python -m bench.ara_overhead                    # 1000 devices, latency 0 and 50 ms, x2, incl. offline
    .venv/bin/python -m bench.ara_overhead --quick            # 200 devices, no offline variant: under 3 minutes
    .venv/bin/python -m bench.ara_overhead --variants off,project,t4 --latency-ms 0 --repeat 3

Starts its own lab (127.87.0.0/16, state in bench/work/ara-overhead/) once per latency and runs the
project's playbooks/monitor.yml with the project's ansible.cfg (ANSIBLE_CONFIG), its own report
dir and the lab's inventory, once per variant and repeat, the variants interleaved:

* ``off``: ARA not loaded (ANSIBLE_CALLBACK_PLUGINS=/nonexistent, how a user switches it off);
* ``project``: the project's setting - ansible.cfg's [ara] and the server the
  johann.monitor.ara_server callback starts (its ``start_server()``, defaults untouched), on a
  fresh data dir and port (JOHANN_ARA_DATA_DIR, ARA_API_SERVER), started before the timed run;
* ``offline``: ARA's stock default (offline client, a fresh ARA_BASE_DIR): the "before" figure;
* ``postgresql``: a team's ARA (docs/ara.md): a fresh PostgreSQL cluster (Debian's, tools/postgres.py) and the
  plugin's ``start_server()`` on it with 4 gunicorn sync workers, ARA_CALLBACK_THREADS=4; its database checked
  the same way, and PostgreSQL's own CPU counted apart (``db_cpu_s``);
* the other names in VARIANTS: server options and ARA settings compared to find the project's.

Per run: wall time; CPU of ansible-playbook and its children (RUSAGE_CHILDREN); CPU of the ARA
server (gunicorn master and workers, /proc); peak RSS of ansible-playbook's main process (VmHWM,
sampled) and the largest of its children (ru_maxrss); the lab's CPU; the whole machine's busy
CPU over the run and the load average, so others' work on the shared cores shows. After every
ARA run its database is checked: playbook completed, one result per device for the polling task
and every other task's result, every device with host stats, the johann.summary record - a fast
but incomplete recording is a failure, not a win. Overhead = wall (and CPU) of a variant over the
median ``off`` run at the same latency.

Results: bench/results/<date>-ara[-quick].{md,json}; scratch in bench/work/ara-overhead/.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.metadata
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from bench import procfs, results
from bench.lab_process import DISCOVERY_CACHE, ROOT, RunningLab

NETWORK = "127.87.0.0/16"   # apart from the other benches (127.80), the demo (127.77) and the tests (127.78)
PLAYBOOK = ROOT / "playbooks" / "monitor.yml"
CONFIG = ROOT / "ansible.cfg"
TARGET_OVERHEAD = 0.25   # the issue: ARA's overhead at most 25% of a 1000-device run
POLL_TASK = "Read the device"
RUN_TIMEOUT_S = 900   # a run that takes longer is killed and fails
SUMMARY_KEY = "johann.summary"
PACKAGES = ("ara", "Django", "djangorestframework", "gunicorn", "ansible-core", "requests")

WAL = '@json {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"}'
WAL_IMMEDIATE = ('@json {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", '
                 '"transaction_mode": "IMMEDIATE", "timeout": 30}')

# name -> how it runs. kind: off | offline | project (the plugin's start_server defaults) | server
# (start_server with these gunicorn options and server env). client: ARA_* for the callback.
VARIANTS: dict[str, dict] = {
    "off": {"kind": "off", "what": "ARA off (ANSIBLE_CALLBACK_PLUGINS=/nonexistent)"},
    "off-worker": {"kind": "off", "what": "ARA off, device_info polling in Ansible's workers (poller=worker)",
                   "args": ["-e", "johann_poller=worker"]},
    "project": {"kind": "project", "what": "the project's setting (ansible.cfg [ara] + ara_server.start_server)"},
    "offline": {"kind": "offline", "what": "ARA's stock default: offline client, SQLite (the 'before')"},
    "postgresql": {"kind": "postgresql", "what": "ARA on PostgreSQL (tools/postgres.py): gunicorn 4 sync workers, "
                                                 "callback_threads 4 (make ara-start ARA_DB=postgresql)",
                   "workers": 4, "client": {"ARA_CALLBACK_THREADS": "4"}},
    "sync1": {"kind": "server", "what": "gunicorn 1 sync worker, callback_threads 0 (the setting before this bench)",
              "gunicorn": ["--workers", "1"], "server_env": {}, "client": {"ARA_CALLBACK_THREADS": "0"}},
    "sync1-t4": {"kind": "server", "what": "gunicorn 1 sync worker, callback_threads 4",
                 "gunicorn": ["--workers", "1"], "server_env": {}, "client": {"ARA_CALLBACK_THREADS": "4"}},
    "ka1": {"kind": "server", "what": "gunicorn 1 gthread worker, 1 thread (keep-alive), CONN_MAX_AGE, WAL; threads 0",
            "gunicorn": ["--workers", "1", "--worker-class", "gthread", "--threads", "1"],
            "server_env": {"ARA_DATABASE_CONN_MAX_AGE": "3600", "ARA_DATABASE_OPTIONS": WAL},
            "client": {"ARA_CALLBACK_THREADS": "0"}},
    "ka1-t4": {"kind": "server", "what": "gunicorn 1 gthread worker, 1 thread (keep-alive), CONN_MAX_AGE, WAL; "
                                         "callback_threads 4",
               "gunicorn": ["--workers", "1", "--worker-class", "gthread", "--threads", "1"],
               "server_env": {"ARA_DATABASE_CONN_MAX_AGE": "3600", "ARA_DATABASE_OPTIONS": WAL},
               "client": {"ARA_CALLBACK_THREADS": "4"}},
    "w2-imm-t4": {"kind": "server", "what": "gunicorn 2 sync workers, WAL + IMMEDIATE transactions + timeout 30, "
                                            "CONN_MAX_AGE; callback_threads 4",
                  "gunicorn": ["--workers", "2"],
                  "server_env": {"ARA_DATABASE_CONN_MAX_AGE": "3600", "ARA_DATABASE_OPTIONS": WAL_IMMEDIATE},
                  "client": {"ARA_CALLBACK_THREADS": "4"}},
    "sync1-nocontent": {"kind": "server", "what": "gunicorn 1 sync worker, callback_threads 0, "
                                                  "ARA_RECORD_TASK_CONTENT=false (no result content)",
                        "gunicorn": ["--workers", "1"], "server_env": {},
                        "client": {"ARA_CALLBACK_THREADS": "0", "ARA_RECORD_TASK_CONTENT": "false"}},
    "ka1-t4-nocontent": {"kind": "server", "what": "as ka1-t4, ARA_RECORD_TASK_CONTENT=false (no result content)",
                         "gunicorn": ["--workers", "1", "--worker-class", "gthread", "--threads", "1"],
                         "server_env": {"ARA_DATABASE_CONN_MAX_AGE": "3600", "ARA_DATABASE_OPTIONS": WAL},
                         "client": {"ARA_CALLBACK_THREADS": "4", "ARA_RECORD_TASK_CONTENT": "false"}},
}
DEFAULT_VARIANTS = ("off", "project", "offline")
QUICK_VARIANTS = ("off", "project")


def _parser() -> argparse.ArgumentParser:
    parser = results.parser("ara_overhead", __doc__)
    parser.add_argument("--quick", action="store_true", help="200 devices, latency 0 and 50 ms once each, "
                        "no offline variant (under 3 minutes)")
    parser.add_argument("--devices", type=int, help="lab size (default 1000, quick 200)")
    parser.add_argument("--latency-ms", default=None, help="comma-separated per-device latencies (default 0,50)")
    parser.add_argument("--repeat", type=int, help="runs of each variant per latency (default 2, quick 1)")
    parser.add_argument("--variants", help=f"comma-separated, from: {', '.join(VARIANTS)} "
                        f"(default {','.join(DEFAULT_VARIANTS)}; quick {','.join(QUICK_VARIANTS)})")
    parser.add_argument("--no-offline", action="store_true", help="leave out the offline variant (~5 min at 1000)")
    parser.add_argument("--serial-report", action="store_true",
                        help="make ansible-playbook see one CPU, so the report writes its pages in one process "
                             "(the workaround for a hang of its former fork Pool, fixed since)")
    parser.add_argument("--no-write", action="store_true", help="print the JSON, write no results files")
    return parser


class Lab(RunningLab):
    """bench.lab_process.RunningLab on this bench's own network."""

    def argv(self) -> list[str]:
        argv = super().argv()
        argv[argv.index("--network") + 1] = NETWORK
        return argv


def _plugin():
    """The project's ara_server callback module, for start_server() exactly as runs use it (tools/ara_server.py
    loads it by its FQCN, as make ara-start does)."""
    from tools import ara_server
    return ara_server.plugin()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


ORPHAN_WAIT_S = 40.0
PR_SET_CHILD_SUBREAPER = 36


def subreaper(on: bool) -> None:
    """Become (or stop being) the reaper of the orphans our children leave (Linux prctl)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0)


def reap_orphans(keep: set[int], wait_s: float = ORPHAN_WAIT_S):
    """Yield (pid, rusage) of each process reparented to this one (a child subreaper) as it ends, except ``keep``;
    after ``wait_s`` the ones still running are killed and reaped."""
    deadline = time.monotonic() + wait_s
    while left := [p for p in _children(os.getpid()) if p not in keep]:
        for pid in left:
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                done, _status, usage = os.wait4(pid, 0 if time.monotonic() > deadline else os.WNOHANG)
            except ChildProcessError:
                continue
            if done:
                yield done, usage
        time.sleep(0.05)


def recorded_cell(run: dict) -> str:
    """What ARA's database held after a run, for a results table ('–' when ARA was off)."""
    rec = run.get("recorded")
    if rec is None:
        return "–"
    return (f"{rec['poll_results']}/{run['devices']} polled, {rec['results']}/{rec['expected_results']} results, "
            f"{rec['hosts_with_stats']} stats, {rec['status']}, summary {rec['summary_record']}"
            + ("" if rec["complete"] else f" **INCOMPLETE: {rec['why']}**"))


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


class Server:
    """An ARA API server (gunicorn via the plugin's start_server) on a fresh data dir and port."""

    def __init__(self, data_dir: Path, gunicorn: list[str] | None, server_env: dict | None,
                 database: dict | None = None, workers: int | None = None):
        self.data_dir, self.gunicorn, self.server_env = data_dir, gunicorn, server_env
        self.database, self.workers = database, workers
        self.endpoint = f"http://127.0.0.1:{_free_port()}"
        self.pid = 0
        self.startup_s = 0.0

    def start(self) -> None:
        started = time.monotonic()
        problem = _plugin().start_server(self.endpoint, str(self.data_dir), 60, self.gunicorn, self.server_env,
                                         database=self.database, workers=self.workers)
        self.startup_s = round(time.monotonic() - started, 2)
        if problem:
            raise RuntimeError(problem)
        self.pid = int((self.data_dir / "gunicorn.pid").read_text())

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in [self.pid, *_children(self.pid)]:
            try:
                total += procfs.cpu_seconds(pid)
            except OSError:
                pass
        return total

    def stop(self) -> None:
        if not self.pid:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(100):
            if not os.path.exists(f"/proc/{self.pid}"):
                return
            time.sleep(0.1)


def machine_busy_s() -> float:
    return sum(procfs.core_busy_seconds(core) for core in range(os.cpu_count() or 1))


def check_database(path: Path, devices: int) -> dict:
    """What ARA recorded in its SQLite database, and whether it is the whole run."""
    if not path.exists():
        return {"complete": False, "why": f"no database at {path}"}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return _check(db.execute, "?", devices)


def check_postgres(cluster, devices: int) -> dict:
    """What ARA recorded in its PostgreSQL database (tools/postgres.py's Cluster), and whether it is the whole run."""
    with cluster.connect() as db:
        return _check(db.execute, "%s", devices)


def _check(execute, mark: str, devices: int) -> dict:
    """check_database's queries through one DB-API ``execute`` (``mark``: its parameter placeholder)."""
    db = SimpleNamespace(execute=lambda query, params=(): execute(query.replace("?", mark), params))
    playbooks = db.execute("select id, status from playbooks").fetchall()
    by_task = dict(db.execute("select t.name, count(*) from results r join tasks t on r.task_id = t.id "
                              "group by t.name").fetchall())
    results_n = db.execute("select count(*) from results").fetchone()[0]
    with_content = db.execute("select count(*) from results r join tasks t on r.task_id = t.id "
                              "where t.name = ? and length(r.content) > 64", (POLL_TASK,)).fetchone()[0]
    stats = db.execute("select count(*) from hosts where ok + changed + failed + skipped + unreachable > 0"
                       ).fetchone()[0]
    summary = db.execute("select count(*) from records where key = ? and length(value) > 0",
                         (SUMMARY_KEY,)).fetchone()[0]
    tasks = db.execute("select count(*) from tasks").fetchone()[0]
    # monitor.yml: the polling task on every device, then one result each for the tasks run once
    # (report, include, label, two records, debug, the skipped fail) = one per other task.
    expected = devices + (tasks - 1)
    row = {"playbooks": len(playbooks), "status": playbooks[0][1] if playbooks else None,
           "poll_results": by_task.get(POLL_TASK, 0), "results": results_n, "expected_results": expected,
           "tasks": tasks, "hosts_with_stats": stats, "summary_record": summary, "poll_with_content": with_content}
    why = []
    if len(playbooks) != 1 or row["status"] != "completed":
        why.append(f"playbook status {row['status']}")
    if row["poll_results"] != devices:
        why.append(f"{row['poll_results']}/{devices} polling results")
    if results_n != expected or any(count != 1 for name, count in by_task.items() if name != POLL_TASK):
        why.append(f"{results_n}/{expected} results")
    if stats < devices:
        why.append(f"{stats}/{devices} hosts with stats")
    row["complete"] = not why   # ARA's own recording of the run
    # the playbook's ara_record of the device summary (ignore_errors in the playbook): ARA's server refuses a
    # body over Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB, not an ARA setting) with 400
    row["summary_ok"] = summary == 1
    if summary != 1:
        why.append(f"{summary} {SUMMARY_KEY} records")
    row["why"] = "; ".join(why)
    return row


def _hwm_sampler(pid: int, out: dict, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            out["vm_hwm_kib"] = procfs.status_kib(pid, "VmHWM")
        except (OSError, KeyError):
            return
        stop.wait(0.25)


def _serial_report_hook(work: Path) -> Path:
    """A sitecustomize that makes os.cpu_count() 1 in ansible-playbook, so the report writes its device pages
    in one process: its fork Pool inside an Ansible worker hung after writing every page in 1000-device runs
    (2 of 2, 2026-11-29; since replaced by plain forked writers). The same in every variant; --serial-report."""
    hook = work / "serial-report"
    hook.mkdir(parents=True, exist_ok=True)
    (hook / "sitecustomize.py").write_text("import os\nos.cpu_count = lambda: 1\n")
    return hook


def run_watched(command: list[str], env: dict, log_path: Path, timeout_s: float,
                poll: float = 0.1, cwd: Path = ROOT) -> tuple[int, object, float, dict, bool]:
    """Run ``command`` in a session of its own, output to ``log_path``, sampling the memory high-water
    marks of its tree; killed (with its session) after ``timeout_s``.

    The processes the run leaves running when it ends (device_info's shared poller, which notices the
    run's end within a second; netcommon's ansible-connection daemons) are reparented to this process
    (a child subreaper while the command runs), waited for (at most ORPHAN_WAIT_S, then killed) and
    their CPU added: a run's CPU is that of everything it started.

    Returns the wait status, its rusage (ru_utime, ru_stime, ru_maxrss, orphans, and orphan_cpu: the orphans'
    part of the CPU), the wall seconds,
    the high-water marks and whether it timed out.
    """
    keep = set(_children(os.getpid()))
    subreaper(True)
    started = time.monotonic()
    try:
        with open(log_path, "w") as log:
            proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        hwm: dict = {}
        stop = threading.Event()
        sampler = threading.Thread(target=_hwm_sampler, args=(proc.pid, hwm, stop), daemon=True)
        sampler.start()
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout_s and not timed_out:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(poll)
        wall = time.monotonic() - started
        stop.set()
        sampler.join()
        total = SimpleNamespace(ru_utime=usage.ru_utime, ru_stime=usage.ru_stime, ru_maxrss=usage.ru_maxrss, orphans=0,
                                orphan_cpu=0.0)
        for _pid, orphan in reap_orphans(keep):
            total.ru_utime += orphan.ru_utime
            total.ru_stime += orphan.ru_stime
            total.orphan_cpu += orphan.ru_utime + orphan.ru_stime
            total.ru_maxrss = max(total.ru_maxrss, orphan.ru_maxrss)
            total.orphans += 1
    finally:
        subreaper(False)
    return status, total, wall, hwm, timed_out


def run_once(variant: str, lab: Lab, latency: float, index: int, work: Path, serial_report: bool = True) -> dict:
    spec = VARIANTS[variant]
    devices = lab.count
    run_dir = work / "runs" / f"lat{latency:g}-{index}-{variant}"
    subprocess.run(["rm", "-rf", str(run_dir)], check=True)
    run_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARA_", "ANSIBLE_", "JOHANN_ARA_"))}
    env.update({"ANSIBLE_CONFIG": str(CONFIG), "ANSIBLE_LOCAL_TEMP": str(run_dir / "tmp"),
                "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"})
    env.setdefault("JOHANN_DISCOVERY_CACHE_DIR", str(DISCOVERY_CACHE))   # not the user's ~/.cache
    server = None
    database = None
    cluster = None
    if spec["kind"] == "off":
        env["ANSIBLE_CALLBACK_PLUGINS"] = "/nonexistent"
    elif spec["kind"] == "offline":
        env.update({"ARA_API_CLIENT": "offline", "ARA_BASE_DIR": str(run_dir / "ara")})
        database = run_dir / "ara" / "ansible.sqlite"
    else:
        settings = None
        if spec["kind"] == "postgresql":
            cluster = _postgres().Cluster(run_dir / "pg")
            cluster.start("127.0.0.1", _free_port())
            settings = cluster.ara_settings()
        server = Server(run_dir / "ara-server", spec.get("gunicorn"), spec.get("server_env"), settings,
                        spec.get("workers"))
        try:
            server.start()
        except BaseException:
            if cluster:
                cluster.stop()
            raise
        env.update({"JOHANN_ARA_DATA_DIR": str(server.data_dir), "ARA_API_SERVER": server.endpoint,
                    "JOHANN_ARA_AUTOSTART": "false", **spec.get("client", {})})
        database = None if cluster else server.data_dir / "ansible.sqlite"
    db_bytes_before = _db_bytes(database, cluster)
    db_cpu_before = postgres_cpu_seconds(cluster) if cluster else 0.0
    if serial_report:
        env["PYTHONPATH"] = str(_serial_report_hook(work))
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(lab.inventory.path), str(PLAYBOOK),
               "-e", f"johann_report_dir={run_dir / 'report'}", *spec.get("args", [])]
    log_path = run_dir / "ansible.log"
    load_before = procfs.load_average()
    server_before = server.cpu_seconds() if server else 0.0
    lab_before = procfs.cpu_seconds(lab.pid)
    busy_before = machine_busy_s()
    # a hung run (not ARA's doing, so far: see the log) is killed and counts as a failed run
    status, usage, wall, hwm, timed_out = run_watched(command, env, log_path, RUN_TIMEOUT_S, poll=0.1)
    proc = subprocess.CompletedProcess(command, os.waitstatus_to_exitcode(status))
    row = {"variant": variant, "devices": devices, "latency_ms": latency, "repeat": index, "rc": proc.returncode,
           "wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
           "server_cpu_s": round(server.cpu_seconds() - server_before, 2) if server else None,
           "db_cpu_s": round(postgres_cpu_seconds(cluster) - db_cpu_before, 2) if cluster else None,
           "db_bytes_before": db_bytes_before, "db_bytes_after": _db_bytes(database, cluster),
           "server_startup_s": server.startup_s if server else None,
           "lab_cpu_s": round(procfs.cpu_seconds(lab.pid) - lab_before, 2),
           "machine_busy_s": round(machine_busy_s() - busy_before, 2),
           "controller_hwm_mib": round(hwm.get("vm_hwm_kib", 0) / 1024, 1),
           "children_max_rss_mib": round(usage.ru_maxrss / 1024, 1),
           "load_before": load_before, "load_after": procfs.load_average()}
    row["timed_out"] = timed_out
    row["others_cpu_s"] = round(row["machine_busy_s"] - row["cpu_s"] - (row["server_cpu_s"] or 0)
                                - (row["db_cpu_s"] or 0) - row["lab_cpu_s"], 1)
    if row["db_bytes_before"] is not None and row["db_bytes_after"] is not None:
        row["db_bytes_run"] = row["db_bytes_after"] - row["db_bytes_before"]   # what one run adds to the database
    text = log_path.read_text(errors="replace")
    row["ara_failed_calls"] = text.count("Failed to ")
    row["devices_ok"] = text.count(": ok=1 ")
    if server:
        server.stop()
        log = (server.data_dir / "server.log").read_text(errors="replace")
        row["server_errors"] = log.count("Traceback") + log.count("database is locked")
    if cluster is not None:
        try:
            row["recorded"] = check_postgres(cluster, devices)
        finally:
            cluster.stop()
    elif database is not None:
        row["recorded"] = check_database(database, devices)
    if "recorded" in row:
        row["complete"] = row["recorded"]["complete"] and row["rc"] == 0
        row["summary_ok"] = row["recorded"]["summary_ok"]
        row["summary_post_400"] = "400 | Failed to post on /api/v1/records" in text
    else:
        row["complete"] = row["rc"] == 0
    return row


def _postgres():
    """tools/postgres.py (a private PostgreSQL cluster from Debian's package)."""
    from tools import postgres
    return postgres


def postgres_cpu_seconds(cluster) -> float:
    """CPU of the cluster: the postmaster (with its reaped children: backends that ended) and its live children."""
    try:
        master = int((cluster.pgdata / "postmaster.pid").read_text().split()[0])
        with open(f"/proc/{master}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return 0.0
    total = sum(int(f) for f in fields[11:15]) / procfs.CLOCK_TICKS   # utime stime cutime cstime
    for pid in _children(master):
        with contextlib.suppress(OSError):
            total += procfs.cpu_seconds(pid)
    return total


def _db_bytes(database: Path | None, cluster) -> int | None:
    """The database's size on disk: pg_database_size, or the SQLite file (with a WAL beside it, if any)."""
    if cluster is not None:
        return cluster.database_size()
    if database is None or not database.exists():
        return None
    wal = database.with_name(database.name + "-wal")
    return database.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def summarise(runs: list[dict]) -> list[dict]:
    """Per latency and variant: medians, and overheads against the median 'off' run."""
    rows = []
    for latency in sorted({r["latency_ms"] for r in runs}):
        at = [r for r in runs if r["latency_ms"] == latency]
        off = [r for r in at if r["variant"] == "off"]
        off_wall, off_cpu = _median([r["wall_s"] for r in off]), _median([r["cpu_s"] for r in off])
        for variant in dict.fromkeys(r["variant"] for r in at):
            mine = [r for r in at if r["variant"] == variant]
            wall, cpu = _median([r["wall_s"] for r in mine]), _median([r["cpu_s"] for r in mine])
            server = _median([r["server_cpu_s"] + (r.get("db_cpu_s") or 0) for r in mine
                              if r["server_cpu_s"] is not None])
            row = {"variant": variant, "latency_ms": latency, "devices": mine[0]["devices"], "runs": len(mine),
                   "wall_s": [r["wall_s"] for r in mine], "wall_median_s": wall, "cpu_median_s": cpu,
                   "server_cpu_median_s": server, "controller_hwm_mib": max(r["controller_hwm_mib"] for r in mine),
                   "children_max_rss_mib": max(r["children_max_rss_mib"] for r in mine),
                   "complete": all(r["complete"] for r in mine),
                   "summary_ok": all(r.get("summary_ok", True) for r in mine),
                   "others_cpu_s": [r["others_cpu_s"] for r in mine]}
            if variant != "off" and off_wall:
                row["overhead_wall"] = round(wall / off_wall - 1, 3)
                row["overhead_cpu"] = round((cpu + (server or 0)) / off_cpu - 1, 3)
            rows.append(row)
    return rows


def run(devices: int, latencies: list[float], repeat: int, variants: list[str], work: Path,
        serial_report: bool = True) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    runs: list[dict] = []
    labs = {}
    for latency in latencies:
        lab_work = work / f"lab-{latency:g}"
        lab_work.mkdir(parents=True, exist_ok=True)
        with Lab(count=devices, work_dir=lab_work, latency_ms=latency) as lab:
            labs[str(latency)] = lab.startup.ready_line if lab.startup else ""
            print(f"ara: lab {lab.startup.ready_line if lab.startup else ''} (latency {latency:g} ms)", flush=True)
            for index in range(repeat):
                # interleaved, and in turned order each round, so drifts in outside load spread over all
                order = variants if index % 2 == 0 else [variants[0], *reversed(variants[1:])]
                for variant in order:
                    if variant == "offline" and (index or latency != latencies[0]):
                        continue   # ~5 min at 1000 devices: once, at the first latency
                    row = run_once(variant, lab, latency, index, work, serial_report)
                    runs.append(row)
                    print(f"ara: {variant:18} {devices} dev {latency:g} ms: wall {row['wall_s']:7.1f} s  "
                          f"cpu {row['cpu_s']:6.1f}  server {row['server_cpu_s'] or 0:5.1f}  "
                          f"lab {row['lab_cpu_s']:5.1f}  others {row['others_cpu_s']:6.1f}  "
                          f"load {row['load_before'][0]:.1f}  "
                          f"{'complete' if row['complete'] else 'INCOMPLETE ' + row.get('recorded', {}).get('why', 'rc')}",
                          flush=True)
    summary = summarise(runs)
    project = [r for r in summary if r["variant"] == "project" and "overhead_wall" in r]
    checks = {"every_ara_run_complete": all(r["complete"] for r in runs),
              "every_summary_recorded": all(r.get("summary_ok", True) for r in runs)}
    if project:
        checks["project_overhead_at_most_25_percent"] = all(r["overhead_wall"] <= TARGET_OVERHEAD for r in project)
    return {"devices": devices, "latencies_ms": latencies, "repeat": repeat, "variants": variants,
            "what": {v: VARIANTS[v]["what"] for v in variants},
            "settings": {v: {k: VARIANTS[v][k] for k in ("gunicorn", "server_env", "client") if k in VARIANTS[v]}
                         for v in variants},
            "project_server": {"gunicorn": _plugin().SERVER_OPTIONS, "server_env": _plugin().SERVER_ENV},
            "packages": {name: _version(name) for name in PACKAGES}, "labs": labs,
            "summary": summary, "runs": runs, "checks": checks}


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0%}"


def markdown(data: dict) -> list[str]:
    lines = [f"## ARA's overhead on playbooks/monitor.yml ({data['devices']} devices)", "",
             "Overhead = the variant's median wall (CPU: ansible-playbook + children + ARA server) over the median "
             "run with ARA off at the same latency. Target: at most "
             f"{TARGET_OVERHEAD:.0%} of the run. Complete = playbook completed, one result per device and task, "
             f"hosts with stats; summary record = the playbook's {SUMMARY_KEY} ara_record stored.", "",
             "| variant | devices | latency ms | runs | wall s (each) | overhead wall | CPU s | overhead CPU | "
             "server CPU s | controller peak RSS MiB | max child RSS MiB | others' CPU s | complete | summary record |",
             "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"]
    for r in data["summary"]:
        lines.append(f"| {r['variant']} | {r['devices']} | {r['latency_ms']:g} | {r['runs']} | "
                     f"{r['wall_median_s']} ({' / '.join(map(str, r['wall_s']))}) | {_pct(r.get('overhead_wall'))} | "
                     f"{r['cpu_median_s']} | {_pct(r.get('overhead_cpu'))} | {r['server_cpu_median_s'] or '–'} | "
                     f"{r['controller_hwm_mib']} | {r['children_max_rss_mib']} | "
                     f"{' / '.join(map(str, r['others_cpu_s']))} | {'yes' if r['complete'] else '**NO**'} | "
                     f"{'yes' if r['summary_ok'] else '**NO**'} |")
    lines += ["", "Variants:", ""]
    for name, what in data["what"].items():
        settings = data["settings"].get(name)
        lines.append(f"* `{name}`: {what}" + (f" - `{json.dumps(settings)}`" if settings else ""))
    lines += [f"* the project's server now: `{json.dumps(data['project_server'])}`", "",
              "Every run (load average before it; others' CPU = machine busy - ansible - server - lab):", "",
              "| variant | latency | # | wall s | CPU s | server CPU s | server start s | lab CPU s | others' CPU s | "
              "load | recorded |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    lines += [f"| {r['variant']} | {r['latency_ms']:g} | {r['repeat']} | {r['wall_s']} | {r['cpu_s']} | "
              f"{results.cell(r['server_cpu_s'])} | {results.cell(r['server_startup_s'])} | {r['lab_cpu_s']} | "
              f"{r['others_cpu_s']} | {r['load_before'][0]} | {recorded_cell(r)} |" for r in data["runs"]]
    lines += ["", results.checks(data), ""]
    return lines


def options(args: argparse.Namespace) -> tuple[int, list[float], int, list[str]]:
    devices = args.devices or (200 if args.quick else 1000)
    latencies = [float(x) for x in (args.latency_ms or "0,50").split(",")]
    repeat = args.repeat or (1 if args.quick else 2)
    variants = (args.variants.split(",") if args.variants
                else list(QUICK_VARIANTS if args.quick else DEFAULT_VARIANTS))
    if args.no_offline:
        variants = [v for v in variants if v != "offline"]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    if "off" not in variants:
        variants.insert(0, "off")
    return devices, latencies, repeat, variants


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    devices, latencies, repeat, variants = options(args)
    started = results.Started()
    data = run(devices, latencies, repeat, variants, args.work_dir.resolve() / "ara-overhead",
               args.serial_report)
    data["serial_report"] = args.serial_report
    if args.no_write:
        print(json.dumps(data, indent=2))
    else:
        meta = started.meta(f"ARA's overhead on a {devices}-device monitor run",
                            results.command("ara_overhead", argv), args.quick)
        json_path, md_path = results.write(args.results_dir, "ara-quick" if args.quick else "ara", meta,
                                           [("ara", data, markdown)])
        print(f"results: {md_path} and {json_path.name}")
    for r in data["summary"]:
        if r["variant"] != "off":
            print(f"ara: {r['variant']} at {r['latency_ms']:g} ms: overhead {_pct(r.get('overhead_wall'))} wall, "
                  f"{_pct(r.get('overhead_cpu'))} CPU, {'complete' if r['complete'] else 'INCOMPLETE'}")
    if not data["checks"]["every_ara_run_complete"]:
        print("FAILED: an ARA run recorded incompletely", file=sys.stderr)
        return 1
    if not data["checks"]["every_summary_recorded"]:
        print(f"FAILED: the {SUMMARY_KEY} record is missing (400 from ARA's server: Django's 2.5 MB body limit?)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
