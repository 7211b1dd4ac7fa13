# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generic standards-only devices: ietf-system, ietf-interfaces, ietf-hardware (RFC 8348)."""
from __future__ import annotations

from ansible_collections.johann.monitor.plugins.module_utils._normalise import interfaces as ifs
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import (
    Platform,
    Resource,
    Section,
    as_list,
    iso,
    member,
    parse_time,
    seconds_between,
    sensor,
    text,
    to_float,
)

RESOURCES = (
    Resource("system", "ietf-system:system", "ietf-system"),
    Resource("system_state", "ietf-system:system-state", "ietf-system"),
    Resource("hardware", "ietf-hardware:hardware", "ietf-hardware"),
    Resource("interfaces", "ietf-interfaces:interfaces", "ietf-interfaces"),
    Resource("interfaces_state", "ietf-interfaces:interfaces-state", "ietf-interfaces"),
)
# RFC 8348 value-scale: the reading is value x 10^exponent
SCALE = {"yocto": -24, "zepto": -21, "atto": -18, "femto": -15, "pico": -12, "nano": -9, "micro": -6,
         "milli": -3, "units": 0, "kilo": 3, "mega": 6, "giga": 9, "tera": 12, "peta": 15, "exa": 18,
         "zetta": 21, "yotta": 24}


def _components(raw: dict) -> list[dict]:
    return as_list(member(raw.get("hardware"), "component"))


def identity(raw: dict, _ctx: dict) -> dict:
    system, state = raw.get("system") or {}, raw.get("system_state") or {}
    platform, clock = state.get("platform") or {}, state.get("clock") or {}
    chassis = next((c for c in _components(raw) if str(c.get("class", "")).endswith("chassis")), {})
    boot, now = parse_time(clock.get("boot-datetime")), parse_time(clock.get("current-datetime"))
    return {
        "hostname": text(system.get("hostname")), "vendor": text(chassis.get("mfg-name")), "platform": "ietf",
        "model": text(chassis.get("model-name")), "serial": text(chassis.get("serial-num")),
        "os_version": text(platform.get("os-release")), "os_version_full": text(platform.get("os-version")),
        "software_version": " ".join(filter(None, (text(platform.get("os-name")), text(platform.get("os-version"))))) or None,
        "uptime": seconds_between(boot, now), "boot_time": iso(boot), "current_time": iso(now),
        "rommon": text(chassis.get("firmware-rev")), "last_reboot_reason": None, "reload_history": [],
        "unsaved_config": None,
    }


def config(raw: dict, _ctx: dict) -> dict | None:
    system = raw.get("system")
    if not isinstance(system, dict):
        return None
    ntp = [text(member(s, "udp", "address")) for s in as_list(member(system, "ntp", "server"))]
    dns = [text(member(s, "udp-and-tcp", "address")) for s in as_list(member(system, "dns-resolver", "server"))]
    search = [text(s) for s in as_list(member(system, "dns-resolver", "search"))]
    users = [{"name": text(u.get("name")), "privilege": None}
             for u in as_list(member(system, "authentication", "user"))]
    return {"users": users, "domain": search[0] if search else None, "default_gateway": None,
            "name_servers": [d for d in dns if d], "ntp_servers": [n for n in ntp if n],
            "snmp": None, "spanning_tree_mode": None, "iox": None, "boot_files": [],
            "contact": text(system.get("contact")), "location": text(system.get("location"))}


def interfaces(raw: dict, ctx: dict) -> list | None:
    nmda, legacy = raw.get("interfaces"), raw.get("interfaces_state")
    entries = as_list(member(nmda, "interface"))
    if entries and any("oper-status" in e for e in entries):
        return [ifs.ietf_interface(e, e, ctx.get("now")) for e in entries]
    config = {e.get("name"): e for e in entries}
    state = as_list(member(legacy, "interface"))
    if not state and not entries:
        return None
    return [ifs.ietf_interface(e, config.get(e.get("name")), ctx.get("now")) for e in state or entries]


def _reading(data: dict) -> float | None:
    value = to_float(data.get("value"))
    if value is None:
        return None
    return round(value * 10 ** SCALE.get(data.get("value-scale", "units"), 0)
                 / 10 ** int(data.get("value-precision") or 0), 6)


def environment(raw: dict, _ctx: dict) -> list | None:
    if raw.get("hardware") is None:
        return None
    sensors = []
    for comp in _components(raw):
        data = comp.get("sensor-data")
        if not isinstance(data, dict):
            continue
        thresholds = {"low_critical": None, "low_normal": None, "high_normal": None, "high_critical": None}
        sensors.append(sensor(comp.get("name"), comp.get("parent"), data.get("value-type"), _reading(data),
                              text(data.get("oper-status")), thresholds))
    return sensors


PLATFORM = Platform(
    name="ietf", vendor="",
    detect=lambda modules: "ietf-interfaces" in modules,
    resources=RESOURCES,
    sections=(
        Section("identity", ("system", "system_state"), identity, optional=("hardware",)),
        Section("config", ("system",), config),
        Section("interfaces", ("interfaces", "interfaces_state"), interfaces),
        Section("environment", ("hardware",), environment),
    ),
)
