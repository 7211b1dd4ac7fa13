# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of johann.monitor.report (documentation: plugins/modules/report.py)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible_collections.johann.monitor.plugins.module_utils._tasks import REPORT_EXCLUSIVE, report_spec
from ansible_collections.johann.monitor.plugins.plugin_utils._compat import play_id
from ansible_collections.johann.monitor.plugins.plugin_utils._report import ara_source
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
        validated = ArgumentSpecValidator(ARGUMENT_SPEC, mutually_exclusive=REPORT_EXCLUSIVE).validate(
            dict(self._task.args))
        if validated.error_messages:
            return dict(result, failed=True, msg="johann.monitor.report: " + "; ".join(validated.error_messages))
        params = validated.validated_parameters
        try:
            job = ReportJob(params, task_vars or {}, self._templar.template, "title" in self._task.args)
            source = self._from_ara(params) if params["source"] == "ara" else None
            history = self._history(params, source)
            result.update(job.run(history, source=source))
            if history["recording"] and params["ara_record"] and source is None and not params.get("fleet_json"):
                result["history"]["recorded"] = self._record(result, params)
        except ara_source.SourceError as exc:   # nothing to render from: the previous report stays
            result.update(failed=True, msg=f"johann.monitor.report: {exc}; the previous report is unchanged")
        except (ValueError, OSError, ReportWriteError) as exc:
            result.update(failed=True, msg=f"johann.monitor.report: {exc}")
        except TemplateError as exc:   # a page template fails whatever the devices: the previous report stays
            result.update(failed=True, msg=f"johann.monitor.report: a report template failed "
                                           f"({type(exc).__name__}: {exc}); the previous report is unchanged")
        except Exception as exc:   # noqa: BLE001 - whatever it is, before the commit: nothing was replaced
            result.update(failed=True, msg=f"johann.monitor.report: the report could not be written "
                                           f"({type(exc).__name__}: {exc}); the previous report is unchanged")
        return result

    def _record(self, result: dict, params: dict) -> dict | None:
        """This run's summary, the report's location and ``ara_labels``, attached to the run in ARA (what later
        reports read for their trends). A run ARA cannot record keeps its report: a warning says why."""
        client, why = hist.ara_client()
        try:
            if client is None:
                raise hist.HistoryError(why)
            return hist.record_run(client, play_id(self._task.get_play()), Path(result["summary_path"]),
                                   Path(result["path"]), params["ara_labels"])
        except hist.HistoryError as exc:
            result.setdefault("warnings", []).append(f"johann.monitor.report: the run was not recorded in ARA: {exc}; "
                                                     f"the report is written, later trends will miss this run")
            return None

    @staticmethod
    def _from_ara(params: dict) -> ara_source.Source:
        """source=ara: each host's newest device_info result among the runs other playbooks recorded in ARA."""
        if params["ara_run"] is not None and not params["ara_run"].strip():
            raise ValueError("ara_run is empty: give the slices' johann_run_id, or leave it out to use ara_within")
        if params["ara_run"] is None and params["ara_within"] <= 0:
            raise ValueError(f"ara_within must be a number of seconds over 0, not {params['ara_within']}")
        client, why = hist.ara_client()
        if client is None:
            raise ara_source.SourceError(f"source=ara reads the runs from ARA: {why}")
        since = None if params["ara_run"] is not None else (
            dt.datetime.now(dt.UTC) - dt.timedelta(seconds=params["ara_within"]))
        return ara_source.newest_results(client, params["ara_run"], since, set(params["hosts"] or []) or None)

    def _history(self, params: dict, source: ara_source.Source | None = None) -> dict:
        """Past runs from ARA, or why there are none (the report says so; it never fails over history).

        With source=ara, the runs the records come from are not past runs: their summaries are left out."""
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
            used = set(source.playbooks) if source is not None else set()
            past = [run for run in hist.load_runs(client, params["history_runs"] + len(used))
                    if run.get("playbook") not in used][-params["history_runs"]:] if params["history_runs"] else []
        except hist.HistoryError as exc:
            self._display.warning(f"johann.monitor.report: {exc}; the report shows this run only")
            return dict(off, reason=str(exc), recording=False)   # writing would fail the same way
        return dict(off, enabled=True, reason=None, past=past)
