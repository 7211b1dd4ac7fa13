"""Cisco IOS XE profiles: 16.12 on a CSR1000v and 17.x on a Catalyst 9300.

The releases differ the way real ones do (see shared/RESTCONF.md): 16.12 has
no smart-licensing model, no reload history, no interface description or
``out-octets-64`` in interfaces-oper, legacy ``interfaces-state`` with
numeric counters, and timestamps without fractions; 17.x has all of them,
NMDA ietf-interfaces, environment sensors and LLDP.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from lab.datatree import find_entry
from lab.model import Device, Interface, pick, unit
from lab.profiles import iosxe_oper as oper
from lab.profiles.base import (
    Profile,
    check_bool,
    check_int,
    check_ip,
    check_string,
    expect_dict,
    expect_list,
    is_hostname,
)

NATIVE = oper.NATIVE
HTTP = "Cisco-IOS-XE-http:http"
RESTCONF = "Cisco-IOS-XE-restconf:restconf"
HOSTILE = {
    "hostname": "<script>window.__johann_xss=1</script>",
    "description": "\"><img src=x onerror=\"window.__johann_xss=2\">",
    "neighbor": "<svg/onload=window.__johann_xss=3>",
    "lldp": "</td><script>window.__johann_xss=4</script>",
}


@dataclass(frozen=True)
class Release:
    profile: str
    train: str
    version: str
    image: str
    model: str
    model_description: str
    rommon: str
    frac_digits: int
    licensing: bool
    reload_history: bool
    oper_description: bool
    out_octets_64: bool
    nmda: bool
    environment: bool
    lldp: bool
    cores: int
    memory_kb: int


CSR_16_12 = Release(
    profile="iosxe-16.12", train="16.12", version="16.12.4",
    image="Cisco IOS Software [Gibraltar], Virtual XE Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), "
          "Version 16.12.4, RELEASE SOFTWARE (fc5)",
    model="CSR1000V", model_description="Cisco CSR1000V Chassis", rommon="IOS-XE ROMMON",
    frac_digits=0, licensing=False, reload_history=False, oper_description=False,
    out_octets_64=False, nmda=False, environment=False, lldp=False, cores=2, memory_kb=3978436)

C9300_17 = Release(
    profile="iosxe-17", train="17.9", version="17.9.4a",
    image="Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), "
          "Version 17.9.4a, RELEASE SOFTWARE (fc3)",
    model="C9300-48P", model_description="Cisco Catalyst 9300 48-port PoE+ Switch",
    rommon="17.8.1r[FC1]", frac_digits=3, licensing=True, reload_history=True,
    oper_description=True, out_octets_64=True, nmda=True, environment=True, lldp=True,
    cores=8, memory_kb=7999924)


def _mac(seed: int, n: int) -> str:
    base = int(unit(seed, "mac") * 2 ** 24)
    value = (0x00A3D1 << 24) | ((base + n) & 0xFFFFFF)
    return ":".join(f"{(value >> s) & 0xFF:02x}" for s in range(40, -8, -8))


def _serial(seed: int, release: Release) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    tail = "".join(pick(seed, alphabet, "serial", i) for i in range(8))
    return ("9" + tail + "K") if release.model == "CSR1000V" else ("FOC2" + tail[:7])


def _traffic(seed: int, name: str, speed: int) -> dict:
    load = unit(seed, "load", name)
    return {"in_bps": round(speed * 0.002 * (1 + 40 * load ** 3)),
            "out_bps": round(speed * 0.001 * (1 + 30 * unit(seed, "oload", name) ** 3)),
            "pkt_size": 200 + int(1100 * unit(seed, "pkt", name))}


def csr_interfaces(seed: int) -> list[Interface]:
    out = []
    for n in range(1, 5):
        name = f"GigabitEthernet{n}"
        out.append(Interface(
            name=name, kind="GigabitEthernet", number=str(n), ifindex=n, mac=_mac(seed, n),
            speed=1_000_000_000, ipv4=(f"10.{10 + n}.{seed % 200}.1", "255.255.255.0") if n < 4 else None,
            errors_per_s=0.02 if n == 2 else 0.0, crc_per_s=0.01 if n == 2 else 0.0,
            flap_period=900.0 if n == 3 and unit(seed, "flappy") < 0.5 else 0.0,
            **_traffic(seed, name, 1_000_000_000)))
    out.append(Interface(name="Loopback0", kind="Loopback", number=0, ifindex=5, mac="00:00:00:00:00:00",
                         speed=8_000_000_000, ipv4=(f"192.0.2.{seed % 250 + 1}", "255.255.255.255"),
                         ethernet=False, link_up_delay=5.0))
    return out


def c9300_interfaces(seed: int) -> list[Interface]:
    out = [Interface(name="GigabitEthernet0/0", kind="GigabitEthernet", number="0/0", ifindex=1,
                     mac=_mac(seed, 0), speed=1_000_000_000,
                     ipv4=(f"10.99.{seed % 250}.{seed % 200 + 10}", "255.255.255.0"),
                     **_traffic(seed, "mgmt", 100_000_000))]
    for port in range(1, 49):
        name = f"GigabitEthernet1/0/{port}"
        connected = unit(seed, "conn", port) < 0.7
        out.append(Interface(
            name=name, kind="GigabitEthernet", number=f"1/0/{port}", ifindex=8 + port,
            mac=_mac(seed, port), speed=1_000_000_000 if connected else 10_000_000, connected=connected,
            errors_per_s=0.05 if port == 7 else 0.0, crc_per_s=0.04 if port == 7 else 0.0,
            discards_per_s=0.3 if port == 12 else 0.0,
            flap_period=600.0 if port in (5, 17) else 0.0,
            **(_traffic(seed, name, 1_000_000_000) if connected else {})))
    for port in range(1, 5):
        name = f"TenGigabitEthernet1/1/{port}"
        uplink = port <= 2
        out.append(Interface(
            name=name, kind="TenGigabitEthernet", number=f"1/1/{port}", ifindex=60 + port,
            mac=_mac(seed, 60 + port), speed=10_000_000_000, connected=uplink,
            **({"in_bps": 1.2e9 + 8e8 * unit(seed, "up", port), "out_bps": 9e8, "pkt_size": 1100}
               if uplink else {})))
    out.append(Interface(name="Vlan1", kind="Vlan", number=1, ifindex=70, mac=_mac(seed, 70),
                         speed=1_000_000_000, ethernet=False))
    out.append(Interface(name="Vlan10", kind="Vlan", number=10, ifindex=71, mac=_mac(seed, 71),
                         speed=1_000_000_000, ipv4=(f"10.20.{seed % 250}.1", "255.255.255.0"),
                         ipv6=(f"2001:db8:{seed % 9999:x}::1",), ethernet=False,
                         **_traffic(seed, "vlan10", 1_000_000_000)))
    out.append(Interface(name="Loopback0", kind="Loopback", number=0, ifindex=72,
                         mac="00:00:00:00:00:00", speed=8_000_000_000, ethernet=False,
                         ipv4=(f"192.0.2.{seed % 250 + 1}", "255.255.255.255"), link_up_delay=5.0))
    return out


def _native_interface(intf: Interface, description: str | None, shutdown: bool) -> dict:
    entry: dict = {"name": intf.number}
    if description:
        entry["description"] = description
    if intf.ipv4:
        entry["ip"] = {"address": {"primary": {"address": intf.ipv4[0], "mask": intf.ipv4[1]}}}
    elif intf.kind in ("GigabitEthernet", "TenGigabitEthernet") and "/" in str(intf.number) \
            and intf.number != "0/0":
        entry["switchport"] = {"Cisco-IOS-XE-switch:access": {"vlan": {"vlan": 10}},
                               "Cisco-IOS-XE-switch:mode": {"access": {}}}
    if intf.ipv6:
        entry.setdefault("ipv6", {})["address"] = {"prefix-list": [{"prefix": a + "/64"} for a in intf.ipv6]}
    if intf.mtu != 1500 and intf.ethernet:
        entry["mtu"] = intf.mtu
    if shutdown:
        entry["shutdown"] = [None]
    if intf.ethernet:
        entry["Cisco-IOS-XE-ethernet:negotiation"] = {"auto": True}
    return entry


def _descriptions(seed: int, intfs: list[Interface], hostile: bool) -> dict[str, str | None]:
    words = ["uplink to core", "access: printer", "access: AP-2F", "server rack 4", "camera", None]
    out: dict[str, str | None] = {}
    for i, intf in enumerate(intfs):
        if intf.name in ("GigabitEthernet1", "GigabitEthernet0/0"):
            out[intf.name] = "MANAGEMENT"
        elif intf.kind == "TenGigabitEthernet" and intf.connected:
            out[intf.name] = f"uplink to core-{intf.number}"
        else:
            out[intf.name] = pick(seed, words, "descr", i) if intf.connected else None
    if hostile:
        out[intfs[1].name] = HOSTILE["description"]
    return out


def _native(device: Device, release: Release) -> dict:
    seed, csr = device.seed, release.model == "CSR1000V"
    descr = _descriptions(seed, device.interfaces, bool(device.faults.get("hostile")))
    shut = {i.name for i in device.interfaces if i.kind == "GigabitEthernet" and
            (i.number in ("4",) or (not i.connected and unit(seed, "shut", i.name) < 0.3))}
    interfaces: dict[str, list] = {}
    for intf in device.interfaces:
        interfaces.setdefault(intf.kind, []).append(
            _native_interface(intf, descr[intf.name], intf.name in shut))
    native = {
        "version": release.train,
        "boot-start-marker": [None], "boot-end-marker": [None],
        "service": {"timestamps": {"debug-config": {"datetime": {"msec": [None]}},
                                   "log-config": {"datetime": {"msec": [None]}}}},
        "hostname": device.hostname,
        "username": [
            {"name": "admin", "privilege": 15,
             "secret": {"encryption": "9", "secret": "$9$lab$" + f"{int(unit(seed, 's1') * 1e12):x}"}},
            {"name": "netops", "privilege": 15,
             "secret": {"encryption": "9", "secret": "$9$lab$" + f"{int(unit(seed, 's2') * 1e12):x}"}},
            {"name": "readonly", "privilege": 1,
             "secret": {"encryption": "9", "secret": "$9$lab$" + f"{int(unit(seed, 's3') * 1e12):x}"}},
        ],
        "ip": {
            "domain": {"name": "lab.johann.test"},
            "name-server": {"no-vrf": ["10.0.0.53", "10.0.1.53"]},
            "route": {"ip-route-interface-forwarding-list": [
                {"prefix": "0.0.0.0", "mask": "0.0.0.0", "fwd-list": [{"fwd": f"10.11.{seed % 200}.254"}]}]},
            HTTP: {"authentication": {"local": [None]}, "server": False,
                                       "secure-server": True},
        },
        "interface": interfaces,
        "ntp": {"Cisco-IOS-XE-ntp:server": {"server-list": [{"ip-address": "10.0.0.123"},
                                                            {"ip-address": "10.0.1.123"}]}},
        "snmp-server": {
            "Cisco-IOS-XE-snmp:community-config": [
                {"name": f"ro-{int(unit(seed, 'community') * 1e9):x}", "permission": "ro"}],
            "Cisco-IOS-XE-snmp:group": [{"id": "NMS", "v3": {"security-level-list": [
                {"security-level": "priv"}]}}],
            "Cisco-IOS-XE-snmp:user": {"names": [{"username": "nmsuser", "grpname": "NMS"}]},
            "Cisco-IOS-XE-snmp:location": "lab rack " + str(seed % 40),
        },
        "license": {"udi": {"pid": release.model, "sn": device.identity["serial"]}},
        "line": {"vty": [{"first": 0, "last": 4, "transport": {"input": {"input": ["ssh"]}}}]},
        RESTCONF: [None],
    }
    if device.faults.get("restconf_disabled"):   # the HTTPS server answers, RESTCONF is not configured
        del native[RESTCONF]
    if device.faults.get("https_disabled"):   # as from the factory: no HTTPS server, no RESTCONF
        native.pop(RESTCONF, None)
        native["ip"][HTTP] = {"server": False, "secure-server": False}
    if csr:
        native["platform"] = {"Cisco-IOS-XE-platform:console": {"output": "virtual"}}
        native["spanning-tree"] = {"Cisco-IOS-XE-spanning-tree:extend": {"system-id": [None]}}
    else:
        native["boot"] = {"system": {"bootfile": {"filename-list-ordered-by-user": [
            {"filename": "flash:packages.conf"}]}}}
        native["spanning-tree"] = {"Cisco-IOS-XE-spanning-tree:mode": "rapid-pvst",
                                   "Cisco-IOS-XE-spanning-tree:extend": {"system-id": [None]}}
        native["ip"]["default-gateway"] = f"10.99.{seed % 250}.254"
        native["iox"] = [None]
        native["vtp"] = {"Cisco-IOS-XE-vtp:mode": {"transparent": [None]}}
    return native


def _ietf_config(device: Device, native: dict) -> dict:
    entries = []
    for intf in device.interfaces:
        nat = _native_entry(native, intf)
        entry = {"name": intf.name,
                 "type": "iana-if-type:ethernetCsmacd" if intf.ethernet else (
                     "iana-if-type:softwareLoopback" if intf.kind == "Loopback" else "iana-if-type:l3ipvlan"),
                 "enabled": "shutdown" not in nat}
        if nat.get("description"):
            entry["description"] = nat["description"]
        if intf.ipv4:
            entry["ietf-ip:ipv4"] = {"address": [{"ip": intf.ipv4[0], "netmask": intf.ipv4[1]}]}
        else:
            entry["ietf-ip:ipv4"] = {}
        entry["ietf-ip:ipv6"] = {}
        entries.append(entry)
    return {"interface": entries}


def _native_entry(native: dict, intf: Interface) -> dict:
    entries = native.get("interface", {}).get(intf.kind, [])
    index = find_entry(entries, intf.kind, (str(intf.number),))
    return entries[index] if index is not None else {}


class IosXe(Profile):
    """An IOS XE release; renders both native config and operational models."""

    def __init__(self, release: Release) -> None:
        super().__init__(name=release.profile, platform="iosxe", vendor="Cisco")
        self.release = release
        self.modules = oper.modules(release)
        self.documents = oper.documents(self, release)
        self.capabilities = self.capabilities + [
            "urn:ietf:params:restconf:capability:replay:1.0",
            "http://tail-f.com/ns/restconf/collection/1.0",
            "http://tail-f.com/ns/restconf/query-api/1.0",
        ]
        self.operations = {"cisco-ia:save-config": oper.save_config}

    def build(self, device: Device) -> None:
        r = self.release
        device.identity = {"serial": _serial(device.seed, r), "model": r.model}
        device.hostname = HOSTILE["hostname"] if device.faults.get("hostile") else device.name
        device.interfaces = (csr_interfaces if r.model == "CSR1000V" else c9300_interfaces)(device.seed)
        native = _native(device, r)
        device.config = {"Cisco-IOS-XE-native:native": native,
                         "ietf-interfaces:interfaces": _ietf_config(device, native)}

    def https_enabled(self, device: Device) -> bool:
        """The HTTPS server listens while the running config has ``ip http secure-server``."""
        return bool(device.config.get(NATIVE, {}).get("ip", {}).get(HTTP, {}).get("secure-server"))

    def restconf_enabled(self, device: Device) -> bool:
        """RESTCONF answers while the running config has ``restconf`` and ``ip http secure-server``."""
        native = device.config.get(NATIVE, {})
        return RESTCONF in native and bool(native.get("ip", {}).get(HTTP, {}).get("secure-server"))

    # ------------------------------------------------------------ writes
    def validate(self, top: str, value) -> None:
        if top == "Cisco-IOS-XE-native:native":
            _validate_native(expect_dict(value, "native"))
        elif top == "ietf-interfaces:interfaces":
            _validate_ietf_interfaces(value)

    def after_write(self, device: Device, top: str) -> None:
        native = device.config["Cisco-IOS-XE-native:native"]
        ietf = device.config.setdefault("ietf-interfaces:interfaces", {"interface": []})
        if top == "Cisco-IOS-XE-native:native":
            device.hostname = native.get("hostname", device.hostname)
            for entry in ietf.get("interface", []):
                intf = device.interface(entry["name"])
                nat = _native_entry(native, intf) if intf else {}
                if intf:
                    _copy_description(nat, entry)
                    entry["enabled"] = "shutdown" not in nat
        else:
            for entry in ietf.get("interface", []):
                intf = device.interface(entry["name"])
                nat = _native_entry(native, intf) if intf else None
                if nat is not None and intf is not None:
                    _copy_description(entry, nat)
                    if entry.get("enabled", True):
                        nat.pop("shutdown", None)
                    else:
                        nat["shutdown"] = [None]
        device.unsaved_config = True


def _copy_description(source: dict, target: dict) -> None:
    if source.get("description"):
        target["description"] = source["description"]
    else:
        target.pop("description", None)


def _validate_native(native: dict) -> None:
    if "hostname" in native:
        check_string(native["hostname"], "native/hostname", 63, is_hostname)
    for kind, entries in expect_dict(native.get("interface", {}), "native/interface").items():
        for entry in expect_list(entries, f"native/interface/{kind}"):
            entry = expect_dict(entry, f"native/interface/{kind}")
            path = f"native/interface/{kind}={entry.get('name')}"
            if "name" not in entry:
                raise _missing_key(path)
            if "description" in entry:
                check_string(entry["description"], path + "/description", 200)
            if "mtu" in entry:
                check_int(entry["mtu"], path + "/mtu", 64, 9216)
    ntp = expect_dict(native.get("ntp", {}), "native/ntp")
    servers = expect_dict(ntp.get("Cisco-IOS-XE-ntp:server", {}), "native/ntp/server")
    for entry in expect_list(servers.get("server-list", []), "native/ntp/server/server-list"):
        check_ip(expect_dict(entry, "server-list").get("ip-address"), "native/ntp/server/server-list/ip-address")


def _validate_ietf_interfaces(value) -> None:
    for entry in expect_list(expect_dict(value, "interfaces").get("interface", []), "interfaces/interface"):
        entry = expect_dict(entry, "interfaces/interface")
        path = f"interfaces/interface={entry.get('name')}"
        if "name" not in entry:
            raise _missing_key(path)
        check_string(entry["name"], path + "/name", 64)
        if "description" in entry:
            check_string(entry["description"], path + "/description", 200)
        if "enabled" in entry:
            check_bool(entry["enabled"], path + "/enabled")
        if "type" in entry:
            check_string(entry["type"], path + "/type", 100, lambda t: t.startswith("iana-if-type:"))


def _missing_key(path: str):
    from lab.profiles.base import invalid
    return invalid(f"{path}: the list key 'name' is missing", path)


IOSXE_16_12 = IosXe(CSR_16_12)
IOSXE_17 = IosXe(C9300_17)
IOSXE_17_12 = IosXe(replace(C9300_17, profile="iosxe-17.12", train="17.12", version="17.12.5", frac_digits=6,
                            image=C9300_17.image.replace("Cupertino", "Dublin").replace("17.9.4a", "17.12.5")))
