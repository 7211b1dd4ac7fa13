"""``python -m lab probe``: ask every device of a running lab for its hostname.

A quick, real RESTCONF client over TLS with the lab CA and the inventory's
credentials, so the demo shows each device answering, or failing as its
faults say it should.
"""
from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path

import httpx
import yaml

PATHS = {"ietf": "ietf-system:system/hostname", "nxos": "Cisco-NX-OS-device:System/name",
         "openconfig": "openconfig-system:system/state/hostname"}
DEFAULT_PATH = "Cisco-IOS-XE-native:native/hostname"
ACCEPT = "application/yang-data+json, application/yang.data+json;q=0.9"   # NX-OS serves only the dotted type


def _hosts(inventory: dict):
    for group in inventory["all"]["children"]["lab"]["children"].values():
        yield from group["hosts"].items()


async def _probe(client: httpx.AsyncClient, name: str, host: dict, auth) -> tuple[str, str, str]:
    url = f"https://{host['ansible_host']}:{host['ansible_port']}/restconf/data/" \
          + PATHS.get(host["lab_platform"], DEFAULT_PATH)
    try:
        reply = await client.get(url, auth=auth, headers={"Accept": ACCEPT})
    except httpx.ConnectError as exc:
        return name, host["lab_profile"], f"cannot connect: {exc}"[:90]
    except httpx.TimeoutException:
        return name, host["lab_profile"], "timed out"
    except httpx.HTTPError as exc:
        return name, host["lab_profile"], f"{type(exc).__name__}: {exc}"[:90]
    if reply.status_code != 200:
        return name, host["lab_profile"], f"HTTP {reply.status_code} {reply.text[:60]!r}"
    try:
        (value,) = reply.json().values()
    except (ValueError, json.JSONDecodeError):
        return name, host["lab_profile"], "200 with a body that is not JSON"
    return name, host["lab_profile"], f"ok, hostname {value!r}"


async def probe(inventory_path: Path) -> list[tuple[str, str, str]]:
    inventory = yaml.safe_load(inventory_path.read_text())
    variables = inventory["all"]["vars"]
    context = ssl.create_default_context(cafile=variables["restconf_ca_path"])
    auth = (variables["ansible_user"], variables["ansible_password"])
    timeout = httpx.Timeout(3.0, connect=2.0)
    async with httpx.AsyncClient(verify=context, timeout=timeout) as client:
        return await asyncio.gather(*(_probe(client, n, h, auth) for n, h in _hosts(inventory)))


def main(inventory_path: Path) -> int:
    rows = asyncio.run(probe(inventory_path))
    width = max(len(r[0]) for r in rows)
    for name, profile, result in rows:
        print(f"  {name:<{width}}  {profile:<12} {result}")
    ok = sum(r[2].startswith("ok") for r in rows)
    print(f"{ok} of {len(rows)} devices answered; the others fail as their faults say (lab/fleets/demo.yml).")
    return 0
