"""show_run.yml's JSON copies of running configurations beside the report: their names (the lookup
johann.monitor.report_path gives them, view.device_file makes them), the device page's link to them,
and the report, which never removes them."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import fragment_loader
from ansible.template import Templar, trust_as_template
from ansible.utils.plugin_docs import get_docstring
from ansible_collections.johann.monitor.plugins.lookup import report_path
from ansible_collections.johann.monitor.plugins.plugin_utils._report import render, view
from ansible_collections.johann.monitor.plugins.plugin_utils._report.project import COLLECTION_TEMPLATES

ODD = "core sw/1 <ü>"
NAME = "johann.monitor.report_path"
HREF = re.compile(r'<a href="(\.\./config/[^"]*)"[^>]*>Running configuration \(JSON\)</a>')


@pytest.mark.parametrize("host", ["c9300-01", "c9300.lab", ODD, "../../etc/passwd", "index", "-x", ""])
def test_a_device_file_is_its_page_name_with_another_suffix_and_never_a_path(host):
    page, config = view.page_name(host), view.device_file(host, ".json")
    assert config.removesuffix(".json") == page.removesuffix(".html")
    assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\.json", config) and ".." not in config
    if host in ("c9300-01", "c9300.lab"):
        assert config == f"{host}.json"


@pytest.fixture(scope="module", autouse=True)
def _option_definitions():
    """What Ansible's plugin loader does when it loads the lookup: register its options."""
    doc = get_docstring(report_path.__file__, fragment_loader)[0]
    C.config.initialize_plugin_configuration_definitions("lookup", NAME, doc["options"])


def _lookup(variables: dict, *terms: str, **options) -> str:
    lookup = report_path.LookupModule(loader=DataLoader(), templar=Templar(loader=DataLoader(), variables=variables))
    lookup._load_name = NAME
    (path,) = lookup.run(list(terms), variables=variables, **options)
    return path


def test_the_lookup_gives_the_report_directory_as_the_report_chooses_it(tmp_path):
    project = tmp_path / "project"
    (project / "reports" / "templates").mkdir(parents=True)
    (project / "reports" / "templates" / "base.html").write_text("")
    (project / "playbooks").mkdir()
    playbooks = str(project / "playbooks")
    base = {"playbook_dir": playbooks, "ansible_config_file": str(project / "ansible.cfg")}
    assert _lookup(base) == str(project / "reports" / "out")
    assert _lookup({**base, "johann_report_dir": "/srv/www/network"}, "config",
                   device="c9300-01") == "/srv/www/network/config/c9300-01.json"
    assert _lookup({**base, "johann_report_dir": trust_as_template("{{ '/srv' ~ '/net' }}")}) == "/srv/net"
    assert _lookup(base, "config", device=ODD) == \
        str(project / "reports" / "out" / "config" / view.device_file(ODD, ".json"))
    for bad in ("../elsewhere", "/etc", ""):
        with pytest.raises(AnsibleLookupError, match="not a path inside the report directory"):
            _lookup({"playbook_dir": playbooks}, bad)


def _render(out: Path, hosts: list[str]) -> dict:
    records = {h: {"host": h, "status": "ok", "message": None, "identity": {"hostname": h}} for h in hosts}
    return render.render_report(records, out, [COLLECTION_TEMPLATES], "t", "2026-11-29T00:00:00Z")


def test_the_device_page_links_the_copy_that_exists_and_the_report_keeps_it(tmp_path):
    out = tmp_path / "out"
    config = out / "config"
    config.mkdir(parents=True)
    copies = {host: config / view.device_file(host, ".json") for host in ("c9300", ODD, "gone")}
    for host, path in copies.items():
        path.write_bytes(f'{{"host": "{host}"}}\n'.encode())
    (config / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in config.iterdir()}
    for _run in range(2):   # the second report prunes the first one's pages, never config/
        _render(out, ["c9300", ODD, "csr"])
        assert {p.name: p.read_bytes() for p in config.iterdir()} == before
    for host in ("c9300", ODD):
        page = out / "devices" / view.page_name(host)
        (href,) = HREF.findall(page.read_text())
        assert (page.parent / unquote(href)).resolve() == copies[host].resolve()
        assert "written 20" in page.read_text() and "by playbooks/show_run.yml" in page.read_text()
    csr = (out / "devices" / "csr.html").read_text()
    assert HREF.findall(csr) == [] and "Running configuration (JSON): none yet" in csr


def test_without_a_config_directory_no_page_links_one(tmp_path):
    out = tmp_path / "out"
    _render(out, ["c9300"])
    page = (out / "devices" / "c9300.html").read_text()
    assert HREF.findall(page) == [] and "playbooks/show_run.yml writes it" in page
    assert not (out / "config").exists()
