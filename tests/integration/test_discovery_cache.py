"""device_info's discovery cache against the lab: kept between runs, checked with the YANG library's id, never trusted
past it (plugins/module_utils/_discovery.py)."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from ansible_collections.johann.monitor.plugins.module_utils import _discovery

from tests.integration.conftest import run_playbook
from tests.lablib import ROOT

HOSTS = ["c9300", "csr", "gx", "rooted", "oldmedia", "eos", "nxos"]
STABLE = ("status", "message", "platform", "restconf_root", "identity", "interfaces", "environment", "sections")


def _read(lab, cache: Path, out: Path) -> dict:
    run = run_playbook(lab, ROOT / "tests/integration/device_info.yml", "-e", "discovery_cache=true",
                       "-e", f"target={','.join(HOSTS)}", "-e", f"results_file={out}",
                       extra_env={"JOHANN_DISCOVERY_CACHE_DIR": str(cache)})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return {host: result["device"] for host, result in json.loads(out.read_text()).items()}


def _entries(cache: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in cache.glob("*.json")}


def _library_id(lab, host: str) -> str:
    root = "/rest/restconf" if host == "rooted" else "/restconf"
    with lab.client(host) as client:
        reply = client.get(f"{root}/data/ietf-yang-library:modules-state/module-set-id")
    return reply.json()["ietf-yang-library:module-set-id"]


def _entry_of(cache: Path, lab, host: str) -> Path:
    """The host's file: named by its address, port and user (no root configured)."""
    h = lab.host(host)
    return _discovery.Cache(cache).path(h["ansible_host"], int(h["ansible_port"]), lab.auth[0], None)


@pytest.fixture(scope="module")
def runs(lab, tmp_path_factory):
    """The hosts read three times with one cache directory: empty, then filled, then with entries changed."""
    base = tmp_path_factory.mktemp("discovery")
    cache = base / "cache"
    first = _read(lab, cache, base / "first.json")
    entries = _entries(cache)
    second = _read(lab, cache, base / "second.json")
    # what a device upgrade (another module set), a moved root and a damaged file look like from here
    changed = {"c9300": _entry_of(cache, lab, "c9300"), "csr": _entry_of(cache, lab, "csr"),
               "rooted": _entry_of(cache, lab, "rooted")}
    entry = json.loads(changed["c9300"].read_text())
    changed["c9300"].write_text(json.dumps(dict(entry, id="an-older-module-set", modules=["ietf-interfaces"])))
    entry = json.loads(changed["rooted"].read_text())
    changed["rooted"].write_text(json.dumps(dict(entry, root="/restconf")))   # moved since
    changed["csr"].write_text("{not json")
    third = _read(lab, cache, base / "third.json")
    return {"cache": cache, "first": first, "second": second, "third": third, "entries": entries,
            "changed": changed}


def test_the_first_run_discovers_and_keeps_each_library_with_an_id(runs, lab):
    first, cache = runs["first"], runs["cache"]
    assert {h: first[h]["root_source"] for h in HOSTS} == {
        "c9300": "host-meta", "csr": "host-meta", "gx": "host-meta", "rooted": "host-meta", "oldmedia": "default",
        "eos": "default", "nxos": "host-meta"}   # EOS serves no host-meta
    assert all(first[h]["status"] == "ok" for h in HOSTS), {h: first[h]["message"] for h in HOSTS}
    assert len(runs["entries"]) == len(HOSTS) and all(_entry_of(cache, lab, h).exists() for h in HOSTS)
    entry = json.loads(_entry_of(cache, lab, "rooted").read_text())
    assert entry["id_kind"] == "module-set-id" and entry["root_source"] == "host-meta"
    assert entry["id"] == _library_id(lab, "rooted")
    assert "ietf-interfaces" in entry["modules"] and "password" not in json.dumps(runs["entries"])
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in cache.glob("*.json")} == {0o600}


def test_the_next_run_asks_for_the_id_alone_and_reads_the_same(runs):
    first, second = runs["first"], runs["second"]
    for host in HOSTS:
        assert second[host]["root_source"] == "cache", host
        # host-meta (asked of oldmedia and EOS too, which answer 404) and the YANG library: one request for its id
        assert second[host]["requests"] == first[host]["requests"] - 1, host
        for key in STABLE:
            if key != "sections":
                assert second[host][key] == first[host][key], (host, key)
        assert {n: s["status"] for n, s in second[host]["sections"].items()} == \
               {n: s["status"] for n, s in first[host]["sections"].items()}
    assert second["rooted"]["restconf_root"] == "/rest/restconf"
    assert second["c9300"]["identity"]["serial"] == first["c9300"]["identity"]["serial"] != ""


def test_a_changed_library_a_moved_root_or_a_damaged_file_is_discovered_again(runs, lab):
    first, third, changed = runs["first"], runs["third"], runs["changed"]
    for host in ("c9300", "csr", "rooted"):
        assert third[host]["root_source"] == "host-meta", host
        assert third[host]["status"] == "ok" and third[host]["platform"] == first[host]["platform"]
        assert third[host]["identity"] == first[host]["identity"]
        # the full discovery again, plus the one request that found the entry stale (none for the damaged file)
        assert third[host]["requests"] == first[host]["requests"] + (0 if host == "csr" else 1), host
        # and the entry is the device's again
        entry = json.loads(changed[host].read_text())
        assert entry["id"] == _library_id(lab, host) and entry["root"] == first[host]["restconf_root"]
        assert len(entry["modules"]) > 1
    assert {n: s["status"] for n, s in third["c9300"]["sections"].items()} == \
           {n: s["status"] for n, s in first["c9300"]["sections"].items()}
    assert third["gx"]["root_source"] == "cache"   # the others' entries are untouched
