# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation of johann.monitor.device_info, and only that: the action plugin of the same name
(plugins/action/device_info.py) runs the task on the controller, so there is no module to run on a host."""
from __future__ import annotations

DOCUMENTATION = r"""
module: device_info
short_description: Read a whole network device over RESTCONF into one normalised record
version_added: 0.1.0
description:
  - Discovers the RESTCONF root, reads the device's YANG library to choose its platform family
    (Cisco IOS XE, Cisco NX-OS, OpenConfig devices such as Arista EOS, or generic IETF models; see O(platform)),
    then reads every supported resource concurrently and
    normalises what the device sent into one device record
    (identity, configuration summary, CPU, memory, storage, interfaces with counters,
    environment sensors, CDP and LLDP neighbours, ARP, smart licensing).
  - Unknown values are C(null), never 0. Every section reports ok, absent, error or skipped with
    a message and its duration; the record's RV(device.status) is ok, degraded, auth_failed,
    unreachable or error.
  - A failing device does not fail the task unless O(fail_on_error=true), so one bad device
    never stops a fleet run.
  - Runs on the controller as an action plugin; one task reads one device.
author: johann.monitor contributors (!UNKNOWN)
options:
  gather:
    description:
      - Sections to read. V(all), V(min) (identity only), section names, and V(!name) to leave one out.
      - Sections are identity, config, cpu, memory, storage, interfaces, environment, neighbors, arp, licensing.
    type: list
    elements: str
    default: [all]
  platform:
    description:
      - Force the platform family instead of choosing it from the device's YANG library.
      - Defaults to the inventory variable C(johann_platform).
      - The families, in the order they are detected, and what each reads (what a family's models lack is
        C(null), its section's message says why).
      - V(iosxe) (Cisco IOS XE 16.x and 17.x) reads the native configuration and the Cisco-IOS-XE operational
        models (device hardware, platform software, CPU, memory, interfaces, environment, CDP, LLDP, ARP, smart
        licensing).
      - V(nxos) (Cisco NX-OS, Nexus 9000) reads the native Cisco-NX-OS-device model (name, serial, uptime, clock,
        chassis model, show version, CPU summary, system memory, Ethernet, mgmt0 and loopback interfaces with
        their counters and IPv4 addresses, temperature sensors, LLDP, CDP, ARP) and openconfig-platform components
        for fans and power supplies; it has no config, storage or licensing section, and a 204 means the device
        has no such resource.
      - V(openconfig) (Arista EOS, and any other device whose YANG library has openconfig-platform and
        openconfig-interfaces) reads openconfig-system state, cpus and configuration (hostname, version, boot and
        current time, CPU per core; users, domain, DNS and NTP servers), openconfig-platform components (chassis
        model and serial, CPU, memory, temperatures, power supplies, fans), openconfig-interfaces with
        openconfig-if-ethernet and openconfig-if-ip (status, counters, speed, MTU, addresses, last change, ARP) and
        openconfig-lldp (neighbours). It has no storage or licensing section, and no CDP.
      - V(ietf) (generic standards-only devices) reads ietf-system, ietf-interfaces and ietf-hardware.
    type: str
    choices: [iosxe, nxos, openconfig, ietf]
  fail_on_error:
    description: Fail the task when the device's status is not ok.
    type: bool
    default: false
  result_format:
    description:
      - V(dict) returns the record as RV(device). V(json) returns it as one JSON string in
        RV(device_json) and only its summary (status, message, alerts...) in RV(device).
      - Use V(json) for large fleets when the records go to M(johann.monitor.report), which reads both;
        Ansible's controller processes a nested result of this size at about 40 ms of CPU per host,
        a string at almost none (measured over 1000 devices, see the project README).
      - V(json_gz) returns the same JSON gzip-compressed and base64-encoded in RV(device_json_gz) (8 to 10 times
        smaller), and the summary in RV(device). Ansible's main process keeps every registered result until the
        play ends, and it forks every worker from itself; at 10,000 devices the records alone would be about 380 MB there.
        M(johann.monitor.report) reads it; elsewhere C(b64decode) and a gunzip give the JSON. C(playbooks/monitor.yml)
        uses it.
    type: str
    choices: [dict, json, json_gz]
    default: dict
  poller:
    description:
      - Where the device is polled. V(shared) hands the validated options over a private Unix socket
        to one poller process per C(ansible-playbook) run (started by the first task that needs it, with
        the controller's Python; it exits when the run ends), which polls every device of the run in one
        asyncio loop and returns the finished result; V(worker) polls inside Ansible's worker process.
      - A controller with more than three cores runs one poller per two cores, each host always on the same one.
      - The result is the same either way. V(shared) costs less controller CPU per device, because a
        forked worker pays for a cold process (page faults, cold caches, a new event loop and TLS context
        for every device) and the poller does not; the project README has the measured figures.
      - If the shared poller cannot be started or fails, the task polls in its worker instead, and so does
        the rest of the run; the first such task warns with the cause.
      - Defaults to the inventory variable C(johann_poller).
    type: str
    choices: [shared, worker]
    default: shared
  discovery_cache:
    description:
      - Keep what discovery found on each device (its RESTCONF root and the modules of its YANG library) between
        runs, and check it with one small request instead of discovering again. Discovery is two requests per
        device and run, one of them the YANG library (a few hundred kB listing about a thousand modules on an
        IOS XE 17 device).
      - A device seen before is asked for its YANG library's C(module-set-id) (RFC 7895) or C(content-id)
        (RFC 8525) alone, under the root found before. The same id, and the modules found before are used
        (RV(device.root_source) is V(cache)); anything else (another id, a 404 because the root moved, an error)
        and the device is discovered again, as without the cache. A library without an id (NX-OS) is never kept.
      - One file per device (a hash of address, port, user and O(root) names it; it holds no secret), in the
        directory named by the environment variable C(JOHANN_DISCOVERY_CACHE_DIR), else
        C($XDG_CACHE_HOME/johann.monitor/discovery), else C(~/.cache/johann.monitor/discovery). A file that cannot
        be read counts as none; a directory that cannot be written leaves every device discovered every run.
      - Defaults to the inventory variable C(johann_discovery_cache).
    type: bool
    default: true
  thresholds:
    description:
      - Levels at which readings raise alerts in RV(device.alerts), overriding the defaults per name and level.
      - C(cpu_percent) (the 5-minute load, else the 1-minute one, else the device's own average over a minute or
        more, never an instant reading; default warning 80, critical 95), C(memory_percent) (85, 95),
        C(storage_percent) (85, 95), C(interface_error_ratio) (input errors per input packet;
        0.0001, 0.01; never for fewer than 10 errors).
      - C(temperature_celsius) (60, 75) applies to temperature sensors the device gives no high thresholds for; a
        sensor with its own thresholds warns outside its normal band and is critical at its critical levels.
      - A sensor's state alerts by what it means (see RV(device.environment)); fan and power readings alert only
        against the device's own thresholds.
      - Defaults to the inventory variable C(johann_thresholds).
    type: dict
extends_documentation_fragment:
  - johann.monitor.restconf
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
seealso:
  - module: johann.monitor.restconf_get
"""

EXAMPLES = r"""
- name: Read every device of the inventory
  hosts: all
  gather_facts: false
  tasks:
    - name: Read the device
      johann.monitor.device_info:
      register: info

    - name: Show its status
      ansible.builtin.debug:
        msg: "{{ info.device.identity.hostname }} {{ info.device.status }} {{ info.device.message }}"

- name: Only identity and interfaces, TLS checked against a private CA
  hosts: all
  gather_facts: false
  tasks:
    - name: Read identity and interfaces
      johann.monitor.device_info:
        gather: [identity, interfaces]
        ca_path: /etc/pki/network-ca.pem

- name: Credentials set once for a play
  hosts: routers
  gather_facts: false
  module_defaults:
    group/johann.monitor.restconf:
      username: "{{ vault_restconf_user }}"
      password: "{{ vault_restconf_password }}"
      timeout: 20
  tasks:
    - name: Everything but licensing and ARP
      johann.monitor.device_info:
        gather: ["all", "!licensing", "!arp"]
"""

RETURN = r"""
status:
  description: The device's status (same as RV(device.status)).
  returned: always
  type: str
  sample: ok
device:
  description: The device record (schema version 1); with O(result_format=json) only its summary keys.
  returned: always
  type: dict
  contains:
    schema:
      description: Version of the record's layout.
      type: int
      sample: 1
    host:
      description: Inventory name of the device.
      type: str
      sample: c9300-01
    address:
      description: Address that was polled.
      type: str
      sample: 198.51.100.7
    port:
      description: Port that was polled.
      type: int
      sample: 443
    status:
      description: ok, degraded (some sections failed), auth_failed, unreachable or error.
      type: str
      sample: degraded
    message:
      description: Why the status is not ok, naming the cause; null when ok.
      type: str
      sample: "1 of 10 sections failed: environment: device error: 500 operation-failed on Cisco-IOS-XE-environment-oper:environment-sensors"
    platform:
      description: Platform family the device was read as (iosxe, nxos, openconfig, ietf), null when unknown.
      type: str
      sample: iosxe
    restconf_root:
      description: RESTCONF root used.
      type: str
      sample: /restconf
    root_source:
      description: Where the root came from (host-meta, default, configured, or cache when O(discovery_cache)
        had the root and the modules, and the device's YANG library id was unchanged).
      type: str
      sample: host-meta
    polled_at:
      description: When the poll started, UTC.
      type: str
      sample: "2026-11-29T10:51:05.708Z"
    duration:
      description: Seconds the whole read took.
      type: float
      sample: 0.114
    requests:
      description: HTTP requests made, retries included.
      type: int
      sample: 14
    deadline:
      description: The deadline of the whole read, in seconds (O(deadline)); sections cut by it say so.
      type: float
      sample: 60.0
    concurrency:
      description:
        - Requests in flight to the device, as configured (O(max_concurrency)) and as used in the end, and how
          many busy answers (503/429) the device gave. C(used) drops below C(max) when the device refused
          requests beyond the ones it was serving.
      type: dict
      sample: {"max": 2, "used": 1, "busy_replies": 1}
    notes:
      description: What the read had to adapt to, in words (for example fewer requests at a time).
      type: list
      elements: str
      sample: ["the device answered busy (503/429) 1 time(s) with 2 requests in flight: read 1 request at a time instead"]
    identity:
      description: Who the device is.
      type: dict
      sample: {"hostname": "c9300-01", "vendor": "Cisco", "platform": "iosxe", "model": "C9300-48P",
               "serial": "FOC2CNG009G", "os_version": "17.9", "os_version_full": "17.9.4a",
               "software_version": "Cisco IOS XE Software, Version 17.9.4a", "uptime": 2068607,
               "boot_time": "2026-11-05T12:14:18.288Z", "current_time": "2026-11-29T10:51:05.793Z",
               "rommon": "17.8.1r[FC1]", "last_reboot_reason": "Reload Command",
               "reload_history": [{"time": "2026-11-05T12:14:18.288Z", "reason": "Reload Command"}],
               "unsaved_config": false}
    config:
      description: Configuration summary. SNMP community strings are masked.
      type: dict
      sample: {"users": [{"name": "admin", "privilege": 15}], "domain": "example.net",
               "default_gateway": "10.0.0.1", "name_servers": ["10.0.0.53"], "ntp_servers": ["10.0.0.123"],
               "snmp": {"communities": [{"name": "********", "permission": "ro"}], "groups": ["NMS"],
                        "users": ["nmsuser"], "location": "rack 4"},
               "spanning_tree_mode": "rapid-pvst", "iox": true, "boot_files": ["flash:packages.conf"]}
    cpu:
      description:
        - CPU load in percent (5 s, 1 min, 5 min) and per core.
        - C(average) is the device's own average over C(average_seconds) seconds, C(null) where the platform
          family has none (IOS XE, NX-OS); OpenConfig devices average over their own interval (Arista EOS over
          1000 s), also given as C(one_minute) or C(five_minutes) when that interval is 1 or 5 minutes.
        - CPU alerts use C(five_minutes), else C(one_minute), else C(average) when it covers a minute or more;
          never C(five_seconds), an instant reading.
      type: dict
      sample: {"five_seconds": 12, "one_minute": 13, "five_minutes": 10, "average": null, "average_seconds": null,
               "five_seconds_interrupt": 1, "user": 6.86, "system": 4.2, "idle": 88.94,
               "per_core": [{"name": "0", "user": 7.77, "system": 4.2, "idle": 88.03}]}
    memory:
      description: Processor memory in bytes and percent, its status, every pool.
      type: dict
      sample: {"status": "Healthy", "total": 1999981000, "used": 751841975, "free": 1248139025,
               "used_percent": 37.6, "system": {"total": 8191922176, "used_percent": 38.0, "free_percent": 62.0},
               "pools": [{"name": "Processor", "total": 1999981000, "used": 751841975, "free": 1248139025,
                          "used_percent": 37.6}]}
    storage:
      description: File systems (bytes) and image files.
      type: dict
      sample: {"partitions": [{"name": "bootflash:", "status": "Healthy", "total": 11625670656,
                               "used": 4032258048, "used_percent": 34.7}],
               "images": ["packages.conf"]}
    interfaces:
      description:
        - One entry per interface. Counters are integers since the last reset;
          C(counter_widths) says which are 32-bit (they wrap) and which 64-bit.
        - C(rates) are the device's own averages in bit/s and packets/s.
      type: list
      elements: dict
      sample: [{"name": "GigabitEthernet1/0/1", "description": "uplink", "type": "ethernet", "admin_status": "up",
                "oper_status": "up", "mtu": 1500, "speed": 1000000000, "duplex": "full",
                "mac": "00:a3:d1:12:34:56", "vrf": null,
                "ipv4": [{"address": "10.0.0.1", "netmask": "255.255.255.0", "prefix_length": 24}], "ipv6": [],
                "last_change": "2026-11-05T12:14:53.288Z", "last_change_seconds_ago": 2068572,
                "counters": {"in_octets": 1078034194534, "out_octets": 4149185774461, "in_errors": 0,
                             "in_discards": 0, "in_crc_errors": 0},
                "counter_widths": {"in_octets": 64, "out_octets": 64}, "flaps": 0,
                "rates": {"in_bps": 4376000, "out_bps": 16844000, "in_pps": 533, "out_pps": 2052},
                "discontinuity_time": "2026-11-05T12:14:18.288Z"}]
    environment:
      description:
        - Sensors with reading, unit, state, what the state means (C(state_class)), thresholds and an alert flag.
        - C(state_class) is normal, inactive (shut, not present, standby), warning, critical, failed or unknown;
          only warning, critical and failed states alert by themselves, and an inactive sensor's reading is not
          judged. Thresholds that are all 0 (IOS XE's way of saying none) are null; a sensor without thresholds
          never alerts on its reading, except temperatures, which are held to the C(temperature_celsius) threshold of O(thresholds).
      type: list
      elements: dict
      sample: [{"name": "Temp: Inlet", "location": "Switch 1", "kind": "temperature", "reading": 27.0,
                "unit": "celsius", "state": "Normal", "state_class": "normal",
                "thresholds": {"low_critical": -5.0, "low_normal": 0.0, "high_normal": 46.0, "high_critical": 56.0},
                "alert": false}]
    neighbors:
      description: CDP and LLDP neighbours.
      type: dict
      sample: {"cdp": [{"device": "core-1.example.net", "local_interface": "TenGigabitEthernet1/1/1",
                        "remote_interface": "TenGigabitEthernet1/0/11", "platform": "cisco C9500-24Y4C",
                        "address": "10.250.1.1", "capabilities": ["Router", "Switch", "IGMP"]}],
               "lldp": []}
    arp:
      description: ARP entries of every VRF.
      type: list
      elements: dict
      sample: [{"vrf": "default", "address": "10.0.0.2", "mac": "52:54:00:00:02:1b",
                "interface": "Vlan10", "type": "dynamic"}]
    licensing:
      description: Smart licensing (IOS XE 17), null where the model is absent.
      type: dict
      sample: {"enabled": true, "transport": "cslu", "cslu_url": "http://cslu-local:8182/cslu/v1/pi",
               "udi": {"pid": "C9300-48P", "serial": "FOC2CNG009G"},
               "usage": [{"name": "dna-advantage", "description": "C9300-48 DNA Advantage", "count": 1,
                          "status": "in-use", "enforcement": "subscription"}],
               "policy": "Cisco default", "last_report": "2026-11-20T10:51:05.000Z",
               "next_report": "2026-12-20T10:51:05.000Z"}
    alerts:
      description: Readings over the thresholds, critical first.
      type: list
      elements: dict
      sample: [{"kind": "environment", "level": "warning", "subject": "Temp: Inlet",
                "message": "Temp: Inlet: 49.0°C, state Warning"}]
    sections:
      description: For every section, its status (ok, absent, error, skipped), message, duration and the paths read.
      type: dict
      sample: {"environment": {"status": "absent", "message": "no data on Cisco-IOS-XE-environment-oper:environment-sensors (204: the feature is not running)",
                               "duration": 0.004, "resources": ["Cisco-IOS-XE-environment-oper:environment-sensors"]}}
device_json:
  description: The whole device record as one JSON string (with O(result_format=json)); C(from_json) gives RV(device).
  returned: when O(result_format=json)
  type: str
  sample: '{"schema":1,"host":"c9300-01","status":"ok","identity":{"hostname":"c9300-01"}}'
device_json_gz:
  description:
    - The whole device record as JSON, gzip-compressed, base64-encoded (with O(result_format=json_gz)).
  returned: when O(result_format=json_gz)
  type: str
  sample: H4sIAAAAAAAAA6tWKk7OSM1NVLIy1FHKyC8uUbJSSrY0NjDQNTBU0lEqLkksKS0GiuVnK9UCAKM9/PksAAAA
msg:
  description: Why the task failed (only with O(fail_on_error=true), or for bad parameters).
  returned: failure
  type: str
  sample: "c9300-07: auth_failed: authentication failed: 401 access-denied on /.well-known/host-meta"
ansible_facts:
  description: Facts set for later tasks.
  returned: when the RESTCONF root is known
  type: dict
  contains:
    johann_restconf_root:
      description: The RESTCONF root of the device, so later tasks skip discovery.
      type: str
      sample: /restconf
"""
