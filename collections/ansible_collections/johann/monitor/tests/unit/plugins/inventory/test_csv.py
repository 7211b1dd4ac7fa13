"""The johann.monitor.csv inventory plugin: hosts, variables and groups from johann's CSV template; every
problem named with its file and line; one password warning per file that never shows a password."""
from __future__ import annotations

import re

import pytest
from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible.plugins.loader import fragment_loader
from ansible.template import Templar
from ansible.utils.plugin_docs import get_docstring
from ansible_collections.johann.monitor.plugins.inventory import csv as csv_plugin
from ansible_collections.johann.monitor.plugins.inventory.csv import InventoryModule

SECRET = "Tr0ub4dor&3-xyzzy"
OTHER_SECRET = "correct-horse-battery"


@pytest.fixture(scope="module", autouse=True)
def _option_definitions():
    """What Ansible's plugin loader does when it loads the plugin: register its options (with the constructed
    fragment's) so set_options works on an instance made here."""
    doc = get_docstring(csv_plugin.__file__, fragment_loader)[0]
    C.config.initialize_plugin_configuration_definitions("inventory", InventoryModule.NAME, doc["options"])


class Recorder:
    def __init__(self):
        self.warnings = []

    def warning(self, msg, *args, **kwargs):
        self.warnings.append(msg)

    def __getattr__(self, name):       # vvv, debug...: nothing to record
        return lambda *args, **kwargs: None


def make_plugin():
    plugin = InventoryModule()
    plugin._load_name = InventoryModule.NAME
    plugin.display = Recorder()
    return plugin


def load(tmp_path, text, config=None, name="devices.csv", loader=None):
    """Parse `text` as a CSV (through a config file when `config` is given); (inventory, warnings)."""
    source = tmp_path / name
    source.write_bytes(text if isinstance(text, bytes) else text.encode())
    if config is not None:
        source = tmp_path / "devices.johann_csv.yml"
        source.write_text(config)
    plugin = make_plugin()
    inventory = InventoryData()
    plugin.parse(inventory, loader or DataLoader(), str(source))
    return inventory, plugin.display.warnings


def hostvars(inventory, name):
    return {k: v for k, v in inventory.get_host(name).get_vars().items()
            if not k.startswith("inventory_") and k != "group_names"}


def members(inventory, group):
    return sorted(h.name for h in inventory.groups[group].get_hosts())


def error(tmp_path, text, **kwargs):
    with pytest.raises(AnsibleParserError) as e:
        load(tmp_path, text, **kwargs)
    return str(e.value)


# ---- good files -------------------------------------------------------------------------------------

def test_johann_template_rows_become_hosts(tmp_path):
    inventory, warnings = load(tmp_path, "ip,username,password\n10.0.0.1,admin,\n10.0.0.2,ops,\n")
    assert sorted(inventory.hosts) == ["10.0.0.1", "10.0.0.2"]
    assert hostvars(inventory, "10.0.0.1") == {"ansible_host": "10.0.0.1", "ansible_user": "admin",
                                               "ansible_connection": "local"}
    assert members(inventory, "johann") == ["10.0.0.1", "10.0.0.2"]
    assert warnings == []


def test_every_column(tmp_path):
    text = ("ip,username,password,name,platform,port,group\n"
            f"10.0.0.1,admin,{SECRET},core-01,iosxe,8443,core;dc1\n"
            "[2001:db8::1],admin,,gx,IETF,,lab\n"
            "sw1.example.net,,,,auto,443,\n"
            "fe80::1,,,,,,\n")
    inventory, _warnings = load(tmp_path, text)
    assert hostvars(inventory, "core-01") == {
        "ansible_host": "10.0.0.1", "ansible_user": "admin", "ansible_password": SECRET,
        "johann_platform": "iosxe", "restconf_port": 8443, "ansible_connection": "local"}
    assert hostvars(inventory, "gx")["ansible_host"] == "2001:db8::1"     # brackets removed
    assert hostvars(inventory, "gx")["johann_platform"] == "ietf"         # case-insensitive
    assert hostvars(inventory, "sw1.example.net") == {"ansible_host": "sw1.example.net", "restconf_port": 443,
                                                      "ansible_connection": "local"}   # auto: no platform
    assert hostvars(inventory, "fe80::1") == {"ansible_host": "fe80::1", "ansible_connection": "local"}
    assert members(inventory, "core") == members(inventory, "dc1") == ["core-01"]
    assert members(inventory, "lab") == ["gx"]
    assert members(inventory, "johann") == ["core-01", "fe80::1", "gx", "sw1.example.net"]
    assert isinstance(hostvars(inventory, "core-01")["restconf_port"], int)


