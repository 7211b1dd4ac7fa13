"""Ground truth: what a device is, in plain values, for tests to compare against."""
from __future__ import annotations

from lab.model import Device, iso
from lab.profiles.iosxe_oper import sensor_readings

INTERFACES = "ietf-interfaces:interfaces"


def _interface_config(d: Device) -> dict[str, dict]:
    """Per interface its ``enabled`` and ``description``: ietf-interfaces, or the profile's own (EOS: OpenConfig)."""
    own = getattr(d.profile, "interface_config", None)
    if own:
        return own(d)
    return {e["name"]: e for e in d.config.get(INTERFACES, {}).get("interface", [])}


def interface_truth(d: Device, now: float) -> dict[str, dict]:
    config = _interface_config(d)
    out = {}
    for intf in d.interfaces:
        entry = config.get(intf.name, {})
        admin_up = entry.get("enabled", True)
        link = d.link(intf, now, admin_up)
        out[intf.name] = {
            "admin_up": admin_up, "oper_up": link.up, "last_change": iso(link.last_change, 3),
            "last_change_epoch": link.last_change, "flaps": link.flaps,
            "description": entry.get("description"), "speed": intf.speed, "mtu": intf.mtu,
            "mac": intf.mac, "ifindex": intf.ifindex,
            "ipv4": list(intf.ipv4) if intf.ipv4 else None, "ipv6": list(intf.ipv6),
            "counters": d.counters(intf, now),
            "rates": {
                "in_bps": intf.in_bps, "out_bps": intf.out_bps,
                "in_octets_per_s": intf.in_bps / 8, "out_octets_per_s": intf.out_bps / 8,
                "in_pkts_per_s": intf.in_pkts_per_s(), "out_pkts_per_s": intf.out_pkts_per_s(),
                "in_errors_per_s": intf.errors_per_s, "in_crc_errors_per_s": intf.crc_per_s,
                "in_discards_per_s": intf.discards_per_s,
            },
            "flap_period": intf.flap_period,
        }
    return out


def environment_truth(d: Device, now: float) -> list[dict] | None:
    """IOS XE environment sensors as the device means them: all-zero thresholds are none (each None)."""
    release = getattr(d.profile, "release", None)
    if release is None or not release.environment:
        return None
    names = ("low_critical", "low_normal", "high_normal", "high_critical")
    return [{"name": s["name"], "location": "Switch 1", "state": s["state"], "reading": s["reading"],
             "units": s["units"],
             "thresholds": dict(zip(names, s["thresholds"] if any(s["thresholds"]) else (None,) * 4, strict=True))}
            for s in sensor_readings(d, now)]


def device_truth(d: Device, now: float) -> dict:
    p = d.profile
    release = getattr(p, "release", None)
    own = getattr(p, "truth", None)   # a profile's own values over the generic ones (NX-OS: versions, sensors...)
    return {
        "name": d.name, "profile": p.name, "platform": p.platform, "vendor": p.vendor,
        "address": d.address, "port": d.port, "dns_name": d.dns_name,
        "hostname": d.hostname, "serial": d.identity.get("serial"), "model": d.identity.get("model"),
        "os_version": release.train if release else "4.2.1",
        "os_version_full": release.version if release else "4.2.1-build.2207 (stable)",
        "now": now, "now_iso": iso(now, 3),
        "boot_time": d.boot_time, "boot_time_iso": iso(d.boot_time, 3), "uptime": d.uptime(now),
        "reloads": [{"time": r["time"], "reason": r["reason"]} for r in d.reloads],
        "unsaved_config": d.unsaved_config, "restconf_enabled": p.restconf_enabled(d), "ssh_port": d.ssh_port,
        "cpu": d.cpu(now), "memory_used_fraction": d.memory_fraction(now),
        "interfaces": interface_truth(d, now),
        "environment": environment_truth(d, now),
        "faults": {k: v for k, v in d.faults.items()},
        "modules": [{"name": n, "revision": r} for n, r in p.modules],
        "documents": sorted(p.documents),
        "inactive": sorted(k for k, v in p.documents.items() if v.inactive),
        "config": d.config,
        **(own(d, now) if own else {}),
    }
