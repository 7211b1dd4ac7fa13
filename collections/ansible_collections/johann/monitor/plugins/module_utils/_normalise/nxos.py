# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco NX-OS (Nexus 9000): the native Cisco-NX-OS-device (DME) model, OpenConfig where it lacks something.

NX-OS's RESTCONF agent follows an early draft: replies are named by the bare node name
(``{"PhysIf-list": [...]}``), OpenConfig objects carry ``"xmlns"`` members, a resource the
device does not have answers 204 No Content, uint64 leaves are strings, times are
``2024-05-01T10:20:30.123+00:00`` and the system uptime is ``days:hh:mm:ss.mmm``.
Fans and power supplies come from ``openconfig-platform:components``: the native readers
here cover temperature sensors only.
"""
from __future__ import annotations

import datetime as dt
import re

from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import (
    Platform,
    Resource,
    Section,
    as_list,
    ipv4_entry,
    iso,
    member,
    parse_time,
    percent,
    sensor,
    sensor_thresholds,
    text,
    to_float,
    to_int,
)

MODEL = "Cisco-NX-OS-device"
SYSTEM = f"{MODEL}:System"
RESOURCES = (
    Resource("name", f"{SYSTEM}/name", MODEL),
    Resource("serial", f"{SYSTEM}/serial", MODEL),
    Resource("uptime", f"{SYSTEM}/systemUpTime", MODEL),
    Resource("clock", f"{SYSTEM}/currentTime", MODEL),
    Resource("model", f"{SYSTEM}/ch-items/model", MODEL),
    Resource("version", f"{SYSTEM}/showversion-items", MODEL),
    Resource("cpu", f"{SYSTEM}/procsys-items/syscpusummary-items", MODEL),
    Resource("memory", f"{SYSTEM}/procsys-items/sysmem-items", MODEL),
    Resource("phys", f"{SYSTEM}/intf-items/phys-items", MODEL),
    Resource("loopbacks", f"{SYSTEM}/intf-items/lb-items", MODEL),
    Resource("mgmt", f"{SYSTEM}/mgmt-items", MODEL),
    Resource("addresses", f"{SYSTEM}/ipv4-items/inst-items/dom-items", MODEL),
    Resource("sensors", f"{SYSTEM}/ch-items/supslot-items", MODEL),
    Resource("components", "openconfig-platform:components", "openconfig-platform"),
    Resource("lldp", f"{SYSTEM}/lldp-items/inst-items/if-items", MODEL),
    Resource("cdp", f"{SYSTEM}/cdp-items/inst-items/if-items", MODEL),
    Resource("arp", f"{SYSTEM}/arp-items/inst-items/dom-items", MODEL),
)
NO_CONTENT = ("NX-OS answers 204 No Content for a resource it does not have: "
              "not configured, feature off, or not in this release")
_UPTIME = re.compile(r"^(\d+):(\d\d?):(\d\d?):(\d\d?)(?:\.\d+)?$")
_UPTIME_WORDS = re.compile(r"(\d+)\s*(day|hour|minute|second)", re.I)
_SPEED = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT])(?:b(?:ps)?)?$", re.I)
_SCALE = {"K": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12}
_NAME = re.compile(r"^(eth|lo|po|vlan)(\d[\d/.]*)$", re.I)
_LONG = {"eth": "Ethernet", "lo": "loopback", "po": "port-channel", "vlan": "Vlan"}
OPER = {"up": "up", "down": "down", "link-up": "dormant", "testing": "testing", "unknown": "unknown"}
UNIT_SECONDS = {"day": 86400, "hour": 3600, "minute": 60, "second": 1}
NEVER = dt.datetime(1971, 1, 1, tzinfo=dt.UTC)   # DME's "never changed" is the epoch


# ---------------------------------------------------------------- values
def uptime_seconds(value) -> int | None:
    """``12:03:04:05.000`` (days:hh:mm:ss.ms), ``3 day(s), 4 hour(s)...`` or plain seconds."""
    raw = text(value)
    if raw is None:
        return None
    match = _UPTIME.match(raw)
    if match:
        days, hours, minutes, seconds = (int(g) for g in match.groups())
        return ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    words = _UPTIME_WORDS.findall(raw)
    if words:
        return sum(int(n) * UNIT_SECONDS[unit.lower()] for n, unit in words)
    return to_int(raw)


def speed_bps(value) -> int | None:
    """``25G``, ``100M``, ``400G`` → bit/s; ``auto``, ``inherit``, ``unknown`` → None."""
    match = _SPEED.match(text(value) or "")
    if not match:
        return None
    return int(float(match.group(1)) * _SCALE[match.group(2).upper()])


def if_name(value) -> str | None:
    """DME ids (``eth1/1``, ``lo0``, ``po10``) → the names the CLI shows (``Ethernet1/1``...)."""
    raw = text(value)
    match = _NAME.match(raw or "")
    return f"{_LONG[match.group(1).lower()]}{match.group(2)}" if match else raw


def mac(value) -> str | None:
    """``00:3A:9C:12:34:56`` or ``003a.9c12.3456`` → ``00:3a:9c:12:34:56``."""
    raw = (text(value) or "").lower()
    digits = re.sub(r"[^0-9a-f]", "", raw)
    if len(digits) != 12 or digits == "0" * 12:
        return None
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def changed_at(value) -> dt.datetime | None:
    """A last-change time; DME's epoch (``1970-01-01T00:00:00.000+00:00``) means never."""
    moment = parse_time(value)
    return moment if moment is not None and moment >= NEVER else None