def test_excel_export_bom_crlf_header_case_comments_and_blank_lines(tmp_path):
    text = ("\ufeff# exported from johann\r\n\r\n IP , UserName ,Password,NAME\r\n"
            "   # a comment, with, commas and \"quotes\r\n"
            "10.0.0.1 , admin ,, r1 \r\n"
            ",,,\r\n"                         # an empty row (Excel writes them)
            "\r\n"
            "\"10.0.0.2\",\"ad,min\",,r2\r\n")
    inventory, warnings = load(tmp_path, text.encode("utf-8"))
    assert sorted(inventory.hosts) == ["r1", "r2"]
    assert hostvars(inventory, "r1")["ansible_host"] == "10.0.0.1"
    assert hostvars(inventory, "r1")["ansible_user"] == "admin"             # cells trimmed
    assert hostvars(inventory, "r2")["ansible_user"] == "ad,min"            # quoted comma
    assert warnings == []


def test_other_columns_become_host_variables_when_their_names_are_safe(tmp_path):
    text = "ip,site,Restconf_CA_Path,Serial Number,serial,hostvars,ansible_network_os\n10.0.0.1,dc1,/ca.pem,X1,X2,h,ios\n"
    inventory, warnings = load(tmp_path, text)
    assert hostvars(inventory, "10.0.0.1") == {"ansible_host": "10.0.0.1", "site": "dc1", "restconf_ca_path": "/ca.pem",
                                               "ansible_network_os": "ios", "ansible_connection": "local"}
    assert len(warnings) == 3
    assert "line 1: column 'serial number' is left out: its header is not a valid variable name" in warnings[0]
    assert "line 1: column 'serial' is left out: Ansible reserves" in warnings[1]
    assert "line 1: column 'hostvars' is left out: Ansible reserves" in warnings[2]


def test_empty_cells_set_nothing_so_group_vars_can(tmp_path):
    inventory, _warnings = load(tmp_path, "ip,username,password,platform,port,group,site\n10.0.0.1,,,,,,\n")
    assert hostvars(inventory, "10.0.0.1") == {"ansible_host": "10.0.0.1", "ansible_connection": "local"}
    assert members(inventory, "johann") == ["10.0.0.1"]


def test_group_names_ansible_would_refuse_are_sanitised_with_a_warning(tmp_path):
    inventory, warnings = load(tmp_path, "ip,group\n10.0.0.1,core-1; dc 1 ;core-1\n10.0.0.2,core_1\n")
    assert members(inventory, "core_1") == ["10.0.0.1", "10.0.0.2"]
    assert members(inventory, "dc_1") == ["10.0.0.1"]
    assert [w for w in warnings if "group 'core-1'" in w and "using 'core_1'" in w and "line 2:" in w]
    assert [w for w in warnings if "group 'dc 1'" in w and "using 'dc_1'" in w]


def test_same_address_twice_is_a_warning(tmp_path):
    inventory, warnings = load(tmp_path, "ip,name,port\n10.0.0.1,a,\n10.0.0.1,b,\n10.0.0.1,c,8443\n")
    assert sorted(inventory.hosts) == ["a", "b", "c"]
    assert warnings == [f"{tmp_path / 'devices.csv'}: line 3: 'b' has the ip of 'a' (line 2)"]


def test_values_are_data_never_templates(tmp_path):
    inventory, _warnings = load(tmp_path, "ip,password,site\n10.0.0.1,\"{{ lookup('pipe', 'id') }}\",{{ 7 * 7 }}\n")
    variables = hostvars(inventory, "10.0.0.1")
    templar = Templar(loader=DataLoader())
    assert templar.template(variables["site"]) == "{{ 7 * 7 }}"
    assert templar.template(variables["ansible_password"]) == "{{ lookup('pipe', 'id') }}"


# ---- sources and options ----------------------------------------------------------------------------

def test_verify_file(tmp_path):
    plugin = make_plugin()
    for name in ("devices.johann_csv.yml", "devices.johann_csv.yaml", "johann.csv", "DEVICES.CSV"):
        (tmp_path / name).write_text("ip\n")
        assert plugin.verify_file(str(tmp_path / name)), name
    for name in ("inventory.yml", "devices.csv.txt", "hosts"):
        (tmp_path / name).write_text("ip\n")
        assert not plugin.verify_file(str(tmp_path / name)), name
    assert not plugin.verify_file(str(tmp_path / "missing.johann_csv.yml"))


