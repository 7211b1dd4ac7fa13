"""RFC 8040 behaviour: sub-paths, list keys, query parameters, XML, errors, HEAD, ETag."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

IFACES = "/restconf/data/Cisco-IOS-XE-interfaces-oper:interfaces"


def test_percent_encoded_key_and_sub_path(lab):
    truth = lab.truth("c9300")["interfaces"]["GigabitEthernet1/0/1"]
    with lab.client("c9300") as client:
        stats = client.get(f"{IFACES}/interface=GigabitEthernet1%2F0%2F1/statistics")
        entry = client.get(f"{IFACES}/interface=GigabitEthernet1%2F0%2F1")
        leaf = client.get(f"{IFACES}/interface=GigabitEthernet1%2F0%2F1/statistics/in-octets")
        missing = client.get(f"{IFACES}/interface=GigabitEthernet9%2F9%2F9")
    assert list(stats.json()) == ["Cisco-IOS-XE-interfaces-oper:statistics"]
    assert int(stats.json()["Cisco-IOS-XE-interfaces-oper:statistics"]["in-octets"]) == truth["counters"]["in-octets"]
    (entries,) = entry.json().values()
    assert len(entries) == 1 and entries[0]["name"] == "GigabitEthernet1/0/1"
    assert leaf.json() == {"Cisco-IOS-XE-interfaces-oper:in-octets": str(truth["counters"]["in-octets"])}
    assert missing.status_code == 404
    assert missing.json()["ietf-restconf:errors"]["error"][0]["error-tag"] == "invalid-value"


def test_module_change_qualifies_the_reply(lab):
    with lab.client("c9300") as client:
        reply = client.get("/restconf/data/Cisco-IOS-XE-native:native/ntp/Cisco-IOS-XE-ntp:server")
    assert list(reply.json()) == ["Cisco-IOS-XE-ntp:server"]


def test_fields_selects_members_and_keeps_keys(lab):
    with lab.client("c9300") as client:
        reply = client.get(IFACES, params={"fields": "interface(name;oper-status;statistics(in-octets;out-octets))"})
    entries = reply.json()["Cisco-IOS-XE-interfaces-oper:interfaces"]["interface"]
    assert len(entries) == 56
    assert set(entries[0]) == {"name", "oper-status", "statistics"}
    assert set(entries[0]["statistics"]) == {"in-octets", "out-octets"}


def test_depth_limits_levels(lab):
    with lab.client("c9300") as client:
        one = client.get("/restconf/data/Cisco-IOS-XE-native:native", params={"depth": "1"})
        two = client.get("/restconf/data/Cisco-IOS-XE-native:native", params={"depth": "2"})
    assert one.json() == {"Cisco-IOS-XE-native:native": {}}
    native = two.json()["Cisco-IOS-XE-native:native"]
    assert native["hostname"] == "c9300" and native["ip"] == {} and native["interface"] == {}


def test_content_splits_nmda_config_and_state(lab):
    path = "/restconf/data/ietf-interfaces:interfaces/interface=eth0"
    with lab.client("gx") as client:
        config = client.get(path, params={"content": "config"}).json()["ietf-interfaces:interface"][0]
        state = client.get(path, params={"content": "nonconfig"}).json()["ietf-interfaces:interface"][0]
        native_state = client.get("/restconf/data/ietf-system:system", params={"content": "nonconfig"})
    assert "statistics" not in config and config["description"] == "management" and config["enabled"] is True
    assert "statistics" in state and "description" not in state and state["name"] == "eth0"
    assert native_state.status_code == 204


@pytest.mark.parametrize("params,message", [
    ({"depth": "0"}, "depth"), ({"content": "everything"}, "content"), ({"filter": "/x"}, "not supported"),
    ({"bogus": "1"}, "unknown query parameter"), ({"fields": "interface(name"}, "fields"),
    ({"with-defaults": "sometimes"}, "with-defaults"),
])
def test_bad_query_parameters_get_400_with_errors_body(lab, params, message):
    with lab.client("c9300") as client:
        reply = client.get(IFACES, params=params)
    assert reply.status_code == 400
    assert message in reply.json()["ietf-restconf:errors"]["error"][0]["error-message"]


def test_xml_without_accept_header_errors_included(lab):
    with lab.client("c9300", headers={}) as client:
        data = client.get("/restconf/data/Cisco-IOS-XE-native:native/hostname")
        error = client.get("/restconf/data/Cisco-IOS-XE-native:native/nosuchleaf")
    assert data.headers["content-type"] == "application/yang-data+xml"
    node = ET.fromstring(data.text)
    assert node.tag == "{http://cisco.com/ns/yang/Cisco-IOS-XE-native}hostname" and node.text == "c9300"
    assert error.status_code == 404 and error.headers["content-type"] == "application/yang-data+xml"
    ns = "{urn:ietf:params:xml:ns:yang:ietf-restconf}"
    assert ET.fromstring(error.text).find(f"{ns}error/{ns}error-tag").text == "invalid-value"


def test_xml_declares_identity_prefixes(lab):
    with lab.client("gx", headers={"Accept": "application/yang-data+xml"}) as client:
        reply = client.get("/restconf/data/ietf-interfaces:interfaces/interface=eth0/type")
    node = ET.fromstring(reply.text)
    assert node.text == "iana-if-type:ethernetCsmacd"
    assert 'xmlns:iana-if-type="urn:ietf:params:xml:ns:yang:iana-if-type"' in reply.text


def test_head_is_cheap_and_has_no_body(lab):
    with lab.client("c9300") as client:
        head = client.head("/restconf/data/Cisco-IOS-XE-native:native/hostname")
    assert head.status_code == 200 and head.content == b""


def test_datastore_etag_and_conditional_get(lab):
    with lab.client("csr") as client:
        first = client.get("/restconf/data")
        etag = first.headers["etag"]
        again = client.get("/restconf/data", headers={"If-None-Match": etag})
    assert first.status_code == 200 and "Cisco-IOS-XE-native:native" in first.json()["ietf-restconf:data"]
    assert "last-modified" in first.headers and again.status_code == 304


@pytest.mark.parametrize("path", ["/restconf/data/nomodule", "/restconf/data/Foo:bar", "/restconf/other",
                                  "/restconf/data/Cisco-IOS-XE-native:native//x", "/not-restconf"])
def test_unknown_paths_are_restconf_errors(lab, path):
    with lab.client("c9300") as client:
        reply = client.get(path)
    assert reply.status_code in (400, 404)
    assert reply.json()["ietf-restconf:errors"]["error"][0]["error-tag"] in ("invalid-value", "malformed-message")


def test_operations_and_unsupported_method(lab):
    with lab.client("c9300") as client:
        ops = client.get("/restconf/operations").json()
        method = client.request("OPTIONS", "/restconf/data/Cisco-IOS-XE-native:native")
    assert "cisco-ia:save-config" in ops["ietf-restconf:operations"]
    assert method.status_code == 405 and "GET" in method.headers["allow"]
