"""Configuration writes (PUT, PATCH, POST, DELETE) change the device and show in later GETs."""
from __future__ import annotations

import pytest

NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"
NTP = NATIVE + "/ntp/Cisco-IOS-XE-ntp:server"
JSON_BODY = {"Content-Type": "application/yang-data+json"}


def _error(reply):
    return reply.json()["ietf-restconf:errors"]["error"][0]


def test_put_hostname_is_read_back_everywhere(lab):
    with lab.client("writer") as client:
        etag = client.get("/restconf/data").headers["etag"]
        put = client.put(NATIVE + "/hostname", json={"Cisco-IOS-XE-native:hostname": "edge-7"}, headers=JSON_BODY)
        hostname = client.get(NATIVE + "/hostname").json()
        unsaved = client.get("/restconf/data/Cisco-IOS-XE-device-hardware-oper:device-hardware-data/"
                             "device-hardware/device-system-data/unsaved-config").json()
        saved = client.post("/restconf/operations/cisco-ia:save-config", headers=JSON_BODY)
        after_save = client.get("/restconf/data/Cisco-IOS-XE-device-hardware-oper:device-hardware-data/"
                                "device-hardware/device-system-data/unsaved-config").json()
        new_etag = client.get("/restconf/data").headers["etag"]
    assert put.status_code == 204
    assert hostname == {"Cisco-IOS-XE-native:hostname": "edge-7"}
    assert lab.truth("writer")["hostname"] == "edge-7"
    assert list(unsaved.values()) == [True] and list(after_save.values()) == [False]
    assert saved.json()["cisco-ia:output"]["result"].startswith("Save running config")
    assert new_etag != etag


def test_patch_native_description_shows_in_oper_and_ietf_views(lab):
    path = NATIVE + "/interface/GigabitEthernet=1%2F0%2F3"
    body = {"Cisco-IOS-XE-native:GigabitEthernet": [{"name": "1/0/3", "description": "to printer 4F"}]}
    with lab.client("writer") as client:
        patch = client.patch(path, json=body, headers=JSON_BODY)
        oper = client.get("/restconf/data/Cisco-IOS-XE-interfaces-oper:interfaces/"
                          "interface=GigabitEthernet1%2F0%2F3/description").json()
        ietf = client.get("/restconf/data/ietf-interfaces:interfaces/interface=GigabitEthernet1%2F0%2F3").json()
    assert patch.status_code == 204
    assert oper == {"Cisco-IOS-XE-interfaces-oper:description": "to printer 4F"}
    assert ietf["ietf-interfaces:interface"][0]["description"] == "to printer 4F"


def test_ietf_interfaces_disable_sets_admin_down(lab):
    path = "/restconf/data/ietf-interfaces:interfaces/interface=GigabitEthernet1%2F0%2F2"
    body = {"ietf-interfaces:interface": [{"name": "GigabitEthernet1/0/2", "enabled": False}]}
    with lab.client("writer") as client:
        assert client.patch(path, json=body, headers=JSON_BODY).status_code == 204
        oper = client.get("/restconf/data/Cisco-IOS-XE-interfaces-oper:interfaces/"
                          "interface=GigabitEthernet1%2F0%2F2").json()
        native = client.get(NATIVE + "/interface/GigabitEthernet=1%2F0%2F2").json()
    entry = oper["Cisco-IOS-XE-interfaces-oper:interface"][0]
    assert entry["admin-status"] == "if-state-down" and entry["oper-status"] != "if-oper-state-ready"
    assert native["Cisco-IOS-XE-native:GigabitEthernet"][0]["shutdown"] == [None]


def test_post_creates_then_conflicts_then_delete_removes(lab):
    body = {"Cisco-IOS-XE-ntp:server-list": [{"ip-address": "192.0.2.123"}]}
    with lab.client("writer") as client:
        created = client.post(NTP, json=body, headers=JSON_BODY)
        again = client.post(NTP, json=body, headers=JSON_BODY)
        listed = client.get(NTP).json()["Cisco-IOS-XE-ntp:server"]["server-list"]
        deleted = client.delete(NTP + "/server-list=192.0.2.123")
        gone = client.get(NTP + "/server-list=192.0.2.123")
        deleted_again = client.delete(NTP + "/server-list=192.0.2.123")
    assert created.status_code == 201
    assert created.headers["location"].endswith("/server-list=192.0.2.123")
    assert again.status_code == 409 and _error(again)["error-tag"] == "data-exists"
    assert {"ip-address": "192.0.2.123"} in listed
    assert deleted.status_code == 204 and gone.status_code == 404 and deleted_again.status_code == 404


