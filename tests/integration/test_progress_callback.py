"""The johann.monitor.progress stdout callback (the project's ansible.cfg) over a real fleet run.

Output is read as a person would read it: per-host lines where the default callback prints
them, one progress display and a summary table for the device_info task, the default recap.
"""
from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.conftest import ARA_OFF, run_playbook
from tests.lablib import ROOT

PLAYBOOK = ROOT / "tests/integration/progress.yml"
# What each device is (tests/lab/fleet.yml) and the words its cause must carry.
DEVICES = {
    "c9300": ("ok", None), "c9300x": ("ok", None), "csr": ("ok", None), "gx": ("ok", None),
    "badpass": ("auth_failed", "authentication failed: 401"),
    "closed": ("unreachable", "connection refused by {address}:"),
    "hang": ("unreachable", "timed out after 1 s"),
    "wrongcert": ("unreachable", "TLS certificate verification failed for {address}:"),
    "err500": ("degraded", "environment: device error: 500"),
    "malformed": ("error", "malformed JSON from the device"),
}
TARGET = ",".join(DEVICES)
NOT_OK = {host: status for host, (status, _) in DEVICES.items() if status != "ok"}
EXPECTED_COUNTS = Counter(status for status, _ in DEVICES.values())
PER_HOST_LINE = re.compile(r"^(ok|changed|fatal|failed|skipping): \[", re.M)


def _section(stdout: str, task: str) -> str:
    """The output of one task: from its banner to the next banner."""
    start = stdout.index(f"TASK [{task}]")
    end = stdout.find("\nTASK [", start + 1)
    return stdout[start: end if end != -1 else stdout.index("PLAY RECAP")]


def _counts(section: str) -> dict[str, int]:
    return {status: int(n) for status, n in re.findall(r"^  (\w+) +(\d+)$", section, re.M)}


def _causes(section: str) -> dict[str, tuple[str, str]]:
    return {host: (status, cause) for host, status, cause in
            re.findall(r"^    (\S+)  +(\S+)  +(.*)$", section, re.M)}


