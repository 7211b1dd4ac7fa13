# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Interfaces of every platform → one normalised shape.

Statuses become ``up``/``down``/``testing`` (admin) and ``up``/``down``/
``lower_layer_down``/``not_present``/``dormant``/``testing``/``unknown``
(oper); counters become integers, with the width of each counter recorded
so rates can handle 32-bit wraps; unknown values stay ``None``.
"""
from __future__ import annotations

import datetime as dt

from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import (
    as_list,
    ipv4_entry,
    iso,
    member,
    parse_time,
    text,
    to_int,
)

IOSXE_ADMIN = {"if-state-up": "up", "if-state-down": "down", "if-state-test": "testing"}
IOSXE_OPER = {"if-oper-state-ready": "up", "if-oper-state-no-pass": "down",
              "if-oper-state-lower-layer-down": "lower_layer_down", "if-oper-state-not-present": "not_present",
              "if-oper-state-dormant": "dormant", "if-oper-state-test": "testing", "if-oper-state-invalid": "unknown"}
IETF_OPER = {"up": "up", "down": "down", "testing": "testing", "unknown": "unknown", "dormant": "dormant",
             "not-present": "not_present", "lower-layer-down": "lower_layer_down"}
DUPLEX = {"full-duplex": "full", "half-duplex": "half", "auto-duplex": "auto"}
TYPES = {"ethernet-csmacd": "ethernet", "ethernetcsmacd": "ethernet", "sw-loopback": "loopback",
         "softwareloopback": "loopback", "l3ipvlan": "vlan", "ieee8023adlag": "lag", "tunnel": "tunnel",
         "propvirtual": "virtual"}
COUNTERS = ("in-octets", "in-unicast-pkts", "in-broadcast-pkts", "in-multicast-pkts", "in-discards", "in-errors",
            "in-unknown-protos", "out-octets", "out-unicast-pkts", "out-broadcast-pkts", "out-multicast-pkts",
            "out-discards", "out-errors")
# ietf-interfaces counter widths (RFC 8343): discards, errors and unknown-protos are counter32
IETF_WIDTHS = {c: 32 if c.split("-", 1)[1] in ("discards", "errors", "unknown-protos") else 64 for c in COUNTERS}


def kind(value) -> str | None:
    raw = (text(value) or "").rsplit(":", 1)[-1].replace("iana-iftype-", "").lower()
    return TYPES.get(raw, raw or None)


def _ago(moment: dt.datetime | None, now: dt.datetime | None) -> int | None:
    if moment is None or now is None:
        return None
    return max(0, int((now - moment).total_seconds()))


def _snake(name: str) -> str:
    return name.replace("-", "_")


# IOS XE's counters: (leaf, its 64-bit twin, the record's name, 32 bits wide when the twin is absent)
_IOSXE_COUNTERS = tuple((name, name + "-64", _snake(name),
                         name in ("out-octets", "in-discards", "in-errors", "in-unknown-protos"))
                        for name in COUNTERS + ("in-crc-errors",))


def _iosxe_counters(stats: dict) -> tuple[dict, dict]:
    """Prefer the 64-bit twins IOS XE adds (``out-octets-64``, ``in-errors-64``...)."""
    counters, widths = {}, {}
    get = stats.get
    for name, twin, key, narrow in _IOSXE_COUNTERS:
        wide = get(twin)
        value = wide if wide is not None else get(name)
        counters[key] = to_int(value)
        if value is not None:
            widths[key] = 32 if (narrow and wide is None) else 64
    return counters, widths


def iosxe_interface(entry: dict, now: dt.datetime | None) -> dict:
    stats = entry.get("statistics") or {}
    counters, widths = _iosxe_counters(stats)
    changed = parse_time(entry.get("last-change"))
    ether = entry.get("ether-state") or {}
    speed = to_int(entry.get("speed"))
    ipv4 = ipv4_entry(entry.get("ipv4"), entry.get("ipv4-subnet-mask"))
    kbps_in, kbps_out = to_int(stats.get("rx-kbps")), to_int(stats.get("tx-kbps"))
    return {
        "name": text(entry.get("name")), "description": text(entry.get("description")),
        "type": kind(entry.get("interface-type")),
        "admin_status": IOSXE_ADMIN.get(entry.get("admin-status")),
        "oper_status": IOSXE_OPER.get(entry.get("oper-status"), "unknown" if entry.get("oper-status") else None),
        "mtu": to_int(entry.get("mtu")), "speed": speed if speed else None,
        "duplex": DUPLEX.get(ether.get("negotiated-duplex-mode")),
        "mac": (text(entry.get("phys-address")) or "").lower() or None,
        "vrf": text(entry.get("vrf")),
        "ipv4": [ipv4] if ipv4 else [],
        "ipv6": [text(a) for a in as_list(entry.get("ipv6-addrs")) if text(a)],
        "last_change": iso(changed), "last_change_seconds_ago": _ago(changed, now),
        "counters": counters, "counter_widths": widths,
        "flaps": to_int(stats.get("num-flaps")),
        "rates": {"in_bps": kbps_in * 1000 if kbps_in is not None else None,
                  "out_bps": kbps_out * 1000 if kbps_out is not None else None,
                  "in_pps": to_int(stats.get("rx-pps")), "out_pps": to_int(stats.get("tx-pps"))},
        "discontinuity_time": iso(parse_time(stats.get("discontinuity-time"))),
    }


def ietf_interface(entry: dict, config: dict | None, now: dt.datetime | None) -> dict:
    """An ietf-interfaces entry (NMDA, or legacy state merged with its config entry)."""
    config = config or {}
    stats = entry.get("statistics") or {}
    changed = parse_time(entry.get("last-change"))
    ipv4 = member(config, "ipv4") or member(entry, "ipv4") or {}
    ipv6 = member(config, "ipv6") or member(entry, "ipv6") or {}
    addresses = [ipv4_entry(a.get("ip"), a.get("netmask"), a.get("prefix-length")) for a in as_list(ipv4.get("address"))]
    speed = to_int(entry.get("speed"))
    admin = text(entry.get("admin-status"))
    if admin is None and isinstance(config.get("enabled"), bool):
        admin = "up" if config["enabled"] else "down"
    counters = {_snake(c): to_int(stats.get(c)) for c in COUNTERS}
    return {
        "name": text(entry.get("name")),
        "description": text(config.get("description")) or text(entry.get("description")),
        "type": kind(entry.get("type") or config.get("type")),
        "admin_status": admin if admin in ("up", "down", "testing") else None,
        "oper_status": IETF_OPER.get(entry.get("oper-status"), "unknown" if entry.get("oper-status") else None),
        "mtu": None, "speed": speed if speed else None, "duplex": None,
        "mac": (text(entry.get("phys-address")) or "").lower() or None, "vrf": None,
        "ipv4": [a for a in addresses if a],
        "ipv6": [text(a.get("ip")) for a in as_list(ipv6.get("address")) if text(a.get("ip"))],
        "last_change": iso(changed), "last_change_seconds_ago": _ago(changed, now),
        "counters": dict(counters, in_crc_errors=None),
        "counter_widths": {_snake(c): w for c, w in IETF_WIDTHS.items() if stats.get(c) is not None},
        "flaps": None,
        "rates": {"in_bps": None, "out_bps": None, "in_pps": None, "out_pps": None},
        "discontinuity_time": iso(parse_time(stats.get("discontinuity-time"))),
    }