def test_config_path_is_relative_to_the_config_file(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "list.csv").write_text("ip,name\n10.0.0.1,r1\n")
    config = tmp_path / "inv" / "devices.johann_csv.yml"
    config.parent.mkdir()
    config.write_text("plugin: johann.monitor.csv\npath: ../data/list.csv\ndefault_group: branch\n")
    plugin, inventory = make_plugin(), InventoryData()
    plugin.parse(inventory, DataLoader(), str(config))
    assert members(inventory, "branch") == ["r1"] and "johann" not in inventory.groups


def test_empty_default_group(tmp_path):
    inventory, _warnings = load(tmp_path, "ip,group\n10.0.0.1,\n10.0.0.2,core\n",
                                config="plugin: johann.monitor.csv\npath: devices.csv\ndefault_group: ''\n")
    assert "johann" not in inventory.groups
    inventory.reconcile_inventory()
    assert members(inventory, "ungrouped") == ["10.0.0.1"] and members(inventory, "core") == ["10.0.0.2"]


def test_a_config_for_another_plugin_is_refused(tmp_path):
    message = error(tmp_path, "ip\n10.0.0.1\n", config="plugin: ansible.builtin.constructed\npath: devices.csv\n")
    assert "Incorrect plugin name" in message


def test_missing_csv_names_the_file(tmp_path):
    config = tmp_path / "x.johann_csv.yml"
    config.write_text("plugin: johann.monitor.csv\npath: nowhere.csv\n")
    with pytest.raises(AnsibleParserError, match=re.escape(str(tmp_path / "nowhere.csv"))):
        make_plugin().parse(InventoryData(), DataLoader(), str(config))


def test_vault_encrypted_csv_is_read_and_not_warned_about(tmp_path):
    secret = VaultSecret(b"vault-pass")
    text = f"ip,username,password\n10.0.0.1,admin,{SECRET}\n"
    loader = DataLoader()
    loader.set_vault_secrets([("default", secret)])
    encrypted = VaultLib([("default", secret)]).encrypt(text)
    inventory, warnings = load(tmp_path, encrypted, loader=loader)
    assert hostvars(inventory, "10.0.0.1")["ansible_password"] == SECRET
    assert warnings == []


def test_vault_encrypted_csv_that_is_not_utf8_names_the_line_and_byte(tmp_path):
    secret = VaultSecret(b"vault-pass")
    data = b"ip,name\n10.0.0.1,r\xe91\n"
    loader = DataLoader()
    loader.set_vault_secrets([("default", secret)])
    message = error(tmp_path, VaultLib([("default", secret)]).encrypt(data), loader=loader)
    assert message == (f"{tmp_path / 'devices.csv'}: line 2: the file is not UTF-8 text (byte 19); "
                       "save it as 'CSV UTF-8 (comma delimited)'")   # 8 bytes of line 1, then 10.0.0.1,r


def test_vault_encrypted_csv_without_the_vault_password_names_the_file(tmp_path):
    encrypted = VaultLib([("default", VaultSecret(b"vault-pass"))]).encrypt(f"ip,password\n10.0.0.1,{SECRET}\n")
    message = error(tmp_path, encrypted)   # a loader without vault secrets
    assert message.startswith(f"{tmp_path / 'devices.csv'}: cannot read the device list: ")
    assert message.endswith("A vault password must be specified to decrypt data.") and SECRET not in message


# ---- Constructable ----------------------------------------------------------------------------------

CONSTRUCTED = """\
plugin: johann.monitor.csv
path: devices.csv
strict: true
compose:
  restconf_ca_path: "'/etc/pki/' ~ site ~ '.pem'"
  restconf_validate_certs: site != 'lab'
groups:
  ios_xe: johann_platform | default('') == 'iosxe'
  big_ports: restconf_port | default(443) > 1000
keyed_groups:
  - key: site
    prefix: site
  - key: johann_platform | default('unknown')
    prefix: platform
"""


