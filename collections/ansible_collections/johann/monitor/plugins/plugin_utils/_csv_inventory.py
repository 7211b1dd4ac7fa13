# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A device list in johann's CSV template, read and checked: what the johann.monitor.csv inventory plugin adds.

``read_devices`` turns the file's bytes into ``Device`` rows (name, groups, host variables) and the
warnings for it, or raises AnsibleParserError listing every problem with its line: a problem in the
file fails the whole source, never a part of it. A value that contains one of the file's passwords
is never shown in a warning or an error.
"""
from __future__ import annotations

import csv
import io
import ipaddress
import keyword
import re

from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.inventory.group import to_safe_group_name
from ansible.vars.reserved import is_reserved_name

KNOWN = ("ip", "name", "username", "password", "platform", "port", "group")
# the variables the known columns and the plugin set; a column of the same name would be ambiguous
SET_BY_PLUGIN = {"ansible_host": "ip", "ansible_user": "username", "ansible_password": "password",
                 "johann_platform": "platform", "restconf_port": "port", "ansible_connection": None}
MAGIC = frozenset(getattr(C, "INTERNAL_STATIC_VARS", ())) | {
    "inventory_hostname", "inventory_hostname_short", "inventory_dir", "inventory_file", "groups",
    "group_names", "hostvars", "playbook_dir", "play_hosts", "role_names", "omit"}
DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")
MAX_LISTED = 20
NOT_SHOWN = "(not shown: it contains a password of this file)"


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
    records = _records(_decoded(b_data, path), path)
    header_line, header = records[0]
    columns = [cell.strip().lower() for cell in header]
    _require_ip(columns, header, header_line, path)
    reader = _Reader(path, columns, header_line, passwords(columns, records[1:]))
    devices = [reader.device(line, cells) for line, cells in records[1:]]
    reader.raise_problems()
    return [d for d in devices if d is not None], reader.warnings


def _decoded(b_data, path):
    try:
        return b_data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = b_data[:e.start].count(b"\n") + 1
        raise AnsibleParserError(f"{path}: line {line}: the file is not UTF-8 text (byte {e.start + 1}); "
                                 "save it as 'CSV UTF-8 (comma delimited)'") from None


def _records(text, path):
    records, error = split_records(text)
    if error:
        raise AnsibleParserError(f"{path}: {error}")
    if not records:
        raise AnsibleParserError(f"{path}: no header line: the file is empty (or only blank lines and comments); "
                                 "the first line must name the columns, for example ip,username,password")
    return records


def _require_ip(columns, header, header_line, path):
    if "ip" in columns:
        return
    hint = ""
    if len(columns) == 1 and (";" in header[0] or "\t" in header[0]):
        hint = "; the header seems separated by ';' or tabs: the file must be comma-separated"
    raise AnsibleParserError(
        f"{path}: line {header_line}: the header has no 'ip' column{hint}. The first line that is not blank "
        "or a comment must name the columns: ip (required), name, username, password, platform, port, group")


class _Reader:
    """The rows of one file after its header: the problems and warnings found so far, the names and addresses
    seen (a name used twice is a problem, an address used twice a warning)."""

    def __init__(self, path, columns, header_line, secrets):
        from ansible_collections.johann.monitor.plugins.module_utils._normalise.platforms import BY_NAME

        self.path, self.columns, self.header_line, self.secrets = path, columns, header_line, secrets
        self.platforms = BY_NAME
        self.problems, self.warnings = [], []
        self.names, self.addresses = {}, {}
        self.extras = self._extras()

    def fail(self, line, message):
        self.problems.append(f"line {line}: {message}" if line else message)

    def hidden(self, value):
        return any(secret in value for secret in self.secrets)

    def show(self, value):
        return NOT_SHOWN if self.hidden(value) else repr(value)

    def raise_problems(self):
        if not self.problems:
            return
        listed = self.problems[:MAX_LISTED]
        if len(self.problems) > MAX_LISTED:
            listed.append(f"... and {len(self.problems) - MAX_LISTED} more problems")
        count = len(self.problems)
        raise AnsibleParserError(f"{self.path}: {count} problem{'s' if count > 1 else ''} in the device "
                                 "list, nothing was loaded from it:\n  " + "\n  ".join(listed))

    def _extras(self):
        """The other columns that become host variables (index -> name); the others fail or are left out."""
        extras, line = {}, self.header_line
        for index, column in enumerate(self.columns):
            if not column:
                continue
            elif column in self.columns[:index]:
                self.fail(line, f"column {column!r} appears twice in the header")
            elif column in KNOWN:
                continue
            elif column in SET_BY_PLUGIN:
                source = SET_BY_PLUGIN[column]
                self.fail(line, f"column {column!r} would set a variable the plugin sets "
                                f"{'from the ' + repr(source) + ' column' if source else 'itself'}; remove it")
            elif not column.isidentifier() or keyword.iskeyword(column) or not column.isascii():
                self.warnings.append(f"{self.path}: line {line}: column {column!r} is left out: its header is not "
                                     "a valid variable name (letters, digits and _, not starting with a digit)")
            elif is_reserved_name(column) or column in MAGIC:
                self.warnings.append(f"{self.path}: line {line}: column {column!r} is left out: Ansible reserves "
                                     "that variable name")
            else:
                extras[index] = column
        return extras

    def device(self, line, cells):
        """The device of a row (None: its cells do not match the header)."""
        if len(cells) != len(self.columns):
            self.fail(line, f"{len(cells)} cells, but the header (line {self.header_line}) has {len(self.columns)} "
                            "columns")
            return None
        row = {column: cell.strip() for column, cell in zip(self.columns, cells, strict=True) if column in KNOWN}
        for index, cell in enumerate(cells):
            if not self.columns[index] and cell.strip():
                self.fail(line, f"a value in column {index + 1}, which has no name in the header")
        variables = {}
        host = self._address(line, row["ip"], variables)
        name = self._name(line, row.get("name") or variables.get("ansible_host"))
        for column, variable in (("username", "ansible_user"), ("password", "ansible_password")):
            if row.get(column):
                variables[variable] = row[column]
        self._platform(line, row, variables)
        self._port(line, row.get("port", ""), variables)
        groups = self._groups(line, row.get("group", ""))
        for index, column in self.extras.items():
            if cells[index].strip():
                variables[column] = cells[index].strip()
        if "ansible_host" in variables and name:
            self._same_address(line, name, (host.lower(), variables.get("restconf_port")))
        return Device(line, name, groups, variables)

    def _address(self, line, ip, variables):
        """The device's address (ansible_host, set in ``variables`` when it is one): the ip cell without brackets."""
        host = ip[1:-1] if ip.startswith("[") and ip.endswith("]") else ip
        if not ip:
            self.fail(line, "the ip cell is empty")
        elif not (is_ip(host) or is_dns_name(host)):
            hint = "; put a port in the port column" if re.fullmatch(r"[^:]+:\d+|\[.+\]:\d+", ip) else ""
            self.fail(line, f"ip {self.show(ip)} is not an IPv4 or IPv6 address or a DNS name{hint}")
        else:
            variables["ansible_host"] = host
        return host

    def _name(self, line, name):
        """The inventory hostname: the name cell, else the address (a bad address has been reported already)."""
        if name and any(c.isspace() for c in name):
            self.fail(line, f"name {self.show(name)} contains spaces")
        elif name in self.names:
            self.fail(line, f"name {self.show(name)} is already used on line {self.names[name]}")
        elif name:
            self.names[name] = line
        return name

    def _platform(self, line, row, variables):
        platform = row.get("platform", "").lower()
        if not platform or platform == "auto":
            return
        if platform in self.platforms:
            variables["johann_platform"] = platform
        else:
            self.fail(line, f"platform {self.show(row['platform'])} is not one of: auto, "
                            f"{', '.join(sorted(self.platforms))} (or empty to detect it)")

    def _port(self, line, port, variables):
        if not port:
            return
        if port.isdigit() and port.isascii() and 1 <= int(port) <= 65535:
            variables["restconf_port"] = int(port)
        else:
            self.fail(line, f"port {self.show(port)} is not a number from 1 to 65535")

    def _groups(self, line, cell):
        groups = []
        for raw in cell.split(";"):
            raw = raw.strip()
            if not raw:
                continue
            group = to_safe_group_name(raw, force=True, silent=True)
            if group != raw:
                using = "; its other characters become _" if self.hidden(raw) else f"; using {group!r}"
                self.warnings.append(f"{self.path}: line {line}: group {self.show(raw)} is not a valid group "
                                     f"name{using}")
            if group not in groups:
                groups.append(group)
        return groups

    def _same_address(self, line, name, target):
        """Two rows with the same ip and port but different names: a warning (the first row of an address counts)."""
        if target in self.addresses and self.addresses[target][1] != name:
            other_line, other_name = self.addresses[target]
            port_text = f" port {target[1]}" if target[1] else ""
            self.warnings.append(f"{self.path}: line {line}: {self.show(name)} has the ip{port_text} of "
                                 f"{self.show(other_name)} (line {other_line})")
        self.addresses.setdefault(target, (line, name))


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