# ---------------------------------------------------------------- identity
def _version(raw: dict) -> tuple[dict, str | None]:
    data = raw.get("version") if isinstance(raw.get("version"), dict) else {}
    full = (text(data.get("nxosVersion")) or "").split()
    return data, full[0] if full else None


def identity(raw: dict, _ctx: dict) -> dict:
    data, full = _version(raw)
    train = re.match(r"^\d+\.\d+", full or "")
    now = parse_time(raw.get("clock"))
    uptime = uptime_seconds(raw.get("uptime"))
    boot = now - dt.timedelta(seconds=uptime) if now is not None and uptime is not None else None
    return {
        "hostname": text(raw.get("name")) or text(data.get("hostName")), "vendor": "Cisco", "platform": "nxos",
        "model": text(raw.get("model")), "serial": text(raw.get("serial")) or text(data.get("procBoardId")),
        "os_version": train.group(0) if train else None, "os_version_full": full,
        "software_version": f"Cisco NX-OS Software, Version {full}" if full else None,
        "uptime": uptime, "boot_time": iso(boot), "current_time": iso(now),
        "rommon": text(data.get("biosVersion")), "last_reboot_reason": text(data.get("lastResetReason")),
        "reload_history": [], "unsaved_config": None,
    }


# ---------------------------------------------------------------- cpu, memory
def cpu(raw: dict, _ctx: dict) -> dict | None:
    data = raw.get("cpu")
    if not isinstance(data, dict):
        return None
    idle = to_float(data.get("idle"))
    return {"five_seconds": round(100 - idle) if idle is not None else None, "one_minute": None,
            "five_minutes": None, "average": None, "average_seconds": None, "five_seconds_interrupt": None,
            "user": to_float(data.get("user")), "system": to_float(data.get("kernel")), "idle": idle, "per_core": []}


def _kib(value) -> int | None:
    number = to_int(value)
    return number * 1024 if number is not None else None


def memory(raw: dict, _ctx: dict) -> dict | None:
    data = raw.get("memory")
    if not isinstance(data, dict):
        return None
    total, used, free = (_kib(data.get(k)) for k in ("total", "used", "free"))
    return {"status": None, "total": total, "used": used, "free": free, "used_percent": percent(used, total),
            "system": None, "pools": []}


# ---------------------------------------------------------------- interfaces
def _counters(entry: dict) -> tuple[dict, dict]:
    """dbgIfIn-items / dbgIfOut-items (uint64: all 64-bit); CRC errors from dbgDot3Stats-items."""
    into, out = entry.get("dbgIfIn-items") or {}, entry.get("dbgIfOut-items") or {}
    leaves = {"in_octets": into.get("octets"), "in_unicast_pkts": into.get("ucastPkts"),
              "in_broadcast_pkts": into.get("broadcastPkts"), "in_multicast_pkts": into.get("multicastPkts"),
              "in_discards": into.get("discards"), "in_errors": into.get("errors"),
              "in_unknown_protos": into.get("unknownProtos"), "out_octets": out.get("octets"),
              "out_unicast_pkts": out.get("ucastPkts"), "out_broadcast_pkts": out.get("broadcastPkts"),
              "out_multicast_pkts": out.get("multicastPkts"), "out_discards": out.get("discards"),
              "out_errors": out.get("errors"),
              "in_crc_errors": member(entry, "dbgDot3Stats-items", "fCSErrors")}
    return {k: to_int(v) for k, v in leaves.items()}, {k: 64 for k, v in leaves.items() if v is not None}


