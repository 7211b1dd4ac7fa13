"""What a Cisco Nexus 9300 (NX-OS 10.3) serves: the native Cisco-NX-OS-device tree and OpenConfig components.

Leaf names follow the Cisco-NX-OS-device (DME) model as public sources show it (shared/VENDORS.md;
lab/README.md lists the ones no source confirmed).  Everything is a pure function of the device and
the lab clock, as for the other profiles.
"""
from __future__ import annotations

import datetime as dt

from lab.model import Device, Interface, iso, unit
from lab.profiles.iosxe import HOSTILE

INTERFACES = "ietf-interfaces:interfaces"   # the lab keeps each device's interface config in this form
MEMORY_KB = 24632224                        # "with 24632224 kB of memory" (show version of a 93180YC-FX)
SENSORS = (("FRONT", 0, 70, 80), ("BACK", -6, 42, 70), ("CPU", 8, 80, 90), ("LS1800FX", 14, 90, 110))
FANS = ("Fan1(sys_fan1)", "Fan2(sys_fan2)", "Fan3(sys_fan3)", "Fan4(sys_fan4)")
OC_PLATFORM = "http://openconfig.net/yang/platform"


def short_name(intf: Interface) -> str:
    """The DME id of an interface: ``eth1/1``, ``mgmt0``, ``lo0``."""
    return {"Ethernet": "eth", "loopback": "lo"}.get(intf.kind, "") + str(intf.number) \
        if intf.kind != "mgmt" else intf.name


