# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of johann.monitor.report (documentation: plugins/modules/report.py)."""
from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible_collections.johann.monitor.plugins.module_utils._tasks import report_spec
from ansible_collections.johann.monitor.plugins.plugin_utils._report import history as hist
from ansible_collections.johann.monitor.plugins.plugin_utils._report.job import ReportJob
from ansible_collections.johann.monitor.plugins.plugin_utils._report.staging import ReportWriteError
from jinja2 import TemplateError

ARGUMENT_SPEC = report_spec()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        validated = ArgumentSpecValidator(ARGUMENT_SPEC, mutually_exclusive=[["hosts", "fleet_json"]]).validate(
            dict(self._task.args))
        if validated.error_messages:
            return dict(result, failed=True, msg="johann.monitor.report: " + "; ".join(validated.error_messages))
        params = validated.validated_parameters
        try:
            job = ReportJob(params, task_vars or {}, self._templar.template, "title" in self._task.args)
            result.update(job.run(self._history(params)))
        except (ValueError, OSError, ReportWriteError) as exc:
            result.update(failed=True, msg=f"johann.monitor.report: {exc}")
        except TemplateError as exc:   # a page template fails whatever the devices: the previous report stays
            result.update(failed=True, msg=f"johann.monitor.report: a report template failed "
                                           f"({type(exc).__name__}: {exc}); the previous report is unchanged")
        except Exception as exc:   # noqa: BLE001 - whatever it is, before the commit: nothing was replaced
            result.update(failed=True, msg=f"johann.monitor.report: the report could not be written "
                                           f"({type(exc).__name__}: {exc}); the previous report is unchanged")
        return result

    def _history(self, params: dict) -> dict:
        """Past runs from ARA, or why there are none (the report says so; it never fails over history)."""
        client, why = hist.ara_client()
        off = {"enabled": False, "source": hist.describe(client) if client else None, "past": [],
               "recording": client is not None}
        if not params["history"]:
            return dict(off, reason="history is switched off (history: false)")
        if params.get("fleet_json"):
            return dict(off, reason="re-rendered from fleet.json: history is shown by monitor runs only")
        if params["history_runs"] < 0:
            raise ValueError(f"history_runs must be 0 or more, not {params['history_runs']}")
        if client is None:
            return dict(off, reason=why)
        try:
            past = hist.load_runs(client, params["history_runs"])
        except hist.HistoryError as exc:
            self._display.warning(f"johann.monitor.report: {exc}; the report shows this run only")
            return dict(off, reason=str(exc), recording=False)   # writing would fail the same way
        return dict(off, enabled=True, reason=None, past=past)
