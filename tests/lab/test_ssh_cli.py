"""The lab's SSH CLI (issue 13): an IOS XE command line that ansible.netcommon.network_cli and cisco.ios drive
unmodified, whose running config is the one RESTCONF serves (``restconf`` over SSH turns RESTCONF on).

The first half drives lab/cli.py without sockets; the second logs in over SSH (asyncssh's client) to the
SSH fleet's own lab (tests/lab/ssh_fleet.yml, the ssh_lab fixture), and one test runs cisco.ios.ios_config over network_cli (ansible-pylibssh) end to end.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import asyncssh
import httpx
import pytest
import yaml

from lab import cli_show
from lab.cli import CliDevice, Session, Terminal
from lab.fleet import FleetError, _fleet, _spec, build_devices, write_inventory
from lab.model import Clock
from lab.ssh import host_key
from tests.conftest import EPOCH
from tests.lablib import ROOT

CREDS = {"username": "johann", "password": "pass-word", "enable_secret": "en-secret"}
# cisco.ios's terminal plugin: what network_cli takes for a prompt (plugins/terminal/ios.py)
PROMPT = re.compile(rb"[\r\n]?[\w\+\-\.:\/\[\]]+(?:\([^\)]+\)){0,3}(?:[>#]) ?$")
HOSTNAME = "/restconf/data/Cisco-IOS-XE-native:native/hostname"


@pytest.fixture(scope="module")
def lab(ssh_lab):
    """This module's tests run on the SSH fleet's own lab (tests/lab/ssh_fleet.yml), not the session's."""
    return ssh_lab


def _cli(profile: str = "iosxe-17", **faults) -> CliDevice:
    spec = _spec("edge1", profile, faults)
    clock = Clock(epoch=EPOCH, frozen=True)
    device = build_devices(_fleet([spec], {"ssh": True}), CREDS, clock)[0]
    return CliDevice(device, clock, CREDS)


def _type(terminal: Terminal, keys: str) -> str:
    """Keystrokes in, everything the device sends back (echo included), as one string with \\n line ends."""
    return "".join(text for text, _ in terminal.keys(keys)).replace("\r\n", "\n")


def _lines(session: Session, *commands: str) -> list[str]:
    out: list[str] = []
    for command in commands:
        out = session.run(command)
    return out


# ---------------------------------------------------------------- the CLI, without sockets
def test_prompts_follow_mode_and_privilege():
    session = _cli().session()
    assert session.login() == "\nedge1#"
    assert session.line("configure terminal") == \
        "Enter configuration commands, one per line.  End with CNTL/Z.\nedge1(config)#"
    assert session.line("exit") == "edge1#"
    assert session.line("conf t").endswith("edge1(config)#") and session.line("end") == "edge1#"
    assert session.line("disable") == "edge1>" and session.line("show privilege") == \
        "Current privilege level is 1\nedge1>"
    for prompt in (b"\r\nedge1#", b"\r\nedge1>", b"\r\nedge1(config)#"):
        assert PROMPT.search(b"show version\r\n" + prompt)


def test_invalid_input_puts_the_caret_under_the_bad_word():
    session = _cli().session()
    assert session.line("show foo") == " " * len("edge1#show ") + "^\n% Invalid input detected at '^' marker.\n\nedge1#"
    assert session.line("terminal width 513").startswith(" " * len("edge1#terminal width ") + "^\n")
    session.line("configure terminal")
    assert session.line("ip http bogus").startswith(" " * len("edge1(config)#ip http ") + "^\n% Invalid")
    assert session.line("do show bogus").startswith(" " * len("edge1(config)#do show ") + "^\n% Invalid")
    assert session.line("do show run | nonsense x").startswith(" " * len("edge1(config)#do show run | ") + "^")


def test_abbreviations_ambiguity_and_incomplete_commands():
    session = _cli().session()
    assert _lines(session, "sh ver")[0] == "Cisco IOS XE Software, Version 17.09.04a"
    assert _lines(session, "c") == ['% Ambiguous command:  "c"', ""]
    assert _lines(session, "show") == ["% Incomplete command.", ""]
    assert _lines(session, "SHOW PRIV") == ["Current privilege level is 15"]
    assert _lines(session, "terminal length 0") == _lines(session, "terminal width 512") == \
        _lines(session, "terminal width 0") == []