def test_compose_groups_and_keyed_groups(tmp_path):
    text = "ip,name,platform,port,site\n10.0.0.1,r1,iosxe,,dc1\n10.0.0.2,r2,ietf,8443,lab\n10.0.0.3,r3,,,dc1\n"
    inventory, _warnings = load(tmp_path, text, config=CONSTRUCTED)
    assert hostvars(inventory, "r1")["restconf_ca_path"] == "/etc/pki/dc1.pem"
    assert hostvars(inventory, "r1")["restconf_validate_certs"] is True
    assert hostvars(inventory, "r2")["restconf_validate_certs"] is False
    assert members(inventory, "ios_xe") == ["r1"]
    assert members(inventory, "big_ports") == ["r2"]
    assert members(inventory, "site_dc1") == ["r1", "r3"] and members(inventory, "site_lab") == ["r2"]
    assert members(inventory, "platform_iosxe") == ["r1"] and members(inventory, "platform_unknown") == ["r3"]


def test_strict_turns_a_failing_expression_into_an_error(tmp_path):
    config = "plugin: johann.monitor.csv\npath: devices.csv\nstrict: {strict}\ncompose:\n  x: no_such_column + 1\n"
    inventory, _warnings = load(tmp_path, "ip\n10.0.0.1\n", config=config.format(strict="false"))
    assert "x" not in hostvars(inventory, "10.0.0.1")
    with pytest.raises(Exception, match="Could not set x for host 10.0.0.1"):
        load(tmp_path, "ip\n10.0.0.1\n", config=config.format(strict="true"))


# ---- problems: the file, the line, the cause; nothing loaded ----------------------------------------

PROBLEMS = [
    ("name,username\nr1,admin\n", "line 1: the header has no 'ip' column"),
    ("# johann export\n\nhost,username\nr1,admin\n", "line 3: the header has no 'ip' column"),
    ("ip;username;password\n10.0.0.1;admin;\n", "line 1: the header has no 'ip' column; the header seems separated by ';'"),
    ("", "no header line: the file is empty"),
    ("# only a comment\n\n", "no header line"),
    ("ip,name\n10.0.0.1,r1\n,r2\n", "line 3: the ip cell is empty"),
    ("ip,name\n10.0.0.1,r1\n  ,r2\n", "line 3: the ip cell is empty"),
    ("ip\n10.0.0.1\nnot an address\n", "line 3: ip 'not an address' is not an IPv4 or IPv6 address or a DNS name"),
    ("ip\n10.0.0.1:8443\n", "line 2: ip '10.0.0.1:8443' is not an IPv4 or IPv6 address or a DNS name; put a port in the port column"),
    ("ip\n300.1.1.1\n", "line 2: ip '300.1.1.1' is not an IPv4"),
    ("ip\n-bad-.example.com\n", "line 2: ip '-bad-.example.com' is not"),
    ("ip,port\n10.0.0.1,0\n", "line 2: port '0' is not a number from 1 to 65535"),
    ("ip,port\n10.0.0.1,65536\n", "line 2: port '65536' is not a number from 1 to 65535"),
    ("ip,port\n10.0.0.1,https\n", "line 2: port 'https' is not a number from 1 to 65535"),
    ("ip,port\n10.0.0.1,-1\n", "line 2: port '-1' is not a number"),
    ("ip,platform\n10.0.0.1,junos\n", "line 2: platform 'junos' is not one of: auto, ietf, iosxe, nxos, openconfig"),
    ("ip,name\n10.0.0.1,r1\n# x\n10.0.0.2,r1\n", "line 4: name 'r1' is already used on line 2"),
    ("ip\n10.0.0.1\n10.0.0.1\n", "line 3: name '10.0.0.1' is already used on line 2"),
    ("ip,name\n10.0.0.1,core 01\n", "line 2: name 'core 01' contains spaces"),
    ("ip,name\n10.0.0.1,r1,extra\n", "line 2: 3 cells, but the header (line 1) has 2 columns"),
    ("ip,name,username\n10.0.0.1,r1\n", "line 2: 2 cells, but the header (line 1) has 3 columns"),
    ("ip,name,IP\n10.0.0.1,r1,x\n", "line 1: column 'ip' appears twice in the header"),
    ("ip,ansible_host\n10.0.0.1,x\n", "line 1: column 'ansible_host' would set a variable the plugin sets from the 'ip' column"),
    ("ip,ansible_connection\n10.0.0.1,ssh\n", "line 1: column 'ansible_connection' would set a variable the plugin sets itself"),
    ("ip,name,\n10.0.0.1,r1,\n10.0.0.2,r2,oops\n", "line 3: a value in column 3, which has no name in the header"),
    ('ip,name\n10.0.0.1,"r1\n', "line 2: the CSV is malformed"),
    ('ip,name\n10.0.0.1,"r1"x\n', "line 2: the CSV is malformed"),
    (b"ip,name\n10.0.0.1,r1\n10.0.0.2,caf\xe9\n", "line 3: the file is not UTF-8 text"),
]


