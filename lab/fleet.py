"""Fleet definitions (a YAML file or flags), device construction and the inventory."""
from __future__ import annotations

import ipaddress
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lab.model import Clock, Device, unit
from lab.profiles import PROFILES

FAULTS = {
    "latency_ms": (int, float), "jitter_ms": (int, float), "max_concurrent": int, "retry_after": int,
    "wrong_credentials": bool, "restconf_disabled": bool, "port_closed": bool, "hang": bool,
    "reset": (bool, list), "malformed_json": (bool, list), "error_paths": (bool, list),
    "wrong_cert_name": bool, "hostile": bool, "overheat": bool, "high_cpu": bool, "high_memory": bool,
    "root": str, "reboot_every": (int, float), "media_type": str, "no_host_meta": bool,
    "client_cert_required": bool,
    # hostile devices (issue 12): trickle, flood or lie; see lab/README.md
    "drip_body": (bool, list), "drip_headers": (bool, list), "drip_interval_ms": (int, float),
    "endless_body": (bool, list), "lying_length": (bool, list), "gzip_bomb": (bool, list),
    "nesting_bomb": (bool, list), "nesting_depth": int, "not_json": (bool, list),
    "bad_json": str, "bad_json_paths": list, "tls_stall": bool, "reset_after": int,
    # the SSH CLI (issue 13; lab/cli.py): IOS XE devices of a fleet with ``ssh: true``
    "ssh_wrong_password": bool, "ssh_port_closed": bool, "ssh_privilege": int, "cli_delay_ms": (int, float),
    "https_disabled": bool,
}
# faults of the IOS XE CLI and its configuration: refused on a profile without it
SSH_FAULTS = ("ssh_wrong_password", "ssh_port_closed", "ssh_privilege", "cli_delay_ms", "https_disabled")
BAD_JSON_KINDS = ("huge_number", "infinite_number", "invalid_utf8", "duplicate_keys", "top_level_array",
                  "top_level_string")
# Values a type alone does not rule out (a bool is an int to isinstance): (valid?, what is expected).
FAULT_VALUES = {
    "bad_json": (lambda v: v in BAD_JSON_KINDS, "one of " + ", ".join(BAD_JSON_KINDS)),
    "reset_after": (lambda v: not isinstance(v, bool) and v > 0, "an integer > 0 (body bytes before the reset)"),
    "drip_interval_ms": (lambda v: not isinstance(v, bool) and v > 0, "a number of milliseconds > 0"),
    "nesting_depth": (lambda v: not isinstance(v, bool) and v > 0, "an integer > 0"),
    "bad_json_paths": (lambda v: all(isinstance(p, str) for p in v), "a list of path parts (strings)"),
    "ssh_privilege": (lambda v: not isinstance(v, bool) and v in (1, 15), "1 (log in at host>) or 15"),
    "cli_delay_ms": (lambda v: not isinstance(v, bool) and v > 0, "a number of milliseconds > 0"),
}
DOMAIN = "lab.johann.test"


class FleetError(ValueError):
    """A fleet definition that cannot be served, with what to fix."""


@dataclass
class DeviceSpec:
    name: str
    profile: str
    faults: dict = field(default_factory=dict)


@dataclass
class Fleet:
    devices: list[DeviceSpec]
    seed: int = 1
    network: str = "127.77.0.0/16"
    port: int = 8443
    addressing: str = "address"   # "address": one loopback address each; "port": one port each
    ssh: bool = False             # IOS XE devices also serve an SSH CLI (lab/cli.py)
    ssh_port: int = 2222          # its port; with addressing "port", the first of a range of its own


def _check_faults(name: str, faults: dict) -> dict:
    for key, value in faults.items():
        if key not in FAULTS:
            raise FleetError(f"device {name}: unknown fault {key!r}; known: {', '.join(sorted(FAULTS))}")
        if not isinstance(value, FAULTS[key]):
            raise FleetError(f"device {name}: fault {key} has the wrong type ({type(value).__name__})")
        valid, expected = FAULT_VALUES.get(key, (lambda _v: True, ""))
        if not valid(value):
            raise FleetError(f"device {name}: fault {key} must be {expected}, not {value!r}")
    return dict(faults)


