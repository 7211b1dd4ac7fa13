"""Arista EOS over RESTCONF: a DCS-7050SX3-48YC8 on EOS 4.30, speaking OpenConfig (the ``eos`` profile).

What differs from the other profiles, as on real EOS (../shared/VENDORS.md): port 6020; reply media type
``application/yang.data+json``; a GET of a container or list entry answers the node's children, each
module-qualified (``{"openconfig-interfaces:admin-status": "UP", ...}``), not the node itself; no
``/.well-known/host-meta``; uint64 leaves as strings; ``last-change`` and ``boot-time`` in nanoseconds since
the epoch; Arista augments beside standard leaves. The living data are in ``openconfig_oper``.
"""
from __future__ import annotations

from lab.model import Device, Interface, pick, unit
from lab.profiles import openconfig_oper as oper
from lab.profiles.base import (
    Document,
    Profile,
    check_bool,
    check_string,
    expect_dict,
    expect_list,
    invalid,
    is_hostname,
)
from lab.profiles.iosxe import HOSTILE, _traffic

MODEL = "DCS-7050SX3-48YC8"
MODULES = [
    ("openconfig-interfaces", "2021-04-06"), ("openconfig-if-ethernet", "2021-07-07"),
    ("openconfig-if-ip", "2019-01-08"), ("openconfig-if-aggregate", "2020-05-01"), ("openconfig-vlan", "2019-04-16"),
    ("openconfig-platform", "2021-01-18"), ("openconfig-platform-cpu", "2018-11-21"),
    ("openconfig-platform-fan", "2018-11-21"), ("openconfig-platform-psu", "2018-11-21"),
    ("openconfig-platform-port", "2021-04-22"), ("openconfig-platform-types", "2021-01-18"),
    ("openconfig-system", "2020-04-13"), ("openconfig-lldp", "2018-11-21"), ("openconfig-lldp-types", "2018-11-21"),
    ("openconfig-alarm-types", "2018-11-21"), ("openconfig-types", "2019-04-16"),
    ("openconfig-yang-types", "2021-03-02"), ("openconfig-inet-types", "2021-01-07"), ("iana-if-type", "2017-01-19"),
    ("arista-intf-augments", "2022-10-24"), ("arista-system-augments", "2022-11-03"),
    ("arista-lldp-augments", "2022-08-22"), ("ietf-yang-library", "2016-06-21"),
    ("ietf-restconf-monitoring", "2017-01-26"), ("ietf-restconf", "2017-01-26"),
]
EOS_MEDIA_TYPE = "application/yang.data+json"


def _mac(seed: int, n: int) -> str:
    base = int(unit(seed, "eos-mac") * 2 ** 24)
    value = (0x444CA8 << 24) | ((base + n) & 0xFFFFFF)
    return ":".join(f"{(value >> s) & 0xFF:02x}" for s in range(40, -8, -8))


def _front_port(seed: int, port: int) -> Interface:
    name = f"Ethernet{port}"
    connected = unit(seed, "eos-conn", port) < 0.6
    speed = 25_000_000_000 if unit(seed, "eos-speed", port) < 0.7 else 10_000_000_000
    return Interface(
        name=name, kind="Ethernet", number=port, ifindex=port, mac=_mac(seed, port), speed=speed, mtu=0,
        connected=connected, errors_per_s=0.05 if port == 7 else 0.0, crc_per_s=0.04 if port == 7 else 0.0,
        discards_per_s=0.3 if port == 12 else 0.0, flap_period=600.0 if port in (5, 17) else 0.0,
        **(_traffic(seed, name, speed) if connected else {}))


def _qsfp_port(seed: int, port: int) -> Interface:
    uplink = port <= 50
    return Interface(
        name=f"Ethernet{port}/1", kind="Ethernet", number=f"{port}/1", ifindex=port * 1000 + 1, mac=_mac(seed, port),
        speed=100_000_000_000, mtu=9214 if uplink else 0, connected=uplink,
        ipv4=(f"10.255.{seed % 250}.{2 * (port - 49)}", "255.255.255.254") if uplink else None,
        **({"in_bps": 9e9 + 6e9 * unit(seed, "eos-up", port), "out_bps": 7e9, "pkt_size": 1100} if uplink else {}))


