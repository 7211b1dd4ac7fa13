"""OpenConfig operational data of an Arista EOS switch, rendered from a device's living state.

Shapes as EOS serves them (see ../shared/VENDORS.md and lab/README.md): uint64 leaves (counters, memory,
``boot-time``, ``last-change``, intervals) as JSON strings, timestamps in nanoseconds since the epoch,
identities with their module prefix, ``arista-intf-augments:*`` and other augments beside standard leaves.
The same functions give the ground truth (``truth``), so what is served and what is true cannot drift apart.
"""
from __future__ import annotations

import copy
import ipaddress

from lab.model import Device, Interface, iso, unit

SYSTEM = "openconfig-system:system"
COMPONENTS = "openconfig-platform:components"
INTERFACES = "openconfig-interfaces:interfaces"
LLDP = "openconfig-lldp:lldp"
TYPES = "openconfig-platform-types:"
VERSION = "4.30.2F"
CPU_INTERVAL = 1000          # seconds EOS averages CPU over (VENDORS.md's capture: interval 1000000000000 ns)
CORES = 4
MEMORY = 8_123_456_512       # bytes installed (``memory/available``)
# (component, description, base reading, alarm threshold) of the temperature sensors, all in the chassis
TEMPERATURES = [("TempSensor1", "Cpu temp sensor", 42.0, 90), ("TempSensor2", "CPU VRM temp sensor", 38.0, 100),
                ("TempSensor3", "Switch chip sensor", 49.0, 100), ("TempSensor4", "Front-panel temp sensor", 26.0, 65),
                ("TempSensor5", "Rear temp sensor", 31.0, 75), ("TempSensor6", "Board sensor", 36.0, 85)]
PSU_CAPACITY = 500.0
FANS = ("Fan1/1", "Fan2/1", "Fan3/1", "Fan4/1")


def ns(t: float) -> str:
    """A time as EOS sends timeticks64: nanoseconds since the epoch, a string (uint64)."""
    return str(round(t * 1e6) * 1000)


def _counters(values: dict) -> dict:
    return {name: str(value) for name, value in values.items()}


