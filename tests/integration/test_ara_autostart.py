"""Runs that start at once on a fresh ARA data directory all get recorded: one starts the server, the others wait.

Without the start lock, each run's johann.monitor.ara_server callback migrated the same SQLite database at
the same time; all but one failed with Django's "table ... already exists" and went unrecorded (seen with
three slices of a sliced run started together on one controller).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.lablib import ROOT

RUNS = 3
PLAY = """\
- name: A run that ARA records
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Say which run
      ansible.builtin.debug:
        msg: "run {{ run_number }}"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_runs_starting_together_share_one_server_and_are_all_recorded(tmp_path):
    data, endpoint = tmp_path / "ara", f"http://127.0.0.1:{_free_port()}"
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARA_", "JOHANN_ARA_", "ANSIBLE_"))}
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ARA_API_SERVER=endpoint,
               JOHANN_ARA_DATA_DIR=str(data), ARA_DEFAULT_LABELS="autostart-test")
    ansible = str(os.path.join(os.path.dirname(sys.executable), "ansible-playbook"))

    def run(number: int) -> subprocess.CompletedProcess:
        return subprocess.run([ansible, "-i", str(inventory), str(playbook), "-e", f"run_number={number}"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    try:
        with ThreadPoolExecutor(RUNS) as pool:
            runs = list(pool.map(run, range(RUNS)))
        for done in runs:
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
            assert "could not be started" not in done.stdout + done.stderr
            assert "already exists" not in done.stdout + done.stderr
        starting = sum("Starting ARA's API server" in done.stdout + done.stderr for done in runs)
        assert 1 <= starting <= RUNS   # each run that found it down says so; one of them started it
        books = httpx.get(f"{endpoint}/api/v1/playbooks", params={"label": "autostart-test"}, timeout=30).json()
        assert books["count"] == RUNS
        assert sorted(b["status"] for b in books["results"]) == ["completed"] * RUNS
        results = httpx.get(f"{endpoint}/api/v1/results", params={"limit": 100}, timeout=30).json()
        assert results["count"] == RUNS   # one debug result per run
        assert (data / "gunicorn.pid").is_file() and (data / "start.lock").is_file()
    finally:
        pid_file = data / "gunicorn.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