def eos_interfaces(seed: int) -> list[Interface]:
    """48 SFP28 ports, 8 QSFP100 ports (the first lane of each; two routed uplinks), Management1, Loopback0."""
    out = [_front_port(seed, port) for port in range(1, 49)] + [_qsfp_port(seed, port) for port in range(49, 57)]
    out.append(Interface(name="Management1", kind="Management", number=1, ifindex=999001, mac=_mac(seed, 0),
                         speed=1_000_000_000, mtu=1500, ipv4=(f"10.99.{seed % 250}.{seed % 200 + 10}", "255.255.255.0"),
                         **_traffic(seed, "mgmt", 100_000_000)))
    out.append(Interface(name="Loopback0", kind="Loopback", number=0, ifindex=5000000, mac=None, speed=0, mtu=65535,
                         ethernet=False, ipv4=(f"192.0.2.{seed % 250 + 1}", "255.255.255.255"),
                         ipv6=(f"2001:db8:{seed % 9999:x}::1",), link_up_delay=5.0))
    return out


def _description(seed: int, intf: Interface) -> str:
    if intf.name == "Management1":
        return "oob_management"
    if intf.kind == "Loopback":
        return "ROUTER_ID"
    if intf.ipv4 and intf.kind == "Ethernet":
        return f"P2P_LINK_TO_SPINE{intf.ifindex // 1000 - 48}_Ethernet{1 + seed % 32}/1"
    words = ["SERVER_esx-01_vmnic0", "SERVER_db-2_eth1", "STORAGE_nas-1", "rack 4 patch 12", ""]
    return pick(seed, words, "eos-descr", intf.name) if intf.connected else ""


def _subinterfaces(intf: Interface) -> dict:
    sub: dict = {"index": 0, "config": {"index": 0, "enabled": True}}
    if intf.ipv4:
        address, mask = intf.ipv4
        sub["openconfig-if-ip:ipv4"] = {"config": {"enabled": True}, "addresses": {"address": [
            {"ip": address, "config": {"ip": address, "prefix-length": oper.prefix_length(mask)}}]}}
    if intf.ipv6:
        sub["openconfig-if-ip:ipv6"] = {"config": {"enabled": True}, "addresses": {"address": [
            {"ip": a, "config": {"ip": a, "prefix-length": 128}} for a in intf.ipv6]}}
    return {"subinterface": [sub]}


def _interface_config(seed: int, intf: Interface, hostile: bool) -> dict:
    description = HOSTILE["description"] if hostile and intf.name == "Ethernet1" else _description(seed, intf)
    kind = "iana-if-type:ethernetCsmacd" if intf.ethernet else "iana-if-type:softwareLoopback"
    shut = intf.kind == "Ethernet" and not intf.connected and unit(seed, "eos-shut", intf.name) < 0.3
    config = {"name": intf.name, "type": kind, "enabled": not shut, "description": description,
              "mtu": intf.mtu if intf.mtu not in (1500, 65535) else 0, "loopback-mode": False,
              "arista-intf-augments:load-interval": 300, "openconfig-vlan:tpid": "openconfig-vlan-types:TPID_0X8100"}
    entry = {"name": intf.name, "config": config}
    if intf.ipv4 or intf.ipv6:
        entry["subinterfaces"] = _subinterfaces(intf)
    return entry


def _users(seed: int) -> dict:
    roles = (("admin", "network-admin"), ("netops", "network-admin"), ("readonly", "network-operator"))
    return {"user": [{"username": name, "config": {
        "username": name, "role": role, "password-hashed": f"$6$lab${int(unit(seed, 'eos-pw', name) * 1e12):x}"}}
        for name, role in roles]}


