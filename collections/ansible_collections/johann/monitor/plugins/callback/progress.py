# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: progress
type: stdout
short_description: Default Ansible output, with a progress line and a summary for fleet-wide device reads
version_added: 0.1.0
author: johann.monitor contributors (!UNKNOWN)
description:
  - Prints exactly what ansible-core's C(default) stdout callback prints (task banners, per-host
    lines, C(-v) output, errors, the play recap), except for the tasks named below, so a
    run over thousands of hosts does not print thousands of lines per task.
  - Tasks whose action is in O(compact_actions) (by default C(johann.monitor.device_info)) and,
    at verbosity 0, tasks over at least O(compact_threshold) hosts print their banner, then
    progress instead of one line per host, then a summary.
  - The progress says how many hosts are done of how many, how many are not ok so far by
    status (for device reads the record's C(degraded), C(auth_failed), C(unreachable), C(error);
    C(failed) for a failure in Ansible itself), the time elapsed and the estimated time left.
    On a terminal it is one line rewritten in place at most every O(tty_interval) seconds.
    Elsewhere (CI logs, pipes, files) a plain line is printed for every further tenth of
    the hosts (at least one second apart) or after O(progress_interval) seconds, stretched
    so that a task never prints more than 20 progress lines.
  - The progress moves when results arrive; a task waiting on slow devices shows the time of
    its last result until the next one.
  - When the task ends, a summary table gives the count per status, the first O(max_listed)
    hosts that are not ok with their status and cause (the device record's C(message), or the
    C(msg) of a task that failed in Ansible, as the default callback would show it), cut to
    O(message_width) characters, and the total time.
  - At the end of the playbook the default play recap is followed, when a device task ran, by
    one line with the totals per status over every device task of the playbook.
  - Only host names, statuses and those causes are printed for compacted tasks; never task
    arguments (not even with C(display_args_to_stdout)) nor results. Results under C(no_log)
    count as C(hidden) and show no cause.
  - Plays with the C(free) or C(host_pinned) strategy print as the default callback does,
    since their tasks interleave.
  - AWX and Ansible Automation Platform set their own stdout callback for job output, so on
    those platforms this callback is not used and job output stays per host as usual.
requirements:
  - None beyond ansible-core. Enable it with C(stdout_callback = johann.monitor.progress) in C(ansible.cfg).
extends_documentation_fragment:
  - default_callback
  - result_format_callback
options:
  compact_actions:
    description:
      - Actions whose tasks always print as progress and a summary, as fully qualified names.
      - Results of C(johann.monitor.device_info) are read for the device status and message;
        other actions count as ok, changed, failed, unreachable or skipped.
      - An empty list leaves only O(compact_threshold).
    type: list
    elements: str
    default: [johann.monitor.device_info]
    env:
      - name: JOHANN_PROGRESS_ACTIONS
    ini:
      - section: callback_johann_monitor_progress
        key: compact_actions
  compact_threshold:
    description:
      - Any other task that runs on at least this many hosts is compacted too, when Ansible runs
        without C(-v) (with C(-v) and more, every other task prints as the default callback does).
      - C(ansible.builtin.debug) tasks are never compacted by this rule, since their output is
        the point of them; nor are C(include_tasks), C(include_role) and C(meta) tasks.
      - The default keeps runs of fewer than 100 hosts looking exactly as before; V(0) turns this rule off.
    type: int
    default: 100
    env:
      - name: JOHANN_PROGRESS_THRESHOLD
    ini:
      - section: callback_johann_monitor_progress
        key: compact_threshold
  progress_mode:
    description:
      - V(auto) rewrites one line in place when standard output is a terminal, and prints plain
        lines otherwise; V(tty) and V(plain) force one of the two.
    type: str
    choices: [auto, tty, plain]
    default: auto
    env:
      - name: JOHANN_PROGRESS_MODE
    ini:
      - section: callback_johann_monitor_progress
        key: progress_mode
  tty_interval:
    description: Seconds between two redraws of the progress line on a terminal, at least.
    type: float
    default: 0.2
    env:
      - name: JOHANN_PROGRESS_TTY_INTERVAL
    ini:
      - section: callback_johann_monitor_progress
        key: tty_interval
  progress_interval:
    description:
      - Seconds between two plain progress lines when no further tenth of the hosts is done, at
        least; longer when the task is expected to last more than 20 times this.
    type: float
    default: 10.0
    env:
      - name: JOHANN_PROGRESS_INTERVAL
    ini:
      - section: callback_johann_monitor_progress
        key: progress_interval
  max_listed:
    description: How many hosts that are not ok the summary lists with their cause (the first to come back).
    type: int
    default: 20
    env:
      - name: JOHANN_PROGRESS_MAX_LISTED
    ini:
      - section: callback_johann_monitor_progress
        key: max_listed
  message_width:
    description:
      - Causes in the summary are cut to this many characters (the report has them whole).
      - 240 keeps the hints that end most causes (what to check or set); 0 means no limit.
    type: int
    default: 240
    env:
      - name: JOHANN_PROGRESS_MESSAGE_WIDTH
    ini:
      - section: callback_johann_monitor_progress
        key: message_width
