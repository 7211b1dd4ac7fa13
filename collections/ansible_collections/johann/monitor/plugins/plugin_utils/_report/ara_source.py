# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One fleet from several runs recorded in ARA: the slices of a sliced job, read back.

A sliced job (AWX/AAP job slicing, or K ``ansible-playbook`` runs over parts of one inventory)
polls each device in one of its slices, on different machines, and each slice records its
``device_info`` results in the shared ARA. ``newest_results`` reads them back: for every host, its
newest ``device_info`` result among the runs chosen - the runs labelled ``johann.run:<run>`` when a
run id is given (monitor.yml labels a run with ``johann_run_id``), else the runs whose
``device_info`` task started at or after ``since``. The results are the task results as Ansible
registered them (ARA keeps each one whole), so the report turns them into records exactly as it
does in a single run (records.from_result): the merged report's statuses are the unsliced run's.

Only ARA's REST API is used (through the ARA client of the running playbook): playbooks by label,
their ``device_info`` task (by its action), the task's results (host and id), then each result's
content, fetched by a few threads since ARA's list endpoint leaves contents out.
"""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.johann.monitor.plugins.plugin_utils._report.history import HistoryError, api_get, describe

RUN_LABEL = "johann.run:"   # monitor.yml's ARA label for johann_run_id
ACTIONS = ("johann.monitor.device_info", "device_info")   # how ARA records the task's action (FQCN or short)
PAGE = 500   # items per request when listing (ARA's default page is 100)
FETCHERS = 4   # concurrent result reads: ARA's list endpoint has no contents, one request per host


class SourceError(HistoryError):
    """The runs could not be read from ARA; the message says what and where."""


@dataclass
class Source:
    """What ``newest_results`` found.

    ``results``: host -> its newest device_info result (the registered result, as ARA kept it);
    ``read_at``: host -> when that result was recorded (ISO, ARA's ``ended``/``started``);
    ``playbooks``: the ARA playbook ids the results come from, newest first;
    ``runs``: every playbook considered (newest first), with its id, status, start and host count.
    """
    results: dict[str, dict] = field(default_factory=dict)
    read_at: dict[str, str] = field(default_factory=dict)
    playbooks: list[int] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)


def _pages(client: Any, path: str, **params: Any) -> list[dict]:
    """Every item of an ARA list endpoint, page by page."""
    items: list[dict] = []
    offset = 0
    while True:
        reply = api_get(client, path, limit=PAGE, offset=offset, **params)
        page = reply.get("results")
        if not isinstance(page, list):
            raise SourceError(f"unexpected reply from {describe(client)} for {path}: no results list")
        items.extend(item for item in page if isinstance(item, dict))
        offset += len(page)
        if not page or not reply.get("next") or offset >= int(reply.get("count") or 0):
            return items


def _tasks(client: Any, run: str | None, since: dt.datetime | None) -> list[dict]:
    """The device_info tasks of the chosen runs, newest first (one per playbook: its newest)."""
    if run is not None:
        playbooks = _pages(client, "/api/v1/playbooks", label=f"{RUN_LABEL}{run}", order="-started")
        tasks = [t for p in playbooks for action in ACTIONS
                 for t in _pages(client, "/api/v1/tasks", playbook=p["id"], action=action)]
    else:
        when = since.astimezone(dt.UTC).isoformat() if since else None
        tasks = [t for action in ACTIONS
                 for t in _pages(client, "/api/v1/tasks", action=action, **({"started_after": when} if when else {}))]
    newest: dict[Any, dict] = {}
    for task in tasks:
        playbook = task["playbook"]["id"] if isinstance(task.get("playbook"), dict) else task.get("playbook")
        if playbook is not None and (playbook not in newest or str(task.get("started")) > str(newest[playbook].get("started"))):
            newest[playbook] = dict(task, playbook=playbook)
    return sorted(newest.values(), key=lambda t: (str(t.get("started") or ""), t.get("id") or 0), reverse=True)


def _hosts(client: Any, playbook: int) -> dict[int, str]:
    return {h["id"]: h["name"] for h in _pages(client, "/api/v1/hosts", playbook=playbook)
            if isinstance(h.get("id"), int) and isinstance(h.get("name"), str)}


def _content(client: Any, result_id: int) -> dict:
    detail = api_get(client, f"/api/v1/results/{result_id}")
    content = detail.get("content")
    if isinstance(content, dict):
        return content
    return {"failed": True, "msg": f"ARA kept no readable result for this host (result {result_id})"}


def newest_results(client: Any, run: str | None = None, since: dt.datetime | None = None,
                   hosts: set[str] | None = None) -> Source:
    """Each host's newest device_info result among the runs of ``run`` (an id), else since ``since``.

    ``hosts``: only these hosts (None: every host found). Raises SourceError when ARA cannot be read
    or nothing matches (the message says which runs were looked for)."""
    if run is None and since is None:
        raise ValueError("give the run id (ara_run) or how far back to look (ara_within)")
    found = Source()
    wanted: dict[str, tuple[int, str]] = {}   # host -> (result id, when)
    for task in _tasks(client, run, since):
        names = _hosts(client, task["playbook"])
        listed = sorted(_pages(client, "/api/v1/results", task=task["id"]),
                        key=lambda r: (str(r.get("ended") or r.get("started") or ""), r.get("id") or 0), reverse=True)
        used = 0
        for result in listed:
            host = names.get(result.get("host"))
            if host is None or host in wanted or (hosts is not None and host not in hosts):
                continue
            wanted[host] = (result["id"], str(result.get("ended") or result.get("started") or ""))
            used += 1
        found.runs.append({"playbook": task["playbook"], "task": task["id"], "started": task.get("started"),
                           "status": task.get("status"), "results": len(listed), "used": used})
        if used:
            found.playbooks.append(task["playbook"])
    if not found.runs:
        what = f"labelled {RUN_LABEL}{run}" if run is not None else f"with a device_info task since {since}"
        raise SourceError(f"{describe(client)} has no run {what}: nothing to build the report from "
                          f"(did the slices record to this ARA server, with the same johann_run_id?)")
    with ThreadPoolExecutor(max_workers=FETCHERS) as pool:
        contents = dict(zip(wanted, pool.map(lambda item: _content(client, item[0]), wanted.values()), strict=True))
    for host in sorted(contents):
        found.results[host] = contents[host]
        found.read_at[host] = wanted[host][1]
    return found