def uptime_text(seconds: float) -> str:
    """``days:hh:mm:ss.mmm``, as DME's ``systemUpTime``."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days}:{hours:02d}:{minutes:02d}:{secs:02d}.{int((seconds - whole) * 1000):03d}"


def mac_text(mac: str) -> str:
    return mac.upper()


def configured(d: Device) -> dict[str, dict]:
    return {e["name"]: e for e in d.config.get(INTERFACES, {}).get("interface", [])}


# ---------------------------------------------------------------- interfaces
def _speed_text(bps: int) -> str:
    return f"{bps // 10 ** 9}G" if bps >= 10 ** 9 else f"{bps // 10 ** 6}M"


def _counters(d: Device, intf: Interface, now: float) -> dict:
    c = d.counters(intf, now)

    def side(way: str) -> dict:
        multicast, broadcast = c[f"{way}-multicast-pkts"], c[f"{way}-broadcast-pkts"]
        bps = intf.in_bps if way == "in" else intf.out_bps
        pps = intf.in_pkts_per_s() if way == "in" else intf.out_pkts_per_s()
        out = {"octets": str(c[f"{way}-octets"]), "ucastPkts": str(c[f"{way}-unicast-pkts"]),
               "nUcastPkts": str(multicast + broadcast), "broadcastPkts": str(broadcast),
               "multicastPkts": str(multicast), "discards": str(c[f"{way}-discards"]),
               "errors": str(c[f"{way}-errors"]), "rateInterval": 300, "octetRate": str(int(bps / 8)),
               "packetRate": str(int(pps))}
        if way == "in":
            out["unknownProtos"] = str(c["in-unknown-protos"])
        return out

    return {"dbgIfIn-items": side("in"), "dbgIfOut-items": side("out"),
            "dbgDot3Stats-items": {"fCSErrors": str(c["in-crc-errors"]), "alignmentErrors": "0"}}


def _oper(d: Device, intf: Interface, now: float, admin_up: bool) -> dict:
    link = d.link(intf, now, admin_up)
    return {"operSt": "up" if link.up else "down",
            "operStQual": "none" if link.up else ("admin-down" if not admin_up else "link-not-connected"),
            "operSpeed": _speed_text(intf.speed) if intf.speed and intf.connected else "auto",
            "operDuplex": "full" if intf.connected else "auto", "operMtu": intf.mtu,
            "backplaneMac": mac_text(intf.mac), "operRouterMac": mac_text(intf.mac),
            "lastLinkStChg": iso(link.last_change, 3), "resetCtr": link.flaps}


def _entry(d: Device, intf: Interface, now: float, oper_name: str, config: dict) -> dict:
    admin_up = config.get("enabled", True)
    entry = {"id": short_name(intf), "descr": config.get("description") or "", "adminSt": "up" if admin_up else "down",
             "mtu": intf.mtu, "speed": "auto"}
    if intf.kind == "Ethernet":
        entry.update({"layer": "Layer3" if intf.ipv4 else "Layer2", "mode": "access"})
    entry[oper_name] = _oper(d, intf, now, admin_up)
    return dict(entry, **_counters(d, intf, now))


def _loopback(d: Device, intf: Interface, now: float, config: dict) -> dict:
    admin_up = config.get("enabled", True)
    return {"id": short_name(intf), "descr": config.get("description") or "", "adminSt": "up" if admin_up else "down",
            "lbrtdif-items": {"operSt": "up" if d.link(intf, now, admin_up).up else "down"}}


def interface_items(d: Device, now: float) -> tuple[dict, dict]:
    """``intf-items`` (Ethernet ports and loopbacks) and ``mgmt-items`` (mgmt0)."""
    config = configured(d)
    phys, loopbacks, mgmt = [], [], []
    for intf in d.interfaces:
        own = config.get(intf.name, {})
        if intf.kind == "Ethernet":
            phys.append(_entry(d, intf, now, "phys-items", own))
        elif intf.kind == "mgmt":
            mgmt.append(_entry(d, intf, now, "mgmt-items", own))
        else:
            loopbacks.append(_loopback(d, intf, now, own))
    return {"phys-items": {"PhysIf-list": phys}, "lb-items": {"LbRtdIf-list": loopbacks}}, {"MgmtIf-list": mgmt}


def ipv4_items(d: Device) -> dict:
    doms: dict[str, list] = {}
    for intf in d.interfaces:
        if intf.ipv4:
            vrf = "management" if intf.kind == "mgmt" else "default"
            length = sum(bin(int(part)).count("1") for part in intf.ipv4[1].split("."))
            doms.setdefault(vrf, []).append({"id": short_name(intf), "addr-items": {"Addr-list": [
                {"addr": f"{intf.ipv4[0]}/{length}", "type": "primary", "tag": "0"}]}})
    return {"inst-items": {"adminSt": "enabled", "dom-items": {"Dom-list": [
        {"name": vrf, "if-items": {"If-list": entries}} for vrf, entries in doms.items()]}}}


# ---------------------------------------------------------------- cpu, memory, sensors
def cpu_summary(d: Device, now: float) -> dict[str, str]:
    """user/kernel/idle in percent, two decimals, adding up to 100 (truth and reply alike)."""
    total = round(d.cpu_at(now), 2)
    user = round(total * 0.62, 2)
    kernel = round(total - user, 2)
    return {"user": f"{user:.2f}", "kernel": f"{kernel:.2f}", "idle": f"{100 - user - kernel:.2f}"}


def memory_kb(d: Device, now: float) -> dict[str, int]:
    used = int(MEMORY_KB * d.memory_fraction(now))
    return {"total": MEMORY_KB, "used": used, "free": MEMORY_KB - used}


def sensor_readings(d: Device, now: float) -> list[dict]:
    """Temperatures (native sensors), fans and power supplies (OpenConfig), as plain values."""
    hot = 45 if d.faults.get("overheat") else 0
    drift = 2 * (unit(d.seed, "nxtemp", int(now // 60)) - 0.5)
    base = 27 + 5 * unit(d.seed, "nxinlet")
    out = []
    for name, offset, minor, major in SENSORS:
        reading = round(base + offset + drift) + hot
        state = "normal" if reading < minor else ("minor" if reading < major else "major")
        out.append({"name": name, "location": "module 1", "state": state, "reading": reading, "units": "celsius",
                    "thresholds": {"low_critical": None, "low_normal": None, "high_normal": minor,
                                   "high_critical": major}})
    for n, name in enumerate(FANS):
        out.append({"name": name, "location": "chassis", "state": "ACTIVE", "units": "rpm",
                    "reading": 6000 + 60 * n + int(300 * drift) + (2400 if hot else 0), "thresholds": None})
    watts = round(170 + 40 * unit(d.seed, "nxwatts") + 10 * drift, 2)
    out.append({"name": "PowerSupply-1", "location": "chassis", "state": "ACTIVE", "units": "watts",
                "reading": watts, "thresholds": None})
    out.append({"name": "PowerSupply-2", "location": "chassis", "state": "INACTIVE", "units": "watts",
                "reading": 0.0, "thresholds": None})
    return out


def _native_sensors(readings: list[dict]) -> dict:
    sensors = [{"id": n, "descr": s["name"], "tempValue": str(s["reading"]), "minorThresh": s["thresholds"]["high_normal"],
                "majorThresh": s["thresholds"]["high_critical"], "operSt": s["state"]}
               for n, s in enumerate((r for r in readings if r["units"] == "celsius"), start=1)]
    return {"SupCSlot-list": [{"id": 1, "sensor-items": {"Sensor-list": sensors}}]}


# ---------------------------------------------------------------- neighbours, arp
def neighbor_names(d: Device) -> list[str]:
    names = [f"spine-{1 + d.seed % 3}.lab.johann.test", f"spine-{4 + d.seed % 3}.lab.johann.test"]
    if d.faults.get("hostile"):
        names = [HOSTILE["neighbor"], HOSTILE["lldp"]]
    return names


def uplinks(d: Device) -> list[Interface]:
    return [i for i in d.interfaces if i.kind == "Ethernet" and i.ipv4]


def peer(intf: Interface) -> str:
    """The neighbour's address on a /31 uplink."""
    head, last = intf.ipv4[0].rsplit(".", 1)
    return f"{head}.{int(last) ^ 1}"


