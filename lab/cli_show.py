"""What the simulated IOS XE CLI prints: ``show version``, the running and startup configs, ``| filters``.

Everything is rendered from the device model the RESTCONF side serves (identity, release, uptime,
the ``Cisco-IOS-XE-native:native`` configuration), so the two views of a device agree: a description
written over RESTCONF shows in ``show running-config``, a ``hostname`` typed over SSH in RESTCONF.
"""
from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass

from lab.model import Device

NVRAM_BYTES = 2097152
HTTP = "Cisco-IOS-XE-http:http"
RESTCONF = "Cisco-IOS-XE-restconf:restconf"
KIND_ORDER = ("Loopback", "Port-channel", "GigabitEthernet", "TenGigabitEthernet", "Vlan")
FILTERS = ("begin", "count", "exclude", "include", "section")


@dataclass(frozen=True)
class Login:
    """The lab's CLI user as the running config shows it."""
    username: str
    privilege: int
    password: str
    enable_secret: str


@dataclass(frozen=True)
class Platform:
    """What ``show version`` says beyond the release: hardware, image, licences, register."""
    processor: str
    image: str
    register: str
    memory: tuple[str, ...]
    licence: tuple[str, ...]
    tail: tuple[str, ...]


GPL = ("Cisco IOS-XE software, Copyright (c) 2005-2023 by cisco Systems, Inc.",
       "All rights reserved.  Certain components of Cisco IOS-XE software are",
       'licensed under the GNU General Public License ("GPL") Version 2.0.  The',
       "software code licensed under GPL Version 2.0 is free software that comes",
       "with ABSOLUTELY NO WARRANTY.  You can redistribute and/or modify such",
       "GPL code under the terms of GPL Version 2.0.  For more details, see the",
       'documentation or "License Notice" file accompanying the IOS-XE software,',
       "or the applicable URL provided on the flyer accompanying the IOS-XE", "software.")
CRYPTO = ("This product contains cryptographic features and is subject to United",
          "States and local country laws governing import, export, transfer and",
          "use. Delivery of Cisco cryptographic products does not imply",
          "third-party authority to import, export, distribute or use encryption.",
          "Importers, exporters, distributors and users are responsible for",
          "compliance with U.S. and local country laws. By using this product you",
          "agree to comply with applicable local and foreign laws. If you",
          "are unable to comply with U.S. and local laws, return this product", "immediately.", "",
          "A summary of U.S. laws governing Cisco cryptographic products may be found at:",
          "http://www.cisco.com/wwl/export/crypto/tool/stqrg.html", "",
          "If you require further assistance please contact us by sending email to", "export@cisco.com.")
PLATFORMS = {
    "C9300-48P": Platform(
        processor="cisco C9300-48P (X86) processor with 1338934K/6147K bytes of memory.",
        image="flash:packages.conf", register="0x102",
        memory=("2048K bytes of non-volatile configuration memory.", "{memory}K bytes of physical memory.",
                "1638400K bytes of Crash Files at crashinfo:.", "11264000K bytes of Flash at flash:."),
        licence=("Technology Package License Information: ", "",
                 "-" * 78, "Technology-package                                     Technology-package",
                 "Current                        Type                       Next reboot  ", "-" * 78,
                 "network-advantage     \tSmart License                 \t network-advantage   ",
                 "dna-advantage         \tSubscription Smart License    \t dna-advantage                 ",
                 "AIR License Level: AIR DNA Advantage", "Next reload AIR license Level: AIR DNA Advantage", "", "",
                 "Smart Licensing Status: Registration Not Applicable/Not Applicable"),
        tail=("Base Ethernet MAC Address          : {mac}", "Motherboard Assembly Number        : 73-18785-04",
              "Motherboard Serial Number          : {serial}", "Model Revision Number              : B0",
              "Motherboard Revision Number        : A0", "Model Number                       : {model}",
              "System Serial Number               : {serial}", "CLEI Code Number                   : ", "", "",
              "Switch Ports Model              SW Version        SW Image              Mode   ",
              "------ ----- -----              ----------        ----------            ----   ",
              "*    1 65    {model:<18} {version:<17} CAT9K_IOSXE           INSTALL")),
    "CSR1000V": Platform(
        processor="cisco CSR1000V (VXE) processor (revision VXE) with 2071829K/3075K bytes of memory.",
        image="bootflash:packages.conf", register="0x2102",
        memory=("32768K bytes of non-volatile configuration memory.", "{memory}K bytes of physical memory.",
                "7774207K bytes of virtual hard disk at bootflash:.", "0K bytes of WebUI ODM Files at webui:."),
        licence=("License Level: ax", "License Type: N/A(Smart License Enabled)", "Next reload license Level: ax",
                 "", "The current throughput level is 1000 kbps ", "", "",
                 "Smart Licensing Status: UNREGISTERED/No Licenses in Use"),
        tail=()),
}


