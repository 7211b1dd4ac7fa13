# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenConfig devices (Arista EOS first): openconfig-system, -platform, -interfaces, -if-ip, -lldp.

Tolerant of what OpenConfig servers do differently: a reply wrapped in its target node or made of the
node's children (EOS), prefixed or bare member names, ``xmlns`` members (NX-OS), 64-bit numbers as strings
or numbers, times as nanoseconds since the epoch or RFC 3339 (openconfig_values.py). What is vendor-specific
is the VENDORS table. This module holds the system and platform sections (identity, config, cpu, memory,
environment) and the platform itself; interfaces, neighbours and ARP are in openconfig_interfaces.py.
"""
from __future__ import annotations

import re

from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import (
    THRESHOLD_NAMES,
    Platform,
    Resource,
    Section,
    iso,
    member,
    percent,
    seconds_between,
    sensor,
    text,
    to_float,
    to_int,
)
from ansible_collections.johann.monitor.plugins.module_utils._normalise.openconfig_interfaces import (
    arp,
    interfaces,
    neighbors,
)
from ansible_collections.johann.monitor.plugins.module_utils._normalise.openconfig_values import (
    entries,
    float32,
    local,
    moment,
    node,
)

RESOURCES = (
    Resource("system", "openconfig-system:system/state", "openconfig-system"),
    Resource("system_config", "openconfig-system:system", "openconfig-system", {"content": "config"}),
    Resource("cpus", "openconfig-system:system/cpus", "openconfig-system"),
    Resource("components", "openconfig-platform:components", "openconfig-platform"),
    Resource("interfaces", "openconfig-interfaces:interfaces", "openconfig-interfaces"),
    Resource("lldp", "openconfig-lldp:lldp/interfaces", "openconfig-lldp"),
)
# What a device shows that names its vendor when the chassis has no mfg-name: the start of its part number
VENDORS = (("DCS-", {"vendor": "Arista", "os": "EOS"}), ("CCS-", {"vendor": "Arista", "os": "EOS"}))
_TRAIN = re.compile(r"^(\d+\.\d+)")


# ---------------------------------------------------------------- components
def _components(raw: dict) -> list[dict]:
    return entries(raw.get("components"), "components", "component")


def _kind(component: dict) -> str | None:
    return local(member(component, "state", "type"))


def _state_of(components: list[dict], kind: str) -> dict:
    found = next((c for c in components if _kind(c) == kind), {})
    return member(found, "state") or {}


def _hints(chassis: dict) -> dict:
    part = text(member(chassis, "part-no")) or ""
    return next((hints for prefix, hints in VENDORS if part.startswith(prefix)), {})


# ---------------------------------------------------------------- identity
def _software(version: str | None, os_name: str | None) -> dict:
    train = _TRAIN.match(version or "")
    return {"os_version": train.group(1) if train else None, "os_version_full": version,
            "software_version": " ".join(filter(None, (os_name, version))) or None}


def identity(raw: dict, _ctx: dict) -> dict:
    state, components = node(raw.get("system"), "state"), _components(raw)
    chassis, system_os = _state_of(components, "CHASSIS"), _state_of(components, "OPERATING_SYSTEM")
    hints = _hints(chassis)
    version = text(member(state, "software-version")) or text(member(system_os, "software-version"))
    boot, now = moment(member(state, "boot-time")), moment(member(state, "current-datetime"))
    return {
        "hostname": text(member(state, "hostname")), "platform": "openconfig",
        "vendor": text(member(chassis, "mfg-name")) or hints.get("vendor"),
        "model": text(member(chassis, "part-no")), "serial": text(member(chassis, "serial-no")),
        **_software(version, hints.get("os") or text(member(system_os, "description"))),
        "uptime": seconds_between(boot, now), "boot_time": iso(boot), "current_time": iso(now),
        "rommon": text(member(chassis, "firmware-version")),
        "last_reboot_reason": local(member(chassis, "last-reboot-reason")), "reload_history": [],
        "unsaved_config": None,
    }


# ---------------------------------------------------------------- config
def _servers(system: dict, service: str) -> list[str]:
    found = entries(member(system, service, "servers"), "servers", "server")
    return [a for a in (text(member(s, "address")) or text(member(s, "config", "address")) for s in found) if a]


def _users(system: dict) -> list[dict]:
    found = entries(member(system, "aaa", "authentication", "users"), "users", "user")
    names = [text(member(u, "username")) or text(member(u, "config", "username")) for u in found]
    return [{"name": n, "privilege": None} for n in names if n]


def config(raw: dict, _ctx: dict) -> dict | None:
    system = raw.get("system_config")
    if not isinstance(system, dict):
        return None
    settings = node(system, "config")
    return {"users": _users(system), "domain": text(member(settings, "domain-name")), "default_gateway": None,
            "name_servers": _servers(system, "dns"), "ntp_servers": _servers(system, "ntp"), "snmp": None,
            "spanning_tree_mode": None, "iox": None, "boot_files": []}


# ---------------------------------------------------------------- cpu, memory
def _index(entry: dict) -> str | None:
    return text(member(entry, "index")) or text(member(entry, "state", "index"))


def _averages(stats: dict) -> dict:
    """OpenConfig's avg is over the device's own interval: always as ``average`` over ``average_seconds``, and
    as a 1- or 5-minute figure only when the interval says so (EOS averages over 1000 s)."""
    interval = to_int(member(stats, "interval"))
    average = to_int(member(stats, "avg"))
    seconds = round(interval / 1e9) if interval and interval > 0 and average is not None else None
    return {"one_minute": average if seconds == 60 else None, "five_minutes": average if seconds == 300 else None,
            "average": average, "average_seconds": seconds}


def _core(entry: dict) -> dict:
    state = member(entry, "state") or {}
    return {"name": _index(entry), "user": to_float(member(state, "user", "instant")),
            "system": to_float(member(state, "kernel", "instant")), "idle": to_float(member(state, "idle", "instant"))}


def _mean(values: list) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 2) if known else None


def _cores_as_one(stats: list) -> dict:
    """Per-core utilization as the whole CPU's: the cores' mean instant and avg, the avg over the interval the
    cores share (cores averaging over different intervals give no average)."""
    stats = [s for s in stats if isinstance(s, dict)]
    if not stats:
        return {}
    mean = {name: _mean([to_float(member(s, name)) for s in stats]) for name in ("instant", "avg")}
    intervals = {member(s, "interval") for s in stats if to_float(member(s, "avg")) is not None}
    shared = len({to_int(i) for i in intervals}) == 1
    return {"instant": None if mean["instant"] is None else round(mean["instant"]),
            "avg": None if mean["avg"] is None or not shared else round(mean["avg"]),
            "interval": next(iter(intervals)) if shared else None}


def _component_cpu(components: list[dict]) -> dict:
    """Without openconfig-system cpus: the CPU components' utilization (whatever their type says), averaged."""
    return _cores_as_one([member(c, "cpu", "utilization", "state") for c in components])