def _rates(entry: dict) -> dict:
    into, out = entry.get("dbgIfIn-items") or {}, entry.get("dbgIfOut-items") or {}
    octets_in, octets_out = to_int(into.get("octetRate")), to_int(out.get("octetRate"))
    return {"in_bps": octets_in * 8 if octets_in is not None else None,
            "out_bps": octets_out * 8 if octets_out is not None else None,
            "in_pps": to_int(into.get("packetRate")), "out_pps": to_int(out.get("packetRate"))}


def _oper(entry: dict) -> dict:
    """The operational child of an interface: phys-items (Ethernet), mgmt-items (mgmt0), lbrtdif-items."""
    for name in ("phys-items", "mgmt-items", "lbrtdif-items"):
        if isinstance(entry.get(name), dict):
            return entry[name]
    return {}


def _address(value) -> dict | None:
    address, length = ((text(value) or "").split("/", 1) + [""])[:2]
    return ipv4_entry(address, None, length or None)


def _ago(moment: dt.datetime | None, now: dt.datetime | None) -> int | None:
    return max(0, int((now - moment).total_seconds())) if moment is not None and now is not None else None


def _addresses(raw: dict) -> dict[str, tuple[str, list]]:
    """Interface → (VRF, IPv4 addresses) from ipv4-items (``Dom-list`` per VRF, ``addr`` as ``a.b.c.d/len``)."""
    out: dict[str, tuple[str, list]] = {}
    for dom in as_list(member(raw.get("addresses"), "Dom-list")):
        for intf in as_list(member(dom, "if-items", "If-list")):
            entries = [_address(a.get("addr")) for a in as_list(member(intf, "addr-items", "Addr-list"))]
            out[if_name(intf.get("id"))] = (text(dom.get("name")), [e for e in entries if e])
    return out


def interface(entry: dict, kind: str, addresses: dict, now: dt.datetime | None) -> dict:
    oper, name = _oper(entry), if_name(entry.get("id"))
    counters, widths = _counters(entry)
    vrf, ipv4 = addresses.get(name, (None, []))
    changed = changed_at(oper.get("lastLinkStChg"))
    status = text(oper.get("operSt"))
    return {
        "name": name, "description": text(entry.get("descr")), "type": kind,
        "admin_status": {"up": "up", "down": "down"}.get(text(entry.get("adminSt")) or ""),
        "oper_status": OPER.get(status or "", "unknown" if status else None),
        "mtu": to_int(entry.get("mtu")), "speed": speed_bps(oper.get("operSpeed")),
        "duplex": {"full": "full", "half": "half", "auto": "auto"}.get(text(oper.get("operDuplex")) or ""),
        "mac": mac(oper.get("backplaneMac")), "vrf": vrf if vrf not in (None, "default") else None,
        "ipv4": ipv4, "ipv6": [],
        "last_change": iso(changed), "last_change_seconds_ago": _ago(changed, now),
        "counters": counters, "counter_widths": widths, "flaps": None, "rates": _rates(entry),
        "discontinuity_time": None,
    }


def interfaces(raw: dict, ctx: dict) -> list | None:
    if raw.get("phys") is None:
        return None
    addresses, now = _addresses(raw), ctx.get("now")
    lists = ((raw.get("mgmt"), "MgmtIf-list", "ethernet"), (raw.get("phys"), "PhysIf-list", "ethernet"),
             (raw.get("loopbacks"), "LbRtdIf-list", "loopback"))
    return [interface(e, kind, addresses, now) for data, key, kind in lists for e in as_list(member(data, key))
            if isinstance(e, dict)]


# ---------------------------------------------------------------- environment
def _temperatures(raw: dict) -> list[dict]:
    """Native sensors: minor threshold = high_normal, major = high_critical (no low thresholds)."""
    out = []
    for slot in as_list(member(raw.get("sensors"), "SupCSlot-list")):
        holder = slot.get("sensor-items") or member(slot, "sup-items", "sensor-items")
        for s in as_list(member(holder, "Sensor-list")):
            thresholds = sensor_thresholds(None, None, s.get("minorThresh"), s.get("majorThresh"))
            out.append(sensor(s.get("descr") or s.get("id"), f"module {slot.get('id')}", "celsius",
                              to_float(s.get("tempValue")), text(s.get("operSt")), thresholds))
    return out


def _kind_of(component: dict) -> str:
    return (text(member(component, "state", "type")) or "").rsplit(":", 1)[-1].upper()


