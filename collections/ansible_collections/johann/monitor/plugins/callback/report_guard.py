# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the report from what the run has when the run ends before its report task."""
from __future__ import annotations

DOCUMENTATION = r"""
name: report_guard
type: aggregate
short_description: Write the report when the run stops before its report task
version_added: 0.1.0
description:
  - When an Ansible worker process dies (killed by the kernel's out-of-memory killer, a SIGKILL, a crash)
    while it runs a task, ansible-core stops the whole run with C(A worker was found in a dead state), and no
    later task runs - nor the C(johann.monitor.report) task that writes the report. Other errors that stop a
    run early do the same.
  - When a run that started C(johann.monitor.device_info) tasks ends without having started the play's
    C(johann.monitor.report) task, this callback writes the report as that task would have (same options,
    templated with the play's variables; history off) from the results registered so far. Every host of the
    play is in it; a host whose task was running when the run stopped, and one whose task never started, are
    shown without a record with that cause. A line of output says where the report is.
  - It writes at the end of the ansible-playbook process, after Ansible printed why the run stopped, and does
    nothing when the report task started (whatever became of it), when the run was interrupted with Ctrl-C
    (SIGINT; the previous report stays), or when the process was killed (SIGTERM, SIGKILL; nothing runs then).
  - It collects nothing per result (it reads the registered results only when it has to write), so it costs a
    run nothing measurable.
  - With more hosts than forks, ansible-core 2.19 does not always stop a run whose worker was killed - it can
    wait for that worker's result for ever, when the next host took the dead worker's slot before the loss was
    seen - and then the run never ends and neither this callback nor anything else writes the report. Run
    scheduled monitors with a time limit (AWX job timeout, C(timeout) in cron or a systemd unit).
"""

import atexit  # noqa: E402
import signal  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402
from ansible.playbook.block import Block  # noqa: E402
from ansible.plugins.callback import CallbackBase  # noqa: E402
from ansible.template import Templar  # noqa: E402
from ansible_collections.johann.monitor.plugins.module_utils._tasks import REPORT_EXCLUSIVE, report_spec  # noqa: E402
from ansible_collections.johann.monitor.plugins.plugin_utils._report.job import ReportJob  # noqa: E402

DEVICE_INFO = "johann.monitor.device_info"
REPORT = "johann.monitor.report"
STOPPED = ("the run stopped before the report task (ansible-playbook says why above: a worker process that "
           "died, for example); this report was written by johann.monitor.report_guard from the results it had")


def action_of(task: Any) -> str:
    """The task's action as a FQCN where Ansible can resolve it (a templated action is left as written)."""
    action = str(task.action or "")
    if "{{" in action or "{%" in action:
        return action
    return task.resolved_action or action


def tasks_of(blocks: list) -> list:
    """Every task of a play's blocks, nested blocks included (imported tasks are there; included ones are not)."""
    found = []
    for item in blocks:
        if isinstance(item, Block):
            found += tasks_of(item.block + item.rescue + item.always)
        elif isinstance(item, list):
            found += tasks_of(item)
        else:
            found.append(item)
    return found


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "johann.monitor.report_guard"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.play: Any = None
        self.polling: Any = None          # the device_info task of the play, once it started
        self.started: dict[str, Any] = {}  # host name -> Host, for hosts whose device_info task started
        self.reported = False             # the play's report task started: it writes the report, not us
        self.sigint: Any = None
        self.armed = False

    def v2_playbook_on_start(self, playbook: Any) -> None:
        self.sigint = signal.getsignal(signal.SIGINT)   # Ansible's own handler; it sets the default on Ctrl-C
        if not self.armed:
            atexit.register(self.at_exit)
            self.armed = True

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self.play, self.polling, self.started, self.reported = play, None, {}, False

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        action = action_of(task)
        if action == DEVICE_INFO and self.polling is None:
            self.polling = task
        elif action == REPORT:
            self.reported = True

    def v2_runner_on_start(self, host: Any, task: Any) -> None:
        if task is self.polling:
            self.started[host.get_name()] = host

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self.play = None   # the run ended normally: whatever it did, it is not for us to redo

    def at_exit(self) -> None:
        """At the end of the ansible-playbook process: write the report if the run stopped before its task."""
        if self.play is None or self.polling is None or self.reported:
            return
        if signal.getsignal(signal.SIGINT) != self.sigint:   # Ctrl-C: the user stopped the run
            return
        try:
            summary = self.write()
        except Exception as exc:   # noqa: BLE001 - at exit: say it, never raise
            self._display.warning(f"johann.monitor.report_guard: the run stopped before the report task, and the "
                                  f"report could not be written from its results: {type(exc).__name__}: {exc}")
            return
        if summary is not None:
            self._display.display(self.line(summary))

    def report_task(self) -> Any:
        return next((t for t in tasks_of(self.play.get_tasks()) if action_of(t) == REPORT), None)

    def write(self) -> dict | None:
        """The report, as the play's report task would have written it, from the registered results."""
        task = self.report_task()
        if task is None:
            self._display.warning("johann.monitor.report_guard: the run stopped before the report, and the play has "
                                  "no johann.monitor.report task to take its options from: no report written")
            return None
        manager = self.play.get_variable_manager()
        host = next(iter(self.started.values()), None)
        task_vars = manager.get_vars(play=self.play, host=host, task=task)
        templar = Templar(loader=self.play.get_loader(), variables=task_vars)
        args = templar.template(task.args)
        validated = ArgumentSpecValidator(report_spec(), mutually_exclusive=REPORT_EXCLUSIVE).validate(
            dict(args))
        if validated.error_messages:
            raise ValueError("; ".join(validated.error_messages))
        job = ReportJob(validated.validated_parameters, task_vars, templar.template, "title" in args)
        results = job.results()
        absent = {h: self.absent(h) for h, result in results.items() if result is None}
        history = {"enabled": False, "reason": STOPPED, "source": None, "past": [], "recording": False}
        return dict(job.run(history, absent=absent), without_result=sorted(absent))

    def absent(self, host: str) -> tuple[str, str]:
        """Why a host has no result: its task was running when the run stopped, or never started."""
        if host in self.started:
            return "error", ("no device_info result: the run stopped while this host's task was running (its worker "
                             "process died, or the run was stopped by an error; ansible-playbook's output says which)")
        return "missing", "no device_info result: the run stopped before this host's task started"

    @staticmethod
    def line(summary: dict) -> str:
        counts = ", ".join(f"{count} {status}" for status, count in summary["statuses"].items() if count)
        return (f"johann.monitor.report_guard: the run stopped before its report task; the report was written from "
                f"the results it had: {summary['path']} ({summary['devices']} devices: {counts}; "
                f"{len(summary['without_result'])} without a result"
                + (f"; {len(summary['carried'])} carried over from the previous report" if summary.get("carried")
                   else "") + ")")
