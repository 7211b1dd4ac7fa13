# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a report goes and which templates it renders with: the project the playbook belongs to.

The project is the directory of the ansible.cfg the run uses, when the playbook is in that directory or
below it; else the playbook's own directory. Nothing above the project is looked at or written to: an
installed collection used from any project writes into that project (reports/out), never beside it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Final

from ansible import constants as C

COLLECTION_TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "report"


class _InUse:
    def __repr__(self) -> str:
        return "<the ansible.cfg in use>"


IN_USE: Final = _InUse()   # project_root's default: ask Ansible which ansible.cfg this process read


def config_file_in_use() -> str | None:
    """The ansible.cfg this process reads, as Ansible found it (ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg,
    /etc/ansible/ansible.cfg: the first there); None without one. The same as the special variable
    ansible_config_file of a play's tasks."""
    return C.config.get_config_value("CONFIG_FILE") or None


def project_root(playbook_dir: Path, config_file: str | Path | None | _InUse = IN_USE) -> Path:
    """The project of a playbook: the directory of ``config_file`` (the run's ansible.cfg: the task variable
    ansible_config_file; by default, config_file_in_use()) when the playbook is in it or below it, else the
    playbook's directory; never a directory above both.

    The user's own ~/.ansible.cfg marks no project (it would make the home directory one), nor does an
    ansible.cfg elsewhere (ANSIBLE_CONFIG pointing at another tree, a run from another working directory)."""
    playbook_dir = Path(playbook_dir).resolve()
    if isinstance(config_file, _InUse):
        config_file = config_file_in_use()
    if config_file:
        config = Path(config_file).expanduser().resolve()
        if config != Path("~/.ansible.cfg").expanduser().resolve() and (
                config.parent == playbook_dir or config.parent in playbook_dir.parents):
            return config.parent
    return playbook_dir


def report_dir(configured: str | None, project: Path) -> Path:
    """Where the report goes: ``configured`` (the report's output_dir, else the variable johann_report_dir),
    else reports/out of the project. Absolute: the paths in results are used by later tasks, whose relative
    paths mean other things. The lookup johann.monitor.report_path gives the same to playbooks."""
    return Path(configured or project / "reports" / "out").absolute()


def template_dirs(templates_dir: str | None, project: Path) -> list[Path]:
    """The user's templates first (they may override only some pages), then the project's
    reports/templates (of the project's root only: no directory above it is searched), then the
    defaults shipped in the collection (templates/report).

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
