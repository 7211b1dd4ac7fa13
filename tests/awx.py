"""The AWX/AAP objects in awx/ as AWX uses them: loaded, and a credential type's injectors rendered.

``inject_credential`` renders a credential type's injectors the way AWX does (a sandboxed Jinja2
environment; file templates written to the job's private data directory, mode 0600, their paths
under ``tower.filename``; a boolean never set is false, a string never set is absent). The
ansible-runner test (tests/integration/test_awx_runner.py) runs the monitor with what it injects.
"""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from types import SimpleNamespace

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.lablib import ROOT

AWX = ROOT / "awx"
RESTCONF_TYPE = AWX / "credential_type_restconf.yml"
ARA_TYPE = AWX / "credential_type_ara.yml"


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def inject_credential(credential_type: dict, inputs: dict, private_data_dir: Path) -> tuple[dict, dict]:
    """(env, files) as AWX injects a credential of this type into a job (CredentialType.inject_credential)."""
    fields = {f["id"]: f for f in credential_type["inputs"]["fields"]}
    unknown = set(inputs) - set(fields)
    assert not unknown, f"inputs the credential type does not have: {unknown}"
    namespace: dict = {k: v for k, v in inputs.items() if isinstance(v, bool) or len(v)}
    for field in fields.values():
        if field["type"] == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    tower = SimpleNamespace(filename=SimpleNamespace())
    namespace["tower"] = tower
    sandbox = ImmutableSandboxedEnvironment()
    files = {}
    env_dir = private_data_dir / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    for label, template in credential_type["injectors"].get("file", {}).items():
        fd, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(fd, "w") as f:
            f.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." in label:
            setattr(tower.filename, label.split(".", 1)[1], path)
        else:
            tower.filename = path
        files[label] = Path(path)
    env = {name: sandbox.from_string(template).render(**namespace)
           for name, template in credential_type["injectors"].get("env", {}).items()}
    return env, files
