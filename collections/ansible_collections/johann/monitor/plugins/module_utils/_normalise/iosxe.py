# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco IOS XE (16.x and 17.x): native config and operational models → device record."""
from __future__ import annotations

import re

from ansible_collections.johann.monitor.plugins.module_utils._normalise import interfaces as ifs
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import (
    Platform,
    Resource,
    Section,
    as_list,
    iso,
    mask_secret,
    member,
    parse_time,
    percent,
    seconds_between,
    sensor,
    sensor_thresholds,
    text,
    to_float,
    to_int,
)

RESOURCES = (
    Resource("native", "Cisco-IOS-XE-native:native", "Cisco-IOS-XE-native"),
    Resource("hardware", "Cisco-IOS-XE-device-hardware-oper:device-hardware-data",
             "Cisco-IOS-XE-device-hardware-oper"),
    Resource("components", "Cisco-IOS-XE-platform-oper:components", "Cisco-IOS-XE-platform-oper"),
    Resource("platform", "Cisco-IOS-XE-platform-software-oper:cisco-platform-software",
             "Cisco-IOS-XE-platform-software-oper"),
    Resource("cpu", "Cisco-IOS-XE-process-cpu-oper:cpu-usage/cpu-utilization", "Cisco-IOS-XE-process-cpu-oper",
             {"fields": "five-seconds;five-seconds-intr;one-minute;five-minutes"}),
    Resource("memory", "Cisco-IOS-XE-memory-oper:memory-statistics", "Cisco-IOS-XE-memory-oper"),
    Resource("interfaces", "Cisco-IOS-XE-interfaces-oper:interfaces", "Cisco-IOS-XE-interfaces-oper"),
    Resource("environment", "Cisco-IOS-XE-environment-oper:environment-sensors", "Cisco-IOS-XE-environment-oper"),
    Resource("cdp", "Cisco-IOS-XE-cdp-oper:cdp-neighbor-details", "Cisco-IOS-XE-cdp-oper"),
    Resource("lldp", "Cisco-IOS-XE-lldp-oper:lldp-entries", "Cisco-IOS-XE-lldp-oper"),
    Resource("arp", "Cisco-IOS-XE-arp-oper:arp-data", "Cisco-IOS-XE-arp-oper"),
    Resource("licensing", "cisco-smart-license:licensing", "cisco-smart-license"),
)
_VERSION = re.compile(r"Version\s+([0-9][\w.()-]*)")


# ---------------------------------------------------------------- identity
def _chassis(hardware, components) -> tuple[str | None, str | None]:
    for item in as_list(member(hardware, "device-hardware", "device-inventory")):
        if item.get("hw-type") == "hw-type-chassis":
            return text(item.get("part-number")), text(item.get("serial-number"))
    for comp in as_list(member(components, "component")):
        state = comp.get("state") or {}
        if state.get("type") == "comp-chassis":
            return text(state.get("part-no")), text(state.get("serial-no"))
    return None, None


def identity(raw: dict, _ctx: dict) -> dict:
    native, hardware = raw.get("native"), raw.get("hardware")
    system = member(hardware, "device-hardware", "device-system-data") or {}
    model, serial = _chassis(hardware, raw.get("components"))
    boot, now = parse_time(system.get("boot-time")), parse_time(system.get("current-time"))
    full = text(system.get("software-version"))
    match = _VERSION.search(full.splitlines()[0]) if full else None
    history = as_list(member(system, "reload-history", "rl-history"))
    return {
        "hostname": text(member(native, "hostname")), "vendor": "Cisco", "platform": "iosxe",
        "model": model, "serial": serial,
        "os_version": text(member(native, "version")),
        "os_version_full": match.group(1) if match else None,
        "software_version": full.splitlines()[0] if full else None,
        "uptime": seconds_between(boot, now), "boot_time": iso(boot), "current_time": iso(now),
        "rommon": text(system.get("rommon-version")),
        "last_reboot_reason": text(system.get("last-reboot-reason")),
        "reload_history": [{"time": iso(parse_time(e.get("time"))), "reason": text(e.get("reload-reason"))}
                           for e in history],
        "unsaved_config": system.get("unsaved-config") if isinstance(system.get("unsaved-config"), bool) else None,
    }


# ---------------------------------------------------------------- config
def _gateway(ip: dict) -> str | None:
    if text(member(ip, "default-gateway")):
        return text(member(ip, "default-gateway"))
    for route in as_list(member(ip, "route", "ip-route-interface-forwarding-list")):
        if route.get("prefix") == "0.0.0.0" and route.get("mask") == "0.0.0.0":
            hops = as_list(route.get("fwd-list"))
            return text(hops[0].get("fwd")) if hops else None
    return None