def test_output_filters_include_exclude_begin_section_count():
    session = _cli().session()
    assert _lines(session, "show running-config | include ip http|^restconf") == \
        ["no ip http server", "ip http authentication local", "ip http secure-server", "restconf"]
    assert _lines(session, "sh run | sec line vty") == ["line vty 0 4", " login local", " transport input ssh"]
    section = _lines(session, "show running-config | section ^interface GigabitEthernet0/0")
    assert section == ["interface GigabitEthernet0/0", " description MANAGEMENT",
                       section[2], " negotiation auto"] and section[2].startswith(" ip address 10.99.")
    assert _lines(session, "show running-config | begin ^ntp")[:3] == ["ntp server 10.0.0.123", "ntp server 10.0.1.123", "!"]
    assert _lines(session, "show running-config | b ^restconf") == ["restconf", "end"]
    assert not any(line.startswith("interface") for line in _lines(session, "show running-config | exclude ^interface"))
    assert _lines(session, "show running-config | count ^interface") == \
        [f"Number of lines which match regexp = {len(session.cli.device.interfaces)}"]
    assert _lines(session, "show version | include uptime is") == \
        ["edge1 uptime is " + cli_show.uptime_text(session.cli.device.uptime(EPOCH))]
    assert _lines(session, "configure terminal | include x")[0].endswith("^")   # a pipe only after show


def test_running_config_is_rendered_from_the_native_config():
    cli = _cli()
    running = cli.running()
    assert running[:3] == ["Building configuration...", "", f"Current configuration : "
                           f"{sum(len(line) + 1 for line in running[3:])} bytes"]
    changed = cli_show.stamp(cli.device.boot_time + 60)
    assert running[3:7] == ["!", f"! Last configuration change at {changed} by johann", "!", "version 17.9"]
    assert re.fullmatch(r"\d\d:\d\d:\d\d UTC \w{3} \w{3} \d{1,2} \d{4}", changed)
    assert "hostname edge1" in running and running[-2:] == ["restconf", "end"]
    assert "username johann privilege 15 secret 9 " + cli_show.type9("pass-word", f"{cli.device.seed}user") in running
    assert not any("pass-word" in line or "en-secret" in line for line in running)
    enable = next(line for line in running if line.startswith("enable secret 9 $9$"))
    assert re.fullmatch(r"enable secret 9 \$9\$[\w./]{14}\$[\w./]{43}", enable)
    interfaces = [line for line in running if line.startswith("interface ")]
    assert interfaces[0] == "interface Loopback0" and interfaces[-2:] == ["interface Vlan1", "interface Vlan10"]
    assert len(interfaces) == len(cli.device.interfaces)


def test_config_mode_lines_and_their_no_forms_change_restconf():
    cli = _cli()
    session = cli.session()
    http = cli_show.http_lines
    session.line("configure terminal")
    for command, enabled in (("no restconf", False), ("restconf", True), ("no ip http secure-server", False),
                             ("ip http secure-server", True)):
        assert session.line(command) == "edge1(config)#"
        assert cli.restconf_enabled() is enabled, command
    session.line("no ip http authentication local")
    session.line("ip http server")
    assert http(cli.native) == ["ip http server", "ip http secure-server"]
    session.line("hostname core-7")
    assert session.prompt == "core-7(config)#" and cli.device.hostname == cli.native["hostname"] == "core-7"
    assert session.line("hostname 7up") == "% Hostname contains one or more illegal characters.\ncore-7(config)#"
    assert cli.device.unsaved_config and cli.device.config_version > 1
    assert _type(Terminal(session), "\x1a") == "^Z\ncore-7#"


def test_restconf_disabled_devices_start_without_the_restconf_line():
    cli = _cli("iosxe-16.12", restconf_disabled=True)
    assert not cli.restconf_enabled()
    assert "restconf" not in cli.running() and "ip http secure-server" in cli.running()
    session = cli.session()
    for line in ("configure terminal", "restconf", "end"):
        session.line(line)
    assert cli.restconf_enabled() and cli.running()[-2:] == ["restconf", "end"]


