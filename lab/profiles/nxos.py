"""A Cisco Nexus 9300 (N9K-C93180YC-FX) on NX-OS 10.3(4a), with the quirks of NX-OS's RESTCONF agent.

NX-OS follows an early RESTCONF draft (shared/VENDORS.md): the ``Accept`` header must name
``application/yang.data+json`` (or ``+xml``), else 406; replies come as ``application/yang.data+json``
named by the bare node name (``{"PhysIf-list": [...]}``); a resource the device does not have answers
204 No Content, not 404; OpenConfig objects carry ``"xmlns"`` members; only ``network-admin`` users
are let in (the lab's user is one).  It serves the native ``Cisco-NX-OS-device:System`` tree and
``openconfig-platform:components``; every other path is 204.
"""
from __future__ import annotations

from lab.model import Device, Interface, pick, unit
from lab.profiles import nxos_oper as oper
from lab.profiles.base import BASE_CAPABILITIES, Document, Profile
from lab.profiles.iosxe import HOSTILE

JSON = "application/yang.data+json"
XML = "application/yang.data+xml"
RELEASE = {"model": "N9K-C93180YC-FX", "model_description": "Nexus9000 C93180YC-FX Chassis",
           "version": "10.3(4a)", "train": "10.3", "bios": "05.47", "image": "bootflash:///nxos64-cs.10.3.4a.M.bin"}
NXOS_REVISION = "2023-08-18"   # [unconfirmed] the revision 10.3(4a) lists
MODULES = [("Cisco-NX-OS-device", NXOS_REVISION), ("openconfig-platform", "2019-04-16"),
           ("openconfig-platform-cpu", "2018-11-21"), ("openconfig-platform-fan", "2018-11-21"),
           ("openconfig-platform-psu", "2018-11-21"), ("openconfig-interfaces", "2019-11-19"),
           ("openconfig-lldp", "2018-11-21"), ("openconfig-system", "2019-03-15"),
           ("ietf-yang-library", "2016-06-21"), ("ietf-restconf-monitoring", "2017-01-26")]
NAMESPACES = {"Cisco-NX-OS-device": "http://cisco.com/ns/yang/cisco-nx-os-device"}


def _mac(seed: int, n: int) -> str:
    value = (0x003A9C << 24) | ((int(unit(seed, "nxmac") * 2 ** 24) + n) & 0xFFFFFF)
    return ":".join(f"{(value >> s) & 0xFF:02x}" for s in range(40, -8, -8))


def _traffic(seed: int, name: str, speed: int) -> dict:
    load = unit(seed, "nxload", name)
    return {"in_bps": round(speed * 0.001 * (1 + 40 * load ** 3)),
            "out_bps": round(speed * 0.0008 * (1 + 30 * unit(seed, "nxoload", name) ** 3)),
            "pkt_size": 300 + int(1100 * unit(seed, "nxpkt", name))}


def _port(seed: int, port: int) -> Interface:
    uplink = port in (49, 50)
    speed = 100_000_000_000 if port > 48 else 25_000_000_000
    connected = uplink or (port <= 48 and unit(seed, "nxconn", port) < 0.6)
    name = f"Ethernet1/{port}"
    return Interface(
        name=name, kind="Ethernet", number=f"1/{port}", ifindex=436207616 + (port - 1) * 4096,
        mac=_mac(seed, port), speed=speed if connected else 0, connected=connected, mtu=9216 if uplink else 1500,
        errors_per_s=0.05 if port == 7 else 0.0, crc_per_s=0.04 if port == 7 else 0.0,
        discards_per_s=0.3 if port == 12 else 0.0, flap_period=600.0 if port in (5, 17) else 0.0,
        ipv4=(f"10.250.{seed % 250}.{2 * (port - 49)}", "255.255.255.254") if uplink else None,
        **(_traffic(seed, name, speed) if connected else {}))


def interfaces(seed: int) -> list[Interface]:
    """mgmt0, Ethernet1/1-48 (25G SFP28), Ethernet1/49-54 (100G QSFP28; 49 and 50 routed uplinks), loopback0."""
    out = [Interface(name="mgmt0", kind="mgmt", number=0, ifindex=83886080, mac=_mac(seed, 0),
                     speed=1_000_000_000, ipv4=(f"10.99.{seed % 250}.{seed % 200 + 10}", "255.255.255.0"),
                     **_traffic(seed, "mgmt0", 10_000_000))]
    out += [_port(seed, port) for port in range(1, 55)]
    out.append(Interface(name="loopback0", kind="loopback", number=0, ifindex=335544320, mac="00:00:00:00:00:00",
                         speed=0, ethernet=False, ipv4=(f"192.0.2.{seed % 250 + 1}", "255.255.255.255"),
                         link_up_delay=5.0))
    return out


