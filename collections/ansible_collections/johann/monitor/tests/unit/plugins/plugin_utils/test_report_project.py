"""Where the report goes (_report/project.py, and the lookup johann.monitor.report_path that tells playbooks):
johann_report_dir, else reports/out of the project - the directory of the run's ansible.cfg when the playbook is
in it or below it, else the playbook's directory - and never a directory above the project."""
from __future__ import annotations

from pathlib import Path

import pytest
from ansible import constants as C
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import fragment_loader
from ansible.template import Templar
from ansible.utils.plugin_docs import get_docstring
from ansible_collections.johann.monitor.plugins.lookup import report_path
from ansible_collections.johann.monitor.plugins.plugin_utils._report.project import (
    COLLECTION_TEMPLATES,
    config_file_in_use,
    project_root,
    report_dir,
    template_dirs,
)

NAME = "johann.monitor.report_path"

# (where the ansible.cfg in use is, None: no ansible.cfg; where the playbook is) -> the project, all under tmp/p
CASES = [
    ("ansible.cfg", "playbooks", "."),                  # this repository: ansible.cfg at the root, playbooks/ below
    ("ansible.cfg", ".", "."),                          # site.yml beside the project's ansible.cfg
    (None, ".", "."),                                   # site.yml at a root without ansible.cfg
    (None, "playbooks", "playbooks"),                   # no ansible.cfg: the playbook's directory, never its parent
    ("ansible.cfg", "a/b/c", "."),                      # deeper below the ansible.cfg
    ("playbooks/ansible.cfg", ".", "."),                # an ansible.cfg below the playbook marks nothing above it
    ("../other/ansible.cfg", ".", "."),                 # an ansible.cfg of another tree (ANSIBLE_CONFIG, cwd)
    ("custom.cfg", "playbooks", "."),                   # ANSIBLE_CONFIG may name it otherwise
]


@pytest.mark.parametrize("config,playbook,project", CASES)
def test_the_project_is_the_ansible_cfg_directory_around_the_playbook_else_the_playbooks(tmp_path, config,
                                                                                         playbook, project):
    root = tmp_path / "p"
    (root / playbook).mkdir(parents=True)
    assert project_root(root / playbook, str(root / config) if config else None) == (root / project).resolve()


def test_the_users_own_ansible_cfg_marks_no_project(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "work" / "site").mkdir(parents=True)
    assert project_root(tmp_path / "work" / "site", str(tmp_path / ".ansible.cfg")) == (tmp_path / "work/site").resolve()


def test_by_default_the_project_comes_from_the_ansible_cfg_ansible_reads(tmp_path):
    assert config_file_in_use() == (C.CONFIG_FILE or None)
    for playbook_dir in (Path.cwd(), tmp_path):
        assert project_root(playbook_dir) == project_root(playbook_dir, C.CONFIG_FILE)


def test_the_report_goes_to_reports_out_of_the_project_unless_configured(tmp_path):
    assert report_dir(None, tmp_path) == tmp_path / "reports" / "out"
    assert report_dir("/srv/www/network", tmp_path) == Path("/srv/www/network")
    assert report_dir("rel/out", tmp_path) == Path.cwd() / "rel" / "out"   # type path: from the working directory


def test_templates_come_from_the_projects_root_only_then_the_collection(tmp_path):
    parent, project = tmp_path, tmp_path / "project"
    for where in (parent, project):
        (where / "reports" / "templates").mkdir(parents=True)
        (where / "reports" / "templates" / "base.html").write_text(str(where))
    assert template_dirs(None, project) == [project / "reports" / "templates", COLLECTION_TEMPLATES]
    (project / "reports" / "templates" / "base.html").unlink()
    assert template_dirs(None, project) == [COLLECTION_TEMPLATES]   # the parent's are never searched
    own = tmp_path / "own"
    own.mkdir()
    assert template_dirs(str(own), project) == [own, COLLECTION_TEMPLATES]


@pytest.fixture
def lookup_options():
    """What Ansible's plugin loader does when it loads the lookup: register its options."""
    doc = get_docstring(report_path.__file__, fragment_loader)[0]
    C.config.initialize_plugin_configuration_definitions("lookup", NAME, doc["options"])


def _lookup(variables: dict) -> str:
    lookup = report_path.LookupModule(loader=DataLoader(), templar=Templar(loader=DataLoader(), variables=variables))
    lookup._load_name = NAME
    (path,) = lookup.run([], variables=variables)
    return path


@pytest.mark.parametrize("config,playbook,project", CASES[:5])
def test_the_lookup_answers_as_the_report_from_ansible_config_file(tmp_path, lookup_options, config, playbook,
                                                                   project):
    root = tmp_path / "p"
    (root / playbook).mkdir(parents=True)
    variables = {"playbook_dir": str(root / playbook), "ansible_config_file": str(root / config) if config else None}
    assert _lookup(variables) == str(report_dir(None, project_root(root / playbook, variables["ansible_config_file"])))
    assert _lookup(variables) == str((root / project).resolve() / "reports" / "out")
    assert _lookup(dict(variables, johann_report_dir="/srv/www/network")) == "/srv/www/network"
