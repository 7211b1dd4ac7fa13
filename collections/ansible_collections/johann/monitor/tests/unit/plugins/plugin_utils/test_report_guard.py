"""When the report_guard callback writes the report, and when it leaves it alone (the real run: test_report_always)."""
from __future__ import annotations

import signal

import pytest
from ansible.playbook.block import Block
from ansible.playbook.task import Task
from ansible_collections.johann.monitor.plugins.callback import report_guard


class Host:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_name(self) -> str:
        return self.name


def _task(action: str) -> Task:
    return Task.load({"action": {"module": action}, "name": action})


@pytest.fixture
def guard(monkeypatch):
    written = []
    monkeypatch.setattr(report_guard.atexit, "register", lambda _function: None)   # not at pytest's own exit
    callback = report_guard.CallbackModule()
    monkeypatch.setattr(callback, "write", lambda: written.append(True))
    callback.v2_playbook_on_start(None)
    callback.v2_playbook_on_play_start(object())
    callback.written = written
    return callback


def test_the_play_tasks_are_found_in_nested_blocks_by_their_resolved_name():
    report, poll = _task("johann.monitor.report"), _task("johann.monitor.device_info")
    inner, outer = Block(), Block()
    inner.block, inner.rescue, inner.always = [report], [], []
    outer.block, outer.rescue, outer.always = [poll, inner], [_task("ansible.builtin.debug")], []
    assert report_guard.tasks_of([[outer]])[:2] == [poll, report]
    assert report_guard.action_of(poll) == "johann.monitor.device_info"
    assert report_guard.action_of(_task("debug")) == "ansible.builtin.debug"


def test_it_writes_when_the_run_stopped_after_polling_and_before_the_report(guard):
    poll = _task("johann.monitor.device_info")
    guard.v2_playbook_on_task_start(poll, False)
    guard.v2_runner_on_start(Host("r1"), poll)
    guard.v2_runner_on_start(Host("r2"), _task("ansible.builtin.debug"))
    assert list(guard.started) == ["r1"]
    guard.at_exit()
    assert guard.written == [True]


@pytest.mark.parametrize("then", ["report task started", "run ended normally", "nothing polled", "Ctrl-C"])
def test_it_leaves_the_report_alone(guard, monkeypatch, then):
    if then != "nothing polled":
        guard.v2_playbook_on_task_start(_task("johann.monitor.device_info"), False)
    if then == "report task started":
        guard.v2_playbook_on_task_start(_task("johann.monitor.report"), False)
    if then == "run ended normally":
        guard.v2_playbook_on_stats(None)
    if then == "Ctrl-C":   # Ansible's handler puts the default back when it gets SIGINT
        monkeypatch.setattr(signal, "getsignal", lambda _signum: signal.SIG_DFL)
        guard.sigint = signal.default_int_handler
    guard.at_exit()
    assert guard.written == []


def test_hosts_without_a_result_say_why():
    callback = report_guard.CallbackModule()
    callback.started = {"r1": Host("r1")}
    assert callback.absent("r1") == ("error", "no device_info result: the run stopped while this host's task was "
                                              "running (its worker process died, or the run was stopped by an error; "
                                              "ansible-playbook's output says which)")
    assert callback.absent("r2") == ("missing", "no device_info result: the run stopped before this host's task "
                                                "started")
    line = callback.line({"path": "/r/index.html", "devices": 3, "statuses": {"ok": 1, "error": 1, "missing": 1},
                          "without_result": ["r1", "r2"]})
    assert line == ("johann.monitor.report_guard: the run stopped before its report task; the report was written "
                    "from the results it had: /r/index.html (3 devices: 1 ok, 1 error, 1 missing; 2 without a result)")