def test_write_memory_and_copy_save_the_running_config_to_startup():
    cli = _cli()
    session = cli.session()
    body = cli.startup()[4:]
    assert cli.startup()[0] == f"Using {sum(len(line) + 1 for line in cli.running()[3:])} out of 2097152 bytes"
    for line in ("configure terminal", "no restconf", "end"):
        session.line(line)
    assert "restconf" in cli.startup() and "restconf" not in cli.running()
    assert cli.startup()[4:] == body                     # the startup config did not move
    assert session.line("write memory") == "Building configuration...\n[OK]\nedge1#"
    assert "restconf" not in cli.startup() and not cli.device.unsaved_config
    session.line("conf t")
    session.line("restconf")
    session.line("end")
    assert session.line("copy running-config startup-config") == "Destination filename [startup-config]? "
    assert session.line("") == "Building configuration...\n[OK]\nedge1#"
    assert cli.startup()[4:] == cli.running()[5:]       # the same lines, as ios_config's save_when compares
    assert session.line("copy running-config startup-config").endswith("? ")
    assert session.line("other.cfg") == "%Error opening bootflash:other.cfg (Permission denied)\nedge1#"


def test_enable_with_the_secret_and_three_wrong_tries():
    cli = _cli(ssh_privilege=1)
    session = cli.session()
    assert session.login() == "\nedge1>"
    assert session.line("show running-config") == \
        " " * len("edge1>show ") + "^\n% Invalid input detected at '^' marker.\n\nedge1>"
    assert session.line("configure terminal").startswith(" " * len("edge1>") + "^\n% Invalid input")
    assert session.line("enable") == "Password: " and not session.echo
    assert session.line("wrong") == "Password: "
    assert session.line("wrong again") == "Password: "
    assert session.line("nope") == "% Bad secrets\n\nedge1>"
    assert session.line("enable") == "Password: "
    assert session.line("en-secret") == "edge1#" and session.privilege == 15
    assert all(c["command"] != "en-secret" for c in cli.commands)   # the log hides what was typed unechoed


def test_terminal_echoes_handles_cr_lf_backspace_and_help():
    terminal = Terminal(_cli().session())
    assert _type(terminal, "show privilege\r\n") == "show privilege\nCurrent privilege level is 15\nedge1#"
    assert _type(terminal, "show privx\x7filege\n") == "show privx\b \bilege\nCurrent privilege level is 15\nedge1#"
    help_text = _type(terminal, "show running-config ?")
    assert help_text == "show running-config ?\n  all   Configuration with defaults\n  <cr>  <cr>\n\n" \
                        "edge1#show running-config "
    assert _type(terminal, "\r").startswith("\nBuilding configuration...")
    assert _type(terminal, "ter?") == "ter?\nterminal  \n\nedge1#ter"
    assert _type(terminal, "\x15") == "" and terminal.buffer == "ter"   # unknown control keys are ignored
    terminal.buffer = ""
    assert _type(terminal, "exit\r") == "exit\n" and terminal.session.closed


def test_show_version_parses_as_cisco_ios_cliconf_and_facts_do():
    cli = _cli("iosxe-16.12")
    d = cli.device
    text = "\n".join(cli.session().run("show version"))
    # the regexes of cisco.ios's cliconf get_device_info and its legacy facts
    assert re.search(r"Version (\S+)", text).group(1) == "16.12.04"
    assert re.search(r"^[Cc]isco (.+) \(revision", text, re.M).group(1).split(" ")[0] == "CSR1000V"
    assert re.search(r"^(.+) uptime", text, re.M).group(1) == d.hostname
    assert re.search(r'image file is "(.+)"', text).group(1) == "bootflash:packages.conf"
    assert re.search(r"board ID (\S+)", text).group(1) == d.identity["serial"]
    assert re.search(r"\sIOS-XE\s", text)
    c9300 = "\n".join(_cli().session().run("show version"))
    assert re.search(r"^[Cc]isco (\S+).+bytes of .*memory", c9300, re.M).group(1) == "C9300-48P"
    assert re.findall(r"^System [Ss]erial [Nn]umber\s+: (\S+)", c9300, re.M) == [_cli().device.identity["serial"]]
    assert "Configuration register is 0x102" in c9300


