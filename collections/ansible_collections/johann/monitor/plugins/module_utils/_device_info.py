# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a whole device into one device record: discover, probe, read concurrently, normalise.

The record (schema version ``SCHEMA``) always has the same keys: identity,
config, cpu, memory, storage, interfaces, environment, neighbors, arp,
licensing (``None`` when unknown), and ``sections``: for each, ok / absent /
error / skipped with a message and a duration.  The overall status is ok,
degraded (some sections failed), auth_failed, unreachable or error.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import shlex
import time
from dataclasses import dataclass
from typing import Any

from ansible_collections.johann.monitor.plugins.module_utils import _discovery
from ansible_collections.johann.monitor.plugins.module_utils._normalise import platforms
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import (
    MIN_SECTIONS,
    SECTIONS,
    Platform,
    Resource,
    as_list,
    iso,
    member,
    parse_time,
    unwrap,
)
from ansible_collections.johann.monitor.plugins.module_utils._restconf.client import ClientSettings, RestconfClient
from ansible_collections.johann.monitor.plugins.module_utils._restconf.errors import (
    AuthFailed,
    NotFound,
    RestconfDisabled,
    RestconfError,
    SettingsError,
    TransportError,
)

SCHEMA = 1
MODULES_STATE = "ietf-yang-library:modules-state"
YANG_LIBRARY = "ietf-yang-library:yang-library"
CAPABILITIES = "ietf-restconf-monitoring:restconf-state/capabilities"
AUTH_HINT = " (check the username and password; IOS XE accepts privilege-15 users only)"
# what turns RESTCONF on for an IOS XE device (over SSH with cisco.ios; the playbook proves the result)
ENABLE_HINT = "; on IOS XE, enable it over SSH: ansible-playbook playbooks/enable_restconf.yml --limit {host}"


@dataclass
class Outcome:
    """What one GET gave: ok with data, absent (404/204/not implemented) or error."""
    resource: Resource
    status: str
    data: Any = None
    message: str | None = None
    duration: float = 0.0


class GatherError(ValueError):
    """A ``gather`` list that names no known section."""


def select_sections(gather: list[str]) -> list[str]:
    """``all``, ``min``, section names, and ``!name`` to leave one out."""
    chosen: list[str] = []
    excluded = set()
    for item in gather or ["all"]:
        name = item.strip()
        target = excluded if name.startswith("!") else None
        name = name.lstrip("!")
        names = SECTIONS if name == "all" else MIN_SECTIONS if name == "min" else (name,)
        unknown = [n for n in names if n not in SECTIONS]
        if unknown:
            raise GatherError(f"unknown gather section {unknown[0]!r}; choose from all, min, {', '.join(SECTIONS)}")
        if target is not None:
            excluded.update(names)
        else:
            chosen += [n for n in names if n not in chosen]
    if not chosen:   # only exclusions: start from everything
        chosen = list(SECTIONS)
    return [n for n in chosen if n not in excluded]


async def _fetch(client: RestconfClient, resource: Resource, no_content: str) -> Outcome:
    started = time.monotonic()
    try:
        reply = await client.get(resource.path, resource.params or None)
    except AuthFailed:
        raise
    except NotFound as exc:
        return Outcome(resource, "absent", message=f"not supported by the device: {exc}",
                       duration=time.monotonic() - started)
    except RestconfError as exc:
        return Outcome(resource, "error", message=str(exc), duration=time.monotonic() - started)
    elapsed = time.monotonic() - started
    if reply.status == 204 or reply.data is None:
        return Outcome(resource, "absent", message=f"no data on {resource.path} (204: {no_content})",
                       duration=elapsed)
    return Outcome(resource, "ok", data=unwrap(reply.data), duration=elapsed)


def _module_names(data: Any) -> set[str]:
    names = {m.get("name") for m in as_list(member(data, "module")) if isinstance(m, dict)}
    for module_set in as_list(member(data, "module-set")):
        names |= {m.get("name") for m in as_list(module_set.get("module")) if isinstance(m, dict)}
    return {n for n in names if n}


