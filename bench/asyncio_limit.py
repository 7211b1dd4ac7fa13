"""The practical limit: read what device_info reads from every device, with plain asyncio + httpx, no Ansible.

    .venv/bin/python -m bench.asyncio_limit --inventory bench/work/fleet/lat0/inv-100.yml --json out.json
    .venv/bin/python -m bench.asyncio_limit --inventory ... --client aiohttp   # the aiohttp reference

Per device, the same GETs johann.monitor.device_info makes with its defaults (gather all sections):

1. ``/.well-known/host-meta`` (the RESTCONF root, RFC 8040 discovery);
2. ``{root}/data/ietf-yang-library:modules-state`` (RFC 7895), on 404 ``ietf-yang-library:yang-library``
   (RFC 8525): the implemented YANG modules;
3. the platform's resources (the collection's own ``_normalise/platforms.py`` tables, from bench/internals.py: the
   platform detected from the modules, every resource a section reads, leaving out those whose module
   the device does not implement), ``{root}/data/{path}`` with the resource's query parameters.

Like device_info: one httpx.AsyncClient per device (HTTP Basic, TLS verified against the inventory's
``restconf_ca_path``), at most ``--per-device`` (2, device_info's max_concurrency) requests in flight
on one device, and at most ``--concurrency`` (50, ansible.cfg's forks) devices at a time. Unlike it:
one SSLContext for all devices, JSON bodies parsed (``json.loads``) but not normalised into a device
record, no retries, no report. That is the floor of the network work, not a monitor.

``--client aiohttp``: the same GETs with aiohttp (its C HTTP parser) instead of httpx: one ClientSession
and TCPConnector (limit ``--per-device``) per device, the same SSLContext, HTTP Basic, the same bounds and
JSON parsing. The reference for what the HTTP machinery costs when it is not pure Python (issue 17).

Prints (or writes with --json) a summary: devices, devices fully read, requests, HTTP statuses, wall.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import ssl
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import yaml

from bench.internals import platforms  # the collection's resource tables (pure Python, no Ansible)

try:
    import aiohttp
except ImportError:   # only --client aiohttp needs it (requirements.txt has it)
    aiohttp = None

JSON = "application/yang-data+json"
XRD = "application/xrd+xml"
MODULES_STATE = "ietf-yang-library:modules-state"
YANG_LIBRARY = "ietf-yang-library:yang-library"
RESTCONF_LINK = re.compile(r"""<Link\b[^>]*\brel=["']restconf["'][^>]*\bhref=["']([^"']+)["']""")


def load_hosts(path: Path) -> tuple[dict, list[dict]]:
    data = yaml.safe_load(path.read_text())
    hosts: list[dict] = []

    def walk(group: dict) -> None:
        for name, host in (group.get("hosts") or {}).items():
            hosts.append({"name": name, **(host or {})})
        for child in (group.get("children") or {}).values():
            walk(child or {})

    walk(data["all"])
    return data["all"]["vars"], hosts


def module_names(document: dict) -> set[str]:
    data = next(iter(document.values())) if isinstance(document, dict) and len(document) == 1 else document
    names = {m.get("name") for m in data.get("module", []) if isinstance(m, dict)}
    for module_set in data.get("module-set", []):
        names |= {m.get("name") for m in module_set.get("module", []) if isinstance(m, dict)}
    return {n for n in names if n}


class Device:
    errors: tuple = (httpx.HTTPError, ValueError)

    def __init__(self, host: dict, context: ssl.SSLContext, auth: tuple[str, str], per_device: int):
        self.host = host
        self.client = httpx.AsyncClient(
            base_url=f"https://{host['ansible_host']}:{host['ansible_port']}", verify=context,
            auth=httpx.BasicAuth(*auth),
            limits=httpx.Limits(max_connections=per_device, max_keepalive_connections=per_device),
            timeout=httpx.Timeout(30.0, connect=10.0))
        self.limit = asyncio.Semaphore(per_device)
        self.requests = 0
        self.statuses: Counter = Counter()
        self.bytes = 0

    async def _get(self, url: str, accept: str, params: dict | None) -> tuple[int, bytes]:
        reply = await self.client.get(url, params=params or None, headers={"Accept": accept})
        return reply.status_code, reply.content

    async def get(self, url: str, accept: str = JSON, params: dict | None = None) -> tuple[int, bytes]:
        async with self.limit:
            self.requests += 1
            status, content = await self._get(url, accept, params)
        self.statuses[status] += 1
        self.bytes += len(content)
        return status, content

    async def close(self) -> None:
        await self.client.aclose()

    async def read(self) -> dict:
        try:
            status, meta = await self.get("/.well-known/host-meta", XRD)
            found = RESTCONF_LINK.search(meta.decode("utf-8", "replace")) if status == 200 else None
            root = "/" + found.group(1).strip("/") if found else "/restconf"
            status, body = await self.get(f"{root}/data/{MODULES_STATE}")
            if status == 404:
                status, body = await self.get(f"{root}/data/{YANG_LIBRARY}")
            if status != 200:
                raise ValueError(f"{status} on the YANG library")
            modules = module_names(json.loads(body))
            platform = platforms.detect(modules)
            if platform is None:
                return {"ok": False, "why": "no platform"}
            keys: list[str] = []
            for section in platform.sections:
                keys += [k for k in section.reads if k not in keys]
            wanted = [platform.resource(k) for k in keys if platform.resource(k).module in modules]
            replies = await asyncio.gather(*(self.get(f"{root}/data/{r.path}", params=r.params) for r in wanted))
            parsed = 0
            for status, content in replies:
                if status == 200 and content:
                    json.loads(content)
                    parsed += 1
            return {"ok": True, "platform": platform.name, "root": root, "parsed": parsed,
                    "paths": [(r.path, reply[0]) for r, reply in zip(wanted, replies, strict=True)]}
        except self.errors as exc:
            return {"ok": False, "why": f"{type(exc).__name__}: {exc}"}
        finally:
            await self.close()


class AiohttpDevice(Device):
    """The same reads with aiohttp: one ClientSession (its own TCPConnector, ``per_device`` connections) per device."""

    errors = (aiohttp.ClientError, asyncio.TimeoutError, ValueError) if aiohttp else ()

    def __init__(self, host: dict, context: ssl.SSLContext, auth: tuple[str, str], per_device: int):
        self.host = host
        self.base = f"https://{host['ansible_host']}:{host['ansible_port']}"
        self.client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=context, limit=per_device), headers={"Authorization": _basic(*auth)},
            timeout=aiohttp.ClientTimeout(total=30.0, connect=10.0))
        self.limit = asyncio.Semaphore(per_device)
        self.requests = 0
        self.statuses = Counter()
        self.bytes = 0

    async def _get(self, url: str, accept: str, params: dict | None) -> tuple[int, bytes]:
        async with self.client.get(self.base + url, params=params or None, headers={"Accept": accept}) as reply:
            return reply.status, await reply.read()

    async def close(self) -> None:
        await self.client.close()