@pytest.mark.parametrize("version,padded", [("17.9.4a", "17.09.04a"), ("16.12.4", "16.12.04"),
                                            ("17.12.5", "17.12.05")])
def test_versions_are_spelled_as_ios_xe_does(version, padded):
    assert cli_show.padded_version(version) == padded


@pytest.mark.parametrize("seconds,text", [(59, "0 minutes"), (3600, "1 hour, 0 minutes"),
                                          (9 * 86400 + 3 * 3600 + 4 * 60 + 5, "1 week, 2 days, 3 hours, 4 minutes")])
def test_uptime_is_spelled_as_ios_does(seconds, text):
    assert cli_show.uptime_text(seconds) == text


@pytest.mark.parametrize("profile,faults,message", [
    ("ietf", {"ssh_privilege": 1}, "ssh_privilege needs an IOS XE profile"),
    ("iosxe-17", {"ssh_privilege": 7}, "fault ssh_privilege must be 1 (log in at host>) or 15"),
    ("iosxe-17", {"cli_delay_ms": 0}, "fault cli_delay_ms must be a number of milliseconds > 0"),
    ("iosxe-17", {"ssh_port_closed": "yes"}, "fault ssh_port_closed has the wrong type"),
])
def test_ssh_faults_are_checked(profile, faults, message):
    with pytest.raises(FleetError, match=re.escape(message)):
        _spec("x", profile, faults)


def test_ssh_ports_per_addressing_mode_and_collisions():
    specs = [_spec(f"d{i}", p, {}) for i, p in enumerate(["iosxe-17", "ietf", "iosxe-16.12"])]
    clock = Clock(epoch=EPOCH, frozen=True)
    by_port = build_devices(_fleet(specs, {"ssh": True, "addressing": "port", "port": 8443}), CREDS, clock)
    assert [d.ssh_port for d in by_port] == [2222, None, 2224]   # the generic device has no CLI
    by_address = build_devices(_fleet(specs, {"ssh": True, "ssh_port": 22022}), CREDS, clock)
    assert [d.ssh_port for d in by_address] == [22022, None, 22022]
    assert all(d.ssh_port is None for d in build_devices(_fleet(specs, {}), CREDS, clock))   # off by default
    with pytest.raises(FleetError, match="overlaps the RESTCONF ports 8443..8445"):
        _fleet(specs, {"ssh": True, "addressing": "port", "port": 8443, "ssh_port": 8445})
    with pytest.raises(FleetError, match="overlaps"):
        _fleet(specs, {"ssh": True, "ssh_port": 8443})
    with pytest.raises(FleetError, match="ssh must be true or false"):
        _fleet(specs, {"ssh": "yes"})


def test_inventory_has_network_os_ssh_port_become_and_the_enable_secret(tmp_path):
    specs = [_spec("sw", "iosxe-17", {}), _spec("p1", "iosxe-16.12", {"ssh_privilege": 1}), _spec("gx", "ietf", {})]
    devices = build_devices(_fleet(specs, {"ssh": True}), CREDS, Clock(epoch=EPOCH, frozen=True))
    path = tmp_path / "inv.yml"
    (tmp_path / "c.pem").write_text("")
    write_inventory(devices, path, tmp_path / "c.pem", CREDS, "http://admin", (tmp_path / "c.pem", tmp_path / "c.pem"))
    inventory = yaml.safe_load(path.read_text())["all"]
    hosts = {n: h for g in inventory["children"]["lab"]["children"].values() for n, h in g["hosts"].items()}
    assert inventory["vars"]["lab_enable_secret"] == "en-secret"
    assert hosts["sw"]["ansible_network_os"] == "cisco.ios.ios" and hosts["sw"]["johann_ssh_port"] == 2222
    assert hosts["sw"]["ansible_port"] == 8443 and "ansible_become" not in hosts["sw"]
    assert {k: hosts["p1"][k] for k in ("ansible_become", "ansible_become_method", "ansible_become_password")} == \
        {"ansible_become": True, "ansible_become_method": "enable", "ansible_become_password": "{{ lab_enable_secret }}"}
    assert "johann_ssh_port" not in hosts["gx"] and "ansible_network_os" not in hosts["gx"]


