"""mask() (restconf_get's default, what show_run.yml writes) over the configuration every lab release serves.

No sockets: the lab's RESTCONF layer answers in-process. The secrets are the lab's own (its truth):
each user's secret and the SNMP community names must not survive, everything else must.
"""
from __future__ import annotations

import json

import pytest
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import MASK
from ansible_collections.johann.monitor.plugins.module_utils._tasks import mask

from lab import restconf
from lab.encoding import JSON_TYPE
from lab.fleet import DeviceSpec, Fleet, build_devices
from lab.model import Clock
from lab.profiles import PROFILES

EPOCH = 1795000000.0
NATIVE = "Cisco-IOS-XE-native:native"


def _get(device, path: str, query: dict) -> dict:
    """The whole reply body, as restconf_get gets it (named after the target node)."""
    status, body = restconf.served(device, "/restconf/data/" + path, query, EPOCH, JSON_TYPE)
    assert status == 200
    return json.loads(body)


def _device(profile: str):
    fleet = Fleet([DeviceSpec("dut", profile)], seed=5)
    (device,) = build_devices(fleet, {"username": "u", "password": "p"}, Clock(EPOCH, frozen=True))
    return device


@pytest.mark.parametrize("profile", sorted(p for p in PROFILES if p.startswith("iosxe")))
def test_the_lab_native_configuration_is_masked(profile):
    device = _device(profile)
    served = _get(device, NATIVE, {})
    native = device.config[NATIVE]
    secrets = [u["secret"]["secret"] for u in native["username"]] + \
              [c["name"] for c in native["snmp-server"]["Cisco-IOS-XE-snmp:community-config"]]
    assert len(secrets) == 4 and all(secrets)
    masked = mask(served)
    text = json.dumps(masked)
    assert [s for s in secrets if s in text] == []
    got = masked[NATIVE]
    assert [u["secret"] for u in got["username"]] == [{"encryption": "9", "secret": MASK}] * 3
    assert [u["name"] for u in got["username"]] == ["admin", "netops", "readonly"]
    assert got["snmp-server"]["Cisco-IOS-XE-snmp:community-config"] == [{"name": MASK, "permission": "ro"}]
    # nothing else changed: the masked copy equals the served one once the secrets are put back
    for user, original in zip(got["username"], served[NATIVE]["username"], strict=True):
        user["secret"] = original["secret"]
    got["snmp-server"]["Cisco-IOS-XE-snmp:community-config"] = \
        served[NATIVE]["snmp-server"]["Cisco-IOS-XE-snmp:community-config"]
    assert masked == served and json.dumps(masked) == json.dumps(served)   # same order too


def test_the_lab_ietf_configuration_has_no_secret_and_is_unchanged():
    device = _device("ietf")
    for path in ("ietf-system:system", "ietf-interfaces:interfaces"):
        served = _get(device, path, {"content": "config"})
        assert list(served) == [path] and served[path]
        assert mask(served) == served
