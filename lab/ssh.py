"""SSH for the simulated IOS XE CLI (lab/cli.py): one asyncssh listener per device, password logins.

``asyncssh.listen()`` builds an options object for every listener (about 0.4 ms each: 0.4 s for a
1000-device fleet); here one ``SSHServerConnectionOptions`` serves every listener, and the device
behind a connection is the one listening on the address and port it came in on.  One ed25519 host
key per lab state directory, created on first use and kept owner-readable only, like the CA.
"""
from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import os
from pathlib import Path

import asyncssh

from lab.cli import CliDevice, Terminal, crlf

HOST_KEY = "ssh_host_ed25519_key"
SERVER_VERSION = "Cisco-1.25"   # what IOS XE 17 sends: SSH-2.0-Cisco-1.25

logging.getLogger("asyncssh").setLevel(logging.WARNING)


def host_key(state_dir: Path) -> asyncssh.SSHKey:
    """The lab's SSH host key: one per state directory, created once, mode 0600."""
    path = state_dir / HOST_KEY
    if path.exists():
        return asyncssh.read_private_key(path)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="johann lab")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.export_private_key())
    return key


def _where(info: asyncssh.SSHServerConnection | asyncssh.SSHServerProcess) -> tuple[str, int]:
    host, port = info.get_extra_info("sockname")[:2]
    return host, port


class _DeviceLogin(asyncssh.SSHServer):
    """Password (and keyboard-interactive) authentication against the device's CLI user."""

    def __init__(self, ssh: SshServers) -> None:
        self.ssh = ssh
        self.cli: CliDevice | None = None
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn, self.cli = conn, self.ssh.clis[_where(conn)]
        self.ssh.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self.ssh.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return self.cli is not None and self.cli.accepts(username, password)


class SshServers:
    """The SSH side of a fleet: the listeners, the open connections, the sessions' keystroke loop."""

    def __init__(self, state_dir: Path) -> None:
        self.clis: dict[tuple[str, int], CliDevice] = {}
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self._listeners: list[asyncio.AbstractServer] = []
        self.options = asyncssh.SSHServerConnectionOptions(
            server_factory=lambda: _DeviceLogin(self), server_host_keys=[host_key(state_dir)],
            process_factory=self._session, encoding=None, line_editor=False, server_version=SERVER_VERSION,
            login_timeout=30, keepalive_interval=0)

    async def listen(self, cli: CliDevice) -> None:
        d = cli.device
        loop = asyncio.get_running_loop()
        self.clis[(d.address, d.ssh_port)] = cli
        server = await loop.create_server(lambda: asyncssh.SSHServerConnection(loop, self.options),
                                          d.address, d.ssh_port, backlog=256, reuse_address=True)
        self._listeners.append(server)

    def close(self) -> None:
        """Stop listening and drop every session (the lab is stopping)."""
        for listener in self._listeners:
            listener.close()
        for conn in list(self.connections):
            conn.abort()

    async def _session(self, process: asyncssh.SSHServerProcess) -> None:
        cli = self.clis[_where(process)]
        terminal = Terminal(cli.session())
        try:
            if process.command is not None:   # `ssh device "show version"`: one command, no prompt
                process.stdout.write(crlf("".join(line + "\n" for line in terminal.session.run(process.command)))
                                     .encode())
                return
            process.stdout.write(crlf(terminal.session.login()).encode())
            await self._keystrokes(process, terminal, cli.delay)
        except (asyncssh.DisconnectError, asyncssh.ConnectionLost, BrokenPipeError, ConnectionError):
            return
        finally:
            _close(process, terminal.session.closed)

    async def _keystrokes(self, process: asyncssh.SSHServerProcess, terminal: Terminal, delay: float) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while not terminal.session.closed:
            try:
                data = await process.stdin.read(4096)
            except (asyncssh.TerminalSizeChanged, asyncssh.BreakReceived, asyncssh.SignalReceived):
                continue
            if not data:
                return
            for text, reply in terminal.keys(decoder.decode(data)):
                if reply and delay:
                    await asyncio.sleep(delay)
                process.stdout.write(text.encode())
            await process.stdout.drain()


def _close(process: asyncssh.SSHServerProcess, logout: bool) -> None:
    """End the session; ``exit``/``logout`` closes the whole connection, as IOS does."""
    with contextlib.suppress(OSError, asyncssh.Error):   # the client may have gone already
        process.exit(0)
        if logout:
            process.channel.get_connection().close()