def lldp_items(d: Device) -> dict:
    names, links = neighbor_names(d), uplinks(d)
    entries = [{"id": short_name(i), "adminRxSt": "enabled", "adminTxSt": "enabled"}
               for i in d.interfaces if i.kind == "Ethernet"]
    by_id = {e["id"]: e for e in entries}
    for n, (intf, name) in enumerate(zip(links, names, strict=False), start=1):
        by_id[short_name(intf)]["adj-items"] = {"AdjEp-list": [{
            "id": 1, "sysName": name, "chassisIdT": "mac", "chassisIdV": f"00c1.64{n:02x}.0001",
            "portIdT": "if-name", "portIdV": f"Ethernet1/{10 + n}", "portDesc": f"to {d.hostname}",
            "sysDesc": "Cisco Nexus Operating System (NX-OS) Software 10.3(4a)", "mgmtIp": peer(intf),
            "capability": "bridge,router", "enCap": "bridge,router", "ttl": 120}]}
    return {"inst-items": {"adminSt": "enabled", "if-items": {"If-list": entries}}}


def cdp_items(d: Device) -> dict:
    names, links = neighbor_names(d), uplinks(d)
    entries = []
    for n, (intf, name) in enumerate(zip(links, names, strict=False), start=1):
        entries.append({"id": short_name(intf), "adminSt": "enabled", "adj-items": {"AdjEp-list": [{
            "index": 1, "devId": f"{name}(FDO2{d.seed % 10000:04d}{n})", "sysName": name,
            "portId": f"Ethernet1/{10 + n}", "platId": "N9K-C9336C-FX2", "cap": "router,switch,IGMP-filtering",
            "ver": "Cisco Nexus Operating System (NX-OS) Software, Version 10.3(4a)", "duplex": "full",
            "mtu": 9216, "nativeVlan": 1, "mgmtaddr-items": {"MgmtAddr-list": [{"addr": peer(intf)}]}}]}})
    return {"inst-items": {"adminSt": "enabled", "if-items": {"If-list": entries}}}


def arp_entries(d: Device, now: float) -> dict[str, list[dict]]:
    """VRF → ARP adjacencies: each uplink's peer, and hosts on the management network."""
    doms: dict[str, list[dict]] = {"default": [], "management": []}
    for n, intf in enumerate(i for i in d.interfaces if i.ipv4 and i.kind != "loopback"):
        if intf.kind == "mgmt":
            head = intf.ipv4[0].rsplit(".", 1)[0]
            peers = [f"{head}.{h}" for h in (1, 2, 3)]
            vrf = "management"
        else:
            peers, vrf = [peer(intf)], "default"
        for h, ip in enumerate(peers):
            doms[vrf].append({"ip": ip, "mac": f"52:54:00:{n:02x}:{h:02x}:{d.seed % 256:02x}",
                              "ifId": short_name(intf), "physIfId": short_name(intf), "operSt": "up",
                              "upTS": iso(now - 60 * (h + 1), 3)})
    return doms


