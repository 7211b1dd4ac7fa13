# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenConfig's interfaces, LLDP neighbours and ARP: openconfig-interfaces, -if-ethernet, -if-ip, -lldp.

The sections ``interfaces``, ``neighbors`` and ``arp`` of the openconfig platform (openconfig.py).
"""
from __future__ import annotations

import datetime as dt

from ansible_collections.johann.monitor.plugins.module_utils._normalise import interfaces as ifs
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import (
    as_list,
    ipv4_entry,
    iso,
    member,
    text,
    to_int,
)
from ansible_collections.johann.monitor.plugins.module_utils._normalise.openconfig_values import (
    ago,
    entries,
    local,
    moment,
    speed_bits,
)

ADMIN = {"UP": "up", "DOWN": "down", "TESTING": "testing"}
OPER = {"UP": "up", "DOWN": "down", "TESTING": "testing", "UNKNOWN": "unknown", "DORMANT": "dormant",
        "NOT_PRESENT": "not_present", "LOWER_LAYER_DOWN": "lower_layer_down"}
DUPLEX = {"FULL": "full", "HALF": "half"}
CAPABILITIES = {"MAC_BRIDGE": "bridge", "ROUTER": "router", "WLAN_ACCESS_POINT": "wlan", "TELEPHONE": "telephone",
                "REPEATER": "repeater", "DOCSIS_CABLE_DEVICE": "docsis", "STATION_ONLY": "station"}


# ---------------------------------------------------------------- interfaces
def _interface_entries(raw: dict) -> list[dict]:
    return entries(raw.get("interfaces"), "interfaces", "interface")


def _subinterfaces(entry: dict) -> list[dict]:
    return entries(member(entry, "subinterfaces"), "subinterfaces", "subinterface")


def _addresses(entry: dict, family: str) -> list[dict]:
    found = [member(a, "state") or member(a, "config") or a
             for sub in _subinterfaces(entry) for a in as_list(member(sub, family, "addresses", "address"))]
    return [a for a in found if isinstance(a, dict)]


def _counters(counters, ether: dict) -> tuple[dict, dict]:
    values = {name.replace("-", "_"): to_int(member(counters, name)) for name in ifs.COUNTERS}
    crc = member(counters, "in-fcs-errors")
    values["in_crc_errors"] = to_int(crc if crc is not None else member(ether, "counters", "in-crc-errors"))
    return values, {name: 64 for name, value in values.items() if value is not None}


def _speed(ether: dict) -> int | None:
    for leaf in ("negotiated-port-speed", "port-speed"):
        bits = speed_bits(member(ether, leaf))
        if bits:
            return bits
    mbps = to_int(member(ether, "effective-speed"))
    return mbps * 10 ** 6 if mbps else None


def _link(state: dict, ether: dict) -> dict:
    admin, oper = local(member(state, "admin-status")), local(member(state, "oper-status"))
    duplex = local(member(ether, "negotiated-duplex-mode")) or local(member(ether, "duplex-mode"))
    mac = text(member(ether, "mac-address")) or text(member(ether, "hw-mac-address"))
    return {"admin_status": ADMIN.get(admin or ""), "oper_status": OPER.get(oper or "", "unknown" if oper else None),
            "mtu": to_int(member(state, "mtu")) or None, "speed": _speed(ether), "duplex": DUPLEX.get(duplex or ""),
            "mac": mac.lower() if mac else None, "vrf": None}


def interface(entry: dict, now: dt.datetime | None) -> dict:
    state, config = member(entry, "state") or {}, member(entry, "config") or {}
    ether = member(entry, "ethernet", "state") or {}
    counters, widths = _counters(member(state, "counters"), ether)
    changed = moment(member(state, "last-change"))
    return {
        "name": text(member(entry, "name")) or text(member(state, "name")),
        "description": text(member(state, "description")) or text(member(config, "description")),
        "type": ifs.kind(member(state, "type") or member(config, "type")), **_link(state, ether),
        "ipv4": [a for a in (ipv4_entry(member(a, "ip"), None, member(a, "prefix-length"))
                             for a in _addresses(entry, "ipv4")) if a],
        "ipv6": [text(member(a, "ip")) for a in _addresses(entry, "ipv6") if text(member(a, "ip"))],
        "last_change": iso(changed), "last_change_seconds_ago": ago(changed, now),
        "counters": counters, "counter_widths": widths,
        "flaps": to_int(member(state, "counters", "carrier-transitions")),
        "rates": {"in_bps": None, "out_bps": None, "in_pps": None, "out_pps": None},
        "discontinuity_time": iso(moment(member(state, "counters", "last-clear"))),
    }


def interfaces(raw: dict, ctx: dict) -> list | None:
    if raw.get("interfaces") is None:
        return None
    return [interface(e, ctx.get("now")) for e in _interface_entries(raw)]


# ---------------------------------------------------------------- neighbours, arp
def _capabilities(neighbor: dict) -> list[str]:
    found = [member(c, "state") or c for c in entries(member(neighbor, "capabilities"), "capabilities", "capability")]
    names = [local(member(c, "name")) for c in found if member(c, "enabled") is not False]
    return sorted(CAPABILITIES.get(n, n.lower()) for n in names if n)


def _management_address(state: dict, neighbor: dict) -> str | None:
    listed = entries(member(neighbor, "management-addresses"), "management-addresses", "management-address")
    return text(member(state, "management-address")) or next(
        (text(member(a, "state", "address")) or text(member(a, "address")) for a in listed), None)


def _lldp(interface_name: str | None, neighbor: dict) -> dict:
    state = member(neighbor, "state") or {}
    return {"device": text(member(state, "system-name")) or text(member(state, "chassis-id")),
            "local_interface": interface_name,
            "remote_interface": text(member(state, "port-id")) or text(member(state, "port-description")),
            "platform": text(member(state, "system-description")), "address": _management_address(state, neighbor),
            "capabilities": _capabilities(neighbor)}


def neighbors(raw: dict, _ctx: dict) -> dict | None:
    data = raw.get("lldp")
    if data is None:
        return None
    lldp = [_lldp(text(member(i, "name")), n) for i in entries(data, "interfaces", "interface")
            for n in entries(member(i, "neighbors"), "neighbors", "neighbor")]
    return {"cdp": [], "lldp": lldp}


def _arp(name: str | None, sub: dict, neighbor: dict) -> dict:
    state = member(neighbor, "state") or neighbor
    index = to_int(member(sub, "index"))
    mac = text(member(state, "link-layer-address"))
    return {"vrf": None, "address": text(member(state, "ip")), "mac": mac.lower() if mac else None,
            "interface": name if not index else f"{name}.{index}",
            "type": (local(member(state, "origin")) or "").lower() or None}


def arp(raw: dict, _ctx: dict) -> list | None:
    if raw.get("interfaces") is None:
        return None
    return [_arp(text(member(e, "name")), sub, n) for e in _interface_entries(raw) for sub in _subinterfaces(e)
            for n in entries(member(sub, "ipv4", "neighbors"), "neighbors", "neighbor")]
