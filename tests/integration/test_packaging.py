"""Packaging: the collection's tarball (ansible-galaxy collection build), installed into an empty
collections path, runs the monitor playbook from another project against the lab; its metadata;
the execution environment's build context (ansible-builder create; no container engine here).
"""
from __future__ import annotations

import ast
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path

import ansible
import pytest
import yaml
from ansible.release import __version__ as ansible_version
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.lablib import ROOT

COLLECTION = ROOT / "collections/ansible_collections/johann/monitor"
BIN = Path(sys.executable).parent
TEMPLATES = ("base.html", "index.html", "device.html", "stats.html", "licensing.html", "partials/macros.html",
             "partials/style.css", "partials/report.js")
# A few devices of the test fleet (tests/lab/fleet.yml) and what they are.
DEVICES = {"c9300": "ok", "c9300x": "ok", "csr": "ok", "gx": "ok", "badpass": "auth_failed", "err500": "degraded"}


def _env(**extra: str) -> dict:
    """Ansible's environment for a run outside this project: no ARA (it would record into the user's
    server), none of the project's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "ARA_", "JOHANN_"))}
    return dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_CALLBACK_PLUGINS="/nonexistent", **extra)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    run = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(COLLECTION), "--output-path",
                          str(out)], capture_output=True, text=True, timeout=300, env=_env(), cwd=out)
    assert run.returncode == 0, run.stdout + run.stderr
    version = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())["version"]
    path = out / f"johann-monitor-{version}.tar.gz"
    assert path.is_file(), list(out.iterdir())
    return path


def test_top_level_and_collection_galaxy_yml_agree():
    top = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    collection = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())
    assert {k: v for k, v in top.items() if k != "build_ignore"} == \
        {k: v for k, v in collection.items() if k != "build_ignore"}
    assert (COLLECTION / collection["readme"]).is_file()


def test_galaxy_yml_is_complete():
    meta = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())
    allowed = {k["key"] for k in yaml.safe_load(
        (Path(ansible.__file__).parent / "galaxy/data/collections_galaxy_meta.yml").read_text())}
    assert set(meta) <= allowed
    assert (meta["namespace"], meta["name"]) == ("johann", "monitor") and Version(meta["version"])
    assert meta["license"] == ["GPL-3.0-or-later"] and "license_file" not in meta
    assert meta["authors"] and meta["description"].strip()
    assert meta["tags"] and all(re.fullmatch(r"[a-z][a-z0-9_]*", t) for t in meta["tags"]) and len(meta["tags"]) <= 20
    for key in ("repository", "documentation", "homepage", "issues"):
        assert meta[key].startswith("https://"), key
    assert {"tests/output", "*.tar.gz"} <= set(meta["build_ignore"])


def test_runtime_metadata_floor_and_action_group():
    runtime = yaml.safe_load((COLLECTION / "meta/runtime.yml").read_text())
    floor = SpecifierSet(runtime["requires_ansible"])
    assert Version(ansible_version) in floor
    assert all(s.operator == ">=" for s in floor) and Version(next(iter(floor)).version) >= Version("2.19")
    assert runtime["action_groups"]["restconf"] == ["device_info", "restconf_get"]


def _third_party_imports() -> set[str]:
    names = set()
    for path in (COLLECTION / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names - set(sys.stdlib_module_names) if n not in ("ansible", "ansible_collections")}


def test_python_requirements_cover_the_imports_with_lower_bounds_only():
    requirements = [Requirement(line) for line in (COLLECTION / "requirements.txt").read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
    for req in requirements:
        assert req.specifier and all(s.operator == ">=" for s in req.specifier), str(req)
    listed = {r.name.lower() for r in requirements}
    # anyio and httpcore come with httpx, yarl with aiohttp; ARA is optional (run history: the plugins work without it), and
    # requests comes with ARA (plugin_utils/_ara_guard.py guards ARA's client, and does nothing without it)
    # PyYAML (imported as yaml, by the ara_server callback for ARA's settings.yaml) comes with ansible-core too
    distributions = {"yaml": "pyyaml"}
    imported = {distributions.get(name, name) for name in _third_party_imports()}
    assert imported - {"anyio", "httpcore", "yarl", "ara", "requests"} <= listed
    assert listed == {"httpx", "aiohttp", "uvloop", "orjson", "jinja2", "markupsafe", "pyyaml"}
    ee = yaml.safe_load((COLLECTION / "meta/execution-environment.yml").read_text())
    assert ee == {"version": 3, "dependencies": {"python": "requirements.txt"}}


def test_tarball_holds_the_plugins_and_the_report_templates_and_nothing_generated(tarball):
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
        members = {m.name: m for m in tar.getmembers()}
    for name in TEMPLATES:
        assert f"templates/report/{name}" in names and members[f"templates/report/{name}"].isfile(), name
    for name in ("plugins/action/report.py", "plugins/modules/device_info.py", "plugins/callback/progress.py",
                 "meta/runtime.yml", "meta/execution-environment.yml", "requirements.txt", "README.md"):
        assert name in names, name
    assert not [n for n in names if n.startswith("tests/output") or "__pycache__" in n or n.endswith((".pyc", ".tar.gz"))]
    assert not [m.name for m in members.values() if m.issym() or m.islnk()]
    assert manifest["license"] == ["GPL-3.0-or-later"] and manifest["version"] == "0.1.0"
    # the project keeps reports/templates at the top level: a link to the collection's copy, one set of files
    assert (ROOT / "reports/templates").resolve() == (COLLECTION / "templates/report").resolve()


def _rows(index_html: str) -> dict[str, str]:
    """host -> status of the report's fleet table."""
    rows = {}
    for row in re.findall(r"<tr data-status=.*?</tr>", index_html, re.S):
        status = re.match(r'<tr data-status="([^"]+)"', row).group(1)
        rows[re.search(r'href="devices/([^"]+)\.html"', row).group(1)] = status
    return rows


