# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller side of every RESTCONF plugin: options from task, inventory and environment.

Each plugin is an action plugin (it runs in the worker process on the
controller: no module is shipped and no interpreter started per host) with a
module file of the same name that carries its documentation and argument spec.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible_collections.johann.monitor.plugins.module_utils._restconf import eventloop
from ansible_collections.johann.monitor.plugins.module_utils._restconf.client import HTTPX_IMPORT_ERROR
from ansible_collections.johann.monitor.plugins.module_utils._restconf.options import (
    INVENTORY_VARS,
    RESTCONF_REQUIRED_TOGETHER,
)

BACKSTOP_S = 30.0   # beyond the device's deadline, when the task stops itself (unless it has a ``timeout:``)
MAX_ALARM_S = 2.0 ** 31 - 1   # the timer's limit (about 68 years): a larger deadline has no backstop in practice


class Backstop(Exception):
    """The task's own time ran out (``backstop``)."""


@contextlib.contextmanager
def backstop(seconds: float | None):
    """Stop the block with ``Backstop`` after ``seconds`` (SIGALRM, as Ansible's task ``timeout:`` does).

    Every device is bounded by its deadline inside the read; this is the bound above it, for what no
    deadline covers (code that blocks instead of waiting). It costs nothing per host, where the same
    bound as a templated ``timeout:`` on the task costs each worker a Jinja compilation (about 6 ms of CPU
    per host). Nothing is set with ``seconds`` None (the task has Ansible's own timeout), when an alarm
    is already set (whoever set it owns SIGALRM: Ansible's task timeout, a test harness) or outside the
    main thread (signals go there only).
    """
    if (seconds is None or not seconds > 0 or threading.current_thread() is not threading.main_thread()
            or signal.getitimer(signal.ITIMER_REAL)[0]):
        yield
        return

    def stop(_signum, _frame):
        raise Backstop()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, MAX_ALARM_S))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class RestconfAction(ActionBase):
    """Subclasses set ``ARGUMENT_SPEC`` and implement ``execute(params, task_vars)``."""

    TRANSFERS_FILES = False
    _requires_connection = False
    ARGUMENT_SPEC: dict[str, Any] = {}
    EXTRA_INVENTORY_VARS: dict[str, tuple[str, ...]] = {}

    def _inventory_value(self, names: tuple[str, ...], task_vars: dict) -> Any:
        for name in names:
            if name in task_vars and task_vars[name] is not None:
                return self._templar.template(task_vars[name])
        return None

    def _params(self, task_vars: dict) -> tuple[dict | None, str | None]:
        args = dict(self._task.args)
        for option, names in {**INVENTORY_VARS, **self.EXTRA_INVENTORY_VARS}.items():
            if args.get(option) is None:
                value = self._inventory_value(names, task_vars)
                if value is not None:
                    args[option] = value
        validator = ArgumentSpecValidator(self.ARGUMENT_SPEC, required_together=RESTCONF_REQUIRED_TOGETHER)
        result = validator.validate(args)
        messages = [m for e, m in zip(result.errors, result.error_messages, strict=True)
                    if not isinstance(e, UnsupportedError)]
        if result.unsupported_parameters:
            messages.insert(0, f"unsupported parameters: {', '.join(sorted(result.unsupported_parameters))}; "
                               f"supported: {', '.join(sorted(self.ARGUMENT_SPEC))}")
        if messages:
            return None, "; ".join(messages)
        return result.validated_parameters, None

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if HTTPX_IMPORT_ERROR is not None:
            raise AnsibleError(f"johann.monitor needs the Python library httpx on the controller: {HTTPX_IMPORT_ERROR}")
        params, error = self._params(task_vars or {})
        if error:
            result.update(failed=True, msg=f"{self._task.action}: {error}")
            return result
        limit = None if self._task.timeout else params["deadline"] + BACKSTOP_S
        try:
            with backstop(limit):
                result.update(self.execute(params, task_vars or {}))
        except ValueError as exc:
            result.update(failed=True, msg=f"{self._task.action}: {exc}")
        except Backstop:
            result.update(failed=True, timedout={"period": limit, "by": "backstop"},
                          msg=f"{self._task.action}: stopped after {limit:g} s, {BACKSTOP_S:g} s past the device's "
                              f"deadline ({params['deadline']:g} s, restconf_deadline), without a result (the task's "
                              f"backstop: the read did not end at its deadline)")
        return result

    def execute(self, params: dict, task_vars: dict) -> dict:  # pragma: no cover - overridden
        raise NotImplementedError

    @staticmethod
    def run_async(coroutine):
        return eventloop.run(coroutine)   # uvloop's loop when installed (imported here, before Ansible forks)