def _boot_files(native: dict) -> list[str]:
    system = member(native, "boot", "system") or {}
    files = [text(f.get("filename")) for f in as_list(member(system, "bootfile", "filename-list-ordered-by-user"))]
    files += [text(f.get("flash-leaf")) for f in as_list(member(system, "flash", "flash-list-ordered-by-user"))]
    return [f for f in files if f]


def _name_servers(ip: dict) -> list[str]:
    servers = member(ip, "name-server")
    if isinstance(servers, dict):
        servers = as_list(servers.get("no-vrf"))
    return [text(s) for s in as_list(servers) if text(s)]


def config(raw: dict, _ctx: dict) -> dict | None:
    native = raw.get("native")
    if not isinstance(native, dict):
        return None
    ip = member(native, "ip") or {}
    snmp = member(native, "snmp-server") or {}
    return {
        "users": [{"name": text(u.get("name")), "privilege": to_int(u.get("privilege"))}
                  for u in as_list(member(native, "username"))],
        "domain": text(member(ip, "domain", "name")),
        "default_gateway": _gateway(ip),
        "name_servers": _name_servers(ip),
        "ntp_servers": [text(s.get("ip-address")) for s in as_list(member(native, "ntp", "server", "server-list"))],
        "snmp": {
            # the community name is the secret: never returned, only counted with its permission
            "communities": [{"name": mask_secret(c.get("name")), "permission": text(c.get("permission"))}
                            for c in as_list(member(snmp, "community-config"))],
            "groups": [text(g.get("id")) for g in as_list(member(snmp, "group"))],
            "users": [text(u.get("username")) for u in as_list(member(snmp, "user", "names"))],
            "location": text(member(snmp, "location")),
        },
        "spanning_tree_mode": text(member(native, "spanning-tree", "mode")),
        "iox": member(native, "iox") is not None,
        "boot_files": _boot_files(native),
    }


# ---------------------------------------------------------------- cpu, memory, storage
def _control_process(platform) -> dict:
    processes = as_list(member(platform, "control-processes", "control-process"))
    return processes[0] if processes else {}


def cpu(raw: dict, _ctx: dict) -> dict | None:
    util = raw.get("cpu") or {}
    cores = as_list(member(_control_process(raw.get("platform")), "per-core-stats", "per-core-stat"))
    per_core = [{"name": str(c.get("name")), "user": to_float(c.get("user")), "system": to_float(c.get("system")),
                 "idle": to_float(c.get("idle"))} for c in cores]
    if not util and not per_core:
        return None

    def average(key):
        values = [c[key] for c in per_core if c[key] is not None]
        return round(sum(values) / len(values), 2) if values else None

    return {"five_seconds": to_int(util.get("five-seconds")), "one_minute": to_int(util.get("one-minute")),
            "five_minutes": to_int(util.get("five-minutes")), "average": None, "average_seconds": None,
            "five_seconds_interrupt": to_int(util.get("five-seconds-intr")),
            "user": average("user"), "system": average("system"), "idle": average("idle"), "per_core": per_core}


def memory(raw: dict, _ctx: dict) -> dict | None:
    pools = []
    for pool in as_list(member(raw.get("memory"), "memory-statistic")):
        total, used = to_int(pool.get("total-memory")), to_int(pool.get("used-memory"))
        pools.append({"name": text(pool.get("name")), "total": total, "used": used,
                      "free": to_int(pool.get("free-memory")), "used_percent": percent(used, total)})
    stats = member(_control_process(raw.get("platform")), "memory-stats") or {}
    if not pools and not stats:
        return None
    processor = next((p for p in pools if p["name"] == "Processor"), {})
    total_kb = to_int(stats.get("total"))
    return {"status": text(stats.get("memory-status")), "total": processor.get("total"),
            "used": processor.get("used"), "free": processor.get("free"),
            "used_percent": processor.get("used_percent"),
            "system": {"total": total_kb * 1024 if total_kb is not None else None,
                       "used_percent": to_float(stats.get("used-percent")),
                       "free_percent": to_float(stats.get("free-percent"))},
            "pools": pools}


def _kib(value) -> int | None:
    number = to_int(value)
    return number * 1024 if number is not None else None


def storage(raw: dict, _ctx: dict) -> dict | None:
    filesystems = as_list(member(raw.get("platform"), "q-filesystem"))
    if not filesystems:
        return None
    partitions, images = [], []
    for fs in filesystems:
        for part in as_list(fs.get("partitions")):
            total, used = _kib(part.get("total-size")), _kib(part.get("used-size"))
            partitions.append({"name": text(part.get("name")), "status": text(part.get("disk-status")),
                               "total": total, "used": used, "used_percent": percent(used, total)})
        images += [text(i.get("image-name")) for i in as_list(fs.get("image-files"))]
    return {"partitions": partitions, "images": [i for i in images if i]}


