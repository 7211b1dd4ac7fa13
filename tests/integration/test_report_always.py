"""The report is always written, and never half: real runs against the lab where device_info fails
in every way, the run is stopped (SIGTERM, SIGINT, SIGKILL) while the report is written, a worker
dies mid-run, or the report directory cannot be written."""
from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import ARA_OFF, run_playbook
from tests.lablib import ROOT

MONITOR = ROOT / "playbooks/monitor.yml"
SHAPE = "the device_info result for this host has an unexpected shape"
CRAFTED = {   # what another task registered under johann_device would give
    "fuzz": "garbage text",
    "fuzzgx": {"changed": False, "device": [1, 2]},
    "rebooter": {"changed": False, "device_json": "{not json"},
    "oldmedia": {"changed": False, "device_json": "[1, 2]"},
    "reset": {"unreachable": True, "changed": False, "msg": "Failed to connect to the host via ssh: timed out"},
    "malformed": {"failed": True, "changed": False, "msg": "Unexpected failure during module execution: boom",
                  "exception": "Traceback (most recent call last):\nRuntimeError: boom"},
    "err500": {"changed": False, "ansible_facts": {"x": 1}},
}
CAUSES = {
    "c9300": "the device_info task failed: johann.monitor.device_info: argument 'port' is of type str and we were "
             "unable to convert to int: \"'notaport'\" cannot be converted to an int",
    "csr": "the device_info task failed: johann.monitor.device_info: no host: set `host`, or ansible_host in the "
           "inventory",
    "hang": "the device_info task timed out after 1 s (Ansible's task timeout, a backstop above the device's "
            "deadline: the read did not end in time)",
    "writer": "the device_info task was skipped for this host (Conditional result was False)",
    "ghost": "no device_info result for this host in this run",
    "fuzz": f"{SHAPE}: it is a string, not a mapping",
    "fuzzgx": f"{SHAPE}: device is a list, not a mapping",
    "rebooter": f"{SHAPE}: device_json is not valid JSON (Expecting property name enclosed in double quotes: "
                "line 1 column 2 (char 1))",
    "oldmedia": f"{SHAPE}: device_json holds a list, not an object",
    "reset": "the device_info task could not run, Ansible found the host unreachable: Failed to connect to the host "
             "via ssh: timed out",
    "malformed": "the device_info task failed: Unexpected failure during module execution: boom",
    "err500": f"{SHAPE}: it has no device record",
    "gxwriter": f"{SHAPE}: cpu.five_minutes is a string, not a number; interfaces is a string, not a list; "
                "device_info's own status: ok",
}
STATUS = {"hang": "error", "writer": "missing", "ghost": "missing", "reset": "unreachable"}
HEALTHY = ("c9300x", "gx")
SLOW_DEVICE_PAGE = ('{% extends "base.html" %}{% block main %}{% for i in range(4000000) %}{% endfor %}'
                    '<h1>{{ d.host }}</h1>{% endblock %}')


def _overrides(tmp_path: Path, hosts: dict) -> Path:
    """An inventory source merged over the lab's: the same hosts with some variables of their own."""
    path = tmp_path / "overrides.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    return path


def _devices(out: Path) -> dict[str, dict]:
    return {row["host"]: row for row in csv.DictReader((out / "devices.csv").open())}


