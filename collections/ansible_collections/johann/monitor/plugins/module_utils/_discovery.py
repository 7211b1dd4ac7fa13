# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What discovery found on a device, kept between runs: its RESTCONF root and its YANG modules.

Discovery costs two requests per device and every run (host-meta for the root, then the YANG
library, which on an IOS XE 17 device is a reply of a few hundred kB listing about a thousand
modules). Both change only when the device is reconfigured or upgraded, and the YANG library
says when it changes: its ``module-set-id`` (RFC 7895 modules-state) or ``content-id``
(RFC 8525 yang-library) changes with the module set. So a device seen before is asked for that
one leaf, under the root found before: the same id, and the module list found before is used;
another id, no answer there (the root moved) or any error, and the device is discovered again
as if nothing were kept. A device whose library has no id (NX-OS answers 204, modules from the
capabilities) is discovered every time.

One small JSON file per device, named by a hash of what identifies it (address, port, user and
a configured root; no secret), in ``JOHANN_DISCOVERY_CACHE_DIR``, else
``$XDG_CACHE_HOME/johann.monitor/discovery``, else ``~/.cache/johann.monitor/discovery``
(directory 0700, files 0600). A file that cannot be read or parsed is as if there were none,
and is replaced after the next discovery; one that cannot be written leaves the device
discovered every run, with the same results.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_DIR = "JOHANN_DISCOVERY_CACHE_DIR"
FORMAT = 1
MAX_FILE = 1 << 20   # a module list of thousands of names is ~100 kB; a bigger file is not ours
ID_KINDS = ("module-set-id", "content-id")


@dataclass(frozen=True)
class Library:
    """One device's discovery: its root and where it came from, its modules and the library's id."""

    root: str
    root_source: str
    modules: frozenset
    id_kind: str     # module-set-id (RFC 7895) or content-id (RFC 8525)
    id: str

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "root": self.root, "root_source": self.root_source, "id_kind": self.id_kind,
                "id": self.id, "modules": sorted(self.modules)}

    @classmethod
    def from_json(cls, data: Any) -> Library | None:
        """The entry of a cache file; None for anything else."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        root, source, kind, ident, modules = (data.get(k) for k in ("root", "root_source", "id_kind", "id", "modules"))
        if not (isinstance(root, str) and root.startswith("/") and isinstance(source, str) and kind in ID_KINDS
                and isinstance(ident, str) and ident and isinstance(modules, list)
                and all(isinstance(m, str) for m in modules)):
            return None
        return cls(root, source, frozenset(modules), kind, ident)


def default_dir() -> Path:
    """Where the cache is kept (``JOHANN_DISCOVERY_CACHE_DIR``, else the user's cache directory)."""
    configured = os.environ.get(ENV_DIR)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "johann.monitor" / "discovery"


class Cache:
    """The discovery cache in ``directory``: ``load`` and ``save`` one device's ``Library``."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_dir()

    def path(self, host: str, port: int, username: str | None, root: str | None) -> Path:
        """The file of the device at ``host``:``port`` read as ``username`` (with ``root`` configured, else None)."""
        key = json.dumps([host, port, username, root]).encode()
        return self.directory / f"{hashlib.sha256(key).hexdigest()[:40]}.json"

    def load(self, host: str, port: int, username: str | None, root: str | None) -> Library | None:
        try:
            path = self.path(host, port, username, root)
            if path.stat().st_size > MAX_FILE:
                return None
            return Library.from_json(json.loads(path.read_bytes()))
        except (OSError, ValueError):
            return None

    def save(self, host: str, port: int, username: str | None, root: str | None, library: Library) -> bool:
        """Write the entry (atomically: a reader sees the old file or the new one); False when it cannot be."""
        path = self.path(host, port, username, root)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(library.as_json(), out, separators=(",", ":"))
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError:
            return False
        return True
