"""The slices read back from ARA: each host's newest device_info result among the chosen runs (ara_source.py).

The client is a stand-in for ARA's API (its list endpoints page by limit/offset and leave result contents
out, as ARA 1.8 does); the integration test (tests/integration/test_slices.py) reads a real ARA on PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from ansible_collections.johann.monitor.plugins.plugin_utils._report import ara_source


class FakeAra:
    """ARA's REST API over a few playbooks: tasks, hosts, results (list without content, detail with it)."""

    endpoint = "http://ara.test"

    def __init__(self, playbooks: list[dict]) -> None:
        self.playbooks, self.tasks, self.hosts, self.results = [], [], [], []
        self.requests: list[tuple[str, dict]] = []
        for number, book in enumerate(playbooks, start=1):
            self.playbooks.append({"id": number, "labels": book.get("labels", []), "started": book["started"]})
            if book.get("action") is None:
                continue
            task = {"id": 100 + number, "playbook": number, "action": book["action"], "started": book["started"],
                    "status": "completed"}
            self.tasks.append(task)
            for host, content in book["results"].items():
                host_id = len(self.hosts) + 1
                self.hosts.append({"id": host_id, "name": host, "playbook": number})
                self.results.append({"id": len(self.results) + 1, "task": task["id"], "host": host_id,
                                     "ended": book["started"], "content": content})

    def get(self, path: str, **params):
        self.requests.append((path, params))
        if path.startswith("/api/v1/results/"):
            found = next(r for r in self.results if r["id"] == int(path.rsplit("/", 1)[1]))
            return dict(found)
        items = {"/api/v1/playbooks": self.playbooks, "/api/v1/tasks": self.tasks, "/api/v1/hosts": self.hosts,
                 "/api/v1/results": [{k: v for k, v in r.items() if k != "content"} for r in self.results]}[path]
        if "label" in params:
            items = [p for p in items if params["label"].lower() in [x.lower() for x in p["labels"]]]
        for key in ("playbook", "task"):
            if key in params:
                items = [i for i in items if i[key] == params[key]]
        if "action" in params:
            items = [t for t in items if t["action"] == params["action"]]
        if "started_after" in params:
            items = [t for t in items if t["started"] >= params["started_after"]]
        offset, limit = params.get("offset", 0), params.get("limit", 100)
        page = items[offset:offset + limit]
        return {"count": len(items), "next": "more" if offset + limit < len(items) else None, "results": page}


def ok(serial: str) -> dict:
    return {"changed": False, "device_json": json.dumps({"status": "ok", "identity": {"serial": serial}})}


FQCN = "johann.monitor.device_info"


def test_each_host_gets_its_newest_result_from_the_runs_of_one_id():
    ara = FakeAra([
        {"labels": ["johann.run:r1"], "started": "2026-12-02T10:00:00+00:00", "action": FQCN,
         "results": {"a": ok("A-old"), "b": ok("B1")}},
        {"labels": ["johann.run:r1"], "started": "2026-12-02T10:00:05+00:00", "action": FQCN,
         "results": {"a": ok("A-new"), "c": ok("C1")}},
        {"labels": ["johann.run:r2"], "started": "2026-12-02T11:00:00+00:00", "action": FQCN,
         "results": {"a": ok("A-other-run")}},
    ])
    found = ara_source.newest_results(ara, run="r1")
    assert found.results == {"a": ok("A-new"), "b": ok("B1"), "c": ok("C1")}
    assert found.playbooks == [2, 1]
    assert found.read_at == {"a": "2026-12-02T10:00:05+00:00", "b": "2026-12-02T10:00:00+00:00",
                             "c": "2026-12-02T10:00:05+00:00"}
    assert [(r["playbook"], r["results"], r["used"]) for r in found.runs] == [(2, 2, 2), (1, 2, 1)]


def test_without_an_id_the_runs_since_a_time_count_and_short_action_names_too():
    ara = FakeAra([
        {"started": "2026-12-02T09:00:00+00:00", "action": FQCN, "results": {"a": ok("too-old")}},
        {"started": "2026-12-02T10:30:00+00:00", "action": "device_info", "results": {"a": ok("A"), "b": ok("B")}},
        {"started": "2026-12-02T10:40:00+00:00", "action": None, "results": {}},   # a report step: no device_info
    ])
    found = ara_source.newest_results(ara, since=dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC))
    assert found.results == {"a": ok("A"), "b": ok("B")}
    assert found.playbooks == [2]


def test_only_the_hosts_asked_for_are_read_and_listing_pages_through(monkeypatch):
    monkeypatch.setattr(ara_source, "PAGE", 2)
    ara = FakeAra([{"labels": ["johann.run:big"], "started": "2026-12-02T10:00:00+00:00", "action": FQCN,
                    "results": {f"h{n}": ok(f"S{n}") for n in range(7)}}])
    found = ara_source.newest_results(ara, run="big", hosts={"h1", "h6", "not-in-ara"})
    assert found.results == {"h1": ok("S1"), "h6": ok("S6")}
    details = [path for path, _params in ara.requests if path.startswith("/api/v1/results/")]
    assert len(details) == 2   # contents fetched for the hosts used only
    pages = [q for p, q in ara.requests if p == "/api/v1/results"]
    assert [q["offset"] for q in pages] == [0, 2, 4, 6]


def test_no_run_found_is_a_clear_error():
    ara = FakeAra([{"labels": ["johann.run:r1"], "started": "2026-12-02T10:00:00+00:00", "action": FQCN,
                    "results": {"a": ok("A")}}])
    with pytest.raises(ara_source.SourceError, match=r"ARA at http://ara.test has no run labelled johann.run:nope: "
                                                     r"nothing to build the report from"):
        ara_source.newest_results(ara, run="nope")
    with pytest.raises(ValueError, match="give the run id"):
        ara_source.newest_results(ara)


def test_a_result_ara_kept_without_content_is_a_failed_result_naming_it():
    ara = FakeAra([{"labels": ["johann.run:r1"], "started": "2026-12-02T10:00:00+00:00", "action": FQCN,
                    "results": {"a": None}}])
    found = ara_source.newest_results(ara, run="r1")
    assert found.results["a"] == {"failed": True, "msg": "ARA kept no readable result for this host (result 1)"}