def _system_config(device: Device) -> dict:
    return {"config": {"hostname": device.hostname, "domain-name": "lab.johann.test"},
            "aaa": {"authentication": {"config": {"authentication-method": ["openconfig-aaa-types:LOCAL"]},
                                       "users": _users(device.seed)}},
            "clock": {"config": {"timezone-name": "UTC"}},
            "dns": {"config": {"search": ["lab.johann.test"]}, "servers": {"server": [
                {"address": "10.0.0.53", "config": {"address": "10.0.0.53", "port": 53}}]}},
            "ntp": {"config": {"enabled": True}, "servers": {"server": [
                {"address": "10.0.0.123", "config": {"address": "10.0.0.123", "iburst": True}}]}}}


class Eos(Profile):
    """Arista EOS 4.30 on a 7050SX3: OpenConfig system, platform, interfaces and LLDP."""

    def __init__(self) -> None:
        super().__init__(name="eos", platform="openconfig", vendor="Arista", media_type=EOS_MEDIA_TYPE,
                         reply_children=True, host_meta=False, port=6020)
        self.modules = list(MODULES)
        self.documents = {
            oper.SYSTEM: Document("mixed", oper.system, state_members=frozenset({"state", "cpus"})),
            oper.COMPONENTS: Document("state", oper.components),
            oper.INTERFACES: Document("mixed", oper.interfaces, state_members=frozenset({"state", "neighbors"})),
            oper.LLDP: Document("state", oper.lldp),
        }

    def build(self, device: Device) -> None:
        device.identity = {"serial": "JPE" + f"{int(unit(device.seed, 'eos-serial') * 1e8):08d}", "model": MODEL}
        hostile = bool(device.faults.get("hostile"))
        device.hostname = HOSTILE["hostname"] if hostile else device.name
        device.interfaces = eos_interfaces(device.seed)
        device.config = {
            oper.SYSTEM: _system_config(device),
            oper.INTERFACES: {"interface": [_interface_config(device.seed, i, hostile) for i in device.interfaces]},
        }

    # ------------------------------------------------------------ ground truth (lab/truth.py)
    def interface_config(self, device: Device) -> dict[str, dict]:
        """Per interface what its configuration says: enabled, and the description (None when empty)."""
        return {e["name"]: {"enabled": e.get("config", {}).get("enabled", True),
                            "description": e.get("config", {}).get("description") or None}
                for e in device.config[oper.INTERFACES]["interface"]}

    def truth(self, device: Device, now: float) -> dict:
        arp = [e for i in device.interfaces for e in oper.arp_entries(device, i)]
        return {"os_version": oper.VERSION.rsplit(".", 1)[0], "os_version_full": oper.VERSION,
                "software_version": f"EOS {oper.VERSION}", "cpu": oper.cpu_truth(device, now),
                "memory": oper.memory_truth(device, now), "environment": oper.environment(device, now),
                "lldp": oper.lldp_neighbors(device), "arp": arp}

    # ------------------------------------------------------------ writes
    def validate(self, top: str, value) -> None:
        value = expect_dict(value, top)
        if top == oper.SYSTEM:
            config = expect_dict(value.get("config", {}), "system/config")
            if "hostname" in config:
                check_string(config["hostname"], "system/config/hostname", 63, is_hostname)
        elif top == oper.INTERFACES:
            for entry in expect_list(value.get("interface", []), "interfaces/interface"):
                _validate_interface(expect_dict(entry, "interfaces/interface"))

    def after_write(self, device: Device, top: str) -> None:
        if top == oper.SYSTEM:
            device.hostname = device.config[oper.SYSTEM].get("config", {}).get("hostname", device.hostname)


def _validate_interface(entry: dict) -> None:
    path = f"interfaces/interface={entry.get('name')}"
    if "name" not in entry:
        raise invalid(f"{path}: the list key 'name' is missing", path)
    config = expect_dict(entry.get("config", {}), path + "/config")
    if config.get("description"):
        check_string(config["description"], path + "/config/description", 240)
    if "enabled" in config:
        check_bool(config["enabled"], path + "/config/enabled")


EOS = Eos()
