"""A run a test starts with ARA loaded and no ARA server of its own never reaches the user's 127.0.0.1:8055 and
.ara/server: tests/conftest.py points ARA (ARA_API_SERVER) and the project's ara_server callback
(JOHANN_ARA_DATA_DIR) at an address and directory of the test session, so the server it auto-starts is the
session's, and is stopped."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import leftovers
from tests.lablib import ROOT

PLAY = """\
- name: A run with ARA's callback loaded (the project's ansible.cfg) and no server set by the test
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Nothing
      ansible.builtin.debug:
        msg: recorded
"""


def test_a_run_with_ara_and_no_server_of_its_own_uses_the_sessions_address(ara_on_a_test_address, tmp_path):
    endpoint, data = ara_on_a_test_address, Path(os.environ["JOHANN_ARA_DATA_DIR"])
    assert endpoint != "http://127.0.0.1:8055" and os.environ["ARA_API_SERVER"] == endpoint
    assert data != ROOT / ".ara/server"
    (tmp_path / "play.yml").write_text(PLAY)
    (tmp_path / "inventory.yml").write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false")
    try:
        run = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), str(tmp_path / "play.yml"),
                              "-i", str(tmp_path / "inventory.yml")], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert f"Starting ARA's API server at {endpoint} (data in {data})" in run.stdout
        assert "8055" not in run.stdout + run.stderr
        assert (data / "gunicorn.pid").is_file()
    finally:
        if (data / "gunicorn.pid").is_file():   # stopped here, so the session's note about it is not needed
            pid = int((data / "gunicorn.pid").read_text())
            leftovers.stop([leftovers.Finding(pid, "", "the session's ARA server")])
            (data / "gunicorn.pid").unlink(missing_ok=True)
