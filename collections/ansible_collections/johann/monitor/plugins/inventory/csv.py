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

import csv  # noqa: E402
import io  # noqa: E402
import ipaddress  # noqa: E402
import keyword  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402

from ansible import constants as C  # noqa: E402
from ansible.errors import AnsibleParserError  # noqa: E402
from ansible.inventory.group import to_safe_group_name  # noqa: E402
from ansible.module_utils.common.text.converters import to_native  # noqa: E402
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable  # noqa: E402
from ansible.utils.unsafe_proxy import wrap_var  # noqa: E402
from ansible.vars.reserved import is_reserved_name  # noqa: E402

CONFIG_SUFFIXES = (".johann_csv.yml", ".johann_csv.yaml")
KNOWN = ("ip", "name", "username", "password", "platform", "port", "group")
# the variables the known columns and the plugin set; a column of the same name would be ambiguous
SET_BY_PLUGIN = {"ansible_host": "ip", "ansible_user": "username", "ansible_password": "password",
                 "johann_platform": "platform", "restconf_port": "port", "ansible_connection": None}
MAGIC = frozenset(getattr(C, "INTERNAL_STATIC_VARS", ())) | {
    "inventory_hostname", "inventory_hostname_short", "inventory_dir", "inventory_file", "groups",
    "group_names", "hostvars", "playbook_dir", "play_hosts", "role_names", "omit"}
DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")
MAX_LISTED = 20


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

        try:
            b_data, shown = self.loader._get_file_contents(csv_path)
        except AnsibleParserError:
            raise
        except Exception as e:
            raise AnsibleParserError(f"{csv_path}: cannot read the device list: {to_native(e)}") from e

        rows, warnings = read_devices(bytes(b_data), csv_path)
        encrypted = not shown
        default_group = self.get_option("default_group")
        if default_group:
            safe = to_safe_group_name(default_group, force=True, silent=True)
            if safe != default_group:
                warnings.append(f"{csv_path}: default_group {default_group!r} is not a valid group name; using {safe!r}")
            default_group = self.inventory.add_group(safe)

        for message in warnings:
            self.display.warning(message)
        with_password = [row for row in rows if "ansible_password" in row.variables]
        if with_password and not encrypted:
            self.display.warning(password_warning(csv_path, len(with_password), len(rows)))

        strict = self.get_option("strict")
        for row in rows:
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


def password_warning(path, count, total):
    rows = "1 row carries a password" if count == 1 else f"{count} rows carry a password"
    return (f"{path}: {rows} (of {total}). A password in a plain CSV file can be read by anyone who can "
            "read the file, its backups or its version history. Instead, leave the password column empty and "
            "set ansible_password in group_vars encrypted with 'ansible-vault encrypt_string', or supply "
            "JOHANN_RESTCONF_PASSWORD in the environment (what an AWX credential type injects), or encrypt the "
            "whole file with 'ansible-vault encrypt'. See: ansible-doc -t inventory johann.monitor.csv")


class Device:
    __slots__ = ("line", "name", "groups", "variables")

    def __init__(self, line, name, groups, variables):
        self.line, self.name, self.groups, self.variables = line, name, groups, variables


