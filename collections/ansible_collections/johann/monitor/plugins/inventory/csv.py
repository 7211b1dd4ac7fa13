# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: csv
short_description: Devices from a CSV file in johann's template (ip, username, password, ...)
version_added: 0.1.0
author: johann.monitor contributors (!UNKNOWN)
description:
  - Reads a device list in the CSV template of johann (the Django application this collection
    replaces) into hosts for the C(johann.monitor) plugins, so existing device lists keep working.
  - "The source is a YAML configuration file whose name ends in C(.johann_csv.yml) or C(.johann_csv.yaml)
    (for example C(inventory/devices.johann_csv.yml)) with C(plugin: johann.monitor.csv) and O(path);
    the C(auto) inventory plugin recognises it, so nothing needs enabling."
  - A C(.csv) file can also be given directly as the inventory source (C(-i devices.csv)), with the
    default of every option. That needs C(johann.monitor.csv) in C(enable_plugins) of the
    C([inventory]) section of C(ansible.cfg), B(before) C(ini) or without it - Ansible tries the next
    plugin when one fails, and C(ini) takes any file, so a broken CSV would become hosts named after
    its lines. This project's C(ansible.cfg) leaves C(ini) out and sets C(any_unparsed_is_failed).
  - "The file is UTF-8, comma-separated, with a header line naming the columns. A byte order mark
    (Excel's C(CSV UTF-8) export) is accepted. Blank lines and lines whose first non-blank character
    is C(#) are skipped. Header names are case-insensitive and surrounding spaces do not matter;
    surrounding spaces are removed from every cell, passwords included."
  - "Columns: C(ip) (required: an IPv4 or IPv6 address or a DNS name) becomes C(ansible_host);
    C(name) (optional) the inventory hostname, by default the C(ip);
    C(username) C(ansible_user); C(password) C(ansible_password);
    C(platform) C(johann_platform) (V(iosxe), V(nxos), V(openconfig) or V(ietf), case-insensitive; empty or V(auto) lets
    M(johann.monitor.device_info) choose from the device's YANG library);
    C(port) C(restconf_port) (1 to 65535; by default 443);
    C(group) one or more groups, separated by C(;), created as needed. Group names Ansible would not
    accept have their other characters replaced by C(_), with a warning. An empty cell sets nothing,
    so group_vars, host_vars or the environment can supply the value."
  - Every host also gets C(ansible_connection=local) (the collection's plugins run on the
    controller) and is put in the group O(default_group).
  - Any other column whose header is a valid variable name becomes a host variable of that name
    (its value a string; empty cells set nothing), for example C(site) or C(restconf_ca_path), usable in
    O(compose), O(groups) and O(keyed_groups). A column that would set a variable the plugin sets
    itself (C(ansible_host), C(ansible_user), C(ansible_password), C(ansible_connection),
    C(johann_platform), C(restconf_port)) is an error; one whose header is not a valid variable
    name, or is a name Ansible reserves (such as C(serial), C(tags), C(inventory_hostname)), is
    left out with a warning.
  - Values are data, never templates.
  - "A problem in the file fails the whole source, never a part of it: the error names the file and
    the line of every problem found (a missing C(ip) column, a row with more or fewer cells than the header,
    an empty C(ip), an address that is neither an IP address nor a DNS name, a bad port, an unknown
    platform, a C(name) used twice, a host name with spaces, a cell under a column without a header,
    text that is not UTF-8, broken quoting)."
  - Two rows with the same C(ip) and C(port) but different names are accepted with a warning.
  - "B(Passwords.) When rows carry a password, one warning per file says how many: a plain CSV is
    readable by anyone who can read the file, its backups and its version history. Better, in order:
    leave the C(password) column empty and set C(ansible_password) in C(group_vars) (for example
    C(group_vars/johann.yml)), encrypted with C(ansible-vault encrypt_string); or supply the password
    through the environment variable E(JOHANN_RESTCONF_PASSWORD), which is what an AWX/Ansible
    Automation Platform credential type injects; or, to keep the file as it is, encrypt the
    whole CSV with C(ansible-vault encrypt devices.csv): this plugin decrypts it (give the vault
    password as for any vaulted file) and does not warn."
  - Passwords never appear in this plugin's warnings or errors; a cell holding text that
    contains one of the file's passwords is not shown. Ansible has no way to hide a host variable,
    so C(ansible-inventory --list) and C(-vvv) output still show C(ansible_password).
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: The name of this plugin, so the C(auto) inventory plugin hands the file to it.
    required: true
    type: str
    choices: [johann.monitor.csv]
  path:
    description:
      - The CSV file. A relative path is taken from the directory of the configuration file.
      - A C(~) at the start is expanded.
      - When a C(.csv) file is the inventory source itself, it is that file.
    type: str
    required: true
  default_group:
    description:
      - The group every host of the file goes into, besides the groups of its C(group) cell.
      - An empty string puts hosts without a C(group) cell in C(ungrouped) only.
    type: str
    default: johann
notes:
  - Ansible reports a source that fails to parse as warnings and carries on without its hosts; set
    C(unparsed_is_failed) (E(ANSIBLE_INVENTORY_UNPARSED_FAILED=true)) to make it stop instead.
  - For a private certificate authority the C(johann.monitor) plugins also need C(restconf_ca_path);
    set it in C(group_vars), in a C(restconf_ca_path) column, or with O(compose).
seealso:
  - name: Encrypting content with Ansible Vault
    description: C(ansible-vault encrypt_string) for a password in group_vars, C(ansible-vault encrypt) for a whole file.
    link: https://docs.ansible.com/ansible/latest/vault_guide/vault_encrypting_content.html
  - module: johann.monitor.device_info
"""

EXAMPLES = r"""
# inventory/devices.johann_csv.yml, used with: ansible-playbook -i inventory/devices.johann_csv.yml playbooks/monitor.yml
plugin: johann.monitor.csv
path: devices.csv            # next to this file
default_group: johann

# inventory/devices.csv (johann's template plus optional columns; empty passwords come from group_vars):
#   ip,username,password,name,platform,port,group,site
#   10.0.0.1,admin,,core-01,iosxe,,core;dc1,dc1
#   10.0.0.2,admin,,core-02,iosxe,,core;dc1,dc1
#   2001:db8::10,admin,,lab-gx,ietf,8443,lab,lab
#   sw-07.example.net,admin,,,,,access,hq
#
# inventory/group_vars/johann.yml: the password once, encrypted
#   ansible_password: !vault |
#     $ANSIBLE_VAULT;1.1;AES256
#     ...          (from: ansible-vault encrypt_string --name ansible_password)
#   restconf_ca_path: /etc/pki/johann/ca.pem

---
# The Constructable options work on the variables of each row
plugin: johann.monitor.csv
path: /srv/johann/devices.csv
strict: true
compose:
  restconf_validate_certs: "site != 'lab'"
groups:
  ios_xe: johann_platform | default('') == 'iosxe'
keyed_groups:
  - key: site
    prefix: site

---
# Without a password column at all: AWX or a shell provides it
#   export JOHANN_RESTCONF_PASSWORD=...    (or an AWX credential type that injects it)
plugin: johann.monitor.csv
path: devices.csv
"""

import os  # noqa: E402

from ansible.errors import AnsibleParserError  # noqa: E402
from ansible.inventory.group import to_safe_group_name  # noqa: E402
from ansible.module_utils.common.text.converters import to_native  # noqa: E402
from ansible.parsing.vault import is_encrypted  # noqa: E402
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable  # noqa: E402
from ansible.utils.unsafe_proxy import wrap_var  # noqa: E402
from ansible_collections.johann.monitor.plugins.plugin_utils._csv_inventory import (  # noqa: E402
    password_warning,
    read_devices,
)

CONFIG_SUFFIXES = (".johann_csv.yml", ".johann_csv.yaml")


class InventoryModule(BaseInventoryPlugin, Constructable):
    """Hosts from a CSV device list in johann's template."""

    NAME = "johann.monitor.csv"

    def verify_file(self, path):
        if not super().verify_file(path):
            return False
        lowered = path.lower()
        return lowered.endswith(CONFIG_SUFFIXES) or lowered.endswith(".csv")

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        if path.lower().endswith(".csv"):
            self.set_options(direct={"plugin": self.NAME, "path": path}, var_options=self._vars)
            csv_path = path
        else:
            self._read_config_data(path)
            csv_path = os.path.expanduser(self.get_option("path"))
            if not os.path.isabs(csv_path):
                csv_path = os.path.join(os.path.dirname(os.path.abspath(path)), csv_path)

        b_data, encrypted = self._contents(csv_path)
        rows, warnings = read_devices(b_data, csv_path)
        default_group = self._default_group(csv_path, warnings)
        for message in warnings:
            self.display.warning(message)
        with_password = [row for row in rows if "ansible_password" in row.variables]
        if with_password and not encrypted:
            self.display.warning(password_warning(csv_path, len(with_password), len(rows)))
        for row in rows:
            self._add(row, default_group)

    def _contents(self, csv_path):
        """The file's bytes, decrypted when it is vault-encrypted, and whether it was.

        A plain file is read as it is (its bytes: read_devices names the line of text that is not UTF-8); a
        vaulted one through the loader, which holds the run's vault secrets (DataLoader.get_text_file_contents,
        public in ansible-core 2.19 to 2.21), its text given back as the same bytes."""
        try:
            with open(self.loader.path_dwim(csv_path), "rb") as handle:
                b_data = handle.read()
            if not is_encrypted(b_data):
                return b_data, False
            return self.loader.get_text_file_contents(csv_path).encode("utf-8", "surrogateescape"), True
        except AnsibleParserError:
            raise
        except Exception as e:
            raise AnsibleParserError(f"{csv_path}: cannot read the device list: {to_native(e)}") from e

    def _default_group(self, csv_path, warnings):
        default_group = self.get_option("default_group")
        if not default_group:
            return default_group
        safe = to_safe_group_name(default_group, force=True, silent=True)
        if safe != default_group:
            warnings.append(f"{csv_path}: default_group {default_group!r} is not a valid group name; using {safe!r}")
        return self.inventory.add_group(safe)

    def _add(self, row, default_group):
        """A row's host: its groups, its variables, then what compose, groups and keyed_groups make of them."""
        strict = self.get_option("strict")
        self.inventory.add_host(row.name, group=default_group or None)
        for group in row.groups:
            self.inventory.add_child(self.inventory.add_group(group), row.name)
        for key, value in row.variables.items():
            self.inventory.set_variable(row.name, key, wrap_var(value))
        self.inventory.set_variable(row.name, "ansible_connection", "local")

        variables = self.inventory.get_host(row.name).get_vars()
        self._set_composite_vars(self.get_option("compose"), variables, row.name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), variables, row.name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, row.name, strict=strict)
