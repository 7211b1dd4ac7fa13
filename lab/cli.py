"""The simulated IOS XE command line: modes, a command tree with IOS's abbreviations and errors, and the
running-config changes behind ``configure terminal``.

Pure and synchronous: ``Session.line(text)`` takes one line typed at the prompt (or the answer to a
question such as ``Password:``) and returns what the device prints, the next prompt last;
``Terminal`` turns keystrokes into lines and echoes them as a device does; lab/ssh.py puts both on
asyncssh.  The config lives in the device model (``Cisco-IOS-XE-native:native``), so RESTCONF sees
what the CLI changes: ``restconf`` with ``ip http secure-server`` is what turns RESTCONF on.
"""
from __future__ import annotations

import hmac
from collections import deque
from collections.abc import Callable, Iterator

from lab import cli_show as show
from lab.cli_tree import INVALID, CliError, help_lines, parse, split_pipe, tree
from lab.model import Clock, Device
from lab.profiles.base import is_hostname

NATIVE = "Cisco-IOS-XE-native:native"
BAD_SECRETS = "% Bad secrets"
CONFIG_BANNER = "Enter configuration commands, one per line.  End with CNTL/Z."
ENABLE_TRIES = 3
EXEC_COMMANDS = [   # pattern, lowest privilege, action
    ("enable", 1, "enable"), ("disable", 1, "disable"), ("exit", 1, "exit"), ("logout", 1, "exit"),
    ("terminal length <0-512>", 1, "nothing"), ("terminal width <0-512>", 1, "nothing"),
    ("terminal monitor", 1, "nothing"), ("terminal no monitor", 1, "nothing"),
    ("show version", 1, "show_version"), ("show privilege", 1, "show_privilege"), ("show clock", 1, "show_clock"),
    ("show running-config", 15, "show_running"), ("show running-config all", 15, "show_running"),
    ("show startup-config", 15, "show_startup"), ("configure terminal", 15, "configure"),
    ("write", 15, "write"), ("write memory", 15, "write"), ("copy running-config startup-config", 15, "copy"),
]
SETTINGS = [("ip http server", "http_server"), ("ip http secure-server", "http_secure_server"),
            ("ip http authentication local", "http_authentication"), ("restconf", "restconf"),
            ("hostname WORD", "hostname")]
CONFIG_COMMANDS = [
    *((pattern, 15, "set " + name) for pattern, name in SETTINGS),
    *(("no " + pattern, 15, "unset " + name) for pattern, name in SETTINGS),
    ("no hostname", 15, "unset hostname"), ("end", 15, "end"), ("exit", 15, "end"), ("do LINE", 15, "do"),
]
HELP = {
    "enable": "Turn on privileged commands", "disable": "Turn off privileged commands",
    "exit": "Exit from the EXEC", "logout": "Exit from the EXEC", "terminal": "Set terminal line parameters",
    "length": "Set number of lines on a screen", "width": "Set width of the display terminal",
    "monitor": "Copy debug output to the current terminal line", "no": "Negate a command or set its defaults",
    "show": "Show running system information", "version": "System hardware and software status",
    "privilege": "Show current privilege level", "clock": "Display the system clock",
    "running-config": "Current operating configuration", "all": "Configuration with defaults",
    "startup-config": "Contents of startup configuration", "configure": "Enter configuration mode",
    "configure terminal": "Configure from the terminal",
    "write": "Write running configuration to memory, network, or terminal", "memory": "Write to NV memory",
    "copy": "Copy from one file to another", "copy running-config": "Copy from current system configuration",
    "running-config startup-config": "Copy to startup configuration", "ip": "Global IP configuration subcommands",
    "http": "HTTP server configuration", "server": "Enable http server",
    "secure-server": "Enable HTTP secure server", "authentication": "Set http server authentication method",
    "local": "Local username database", "restconf": "Enable RESTCONF",
    "hostname": "Set system's network name", "end": "Exit from configure mode", "do": "To run exec commands in config mode",
}


EXEC, CONFIG = tree(EXEC_COMMANDS, HELP), tree(CONFIG_COMMANDS, HELP)


