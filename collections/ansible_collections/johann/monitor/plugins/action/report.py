# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of johann.monitor.report (documentation: plugins/modules/report.py)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible_collections.johann.monitor.plugins.module_utils._alerts import ThresholdError, merge_thresholds
from ansible_collections.johann.monitor.plugins.module_utils._tasks import report_spec
from ansible_collections.johann.monitor.plugins.plugin_utils._report import history as hist
from ansible_collections.johann.monitor.plugins.plugin_utils._report.render import load_fleet_json, render_report

COLLECTION_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "report"
ARGUMENT_SPEC = report_spec()


def _record(result) -> dict | None:
    """The device record of a device_info result, in either result_format.

    A task that failed before it made a record (an undecryptable vaulted password, a bad
    parameter) gives an error record carrying Ansible's message, so the report names the cause.
    """
    if not isinstance(result, dict):
        return None
    if isinstance(result.get("device_json"), str):
        return json.loads(result["device_json"])
    if result.get("device") is None and (result.get("failed") or result.get("unreachable")):
        return {"status": "error", "message": f"the device_info task failed: {result.get('msg') or 'no message'}"}
    return result.get("device")


def _project_root(playbook_dir: Path) -> Path:
    """The nearest directory above the playbook that holds reports/templates (the project layout)."""
    for candidate in (playbook_dir, *playbook_dir.parents):
        if (candidate / "reports" / "templates" / "base.html").is_file():
            return candidate
    return playbook_dir.parent


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        validated = ArgumentSpecValidator(ARGUMENT_SPEC, mutually_exclusive=[["hosts", "fleet_json"]]).validate(
            dict(self._task.args))
        if validated.error_messages:
            return dict(result, failed=True, msg="johann.monitor.report: " + "; ".join(validated.error_messages))
        try:
            result.update(self._render(validated.validated_parameters, task_vars))
        except (ValueError, OSError) as exc:
            result.update(failed=True, msg=f"johann.monitor.report: {exc}")
        return result

    def _var(self, name: str, task_vars: dict):
        return self._templar.template(task_vars[name]) if task_vars.get(name) is not None else None

    def _template_dirs(self, params: dict, project: Path) -> list[Path]:
        """The user's templates first (they may override only some pages), then the project's
        reports/templates, then the defaults shipped in the collection (templates/report).

        In this project reports/templates is a symlink to the collection's copy (one directory,
        listed once); an installed collection used from any other project renders with its own."""
        dirs = []
        if params.get("templates_dir"):
            user = Path(params["templates_dir"])
            if not user.is_dir():
                raise ValueError(f"templates_dir {user} is not a directory")
            dirs.append(user)
        for candidate in (project / "reports" / "templates", COLLECTION_TEMPLATES):
            if (candidate / "base.html").is_file() and candidate.resolve() not in [d.resolve() for d in dirs]:
                dirs.append(candidate)
        if not any((d / "base.html").is_file() for d in dirs):
            raise ValueError("no report templates found: give templates_dir (a directory with base.html, "
                             "index.html, device.html, stats.html and licensing.html)")
        return dirs

    def _records(self, params: dict, task_vars: dict) -> tuple[dict, dict]:
        if params.get("fleet_json"):
            stored = load_fleet_json(Path(params["fleet_json"]))
            return stored["devices"], stored
        hostvars = task_vars["hostvars"]
        hosts = params.get("hosts") or task_vars.get("ansible_play_hosts_all") or []
        records = {}
        for host in hosts:
            result = hostvars.raw_get(host).get(params["result_var"]) if host in hostvars else None
            records[host] = _record(result)
        return records, {}

    def _render(self, params: dict, task_vars: dict) -> dict:
        project = _project_root(Path(task_vars.get("playbook_dir") or ".").resolve())
        records, stored = self._records(params, task_vars)
        overrides = params.get("thresholds") or self._var("johann_thresholds", task_vars) or {}
        try:
            thresholds = merge_thresholds(overrides or stored.get("thresholds"))
        except ThresholdError as exc:
            raise ValueError(str(exc)) from None
        # absolute: the paths in the result are used by later tasks, whose relative paths mean other things
        output = Path(params.get("output_dir") or self._var("johann_report_dir", task_vars)
                      or project / "reports" / "out").absolute()
        generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        title = params["title"] if "title" in self._task.args else stored.get("title", params["title"])
        summary = render_report(records, output, self._template_dirs(params, project), thresholds, title, generated,
                                history=self._history(params))
        return dict(summary, changed=True)

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
