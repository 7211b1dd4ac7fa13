# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One report from a play: its settings, its records and its rendering.

Shared by the report action (the ``Write the report`` task) and the report_guard callback,
which writes the report from the same play's results when the run stops before that task.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from ansible_collections.johann.monitor.plugins.plugin_utils._report import merge, shape
from ansible_collections.johann.monitor.plugins.plugin_utils._report import records as recs
from ansible_collections.johann.monitor.plugins.plugin_utils._report.ara_source import Source
from ansible_collections.johann.monitor.plugins.plugin_utils._report.project import (
    IN_USE,
    project_root,
    report_dir,
    template_dirs,
)
from ansible_collections.johann.monitor.plugins.plugin_utils._report.render import load_fleet_json, render_report

IGNORED_THRESHOLDS = ("johann.monitor.report: the thresholds option is ignored: device_info evaluates the thresholds "
                      "of each host when it reads it (its thresholds option, or the host's johann_thresholds) and the "
                      "report shows those alerts; set them there")


class ReportJob:
    """The report of one play, from the validated options of the report task and the play's variables.

    ``template`` turns a raw variable value into its value (Ansible's templar); ``title_given``
    tells whether the task set ``title`` itself (else a re-render keeps the stored title).
    """

    def __init__(self, params: dict, task_vars: dict, template: Callable[[Any], Any], title_given: bool) -> None:
        self.params, self.task_vars, self.template, self.title_given = params, task_vars, template, title_given
        self.project = project_root(Path(task_vars.get("playbook_dir") or ".").resolve(),
                                    task_vars.get("ansible_config_file", IN_USE))

    def var(self, name: str) -> Any:
        value = self.task_vars.get(name)
        return self.template(value) if value is not None else None

    def hosts(self) -> list[str]:
        return list(self.params.get("hosts") or self.var("ansible_play_hosts_all") or [])

    def results(self) -> dict[str, Any]:
        """Each host's registered device_info result (None: the host has none)."""
        hostvars = self.task_vars["hostvars"]
        name = self.params["result_var"]
        return {host: hostvars.raw_get(host).get(name) if host in hostvars else None for host in self.hosts()}

    def output_dir(self) -> Path:
        return report_dir(self.params.get("output_dir") or self.var("johann_report_dir"), self.project)

    def run(self, history: dict, absent: dict[str, tuple[str, str]] | None = None,
            source: Source | None = None) -> dict:
        """Render from the registered results; ``absent``: hosts known to have none -> (status, why);
        ``source``: the results other runs recorded in ARA (source=ara), instead of this play's."""
        stored: dict = {}
        if self.params.get("fleet_json"):
            stored = load_fleet_json(Path(self.params["fleet_json"]))
            devices = stored["devices"]
            records = {host: recs.Lazy.packed(host, text) for host, text in devices.raw_items()} \
                if isinstance(devices, recs.StoredDevices) else \
                {host: None if rec is None else shape.complete(rec, host) for host, rec in devices.items()}
            timed_out = []
        else:
            results = source.results if source is not None else self.results()
            records = {host: recs.Lazy(partial(recs.from_result, host, result)) for host, result in results.items()}
            records.update({host: shape.blank(host, *why) for host, why in (absent or {}).items()})
            timed_out = sorted(host for host, result in results.items() if recs.timed_out(result))
        ignored = [IGNORED_THRESHOLDS] if self.params.get("thresholds") else []
        title = self.params["title"] if self.title_given else stored.get("title", self.params["title"])
        now = dt.datetime.now(dt.UTC)
        generated = merge.iso(now)
        merged, warnings = self.carry_over(records, now) if not stored else (
            merge.Merged(records, seen=stored.get("seen") if isinstance(stored.get("seen"), dict) else {}), [])
        if source is not None:
            self.from_ara(merged, source, generated)
        summary = render_report(merged.records, self.output_dir(), template_dirs(self.params.get("templates_dir"),
                                                                                 self.project),
                                title, generated, history=history, completed=True,
                                carried=merged.carried, seen=merged.seen)
        warnings = [*ignored, *warnings, *summary.pop("warnings", [])]
        extra = {"from_ara": {"run": self.params.get("ara_run"), "hosts": len(source.results),
                              "playbooks": source.playbooks, "runs": source.runs}} if source is not None else {}
        return dict(summary, timed_out=timed_out, changed=True, forgotten=merged.forgotten, renamed=merged.renamed,
                    **extra, **({"warnings": warnings} if warnings else {}))

    def from_ara(self, merged: merge.Merged, source: Source, generated: str) -> None:
        """Hosts read from ARA: last in a run when their result was recorded; hosts asked for (``hosts``)
        that no run recorded and the previous report did not have: shown as missing, with why."""
        for host, when in source.read_at.items():
            merged.seen[host] = merge.iso(merge.parse_time(when) or merge.parse_time(generated))
        where = (f"labelled johann.run:{self.params['ara_run']}" if self.params.get("ara_run") is not None
                 else f"of the last {self.params['ara_within']} s")
        for host in self.params.get("hosts") or []:
            if host not in merged.records:
                merged.records[host] = shape.blank(host, "missing", f"no run {where} recorded a device_info result "
                                                                    f"for this host in ARA (was it in a slice?)")
                merged.seen[host] = generated

    def carry_over(self, records: dict[str, dict | None], now: dt.datetime) -> tuple[merge.Merged, list[str]]:
        """This run's records, and the previous report's other devices with their age (carry_over)."""
        limits = merge.Limits(self.params["stale_after"], self.params["forget_after"])
        if not self.params["carry_over"]:
            return merge.Merged(records, seen={}), []
        previous, warning = merge.read_previous(self.output_dir())
        return merge.merge(previous, records, now, limits), [f"johann.monitor.report: {warning}"] if warning else []