# ---------------------------------------------------------------- environment, neighbours, arp, licensing
def environment(raw: dict, _ctx: dict) -> list | None:
    data = raw.get("environment")
    if data is None:
        return None
    sensors = []
    for s in as_list(member(data, "environment-sensor")):
        thresholds = sensor_thresholds(s.get("low-critical-threshold"), s.get("low-normal-threshold"),
                                       s.get("high-normal-threshold"), s.get("high-critical-threshold"))
        sensors.append(sensor(s.get("name"), s.get("location"), s.get("sensor-units"),
                              to_float(s.get("current-reading")), text(s.get("state")), thresholds))
    return sensors


def neighbors(raw: dict, _ctx: dict) -> dict | None:
    cdp_data, lldp_data = raw.get("cdp"), raw.get("lldp")
    if cdp_data is None and lldp_data is None:
        return None
    cdp = [{"device": text(n.get("device-name")), "local_interface": text(n.get("local-intf-name")),
            "remote_interface": text(n.get("port-id")), "platform": text(n.get("platform-name")),
            "address": text(n.get("ip-address")) or text(n.get("mgmt-address")),
            "capabilities": (text(n.get("capability")) or "").split()}
           for n in as_list(member(cdp_data, "cdp-neighbor-detail"))]
    lldp = [{"device": text(n.get("device-id")), "local_interface": text(n.get("local-interface")),
             "remote_interface": text(n.get("connecting-interface")), "platform": None, "address": None,
             "capabilities": sorted((n.get("capabilities") or {}).keys())}
            for n in as_list(member(lldp_data, "lldp-entry"))]
    return {"cdp": cdp, "lldp": lldp}


def arp(raw: dict, _ctx: dict) -> list | None:
    data = raw.get("arp")
    if data is None:
        return None
    return [{"vrf": text(vrf.get("vrf")) or "default", "address": text(e.get("address")),
             "mac": (text(e.get("hardware")) or "").lower() or None, "interface": text(e.get("interface")),
             "type": (text(e.get("mode")) or "").replace("ios-arp-mode-", "") or None}
            for vrf in as_list(member(data, "arp-vrf")) for e in as_list(vrf.get("arp-oper"))]


def licensing(raw: dict, _ctx: dict) -> dict | None:
    data = raw.get("licensing")
    if data is None:
        return None
    info = member(data, "state", "state-info") or {}
    transport = member(info, "transport") or member(data, "config", "transport") or {}
    reporting = member(info, "usage-reporting") or {}
    udi = member(info, "udi") or {}
    return {
        "enabled": member(data, "state", "smart-enabled"),
        "transport": (text(transport.get("transport-type")) or "").replace("transport-type-", "") or None,
        "cslu_url": text(member(transport, "url-settings", "url-cslu")) or text(member(transport, "transport-cslu",
                                                                                       "url-cslu")),
        "udi": {"pid": text(udi.get("pid")), "serial": text(udi.get("sn"))},
        "usage": [{"name": text(u.get("name")), "description": text(u.get("description")),
                   "count": to_int(u.get("count")), "status": text(u.get("status")),
                   "enforcement": text(u.get("enforcement-mode"))} for u in as_list(info.get("usage"))],
        "policy": text(member(info, "policy", "policy-name")),
        "last_report": iso(parse_time(reporting.get("last-report-push"))),
        "next_report": iso(parse_time(reporting.get("next-report-push"))),
    }


def _native_descriptions(native) -> dict[str, str]:
    """Descriptions from the configuration, for releases whose oper model lacks them (16.x)."""
    out = {}
    for kind, entries in (member(native, "interface") or {}).items():
        for entry in as_list(entries):
            if isinstance(entry, dict) and text(entry.get("description")):
                out[f"{kind.rsplit(':', 1)[-1]}{entry.get('name')}"] = text(entry["description"])
    return out


def interfaces(raw: dict, ctx: dict) -> list | None:
    data = raw.get("interfaces")
    if data is None:
        return None
    configured = _native_descriptions(raw.get("native"))
    out = []
    for entry in as_list(member(data, "interface")):
        interface = ifs.iosxe_interface(entry, ctx.get("now"))
        if interface["description"] is None:
            interface["description"] = configured.get(interface["name"])
        out.append(interface)
    return out


PLATFORM = Platform(
    name="iosxe", vendor="Cisco",
    detect=lambda modules: "Cisco-IOS-XE-native" in modules,
    resources=RESOURCES,
    sections=(
        Section("identity", ("native", "hardware"), identity, optional=("components",)),
        Section("config", ("native",), config),
        Section("cpu", ("cpu",), cpu, optional=("platform",)),
        Section("memory", ("memory",), memory, optional=("platform",)),
        Section("storage", ("platform",), storage),
        Section("interfaces", ("interfaces",), interfaces, optional=("native",)),
        Section("environment", ("environment",), environment),
        Section("neighbors", ("cdp", "lldp"), neighbors),
        Section("arp", ("arp",), arp),
        Section("licensing", ("licensing",), licensing),
    ),
)