@pytest.fixture(scope="module")
def plain_run(lab):
    """The playbook as CI runs it: output to a pipe, the project's ansible.cfg untouched."""
    result = run_playbook(lab, PLAYBOOK, "-e", f"target={TARGET}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_project_enables_the_callback():
    assert re.search(r"^stdout_callback = johann\.monitor\.progress$", (ROOT / "ansible.cfg").read_text(), re.M)


def test_device_task_prints_no_line_per_host(plain_run):
    section = _section(plain_run.stdout, "Read the device")
    assert PER_HOST_LINE.findall(section) == []
    for host in DEVICES:
        assert f"[{host}]" not in section


def test_summary_counts_each_status_as_the_devices_are(plain_run):
    section = _section(plain_run.stdout, "Read the device")
    assert re.search(r"^SUMMARY \[Read the device\] 10 devices in [0-9.]+s, 6 not ok$", section, re.M), section
    assert _counts(section) == dict(EXPECTED_COUNTS) == {"ok": 4, "degraded": 1, "auth_failed": 1, "unreachable": 3,
                                                         "error": 1}


def test_summary_names_every_device_that_is_not_ok_with_its_cause(lab, plain_run):
    causes = _causes(_section(plain_run.stdout, "Read the device"))
    assert {host: status for host, (status, _) in causes.items()} == NOT_OK
    for host, (_, cause) in causes.items():
        assert DEVICES[host][1].format(address=lab.host(host)["ansible_host"]) in cause, (host, cause)
        assert len(cause) <= 240   # message_width: the hint at the end of a cause stays


def test_plain_progress_lines_are_few_and_count_up(plain_run):
    section = _section(plain_run.stdout, "Read the device")
    progress = re.findall(r"^(\d+)/10 devices \((\d+)%\)(?: \| not ok \d+: [a-z_ 0-9,]+)? \| elapsed [0-9.]+s"
                          r" \| eta [0-9.]+s$", section, re.M)
    done = [int(n) for n, _ in progress]
    assert len(progress) <= 20 and done == sorted(done) and all(0 < n < 10 for n in done)
    assert [int(pct) for _, pct in progress] == [n * 10 for n in done]
    assert "\r" not in plain_run.stdout and "\x1b" not in plain_run.stdout


def test_other_tasks_print_as_the_default_callback_does(plain_run):
    hello = _section(plain_run.stdout, "Say hello")
    assert 'ok: [c9300] => {\n    "msg": "hello c9300"\n}' in hello
    assert 'ok: [gx] => {\n    "msg": "hello gx"\n}' in hello
    assert sorted(re.findall(r"^skipping: \[(\S+)\]$", hello, re.M)) == sorted(set(DEVICES) - {"c9300", "gx"})
    fact = _section(plain_run.stdout, "Record a fact")
    assert sorted(re.findall(r"^ok: \[(\S+)\]$", fact, re.M)) == sorted(DEVICES)
    assert "SUMMARY" not in hello + fact


def test_default_recap_then_the_device_totals(plain_run):
    recap = plain_run.stdout[plain_run.stdout.index("PLAY RECAP"):]
    rows = dict(re.findall(r"^(\S+)\s+: ok=(\d+)\s+changed=0\s+unreachable=0\s+failed=0\s+skipped=\d+", recap, re.M))
    assert rows == {host: "3" if host in ("c9300", "gx") else "2" for host in DEVICES}
    assert re.search(r"^DEVICES: 1 device_info task, 10 results in [0-9.]+s: "
                     r"ok 4, degraded 1, auth_failed 1, unreachable 3, error 1$", recap, re.M), recap


def test_no_secret_in_the_output(lab, plain_run):
    assert lab.auth[1] not in plain_run.stdout + plain_run.stderr


def _run_on_a_terminal(lab, playbook: Path, *args: str) -> str:
    """ansible-playbook with its standard output on a pseudo-terminal, as in a shell."""
    # ARA off (ARA_OFF): the project's ansible.cfg records into the user's local ARA server, which tests never touch
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARA_", "JOHANN_ARA_"))}
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               COLUMNS="200", LINES="50", **ARA_OFF)
    ansible = Path(sys.executable).with_name("ansible-playbook")
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([str(ansible), str(playbook), "-i", str(lab.state_dir / "inventory.yml"), *args],
                            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=secondary, stderr=subprocess.PIPE)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:   # EIO: the playbook closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_on_a_terminal_one_line_is_rewritten_in_place(lab):
    out = _run_on_a_terminal(lab, PLAYBOOK, "-e", f"target={TARGET}")
    section = _section(out, "Read the device")
    redraws = re.findall(r"\r\x1b\[K(\d+)/10 devices \(\d+%\)[^\r\n]*", section)
    assert redraws and redraws[0] == "0"                          # drawn at once, before any result
    assert [int(n) for n in redraws] == sorted(int(n) for n in redraws)
    assert len(redraws) <= 12                                     # throttled: not one redraw per result
    assert "\r\x1b[KSUMMARY [Read the device] 10 devices in " in section    # the line is erased first
    assert re.search(r"\d+/10 devices \(\d+%\)[^\r\n]*\n", section) is None   # no progress line ends a line
    assert _counts(section) == {"ok": 4, "degraded": 1, "auth_failed": 1, "unreachable": 3, "error": 1}
    assert PER_HOST_LINE.findall(section) == []
    assert lab.auth[1] not in out


EDGES = """
- name: Edge cases
  hosts: c9300,gx,badpass,closed,csr,csr,c9300x
  gather_facts: false
  tasks:
    - name: Read with the password as a literal argument
      johann.monitor.device_info:
        gather: [min]
        password: {password}
      no_log: true

    - name: Read with a wrong option
      johann.monitor.device_info:
        bogus: 1
      ignore_errors: true

    - name: Record a fact
      ansible.builtin.set_fact:
        edge: 1

    - name: Say hello
      ansible.builtin.debug:
        msg: hello
"""