def test_host_key_is_made_once_and_kept_private(tmp_path):
    first = host_key(tmp_path)
    assert stat.S_IMODE((tmp_path / "ssh_host_ed25519_key").stat().st_mode) == 0o600
    assert host_key(tmp_path).public_data == first.public_data


# ---------------------------------------------------------------- over SSH, against the SSH fleet's lab
class Shell:
    """An interactive SSH session as network_cli drives one: send a line, read up to the next prompt."""

    def __init__(self, conn: asyncssh.SSHClientConnection, process: asyncssh.SSHClientProcess) -> None:
        self.conn, self.process = conn, process

    async def read(self, until: re.Pattern = PROMPT, timeout: float = 5) -> str:
        data = b""
        while not until.search(data):
            chunk = await asyncio.wait_for(self.process.stdout.read(65536), timeout)
            if not chunk:
                break
            data += chunk
        return data.decode()

    async def send(self, line: str, until: re.Pattern = PROMPT) -> str:
        self.process.stdin.write(line.encode() + b"\r")
        return await self.read(until)


def _target(lab, name: str) -> tuple[str, int]:
    host = lab.host(name)
    return host["ansible_host"], host["johann_ssh_port"]


async def _connect(lab, name: str, password: str | None = None) -> asyncssh.SSHClientConnection:
    address, port = _target(lab, name)
    return await asyncssh.connect(address, port, username=lab.auth[0], password=password or lab.auth[1],
                                  known_hosts=None, connect_timeout=5)


async def _shell(lab, name: str) -> tuple[Shell, str]:
    conn = await _connect(lab, name)
    process = await conn.create_process(term_type="xterm", encoding=None)
    shell = Shell(conn, process)
    return shell, await shell.read()


def _run(coroutine):
    return asyncio.run(coroutine)


def _restconf_status(lab, name: str) -> int:
    with lab.client(name) as client:
        return client.get(HOSTNAME).status_code


def test_login_prompt_and_show_version_agree_with_restconf(lab):
    async def scenario() -> tuple[str, str, str]:
        shell, banner = await _shell(lab, "c9300")
        async with shell.conn:
            return shell.conn.get_extra_info("server_version"), banner, await shell.send("show version")

    server, banner, version = _run(scenario())
    assert server == "SSH-2.0-Cisco-1.25" and banner == "\r\nc9300#"
    assert version.startswith("show version\r\nCisco IOS XE Software, Version 17.09.04a\r\n")
    assert version.endswith("Configuration register is 0x102\r\n\r\nc9300#")
    with lab.client("c9300") as client:
        hw = client.get("/restconf/data/Cisco-IOS-XE-device-hardware-oper:device-hardware-data").json()
        hostname = client.get(HOSTNAME).json()["Cisco-IOS-XE-native:hostname"]
    system = hw["Cisco-IOS-XE-device-hardware-oper:device-hardware-data"]["device-hardware"]
    serial = system["device-inventory"][0]["serial-number"].strip()
    lines = version.split("\r\n")
    assert f"Processor board ID {serial}" in lines and f"{hostname} uptime is " in version
    assert lines[2] == system["device-system-data"]["software-version"].split("\n")[1]   # the image line
    truth = lab.truth("c9300")
    assert f"c9300 uptime is {cli_show.uptime_text(truth['uptime'])}" in lines