def test_installed_tarball_runs_the_monitor_from_another_project(lab, tarball, tmp_path):
    collections = tmp_path / "collections"
    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p",
                              str(collections)], capture_output=True, text=True, timeout=300, env=_env(), cwd=tmp_path)
    assert install.returncode == 0, install.stdout + install.stderr
    installed = collections / "ansible_collections/johann/monitor"
    assert (installed / "templates/report/base.html").is_file() and (installed / "MANIFEST.json").is_file()

    # another project: the monitor playbook (it includes no task file), no reports/templates anywhere above it
    project = tmp_path / "elsewhere"
    (project / "playbooks").mkdir(parents=True)
    shutil.copy(ROOT / "playbooks/monitor.yml", project / "playbooks/monitor.yml")
    assert not [p for p in (project, *project.parents) if (p / "reports/templates").exists()]
    cfg = project / "ansible.cfg"
    cfg.write_text(f"[defaults]\ncollections_path = {collections}\nstdout_callback = johann.monitor.progress\n"
                   "retry_files_enabled = False\n")
    env = _env(ANSIBLE_CONFIG=str(cfg), ANSIBLE_COLLECTIONS_PATH=str(collections),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_LOCALHOST_WARNING="false")

    listing = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "list", "johann.monitor", "--format", "json"],
                             capture_output=True, text=True, timeout=120, env=env, cwd=project)
    assert listing.returncode == 0, listing.stderr
    assert list(json.loads(listing.stdout)) == [str(collections / "ansible_collections")]

    out = tmp_path / "report"
    run = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/monitor.yml", "-i",
                          str(lab.state_dir / "inventory.yml"), "-e", f"target={','.join(DEVICES)}",
                          "-e", f"johann_report_dir={out}"],
                         capture_output=True, text=True, timeout=600, env=env, cwd=project)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "does not support Ansible version" not in run.stdout + run.stderr
    # device_info's shared poller started from the installed copy (a poller that cannot start warns, once)
    assert "shared poller" not in run.stdout + run.stderr, run.stdout[-3000:]
    assert re.search(r"^SUMMARY \[Read the device\] 6 devices", run.stdout, re.M), run.stdout   # its callback too
    assert _rows((out / "index.html").read_text()) == DEVICES
    assert {p.name for p in (out / "devices").glob("*.html")} == {f"{h}.html" for h in DEVICES}
    fleet = json.loads(gzip.decompress((out / "fleet.json.gz").read_bytes()))
    assert {h: d["status"] for h, d in fleet["devices"].items()} == DEVICES
    assert not (project / "reports").exists()