def _capability_modules(data: Any) -> set[str]:
    """Module names from capability URIs (``...?module=Cisco-NX-OS-device&revision=...``)."""
    names = set()
    for capability in as_list(member(data, "capability")):
        query = str(capability).partition("?")[2]
        pairs = (p.split("=", 1) for p in query.split("&") if "=" in p)
        names |= {value for key, value in pairs if key == "module" and value}
    return names


async def _no_library(client: RestconfClient) -> set[str]:
    """A device whose library resources answer 204 (NX-OS's "no such resource"): its capabilities' modules."""
    try:
        reply = await client.get(YANG_LIBRARY)
        if reply.data is not None:
            return _module_names(unwrap(reply.data))
        reply = await client.get(CAPABILITIES)
    except NotFound:
        return set()
    return _capability_modules(unwrap(reply.data))


async def probe_modules(client: RestconfClient) -> set[str]:
    """The implemented YANG modules: RFC 7895 modules-state, else RFC 8525 yang-library, else capabilities."""
    return (await probe_library(client))[0]


def _library_id(data: Any) -> tuple[str, str] | None:
    """The YANG library's id of its module set: module-set-id (RFC 7895) or content-id (RFC 8525)."""
    for kind in _discovery.ID_KINDS:
        value = member(data, kind)
        if isinstance(value, str) and value:
            return kind, value
    return None


async def probe_library(client: RestconfClient) -> tuple[set[str], tuple[str, str] | None]:
    """``probe_modules``'s modules and the library's id (None when it has none: not cached)."""
    try:
        reply = await client.get(MODULES_STATE)
    except NotFound as first:
        try:
            reply = await client.get(YANG_LIBRARY)
        except NotFound:
            if first.error_tag is None:   # the web server answered, not RESTCONF
                raise RestconfDisabled(f"RESTCONF not enabled: {first.status} on {await client.root()} "
                                       "(the HTTPS server answered but RESTCONF did not: `restconf` is not "
                                       "configured)", first.url, first.path) from None
            raise
    if reply.data is None:
        return await _no_library(client), None
    data = unwrap(reply.data)
    return _module_names(data), _library_id(data)


async def _library_unchanged(client: RestconfClient, known: _discovery.Library) -> bool:
    """Whether the device's YANG library still has ``known``'s id, asked for that leaf alone, under its root.

    Only the device's word counts: an answer without the id, a 404 (the root moved, the library went), 204 or any
    other error is "changed", and the device is discovered again (AuthFailed and TransportError are its faults
    and stand, as they would have on the first request of a discovery).
    """
    library = MODULES_STATE if known.id_kind == "module-set-id" else YANG_LIBRARY
    try:
        reply = await client.get(f"{library}/{known.id_kind}")
    except (AuthFailed, TransportError):
        raise
    except RestconfError:
        return False
    value = member(reply.data, known.id_kind) if isinstance(reply.data, dict) else None
    return isinstance(value, str) and value == known.id


