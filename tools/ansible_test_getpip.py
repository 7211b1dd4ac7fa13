"""Write offline stand-ins for the get-pip scripts that ansible-test downloads.

`ansible-test sanity --venv` bootstraps pip in each virtual environment it
creates by running a get-pip script.  Before downloading it from
ci-files.testing.ansible.com (not reachable here) it looks for a cached copy at
``~/.ansible/test/cache/get_pip_<version>.py`` and runs it as::

    python quiet_pip.py [pip options] pip==<version> --no-setuptools --no-wheel

(quiet_pip.py runs the cached file as ``__main__`` with those arguments).  The
stand-in written here bootstraps pip with ``python -m ensurepip`` and then runs
``python -m pip install`` with the same arguments, so pip itself and every
pinned sanity tool come from the ordinary package index.

The pip version(s) are read from the installed ansible-test, so an upgrade of
ansible-core keeps working; the script is idempotent (a file that is already
up to date is left alone).

Usage: python tools/ansible_test_getpip.py [--cache-dir DIR] [--version X.Y ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import re
import sys

DEFAULT_CACHE_DIR = pathlib.Path("~/.ansible/test/cache").expanduser()
FALLBACK_VERSIONS = ("24.2",)
MARKER = "# written by johann.monitor tools/ansible_test_getpip.py"

STAND_IN = f'''{MARKER}
"""Offline stand-in for get-pip.py: ensurepip, then pip install with the same arguments."""

import subprocess
import sys

# get-pip.py options that pip install does not know
_DROP = {{"--no-setuptools", "--no-wheel"}}


def main():
    argv = sys.argv[1:]
    args = [a for a in argv if a not in _DROP]
    boot = subprocess.run(
        [sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
    )
    if boot.returncode:
        sys.stdout.write(boot.stdout.decode(errors="replace"))
        sys.exit(boot.returncode)
    rc = subprocess.call([sys.executable, "-m", "pip", "install", *args])
    if rc:
        sys.exit(rc)
    # get-pip.py --no-setuptools leaves setuptools out; ensurepip on Python < 3.12 adds it
    wanted = " ".join(args).lower()
    if "--no-setuptools" in argv and "setuptools" not in wanted:
        rc = subprocess.call(
            [sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", "--disable-pip-version-check", "setuptools"],
            stdout=subprocess.DEVNULL,
        )
        if rc:
            sys.exit(rc)


if __name__ == "__main__":
    main()
'''


def ansible_test_pip_versions() -> list[str]:
    """Return the pip version(s) the installed ansible-test bootstraps, read from its source."""
    spec = importlib.util.find_spec("ansible_test")
    if spec is None or not spec.submodule_search_locations:
        return []
    source = pathlib.Path(next(iter(spec.submodule_search_locations)), "_internal", "python_requirements.py")
    try:
        text = source.read_text(encoding="utf-8")
    except OSError:
        return []
    return sorted(set(re.findall(r"""\bpip\s*=\s*['"](\d+(?:\.\d+)+)['"]""", text)))


def cache_name(version: str) -> str:
    """File name ansible-test looks for (requirements.py: get_pip_%s.py with dots as underscores)."""
    return "get_pip_{}.py".format(version.replace(".", "_"))


def write_stand_ins(cache_dir: pathlib.Path, versions: list[str]) -> list[pathlib.Path]:
    """Write the stand-in for each version unless it is already there with the same content."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for version in versions:
        path = cache_dir / cache_name(version)
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current == STAND_IN:
            continue
        if current is not None and not current.startswith(MARKER):
            # a real get-pip script someone saved by hand: keep it
            continue
        tmp = path.with_suffix(".tmp")
        tmp.write_text(STAND_IN, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=pathlib.Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--version", action="append", dest="versions", help="pip version (repeatable)")
    opts = parser.parse_args(argv)
    versions = opts.versions or ansible_test_pip_versions() or list(FALLBACK_VERSIONS)
    for path in write_stand_ins(opts.cache_dir, versions):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
