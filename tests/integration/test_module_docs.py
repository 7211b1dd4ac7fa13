"""The module files carry documentation only (issue 16): ansible-doc renders each action's documentation, and
the documented options are exactly the options its action plugin accepts, with the same types, defaults,
choices and aliases. ansible-test's validate-modules compared them while the module files had a main(); with
documentation only it cannot, so this test does."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.johann.monitor.plugins.action import device_info, report, restconf_get

from tests.lablib import ROOT

MODULES = ROOT / "collections/ansible_collections/johann/monitor/plugins/modules"
SPECS = {"device_info": device_info.ActionModule.ARGUMENT_SPEC, "restconf_get": restconf_get.ActionModule.ARGUMENT_SPEC,
         "report": report.ARGUMENT_SPEC}
KEYS = {"type": "str", "default": None, "choices": None, "aliases": None, "elements": None, "required": False}


@pytest.fixture(scope="module")
def docs() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "ARA_"))}
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    run = subprocess.run([str(Path(sys.executable).with_name("ansible-doc")), "--json", "-t", "module",
                          *(f"johann.monitor.{name}" for name in SPECS)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    assert "WARNING" not in run.stderr, run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_module_file_is_documentation_only(name):
    tree = ast.parse((MODULES / f"{name}.py").read_text())
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert assigned == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    others = [node for node in tree.body if not isinstance(node, ast.Assign) and not (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) and not (
        isinstance(node, ast.ImportFrom) and node.module == "__future__")]
    assert others == []


@pytest.mark.parametrize("name", sorted(SPECS))
def test_ansible_doc_renders_it_with_examples_and_returns(docs, name):
    entry = docs[f"johann.monitor.{name}"]
    assert entry["doc"]["module"] == name and entry["doc"]["short_description"]
    assert "johann.monitor." + name in entry["examples"]
    assert entry["return"] and all(value.get("description") for value in entry["return"].values())


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_documented_options_are_the_actions_argument_spec(docs, name):
    documented = docs[f"johann.monitor.{name}"]["doc"]["options"]
    spec = SPECS[name]
    assert sorted(documented) == sorted(spec)
    for option, rules in spec.items():
        doc = documented[option]
        assert {k: doc.get(k, d) for k, d in KEYS.items()} == {k: rules.get(k, d) for k, d in KEYS.items()}, option