def cpu(raw: dict, _ctx: dict) -> dict | None:
    cpus = entries(raw.get("cpus"), "cpus", "cpu")
    every = next((member(e, "state") or {} for e in cpus if _index(e) == "ALL"), None)
    cores = [_core(e) for e in cpus if _index(e) != "ALL"]
    # the whole CPU: openconfig-system's ALL, else the cores as one (the CPU components, else the cpus' cores)
    stats = member(every, "total") if every else \
        _component_cpu(_components(raw)) or _cores_as_one([member(e, "state", "total") for e in cpus])
    if not stats and not cores:
        return None
    whole = _core({"state": every}) if every else {}
    return {"five_seconds": to_int(member(stats, "instant")), **_averages(stats or {}),
            "five_seconds_interrupt": None,
            **{k: whole.get(k) if whole.get(k) is not None else _mean([c[k] for c in cores])
               for k in ("user", "system", "idle")},
            "per_core": cores}


def _pool(component: dict) -> dict:
    memory_ = member(component, "state", "memory")
    total, used = to_int(member(memory_, "available")), to_int(member(memory_, "utilized"))
    return {"name": text(member(component, "name")) or text(member(component, "state", "name")), "total": total,
            "used": used, "free": total - used if total is not None and used is not None else None,
            "used_percent": percent(used, total)}


def memory(raw: dict, _ctx: dict) -> dict | None:
    components = [c for c in _components(raw) if isinstance(member(c, "state", "memory"), dict)]
    if not components:
        return None
    pools = [_pool(c) for c in components]
    main = pools[next((i for i, c in enumerate(components) if _kind(c) == "CHASSIS"), 0)]
    return {"status": None, **{k: main[k] for k in ("total", "used", "free", "used_percent")},
            "system": {"total": None, "used_percent": None, "free_percent": None}, "pools": pools}