def _spec(name: str, profile: str, faults: dict) -> DeviceSpec:
    if profile not in PROFILES:
        raise FleetError(f"device {name}: unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    ssh_faults = sorted(set(faults or {}) & set(SSH_FAULTS))
    if ssh_faults and not has_cli(profile):
        raise FleetError(f"device {name}: {ssh_faults[0]} needs an IOS XE profile (only they have the SSH CLI)")
    return DeviceSpec(name, profile, _check_faults(name, faults or {}))


def has_cli(profile: str) -> bool:
    """IOS XE devices have the SSH CLI; the generic standards-only device has none."""
    return PROFILES[profile].platform == "iosxe"


def load_fleet(path: Path, overrides: dict | None = None) -> Fleet:
    """Read a fleet file: settings plus ``groups`` of devices (see lab/fleets/).

    ``overrides`` (from command-line flags) win over the file's settings.
    """
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise FleetError(f"{path}: expected a mapping with a 'groups' list")
    specs: list[DeviceSpec] = []
    for group in data["groups"]:
        count = int(group.get("count", 1))
        pattern = group.get("name") or (group["profile"].replace(".", "") + "-{n:03d}")
        for n in range(1, count + 1):
            name = pattern.format(n=n) if count > 1 or "{" in pattern else pattern
            specs.append(_spec(name, group.get("profile", "iosxe-17"), group.get("faults", {})))
    return _fleet(specs, dict(data, **(overrides or {})))


def fleet_from_flags(count: int, mix: str, faults: dict, settings: dict) -> Fleet:
    """``--count 100 --mix iosxe-17=2,iosxe-16.12=1,ietf=1``: profiles in proportion."""
    weights = []
    for item in mix.split(","):
        profile, _, weight = item.partition("=")
        weights.append((profile.strip(), int(weight or 1)))
    cycle = [p for p, w in weights for _ in range(w)]
    specs = [_spec(f"{cycle[i % len(cycle)].replace('.', '')}-{i + 1:04d}", cycle[i % len(cycle)], faults)
             for i in range(count)]
    return _fleet(specs, settings)


def _fleet(specs: list[DeviceSpec], settings: dict) -> Fleet:
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise FleetError("device names must be unique")
    if not isinstance(settings.get("ssh", False), bool):
        raise FleetError(f"ssh must be true or false, not {settings['ssh']!r}")
    fleet = Fleet(specs, seed=int(settings.get("seed", 1)), network=str(settings.get("network", "127.77.0.0/16")),
                  port=int(settings.get("port", 8443)), addressing=str(settings.get("addressing", "address")),
                  ssh=settings.get("ssh", False), ssh_port=int(settings.get("ssh_port", 2222)))
    _check_ssh_ports(fleet)
    net = ipaddress.ip_network(fleet.network)
    if not net.is_loopback:
        raise FleetError(f"network {fleet.network} is not loopback: the lab only listens on 127.0.0.0/8 or ::1")
    if fleet.addressing == "address" and net.num_addresses - 2 < len(specs):
        raise FleetError(f"network {fleet.network} is too small for {len(specs)} devices")
    return fleet


def _check_ssh_ports(fleet: Fleet) -> None:
    """SSH ports must not collide with RESTCONF's: one port on each address, or two disjoint ranges."""
    if not fleet.ssh:
        return
    n = len(fleet.devices) if fleet.addressing == "port" else 1
    if fleet.ssh_port < fleet.port + n and fleet.port < fleet.ssh_port + n:
        raise FleetError(f"ssh_port {fleet.ssh_port} overlaps the RESTCONF ports {fleet.port}..{fleet.port + n - 1}")
    if not (0 < fleet.ssh_port and fleet.ssh_port + n - 1 <= 65535):
        raise FleetError(f"ssh_port {fleet.ssh_port} is out of range for {n} devices")


def credentials(state_dir: Path) -> dict:
    """Lab-only credentials, random per state directory, kept owner-readable only.

    ``username``/``password`` serve RESTCONF and SSH; ``enable_secret`` is the CLI's ``enable`` secret
    (added to the credentials of an older state directory).
    """
    path = state_dir / "credentials.json"
    creds = json.loads(path.read_text()) if path.exists() else {}
    if "enable_secret" in creds:
        return creds
    creds = {"username": "johann", "password": secrets.token_urlsafe(18), **creds,
             "enable_secret": secrets.token_urlsafe(12)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(creds, handle)
    return creds


BOOT_ANCHOR = 28 * 86400


def build_devices(fleet: Fleet, creds: dict, clock: Clock) -> list[Device]:
    net = ipaddress.ip_network(fleet.network)
    hosts = net.hosts()
    first = next(net.hosts())
    now = clock.now()
    # Boot times from a fixed point, not from the start: a real-time lab restarted (make demo
    # again) keeps its devices' boot times and counters, so run history does not see reboots
    # that did not happen. They move once per BOOT_ANCHOR, like a maintenance window.
    anchor = now - now % BOOT_ANCHOR if clock.real_time else now
    devices = []
    for i, spec in enumerate(fleet.devices):
        address = str(next(hosts)) if fleet.addressing == "address" else str(first)
        # a profile's own port (EOS: 6020) where each device has its address; with "port" addressing, the range's
        port = (PROFILES[spec.profile].port or fleet.port) if fleet.addressing == "address" else fleet.port + i
        seed = int(unit(fleet.seed, spec.name) * 2 ** 31)
        password = creds["password"] + ("-not-this" if spec.faults.get("wrong_credentials") else "")
        boot = anchor - 3600 * (2 + 2000 * unit(seed, "uptime"))
        device = Device(name=spec.name, profile=PROFILES[spec.profile], address=address, port=port,
                        seed=seed, username=creds["username"], password=password,
                        dns_name=f"{spec.name}.{DOMAIN}", boot_time=boot, faults=spec.faults,
                        ssh_port=_ssh_port(fleet, spec, i))
        device.reloads = [{"time": boot, "reason": "Reload Command"},
                          {"time": boot - 86400 * 40, "reason": "power-on"}]
        device.profile.build(device)
        devices.append(device)
    return devices


def _ssh_port(fleet: Fleet, spec: DeviceSpec, index: int) -> int | None:
    if not fleet.ssh or not has_cli(spec.profile):
        return None
    return fleet.ssh_port + (index if fleet.addressing == "port" else 0)


def _ssh_vars(d: Device) -> dict:
    """What network_cli needs for the SSH CLI (ansible_port stays RESTCONF's: plays map johann_ssh_port)."""
    if d.ssh_port is None:
        return {}
    host = {"ansible_network_os": "cisco.ios.ios", "johann_ssh_port": d.ssh_port}
    if d.faults.get("ssh_privilege", 15) < 15:
        host.update({"ansible_become": True, "ansible_become_method": "enable",
                     "ansible_become_password": "{{ lab_enable_secret }}"})   # a reference, not the secret
    return host


def write_inventory(devices: list[Device], path: Path, ca_path: Path, creds: dict, admin_url: str,
                    client_cert: tuple[Path, Path]) -> None:
    """An Ansible inventory of the fleet: groups per profile and platform, lab-only secrets.

    ``client_cert`` (cert, key) is offered as ``lab_client_cert``/``lab_client_key`` only, not as
    ``restconf_client_*``: a play opts in to mutual TLS, so the other devices are read without it.
    """
    groups: dict[str, dict] = {}
    for d in devices:
        host = {"ansible_host": d.address, "ansible_port": d.port, "lab_profile": d.profile.name,
                "lab_platform": d.profile.platform, "lab_dns_name": d.dns_name,
                "lab_faults": sorted(d.faults), **_ssh_vars(d)}
        group = "lab_" + d.profile.name.replace("-", "_").replace(".", "_")
        groups.setdefault(group, {"hosts": {}})["hosts"][d.name] = host
    inventory = {"all": {
        "vars": {"ansible_connection": "local",
                 "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 "ansible_user": creds["username"], "ansible_password": creds["password"],
                 "restconf_validate_certs": True, "restconf_ca_path": str(ca_path.resolve()),
                 "lab_admin_url": admin_url, "lab_client_cert": str(client_cert[0].resolve()),
                 "lab_client_key": str(client_cert[1].resolve())},
        "children": {"lab": {"children": groups}}}}
    if any(d.ssh_port is not None for d in devices):
        inventory["all"]["vars"]["lab_enable_secret"] = creds["enable_secret"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Generated by `python -m lab`: the simulated lab. Lab-only credentials.\n")
        yaml.safe_dump(inventory, handle, sort_keys=False)
    os.replace(tmp, path)
