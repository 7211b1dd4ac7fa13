# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the report (and what playbooks put beside it) goes, as the report itself decides it."""
from __future__ import annotations

DOCUMENTATION = r"""
name: report_path
short_description: The report directory, or a path in it, as johann.monitor.report chooses it
version_added: 0.1.0
description:
  - Returns the directory M(johann.monitor.report) writes the report to when it is not given
    C(output_dir) - the variable C(johann_report_dir), else C(reports/out) of the project (the directory
    of the C(ansible.cfg) in use when the playbook is in it or below it, else the playbook's directory;
    never a directory above it) - as an absolute path, so that a playbook writing files beside the report
    (C(playbooks/show_run.yml) writes C(config/<host>.json)) uses the same directory and the same
    override without stating it again.
  - With terms, the path of that name inside the report directory (the terms are joined as path parts;
    none may be absolute or go up with C(..)).
  - With O(device), the device's file name is appended - the name of its report page
    (C(devices/<name>.html)) with O(suffix) instead of C(.html) - the host name itself when it is a safe
    file name, else a slug and a hash of it, so that no host name can make a path of it.
author: johann.monitor contributors (!UNKNOWN)
options:
  _terms:
    description: Path parts inside the report directory, such as V(config).
    type: list
    elements: str
    required: false
  device:
    description: An inventory host name; its file name is appended (see O(suffix)).
    type: str
  suffix:
    description: The extension of the device's file name when O(device) is given.
    type: str
    default: .json
notes:
  - The report's own O(johann.monitor.report#module:output_dir) option is not seen by this lookup;
    set C(johann_report_dir) to move both.
"""

EXAMPLES = r"""
- name: Where this run's report goes
  ansible.builtin.debug:
    msg: "{{ lookup('johann.monitor.report_path') }}"

- name: The JSON of a device's running configuration, beside the report
  ansible.builtin.debug:
    msg: "{{ lookup('johann.monitor.report_path', 'config', device=inventory_hostname) }}"
    # /path/to/project/reports/out/config/c9300-01.json
"""

RETURN = r"""
_raw:
  description: One absolute path.
  type: list
  elements: path
"""

from pathlib import Path, PurePath  # noqa: E402

from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402
from ansible_collections.johann.monitor.plugins.plugin_utils._report.project import (  # noqa: E402
    IN_USE,
    project_root,
    report_dir,
)
from ansible_collections.johann.monitor.plugins.plugin_utils._report.view import device_file  # noqa: E402


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        variables = variables or {}
        configured = variables.get("johann_report_dir")
        if configured is not None:
            configured = self._templar.template(configured)
        # ansible_config_file: Ansible's special variable, the ansible.cfg of this run (None without one)
        project = project_root(Path(str(variables.get("playbook_dir") or ".")),
                               variables.get("ansible_config_file", IN_USE))
        path = report_dir(str(configured) if configured else None, project)
        for term in terms or []:
            part = PurePath(str(term))
            if not str(term) or part.is_absolute() or ".." in part.parts:
                raise AnsibleLookupError(f"johann.monitor.report_path: {term!r} is not a path inside the report "
                                         "directory")
            path = path / part
        device = self.get_option("device")
        if device is not None:
            if not str(device):
                raise AnsibleLookupError("johann.monitor.report_path: device is empty")
            path = path / device_file(str(device), self.get_option("suffix"))
        return [str(path)]