def test_restconf_typed_over_ssh_turns_restconf_on_and_off(lab):
    assert _restconf_status(lab, "sshenable") == 404 and lab.truth("sshenable")["restconf_enabled"] is False

    async def configure(*lines: str) -> list[str]:
        shell, _ = await _shell(lab, "sshenable")
        async with shell.conn:
            return [await shell.send(line) for line in lines]

    replies = _run(configure("configure terminal", "ip http secure-server", "ip http authentication local",
                             "restconf", "end"))
    assert replies[0] == "configure terminal\r\nEnter configuration commands, one per line.  End with CNTL/Z.\r\n" \
                         "sshenable(config)#"
    assert replies[1:4] == [f"{line}\r\nsshenable(config)#" for line in
                            ("ip http secure-server", "ip http authentication local", "restconf")]
    assert _restconf_status(lab, "sshenable") == 200
    state = lab.admin("GET", "/devices/sshenable/cli").json()
    assert state["restconf_enabled"] is True and state["unsaved_config"] is True
    assert state["running_config"][-2:] == ["restconf", "end"] and "restconf" not in state["startup_config"]
    assert state["commands"][-5:] == ["configure terminal", "ip http secure-server", "ip http authentication local",
                                      "restconf", "end"]
    assert [entry["mode"] for entry in state["log"][-5:]] == ["exec", "config", "config", "config", "config"]
    _run(configure("conf t", "no restconf", "end"))
    assert _restconf_status(lab, "sshenable") == 404
    saved = _run(configure("conf t", "restconf", "end", "write memory"))
    assert saved[-1] == "write memory\r\nBuilding configuration...\r\n[OK]\r\nsshenable#"
    state = lab.admin("GET", "/devices/sshenable/cli").json()
    assert _restconf_status(lab, "sshenable") == 200 and state["unsaved_config"] is False
    assert "restconf" in state["startup_config"] and lab.truth("sshenable")["restconf_enabled"] is True


def test_ip_http_secure_server_opens_and_closes_the_https_port(lab):
    """https_disabled: as from the factory, nothing listens on HTTPS until `ip http secure-server`."""
    def refused() -> bool:
        try:
            _restconf_status(lab, "sshfactory")
        except httpx.ConnectError as exc:
            return "refused" in str(exc).lower()
        return False

    async def configure(*lines: str) -> list[str]:
        shell, _ = await _shell(lab, "sshfactory")
        async with shell.conn:
            return [await shell.send(line) for line in lines]

    state = lab.admin("GET", "/devices/sshfactory/cli").json()
    assert refused() and state["https_enabled"] is False and "no ip http secure-server" in state["running_config"]
    assert not {"ip http authentication local", "restconf"} & set(state["running_config"])
    _run(configure("conf t", "ip http secure-server", "end"))
    assert _restconf_status(lab, "sshfactory") == 404   # HTTPS up, RESTCONF not configured
    _run(configure("conf t", "ip http authentication local", "restconf", "end"))
    assert _restconf_status(lab, "sshfactory") == 200
    _run(configure("conf t", "no ip http secure-server", "end"))
    assert refused() and lab.admin("GET", "/devices/sshfactory/cli").json()["https_enabled"] is False


def test_wrong_ssh_password_is_refused(lab):
    with pytest.raises(asyncssh.PermissionDenied):
        _run(_connect(lab, "sshbadpass"))
    with pytest.raises(asyncssh.PermissionDenied):
        _run(_connect(lab, "c9300", password="not-the-password"))


def test_closed_ssh_port_refuses_the_connection(lab):
    assert lab.admin("GET", "/devices/sshclosed/cli").json()["listening"] is False
    with pytest.raises(ConnectionRefusedError):
        _run(_connect(lab, "sshclosed"))
    assert _restconf_status(lab, "sshclosed") == 200   # RESTCONF is up all the same


def test_privilege_1_needs_enable_and_the_secret(lab):
    secret = lab.inventory["all"]["vars"]["lab_enable_secret"]
    password_prompt = re.compile(rb"Password: $")

    async def scenario() -> list[str]:
        shell, banner = await _shell(lab, "priv1")
        async with shell.conn:
            out = [banner, await shell.send("configure terminal"), await shell.send("enable", password_prompt)]
            for wrong in ("wrong", "wrong", "wrong"):
                out.append(await shell.send(wrong, password_prompt if len(out) < 5 else PROMPT))
            out.append(await shell.send("enable", password_prompt))
            out += [await shell.send(secret), await shell.send("show privilege")]
            return out

    banner, configure, ask, *wrong, again, right, privilege = _run(scenario())
    assert banner == "\r\npriv1>"
    assert configure == "configure terminal\r\n      ^\r\n% Invalid input detected at '^' marker.\r\n\r\npriv1>"
    assert ask == again == "enable\r\nPassword: "
    assert wrong == ["\r\nPassword: ", "\r\nPassword: ", "\r\n% Bad secrets\r\n\r\npriv1>"]   # nothing echoed
    assert right == "\r\npriv1#" and privilege == "show privilege\r\nCurrent privilege level is 15\r\npriv1#"