# ---------------------------------------------------------------- system
def cpu_total(d: Device, now: float) -> dict:
    """The whole CPU as EOS states it: the instant figure and min/avg/max over CPU_INTERVAL."""
    window = [d.cpu_at(now - 5 * i) for i in range(CPU_INTERVAL // 5)]
    return {"instant": round(window[0]), "avg": round(sum(window) / len(window)), "min": round(min(window)),
            "max": round(max(window)), "interval": str(CPU_INTERVAL * 10 ** 9)}


def core_load(d: Device, now: float, core: int) -> int:
    return round(min(100.0, max(0.0, d.cpu_at(now) + 8 * (unit(d.seed, "core", core, int(now // 5)) - 0.5))))


def _split(load: int) -> dict:
    user = round(load * 0.65)
    return {"user": user, "kernel": load - user, "idle": 100 - load}


def cpus(d: Device, now: float) -> list[dict]:
    """openconfig-system ``cpus`` (EOS 4.27.2F and later): ALL, then each core, instant figures."""
    total = cpu_total(d, now)
    entries = [("ALL", total["instant"], total)] + [(n, core_load(d, now, n), None) for n in range(CORES)]
    out = []
    for index, load, stats in entries:
        parts = _split(load)
        state = {"index": index, "total": stats or {"instant": load},
                 **{name: {"instant": value} for name, value in parts.items()}}
        out.append({"index": index, "state": state})
    return out


def system(d: Device, now: float) -> dict:
    out = copy.deepcopy(d.config[SYSTEM])
    out["state"] = dict(out.get("config", {}), **{
        "current-datetime": iso(now, 0, z=True), "boot-time": ns(d.boot_time), "software-version": VERSION,
        "arista-system-augments:last-configuration-timestamp": ns(d.last_modified or d.boot_time)})
    clock = out.setdefault("clock", {})
    clock["state"] = dict(clock.get("config", {}))
    out["cpus"] = {"cpu": cpus(d, now)}
    return out


# ---------------------------------------------------------------- components
def memory_used(d: Device, now: float) -> int:
    return int(MEMORY * d.memory_fraction(now))


def temperature(d: Device, now: float, n: int, base: float) -> float:
    drift = 2 * (unit(d.seed, "temp", int(now // 60)) - 0.5)
    hot = 45 if d.faults.get("overheat") else 0
    return round(base + 4 * unit(d.seed, "tbase", n) + drift + hot, 1)


def psu_power(d: Device, n: int) -> float:
    return round(90 + 40 * unit(d.seed, "psu", n), 1)


def fan_speed(d: Device, now: float, n: int) -> int:
    return 5200 + int(600 * unit(d.seed, "fan", n)) + int(150 * (unit(d.seed, "fanw", n, int(now // 60)) - 0.5))


def _component(name: str, kind: str, **state) -> dict:
    return {"name": name, "config": {"name": name},
            "state": {"name": name, "type": TYPES + kind, "oper-status": TYPES + "ACTIVE", **state}}


def _sensor(d: Device, now: float, n: int, spec: tuple) -> dict:
    name, description, base, threshold = spec
    reading = temperature(d, now, n, base)
    temp = {"instant": reading, "max": round(reading + 1.5, 1), "alarm-status": reading >= threshold,
            "alarm-threshold": threshold}
    if temp["alarm-status"]:
        temp["alarm-severity"] = "openconfig-alarm-types:CRITICAL"
    return _component(name, "SENSOR", description=description, parent="Chassis", temperature=temp)


def _cpu_component(d: Device, now: float, core: int, total: dict) -> dict:
    entry = _component(f"CPU{core}", "CPU", description="Intel Atom C3558 core", parent="Chassis")
    util = dict(total, instant=core_load(d, now, core))
    entry["cpu"] = {"openconfig-platform-cpu:utilization": {"state": util}}
    return entry


def _psu(d: Device, n: int) -> dict:
    name = f"PowerSupply{n}"
    entry = _component(name, "POWER_SUPPLY", parent="Chassis", **{
        "part-no": "PWR-511-AC-RED", "serial-no": f"{d.identity['serial'][:3]}PS{n}{d.seed % 10 ** 6:06d}",
        "mfg-name": "Arista Networks", "removable": True})
    power = psu_power(d, n)
    entry["power-supply"] = {"state": {
        "openconfig-platform-psu:enabled": True, "openconfig-platform-psu:capacity": PSU_CAPACITY,
        "openconfig-platform-psu:input-voltage": 229.5, "openconfig-platform-psu:input-current": round(power / 215, 2),
        "openconfig-platform-psu:output-voltage": 12.1,
        "openconfig-platform-psu:output-current": round(power / 12.1, 2),
        "openconfig-platform-psu:output-power": power}}
    return entry


def _fan(d: Device, now: float, n: int, name: str) -> dict:
    entry = _component(name, "FAN", parent="Chassis", removable=True)
    entry["fan"] = {"state": {"openconfig-platform-fan:speed": fan_speed(d, now, n)}}
    return entry


def components(d: Device, now: float) -> dict:
    # EOS: no mfg-name on the chassis (the normaliser knows Arista by the part number), memory on the chassis
    chassis = _component("Chassis", "CHASSIS", description="48x25GbE SFP & 8x100GbE QSFP switch",
                         **{"part-no": d.identity["model"], "serial-no": d.identity["serial"],
                            "hardware-version": "12.11",
                            "memory": {"available": str(MEMORY), "utilized": str(memory_used(d, now))}})
    total = cpu_total(d, now)
    out = [chassis] + [_cpu_component(d, now, core, total) for core in range(CORES)]
    out += [_sensor(d, now, n, spec) for n, spec in enumerate(TEMPERATURES)]
    out += [_psu(d, n) for n in (1, 2)] + [_fan(d, now, n, name) for n, name in enumerate(FANS)]
    return {"component": out}


# ---------------------------------------------------------------- interfaces
SPEEDS = {10_000_000_000: "SPEED_10GB", 25_000_000_000: "SPEED_25GB", 100_000_000_000: "SPEED_100GB",
          1_000_000_000: "SPEED_1GB"}


def _speed(speed: int) -> str:
    return "openconfig-if-ethernet:" + SPEEDS.get(speed, "SPEED_UNKNOWN")


def _interface_counters(d: Device, intf: Interface, now: float, flaps: int) -> dict:
    c = d.counters(intf, now)
    names = ("in-octets", "in-unicast-pkts", "in-broadcast-pkts", "in-multicast-pkts", "in-discards", "in-errors",
             "out-octets", "out-unicast-pkts", "out-broadcast-pkts", "out-multicast-pkts", "out-discards", "out-errors")
    values = {name: c[name] for name in names}
    values.update({"in-fcs-errors": c["in-crc-errors"], "carrier-transitions": flaps})
    return _counters(dict(sorted(values.items())))


def _state(d: Device, intf: Interface, config: dict, now: float) -> dict:
    enabled = config.get("enabled", True)
    link = d.link(intf, now, enabled)
    return {
        "name": intf.name, "type": config.get("type"), "mtu": intf.mtu, "loopback-mode": False,
        "description": config.get("description", ""), "enabled": enabled, "ifindex": intf.ifindex,
        "admin-status": "UP" if enabled else "DOWN", "oper-status": "UP" if link.up else "DOWN",
        "last-change": ns(link.last_change), "counters": _interface_counters(d, intf, now, link.flaps),
        "openconfig-platform-port:hardware-port":
            f"Port{intf.number}".split("/")[0] if intf.kind == "Ethernet" else None,
        "openconfig-vlan:tpid": "openconfig-vlan-types:TPID_0X8100", "arista-intf-augments:inactive": False,
    }


def _ethernet(d: Device, intf: Interface, now: float, enabled: bool) -> dict:
    up = d.link(intf, now, enabled).up
    config = {"auto-negotiate": intf.speed <= 1_000_000_000, "port-speed": _speed(intf.speed), "duplex-mode": "FULL"}
    state = dict(config, **{"mac-address": intf.mac, "hw-mac-address": intf.mac,
                            "negotiated-port-speed": _speed(intf.speed if up else 0),
                            "counters": _counters({"in-crc-errors": d.counters(intf, now)["in-crc-errors"],
                                                   "in-fragment-frames": 0, "in-jabber-frames": 0,
                                                   "in-mac-pause-frames": 0, "in-oversize-frames": 0,
                                                   "out-mac-pause-frames": 0})})
    if up:
        state["negotiated-duplex-mode"] = "FULL"
    return {"config": config, "state": state}


def prefix_length(mask: str) -> int:
    return ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen


def arp_entries(d: Device, intf: Interface) -> list[dict]:
    """The ARP neighbours the device has learnt on an IPv4 interface (none on a loopback)."""
    if not intf.ipv4 or not intf.ethernet:
        return []
    net = ipaddress.IPv4Interface(f"{intf.ipv4[0]}/{intf.ipv4[1]}").network
    peers = [a for a in net.hosts() if str(a) != intf.ipv4[0]] or [a for a in net if str(a) != intf.ipv4[0]]
    count = 1 if net.prefixlen >= 30 else 3
    return [{"address": str(peer), "mac": f"44:4c:a8:{n:02x}:{intf.ifindex % 256:02x}:{d.seed % 256:02x}",
             "interface": intf.name, "type": "dynamic"} for n, peer in enumerate(peers[:count], start=1)]


def _ipv4(d: Device, intf: Interface, stored: dict) -> dict:
    out = copy.deepcopy(stored)
    out["state"] = dict(out.get("config", {}), mtu=1500)
    for address in out.get("addresses", {}).get("address", []):
        address["state"] = dict(address.get("config", {}), origin="STATIC")
    out["neighbors"] = {"neighbor": [
        {"ip": e["address"], "state": {"ip": e["address"], "link-layer-address": e["mac"], "origin": "DYNAMIC"}}
        for e in arp_entries(d, intf)]}
    return out


def _ipv6(stored: dict) -> dict:
    out = copy.deepcopy(stored)
    out["state"] = dict(out.get("config", {}))
    for address in out.get("addresses", {}).get("address", []):
        address["state"] = dict(address.get("config", {}), origin="STATIC", status="PREFERRED")
    return out


def _subinterface(d: Device, intf: Interface, stored: dict) -> dict:
    out = copy.deepcopy(stored)
    out["state"] = dict(out.get("config", {}), **{"openconfig-interfaces:ifindex": intf.ifindex})
    if "openconfig-if-ip:ipv4" in out:
        out["openconfig-if-ip:ipv4"] = _ipv4(d, intf, out["openconfig-if-ip:ipv4"])
    if "openconfig-if-ip:ipv6" in out:
        out["openconfig-if-ip:ipv6"] = _ipv6(out["openconfig-if-ip:ipv6"])
    return out


def interface_entry(d: Device, entry: dict, now: float) -> dict:
    """A stored config entry with EOS's operational leaves beside it."""
    intf = d.interface(entry["name"])
    out = copy.deepcopy(entry)
    config = entry.get("config", {})
    out["state"] = {k: v for k, v in _state(d, intf, config, now).items() if v is not None}
    out["hold-time"] = {"config": {"up": 0, "down": 0}, "state": {"up": 0, "down": 0}}
    if intf.ethernet:
        out["openconfig-if-ethernet:ethernet"] = _ethernet(d, intf, now, config.get("enabled", True))
    subs = out.get("subinterfaces", {}).get("subinterface", [])
    out.get("subinterfaces", {})["subinterface"] = [_subinterface(d, intf, s) for s in subs]
    return out


def interfaces(d: Device, now: float) -> dict:
    return {"interface": [interface_entry(d, e, now) for e in d.config[INTERFACES]["interface"]
                          if d.interface(e["name"]) is not None]}


# ---------------------------------------------------------------- lldp
def lldp_neighbors(d: Device) -> list[dict]:
    """Who the switch hears over LLDP: two spines on its uplinks, the out-of-band switch on Management1."""
    from lab.profiles.iosxe import HOSTILE
    names = [f"spine-{1 + d.seed % 2}.lab.johann.test", f"spine-{2 + d.seed % 2}.lab.johann.test",
             "oob-sw-1.lab.johann.test"]
    if d.faults.get("hostile"):
        names[0], names[1] = HOSTILE["neighbor"], HOSTILE["lldp"]
    port = 1 + d.seed % 32
    links = [("Ethernet49/1", f"Ethernet{port}/1", "Arista DCS-7280SR3-48YC8"),
             ("Ethernet50/1", f"Ethernet{port}/1", "Arista DCS-7280SR3-48YC8"),
             ("Management1", f"GigabitEthernet1/0/{1 + d.seed % 40}", None)]
    return [{"local_interface": local, "device": name, "remote_interface": remote,
             "address": f"10.250.{d.seed % 250}.{n}", "chassis": f"00:1c:73:{n:02x}:{d.seed % 256:02x}:01",
             "platform": (f"Arista Networks EOS version {VERSION} running on an {model}" if model else
                          "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE)"),
             "capabilities": ["MAC_BRIDGE", "ROUTER"] if model else ["MAC_BRIDGE"]}
            for n, ((local, remote, model), name) in enumerate(zip(links, names, strict=True), start=1)]


def _neighbor(n: int, nb: dict) -> dict:
    state = {"id": str(n), "chassis-id": nb["chassis"], "chassis-id-type": "MAC_ADDRESS",
             "port-id": nb["remote_interface"],
             "port-id-type": "INTERFACE_NAME", "port-description": "", "system-name": nb["device"],
             "system-description": nb["platform"], "management-address": nb["address"],
             "management-address-type": "ipv4", "ttl": 120, "age": "1234", "last-update": 25}
    caps = [{"name": f"openconfig-lldp-types:{c}", "state": {"name": f"openconfig-lldp-types:{c}", "enabled": True}}
            for c in nb["capabilities"]]
    return {"id": str(n), "state": state, "capabilities": {"capability": caps}}


def lldp(d: Device, now: float) -> dict:
    heard = {nb["local_interface"]: nb for nb in lldp_neighbors(d)}
    entries = []
    for intf in d.interfaces:
        if not intf.ethernet:
            continue
        entry = {"name": intf.name, "config": {"name": intf.name, "enabled": True},
                 "state": {"name": intf.name, "enabled": True,
                           "counters": _counters({"frame-in": int(d.uptime(now) / 30),
                                                  "frame-out": int(d.uptime(now) / 30)})}}
        if intf.name in heard:
            entry["neighbors"] = {"neighbor": [_neighbor(1, heard[intf.name])]}
        entries.append(entry)
    return {"config": {"enabled": True, "hello-timer": "30"},
            "state": {"enabled": True, "hello-timer": "30", "system-name": d.hostname,
                      "chassis-id": d.interfaces[0].mac, "chassis-id-type": "MAC_ADDRESS"},
            "interfaces": {"interface": entries}}


# ---------------------------------------------------------------- ground truth
def environment(d: Device, now: float) -> list[dict]:
    """Every sensor as the device means it (record terms: thresholds low_critical..high_critical)."""
    out = []
    for n, (name, description, base, threshold) in enumerate(TEMPERATURES):
        reading = temperature(d, now, n, base)
        out.append({"name": name, "description": description, "kind": "temperature", "reading": reading,
                    "unit": "celsius", "alarm": reading >= threshold, "thresholds": (None, None, None, threshold)})
    for n in (1, 2):
        out.append({"name": f"PowerSupply{n}", "description": None, "kind": "power", "reading": psu_power(d, n),
                    "unit": "watts", "alarm": False, "thresholds": (None, None, None, PSU_CAPACITY)})
    for n, name in enumerate(FANS):
        out.append({"name": name, "description": None, "kind": "fan", "reading": fan_speed(d, now, n), "unit": "rpm",
                    "alarm": False, "thresholds": (None, None, None, None)})
    return out


def _shares(load: int) -> dict:
    parts = _split(load)
    return {"user": parts["user"], "system": parts["kernel"], "idle": parts["idle"]}


def cpu_truth(d: Device, now: float) -> dict:
    """The whole CPU (instant, average over ``interval`` seconds, user/system/idle) and each core."""
    total = cpu_total(d, now)
    return {"instant": total["instant"], "avg": total["avg"], "interval": CPU_INTERVAL, **_shares(total["instant"]),
            "per_core": [dict(name=str(n), **_shares(core_load(d, now, n))) for n in range(CORES)]}


def memory_truth(d: Device, now: float) -> dict:
    used = memory_used(d, now)
    return {"total": MEMORY, "used": used, "free": MEMORY - used}