def _message(out: Path, host: str) -> str:
    """The cause shown on a device page (unescaped)."""
    page = (out / "devices" / f"{host}.html").read_text()
    found = re.search(r'<p class="message [a-z_]+"><strong>[^<]+:</strong> ([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else ""


@pytest.fixture(scope="module")
def broken_run(lab, tmp_path_factory):
    """One run where device_info fails in every way for some hosts, two hosts healthy."""
    tmp = tmp_path_factory.mktemp("always")
    out = tmp / "report"
    extra = tmp / "extra.json"
    extra.write_text(json.dumps({"crafted": CRAFTED, "skip": ["writer"], "break_sections": ["gxwriter"],
                                 "target": ",".join([*CAUSES.keys() - {"ghost"}, *HEALTHY]),
                                 "johann_report_dir": str(out)}))
    inventory = _overrides(tmp, {"c9300": {"restconf_port": "notaport"}, "csr": {"ansible_host": ""},
                                 "hang": {"task_timeout": 1}})
    run = run_playbook(lab, ROOT / "tests/integration/report_always.yml", "-i", str(inventory), "-e", f"@{extra}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return {"out": out, "stdout": run.stdout}


def test_every_host_has_its_page_and_the_healthy_ones_their_real_serial(lab, broken_run):
    out = broken_run["out"]
    hosts = {*CAUSES, *HEALTHY}
    assert {p.name for p in (out / "devices").glob("*.html")} == {f"{h}.html" for h in hosts}
    rows = _devices(out)
    for host in HEALTHY:
        serial = lab.truth(host)["serial"]
        assert rows[host]["status"] == "ok" and rows[host]["serial"] == serial
        assert serial in (out / "devices" / f"{host}.html").read_text()
    # a record with two sections of the wrong type keeps what is usable: its real serial is shown
    assert rows["gxwriter"]["serial"] == lab.truth("gxwriter")["serial"]
    assert rows["gxwriter"]["serial"] in (out / "devices" / "gxwriter.html").read_text()


def test_each_broken_host_shows_its_own_cause(broken_run):
    out, rows = broken_run["out"], _devices(broken_run["out"])
    for host, cause in CAUSES.items():
        assert rows[host]["message"] == cause, host
        assert rows[host]["status"] == STATUS.get(host, "error"), host
        assert _message(out, host) == cause, host
    index = (out / "index.html").read_text()
    assert index.count('href="devices/') == len(CAUSES) + len(HEALTHY)
    assert "the device_info task timed out after 1 s" in index


def test_the_summary_counts_them_and_names_the_timed_out_hosts(broken_run):
    line = re.search(r'"msg": "Report: (\S+) timed_out=(\S*) statuses=(\{.*?\}) page_errors=(\d+)"',
                     broken_run["stdout"].replace('\\"', '"'))
    assert line, broken_run["stdout"][-2000:]
    assert line.group(1) == str(broken_run["out"] / "index.html") and line.group(2) == "hang"
    assert json.loads(line.group(3)) == {"ok": 2, "degraded": 0, "auth_failed": 0, "unreachable": 1, "error": 10,
                                         "missing": 2}
    assert line.group(4) == "0"


def test_monitor_writes_the_report_when_every_device_fails(lab, tmp_path):
    inventory = _overrides(tmp_path, {"c9300": {"restconf_port": "notaport"}, "csr": {"ansible_host": ""}})
    out = tmp_path / "r"
    run = run_playbook(lab, MONITOR, "-i", str(inventory), "-e", "target=c9300,csr", "-e", f"johann_report_dir={out}")
    assert run.returncode == 0, run.stdout[-3000:]
    assert f"Report: {out}/index.html (2 devices: 2 error;" in run.stdout
    assert _message(out, "c9300") == CAUSES["c9300"] and _message(out, "csr") == CAUSES["csr"]
    failing = run_playbook(lab, MONITOR, "-i", str(inventory), "-e", "target=c9300,csr", "-e",
                           f"johann_report_dir={out}", "-e", "johann_fail_on_error=true")
    assert failing.returncode == 2 and f"Report: {out}/index.html" in failing.stdout
    assert "2 of 2 devices are not ok: c9300, csr (the report has the causes)" in failing.stdout


# ---------------------------------------------------------------- stopped while the report is written


def _popen(lab, *args: str) -> subprocess.Popen:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", **ARA_OFF)
    for name in [k for k in env if k.startswith(("ARA_", "JOHANN_ARA_"))]:
        del env[name]
    ansible = Path(sys.executable).with_name("ansible-playbook")
    return subprocess.Popen([str(ansible), str(MONITOR), "-i", str(lab.state_dir / "inventory.yml"), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _workers(pid: int) -> list[int]:
    return sorted(c for c in _children(pid) if "ansible-playbook" in _cmdline(c))


def _left_behind(run_pid: int, pids: set[int], timeout: float = 10.0) -> list[str]:
    """Processes of the run still there after ``timeout``: its workers, and its shared pollers."""
    deadline = time.monotonic() + timeout
    while True:
        pollers = {int(p.name) for p in Path("/proc").glob("[0-9]*")
                   if "_poller import main" in _cmdline(int(p.name)) and _cmdline(int(p.name)).split()[-1:]
                   == [str(run_pid)]}
        alive = [f"{pid}: {_cmdline(pid)[:100]}" for pid in pids | pollers if Path(f"/proc/{pid}").exists()]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def previous_report(lab, tmp_path_factory) -> Path:
    """A real report of three devices, the one a stopped run must leave as it is."""
    out = tmp_path_factory.mktemp("previous") / "report"
    run = run_playbook(lab, MONITOR, "-e", "target=c9300,csr,gx", "-e", f"johann_report_dir={out}")
    assert run.returncode == 0, run.stdout[-2000:]
    return out


def _stop_while_writing(lab, tmp_path: Path, previous: Path, stop) -> tuple[Path, subprocess.Popen, str, set]:
    """Start a run with a slow device page over a copy of the previous report; ``stop`` it mid-report."""
    out = tmp_path / "report"
    shutil.copytree(previous, out)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "device.html").write_text(SLOW_DEVICE_PAGE)
    run = _popen(lab, "-e", "target=c9300,csr,gx", "-e", f"johann_report_dir={out}",
                 "-e", f"johann_report_templates={templates}")
    deadline = time.monotonic() + 60
    while not list(out.glob(".johann-staging-*")):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()[0][-2000:]
        time.sleep(0.01)
    time.sleep(0.2)
    pids = set(_workers(run.pid)) | {c for w in _workers(run.pid) for c in _children(w)}
    stop(run, out)
    output = run.communicate(timeout=60)[0]
    return out, run, output, pids


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_run_stopped_while_writing_leaves_the_previous_report_whole(lab, tmp_path, previous_report, signum):
    before = _snapshot(previous_report)
    out, run, output, pids = _stop_while_writing(lab, tmp_path, previous_report,
                                                 lambda proc, _out: proc.send_signal(signum))
    assert run.returncode == (-signal.SIGTERM if signum == signal.SIGTERM else 99), output[-2000:]
    assert _left_behind(run.pid, pids) == []
    assert _snapshot(out) == before   # byte for byte: no new page, no staging directory, no temporary file
    assert "johann.monitor.report_guard" not in output


def test_a_killed_report_worker_leaves_the_previous_report_and_the_next_run_cleans_up(lab, tmp_path,
                                                                                    previous_report):
    before = _snapshot(previous_report)

    def kill_writer(_proc, out: Path) -> None:
        os.kill(int(next(out.glob(".johann-staging-*")).name.rsplit("-", 1)[1]), signal.SIGKILL)

    out, run, output, pids = _stop_while_writing(lab, tmp_path, previous_report, kill_writer)
    assert run.returncode == 1 and "A worker was found in a dead state" in output, output[-2000:]
    assert "johann.monitor.report_guard" not in output   # the report task ran: not written twice
    assert _left_behind(run.pid, pids) == []
    left = {k: v for k, v in _snapshot(out).items() if not k.startswith(".johann-staging-")}
    assert left == before and list(out.glob(".johann-staging-*"))   # what a SIGKILL leaves: the staging only
    again = run_playbook(lab, MONITOR, "-e", "target=c9300,csr,gx", "-e", f"johann_report_dir={out}")
    assert again.returncode == 0, again.stdout[-2000:]
    assert not list(out.glob(".johann-staging-*")) and not list(out.rglob("*.tmp"))
    assert _snapshot(out).keys() == before.keys()


def test_a_worker_killed_while_polling_still_gets_the_report_written(lab, tmp_path):
    """ansible-core stops the run ("A worker was found in a dead state"); report_guard writes the report."""
    out = tmp_path / "report"
    inventory = _overrides(tmp_path, {"hang": {"restconf_deadline": 30}})
    run = _popen(lab, "-i", str(inventory), "-e", "target=c9300,csr,hang", "-e", f"johann_report_dir={out}")
    deadline, seen, alone = time.monotonic() + 60, 0, None
    while True:   # the healthy hosts' workers come and go within a second; hang's stays (its device never answers)
        workers = _workers(run.pid)
        seen = max(seen, len(workers))
        alone = (alone or time.monotonic()) if seen >= 2 and len(workers) == 1 else None
        if alone and time.monotonic() - alone > 1.0:
            break
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()[0][-2000:]
        time.sleep(0.02)
    os.kill(workers[0], signal.SIGKILL)
    output = run.communicate(timeout=120)[0]
    assert run.returncode == 1 and "A worker was found in a dead state" in output, output[-2000:]
    assert (f"johann.monitor.report_guard: the run stopped before its report task; the report was written from "
            f"the results it had: {out}/index.html (3 devices: 2 ok, 1 error; 1 without a result)") in output
    rows = _devices(out)
    for host in ("c9300", "csr"):
        assert rows[host]["status"] == "ok" and rows[host]["serial"] == lab.truth(host)["serial"]
    assert _message(out, "hang").startswith("no device_info result: the run stopped while this host's task was "
                                            "running (its worker process died")
    assert "History is off: the run stopped before the report task" in (out / "index.html").read_text()
    assert not list(out.glob(".johann-staging-*")) and _left_behind(run.pid, set()) == []


# ---------------------------------------------------------------- a report directory that cannot be written


def _write_fails(lab, out: Path) -> subprocess.CompletedProcess:
    run = run_playbook(lab, MONITOR, "-e", "target=c9300", "-e", f"johann_report_dir={out}")
    assert run.returncode == 2, run.stdout[-2000:]
    return run


def _previous(out: Path) -> dict[str, bytes]:
    (out / "devices").mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_text("previous index")
    (out / "devices" / "c9300.html").write_text("previous page")
    return _snapshot(out)


def test_a_report_dir_under_a_file_fails_with_one_clear_message(lab, tmp_path):
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "out"
    run = _write_fails(lab, out)
    assert f'"msg": "johann.monitor.report: cannot write the report to {out}: Not a directory (nothing was written)"' \
        in run.stdout


def test_an_immutable_report_dir_fails_clearly_and_keeps_the_previous_report(lab, tmp_path):
    out = tmp_path / "out"
    before = _previous(out)
    if subprocess.run(["chattr", "+i", str(out)], capture_output=True).returncode:
        pytest.fail("chattr +i is not possible here: run the tests as root (as CI does) on a filesystem with the "
                    "immutable flag (ext4, tmpfs)")
    try:
        run = _write_fails(lab, out)
    finally:
        subprocess.run(["chattr", "-i", str(out)], check=True)
    assert (f'"msg": "johann.monitor.report: cannot write the report to {out}: Operation not permitted '
            f'(the previous report there is unchanged)"') in run.stdout
    assert _snapshot(out) == before


@pytest.fixture
def small_fs(tmp_path):
    """A 256 kB tmpfs (root only): a report directory that fills up."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"cannot mount a small tmpfs here ({done.stderr.strip()}): run the tests as root, as CI does")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_filesystem_fails_clearly_and_keeps_the_previous_report(lab, small_fs):
    out = small_fs / "out"
    before = _previous(out)
    (small_fs / "filler").write_bytes(b"\0" * 150_000)   # a device page of c9300 is about 130 kB
    run = _write_fails(lab, out)
    assert (f'"msg": "johann.monitor.report: cannot write the report to {out}: No space left on device '
            f'(the previous report there is unchanged)"') in run.stdout
    assert _snapshot(out) == before


def test_a_read_only_filesystem_fails_clearly_and_keeps_the_previous_report(lab, small_fs):
    out = small_fs / "out"
    before = _previous(out)
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    run = _write_fails(lab, out)
    assert (f'"msg": "johann.monitor.report: cannot write the report to {out}: Read-only file system '
            f'(the previous report there is unchanged)"') in run.stdout
    assert _snapshot(out) == before