# ---------------------------------------------------------------- a device's CLI
class CliDevice:
    """One device's CLI: who may log in (and at which privilege), its secrets, faults and command log."""

    def __init__(self, device: Device, clock: Clock, creds: dict,
                 on_change: Callable[[Device], None] | None = None) -> None:
        faults = device.faults
        self.device, self.clock, self.on_change = device, clock, on_change
        self.username = creds["username"]
        self.password = device.password + ("-ssh-not-this" if faults.get("ssh_wrong_password") else "")
        self.enable_secret = creds["enable_secret"]
        self.privilege = int(faults.get("ssh_privilege", 15))
        self.delay = float(faults.get("cli_delay_ms", 0)) / 1000
        self.commands: deque[dict] = deque(maxlen=1000)
        self.sessions = 0
        self.saved_at = device.boot_time

    def accepts(self, username: str, password: str) -> bool:
        return hmac.compare_digest(username.encode(), self.username.encode()) & \
            hmac.compare_digest(password.encode(), self.password.encode())

    def session(self) -> Session:
        self.sessions += 1
        return Session(self, self.sessions, self.privilege)

    def record(self, session: int, mode: str, text: str) -> None:
        self.commands.append({"time": self.clock.now(), "session": session, "mode": mode, "command": text})

    # ------------------------------------------------------------ configuration
    @property
    def native(self) -> dict:
        return self.device.config[NATIVE]

    def body(self, native: dict) -> list[str]:
        login = show.Login(self.username, self.privilege, self.password, self.enable_secret)
        changed = self.device.last_modified or self.device.boot_time + 60
        return show.config_body(native, login, str(self.device.seed), f"{show.stamp(changed)} by {self.username}")

    def running(self) -> list[str]:
        return show.running_config(self.body(self.native))

    def startup(self) -> list[str]:
        saved = self.device.startup[NATIVE] if self.device.startup else self.native
        return show.startup_config(self.body(saved), f"{show.stamp(self.saved_at)} by {self.username}")

    def save(self) -> None:
        self.device.saved()
        self.saved_at = self.clock.now()

    def configure(self, name: str, on: bool, args: list[str]) -> list[str]:
        """A config-mode command: change the running config (the startup copy kept first)."""
        if name == "hostname" and on and not (is_hostname(args[0]) and args[0][0].isalpha()):
            return ["% Hostname contains one or more illegal characters."]
        self.device.keep_startup()
        SETTERS[name](self, on, args)
        self.device.unsaved_config = True
        self.device.config_version += 1
        self.device.last_modified = self.clock.now()
        if self.on_change:   # the lab opens or closes the HTTPS listener (ip http secure-server)
            self.on_change(self.device)
        return []

    def restconf_enabled(self) -> bool:
        return self.device.profile.restconf_enabled(self.device)


def _http(cli: CliDevice) -> dict:
    return cli.native.setdefault("ip", {}).setdefault(show.HTTP, {})


def _set_http_server(cli: CliDevice, on: bool, _args: list[str]) -> None:
    _http(cli)["server"] = on


def _set_http_secure_server(cli: CliDevice, on: bool, _args: list[str]) -> None:
    _http(cli)["secure-server"] = on


def _set_http_authentication(cli: CliDevice, on: bool, _args: list[str]) -> None:
    if on:
        _http(cli)["authentication"] = {"local": [None]}
    else:
        _http(cli).pop("authentication", None)


def _set_restconf(cli: CliDevice, on: bool, _args: list[str]) -> None:
    if on:
        cli.native[show.RESTCONF] = [None]
    else:
        cli.native.pop(show.RESTCONF, None)


def _set_hostname(cli: CliDevice, on: bool, args: list[str]) -> None:
    name = args[0] if on else ("Router" if cli.device.profile.release.model == "CSR1000V" else "Switch")
    cli.native["hostname"] = cli.device.hostname = name


SETTERS: dict[str, Callable[[CliDevice, bool, list[str]], None]] = {
    "http_server": _set_http_server, "http_secure_server": _set_http_secure_server,
    "http_authentication": _set_http_authentication, "restconf": _set_restconf, "hostname": _set_hostname,
}


