# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task's backstop: its own SIGALRM bound above the device's deadline (plugin_utils/_action.py)."""
from __future__ import annotations

import signal
import threading
import time
from types import SimpleNamespace

import pytest
from ansible_collections.johann.monitor.plugins.plugin_utils import _action
from ansible_collections.johann.monitor.plugins.plugin_utils._report import records

# pytest-timeout's default method is an alarm of its own (SIGALRM): these tests take the thread method
pytestmark = pytest.mark.timeout(120, method="thread")


def _alarm_handler():
    return signal.getsignal(signal.SIGALRM)


def test_a_blocking_block_is_stopped_and_the_timer_and_handler_restored():
    before = _alarm_handler()
    started = time.monotonic()
    with pytest.raises(_action.Backstop), _action.backstop(0.2):
        time.sleep(5)   # blocks: no deadline would end it
    assert 0.15 <= time.monotonic() - started < 2.0
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert _alarm_handler() is before


def test_a_block_that_ends_in_time_leaves_nothing_behind():
    before = _alarm_handler()
    with _action.backstop(30.0):
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 29
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert _alarm_handler() is before


@pytest.mark.parametrize("seconds", [None, 0, -1.0, float("nan")])
def test_no_bound_sets_no_timer(seconds):
    with _action.backstop(seconds):
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_deadline_past_the_timers_range_is_capped_not_an_error():
    with _action.backstop(1e12):
        assert signal.getitimer(signal.ITIMER_REAL)[0] == pytest.approx(_action.MAX_ALARM_S, rel=1e-6)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_alarm_already_set_is_left_to_its_owner():
    before = _alarm_handler()
    signal.setitimer(signal.ITIMER_REAL, 100.0)
    try:
        with _action.backstop(0.1):
            time.sleep(0.3)   # not stopped: the alarm is someone else's
            assert signal.getitimer(signal.ITIMER_REAL)[0] > 99
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 99 and _alarm_handler() is before
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def test_outside_the_main_thread_it_sets_nothing():
    seen = []

    def worker():
        with _action.backstop(0.1):
            time.sleep(0.3)   # would be stopped in the main thread
            seen.append(signal.getitimer(signal.ITIMER_REAL))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [(0.0, 0.0)]


class _Blocking(_action.RestconfAction):
    """An action whose read blocks past every deadline (what the backstop is for)."""

    ARGUMENT_SPEC = {"deadline": {"type": "float", "default": 60.0}}

    def execute(self, params, task_vars):
        time.sleep(10)
        return {"never": True}


def _action_for(args, timeout=None):
    task = SimpleNamespace(args=args, action="johann.monitor.device_info", timeout=timeout, async_val=0,
                           check_mode=False)
    connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir="/nonexistent"))
    return _Blocking(task, connection, None, None, None)


def test_the_action_stops_itself_30_s_past_the_deadline_and_the_report_names_why(monkeypatch):
    monkeypatch.setattr(_action, "BACKSTOP_S", 0.3)   # 30 s in use: the same code, sooner
    started = time.monotonic()
    result = _action_for({"deadline": 0.1}).run(task_vars={})
    assert time.monotonic() - started < 5
    assert result["failed"] is True and "never" not in result
    assert result["timedout"] == {"period": pytest.approx(0.4), "by": "backstop"}
    assert result["msg"] == ("johann.monitor.device_info: stopped after 0.4 s, 0.3 s past the device's deadline "
                             "(0.1 s, restconf_deadline), without a result (the task's backstop: the read did not "
                             "end at its deadline)")
    record = records.from_result("r1", result)
    assert record["status"] == "error"
    assert record["message"] == "the device_info task timed out after 0.4 s: " + result["msg"]
    assert records.timed_out(result)


def test_a_task_with_ansibles_own_timeout_keeps_it_and_gets_no_second_alarm(monkeypatch):
    seen = []
    monkeypatch.setattr(_Blocking, "execute",
                        lambda self, params, task_vars: seen.append(signal.getitimer(signal.ITIMER_REAL)) or {"ok": 1})
    result = _action_for({"deadline": 0.1}, timeout=5).run(task_vars={})
    assert result == {"ok": 1} and seen == [(0.0, 0.0)]
