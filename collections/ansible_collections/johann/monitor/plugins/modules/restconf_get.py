# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation of johann.monitor.restconf_get, and only that: the action plugin of the same name
(plugins/action/restconf_get.py) runs the task on the controller, so there is no module to run on a host."""
from __future__ import annotations

DOCUMENTATION = r"""
module: restconf_get
short_description: GET any RESTCONF data resource
version_added: 0.1.0
description:
  - Reads one data resource (C({root}/data/{path})) over RESTCONF (RFC 8040) and returns its
    JSON, the HTTP status and the useful headers.
  - A missing instance (404) returns RV(absent=true) instead of failing, unless O(fail_on_missing).
  - Runs on the controller as an action plugin.
author: johann.monitor contributors (!UNKNOWN)
options:
  path:
    description:
      - Path after C({root}/data/), such as V(Cisco-IOS-XE-native:native/hostname). Percent-encode
        list keys that contain C(/), such as V(interface=GigabitEthernet1%2F0%2F1).
    type: str
    required: true
  content:
    description: RESTCONF C(content) query parameter.
    type: str
    choices: [config, nonconfig, all]
  depth:
    description: RESTCONF C(depth) query parameter (1 or more); leave it out for unbounded.
    type: int
  fields:
    description: RESTCONF C(fields) query parameter, such as V(interface(name;oper-status)).
    type: str
  with_defaults:
    description: RESTCONF C(with-defaults) query parameter.
    type: str
    choices: [report-all, trim, explicit, report-all-tagged]
  fail_on_missing:
    description: Fail when the resource does not exist (404) instead of returning RV(absent=true).
    type: bool
    default: false
  mask_secrets:
    description:
      - Replace secret leaves in the returned data (passwords, secrets, keys, SNMP community
        strings) with C(********), so they do not reach the output, logs or ARA.
      - Secrets are found by node name, in any model - C(password), C(secret), C(key), C(key-string),
        C(auth-key), C(authentication-key), C(pre-shared-key), C(auth-password), C(priv-password),
        C(shared-secret), C(community-string), C(community-or-user), and the C(name) of each entry of
        an IOS XE C(community-config) or C(community) list. A secret that is a container (IOS XE
        C(enable/secret), C(username/password), C(tacacs/server/key), BGP C(neighbor/password)...) has
        every string in it masked but its encryption type (C(encryption), C(encryption-type), C(enctype),
        C(type)).
    type: bool
    default: true
extends_documentation_fragment:
  - johann.monitor.restconf
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
"""

EXAMPLES = r"""
- name: Read the hostname of an IOS XE device
  johann.monitor.restconf_get:
    path: Cisco-IOS-XE-native:native/hostname
  register: hostname

- name: Read two leaves of every interface
  johann.monitor.restconf_get:
    path: Cisco-IOS-XE-interfaces-oper:interfaces
    fields: interface(name;oper-status;statistics(in-octets;out-octets))

- name: One interface, by its percent-encoded key
  johann.monitor.restconf_get:
    path: Cisco-IOS-XE-interfaces-oper:interfaces/interface=GigabitEthernet1%2F0%2F1/statistics
"""

RETURN = r"""
status:
  description: HTTP status of the reply (200, or 204 when the device has no data for a running feature).
  returned: always
  type: int
  sample: 200
absent:
  description: True when the resource does not exist on the device (404).
  returned: success
  type: bool
  sample: false
data:
  description: The decoded JSON reply, named after the target node (RFC 8040), secrets masked.
  returned: success
  type: dict
  sample: {"Cisco-IOS-XE-native:hostname": "c9300-01"}
headers:
  description: The useful reply headers.
  returned: success
  type: dict
  contains:
    etag:
      description: Entity tag of the resource, when the device sends one.
      returned: when sent
      type: str
      sample: '"c9300-01-3"'
    last_modified:
      description: Last-Modified of the resource, when the device sends one.
      returned: when sent
      type: str
      sample: Sun, 29 Nov 2026 10:26:37 GMT
    content_type:
      description: Media type of the reply.
      returned: when the reply has a body
      type: str
      sample: application/yang-data+json
url:
  description: The URL that was read.
  returned: always
  type: str
  sample: https://198.51.100.7:443/restconf/data/Cisco-IOS-XE-native:native/hostname
restconf_root:
  description: The RESTCONF root used (discovered from host-meta or configured).
  returned: success
  type: str
  sample: /restconf
msg:
  description: What went wrong, in words a network engineer acts on.
  returned: on failure or when absent
  type: str
  sample: "authentication failed: 401 access-denied (access denied) on /.well-known/host-meta"
error:
  description: The error, typed.
  returned: failure
  type: dict
  sample: {"kind": "auth", "status": 401, "error_tag": "access-denied", "error_message": "access denied",
           "error_type": "protocol", "message": "authentication failed: 401 access-denied", "url": "", "path": ""}
requests:
  description: HTTP requests made (retries included).
  returned: failure
  type: int
  sample: 2
"""