def test_execution_environment_build_context(tarball, tmp_path):
    """ansible-builder create from the project's execution-environment.yml, with the tarball make build writes."""
    ee = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    (tmp_path / "build").mkdir()
    shutil.copy(tarball, tmp_path / "build" / tarball.name)
    shutil.copy(ROOT / "execution-environment.yml", tmp_path / "execution-environment.yml")
    extra = ["tools/collections_from_pypi.py", "requirements-collections-2.21.txt", "requirements.yml"]
    assert [f["src"] for f in ee["additional_build_files"]] == [f"build/{tarball.name}", *extra]
    for name in extra:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    context = tmp_path / "context"
    run = subprocess.run([str(BIN / "ansible-builder"), "create", "-f", "execution-environment.yml", "-c",
                          str(context), "--output-filename", "Containerfile"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path, env=_env())
    assert run.returncode == 0, run.stdout + run.stderr
    containerfile = (context / "Containerfile").read_text()
    build = context / "_build"

    # the collection: the tarball in the context, installed by ansible-galaxy from requirements.yml
    assert (build / "collections" / tarball.name).read_bytes() == tarball.read_bytes()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": f"collections/{tarball.name}", "type": "file"}]
    assert re.search(r"^RUN .*ansible-galaxy collection install .*-r requirements\.yml", containerfile, re.M)
    assert "COPY _build /build" in containerfile

    # cisco.ios, ansible.netcommon, ansible.utils from the pinned `ansible` wheel, in the galaxy stage
    # (which has /build; the final stage copies its /usr/share/ansible)
    for name in extra:
        assert (build / "johann" / Path(name).name).read_bytes() == (ROOT / name).read_bytes()
    galaxy_stage = containerfile[containerfile.index("FROM base AS galaxy"):containerfile.index("FROM base AS builder")]
    assert re.search(r"^RUN /usr/bin/python3\.12 /build/johann/collections_from_pypi\.py .*--dest "
                     r"/usr/share/ansible/collections$", galaxy_stage, re.M)

    # Python: the collection's requirements and ARA's client (its own requirements.txt is added when built)
    python = {Requirement(line).name.lower(): Requirement(line) for line in
              (build / "requirements.txt").read_text().splitlines() if line.strip()}
    collection_reqs = {Requirement(line).name.lower() for line in (COLLECTION / "requirements.txt").read_text()
                       .splitlines() if line.strip() and not line.startswith("#")}
    assert {"httpx", "ara"} | collection_reqs <= set(python)
    assert "--user-pip=requirements.txt" in containerfile
    assert re.search(r"ANSIBLE_INSTALL_REFS=\"ansible-core>=2\.21,<2\.22[^\"]*ansible-runner", containerfile)
    assert re.search(r"^ARG PYCMD=\"?/usr/bin/python3\.12\"?$", containerfile, re.M)   # make matrix's line

    # ARA's callback loaded from a fixed path, recording over HTTP; the server comes from AWX
    env = dict(re.findall(r"^ENV (\w+)=(\S+)$", containerfile, re.M))
    assert env["ANSIBLE_CALLBACK_PLUGINS"] == "/usr/share/ara/plugins/callback"
    assert env["ANSIBLE_ACTION_PLUGINS"] == "/usr/share/ara/plugins/action"
    assert env["ARA_API_CLIENT"] == "http" and env["JOHANN_ARA_AUTOSTART"] == "false"
    assert "ARA_API_SERVER" not in env and "ARA_API_PASSWORD" not in env
    assert re.search(r"^RUN .*ln -sfn \"\$\(/usr/bin/python3\.12 -m ara\.setup\.path\)/plugins\" /usr/share/ara/plugins",
                     containerfile, re.M)
    assert containerfile.index("ENV ANSIBLE_CALLBACK_PLUGINS") > containerfile.index("FROM base AS final")


def test_ee_python_requirements_are_the_collections_plus_ara():
    ee = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    listed = Counter(Requirement(r).name.lower() for r in ee["dependencies"]["python"])
    collection = {Requirement(line).name.lower() for line in (COLLECTION / "requirements.txt").read_text()
                  .splitlines() if line.strip() and not line.startswith("#")}
    # ara: the run history; ansible-pylibssh: network_cli's SSH for enable_restconf.yml (not the collection's)
    assert set(listed) == collection | {"ara", "ansible-pylibssh"} and max(listed.values()) == 1
    version = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())["version"]
    assert ee["dependencies"]["galaxy"]["collections"][0]["name"].endswith(f"johann-monitor-{version}.tar.gz")


