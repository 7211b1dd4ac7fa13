"""tools/collections_from_pypi.py: the Galaxy collections of requirements.yml, unpacked from a wheel.

The unpacking is tested on small wheels made here; the last test checks what `make venv` installed.
"""
from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from ansible.release import __version__ as ansible_core
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.lablib import ROOT
from tools import collections_from_pypi as tool


def wheel(tmp_path: Path, collections: dict[str, str], extra: dict[str, str] | None = None) -> Path:
    path = tmp_path / "ansible-99.0.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, version in collections.items():
            base = "ansible_collections/" + name.replace(".", "/", 1)
            z.writestr(f"{base}/MANIFEST.json", json.dumps({"collection_info": {"version": version}}))
            z.writestr(f"{base}/plugins/modules/{name.split('.')[1]}_thing.py", f"# {name} {version}\n")
        z.writestr("ansible_collections/other/big/MANIFEST.json", "{}")
        for member, text in (extra or {}).items():
            z.writestr(member, text)
    return path


def test_only_the_named_collections_are_unpacked_and_an_older_copy_is_replaced(tmp_path):
    dest = tmp_path / "dest"
    old = dest / "ansible_collections/cisco/ios/plugins/modules/stale.py"
    old.parent.mkdir(parents=True)
    old.write_text("old")
    done = tool.unpack(wheel(tmp_path, {"cisco.ios": "11.1.1", "ansible.utils": "6.0.0"}),
                       {"cisco.ios": SpecifierSet(">=10,<12"), "ansible.utils": SpecifierSet("")}, dest)
    assert done == ["cisco.ios 11.1.1", "ansible.utils 6.0.0"]
    assert (dest / "ansible_collections/cisco/ios/plugins/modules/ios_thing.py").read_text() == "# cisco.ios 11.1.1\n"
    assert not old.exists() and not (dest / "ansible_collections/other").exists()
    assert not list(dest.glob(".unpack-*"))


def test_a_version_outside_the_range_fails_and_unpacks_nothing(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(tool.Failure, match=r"has cisco\.ios 12\.0\.0, outside requirements\.yml's <12\.0\.0,>=10\.0\.0"):
        tool.unpack(wheel(tmp_path, {"cisco.ios": "12.0.0"}), {"cisco.ios": SpecifierSet(">=10.0.0,<12.0.0")}, dest)
    assert list(dest.iterdir()) == []


def test_a_missing_collection_or_an_escaping_path_is_refused(tmp_path):
    with pytest.raises(tool.Failure, match=r"cisco\.nxos is not in .*ansible-99\.0\.0"):
        tool.unpack(wheel(tmp_path, {"cisco.ios": "11.1.1"}), {"cisco.nxos": SpecifierSet("")}, tmp_path)
    evil = wheel(tmp_path, {"cisco.ios": "11.1.1"}, {"ansible_collections/cisco/ios/../../../evil.py": "x"})
    with pytest.raises(tool.Failure, match="unsafe path"):
        tool.unpack(evil, {"cisco.ios": SpecifierSet("")}, tmp_path / "dest2")
    assert not (tmp_path / "evil.py").exists()


def test_requirements_yml_names_the_galaxy_collections_with_ranges(tmp_path):
    assert set(tool.wanted(ROOT / "requirements.yml")) == {"cisco.ios", "ansible.netcommon", "ansible.utils"}
    bad = tmp_path / "requirements.yml"
    bad.write_text("collections:\n  - {name: cisco.ios, version: 'about 11'}\n")
    with pytest.raises(tool.Failure, match=r"cisco\.ios: version 'about 11' is not a range"):
        tool.wanted(bad)


def _pins() -> Path:
    """The pins the running venv's collections come from: requirements-collections-<core>.txt where there is one
    for this ansible-core line (make matrix), else requirements-collections.txt (make venv)."""
    own = ROOT / f"requirements-collections-{'.'.join(ansible_core.split('.')[:2])}.txt"
    return own if own.is_file() else ROOT / "requirements-collections.txt"


def test_make_venv_installed_them_within_the_ranges():
    """What `make venv` (or `make matrix`) put in the collections of the venv running the tests (.venv's is
    ansible.cfg's collections_path; tests/conftest.py points Ansible at another venv's): the pinned wheel's."""
    collections = Path(sys.prefix) / "collections"
    stamp = json.loads((collections / ".from-pypi.json").read_text())
    pinned = _pins().read_text()
    assert f"{stamp['wheel'].split('-')[0]}=={stamp['wheel'].split('-')[1]} --hash=sha256:{stamp['sha256']}" in pinned
    ranges = {e["name"]: SpecifierSet(e["version"]) for e in yaml.safe_load((ROOT / "requirements.yml").read_text())
              ["collections"] if e.get("version")}
    for name, specifier in ranges.items():
        path = collections / "ansible_collections" / name.replace(".", "/") / "MANIFEST.json"
        version = json.loads(path.read_text())["collection_info"]["version"]
        assert Version(version) in specifier, (name, version)