# ---------------------------------------------------------------- a login session
class Session:
    """One SSH login: privilege, mode, and a pending question (``Password:``) whose answer comes next."""

    def __init__(self, cli: CliDevice, number: int, privilege: int) -> None:
        self.cli, self.number, self.privilege = cli, number, privilege
        self.mode = "exec"
        self.closed = False
        self.question = ""
        self.echo = True
        self._answer: Callable[[str], list[str]] | None = None
        self._tries = 0

    @property
    def prompt(self) -> str:
        if self._answer:
            return self.question
        host = self.cli.device.hostname
        return f"{host}(config)#" if self.mode == "config" else host + ("#" if self.privilege == 15 else ">")

    @property
    def asking(self) -> bool:
        return self._answer is not None

    def login(self) -> str:
        return "\n" + self.prompt

    def line(self, text: str) -> str:
        """One line typed (Enter pressed): what the device prints, then its next prompt ("" once closed)."""
        output = self.run(text)
        return "" if self.closed else "".join(line + "\n" for line in output) + self.prompt

    def run(self, text: str) -> list[str]:
        self.cli.record(self.number, "answer" if self._answer else self.mode, "<hidden>" if not self.echo else text)
        if self._answer:
            answer, self._answer, self.echo = self._answer, None, True
            return answer(text)
        if not text.strip():
            return []
        return self._config(text) if self.mode == "config" else self._exec(text)

    def help(self, text: str) -> list[str]:
        try:
            return help_lines(CONFIG if self.mode == "config" else EXEC, text, self.privilege)
        except CliError as exc:
            return self._error(exc)

    def _ask(self, question: str, answer: Callable[[str], list[str]], echo: bool = True) -> list[str]:
        self.question, self._answer, self.echo = question, answer, echo
        return []

    def _error(self, exc: CliError, offset: int = 0) -> list[str]:
        if exc.at is None:
            return [*exc.lines, ""]
        return [" " * (len(self.prompt) + offset + exc.at) + "^", *exc.lines, ""]

    # ------------------------------------------------------------ exec mode
    def _exec(self, text: str, offset: int = 0) -> list[str]:
        try:
            command, pipe = split_pipe(text)
            parsed = parse(EXEC, command, self.privilege)
            if pipe and not parsed.node.action.startswith("show"):
                raise CliError([INVALID], at=len(command))
        except CliError as exc:
            return self._error(exc, offset)
        output = getattr(self, "_" + parsed.node.action)(parsed.args)
        return show.apply_filter(output, *pipe) if pipe else output

    def _nothing(self, _args: list[str]) -> list[str]:
        return []

    def _enable(self, _args: list[str]) -> list[str]:
        if self.privilege == 15:
            return []
        self._tries = 0
        return self._ask("Password: ", self._check_secret, echo=False)

    def _check_secret(self, secret: str) -> list[str]:
        if hmac.compare_digest(secret.encode(), self.cli.enable_secret.encode()):
            self.privilege = 15
            return []
        self._tries += 1
        if self._tries < ENABLE_TRIES:
            return self._ask("Password: ", self._check_secret, echo=False)
        return [BAD_SECRETS, ""]

    def _disable(self, _args: list[str]) -> list[str]:
        self.privilege = 1
        return []

    def _exit(self, _args: list[str]) -> list[str]:
        self.closed = True
        return []

    def _show_version(self, _args: list[str]) -> list[str]:
        return show.show_version(self.cli.device, self.cli.clock.now())

    def _show_privilege(self, _args: list[str]) -> list[str]:
        return [f"Current privilege level is {self.privilege}"]

    def _show_clock(self, _args: list[str]) -> list[str]:
        now = self.cli.clock.now()
        text = show.stamp(now)
        return [f"{text[:8]}.{int(now * 1000) % 1000:03d}{text[8:]}"]

    def _show_running(self, _args: list[str]) -> list[str]:
        return self.cli.running()

    def _show_startup(self, _args: list[str]) -> list[str]:
        return self.cli.startup()

    def _configure(self, _args: list[str]) -> list[str]:
        self.mode = "config"
        return [CONFIG_BANNER]

    def _write(self, _args: list[str]) -> list[str]:
        self.cli.save()
        return ["Building configuration...", "[OK]"]

    def _copy(self, _args: list[str]) -> list[str]:
        return self._ask("Destination filename [startup-config]? ", self._copy_to)

    def _copy_to(self, name: str) -> list[str]:
        if name.strip() not in ("", "startup-config"):
            return [f"%Error opening bootflash:{name.strip()} (Permission denied)"]
        return self._write([])

    # ------------------------------------------------------------ config mode
    def _config(self, text: str) -> list[str]:
        try:
            parsed = parse(CONFIG, text, self.privilege)
        except CliError as exc:
            return self._error(exc)
        action = parsed.node.action
        if action == "end":
            self.mode = "exec"
            return []
        if action == "do":
            return self._exec(parsed.args[0], parsed.starts[0])
        verb, name = action.split()
        return self.cli.configure(name, verb == "set", parsed.args)


# ---------------------------------------------------------------- keystrokes
class Terminal:
    """Keystrokes in, what the device sends back: echo, Enter as CR, LF or CRLF, backspace, ``?``, Ctrl-Z."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.buffer = ""
        self._after_cr = False

    def keys(self, text: str) -> Iterator[tuple[str, bool]]:
        """(bytes to send as text, whether it is a command's reply: what a slow CLI delays)."""
        for char in text:
            if self.session.closed:
                return
            after_cr, self._after_cr = self._after_cr, char == "\r"
            if char == "\n" and after_cr:
                continue
            yield from self._key(char)

    def _key(self, char: str) -> Iterator[tuple[str, bool]]:
        if char in "\r\n":
            yield from self._enter()
        elif char == "\x1a" and self.session.mode == "config" and not self.session.asking:
            self.buffer = "end"
            yield "^Z", False
            yield from self._enter()
        elif char in "\x08\x7f":
            yield self._backspace(), False
        elif char == "?" and not self.session.asking:
            yield crlf("?\n" + "".join(line + "\n" for line in self.session.help(self.buffer))
                       + self.session.prompt + self.buffer), False
        elif char >= " ":
            self.buffer += char
            yield (char if self.session.echo else ""), False

    def _enter(self) -> Iterator[tuple[str, bool]]:
        line, self.buffer = self.buffer, ""
        yield "\r\n", False
        yield crlf(self.session.line(line)), True

    def _backspace(self) -> str:
        if not self.buffer:
            return ""
        self.buffer = self.buffer[:-1]
        return "\b \b" if self.session.echo else ""


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")

