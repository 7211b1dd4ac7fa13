"""IOS XE operational models, rendered from a device's living state."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lab.model import COUNTER32, Device, iso, pick, unit
from lab.profiles import ietf_common
from lab.profiles.base import Document

if TYPE_CHECKING:
    from lab.profiles.iosxe import IosXe, Release

NATIVE = "Cisco-IOS-XE-native:native"

_MODULES = [
    ("Cisco-IOS-XE-native", "2019-11-01"), ("Cisco-IOS-XE-platform-software-oper", "2019-11-01"),
    ("Cisco-IOS-XE-device-hardware-oper", "2019-11-01"), ("Cisco-IOS-XE-platform-oper", "2019-11-01"),
    ("Cisco-IOS-XE-arp-oper", "2019-05-01"), ("Cisco-IOS-XE-cdp-oper", "2019-05-01"),
    ("Cisco-IOS-XE-lldp-oper", "2019-05-01"), ("Cisco-IOS-XE-interfaces-oper", "2019-11-01"),
    ("Cisco-IOS-XE-process-cpu-oper", "2019-05-01"), ("Cisco-IOS-XE-memory-oper", "2019-05-01"),
    ("Cisco-IOS-XE-environment-oper", "2019-05-01"), ("Cisco-IOS-XE-ntp", "2019-11-01"),
    ("Cisco-IOS-XE-snmp", "2019-11-01"), ("Cisco-IOS-XE-spanning-tree", "2019-11-01"),
    ("Cisco-IOS-XE-http", "2019-11-01"), ("Cisco-IOS-XE-switch", "2019-11-01"),
    ("Cisco-IOS-XE-ethernet", "2019-11-01"), ("Cisco-IOS-XE-restconf", "2019-11-01"),
    ("cisco-ia", "2019-07-01"), ("ietf-interfaces", "2014-05-08"), ("ietf-ip", "2014-06-16"),
    ("iana-if-type", "2014-05-08"), ("ietf-yang-library", "2016-06-21"),
    ("ietf-restconf-monitoring", "2017-01-26"), ("ietf-restconf", "2017-01-26"),
]


def modules(release: Release) -> list[tuple[str, str]]:
    mods = list(_MODULES)
    if release.train.startswith("17"):
        year = "2023-07-01" if release.train == "17.9" else "2024-03-01"
        mods = [(m, year if m.startswith("Cisco-IOS-XE") else r) for m, r in mods]
        mods[mods.index(("ietf-interfaces", "2014-05-08"))] = ("ietf-interfaces", "2018-02-20")
        mods[mods.index(("ietf-ip", "2014-06-16"))] = ("ietf-ip", "2018-02-22")
    if release.licensing:
        mods.append(("cisco-smart-license", "2021-03-01"))
    return mods


def documents(profile: IosXe, r: Release) -> dict[str, Document]:
    docs = {
        NATIVE: Document("config"),
        "Cisco-IOS-XE-platform-software-oper:cisco-platform-software": Document("state", lambda d, t: platform_software(d, t, r)),
        "Cisco-IOS-XE-device-hardware-oper:device-hardware-data": Document("state", lambda d, t: device_hardware(d, t, r)),
        "Cisco-IOS-XE-platform-oper:components": Document("state", lambda d, t: components(d, r)),
        "Cisco-IOS-XE-arp-oper:arp-data": Document("state", lambda d, t: arp(d, t, r)),
        "Cisco-IOS-XE-cdp-oper:cdp-neighbor-details": Document("state", lambda d, t: cdp(d, r)),
        "Cisco-IOS-XE-lldp-oper:lldp-entries": Document("state", lambda d, t: lldp(d), inactive=not r.lldp),
        "Cisco-IOS-XE-interfaces-oper:interfaces": Document("state", lambda d, t: interfaces_oper(d, t, r)),
        "Cisco-IOS-XE-process-cpu-oper:cpu-usage": Document("state", lambda d, t: cpu_usage(d, t)),
        "Cisco-IOS-XE-memory-oper:memory-statistics": Document("state", lambda d, t: memory_statistics(d, t, r)),
        "Cisco-IOS-XE-environment-oper:environment-sensors": Document(
            "state", lambda d, t: environment(d, t), inactive=not r.environment),
        "ietf-interfaces:interfaces-state": Document(
            "state", lambda d, t: ietf_common.interfaces_state(d, t, _admin_up(d), r.frac_digits, numbers=not r.nmda)),
    }
    if r.nmda:
        docs["ietf-interfaces:interfaces"] = Document(
            "mixed", lambda d, t: ietf_common.interfaces_nmda(d, t, r.frac_digits),
            state_members=ietf_common.INTERFACE_STATE)
    else:
        docs["ietf-interfaces:interfaces"] = Document("config")
    if r.licensing:
        docs["cisco-smart-license:licensing"] = Document("state", lambda d, t: licensing(d, t, r))
    return docs


def _admin_up(device: Device):
    native = device.config[NATIVE].get("interface", {})
    shut = {(kind, str(e.get("name"))) for kind, entries in native.items()
            for e in entries if "shutdown" in e}
    return lambda intf: (intf.kind, str(intf.number)) not in shut


def _descriptions(device: Device) -> dict[str, str]:
    out = {}
    for kind, entries in device.config[NATIVE].get("interface", {}).items():
        for e in entries:
            if e.get("description"):
                out[f"{kind}{e.get('name')}"] = e["description"]
    return out


def save_config(device: Device, _body: dict) -> dict:
    device.saved()
    return {"cisco-ia:output": {"result": "Save running config successful"}}


# ---------------------------------------------------------------- renderers
def interfaces_oper(d: Device, now: float, r: Release) -> dict:
    admin_up, descr, out = _admin_up(d), _descriptions(d), []
    for intf in d.interfaces:
        up = admin_up(intf)
        link = d.link(intf, now, up)
        c = d.counters(intf, now)
        running = link.up
        entry = {
            "name": intf.name,
            "interface-type": "iana-iftype-ethernet-csmacd" if intf.ethernet else (
                "iana-iftype-sw-loopback" if intf.kind == "Loopback" else "iana-iftype-l3ipvlan"),
            "admin-status": "if-state-up" if up else "if-state-down",
            "oper-status": "if-oper-state-ready" if running else (
                "if-oper-state-no-pass" if up else "if-oper-state-lower-layer-down"),
            "last-change": iso(link.last_change, r.frac_digits),
            "if-index": intf.ifindex,
            "phys-address": intf.mac,
            "speed": str(intf.speed),
            "statistics": {
                "discontinuity-time": iso(d.boot_time, r.frac_digits),
                "in-octets": str(c["in-octets"]),
                "in-unicast-pkts": str(c["in-unicast-pkts"]),
                "in-broadcast-pkts": str(c["in-broadcast-pkts"]),
                "in-multicast-pkts": str(c["in-multicast-pkts"]),
                "in-discards": c["in-discards"] % COUNTER32,
                "in-errors": c["in-errors"] % COUNTER32,
                "in-unknown-protos": 0,
                "out-octets": c["out-octets"] % COUNTER32,
                "out-unicast-pkts": str(c["out-unicast-pkts"]),
                "out-broadcast-pkts": str(c["out-broadcast-pkts"]),
                "out-multicast-pkts": str(c["out-multicast-pkts"]),
                "out-discards": "0", "out-errors": "0",
                "rx-pps": str(round(intf.in_pkts_per_s()) if running else 0),
                "rx-kbps": str(round(intf.in_bps / 1000) if running else 0),
                "tx-pps": str(round(intf.out_pkts_per_s()) if running else 0),
                "tx-kbps": str(round(intf.out_bps / 1000) if running else 0),
                "num-flaps": str(link.flaps),
                "in-crc-errors": str(c["in-crc-errors"]),
                "in-discards-64": str(c["in-discards"]),
                "in-errors-64": str(c["in-errors"]),
                "in-unknown-protos-64": "0",
            },
            "vrf": "Mgmt-vrf" if intf.name == "GigabitEthernet0/0" else "",
            "ipv4": intf.ipv4[0] if intf.ipv4 else "0.0.0.0",
            "ipv4-subnet-mask": intf.ipv4[1] if intf.ipv4 else "0.0.0.0",
            "mtu": intf.mtu,
            "input-security-acl": "", "output-security-acl": "",
            "bia-address": intf.mac,
        }
        if r.out_octets_64:
            entry["statistics"]["out-octets-64"] = str(c["out-octets"])
        if r.oper_description:
            entry["description"] = descr.get(intf.name, "")
        if intf.ipv6:
            entry["ipv6-addrs"] = [a for a in intf.ipv6]
        if intf.ethernet:
            entry["ether-state"] = {
                "negotiated-duplex-mode": "full-duplex" if running else "unknown-duplex",
                "negotiated-port-speed": _speed_name(intf.speed) if running else "speed-unknown",
                "auto-negotiate": True, "enable-flow-control": False}
        out.append(entry)
    return {"interface": out}


def _speed_name(speed: int) -> str:
    return {10_000_000: "speed-10mb", 100_000_000: "speed-100mb", 1_000_000_000: "speed-1gb",
            10_000_000_000: "speed-10gb"}.get(speed, "speed-unknown")


def platform_software(d: Device, now: float, r: Release) -> dict:
    cpu = d.cpu(now)["five-seconds"]
    frac = d.memory_fraction(now)
    total = r.memory_kb
    used = int(total * frac)
    cores = []
    for n in range(r.cores):
        user = max(0.0, cpu * 0.6 + 4 * (unit(d.seed, "core", n, int(now // 5)) - 0.5))
        system = cpu * 0.35
        cores.append({"name": n, "user": f"{user:.2f}", "system": f"{system:.2f}", "nice": "0.00",
                      "idle": f"{max(0.0, 100 - user - system):.2f}", "irq": "0.00",
                      "sirq": "0.10", "io-wait": "0.00"})
    status = "Healthy" if frac < 0.9 else "Warning"
    chassis = -1 if r.model == "CSR1000V" else 1
    fs_total = 6286216 if r.model == "CSR1000V" else 11353194
    fs_used = int(fs_total * (0.2 + 0.4 * unit(d.seed, "disk")))
    return {
        "control-processes": {"control-process": [{
            "fru": "fru-rp", "slot": 0, "bay": 0, "chassis": chassis,
            "control-process-status": status,
            "updated": iso(now, r.frac_digits),
            "load-average-stats": {"load-average-status": "Healthy"},
            "load-avg-minutes": {"load-avg-minute": [
                {"number": m, "average": f"{cpu / 25 * (1 + m / 10):.2f}",
                 "status": {"condition": "Healthy", "threshold-status": "Healthy",
                            "threshold-value": "8.00"}} for m in (1, 5, 15)]},
            "memory-stats": {
                "memory-status": status, "warning-threshold-percent": 90,
                "critical-threshold-percent": 95, "total": str(total), "used-number": str(used),
                "used-percent": round(frac * 100), "free-number": str(total - used),
                "free-percent": 100 - round(frac * 100),
                "available-number": str(total - used), "available-percent": 100 - round(frac * 100),
                "committed-number": str(int(used * 1.2)), "committed-percent": min(100, round(frac * 120)),
            },
            "per-core-stats": {"per-core-stat": cores},
        }]},
        "q-filesystem": [{
            "fru": "fru-rp", "slot": 0, "bay": 0, "chassis": chassis,
            "partitions": [
                {"name": "bootflash:", "total-size": str(fs_total), "used-size": str(fs_used),
                 "disk-status": "Healthy", "used-percent": round(fs_used * 100 / fs_total)},
                {"name": "harddisk:" if r.model == "CSR1000V" else "crashinfo:", "total-size": "1717936",
                 "used-size": "4096", "disk-status": "Healthy", "used-percent": 0},
            ],
            "core-files": [],
            "image-files": [
                {"image-name": "packages.conf", "image-location": "bootflash:"},
                {"image-name": f"{'csr1000v' if r.model == 'CSR1000V' else 'cat9k'}-universalk9.{r.version}.SPA.bin",
                 "image-location": "bootflash:"},
            ],
        }],
    }


def device_hardware(d: Device, now: float, r: Release) -> dict:
    pad = " " * 12
    inventory = [{"hw-type": "hw-type-chassis", "hw-dev-index": 0, "version": "V02" + pad[:3],
                  "part-number": r.model + pad, "serial-number": d.identity["serial"] + pad[:6],
                  "hw-description": r.model_description, "dev-name": "Chassis",
                  "field-replaceable": False, "hw-class": "hw-class-chassis"}]
    if r.model != "CSR1000V":
        inventory += [
            {"hw-type": "hw-type-psu", "hw-dev-index": 1, "version": "V01",
             "part-number": "PWR-C1-715WAC-P" + pad, "serial-number": "DTN" + d.identity["serial"][4:] + pad[:3],
             "hw-description": "715W AC 80+ platinum Config 1 Power Supply", "dev-name": "PS1",
             "field-replaceable": True, "hw-class": "hw-class-psu"},
            {"hw-type": "hw-type-fan", "hw-dev-index": 2, "version": "", "part-number": "FAN-T1" + pad,
             "serial-number": "", "hw-description": "Fan tray", "dev-name": "FAN1",
             "field-replaceable": True, "hw-class": "hw-class-fan"},
            {"hw-type": "hw-type-transceiver", "hw-dev-index": 3, "version": "V01",
             "part-number": "SFP-10G-SR" + pad, "serial-number": "AVD" + d.identity["serial"][5:] + pad[:2],
             "hw-description": "SFP-10GBase-SR", "dev-name": "Te1/1/1",
             "field-replaceable": True, "hw-class": "hw-class-transceiver"},
        ]
    last = d.reloads[0]["reason"] if d.reloads else "Reload Command"
    system = {
        "current-time": iso(now, 6 if r.frac_digits else 0),
        "boot-time": iso(d.boot_time, r.frac_digits),
        "software-version": (f"Cisco IOS XE Software, Version {r.version}\n{r.image}\n"
                             "Technical Support: http://www.cisco.com/techsupport\n"
                             "Copyright (c) 1986-2023 by Cisco Systems, Inc.\n"
                             "Compiled Fri 20-Oct-23 10:44 by mcpre"),
        "rommon-version": r.rommon + "  ",
        "last-reboot-reason": last,
        "reason-severity": "na",
        "unsaved-config": d.unsaved_config,
    }
    if r.reload_history:
        system["reload-history"] = {"rl-history": [
            {"rl-index": i, "reload-reason": e["reason"], "time": iso(e["time"], r.frac_digits),
             "reload-severity": "na"} for i, e in enumerate(d.reloads)]}
    return {"device-hardware": {"device-inventory": inventory, "device-system-data": system}}


def components(d: Device, r: Release) -> dict:
    return {"component": [
        {"cname": "Chassis", "state": {"type": "comp-chassis", "id": 0, "name": "Chassis",
                                       "description": r.model_description, "part-no": r.model,
                                       "serial-no": d.identity["serial"], "mfg-name": "Cisco"}},
        {"cname": "module R0", "state": {"type": "comp-lc", "id": 1, "name": "module R0",
                                         "description": "Route Processor", "part-no": r.model,
                                         "serial-no": d.identity["serial"], "mfg-name": "Cisco"}},
    ]}


def arp(d: Device, now: float, r: Release) -> dict:
    entries = []
    for i, intf in enumerate(x for x in d.interfaces if x.ipv4 and x.kind != "Loopback"):
        prefix = intf.ipv4[0].rsplit(".", 1)[0]
        entries.append({"address": intf.ipv4[0], "enctype": "ios-encaps-type-arpa", "interface": intf.name,
                        "type": "ios-linktype-ip", "mode": "ios-arp-mode-interface",
                        "hwtype": "ios-snpa-type-ieee48", "hardware": intf.mac})
        for host in range(2, 4 + i):
            entries.append({"address": f"{prefix}.{host}", "enctype": "ios-encaps-type-arpa",
                            "interface": intf.name, "type": "ios-linktype-ip",
                            "mode": "ios-arp-mode-dynamic", "hwtype": "ios-snpa-type-ieee48",
                            "hardware": f"52:54:00:{i:02x}:{host:02x}:{d.seed % 256:02x}",
                            "time": iso(now - 60 * host, r.frac_digits)})
    vrf = "Mgmt-vrf" if r.model != "CSR1000V" else ""
    mgmt = [e for e in entries if e["interface"] == "GigabitEthernet0/0"]
    rest = [e for e in entries if e["interface"] != "GigabitEthernet0/0"]
    vrfs = [{"vrf": "", "arp-oper": rest}]
    if vrf:
        vrfs.append({"vrf": vrf, "arp-oper": mgmt})
    return {"arp-vrf": vrfs}


def _neighbor_names(d: Device) -> list[str]:
    names = [f"core-{1 + d.seed % 3}.lab.johann.test", f"dist-{1 + d.seed % 5}.lab.johann.test"]
    if d.faults.get("hostile"):
        names[0] = "<svg/onload=window.__johann_xss=3>"
    return names


def cdp(d: Device, r: Release) -> dict:
    uplinks = [i for i in d.interfaces if i.kind == "TenGigabitEthernet" and i.connected] or d.interfaces[1:3]
    out = []
    for n, (intf, name) in enumerate(zip(uplinks, _neighbor_names(d), strict=False), start=1):
        out.append({"device-id": n, "device-name": name, "local-intf-name": intf.name,
                    "port-id": f"TenGigabitEthernet1/0/{10 + n}", "capability": "Router Switch IGMP",
                    "platform-name": "cisco C9500-24Y4C", "version": "Cisco IOS Software, Version 17.9.4a",
                    "duplex": "cdp-full-duplex", "advertisement-ver": 2, "hold-time": 120 + n * 7,
                    "ip-address": f"10.250.{d.seed % 250}.{n}", "mgmt-address": f"10.250.{d.seed % 250}.{n}"})
    return {"cdp-neighbor-detail": out}


def lldp(d: Device) -> dict:
    uplinks = [i for i in d.interfaces if i.kind == "TenGigabitEthernet" and i.connected]
    names = _neighbor_names(d)
    if d.faults.get("hostile"):
        names[1] = "</td><script>window.__johann_xss=4</script>"
    return {"lldp-entry": [
        {"device-id": name, "local-interface": intf.name, "connecting-interface": f"Te1/0/{10 + n}",
         "ttl": 120, "capabilities": {"router": [None], "bridge": [None]}}
        for n, (intf, name) in enumerate(zip(uplinks, names, strict=False), start=1)]}


_PROCESSES = ["Chunk Manager", "Load Meter", "Check heaps", "Pool Manager", "ARP Input",
              "CDP Protocol", "IP Input", "SNMP ENGINE", "DHCPD Receive", "IOSXE-RP Punt Service"]


def cpu_usage(d: Device, now: float) -> dict:
    cpu = d.cpu(now)
    procs = [{"pid": pid, "name": name, "tty": 0,
              "total-run-time": str(int(d.uptime(now) * unit(d.seed, "run", pid))),
              "invocation-count": int(d.uptime(now) / 10), "avg-run-time": "1",
              "five-seconds": f"{cpu['five-seconds'] * unit(d.seed, 'p', pid, int(now // 5)) / 5:.2f}",
              "one-minute": f"{cpu['one-minute'] * unit(d.seed, 'p1', pid) / 5:.2f}",
              "five-minutes": f"{cpu['five-minutes'] * unit(d.seed, 'p5', pid) / 5:.2f}"}
             for pid, name in enumerate(_PROCESSES, start=1)]
    return {"cpu-utilization": dict(cpu, **{"cpu-usage-processes": {"cpu-usage-process": procs}})}


def memory_statistics(d: Device, now: float, r: Release) -> dict:
    frac = d.memory_fraction(now)
    pools = [("Processor", r.memory_kb * 250, frac), ("reserve Processor", 102404, 0.0001),
             ("lsmpi_io", 3149400, 0.99)]
    out = []
    for name, total, used_frac in pools:
        used = int(total * used_frac)
        out.append({"name": name, "total-memory": str(total), "used-memory": str(used),
                    "free-memory": str(total - used), "lowest-usage": str(int((total - used) * 0.97)),
                    "highest-usage": str(int(total * 0.98))})
    return {"memory-statistic": out}


def sensor_readings(d: Device, now: float) -> list[dict]:
    """Every environment sensor of a Catalyst 9300, as plain values (the served document and the truth).

    A real C9300 also lists sensors without thresholds: its fans in ``rpm`` with state ``Norm`` and all four
    thresholds 0 (IOS XE's way of saying "none"), and the unused second power supply as ``Shut``, 0 W,
    thresholds 0.  A reading over a 0 threshold is no alarm there; the state says how the sensor is.
    """
    hot = bool(d.faults.get("overheat"))
    drift = 2 * (unit(d.seed, "temp", int(now // 60)) - 0.5)
    inlet = round((49 if hot else 24 + 6 * unit(d.seed, "inlet")) + drift)
    sensors = [
        ("Temp: Inlet", "celsius", inlet, (-5, 0, 46, 56)),
        ("Temp: Outlet", "celsius", inlet + 8, (-5, 0, 56, 66)),
        ("Temp: Hotspot", "celsius", inlet + 19, (-5, 0, 105, 125)),
        ("Fan 1", "revolutions-per-minute", 5400 + int(200 * drift), (0, 3000, 20000, 25000)),
        ("Fan 2", "revolutions-per-minute", 5430 + int(200 * drift), (0, 3000, 20000, 25000)),
        ("PS1 Power In", "watts", 180 + int(60 * unit(d.seed, "watts")), (0, 0, 715, 800)),
        ("PS1 Vout", "volts-DC", 56, (-1, 52, 58, 60)),
    ]
    out = []
    for name, units, reading, (lc, ln, hn, hc) in sensors:
        state = "Normal" if ln <= reading <= hn else ("Critical" if reading >= hc or reading <= lc else "Warning")
        out.append({"name": name, "state": state, "reading": reading, "units": units,
                    "thresholds": (lc, ln, hn, hc)})
    for n in (1, 2, 3):
        out.append({"name": f"FAN{n}", "state": "Norm", "reading": 5760 + 30 * n + int(150 * drift),
                    "units": "rpm", "thresholds": (0, 0, 0, 0)})
    out.append({"name": "PS2 Power In", "state": "Shut", "reading": 0, "units": "watts", "thresholds": (0, 0, 0, 0)})
    return out


def environment(d: Device, now: float) -> dict:
    return {"environment-sensor": [
        {"name": s["name"], "location": "Switch 1", "state": s["state"], "current-reading": s["reading"],
         "sensor-units": s["units"], "low-critical-threshold": s["thresholds"][0],
         "low-normal-threshold": s["thresholds"][1], "high-normal-threshold": s["thresholds"][2],
         "high-critical-threshold": s["thresholds"][3]}
        for s in sensor_readings(d, now)]}


def licensing(d: Device, now: float, r: Release) -> dict:
    level = pick(d.seed, ["network-advantage", "network-essentials"], "lic")
    day = 86400
    last = now - day * (1 + int(20 * unit(d.seed, "rum")))
    return {
        "config": {"enable": True, "privacy-info": {"hostname": False, "version": False},
                   "transport": {"transport-type": "transport-type-cslu",
                                 "transport-cslu": {"url-cslu": "http://cslu-local:8182/cslu/v1/pi"}}},
        "state": {"always-enabled": True, "smart-enabled": True, "version": "5.5.20_rel/58",
                  "state-info": {
                      "udi": {"pid": r.model, "sn": d.identity["serial"]},
                      "usage": [{"entitlement-tag": f"regid.2017-03.com.cisco.{level},1.0", "name": level,
                                 "description": f"C9300 {level.replace('-', ' ').title()}", "count": 1,
                                 "enforcement-mode": "enforcement-not-applicable", "status": "in-use"},
                                {"entitlement-tag": "regid.2017-05.com.cisco.c9300_dna_advantage,1.0",
                                 "name": "dna-advantage", "description": "C9300-48 DNA Advantage",
                                 "count": 1, "enforcement-mode": "subscription", "status": "in-use"}],
                      "policy": {"policy-type": "policy-type-cisco-default", "policy-name": "Cisco default",
                                 "reporting-ack-required": True, "unenforced-non-export-report-days": 365},
                      "transport": {"transport-type": "transport-type-cslu",
                                    "url-settings": {"url-cslu": "http://cslu-local:8182/cslu/v1/pi"}},
                      "usage-reporting": {"last-report-push": iso(last, r.frac_digits),
                                          "last-ack-received": iso(last + 600, r.frac_digits),
                                          "next-ack-deadline": iso(last + 365 * day, r.frac_digits),
                                          "next-report-push": iso(last + 30 * day, r.frac_digits),
                                          "reporting-interval": 30},
                  }},
    }
