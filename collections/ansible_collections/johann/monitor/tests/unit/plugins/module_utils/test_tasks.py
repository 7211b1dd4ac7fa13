"""_tasks: what device_info returns for a device the controller could not read (a stalled shared poller),
and mask(), which hides the secrets of what restconf_get returns (and show_run.yml writes)."""
from __future__ import annotations

import base64
import gzip
import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.johann.monitor.plugins.module_utils._tasks import device_info_spec, device_not_read, mask


def _params(**given):
    result = ArgumentSpecValidator(device_info_spec()).validate({"host": "192.0.2.7", **given})
    assert not result.error_messages
    return result.validated_parameters


def test_a_device_not_read_is_an_error_record_with_the_reason_in_both_result_formats():
    for result_format in ("dict", "json"):
        result = device_not_read(_params(result_format=result_format, gather=["min"]), "c9300-07",
                                 "not read: the shared poller did not answer within 75 s")
        record = json.loads(result["device_json"]) if result_format == "json" else result["device"]
        assert (result["status"], record["status"], record["host"]) == ("error", "error", "c9300-07")
        assert record["message"] == "not read: the shared poller did not answer within 75 s"
        assert record["requests"] == 0 and record["alerts"] == [] and record["deadline"] == 60.0
        assert record["sections"]["identity"]["status"] == "skipped"
        assert "failed" not in result


def test_json_gz_carries_the_same_record_compressed_and_the_report_reads_it():
    from ansible_collections.johann.monitor.plugins.plugin_utils._report import records

    plain = device_not_read(_params(result_format="json"), "c9300-07", "not read: stalled")
    packed = device_not_read(_params(result_format="json_gz"), "c9300-07", "not read: stalled")

    def timeless(record: dict) -> dict:   # the two calls read the clock apart: polled_at may differ by a tick
        return {k: v for k, v in record.items() if k != "polled_at"}

    assert "device_json" not in packed and timeless(packed["device"]) == timeless(plain["device"])
    text = gzip.decompress(base64.b64decode(packed["device_json_gz"])).decode()
    assert timeless(json.loads(text)) == timeless(json.loads(plain["device_json"]))
    assert json.loads(text)["polled_at"] == packed["device"]["polled_at"]
    assert len(packed["device_json_gz"]) < len(plain["device_json"]) / 2   # a small record; a C9300 one shrinks ~10x
    assert timeless(records.from_result("c9300-07", packed)) == timeless(records.from_result("c9300-07", plain))
    assert records.from_result("c9300-07", packed)["message"] == "not read: stalled"


def test_fail_on_error_fails_the_task_for_a_device_not_read():
    result = device_not_read(_params(fail_on_error=True), "c9300-07", "not read: stalled")
    assert result["failed"] is True and result["msg"] == "c9300-07: error: not read: stalled"


# IOS XE native configuration as RESTCONF serves it (RFC 7951), with the secrets johann's record and
# show_run.yml must never show: what `show running-config` has as enable secret, username ... secret/password,
# snmp-server community / host, tacacs/radius server key, key chain key-string, crypto isakmp key,
# ikev2 keyring pre-shared-key, bgp neighbor password, ospf message-digest-key and ntp authentication-key.
NATIVE = {"Cisco-IOS-XE-native:native": {
    "hostname": "c9300-01",
    "enable": {"secret": {"type": "9", "secret": "$9$enable-secret"}, "password": {"secret": "enable-pw"}},
    "username": [{"name": "admin", "privilege": 15, "secret": {"encryption": "9", "secret": "$9$user-secret"}},
                 {"name": "old", "password": {"encryption": "0", "password": "user-password"}}],
    "snmp-server": {"Cisco-IOS-XE-snmp:community-config": [{"name": "community-ro", "permission": "ro"}],
                    "Cisco-IOS-XE-snmp:host-config": {"ip-community-port": [
                        {"ip-address": "10.0.0.9", "community-or-user": "community-trap", "version": "2c"}]},
                    "Cisco-IOS-XE-snmp:location": "rack 4"},
    "tacacs": {"Cisco-IOS-XE-aaa:server": [{"name": "tac1", "address": {"ipv4": "10.0.0.7"},
                                            "key": {"encryption": "0", "key": "tacacs-key"}}]},
    "radius": {"Cisco-IOS-XE-aaa:server": [{"id": "rad1", "key": {"key": "radius-key"},
                                            "pac": {"key": {"encryption": "0", "key": "radius-pac-key"}}}]},
    "key": {"Cisco-IOS-XE-crypto:chain": [{"name": "OSPF-AUTH", "key": [
        {"id": 1, "key-string": {"encryption": "0", "key": "chain-key"}}]}]},
    "crypto": {
        "Cisco-IOS-XE-crypto:isakmp": {"key": [{"key": "isakmp-key", "addr4-container": {"ipv4-addr": "192.0.2.1"}}]},
        "Cisco-IOS-XE-crypto:ikev2": {"keyring": [{"name": "kr", "peer": [
            {"name": "p1", "pre-shared-key": {"local-option": {"encryption": "6", "key": "ikev2-local"},
                                              "remote-option": {"key": "ikev2-remote"}}}]}]}},
    "router": {"Cisco-IOS-XE-bgp:bgp": [{"id": 65000, "neighbor": [
        {"id": "10.1.1.1", "remote-as": 65001, "description": "peer one",
         "password": {"enctype": 7, "text": "bgp-password"}}]}]},
    "interface": {"GigabitEthernet": [{"name": "1/0/1", "description": "uplink", "ip": {
        "Cisco-IOS-XE-ospf:router-ospf": {"ospf": {"message-digest-key": [
            {"id": 1, "md5": {"auth-key": "ospf-md5", "auth-type": 0}}]}}}}]},
    "ntp": {"Cisco-IOS-XE-ntp:authentication-key": [{"number": 1, "md5-cfg": "ntp-key", "encryption-type": 7}],
            "Cisco-IOS-XE-ntp:server": {"server-list": [{"ip-address": "10.0.0.123"}]}},
    "line": {"vty": [{"first": 0, "last": 4, "password": {"secret": "vty-password"}}]},
}}
SECRETS = ("$9$enable-secret", "enable-pw", "$9$user-secret", "user-password", "community-ro", "community-trap",
           "tacacs-key", "radius-key", "radius-pac-key", "chain-key", "isakmp-key", "ikev2-local", "ikev2-remote",
           "bgp-password", "ospf-md5", "ntp-key", "vty-password")


