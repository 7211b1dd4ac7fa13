"""ietf-interfaces (RFC 8343 NMDA and the RFC 7223 legacy tree), shared by profiles."""
from __future__ import annotations

from collections.abc import Callable

from lab.model import COUNTER32, Device, Interface, iso

INTERFACES = "ietf-interfaces:interfaces"
INTERFACE_STATE = frozenset({"admin-status", "oper-status", "last-change", "if-index", "phys-address",
                             "higher-layer-if", "lower-layer-if", "speed", "statistics"})
_COUNTER64 = ("in-octets", "in-unicast-pkts", "in-broadcast-pkts", "in-multicast-pkts",
              "out-octets", "out-unicast-pkts", "out-broadcast-pkts", "out-multicast-pkts")
_COUNTER32 = ("in-discards", "in-errors", "in-unknown-protos", "out-discards", "out-errors")


def _type(intf: Interface) -> str:
    if intf.ethernet:
        return "iana-if-type:ethernetCsmacd"
    return "iana-if-type:softwareLoopback" if intf.kind in ("Loopback", "lo") else "iana-if-type:l3ipvlan"


def state(d: Device, intf: Interface, now: float, admin_up: bool, digits: int, numbers: bool) -> dict:
    """The operational leaves of one interface (counter64 as strings unless ``numbers``)."""
    link = d.link(intf, now, admin_up)
    c = d.counters(intf, now)
    stats = {"discontinuity-time": iso(d.boot_time, digits)}
    for name in _COUNTER64:
        stats[name] = c[name] if numbers else str(c[name])
    for name in _COUNTER32:
        stats[name] = c[name] % COUNTER32
    return {
        "admin-status": "up" if admin_up else "down",
        "oper-status": "up" if link.up else "down",
        "last-change": iso(link.last_change, digits),
        "if-index": intf.ifindex,
        "phys-address": intf.mac,
        "speed": intf.speed if numbers else str(intf.speed),
        "statistics": stats,
    }


def interfaces_state(d: Device, now: float, admin_up: Callable[[Interface], bool], digits: int,
                     numbers: bool) -> dict:
    """The deprecated ``interfaces-state`` tree (what IOS XE 16.x serves)."""
    return {"interface": [dict({"name": i.name, "type": _type(i)},
                               **state(d, i, now, admin_up(i), digits, numbers))
                          for i in d.interfaces]}


def interfaces_nmda(d: Device, now: float, digits: int) -> dict:
    """Stored config entries with their operational leaves inline (RFC 8343)."""
    out = []
    for entry in d.config.get(INTERFACES, {}).get("interface", []):
        intf = d.interface(entry["name"])
        enabled = entry.get("enabled", True)
        if intf is None:  # configured, no such hardware (yet): what servers report
            extra = {"admin-status": "up" if enabled else "down", "oper-status": "not-present"}
        else:
            extra = state(d, intf, now, enabled, digits, numbers=False)
        out.append(dict(entry, **extra))
    return {"interface": out}


def config_entries(d: Device) -> dict:
    entries = []
    for intf in d.interfaces:
        entry = {"name": intf.name, "type": _type(intf), "enabled": True}
        if intf.ipv4:
            entry["ietf-ip:ipv4"] = {"address": [{"ip": intf.ipv4[0], "netmask": intf.ipv4[1]}]}
        entries.append(entry)
    return {"interface": entries}