def _arp_items(d: Device, now: float) -> dict:
    return {"inst-items": {"adminSt": "enabled", "dom-items": {"Dom-list": [
        {"name": vrf, "db-items": {"Db-list": [{"type": "ip", "adj-items": {"AdjEp-list": entries}}]}}
        for vrf, entries in arp_entries(d, now).items()]}}}


# ---------------------------------------------------------------- documents
def system(d: Device, now: float) -> dict:
    """``Cisco-NX-OS-device:System``: everything the lab models of the native tree."""
    release = d.profile.nxos_release
    intf_items, mgmt_items = interface_items(d, now)
    cpu, mem = cpu_summary(d, now), memory_kb(d, now)
    last = d.reloads[0]["reason"] if d.reloads else "Reset Requested by CLI command reload"
    return {
        "name": d.hostname, "serial": d.identity["serial"], "systemUpTime": uptime_text(d.uptime(now)),
        "currentTime": iso(now, 3),
        "ch-items": {"model": release["model"], "descr": release["model_description"], "vendor": "Cisco Systems, Inc.",
                     "ser": d.identity["serial"], "supslot-items": _native_sensors(sensor_readings(d, now))},
        "showversion-items": {"nxosVersion": release["version"], "biosVersion": release["bios"],
                              "nxosImageFile": release["image"], "hostName": d.hostname,
                              "procBoardId": d.identity["serial"], "lastResetReason": last,
                              "kernelUptime": _kernel_uptime(d.uptime(now))},
        "procsys-items": {"syscpusummary-items": cpu,
                          "sysmem-items": {k: str(v) for k, v in mem.items()} | {"memstatus": "OK"}},
        "intf-items": intf_items, "mgmt-items": mgmt_items, "ipv4-items": ipv4_items(d),
        "lldp-items": lldp_items(d), "cdp-items": cdp_items(d), "arp-items": _arp_items(d, now),
    }


def _kernel_uptime(seconds: float) -> str:
    td = dt.timedelta(seconds=int(seconds))
    hours, rest = divmod(td.seconds, 3600)
    return f"{td.days} day(s), {hours} hour(s), {rest // 60} minute(s), {rest % 60} second(s)"


def components(d: Device, now: float) -> dict:
    """``openconfig-platform:components`` as NX-OS serves it: bare names, ``xmlns`` members in the objects."""
    release = d.profile.nxos_release
    out = [{"name": "chassis", "state": {"name": "chassis", "type": "CHASSIS", "oper-status": "ACTIVE",
                                         "part-no": release["model"], "serial-no": d.identity["serial"],
                                         "description": release["model_description"]}},
           {"name": "cpu0", "cpu": {"utilization": {"xmlns": f"{OC_PLATFORM}/cpu", "state": {
               "instant": round(d.cpu_at(now)), "avg": d.cpu(now)["one-minute"], "min": 0, "max": 100}}}}]
    for s in sensor_readings(d, now):
        if s["units"] == "rpm":
            out.append({"name": s["name"], "state": {"name": s["name"], "type": "FAN", "oper-status": s["state"],
                                                     "part-no": "NXA-FAN-30CFM-B"},
                        "fan": {"xmlns": f"{OC_PLATFORM}/fan", "state": {"speed": s["reading"]}}})
        elif s["units"] == "watts":
            out.append({"name": s["name"], "state": {"name": s["name"], "type": "POWER_SUPPLY",
                                                     "oper-status": s["state"], "part-no": "NXA-PAC-650W-PE"},
                        "power-supply": {"xmlns": f"{OC_PLATFORM}/psu", "state": {
                            "enabled": s["state"] == "ACTIVE", "output-power": f"{s['reading']:.2f}"}}})
    return {"xmlns": OC_PLATFORM, "component": out}