class _Run:
    """One device_info call: the client, the platform and what was read."""

    def __init__(self, settings: ClientSettings, sections: list[str], platform: str | None, label: str,
                 cache: _discovery.Cache | None = None) -> None:
        self.settings, self.sections, self.platform_name, self.label = settings, sections, platform, label
        self.cache = cache
        self.started = time.monotonic()
        self.record: dict[str, Any] = {
            "schema": SCHEMA, "host": label, "address": settings.host, "port": settings.port,
            "status": None, "message": None, "platform": None, "restconf_root": None, "root_source": None,
            "polled_at": iso(dt.datetime.now(dt.UTC)), "duration": None, "requests": 0,
            "deadline": settings.deadline, "notes": [],
            "concurrency": {"max": settings.max_concurrency, "used": settings.max_concurrency, "busy_replies": 0},
            **{name: None for name in SECTIONS},
            "sections": {name: {"status": "skipped", "message": "not gathered", "duration": 0.0, "resources": []}
                         for name in SECTIONS},
        }

    def finish(self, status: str, message: str | None, client: RestconfClient | None) -> dict:
        self.record.update(status=status, message=message, duration=round(time.monotonic() - self.started, 3))
        if client is not None:
            self.record["requests"] = client.requests
            self._concurrency(client)
        return self.record

    def _concurrency(self, client: RestconfClient) -> None:
        """What the device's busy answers did to the requests in flight (the record says when it read slower)."""
        limiter = client.limiter
        self.record["concurrency"] = {"max": limiter.initial, "used": limiter.limit, "busy_replies": limiter.busy}
        if limiter.limit < limiter.initial:
            self.record["notes"].append(
                f"the device answered busy (503/429) {limiter.busy} time(s) with {limiter.initial} requests in "
                f"flight: read {limiter.limit} request{'s' if limiter.limit > 1 else ''} at a time instead")

    def _platform(self, modules: set[str] | None) -> Platform | None:
        if self.platform_name:
            return platforms.BY_NAME[self.platform_name]
        return platforms.detect(modules or set())

    async def run(self) -> dict:
        try:
            return await self._run()
        except SettingsError as exc:   # nothing sent: a controller-side file the device's TLS needs
            return self.finish("error", str(exc), None)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # one device's data never fails the task
            return self.finish("error", f"johann.monitor could not process this device's replies "
                                        f"({type(exc).__name__}: {str(exc)[:300]})", None)

    async def _run(self) -> dict:
        async with RestconfClient(self.settings) as client:
            try:
                modules = await self._discover(client)
            except AuthFailed as exc:
                return self.finish("auth_failed", str(exc) + AUTH_HINT, client)
            except TransportError as exc:   # no answer at all: unreachable; after answers: broken
                return self.finish("error" if client.answered else "unreachable", str(exc), client)
            except RestconfDisabled as exc:
                hint = ENABLE_HINT.format(host=shlex.quote(self.label)) if self.platform_name in (None, "iosxe") else ""
                return self.finish("error", str(exc) + hint, client)   # the playbook turns RESTCONF on for IOS XE
            except RestconfError as exc:
                return self.finish("error", str(exc), client)
            platform = self._platform(modules)
            if platform is None:
                return self.finish("error", "no supported platform: the device implements none of the models "
                                   "johann.monitor reads (set `platform` to force one)", client)
            self.record["platform"] = platform.name
            try:
                outcomes = await self._read(client, platform, modules)
            except AuthFailed as exc:
                return self.finish("auth_failed", str(exc) + AUTH_HINT, client)
        self._build(platform, outcomes)
        return self.finish(*self._overall(), client)

    def _cache_key(self) -> tuple:
        s = self.settings
        return s.host, s.port, s.username, s.root

    async def _discover(self, client: RestconfClient) -> set[str] | None:
        """The root and the modules: from the discovery cache when the device's library id is unchanged."""
        known = self.cache.load(*self._cache_key()) if self.cache is not None else None
        if known is not None:
            client.assume_root(known.root)
            if await _library_unchanged(client, known):
                self.record["restconf_root"] = await client.root()   # the assumed one (or the configured one)
                self.record["root_source"] = client.root_source
                return set(known.modules)
            client.forget_root()
        self.record["restconf_root"] = await client.root()
        self.record["root_source"] = client.root_source
        modules, library_id = await self._modules(client)
        if self.cache is not None and library_id is not None:
            self.cache.save(*self._cache_key(), _discovery.Library(
                self.record["restconf_root"], client.root_source, frozenset(modules), *library_id))
        return modules

    async def _modules(self, client: RestconfClient) -> tuple[set[str] | None, tuple[str, str] | None]:
        try:
            return await probe_library(client)
        except (AuthFailed, TransportError, RestconfDisabled):
            raise
        except RestconfError:
            if self.platform_name:   # told what the device is: read without the library
                return None, None
            raise

    def _needed(self, platform: Platform) -> list[Resource]:
        keys: list[str] = []
        for section in platform.sections:
            if section.name in self.sections:
                keys += [k for k in section.reads if k not in keys]
        return [platform.resource(k) for k in keys]

    async def _read(self, client: RestconfClient, platform: Platform, modules: set[str] | None) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        wanted = []
        for resource in self._needed(platform):
            if modules is not None and resource.module not in modules:
                outcomes[resource.key] = Outcome(resource, "absent",
                                                 message=f"{resource.module} is not in the device's YANG library")
            else:
                wanted.append(resource)
        for outcome in await asyncio.gather(*(_fetch(client, r, platform.no_content) for r in wanted)):
            outcomes[outcome.resource.key] = outcome
        return outcomes

    def _build(self, platform: Platform, outcomes: dict[str, Outcome]) -> None:
        raw = {k: o.data for k, o in outcomes.items()}
        ctx: dict[str, Any] = {"now": dt.datetime.now(dt.UTC)}
        by_name = {s.name: s for s in platform.sections}
        for name in sorted(self.sections, key=lambda n: n != "identity"):   # identity first: it sets the clock
            section = by_name.get(name)
            if section is None:
                self.record["sections"][name] = {"status": "absent", "duration": 0.0, "resources": [],
                                                 "message": f"not available from {platform.name} models"}
                continue
            mine = [outcomes[k] for k in section.resources]
            status, message = _section_status(mine)
            mine += [outcomes[k] for k in section.optional]
            value = None
            if status != "absent":
                value, status, message = _built(section, raw, ctx, status, message)
            if status == "ok" and message is None:
                message = section.note
            self.record[name] = value
            if name == "identity" and value:
                ctx["now"] = parse_time(value.get("current_time")) or ctx["now"]
            self.record["sections"][name] = {
                "status": status, "message": message, "duration": round(max(o.duration for o in mine), 3),
                "resources": [o.resource.path for o in mine]}

    def _overall(self) -> tuple[str, str | None]:
        chosen = {n: self.record["sections"][n] for n in self.sections}
        failed = {n: s for n, s in chosen.items() if s["status"] == "error"}
        if not any(s["status"] == "ok" for s in chosen.values()):
            reasons = "; ".join(f"{n}: {s['message']}" for n, s in chosen.items() if s["message"])
            return "error", f"no data from any section: {reasons}"
        if not failed:
            return "ok", None
        listing = "; ".join(f"{n}: {s['message']}" for n, s in failed.items())
        if len(failed) == len(chosen):
            return "error", listing
        return "degraded", f"{len(failed)} of {len(chosen)} sections failed: {listing}"