def _config(d: Device) -> dict:
    """Descriptions and shutdowns, kept in ietf-interfaces form (what lab/truth.py reads); served natively."""
    words = ["server rack 4", "esxi-07 vmnic2", "storage-a", "backup", "camera", None]
    entries = []
    for i, intf in enumerate(d.interfaces):
        entry: dict = {"name": intf.name, "enabled": True}
        if intf.kind == "mgmt":
            entry["description"] = "MANAGEMENT"
        elif intf.ipv4 and intf.kind == "Ethernet":
            entry["description"] = f"uplink to {oper.neighbor_names(d)[int(str(intf.number).split('/')[1]) - 49]}"
        elif intf.kind == "loopback":
            entry["description"] = "router-id"
        elif intf.connected:
            entry["description"] = pick(d.seed, words, "nxdescr", i)
        else:
            entry["enabled"] = unit(d.seed, "nxshut", intf.name) >= 0.3
        if intf.name == "Ethernet1/1" and d.faults.get("hostile"):
            entry["description"] = HOSTILE["description"]
        entries.append({k: v for k, v in entry.items() if v is not None})
    return {"interface": entries}


class NxOs(Profile):
    def __init__(self) -> None:
        super().__init__(name="nxos", platform="nxos", vendor="Cisco", media_type=JSON, xml_media_type=XML,
                         accept_types=(JSON, XML), missing_status=204, bare_names=True)
        self.nxos_release = RELEASE
        self.modules = list(MODULES)
        self.capabilities = [c for c in BASE_CAPABILITIES if "fields" not in c] + [
            f"{NAMESPACES.get(m, 'http://openconfig.net/yang/' + m.removeprefix('openconfig-'))}?module={m}"
            f"&revision={r}" for m, r in MODULES if not m.startswith("ietf-")]
        self.documents = {"Cisco-NX-OS-device:System": Document("state", oper.system),
                          "openconfig-platform:components": Document("state", oper.components)}

    def build(self, device: Device) -> None:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
        device.identity = {"serial": "FDO2" + "".join(pick(device.seed, alphabet, "nxserial", i) for i in range(7)),
                           "model": RELEASE["model"]}
        device.hostname = HOSTILE["hostname"] if device.faults.get("hostile") else device.name
        device.interfaces = interfaces(device.seed)
        device.config = {oper.INTERFACES: _config(device)}

    def truth(self, d: Device, now: float) -> dict:
        """What the generic truth cannot know: NX-OS's versions, CPU summary, memory, sensors, neighbours, ARP."""
        from lab.truth import interface_truth  # noqa: PLC0415 - lab.truth imports the profiles package
        summary = {k: float(v) for k, v in oper.cpu_summary(d, now).items()}
        intfs = interface_truth(d, now)
        for intf in d.interfaces:
            if intf.kind == "loopback":   # the native model has no counters, MAC, MTU or speed for loopbacks
                intfs[intf.name].update(counters=None, mac=None, mtu=None, speed=None)
        return {
            "os_version": RELEASE["train"], "os_version_full": RELEASE["version"], "bios": RELEASE["bios"],
            "last_reboot_reason": d.reloads[0]["reason"] if d.reloads else None,
            "cpu": dict(d.cpu(now), **summary, **{"five-seconds": round(100 - summary["idle"])}),
            "memory_kb": oper.memory_kb(d, now), "interfaces": intfs,
            "environment": oper.sensor_readings(d, now),
            "neighbors": _neighbor_truth(d), "arp": _arp_truth(d, now),
        }


def _neighbor_truth(d: Device) -> dict:
    pairs = list(zip(oper.uplinks(d), oper.neighbor_names(d), strict=False))
    lldp = [{"device": name, "local_interface": intf.name, "remote_interface": f"Ethernet1/{10 + n}",
             "address": oper.peer(intf)} for n, (intf, name) in enumerate(pairs, start=1)]
    return {"lldp": lldp, "cdp": [dict(e, platform="N9K-C9336C-FX2") for e in lldp]}


def _arp_truth(d: Device, now: float) -> list[dict]:
    names = {oper.short_name(i): i.name for i in d.interfaces}
    return [{"vrf": vrf, "address": e["ip"], "mac": e["mac"], "interface": names[e["ifId"]]}
            for vrf, entries in oper.arp_entries(d, now).items() for e in entries]


NXOS = NxOs()