# ---------------------------------------------------------------- environment
def _label(component: dict, state: dict) -> str | None:
    name = text(member(component, "name")) or text(member(state, "name"))
    description = text(member(state, "description"))
    return f"{name} ({description})" if description and description != name else name


def _where(state: dict) -> str | None:
    return text(member(state, "location")) or text(member(state, "parent"))


def _status(state: dict) -> str | None:
    if member(state, "empty") is True:
        return "not present"
    return (local(member(state, "oper-status")) or "").lower() or None


def _limits(high_critical=None, **others) -> dict:
    values = dict.fromkeys(THRESHOLD_NAMES)
    values.update({k: to_float(v) for k, v in others.items()}, high_critical=to_float(high_critical))
    return values


def _temperature(component: dict, state: dict) -> list[dict]:
    temp = member(state, "temperature")
    reading = to_float(member(temp, "instant"))
    if reading is None:
        return []
    raised = member(temp, "alarm-status")
    condition = (local(member(temp, "alarm-severity")) or "alarm").lower() if raised is True else \
        "normal" if raised is False else _status(state)
    return [sensor(_label(component, state), _where(state), "celsius", reading, condition,
                   _limits(member(temp, "alarm-threshold")))]


def _fan_limits(fan: dict) -> dict:
    """openconfig-platform-fan thresholds: CRITICAL ones are the critical band, the others the normal one."""
    out = _limits()
    for entry in entries(member(fan, "thresholds"), "thresholds", "threshold"):
        limit = member(entry, "state") or {}
        band = "critical" if local(member(limit, "severity")) == "CRITICAL" else "normal"
        out[f"low_{band}"], out[f"high_{band}"] = to_float(member(limit, "lower")), to_float(member(limit, "upper"))
    return out


def _fan(component: dict, state: dict) -> list[dict]:
    fan = member(component, "fan")
    speed = to_float(member(fan, "state", "speed"))
    if speed is None:
        return []
    return [sensor(_label(component, state), _where(state), "rpm", speed, _status(state), _fan_limits(fan))]


def _psu(component: dict, state: dict) -> list[dict]:
    psu = member(component, "power-supply", "state")
    if not isinstance(psu, dict):
        return []
    condition = "disabled" if member(psu, "enabled") is False else _status(state)
    return [sensor(_label(component, state), _where(state), "watts", float32(member(psu, "output-power")),
                   condition, _limits(float32(member(psu, "capacity"))))]


def environment(raw: dict, _ctx: dict) -> list | None:
    if raw.get("components") is None:
        return None
    out = []
    for component in _components(raw):
        state = member(component, "state") or {}
        out += _temperature(component, state) + _fan(component, state) + _psu(component, state)
    return out


MODEL = "not in the OpenConfig model"
PLATFORM = Platform(
    name="openconfig", vendor="",
    detect=lambda modules: {"openconfig-platform", "openconfig-interfaces"} <= modules
    and "Cisco-IOS-XE-native" not in modules,
    resources=RESOURCES,
    sections=(
        Section("identity", ("system",), identity, optional=("components",),
                note=f"reload_history, unsaved_config: {MODEL}; rommon and last_reboot_reason are the chassis "
                     "component's firmware-version and last-reboot-reason, null when the device sends none"),
        Section("config", ("system_config",), config,
                note="users' privilege, default_gateway, snmp, spanning_tree_mode, iox, boot_files: not in "
                     "openconfig-system"),
        Section("cpu", ("components",), cpu, optional=("cpus",),
                note="five_seconds is the device's instant CPU figure; average is its own average over "
                     "average_seconds (OpenConfig's avg has the device's own interval), also one_minute or "
                     f"five_minutes when that interval is 1 or 5 minutes; five_seconds_interrupt: {MODEL}"),
        Section("memory", ("components",), memory,
                note=f"status, system: {MODEL} (memory is the components' available and utilized)"),
        Section("interfaces", ("interfaces",), interfaces,
                note=f"rates, vrf: {MODEL} interfaces; an mtu of 0 (the device's default) is null"),
        Section("environment", ("components",), environment,
                note="thresholds: a temperature's alarm-threshold (high_critical), a power supply's capacity "
                     f"(high_critical) and a fan's thresholds; the others are {MODEL}"),
        Section("neighbors", ("lldp",), neighbors, note=f"cdp: {MODEL}"),
        Section("arp", ("interfaces",), arp, note="vrf: not in openconfig-if-ip (network instances are not read)"),
    ),
)
