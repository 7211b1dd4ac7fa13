# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a report goes and which templates it renders with: the project around the playbook."""
from __future__ import annotations

from pathlib import Path

COLLECTION_TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "report"


def project_root(playbook_dir: Path) -> Path:
    """The nearest directory above the playbook that holds reports/templates (the project layout)."""
    for candidate in (playbook_dir, *playbook_dir.parents):
        if (candidate / "reports" / "templates" / "base.html").is_file():
            return candidate
    return playbook_dir.parent


def report_dir(configured: str | None, project: Path) -> Path:
    """Where the report goes: ``configured`` (the report's output_dir, else the variable johann_report_dir),
    else reports/out of the project. Absolute: the paths in results are used by later tasks, whose relative
    paths mean other things. The lookup johann.monitor.report_path gives the same to playbooks."""
    return Path(configured or project / "reports" / "out").absolute()


def template_dirs(templates_dir: str | None, project: Path) -> list[Path]:
    """The user's templates first (they may override only some pages), then the project's
    reports/templates, then the defaults shipped in the collection (templates/report).

    In this project reports/templates is a symlink to the collection's copy (one directory,
    listed once); an installed collection used from any other project renders with its own."""
    dirs = []
    if templates_dir:
        user = Path(templates_dir)
        if not user.is_dir():
            raise ValueError(f"templates_dir {user} is not a directory")
        dirs.append(user)
    for candidate in (project / "reports" / "templates", COLLECTION_TEMPLATES):
        if (candidate / "base.html").is_file() and candidate.resolve() not in [d.resolve() for d in dirs]:
            dirs.append(candidate)
    if not any((d / "base.html").is_file() for d in dirs):
        raise ValueError("no report templates found: give templates_dir (a directory with base.html, "
                         "index.html, device.html, stats.html and licensing.html)")
    return dirs