def test_a_projects_own_reports_templates_come_before_the_shipped_defaults(lab, tarball, tmp_path):
    """Another project with reports/templates of its own at its root (its ansible.cfg marks the root, the
    playbook is in playbooks/ below it): its pages win, the pages it lacks come from the installed collection."""
    collections = tmp_path / "collections"
    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p",
                              str(collections)], capture_output=True, text=True, timeout=300, env=_env(), cwd=tmp_path)
    assert install.returncode == 0, install.stdout + install.stderr
    project = tmp_path / "own"
    (project / "playbooks").mkdir(parents=True)
    shutil.copy(ROOT / "playbooks/monitor.yml", project / "playbooks/monitor.yml")
    own = project / "reports/templates"
    own.mkdir(parents=True)
    shutil.copy(COLLECTION / "templates/report/base.html", own / "base.html")
    (own / "licensing.html").write_text('{% extends "base.html" %}{% block main %}<p id="own">{{ devices | length }} '
                                        'devices, the project\'s page</p>{% endblock %}')
    (project / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = False\n")   # found in the working dir
    env = _env(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCALHOST_WARNING="false")
    run = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/monitor.yml", "-i",
                          str(lab.state_dir / "inventory.yml"), "-e", "target=c9300"],
                         capture_output=True, text=True, timeout=600, env=env, cwd=project)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = project / "reports/out"   # the default: reports/out of the project (the directory of its ansible.cfg)
    assert '<p id="own">1 devices, the project\'s page</p>' in (out / "licensing.html").read_text()
    assert _rows((out / "index.html").read_text()) == {"c9300": "ok"}


# ---------------------------------------------------------------- a user's project: site.yml at its root
SITE = """\
- name: Monitor the network
  hosts: all
  gather_facts: false
  tasks:
    - name: Read the device
      johann.monitor.device_info:
        result_format: json_gz
      register: johann_device

    - name: Write the report
      johann.monitor.report:
        title: Site network
      run_once: true
      delegate_to: localhost
      register: written

    - name: Where the report went, and where the lookup says it goes
      ansible.builtin.debug:
        msg: "REPORT={{ written.output_dir }} LOOKUP={{ lookup('johann.monitor.report_path') }}"
      run_once: true
"""


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory) -> Path:
    """The tarball installed with ansible-galaxy into an empty collections path (shared by this module's users)."""
    collections = tmp_path_factory.mktemp("installed")
    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p",
                              str(collections)], capture_output=True, text=True, timeout=300, env=_env(),
                             cwd=collections)
    assert install.returncode == 0, install.stdout + install.stderr
    return collections


@pytest.mark.parametrize("layout", ["ansible.cfg at the root", "no ansible.cfg, run from the parent"])
def test_a_site_yml_at_a_projects_root_writes_the_report_into_that_project(lab, installed, tmp_path, layout):
    """Issue 16: the installed collection, a playbook at the root of the user's project calling device_info and
    report with no report directory given: the report is <project>/reports/out, never ../reports/out."""
    parent = tmp_path / "parent"
    project = parent / "project"
    project.mkdir(parents=True)
    variables = {k: v for k, v in lab.inventory["all"]["vars"].items() if not k.startswith("lab_")}
    device = {k: lab.host("c9300")[k] for k in ("ansible_host", "ansible_port")}
    (project / "inventory.yml").write_text(yaml.safe_dump({"all": {"vars": variables, "hosts": {"c9300": device}}}))
    (project / "site.yml").write_text(SITE)
    if layout == "ansible.cfg at the root":
        (project / "ansible.cfg").write_text("[defaults]\ninventory = inventory.yml\nretry_files_enabled = False\n")
        command, cwd = ["site.yml"], project
    else:
        command, cwd = ["project/site.yml", "-i", "project/inventory.yml"], parent
    env = _env(ANSIBLE_COLLECTIONS_PATH=str(installed), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCALHOST_WARNING="false")
    run = subprocess.run([str(BIN / "ansible-playbook"), *command], capture_output=True, text=True, timeout=600,
                         env=env, cwd=cwd)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = project / "reports" / "out"
    assert re.search(rf"REPORT={re.escape(str(out))} LOOKUP={re.escape(str(out))}\"", run.stdout), run.stdout[-3000:]
    serial = lab.truth("c9300")["serial"]
    assert serial and serial in (out / "index.html").read_text()
    assert _rows((out / "index.html").read_text()) == {"c9300": "ok"}
    assert sorted(p.name for p in parent.iterdir()) == ["project"]   # nothing beside the project
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parent"]
    assert sorted(p.name for p in project.iterdir()) == sorted(
        ["inventory.yml", "site.yml", "reports", *(["ansible.cfg"] if (project / "ansible.cfg").exists() else [])])