@pytest.fixture(scope="module")
def edge_run(lab, tmp_path_factory):
    """no_log, an Ansible-level failure, task arguments shown, and compaction by host count."""
    playbook = tmp_path_factory.mktemp("progress") / "edges.yml"
    playbook.write_text(EDGES.format(password=lab.auth[1]))
    result = run_playbook(lab, playbook, extra_env={"ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "true",
                                                   "JOHANN_PROGRESS_THRESHOLD": "5"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_no_log_results_are_counted_but_never_shown(lab, edge_run):
    section = _section(edge_run.stdout, "Read with the password as a literal argument")
    assert section.startswith("TASK [Read with the password as a literal argument] ***")   # no arguments
    assert re.search(r"^SUMMARY \[.*\] 6 devices in [0-9.]+s, 6 hidden by no_log$", section, re.M), section
    assert _counts(section) == {"hidden": 6}
    assert lab.auth[1] not in edge_run.stdout + edge_run.stderr


def test_an_ansible_failure_is_counted_failed_with_its_message(edge_run):
    section = _section(edge_run.stdout, "Read with a wrong option")
    assert _counts(section) == {"failed": 6}
    causes = _causes(section)
    assert sorted(causes) == ["badpass", "c9300", "c9300x", "closed", "csr", "gx"]
    assert all(status == "failed" and "unsupported parameters: bogus" in cause for status, cause in causes.values())
    assert "fatal:" not in section and "...ignoring" not in section


def test_wide_tasks_are_compacted_over_the_threshold_except_debug(edge_run):
    fact = _section(edge_run.stdout, "Record a fact edge=1")                  # other banners keep their arguments
    assert PER_HOST_LINE.findall(fact) == []
    assert re.search(r"^SUMMARY \[Record a fact\] 6 hosts in [0-9.]+s, all ok$", fact, re.M), fact
    assert _counts(fact) == {"ok": 6}
    hello = _section(edge_run.stdout, "Say hello msg=hello")
    assert len(re.findall(r'^ok: \[\S+\] => \{\n    "msg": "hello"\n\}', hello, re.M)) == 6
    assert re.search(r"^DEVICES: 2 device_info tasks, 12 results in [0-9.]+s: hidden 6, failed 6$",
                     edge_run.stdout, re.M)


ORDINARY = """
- name: Ordinary tasks only
  hosts: c9300,gx,badpass,csr
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: "hello {{ inventory_hostname }}"
    - name: Record a fact
      ansible.builtin.set_fact:
        seen: true
    - name: Fail one
      ansible.builtin.fail:
        msg: "no good: {{ inventory_hostname }}"
      when: inventory_hostname == 'badpass'
      ignore_errors: true
    - name: Check
      ansible.builtin.assert:
        that: seen
"""


def test_without_device_tasks_the_output_is_the_default_callbacks(lab, tmp_path):
    playbook = tmp_path / "ordinary.yml"
    playbook.write_text(ORDINARY)
    ours = run_playbook(lab, playbook, "-v")
    default = run_playbook(lab, playbook, "-v", extra_env={"ANSIBLE_STDOUT_CALLBACK": "default"})
    assert (ours.returncode, default.returncode) == (0, 0), ours.stdout[-2000:] + default.stdout[-2000:]
    # the same lines; only their order may differ, since hosts answer in any order
    assert sorted(ours.stdout.splitlines()) == sorted(default.stdout.splitlines())
    assert 'fatal: [badpass]: FAILED! => {"changed": false, "msg": "no good: badpass"}' in ours.stdout
    assert "...ignoring" in ours.stdout and "DEVICES:" not in ours.stdout