notes:
  - "A device task's summary reads like: C(SUMMARY [Read the device] 10 devices in 2.3s, 6 not ok),
    one row per status with its count, then one row per host that is not ok, such as
    C(badpass  auth_failed  authentication failed: 401 access-denied ...)."
"""

import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Mapping  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from ansible import constants as C  # noqa: E402
from ansible.plugins.callback.default import CallbackModule as DefaultCallback  # noqa: E402
from ansible.utils.fqcn import add_internal_fqcns  # noqa: E402
from ansible_collections.johann.monitor.plugins.plugin_utils import _progress as progress  # noqa: E402
from ansible_collections.johann.monitor.plugins.plugin_utils._compat import play_hosts, task_id  # noqa: E402

INTERLEAVING_STRATEGIES = frozenset(add_internal_fqcns(("free", "host_pinned")))
# Never compacted by host count: debug output is what the user asked for; includes and meta
# print one line per task, not per host.
NEVER_BY_COUNT = frozenset(add_internal_fqcns(("debug", "include_tasks", "include_role", "meta")))
ERASE_LINE = "\r\x1b[K"


@dataclass
class _Compacted:
    """The task being shown as progress: which one, how, and its tally so far."""

    uuid: str
    name: str
    device: bool
    tally: progress.Tally
    pacer: progress.Pacer
    started: float
    drawn: bool = False


def _payload(result: Any) -> Mapping:
    """The result dictionary (``CallbackTaskResult.result``, ansible-core 2.19 and later)."""
    return result.result


def _action_names(task: Any) -> set[str]:
    """The task's action as written and, when it is not a template, as resolved (its FQCN).

    ``resolved_action`` returns what Ansible resolved when it did, and warns on a templated
    action, so that case is left as written.
    """
    action = str(getattr(task, "action", "") or "")
    names = {action}
    if "{{" not in action and "{%" not in action:
        names.add(task.resolved_action or action)
    return names


class CallbackModule(DefaultCallback):
    """ansible-core's default callback, compact for device reads and very wide tasks."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "johann.monitor.progress"

    def __init__(self) -> None:
        super().__init__()
        self._compacted: _Compacted | None = None
        self._current_play: Any = None   # from v2_playbook_on_play_start
        self._banner_shown: str | None = None   # the id of the task whose banner was printed last
        self._device_counts: Counter = Counter()
        self._device_tasks = 0
        self._device_seconds = 0.0

    # --- which tasks are compacted -------------------------------------------------------

    def _is_device_task(self, task: Any) -> bool:
        wanted = set(self.get_option("compact_actions") or [])
        short = {name.rsplit(".", 1)[-1] for name in wanted}
        if str(getattr(task, "action", "")).rsplit(".", 1)[-1] not in short:
            return False   # most tasks: decided without resolving their action
        return bool(_action_names(task) & wanted)

    def _expected_hosts(self, task: Any) -> int | None:
        """Hosts the task will report on: the play's batch less failed and unreachable hosts.

        This is Ansible's own ``ansible_play_batch``; None when the play cannot say.
        """
        if getattr(task, "run_once", False) is True:
            return 1
        hosts = play_hosts(self._current_play) if self._current_play is not None else None
        return None if hosts is None else len(hosts)

    def _is_wide(self, task: Any, total: int | None) -> bool:
        """Over the host-count threshold, without -v; decided on the action as written, since
        resolving every task's action can make ansible-core warn."""
        threshold = self.get_option("compact_threshold") or 0
        return (0 < threshold <= (total or 0) and self._display.verbosity == 0
                and str(getattr(task, "action", "")) not in NEVER_BY_COUNT)

    def _tty(self) -> bool:
        mode = self.get_option("progress_mode")
        return mode == "tty" or (mode == "auto" and sys.stdout.isatty())

    def _start_compacted(self, task: Any) -> None:
        if self._current_play is None or self._current_play.strategy in INTERLEAVING_STRATEGIES:
            return
        device = self._is_device_task(task)
        total = self._expected_hosts(task)
        if not device and not self._is_wide(task, total):
            return
        if self._banner_shown != task_id(task):
            self._print_task_banner(task)
        now = time.monotonic()
        tally = progress.Tally("devices" if device else "hosts", total, keep=self.get_option("max_listed"))
        pacer = progress.Pacer(self._tty(), now, tty_interval=self.get_option("tty_interval"),
                               interval=self.get_option("progress_interval"))
        self._compacted = _Compacted(task_id(task), task.get_name().strip(), device, tally, pacer, now)
        self._tick()

    # --- drawing ---------------------------------------------------------------------------

    def _tick(self) -> None:
        """Redraw or print the progress line when the pacer says it is time."""
        shown = self._compacted
        now = time.monotonic()
        if shown is None or not shown.pacer.due(now, shown.tally.done, shown.tally.expected):
            return
        line = progress.progress_line(shown.tally, now - shown.started)
        if shown.pacer.tty:
            width = shutil.get_terminal_size((100, 24)).columns - 1
            self._display.display(ERASE_LINE + progress.truncate(line, width), newline=False, screen_only=True)
            sys.stdout.flush()
            shown.drawn = True
        else:
            self._display.display(line, screen_only=True)
        shown.pacer.mark(now, shown.tally.done, shown.tally.expected)

    def _erase(self) -> None:
        """Clear the progress line before anything else is printed on the terminal."""
        shown = self._compacted
        if shown is not None and shown.drawn:
            self._display.display(ERASE_LINE, newline=False, screen_only=True)
            shown.drawn = False

    def _finish(self) -> None:
        """Replace the progress by the summary table of the task that just ended."""
        shown, self._compacted = self._compacted, None
        if shown is None:
            return
        if shown.drawn:
            self._display.display(ERASE_LINE, newline=False, screen_only=True)
        if shown.tally.done == 0:
            return
        elapsed = time.monotonic() - shown.started
        lines = progress.summary_lines(shown.tally, shown.name, elapsed, self.get_option("message_width"))
        self._display.display(lines[0], color=C.COLOR_ERROR if shown.tally.not_ok else C.COLOR_OK)
        self._display.display("\n".join(lines[1:]))
        if shown.device:
            self._device_counts.update(shown.tally.counts)
            self._device_tasks += 1
            self._device_seconds += elapsed

    # --- results of a compacted task -----------------------------------------------------

    def _take(self, result: Any, event: str) -> bool:
        """Count a result of the compacted task; False when the result belongs to another task."""
        shown = self._compacted
        if shown is None or task_id(result.task) != shown.uuid:
            return False
        payload = _payload(result)
        classify = progress.device_outcome if shown.device else progress.generic_outcome
        shown.tally.add(classify(result.host.get_name(), event, payload))
        if payload.get("warnings") or payload.get("deprecations"):
            self._erase()
            self._handle_warnings(payload)
        self._tick()
        return True

    def _owned(self, result: Any) -> bool:
        return self._compacted is not None and task_id(result.task) == self._compacted.uuid

    def v2_runner_on_ok(self, result: Any) -> None:
        if not self._take(result, "ok"):
            super().v2_runner_on_ok(result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        if not self._take(result, "failed"):
            super().v2_runner_on_failed(result, ignore_errors)

    def v2_runner_on_skipped(self, result: Any) -> None:
        if not self._take(result, "skipped"):
            super().v2_runner_on_skipped(result)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        if not self._take(result, "unreachable"):
            super().v2_runner_on_unreachable(result)

    def v2_runner_item_on_ok(self, result: Any) -> None:
        if not self._owned(result):
            super().v2_runner_item_on_ok(result)

    def v2_runner_item_on_failed(self, result: Any) -> None:
        if not self._owned(result):
            super().v2_runner_item_on_failed(result)

    def v2_runner_item_on_skipped(self, result: Any) -> None:
        if not self._owned(result):
            super().v2_runner_item_on_skipped(result)

    def v2_runner_retry(self, result: Any) -> None:
        if not self._owned(result):
            super().v2_runner_retry(result)

    def v2_runner_on_start(self, host: Any, task: Any) -> None:
        if self._compacted is None or task_id(task) != self._compacted.uuid:
            super().v2_runner_on_start(host, task)

    def v2_on_file_diff(self, result: Any) -> None:
        self._erase()
        super().v2_on_file_diff(result)

    # --- where tasks begin and end ---------------------------------------------------------

    def _print_task_banner(self, task: Any) -> None:
        """The default banner (every banner goes through here), without arguments for device tasks:
        they can hold a password. The default callback prints no arguments for a ``no_log`` task,
        so a device task's banner is printed from a copy of it marked so (display_args_to_stdout
        is one of Ansible's own settings, not this callback's: it is left as the user set it)."""
        if self._is_device_task(task):
            task = task.copy(exclude_tasks=True)
            task.no_log = True
        super()._print_task_banner(task)
        self._banner_shown = task_id(task)

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._finish()
        super().v2_playbook_on_task_start(task, is_conditional)
        self._start_compacted(task)

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self._finish()
        super().v2_playbook_on_handler_task_start(task)
        self._start_compacted(task)

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self._finish()
        self._current_play = play
        super().v2_playbook_on_play_start(play)

    def v2_playbook_on_no_hosts_remaining(self) -> None:
        self._finish()
        super().v2_playbook_on_no_hosts_remaining()

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self._finish()
        super().v2_playbook_on_stats(stats)
        if self._device_tasks:
            line = progress.totals_line(self._device_counts, self._device_tasks, self._device_seconds)
            bad = any(n and status not in progress.FINE for status, n in self._device_counts.items())
            self._display.display(line, color=C.COLOR_ERROR if bad else C.COLOR_OK)
        self._device_counts, self._device_tasks, self._device_seconds = Counter(), 0, 0.0