# ---------------------------------------------------------------- show version
def padded_version(version: str) -> str:
    """IOS XE's own spelling of a release: 17.9.4a -> 17.09.04a, 16.12.4 -> 16.12.04."""
    major, *rest = version.split(".")
    return ".".join([major, *(re.sub(r"^\d+", lambda m: m.group().zfill(2), part) for part in rest)])


def uptime_text(seconds: float) -> str:
    """``1 week, 2 days, 3 hours, 4 minutes``: from the largest unit that is not zero, down to minutes."""
    units = (("year", 52 * 7 * 86400), ("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))
    left, parts = int(seconds), []
    for name, size in units:
        count, left = divmod(left, size)
        if count or parts or name == "minute":
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
    return ", ".join(parts)


def stamp(t: float) -> str:
    """IOS's time stamp: ``11:06:40 UTC Wed Nov 18 2026``."""
    tm = time.gmtime(t)
    return time.strftime("%H:%M:%S UTC %a %b ", tm) + f"{tm.tm_mday} {tm.tm_year}"


def _interface_counts(d: Device) -> list[str]:
    names = {"Vlan": "Virtual Ethernet", "GigabitEthernet": "Gigabit Ethernet",
             "TenGigabitEthernet": "Ten Gigabit Ethernet"}
    counts: dict[str, int] = {}
    for intf in d.interfaces:
        if intf.kind in names:
            counts[names[intf.kind]] = counts.get(names[intf.kind], 0) + 1
    return [f"{n} {name} interface{'' if n == 1 else 's'}" for name, n in counts.items()]


def show_version(d: Device, now: float) -> list[str]:
    r = d.profile.release
    p = PLATFORMS[r.model]
    uptime = uptime_text(d.uptime(now))
    reason = d.reloads[0]["reason"] if d.reloads else "Reload Command"
    facts = {"memory": r.memory_kb, "mac": d.interfaces[0].mac, "serial": d.identity["serial"], "model": r.model,
             "version": padded_version(r.version)}
    bootldr = [] if r.model == "CSR1000V" else [f"BOOTLDR: System Bootstrap, Version {r.rommon}, RELEASE SOFTWARE (P)"]
    return [f"Cisco IOS XE Software, Version {padded_version(r.version)}", r.image,
            "Technical Support: http://www.cisco.com/techsupport", "Copyright (c) 1986-2023 by Cisco Systems, Inc.",
            "Compiled Fri 20-Oct-23 10:44 by mcpre", "", "", *GPL, "", "", "ROM: IOS-XE ROMMON", *bootldr, "",
            f"{d.hostname} uptime is {uptime}", f"Uptime for this control processor is {uptime}",
            f"System returned to ROM by {reason}", f"System restarted at {stamp(d.boot_time)}",
            f'System image file is "{p.image}"', f"Last reload reason: {reason}", "", "", "", *CRYPTO, "", "",
            *p.licence, "", p.processor, f"Processor board ID {d.identity['serial']}", *_interface_counts(d),
            *(line.format(**facts) for line in p.memory), "", *(line.format(**facts) for line in p.tail),
            *([""] * (2 if p.tail else 0)), f"Configuration register is {p.register}", ""]


# ---------------------------------------------------------------- configuration
def type9(secret: str, salt_seed: str) -> str:
    """A ``$9$`` (scrypt) look-alike of a secret: stable per device, never the secret itself."""
    salt = base64.b64encode(hashlib.blake2b(salt_seed.encode(), digest_size=12).digest()).decode()[:14]
    digest = hashlib.blake2b(secret.encode(), key=salt.encode(), digest_size=32).digest()
    return f"$9${salt.replace('+', '.')}${base64.b64encode(digest).decode()[:43].replace('+', '.')}"


def _ip(native: dict) -> dict:
    return native.get("ip", {})


def _global(native: dict) -> list[str]:
    out = [f"version {native.get('version', '')}"]
    for kind in ("debug", "log"):
        if kind + "-config" in native.get("service", {}).get("timestamps", {}):
            out.append(f"service timestamps {kind} datetime msec")
    if native.get("platform", {}).get("Cisco-IOS-XE-platform:console", {}).get("output") == "virtual":
        out.append("platform console virtual")
    boot = native.get("boot", {}).get("system", {}).get("bootfile", {}).get("filename-list-ordered-by-user", [])
    return out + ["!", f"hostname {native.get('hostname', 'Router')}", "!", "boot-start-marker",
                  *(f"boot system {b['filename']}" for b in boot), "boot-end-marker", "!"]


def _users(native: dict, login: Login, seed: str) -> list[str]:
    def line(name: str, privilege: int, secret: str) -> str:
        return f"username {name}" + (f" privilege {privilege}" if privilege != 1 else "") + f" secret 9 {secret}"
    out = [line(login.username, login.privilege, type9(login.password, seed + "user"))]
    for user in native.get("username", []):
        out.append(line(user["name"], user.get("privilege", 1), user.get("secret", {}).get("secret", "")))
    return out


def _services(native: dict, login: Login, seed: str) -> list[str]:
    ip = _ip(native)
    servers = " ".join(ip.get("name-server", {}).get("no-vrf", []))
    out = ["!", f"enable secret 9 {type9(login.enable_secret, seed + 'enable')}", "!", "no aaa new-model", "!"]
    if ip.get("domain", {}).get("name"):
        out.append(f"ip domain name {ip['domain']['name']}")
    if servers:
        out.append(f"ip name-server {servers}")
    out += ["!", "login on-success log", "!"]
    if "transparent" in native.get("vtp", {}).get("Cisco-IOS-XE-vtp:mode", {}):
        out += ["vtp mode transparent", "!"]
    udi = native.get("license", {}).get("udi")
    if udi:
        out += [f"license udi pid {udi['pid']} sn {udi['sn']}", "!"]
    stp = native.get("spanning-tree", {})
    if stp.get("Cisco-IOS-XE-spanning-tree:mode"):
        out.append(f"spanning-tree mode {stp['Cisco-IOS-XE-spanning-tree:mode']}")
    if "Cisco-IOS-XE-spanning-tree:extend" in stp:
        out.append("spanning-tree extend system-id")
    return out + ["!", *_users(native, login, seed), "!"]


def _interface_lines(e: dict) -> list[str]:
    out = [f" description {e['description']}"] if e.get("description") else []
    sw = e.get("switchport", {})
    vlan = sw.get("Cisco-IOS-XE-switch:access", {}).get("vlan", {}).get("vlan")
    out += [f" switchport access vlan {vlan}"] if vlan else []
    out += [" switchport mode access"] if "access" in sw.get("Cisco-IOS-XE-switch:mode", {}) else []
    out += [f" mtu {e['mtu']}"] if "mtu" in e else []
    primary = e.get("ip", {}).get("address", {}).get("primary")
    if primary:
        out.append(f" ip address {primary['address']} {primary['mask']}")
    elif not sw:
        out.append(" no ip address")
    out += [f" ipv6 address {p['prefix']}" for p in e.get("ipv6", {}).get("address", {}).get("prefix-list", [])]
    out += [" shutdown"] if "shutdown" in e else []
    return out + ([" negotiation auto"] if e.get("Cisco-IOS-XE-ethernet:negotiation", {}).get("auto") else [])


def _kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def _interfaces(native: dict) -> list[str]:
    out: list[str] = []
    kinds = native.get("interface", {})
    for kind in sorted(kinds, key=_kind_rank):
        for entry in kinds[kind]:
            out += [f"interface {kind}{entry.get('name')}", *_interface_lines(entry), "!"]
    return out


def http_lines(native: dict) -> list[str]:
    """The ``ip http`` lines, ``no`` forms included as IOS shows them."""
    http = _ip(native).get(HTTP, {})
    out = ["ip http server" if http.get("server") else "no ip http server"]
    if "local" in http.get("authentication", {}):
        out.append("ip http authentication local")
    return out + ["ip http secure-server" if http.get("secure-server") else "no ip http secure-server"]


def _routing(native: dict) -> list[str]:
    ip = _ip(native)
    out = [f"ip default-gateway {ip['default-gateway']}"] if ip.get("default-gateway") else []
    out += ["ip forward-protocol nd", *http_lines(native)]
    for route in ip.get("route", {}).get("ip-route-interface-forwarding-list", []):
        out += [f"ip route {route['prefix']} {route['mask']} {hop['fwd']}" for hop in route.get("fwd-list", [])]
    return out + ["!"]


def _management(native: dict) -> list[str]:
    snmp = native.get("snmp-server", {})
    out = [f"snmp-server group {g['id']} v3 priv" for g in snmp.get("Cisco-IOS-XE-snmp:group", [])]
    out += [f"snmp-server community {c['name']} {c.get('permission', 'ro').upper()}"
            for c in snmp.get("Cisco-IOS-XE-snmp:community-config", [])]
    if snmp.get("Cisco-IOS-XE-snmp:location"):
        out.append(f"snmp-server location {snmp['Cisco-IOS-XE-snmp:location']}")
    out += ["!", "control-plane", "!", "line con 0", " stopbits 1"]
    for vty in native.get("line", {}).get("vty", []):
        transports = " ".join(vty.get("transport", {}).get("input", {}).get("input", []))
        out += [f"line vty {vty['first']} {vty['last']}", " login local"]
        out += [f" transport input {transports}"] if transports else []
    servers = native.get("ntp", {}).get("Cisco-IOS-XE-ntp:server", {}).get("server-list", [])
    out += ["!", *(f"ntp server {s['ip-address']}" for s in servers), "!"]
    out += ["iox", "!"] if "iox" in native else []
    return out + (["restconf"] if RESTCONF in native else []) + ["end"]


def config_body(native: dict, login: Login, seed: str, changed: str) -> list[str]:
    """The configuration from its first ``!`` to ``end``: what running and startup share."""
    return ["!", f"! Last configuration change at {changed}", "!", *_global(native),
            *_services(native, login, seed), *_interfaces(native), *_routing(native), *_management(native)]


def running_config(body: list[str]) -> list[str]:
    size = sum(len(line) + 1 for line in body)
    return ["Building configuration...", "", f"Current configuration : {size} bytes", *body]


def startup_config(body: list[str], saved: str) -> list[str]:
    size = sum(len(line) + 1 for line in body)
    return [f"Using {size} out of {NVRAM_BYTES} bytes", body[0], body[1], f"! NVRAM config last updated at {saved}",
            *body[2:]]


# ---------------------------------------------------------------- output filters
def _sections(lines: list[str], regex: re.Pattern) -> list[str]:
    """``| section``: a top-level line whose text matches brings all its children; else matching children
    come with their top-level line."""
    out: list[str] = []
    blocks: list[list[str]] = []
    for line in lines:
        if line.startswith(" ") and blocks:
            blocks[-1].append(line)
        else:
            blocks.append([line])
    for head, *children in blocks:
        if regex.search(head):
            out += [head, *children]
        elif (hits := [c for c in children if regex.search(c)]):
            out += [head, *hits]
    return out


def apply_filter(lines: list[str], kind: str, pattern: str) -> list[str]:
    """An output modifier (``| include <regex>`` ...) applied to a command's output lines."""
    try:
        regex = re.compile(pattern)
    except re.error:
        regex = re.compile(re.escape(pattern))
    if kind == "include":
        return [line for line in lines if regex.search(line)]
    if kind == "exclude":
        return [line for line in lines if not regex.search(line)]
    if kind == "count":
        return [f"Number of lines which match regexp = {sum(1 for line in lines if regex.search(line))}"]
    if kind == "begin":
        first = next((i for i, line in enumerate(lines) if regex.search(line)), len(lines))
        return lines[first:]
    return _sections(lines, regex)
