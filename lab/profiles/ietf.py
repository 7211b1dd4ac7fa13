"""A generic standards-only device: ietf-interfaces, ietf-system, ietf-hardware.

It answers every vendor path with 404, serves both the RFC 7895 and the
RFC 8525 YANG library, and its host-meta lists another link before the
RESTCONF one, so clients must pick the ``rel="restconf"`` link.
"""
from __future__ import annotations

from lab.model import Device, Interface, iso, unit
from lab.profiles import ietf_common
from lab.profiles.base import (
    Document,
    Profile,
    check_bool,
    check_ip,
    check_string,
    expect_dict,
    expect_list,
    invalid,
    is_hostname,
)
from lab.profiles.iosxe import HOSTILE, _mac

SYSTEM = "ietf-system:system"


def _interfaces(seed: int) -> list[Interface]:
    out = []
    for n in range(8):
        connected = n < 5
        out.append(Interface(
            name=f"eth{n}", kind="eth", number=n, ifindex=n + 2, mac=_mac(seed, 200 + n),
            speed=10_000_000_000 if n < 2 else 1_000_000_000, connected=connected,
            in_bps=(3e8 + 2e8 * unit(seed, "gin", n)) if connected else 0.0,
            out_bps=(1e8 + 1e8 * unit(seed, "gout", n)) if connected else 0.0,
            pkt_size=600 + n * 50, errors_per_s=0.01 if n == 3 else 0.0,
            ipv4=(f"10.30.{seed % 250}.{n + 1}", "255.255.255.0") if n == 0 else None))
    out.append(Interface(name="lo", kind="lo", number=0, ifindex=1, mac="00:00:00:00:00:00",
                         speed=0, ethernet=False, ipv4=("127.0.0.1", "255.0.0.0"), link_up_delay=1.0))
    return out


def system_state(d: Device, now: float) -> dict:
    return {"platform": {"os-name": "GenericNOS", "os-release": "4.2.1",
                         "os-version": "4.2.1-build.2207 (stable)", "machine": "x86_64"},
            "clock": {"current-datetime": iso(now, 2, z=True), "boot-datetime": iso(d.boot_time, 2, z=True)}}


def hardware(d: Device, now: float) -> dict:
    temp = 38 + round(8 * unit(d.seed, "gtemp")) + (30 if d.faults.get("overheat") else 0)
    sensors = [("temp-cpu", "celsius", temp, "C"), ("temp-inlet", "celsius", temp - 12, "C"),
               ("fan-1", "rpm", 6200 + int(300 * unit(d.seed, "fan", int(now // 60))), "RPM"),
               ("psu-1-power", "watts", 140, "W")]
    components = [{
        "name": "chassis", "class": "iana-hardware:chassis", "physical-index": 1,
        "description": "GX-2400 24-port 10G switch", "hardware-rev": "B2", "firmware-rev": "2.1.7",
        "software-rev": "4.2.1", "serial-num": d.identity["serial"], "mfg-name": "Generic Networks",
        "model-name": d.identity["model"], "is-fru": False,
        "state": {"admin-state": "unlocked", "oper-state": "enabled"},
    }]
    for n, (name, kind, value, display) in enumerate(sensors, start=2):
        components.append({
            "name": name, "class": "iana-hardware:sensor", "physical-index": n, "parent": "chassis",
            "parent-rel-pos": n, "description": f"{name} sensor", "is-fru": False,
            "sensor-data": {"value": value, "value-type": kind, "value-scale": "units",
                            "value-precision": 0, "oper-status": "ok", "units-display": display,
                            "value-timestamp": iso(now, 2, z=True), "value-update-rate": 60}})
    return {"last-change": iso(d.boot_time + 40, 2, z=True), "component": components}


class Generic(Profile):
    def __init__(self) -> None:
        super().__init__(name="ietf", platform="ietf", vendor="Generic Networks")
        self.modules = [("ietf-interfaces", "2018-02-20"), ("ietf-ip", "2018-02-22"),
                        ("ietf-system", "2014-08-06"), ("ietf-hardware", "2018-03-13"),
                        ("iana-hardware", "2018-03-13"), ("iana-if-type", "2017-01-19"),
                        ("ietf-yang-library", "2019-01-04"), ("ietf-restconf-monitoring", "2017-01-26"),
                        ("ietf-restconf", "2017-01-26"), ("ietf-datastores", "2018-02-14")]
        self.documents = {
            ietf_common.INTERFACES: Document("mixed", lambda d, t: ietf_common.interfaces_nmda(d, t, 2),
                                             state_members=ietf_common.INTERFACE_STATE),
            SYSTEM: Document("config"),
            "ietf-system:system-state": Document("state", system_state),
            "ietf-hardware:hardware": Document("state", hardware),
        }

    def build(self, device: Device) -> None:
        device.identity = {"serial": "GN" + f"{int(unit(device.seed, 'gserial') * 1e10):010d}",
                           "model": "GX-2400"}
        device.hostname = HOSTILE["hostname"] if device.faults.get("hostile") else device.name
        device.interfaces = _interfaces(device.seed)
        interfaces = ietf_common.config_entries(device)
        for entry in interfaces["interface"]:
            if entry["name"] == "eth0":
                entry["description"] = "management"
            if entry["name"] == "eth7":
                entry["enabled"] = False
            if entry["name"] == "eth1" and device.faults.get("hostile"):
                entry["description"] = HOSTILE["description"]
        device.config = {
            ietf_common.INTERFACES: interfaces,
            SYSTEM: {"contact": "noc@lab.johann.test", "hostname": device.hostname,
                     "location": f"lab rack {device.seed % 40}",
                     "clock": {"timezone-utc-offset": 0},
                     "ntp": {"enabled": True, "server": [
                         {"name": "ntp1", "udp": {"address": "10.0.0.123"}, "prefer": True}]},
                     "dns-resolver": {"search": ["lab.johann.test"], "server": [
                         {"name": "dns1", "udp-and-tcp": {"address": "10.0.0.53"}}]}},
        }

    def validate(self, top: str, value) -> None:
        value = expect_dict(value, top)
        if top == SYSTEM:
            if "hostname" in value:
                check_string(value["hostname"], "system/hostname", 63, is_hostname)
            for server in expect_list(expect_dict(value.get("ntp", {}), "system/ntp").get("server", []),
                                      "system/ntp/server"):
                udp = expect_dict(expect_dict(server, "system/ntp/server").get("udp", {}), "udp")
                if "address" in udp:
                    check_ip(udp["address"], "system/ntp/server/udp/address")
        elif top == ietf_common.INTERFACES:
            for entry in expect_list(value.get("interface", []), "interfaces/interface"):
                entry = expect_dict(entry, "interfaces/interface")
                if "name" not in entry:
                    raise invalid("interfaces/interface: the list key 'name' is missing", "interfaces/interface")
                if "description" in entry:
                    check_string(entry["description"], "interfaces/interface/description", 255)
                if "enabled" in entry:
                    check_bool(entry["enabled"], "interfaces/interface/enabled")

    def after_write(self, device: Device, top: str) -> None:
        if top == SYSTEM:
            device.hostname = device.config[SYSTEM].get("hostname", device.hostname)


GENERIC = Generic()