def _basic(user: str, password: str) -> str:
    """HTTP Basic's header value (aiohttp 3.14 deprecates its BasicAuth for this helper; older ones lack it)."""
    if hasattr(aiohttp, "encode_basic_auth"):
        return aiohttp.encode_basic_auth(user, password)
    return aiohttp.BasicAuth(user, password).encode()


CLIENTS = {"httpx": Device, "aiohttp": AiohttpDevice}


async def read_all(inventory: Path, concurrency: int, per_device: int, client: str = "httpx") -> dict:
    variables, hosts = load_hosts(inventory)
    context = ssl.create_default_context(cafile=variables["restconf_ca_path"])
    auth = (variables["ansible_user"], variables["ansible_password"])
    gate = asyncio.Semaphore(concurrency)
    devices: list[Device] = []
    kind = CLIENTS[client]

    async def one(host: dict) -> dict:
        async with gate:
            device = kind(host, context, auth, per_device)
            devices.append(device)
            return {"name": host["name"], "profile": host.get("lab_profile"), **await device.read()}

    started = time.monotonic()
    rows = await asyncio.gather(*(one(h) for h in hosts))
    wall = time.monotonic() - started
    statuses: Counter = Counter()
    for d in devices:
        statuses.update(d.statuses)
    per_profile: dict = {}
    for row in rows:
        if row.get("ok"):
            per_profile.setdefault(row["profile"], {"root": row["root"], "paths": row["paths"]})
    return {"devices": len(hosts), "read": sum(1 for r in rows if r.get("ok")),
            "failed": [r for r in rows if not r.get("ok")][:5], "requests": sum(d.requests for d in devices),
            "bytes": sum(d.bytes for d in devices), "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "parsed_bodies": sum(r.get("parsed", 0) for r in rows), "wall_s": round(wall, 3),
            "concurrency": concurrency, "per_device": per_device, "per_profile": per_profile, "client": client,
            "versions": {"httpx": httpx.__version__, "aiohttp": aiohttp.__version__ if aiohttp else None}}


def _loop_factory(name: str):
    if name == "uvloop":
        import uvloop
        return uvloop.new_event_loop
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.asyncio_limit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", type=Path, required=True, help="a lab inventory (YAML)")
    parser.add_argument("--concurrency", type=int, default=50, help="devices at a time (ansible.cfg's forks)")
    parser.add_argument("--per-device", type=int, default=2, help="requests in flight per device "
                        "(device_info's max_concurrency)")
    parser.add_argument("--client", choices=sorted(CLIENTS), default="httpx",
                        help="the HTTP client (default httpx; aiohttp: the reference with a C HTTP parser)")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="the event loop (default asyncio's own; uvloop: what a poller on uvloop would get)")
    parser.add_argument("--json", type=Path, help="write the summary here instead of printing it")
    args = parser.parse_args(argv)
    if args.client == "aiohttp" and aiohttp is None:
        parser.error("--client aiohttp needs aiohttp (pip install -r requirements.txt)")
    with asyncio.Runner(loop_factory=_loop_factory(args.loop)) as runner:
        summary = runner.run(read_all(args.inventory, args.concurrency, args.per_device, args.client))
    summary["loop"] = args.loop
    text = json.dumps(summary, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    else:
        print(text)
    return 0 if summary["read"] == summary["devices"] else 1


if __name__ == "__main__":
    sys.exit(main())