def read_devices(b_data, path):
    """The devices of a johann CSV file, and the warnings for it; AnsibleParserError lists every problem."""
    problems = []

    def fail(line, message):
        problems.append(f"line {line}: {message}" if line else message)

    try:
        text = b_data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = b_data[:e.start].count(b"\n") + 1
        raise AnsibleParserError(f"{path}: line {line}: the file is not UTF-8 text (byte {e.start + 1}); "
                                 "save it as 'CSV UTF-8 (comma delimited)'") from None

    records, error = split_records(text)
    if error:
        raise AnsibleParserError(f"{path}: {error}")
    if not records:
        raise AnsibleParserError(f"{path}: no header line: the file is empty (or only blank lines and comments); "
                                 "the first line must name the columns, for example ip,username,password")

    header_line, header = records[0]
    columns = [cell.strip().lower() for cell in header]
    secrets = passwords(columns, records[1:])

    def hidden(value):
        return any(secret in value for secret in secrets)

    def show(value):
        return "(not shown: it contains a password of this file)" if hidden(value) else repr(value)

    if "ip" not in columns:
        hint = ""
        if len(columns) == 1 and (";" in header[0] or "\t" in header[0]):
            hint = "; the header seems separated by ';' or tabs: the file must be comma-separated"
        raise AnsibleParserError(
            f"{path}: line {header_line}: the header has no 'ip' column{hint}. The first line that is not blank "
            "or a comment must name the columns: ip (required), name, username, password, platform, port, group")

    warnings = []
    extras = {}
    for index, column in enumerate(columns):
        if not column:
            continue
        elif column in columns[:index]:
            fail(header_line, f"column {column!r} appears twice in the header")
        elif column in KNOWN:
            continue
        elif column in SET_BY_PLUGIN:
            source = SET_BY_PLUGIN[column]
            fail(header_line, f"column {column!r} would set a variable the plugin sets "
                              f"{'from the ' + repr(source) + ' column' if source else 'itself'}; remove it")
        elif not column.isidentifier() or keyword.iskeyword(column) or not column.isascii():
            warnings.append(f"{path}: line {header_line}: column {column!r} is left out: its header is not a valid "
                            "variable name (letters, digits and _, not starting with a digit)")
        elif is_reserved_name(column) or column in MAGIC:
            warnings.append(f"{path}: line {header_line}: column {column!r} is left out: Ansible reserves that "
                            "variable name")
        else:
            extras[index] = column

    from ansible_collections.johann.monitor.plugins.module_utils._normalise.platforms import BY_NAME

    platforms = sorted(BY_NAME)
    devices = []
    names = {}
    addresses = {}
    for line, cells in records[1:]:
        if len(cells) != len(columns):
            fail(line, f"{len(cells)} cells, but the header (line {header_line}) has {len(columns)} columns")
            continue
        row = {column: cell.strip() for column, cell in zip(columns, cells, strict=True) if column in KNOWN}
        for index, cell in enumerate(cells):
            if not columns[index] and cell.strip():
                fail(line, f"a value in column {index + 1}, which has no name in the header")
        variables = {}

        ip = row["ip"]
        host = ip[1:-1] if ip.startswith("[") and ip.endswith("]") else ip
        if not ip:
            fail(line, "the ip cell is empty")
        elif not (is_ip(host) or is_dns_name(host)):
            hint = "; put a port in the port column" if re.fullmatch(r"[^:]+:\d+|\[.+\]:\d+", ip) else ""
            fail(line, f"ip {show(ip)} is not an IPv4 or IPv6 address or a DNS name{hint}")
        else:
            variables["ansible_host"] = host

        # the name defaults to the address (a bad address has been reported already)
        name = row.get("name") or variables.get("ansible_host")
        if name and any(c.isspace() for c in name):
            fail(line, f"name {show(name)} contains spaces")
        elif name in names:
            fail(line, f"name {show(name)} is already used on line {names[name]}")
        elif name:
            names[name] = line

        for column, variable in (("username", "ansible_user"), ("password", "ansible_password")):
            if row.get(column):
                variables[variable] = row[column]

        platform = row.get("platform", "").lower()
        if platform and platform != "auto":
            if platform in BY_NAME:
                variables["johann_platform"] = platform
            else:
                fail(line, f"platform {show(row['platform'])} is not one of: auto, {', '.join(platforms)} "
                           "(or empty to detect it)")

        port = row.get("port", "")
        if port:
            if port.isdigit() and port.isascii() and 1 <= int(port) <= 65535:
                variables["restconf_port"] = int(port)
            else:
                fail(line, f"port {show(port)} is not a number from 1 to 65535")

        groups = []
        for raw in row.get("group", "").split(";"):
            raw = raw.strip()
            if raw:
                group = to_safe_group_name(raw, force=True, silent=True)
                if group != raw:
                    using = "; its other characters become _" if hidden(raw) else f"; using {group!r}"
                    warnings.append(f"{path}: line {line}: group {show(raw)} is not a valid group name{using}")
                if group not in groups:
                    groups.append(group)

        for index, column in extras.items():
            if cells[index].strip():
                variables[column] = cells[index].strip()

        if "ansible_host" in variables and name:
            target = (host.lower(), variables.get("restconf_port"))
            if target in addresses and addresses[target][1] != name:
                other_line, other_name = addresses[target]
                port_text = f" port {target[1]}" if target[1] else ""
                warnings.append(f"{path}: line {line}: {show(name)} has the ip{port_text} of {show(other_name)} "
                                f"(line {other_line})")
            addresses.setdefault(target, (line, name))
        devices.append(Device(line, name, groups, variables))

    if problems:
        listed = problems[:MAX_LISTED]
        if len(problems) > MAX_LISTED:
            listed.append(f"... and {len(problems) - MAX_LISTED} more problems")
        raise AnsibleParserError(f"{path}: {len(problems)} problem{'s' if len(problems) > 1 else ''} in the device "
                                 "list, nothing was loaded from it:\n  " + "\n  ".join(listed))
    return devices, warnings


def split_records(text):
    """(line number, cells) of every record that is not blank or a comment, and an error or None."""
    numbered = []
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            numbered.append((number, line))

    consumed = 0

    def feed():
        nonlocal consumed
        for _number, line in numbered:
            consumed += 1
            yield line

    reader = csv.reader(feed(), strict=True)
    records = []
    while True:
        first = numbered[consumed][0] if consumed < len(numbered) else None
        try:
            cells = next(reader)
        except StopIteration:
            return records, None
        except csv.Error as e:
            return records, f"line {first}: the CSV is malformed ({e}); check the quotes on this line"
        if any(cell.strip() for cell in cells):
            records.append((first, cells))


def passwords(columns, records):
    if "password" not in columns:
        return set()
    index = columns.index("password")
    return {cells[index].strip() for _line, cells in records if len(cells) > index and cells[index].strip()}


def is_ip(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_dns_name(value):
    name = value[:-1] if value.endswith(".") else value
    if not name or len(name) > 253 or re.fullmatch(r"[\d.]+", name):
        return False
    return all(DNS_LABEL.fullmatch(label) for label in name.split("."))
