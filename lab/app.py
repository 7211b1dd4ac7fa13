"""Run a fleet: TLS servers for every device, the admin API, clean shutdown."""
from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import ssl
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from lab import pki, restconf
from lab.cli import CliDevice
from lab.fleet import Fleet, build_devices, credentials, write_inventory
from lab.model import Clock, Device
from lab.server import DeviceServer
from lab.truth import device_truth
from lab.wire import StalledHandshake

if TYPE_CHECKING:
    from lab.ssh import SshServers


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _tls_context(ca: pki.CertificateAuthority, state_dir: Path, d: Device) -> ssl.SSLContext:
    """The device's server context; ``client_cert_required`` devices trust the lab CA for client certificates."""
    name, address = d.dns_name, d.address
    if d.faults.get("wrong_cert_name"):
        name, address = f"not-{d.dns_name}", "127.255.255.254"
    cert, key = pki.device_cert_files(ca, state_dir / "certs", name, address)
    return pki.server_context(cert, key, client_ca=ca.path if d.faults.get("client_cert_required") else None)


class Lab:
    def __init__(self, fleet: Fleet, state_dir: Path, clock: Clock) -> None:
        self.fleet, self.state_dir, self.clock = fleet, state_dir, clock
        self.stopping = asyncio.Event()
        self.devices: dict[str, Device] = {}
        self.servers: dict[str, DeviceServer] = {}
        # each device's HTTPS listener and its handler; a device whose running config has no
        # `ip http secure-server` (the https_disabled fault, or `no ip http secure-server` over SSH) has none
        self._listeners: dict[str, tuple[asyncio.AbstractServer, web.Server]] = {}
        self._ca: pki.CertificateAuthority | None = None
        self._tasks: set[asyncio.Task] = set()   # listeners being opened or closed after a CLI change
        self._stalls: list[asyncio.AbstractServer] = []   # tls_stall devices: plain TCP, no TLS, no HTTP
        self._admin: web.AppRunner | None = None
        self.admin_url = ""
        self.clis: dict[str, CliDevice] = {}   # the SSH CLI of each IOS XE device, when the fleet has `ssh`
        self._ssh: SshServers | None = None

    async def start(self, admin_port: int) -> None:
        _raise_fd_limit()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._ca = ca = pki.load_or_create_ca(self.state_dir)
        self.ca_path = ca.path
        self.client_cert = pki.client_cert_files(ca, self.state_dir)
        self.creds = credentials(self.state_dir)
        loop = asyncio.get_running_loop()
        for d in build_devices(self.fleet, self.creds, self.clock):
            self.devices[d.name] = d
            self.servers[d.name] = srv = DeviceServer(d, self.clock, self.stopping)
            if d.faults.get("port_closed"):
                continue
            if d.faults.get("tls_stall"):
                self._stalls.append(await loop.create_server(lambda srv=srv: StalledHandshake(srv), d.address, d.port,
                                                             backlog=256, reuse_address=True))
                continue
            if d.profile.https_enabled(d):
                await self._listen_https(d)
        await self._start_ssh()
        self._admin = web.AppRunner(self._admin_app(), access_log=None)
        await self._admin.setup()
        site = web.TCPSite(self._admin, "127.0.0.1", admin_port)
        await site.start()
        port = self._admin.addresses[0][1]
        self.admin_url = f"http://127.0.0.1:{port}"
        self._reboots = asyncio.create_task(self._scheduled_reboots())

    async def _listen_https(self, d: Device) -> None:
        handler = web.Server(self.servers[d.name].handle, access_log=None, keepalive_timeout=75)
        listener = await asyncio.get_running_loop().create_server(
            handler, d.address, d.port, ssl=_tls_context(self._ca, self.state_dir, d), backlog=256, reuse_address=True)
        self._listeners[d.name] = (listener, handler)

    async def https_changed(self, d: Device) -> None:
        """After a CLI change: listen when ``ip http secure-server`` is configured, stop when it is removed."""
        if d.faults.get("port_closed") or d.faults.get("tls_stall") or self.stopping.is_set():
            return
        if d.profile.https_enabled(d) and d.name not in self._listeners:
            await self._listen_https(d)
        elif not d.profile.https_enabled(d) and d.name in self._listeners:
            listener, handler = self._listeners.pop(d.name)
            listener.close()
            await handler.shutdown(1.0)

    def _on_cli_change(self, d: Device) -> None:
        self._tasks.add(task := asyncio.get_running_loop().create_task(self.https_changed(d)))
        task.add_done_callback(self._tasks.discard)

    async def _start_ssh(self) -> None:
        """An SSH listener per IOS XE device (asyncssh is imported only for fleets that have SSH)."""
        self.clis = {d.name: CliDevice(d, self.clock, self.creds, self._on_cli_change) for d in self.devices.values()
                     if d.ssh_port is not None}
        if not self.clis:
            return
        from lab.ssh import SshServers
        self._ssh = SshServers(self.state_dir)
        for cli in self.clis.values():
            if not cli.device.faults.get("ssh_port_closed"):
                await self._ssh.listen(cli)

    async def stop(self) -> None:
        self.stopping.set()
        self._reboots.cancel()
        if self._ssh:
            self._ssh.close()
        for listener in [*(listener for listener, _ in self._listeners.values()), *self._stalls]:
            listener.close()
        for server in self.servers.values():   # hostile replies mid-trickle and stalled handshakes
            server.abort_streams()
        await asyncio.gather(*(h.shutdown(1.0) for _, h in self._listeners.values()), return_exceptions=True)
        if self._admin:
            await self._admin.cleanup()

    async def _scheduled_reboots(self) -> None:
        while True:
            now = self.clock.now()
            for d in self.devices.values():
                every = d.faults.get("reboot_every")
                if every and now - d.boot_time >= every:
                    missed = (now - d.boot_time) // every
                    d.reboot(d.boot_time + missed * every, "Scheduled reload")
            await asyncio.sleep(1)

    # ------------------------------------------------------------ admin API
    def _admin_app(self) -> web.Application:
        app = web.Application()
        app.add_routes([
            web.get("/fleet", self._fleet), web.get("/stats", self._stats),
            web.get("/clock", self._clock), web.post("/clock", self._set_clock),
            web.get("/devices/{name}/truth", self._truth), web.get("/devices/{name}/served", self._served),
            web.post("/devices/{name}/reboot", self._reboot), web.get("/devices/{name}/cli", self._cli),
        ])
        return app

    def _device(self, request: web.Request) -> Device:
        name = request.match_info["name"]
        if name not in self.devices:
            raise web.HTTPNotFound(text=f"no device {name!r} in this lab")
        return self.devices[name]

    async def _fleet(self, _request: web.Request) -> web.Response:
        return web.json_response({"devices": [
            {"name": d.name, "profile": d.profile.name, "address": d.address, "port": d.port,
             "ssh_port": d.ssh_port, "dns_name": d.dns_name, "faults": d.faults} for d in self.devices.values()],
            "ca_path": str(self.ca_path), "admin_url": self.admin_url})

    async def _stats(self, _request: web.Request) -> web.Response:
        per = {n: dict(s.stats) for n, s in self.servers.items()}
        total = sum(s.stats["requests"] for s in self.servers.values())
        return web.json_response({"requests": total, "devices": per})

    async def _clock(self, _request: web.Request) -> web.Response:
        return web.json_response({"now": self.clock.now(), "frozen": self.clock.frozen})

    async def _set_clock(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "set" in body:
            self.clock.freeze(float(body["set"]))
        if body.get("freeze") is True:
            self.clock.freeze()
        if "advance" in body:
            self.clock.advance(float(body["advance"]))
        if body.get("freeze") is False:
            self.clock.thaw()
        return await self._clock(request)

    async def _truth(self, request: web.Request) -> web.Response:
        d = self._device(request)
        at = float(request.query.get("at", self.clock.now()))
        return web.json_response(device_truth(d, at))

    async def _served(self, request: web.Request) -> web.Response:
        d = self._device(request)
        query = {k: v for k, v in request.query.items() if k not in ("path", "accept", "at")}
        at = float(request.query.get("at", self.clock.now()))
        accept = request.query.get("accept", d.profile.media_type)
        status, body = restconf.served(d, request.query["path"], query, at, accept)
        return web.Response(status=200, content_type="application/json",
                            text=json.dumps({"status": status, "body": body.decode()}))

    async def _cli(self, request: web.Request) -> web.Response:
        """The SSH CLI's side of a device: its configs as lines, RESTCONF on or off, the commands typed."""
        d = self._device(request)
        cli = self.clis.get(d.name)
        if cli is None:
            raise web.HTTPNotFound(text=f"{d.name} has no SSH CLI (an IOS XE device of a fleet with `ssh: true`)")
        return web.json_response({
            "ssh_port": d.ssh_port, "listening": not d.faults.get("ssh_port_closed"),
            "https_enabled": d.name in self._listeners, "restconf_enabled": cli.restconf_enabled(),
            "unsaved_config": d.unsaved_config,
            "running_config": cli.running(), "startup_config": cli.startup(),
            "sessions": cli.sessions, "commands": [entry["command"] for entry in cli.commands],
            "log": list(cli.commands)})

    async def _reboot(self, request: web.Request) -> web.Response:
        d = self._device(request)
        body = await request.json() if request.can_read_body else {}
        d.reboot(self.clock.now(), body.get("reason", "Reload Command"))
        return web.json_response({"boot_time": d.boot_time})


def state_file(state_dir: Path) -> Path:
    return state_dir / "lab.json"


async def run(fleet: Fleet, state_dir: Path, inventory: Path, admin_port: int, clock: Clock) -> int:
    started = time.monotonic()
    lab = Lab(fleet, state_dir, clock)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await lab.start(admin_port)
    write_inventory(list(lab.devices.values()), inventory, lab.ca_path, lab.creds, lab.admin_url, lab.client_cert)
    state = {"pid": os.getpid(), "admin_url": lab.admin_url, "ca_path": str(lab.ca_path),
             "inventory": str(inventory.resolve()), "devices": len(lab.devices)}
    state_file(state_dir).write_text(json.dumps(state))
    print(f"READY {len(lab.devices)} devices in {time.monotonic() - started:.1f}s; "
          f"inventory {inventory}; CA {lab.ca_path}; admin {lab.admin_url}", flush=True)
    await stop.wait()
    await lab.stop()
    state_file(state_dir).unlink(missing_ok=True)
    print("lab stopped", file=sys.stderr, flush=True)
    return 0