def test_put_creates_a_missing_list_entry_with_201(lab):
    path = "/restconf/data/ietf-interfaces:interfaces/interface=Loopback42"
    body = {"ietf-interfaces:interface": [{"name": "Loopback42", "type": "iana-if-type:softwareLoopback",
                                           "description": "created by PUT", "enabled": True}]}
    with lab.client("gxwriter") as client:
        first = client.put(path, json=body, headers=JSON_BODY)
        second = client.put(path, json=body, headers=JSON_BODY)
        read = client.get(path).json()["ietf-interfaces:interface"][0]
    assert (first.status_code, second.status_code) == (201, 204)
    assert read["description"] == "created by PUT" and read["oper-status"] == "not-present"


def test_ietf_system_hostname_write(lab):
    with lab.client("gxwriter") as client:
        reply = client.patch("/restconf/data/ietf-system:system", json={"ietf-system:system": {"hostname": "gx-new"}},
                             headers=JSON_BODY)
        read = client.get("/restconf/data/ietf-system:system/hostname").json()
    assert reply.status_code == 204 and read == {"ietf-system:hostname": "gx-new"}


@pytest.mark.parametrize("method,path,body,status,tag", [
    ("PUT", NATIVE + "/hostname", b"{not json", 400, "malformed-message"),
    ("PUT", NATIVE + "/hostname", b'{"a": 1, "b": 2}', 400, "malformed-message"),
    ("PUT", NATIVE + "/hostname", b'{"Cisco-IOS-XE-native:hostname": "has space"}', 400, "invalid-value"),
    ("PUT", NATIVE + "/hostname", b'{"Cisco-IOS-XE-native:domain": "x"}', 400, "invalid-value"),
    ("PATCH", NATIVE + "/interface/GigabitEthernet=1%2F0%2F4",
     b'{"Cisco-IOS-XE-native:GigabitEthernet": [{"name": "1/0/4", "mtu": 5}]}', 400, "invalid-value"),
    ("PUT", NATIVE + "/interface/GigabitEthernet=1%2F0%2F4",
     b'{"Cisco-IOS-XE-native:GigabitEthernet": [{"name": "1/0/9"}]}', 400, "invalid-value"),
    ("POST", NTP, b'{"Cisco-IOS-XE-ntp:server-list": [{"ip-address": "not-an-ip"}]}', 400, "invalid-value"),
    ("PATCH", "/restconf/data/ietf-interfaces:interfaces/interface=GigabitEthernet9%2F9%2F9",
     b'{"ietf-interfaces:interface": [{"name": "GigabitEthernet9/9/9", "description": "x"}]}', 404, "invalid-value"),
    ("PUT", "/restconf/data/Cisco-IOS-XE-interfaces-oper:interfaces", b'{"x": 1}', 405, "operation-not-supported"),
    ("DELETE", NATIVE, b"", 405, "operation-not-supported"),
    ("PATCH", NATIVE + "/nosuch", b'{"Cisco-IOS-XE-native:nosuch": 1}', 404, "invalid-value"),
])
def test_invalid_writes_are_refused_and_change_nothing(lab, method, path, body, status, tag):
    before = lab.truth("writer")["config"]
    with lab.client("writer") as client:
        reply = client.request(method, path, content=body, headers=JSON_BODY)
    assert reply.status_code == status, reply.text
    assert _error(reply)["error-tag"] == tag
    assert lab.truth("writer")["config"] == before


def test_state_members_are_read_only_in_nmda_writes(lab):
    path = "/restconf/data/ietf-interfaces:interfaces/interface=eth2"
    body = {"ietf-interfaces:interface": [{"name": "eth2", "oper-status": "up"}]}
    with lab.client("gxwriter") as client:
        reply = client.patch(path, json=body, headers=JSON_BODY)
    assert reply.status_code == 400 and "read-only" in _error(reply)["error-message"]


def test_xml_bodies_are_refused_with_415(lab):
    with lab.client("writer") as client:
        reply = client.put(NATIVE + "/hostname", content=b"<hostname>x</hostname>",
                           headers={"Content-Type": "application/yang-data+xml"})
    assert reply.status_code == 415 and "JSON" in _error(reply)["error-message"]