@pytest.mark.parametrize("text,problem", PROBLEMS)
def test_every_problem_names_the_file_and_line(tmp_path, text, problem):
    message = error(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'devices.csv'}: ")
    assert problem in message


def test_every_problem_is_listed_and_nothing_is_loaded(tmp_path):
    plugin, inventory = make_plugin(), InventoryData()
    (tmp_path / "devices.csv").write_text("ip,name,port,platform\n10.0.0.1,r1,,\n,r2,,\n10.0.0.3,r3,0,\n"
                                          "10.0.0.4,r1,,junos\n10.0.0.5,r5\n10.0.0.6,r6,,\n")
    with pytest.raises(AnsibleParserError) as e:
        plugin.parse(inventory, DataLoader(), str(tmp_path / "devices.csv"))
    assert re.findall(r"^  line (\d+)", str(e.value), re.M) == ["3", "4", "5", "5", "6"]
    assert "5 problems in the device list, nothing was loaded from it" in str(e.value)
    assert not inventory.hosts and plugin.display.warnings == []


def test_a_long_list_of_problems_is_cut(tmp_path):
    message = error(tmp_path, "ip\n" + "".join(f"bad address {i}\n" for i in range(30)))
    assert "30 problems" in message and "... and 10 more problems" in message and message.count("\n") == 21


# ---- passwords --------------------------------------------------------------------------------------

def test_one_password_warning_per_file_with_the_count_and_no_password(tmp_path):
    text = (f"ip,username,password\n10.0.0.1,admin,{SECRET}\n10.0.0.2,admin,\n10.0.0.3,admin,{OTHER_SECRET}\n"
            f"10.0.0.4,admin,{SECRET}\n")
    _inventory, warnings = load(tmp_path, text)
    assert len(warnings) == 1
    (warning,) = warnings
    assert warning.startswith(f"{tmp_path / 'devices.csv'}: 3 rows carry a password (of 4).")
    assert SECRET not in warning and OTHER_SECRET not in warning
    for alternative in ("ansible-vault encrypt_string", "group_vars", "JOHANN_RESTCONF_PASSWORD", "AWX",
                        "ansible-vault encrypt", "ansible-doc -t inventory johann.monitor.csv"):
        assert alternative in warning


def test_one_row_with_a_password(tmp_path):
    _inventory, warnings = load(tmp_path, f"ip,password\n10.0.0.1,{SECRET}\n10.0.0.2,\n")
    assert len(warnings) == 1 and ": 1 row carries a password (of 2)." in warnings[0]


def test_no_password_no_warning(tmp_path):
    assert load(tmp_path, "ip,username,password\n10.0.0.1,admin,\n")[1] == []


def test_passwords_never_appear_in_errors_or_warnings(tmp_path):
    # rows that carry a password and have problems whose cells hold (or contain) a password
    text = ("ip,name,password,port,platform,group\n"
            f"10.0.0.1,r1,{SECRET},{SECRET},{SECRET},{SECRET}\n"
            f"10.0.0.2,{SECRET},{SECRET},,,\n"
            f"10.0.0.3,{SECRET},{OTHER_SECRET},,,\n"
            f"{SECRET},r4,x{OTHER_SECRET}x,,,\n"
            f"10.0.0.5,r5,{SECRET},extra,,,\n")
    message = error(tmp_path, text)
    assert "line 2: port (not shown: it contains a password of this file)" in message
    assert "line 2: platform (not shown" in message
    assert "line 4: name (not shown: it contains a password of this file) is already used on line 3" in message
    assert "line 5: ip (not shown" in message
    assert "line 6: 7 cells" in message
    for secret in (SECRET, OTHER_SECRET, "Tr0ub4dor", "horse"):
        assert secret not in message

    _inventory, warnings = load(tmp_path, f"ip,name,password,group\n10.0.0.1,r1,{SECRET},{SECRET}\n10.0.0.1,{SECRET},{SECRET},\n")
    assert len(warnings) == 3     # the group, the address shared by two names, the password count
    assert warnings and not [w for w in warnings if SECRET in w or "Tr0ub4dor" in w]