def test_mask_hides_every_ios_xe_secret_and_keeps_the_rest():
    masked = mask(NATIVE)
    text = json.dumps(masked)
    assert [s for s in SECRETS if s in text] == []
    native = masked["Cisco-IOS-XE-native:native"]
    assert native["enable"] == {"secret": {"type": "9", "secret": "********"}, "password": {"secret": "********"}}
    assert native["username"] == [
        {"name": "admin", "privilege": 15, "secret": {"encryption": "9", "secret": "********"}},
        {"name": "old", "password": {"encryption": "0", "password": "********"}}]
    snmp = native["snmp-server"]
    assert snmp["Cisco-IOS-XE-snmp:community-config"] == [{"name": "********", "permission": "ro"}]
    assert snmp["Cisco-IOS-XE-snmp:host-config"]["ip-community-port"][0] == {
        "ip-address": "10.0.0.9", "community-or-user": "********", "version": "2c"}
    assert snmp["Cisco-IOS-XE-snmp:location"] == "rack 4"
    assert native["tacacs"]["Cisco-IOS-XE-aaa:server"][0] == {
        "name": "tac1", "address": {"ipv4": "10.0.0.7"}, "key": {"encryption": "0", "key": "********"}}
    assert native["key"]["Cisco-IOS-XE-crypto:chain"][0]["key"][0] == {
        "id": 1, "key-string": {"encryption": "0", "key": "********"}}
    neighbor = native["router"]["Cisco-IOS-XE-bgp:bgp"][0]["neighbor"][0]
    assert neighbor == {"id": "10.1.1.1", "remote-as": 65001, "description": "peer one",
                        "password": {"enctype": 7, "text": "********"}}
    ospf = native["interface"]["GigabitEthernet"][0]["ip"]["Cisco-IOS-XE-ospf:router-ospf"]["ospf"]
    assert ospf["message-digest-key"] == [{"id": 1, "md5": {"auth-key": "********", "auth-type": 0}}]
    assert native["ntp"]["Cisco-IOS-XE-ntp:authentication-key"] == [
        {"number": 1, "md5-cfg": "********", "encryption-type": 7}]
    assert native["interface"]["GigabitEthernet"][0]["description"] == "uplink"
    assert native["hostname"] == "c9300-01"
    assert list(native) == list(NATIVE["Cisco-IOS-XE-native:native"])   # the device's order


def test_mask_covers_ietf_system_users_and_leaf_lists_and_leaves_the_input_alone():
    system = {"ietf-system:system": {"hostname": "gx", "authentication": {"user": [
        {"name": "admin", "password": "$6$ietf-hash", "authorized-key": [{"name": "k", "algorithm": "ssh-ed25519",
                                                                          "key-data": "AAAAC3Nz"}]}]}}}
    masked = mask(system)
    user = masked["ietf-system:system"]["authentication"]["user"][0]
    assert user["password"] == "********" and user["name"] == "admin"
    assert user["authorized-key"] == [{"name": "k", "algorithm": "ssh-ed25519", "key-data": "AAAAC3Nz"}]  # public
    assert system["ietf-system:system"]["authentication"]["user"][0]["password"] == "$6$ietf-hash"   # a copy
    assert mask({"secret": ["one", "two", None]}) == {"secret": ["********", "********", None]}
    assert mask({"password": None}) == {"password": "********"}
