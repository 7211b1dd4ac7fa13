"""Install the Galaxy collections of requirements.yml from PyPI, for machines without Galaxy.

johann.monitor's playbooks need cisco.ios and ansible.netcommon (enable_restconf.yml) and
ansible.utils (which netcommon needs). Where Galaxy is reachable, ``ansible-galaxy collection
install -r requirements.yml`` is the usual way. This build's machines reach PyPI only, and the
``ansible`` community package on PyPI carries those collections, released and tested together
against one ansible-core series. This script downloads that one wheel (pinned, with its sha256, in
requirements-collections.txt), checks the hash (pip's --require-hashes), and unpacks only the
collections requirements.yml names, after checking each one's version against the range there:

    python tools/collections_from_pypi.py [--dest .venv/collections]

The result is an ordinary collections directory (``DEST/ansible_collections/cisco/ios/...``, each
with its MANIFEST.json and FILES.json) that ansible.cfg's ``collections_path`` lists. A second run
with the same wheel and the same requirements does nothing. Nothing else of the ``ansible`` package
is installed (it is 54 MB, about 40,000 files).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

ROOT = pathlib.Path(__file__).resolve().parents[1]
PINS = ROOT / "requirements-collections.txt"
REQUIREMENTS = ROOT / "requirements.yml"
STAMP = ".from-pypi.json"


class Failure(Exception):
    """Something the user has to fix; the message says what."""


def wanted(requirements: pathlib.Path) -> dict[str, SpecifierSet]:
    """The Galaxy collections of requirements.yml (not the local `type: dir` ones) and their version ranges."""
    data = yaml.safe_load(requirements.read_text(encoding="utf-8")) or {}
    out = {}
    for entry in data.get("collections") or []:
        if not isinstance(entry, dict) or entry.get("type") in ("dir", "file", "git", "url"):
            continue
        name, version = entry.get("name"), str(entry.get("version") or "*")
        try:
            out[name] = SpecifierSet("" if version == "*" else version)
        except InvalidSpecifier:
            raise Failure(f"{requirements}: {name}: version {version!r} is not a range such as '>=1.0.0,<2.0.0'") from None
    return out


def download(pins: pathlib.Path, cache: pathlib.Path) -> pathlib.Path:
    """The pinned wheel, downloaded by pip into cache with its hash checked."""
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
           "--only-binary", ":all:", "--require-hashes", "-r", str(pins), "-d", str(cache)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Failure(f"pip could not download the wheel pinned in {pins}:\n{done.stderr.strip()}")
    wheels = sorted(cache.glob("ansible-*.whl"))
    if len(wheels) != 1:
        raise Failure(f"expected one ansible-*.whl from {pins} in {cache}, found {[w.name for w in wheels]}")
    return wheels[0]


def manifest(wheel: zipfile.ZipFile, name: str) -> dict:
    namespace, collection = name.split(".", 1)
    try:
        return json.loads(wheel.read(f"ansible_collections/{namespace}/{collection}/MANIFEST.json"))
    except KeyError:
        raise Failure(f"{name} is not in {wheel.filename}: pick another ansible release in {PINS.name}") from None


def unpack(wheel_path: pathlib.Path, collections: dict[str, SpecifierSet], dest: pathlib.Path) -> list[str]:
    """Unpack each collection into dest/ansible_collections (replacing an older copy); return name-version lines."""
    done = []
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel_path) as wheel:
        versions = {name: manifest(wheel, name)["collection_info"]["version"] for name in collections}
        for name, version in versions.items():
            if Version(version) not in collections[name]:
                raise Failure(f"{wheel_path.name} has {name} {version}, outside requirements.yml's "
                              f"{collections[name]}: change one of them")
        for name in collections:
            prefix = "ansible_collections/" + name.replace(".", "/", 1) + "/"
            target = dest / prefix
            staging = pathlib.Path(tempfile.mkdtemp(dir=dest, prefix=".unpack-"))
            try:
                for member in wheel.infolist():
                    if member.filename.startswith(prefix) and not member.is_dir():
                        relative = pathlib.PurePosixPath(member.filename[len(prefix):])
                        if relative.is_absolute() or ".." in relative.parts:
                            raise Failure(f"{wheel_path.name}: unsafe path {member.filename!r}")
                        out = staging / relative
                        out.parent.mkdir(parents=True, exist_ok=True)
                        with wheel.open(member) as source, open(out, "wb") as sink:
                            shutil.copyfileobj(source, sink)
                shutil.rmtree(target, ignore_errors=True)
                target.parent.mkdir(parents=True, exist_ok=True)
                staging.rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            done.append(f"{name} {versions[name]}")
    return done


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=pathlib.Path, default=ROOT / ".venv/collections",
                        help="the collections directory to unpack into (default .venv/collections)")
    parser.add_argument("--pins", type=pathlib.Path, default=PINS)
    parser.add_argument("--requirements", type=pathlib.Path, default=REQUIREMENTS)
    args = parser.parse_args(argv)
    try:
        collections = wanted(args.requirements)
        key = {"pins": args.pins.read_text(encoding="utf-8"), "collections": {k: str(v) for k, v in collections.items()}}
        args.dest.mkdir(parents=True, exist_ok=True)
        stamp = args.dest / STAMP
        if stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")).get("key") == key:
            return 0
        with tempfile.TemporaryDirectory(prefix="johann-collections-") as cache:
            wheel = download(args.pins, pathlib.Path(cache))
            done = unpack(wheel, collections, args.dest)
            stamp.write_text(json.dumps({"key": key, "wheel": wheel.name, "sha256": sha256(wheel), "installed": done},
                                        indent=1) + "\n", encoding="utf-8")
    except (Failure, OSError) as exc:
        print(f"collections_from_pypi: {exc}", file=sys.stderr)
        return 1
    print(f"collections from PyPI ({wheel.name}) in {args.dest}: {', '.join(done)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