def test_slow_cli_delays_every_reply(lab):
    async def timed(name: str) -> list[float]:
        shell, _ = await _shell(lab, name)
        async with shell.conn:
            durations = []
            for _ in range(2):
                start = time.monotonic()
                await shell.send("show privilege")
                durations.append(time.monotonic() - start)
            return durations

    slow, fast = _run(timed("slowcli")), _run(timed("c9300"))
    assert min(slow) >= 1.5 and max(slow) < 1.5 + 0.5   # tests/lab/fleet.yml: cli_delay_ms 1500
    assert max(fast) < 0.2


def test_exit_closes_the_connection(lab):
    async def scenario() -> tuple[str, bytes]:
        shell, _ = await _shell(lab, "csr")
        async with shell.conn:
            shell.process.stdin.write(b"exit\r")
            return "", await asyncio.wait_for(shell.process.stdout.read(), 5)

    assert _run(scenario())[1] == b"exit\r\n"


def test_the_cli_admin_api_is_there_for_cli_devices_only(lab):
    assert lab.admin("GET", "/devices/c9300/cli").json()["ssh_port"] == lab.host("c9300")["johann_ssh_port"]
    with pytest.raises(httpx.HTTPStatusError):
        lab.admin("GET", "/devices/gx/cli")
    assert lab.truth("gx")["ssh_port"] is None and lab.truth("gx")["restconf_enabled"] is True


# ---------------------------------------------------------------- Ansible itself: cisco.ios over network_cli
PLAYBOOK = """
- hosts: sshansible
  gather_facts: false
  vars:
    ansible_connection: ansible.netcommon.network_cli
    ansible_port: "{{ johann_ssh_port }}"
  tasks:
    - cisco.ios.ios_config:
        lines: [ip http secure-server, ip http authentication local, restconf]
      register: result
    - ansible.builtin.copy:
        content: "{{ result | to_json }}"
        dest: "{{ out }}"
      delegate_to: localhost
      check_mode: false
      vars:
        ansible_connection: local
"""


def _ios_config(lab, tmp_path: Path, *args: str) -> dict:
    playbook, out = tmp_path / "ios_config.yml", tmp_path / "result.json"
    playbook.write_text(PLAYBOOK)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARA_", "JOHANN_ARA_"))}
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CALLBACK_PLUGINS="/nonexistent",
               ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_NOCOLOR="1")
    ansible = Path(sys.executable).with_name("ansible-playbook")
    run = subprocess.run([str(ansible), str(playbook), "-i", str(lab.state_dir / "inventory.yml"),
                          "-e", f"out={out}", *args], cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert lab.auth[1] not in run.stdout + run.stderr
    return json.loads(out.read_text())


def test_ios_config_over_network_cli_enables_restconf_and_is_idempotent(lab, tmp_path):
    assert _restconf_status(lab, "sshansible") == 404
    checked = _ios_config(lab, tmp_path, "--check", "--diff")
    assert checked["changed"] is True and checked["updates"] == ["restconf"]
    assert _restconf_status(lab, "sshansible") == 404   # --check changed nothing
    applied = _ios_config(lab, tmp_path)
    assert applied["changed"] is True and applied["commands"] == ["restconf"]
    assert _restconf_status(lab, "sshansible") == 200
    again = _ios_config(lab, tmp_path)
    assert again["changed"] is False and "commands" not in again
    typed = [(c["mode"], c["command"]) for c in lab.admin("GET", "/devices/sshansible/cli").json()["log"]]
    assert typed[:6] == [("exec", "terminal length 0"), ("exec", "terminal width 512"), ("exec", "terminal width 0"),
                         ("exec", "show version"), ("exec", "show vlan"), ("exec", "show running-config")]
    assert ("exec", "configure terminal") in typed and ("config", "restconf") in typed
    assert lab.process.poll() is None and "Traceback" not in lab.stderr()