def _fans_and_psus(raw: dict) -> list[dict]:
    """openconfig-platform components of type FAN (rpm) and POWER_SUPPLY (output watts): no thresholds."""
    none = sensor_thresholds(None, None, None, None)
    out = []
    for comp in as_list(member(raw.get("components"), "component")):
        kind, state = _kind_of(comp), text(member(comp, "state", "oper-status"))
        if kind == "FAN":
            reading, unit = to_float(member(comp, "fan", "state", "speed")), "rpm"
        elif kind == "POWER_SUPPLY":
            reading, unit = to_float(member(comp, "power-supply", "state", "output-power")), "watts"
        else:
            continue
        out.append(sensor(comp.get("name"), "chassis", unit, reading, state, none))
    return out


def environment(raw: dict, _ctx: dict) -> list | None:
    if raw.get("sensors") is None:
        return None
    return _temperatures(raw) + _fans_and_psus(raw)


# ---------------------------------------------------------------- neighbours, arp
def _adjacencies(data) -> list[tuple[str | None, dict]]:
    return [(if_name(intf.get("id")), adj) for intf in as_list(member(data, "If-list"))
            for adj in as_list(member(intf, "adj-items", "AdjEp-list")) if isinstance(adj, dict)]


def _capabilities(value) -> list[str]:
    return sorted(c.strip() for c in (text(value) or "").split(",") if c.strip())


def neighbors(raw: dict, _ctx: dict) -> dict | None:
    lldp_data, cdp_data = raw.get("lldp"), raw.get("cdp")
    if lldp_data is None and cdp_data is None:
        return None
    lldp = [{"device": text(a.get("sysName")) or text(a.get("chassisIdV")), "local_interface": local,
             "remote_interface": if_name(a.get("portIdV")), "platform": None, "address": text(a.get("mgmtIp")),
             "capabilities": _capabilities(a.get("capability"))} for local, a in _adjacencies(lldp_data)]
    cdp = [{"device": text(a.get("sysName")) or text(a.get("devId")), "local_interface": local,
            "remote_interface": if_name(a.get("portId")), "platform": text(a.get("platId")),
            "address": _cdp_address(a),
            "capabilities": _capabilities(a.get("cap"))} for local, a in _adjacencies(cdp_data)]
    return {"cdp": cdp, "lldp": lldp}


def _cdp_address(adjacency: dict) -> str | None:
    addresses = as_list(member(adjacency, "mgmtaddr-items", "MgmtAddr-list")) or \
        as_list(member(adjacency, "intfaddr-items", "IntfAddr-list"))
    return text(addresses[0].get("addr")) if addresses and isinstance(addresses[0], dict) else None


def arp(raw: dict, _ctx: dict) -> list | None:
    data = raw.get("arp")
    if data is None:
        return None
    return [{"vrf": text(dom.get("name")) or "default", "address": text(e.get("ip")), "mac": mac(e.get("mac")),
             "interface": if_name(e.get("ifId")), "type": None}
            for dom in as_list(member(data, "Dom-list")) for db in as_list(member(dom, "db-items", "Db-list"))
            for e in as_list(member(db, "adj-items", "AdjEp-list")) if isinstance(e, dict)]


PLATFORM = Platform(
    name="nxos", vendor="Cisco",
    detect=lambda modules: MODEL in modules,
    resources=RESOURCES,
    no_content=NO_CONTENT,
    sections=(
        Section("identity", ("name", "version"), identity, optional=("serial", "uptime", "clock", "model"),
                note="NX-OS's native model as read has no reload history or unsaved-configuration flag "
                     "(reload_history empty, unsaved_config null)"),
        Section("cpu", ("cpu",), cpu,
                note="NX-OS's CPU summary is one current reading (five_seconds is 100 - idle): one_minute, "
                     "five_minutes, average, five_seconds_interrupt and per_core are not in it"),
        Section("memory", ("memory",), memory,
                note="NX-OS's sysmem reports system memory only (total, used, free in kB): status and pools are "
                     "null or empty"),
        Section("interfaces", ("phys",), interfaces, optional=("mgmt", "loopbacks", "addresses"),
                note="NX-OS's native interface model as read has no flap count, IPv6 addresses or discontinuity "
                     "time, and no counters for loopbacks: those are null"),
        Section("environment", ("sensors",), environment, optional=("components",),
                note="temperatures from NX-OS's native sensors (minor threshold as high_normal, major as "
                     "high_critical, no low thresholds); fans and power supplies from openconfig-platform, "
                     "without thresholds"),
        Section("neighbors", ("lldp", "cdp"), neighbors,
                note="NX-OS's LLDP adjacencies carry no platform: null"),
        Section("arp", ("arp",), arp, note="NX-OS's ARP adjacencies carry no entry type: type is null"),
    ),
)
