"""device_info's shared poller against the lab: the same records as polling in the workers, gone with
its run, and a poller killed mid-run costs speed only (every device still read, one warning)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.integration.conftest import ARA_OFF, run_playbook
from tests.lablib import ROOT

PLAYBOOK = ROOT / "tests/integration/device_info.yml"
VOLATILE = {"duration", "polled_at"}   # timings; everything else must be equal
# TLS 1.3 rejects a missing client certificate after the handshake: whether the client reads the
# server's alert or only the close is a race, in either mode (seen once in a full-suite run); for
# this device the status must agree, its message and request count may not
RACY = {"mtls"}


def _stable(value):
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _records(results: dict) -> dict:
    return {host: _stable(result["device"]) if host not in RACY else result["device"]["status"]
            for host, result in results.items()}


def _pollers(run_pid: int) -> list[int]:
    """The shared poller processes serving the ansible-playbook process ``run_pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"plugin_utils._poller" in a for a in argv) and argv[-2:-1] == [str(run_pid).encode()]:
            found.append(int(entry))
    return found


def _runtime_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"johann-monitor-{os.getuid()}"


@pytest.fixture(scope="module")
def worker_run(lab, tmp_path_factory):
    out = tmp_path_factory.mktemp("poller") / "worker.json"
    result = run_playbook(lab, PLAYBOOK, "-e", f"results_file={out}", "-e", "johann_poller=worker")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(out.read_text())


def test_shared_and_worker_polling_give_the_same_records(device_info_run, worker_run):
    shared, worker = device_info_run["results"], worker_run
    assert sorted(shared) == sorted(worker) and len(shared) >= 20
    assert _records(shared) == _records(worker)
    statuses = {h: r["device"]["status"] for h, r in shared.items()}
    # the fleet's faults come through the poller as they do in a worker: not all ok
    assert statuses["c9300"] == "ok" and statuses["badpass"] == "auth_failed"
    assert statuses["closed"] == "unreachable" and statuses["malformed"] in ("error", "degraded")
    assert shared["c9300"]["device"]["identity"]["serial"] == worker["c9300"]["device"]["identity"]["serial"]
    assert shared["c9300"]["ansible_facts"] == worker["c9300"]["ansible_facts"] == \
        {"johann_restconf_root": "/restconf"}
    assert "shared poller" not in device_info_run["stdout"] + device_info_run["stderr"]


def test_bad_options_fail_the_task_the_same_way(lab, tmp_path):
    out = tmp_path / "r.json"
    messages = {}
    for poller in ("shared", "worker"):
        result = run_playbook(lab, PLAYBOOK, "-e", f"results_file={out}", "-e", f"johann_poller={poller}",
                              "-e", '{"johann_thresholds": {"cpu_percent": {"warning": "high"}}}', "-l", "c9300")
        assert result.returncode == 2, result.stdout[-2000:]
        messages[poller] = [line for line in result.stdout.splitlines() if "cpu_percent" in line]
    assert messages["shared"] == messages["worker"] and messages["shared"]


def test_the_poller_ends_with_its_run(lab, tmp_path):
    out = tmp_path / "r.json"
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", **ARA_OFF)
    proc = subprocess.Popen([str(Path(sys.executable).with_name("ansible-playbook")), str(PLAYBOOK), "-i",
                             str(lab.state_dir / "inventory.yml"), "-e", f"results_file={out}", "-l", "c9300,csr"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    while proc.poll() is None:
        seen = seen or _pollers(proc.pid)
        time.sleep(0.02)
    assert proc.returncode == 0, proc.stdout.read()[-2000:]
    assert seen, "no shared poller served the run"
    sock = _runtime_dir() / f"poller-{proc.pid}.sock"
    deadline = time.monotonic() + 5
    while (_pollers(proc.pid) or sock.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pollers(proc.pid) and not sock.exists()
    assert not sock.with_suffix(".log").exists() and not sock.with_suffix(".lock").exists()
    assert json.loads(out.read_text())["c9300"]["device"]["status"] == "ok"


def test_a_poller_killed_mid_run_costs_speed_only(lab, device_info_run, tmp_path):
    out = tmp_path / "r.json"
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", **ARA_OFF)
    proc = subprocess.Popen([str(Path(sys.executable).with_name("ansible-playbook")), str(PLAYBOOK), "-i",
                             str(lab.state_dir / "inventory.yml"), "-e", f"results_file={out}"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killed = []
    while proc.poll() is None and not killed:
        for pid in _pollers(proc.pid):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        time.sleep(0.01)
    output = proc.communicate(timeout=300)[0]
    assert killed, "the run ended before its poller could be killed"
    assert proc.returncode == 0, output[-3000:]
    results = json.loads(out.read_text())
    # every device read, with the same outcome as the undisturbed run
    expected = {h: r["device"]["status"] for h, r in device_info_run["results"].items()}
    assert {h: r["device"]["status"] for h, r in results.items()} == expected
    assert results["c9300"]["device"]["identity"]["serial"] == \
        device_info_run["results"]["c9300"]["device"]["identity"]["serial"]
    # one warning, naming what happened and what the run did about it; no second poller
    warnings = [line for line in output.splitlines() if "polling in each worker instead" in line]
    assert len(warnings) == 1, output[-3000:]
    assert "shared poller" in warnings[0]
    assert not _pollers(proc.pid), f"killed {killed}: another poller was started"
    # the run's files: the reason is kept (the next run's start sweeps them); no secret in any of them
    leftovers = list(_runtime_dir().glob(f"poller-{proc.pid}.*"))
    assert _runtime_dir() / f"poller-{proc.pid}.unavailable" in leftovers
    for path in leftovers:
        if path.is_file():
            assert lab.auth[1] not in path.read_text(errors="replace")


def test_four_cores_two_pollers_same_records(lab, device_info_run, tmp_path):
    """A 4-core controller (os.cpu_count patched in ansible-playbook by a sitecustomize): two pollers."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text("import os\nos.cpu_count = lambda: 4\n")
    out = tmp_path / "r.json"
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", PYTHONPATH=str(hook),
               **ARA_OFF)
    proc = subprocess.Popen([str(Path(sys.executable).with_name("ansible-playbook")), str(PLAYBOOK), "-i",
                             str(lab.state_dir / "inventory.yml"), "-e", f"results_file={out}"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: set[int] = set()
    while proc.poll() is None:
        seen.update(_pollers(proc.pid))
        time.sleep(0.02)
    output = proc.stdout.read()
    assert proc.returncode == 0, output[-3000:]
    assert len(seen) == 2, seen
    assert "shared poller" not in output
    assert _records(json.loads(out.read_text())) == _records(device_info_run["results"])
