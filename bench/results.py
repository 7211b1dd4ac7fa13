"""Write a benchmark's results: a JSON record and a readable Markdown page; and a bench's command line.

Every part (lab, netcommon, later the fleet playbooks) returns a plain dict
and a Markdown section; this module adds what makes figures comparable
across runs: the date, the machine, the versions. Every bench runs as a module
from the repository's root (``.venv/bin/python -m bench.<name>``): ``parser``
and ``command`` say so in its help and in its results.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shlex
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import procfs, wrk

PACKAGES = ("aiohttp", "uvloop", "httpx", "cryptography", "PyYAML", "ansible-core")
BUSY_BEFORE = 0.1  # share of both cores used by others just before the bench
BUSY_LOAD = 2.5  # the bench itself keeps one to two cores busy
Section = tuple[str, dict, Callable[[dict], list[str]]]
ROOT = Path(__file__).resolve().parent.parent


def parser(module: str, doc: str | None, work_dir: Path = ROOT / "bench" / "work") -> argparse.ArgumentParser:
    """``python -m bench.<module>``'s command line: its docstring as the help, ``--results-dir`` and ``--work-dir``."""
    out = argparse.ArgumentParser(prog=f"python -m bench.{module}", description=doc,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    out.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    out.add_argument("--work-dir", type=Path, default=work_dir)
    return out


def command(module: str, argv: list[str] | None) -> str:
    """The command line a results file names: ``python -m bench.<module>`` and its arguments."""
    return f"python -m bench.{module} {shlex.join(sys.argv[1:] if argv is None else argv)}".strip()


def cell(value: object) -> str:
    """A table cell: the figure, or a dash for one not taken (None)."""
    return "–" if value is None else str(value)


def checks(data: dict) -> str:
    """A bench's checks as one Markdown line: ``Checks: name yes, other NO``."""
    return "Checks: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in data["checks"].items())


@dataclass
class Started:
    """What a bench notes as it starts, for its results' header (``write``'s meta)."""
    busy: float = field(default_factory=procfs.machine_busy)   # samples the machine for 3 s
    clock: float = field(default_factory=time.monotonic)
    load: list = field(default_factory=procfs.load_average)
    date: datetime = field(default_factory=lambda: datetime.now(UTC))

    def meta(self, title: str, command: str, quick: bool) -> dict:
        return {"started": self.date, "title": title, "command": command, "mode": "quick" if quick else "default",
                "total_s": round(time.monotonic() - self.clock, 1), "load_average_start": self.load,
                "busy_before": round(self.busy, 3)}


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict:
    return {"cpu_model": procfs.cpu_model(), "nproc": os.cpu_count(), "mem_total_gib": procfs.mem_total_gib(),
            "kernel": platform.release(), "python": platform.python_version(), "openssl": ssl.OPENSSL_VERSION,
            "wrk": wrk.version(), "load_average": procfs.load_average(),
            "packages": {name: _version(name) for name in PACKAGES}}


def write(out_dir: Path, name: str, meta: dict, sections: list[Section]) -> tuple[Path, Path]:
    """``<out_dir>/<YYYY-MM-DD>-<name>.json`` and ``.md`` (the start's date); returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = meta.get("started") or datetime.now(UTC)
    stem = out_dir / f"{started:%Y-%m-%d}-{name}"
    record = {**meta, "started": started.isoformat(timespec="seconds"), "machine": machine(),
              **{key: data for key, data, _ in sections}}
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(json.dumps(record, indent=2) + "\n")
    md_path.write_text("\n".join(_page(record, sections)) + "\n")
    return json_path, md_path


def _page(record: dict, sections: list[Section]) -> list[str]:
    m = record["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    lines = [
        f"# Benchmark: {record['title']}", "",
        f"Started {record['started']} with `{record['command']}` ({record['mode']} mode), {record['total_s']:.0f} s in all.",
        "",
        "| machine | |", "| --- | --- |",
        f"| CPU | {m['cpu_model']}, nproc {m['nproc']}, {m['mem_total_gib']} GiB |",
        f"| CPU busy before the start (3 s) | {record['busy_before']:.0%} of both cores |",
        f"| load average at the start / at the end | {' '.join(map(str, record['load_average_start']))} / "
        f"{' '.join(map(str, m['load_average']))} |",
        f"| kernel / Python | {m['kernel']} / Python {m['python']} |",
        f"| TLS | {m['openssl']} |",
        f"| packages | {packages}; {m['wrk']} |",
        "",
    ]
    if record["busy_before"] > BUSY_BEFORE or m["load_average"][0] > BUSY_LOAD:
        lines += ["**The machine was not idle** (CPU busy before the start, load averages): other work shared "
                  "the cores, so the figures below may be lower than this machine can do.", ""]
    for _, data, render in sections:
        lines += render(data)
    return lines