def _built(section, raw: dict, ctx: dict, status: str, message: str | None) -> tuple[Any, str, str | None]:
    """A section's value; data of a shape the normaliser cannot use makes the section an error, not the task."""
    try:
        return section.build(raw, ctx), status, message
    except Exception as exc:  # pylint: disable=broad-exception-caught  # device data is untrusted input
        shape = f"the device's data for {section.name} has a shape johann.monitor cannot read " \
                f"({type(exc).__name__}: {str(exc)[:200]})"
        return None, "error", shape if not message else f"{message}; {shape}"


def _section_status(outcomes: list[Outcome]) -> tuple[str, str | None]:
    errors = [o for o in outcomes if o.status == "error"]
    if errors:
        return "error", "; ".join(o.message for o in errors)
    if any(o.status == "ok" for o in outcomes):
        return "ok", None
    return "absent", "; ".join(o.message for o in outcomes if o.message) or None


def unread_record(settings: ClientSettings, gather: list[str] | None, label: str, message: str) -> dict:
    """The record of a device that was not read (the controller could not do it), with the reason."""
    run = _Run(settings, select_sections(gather or ["all"]), None, label or settings.host)
    return run.finish("error", message, None)


async def collect(settings: ClientSettings, gather: list[str] | None = None, platform: str | None = None,
                  label: str = "", cache: _discovery.Cache | None = None) -> dict:
    """The device record of one device. Never raises for device faults: they are in the record.

    ``cache``: the discovery cache (``_discovery.py``) to read the root and modules from and keep them in.
    """
    if platform is not None and platform not in platforms.BY_NAME:
        raise GatherError(f"unknown platform {platform!r}; choose from {', '.join(platforms.BY_NAME)}")
    return await _Run(settings, select_sections(gather or ["all"]), platform, label or settings.host, cache).run()
