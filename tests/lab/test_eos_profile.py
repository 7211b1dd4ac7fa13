"""The eos profile on the wire: port 6020, EOS's media type, no host-meta, a container's children as replies."""
from __future__ import annotations

import pytest

EOS_JSON = "application/yang.data+json"   # a dot, not RFC 8040's hyphen


def test_listens_on_6020_with_its_own_media_type(lab):
    host = lab.host("eos")
    assert (host["ansible_port"], host["lab_platform"], host["lab_profile"]) == (6020, "openconfig", "eos")
    assert lab.host("c9300")["ansible_port"] == 8443   # the other devices keep the fleet's port
    with lab.client("eos") as client:
        reply = client.get("/restconf/data/openconfig-system:system/state/hostname")
        head = client.head("/restconf/data/openconfig-interfaces:interfaces/interface=Ethernet1")
    assert reply.status_code == 200 and reply.headers["content-type"] == EOS_JSON
    assert reply.json() == {"openconfig-system:hostname": "eos"}
    assert head.status_code == 200 and head.headers["content-type"] == EOS_JSON and head.content == b""


def test_no_host_meta_but_the_configured_root_answers(lab):
    with lab.client("eos") as client:
        meta = client.get("/.well-known/host-meta", headers={"Accept": "application/xrd+xml"})
        root = client.get("/restconf")
    assert meta.status_code == 404 and root.status_code == 200


@pytest.mark.parametrize("path,members", [
    ("openconfig-interfaces:interfaces", ["openconfig-interfaces:interface"]),
    ("openconfig-system:system/config", ["openconfig-system:hostname", "openconfig-system:domain-name"]),
    ("openconfig-interfaces:interfaces/interface=Ethernet49%2F1/config",
     ["openconfig-interfaces:name", "openconfig-interfaces:type", "openconfig-interfaces:enabled",
      "openconfig-interfaces:description", "openconfig-interfaces:mtu", "openconfig-interfaces:loopback-mode",
      "arista-intf-augments:load-interval", "openconfig-vlan:tpid"]),
    ("openconfig-platform:components/component=Chassis/state/memory",
     ["openconfig-platform:available", "openconfig-platform:utilized"]),
])
def test_a_get_answers_the_targets_children_each_prefixed(lab, path, members):
    with lab.client("eos") as client:
        reply = client.get(f"/restconf/data/{path}")
    assert reply.status_code == 200 and list(reply.json()) == members


def test_state_values_as_eos_encodes_them(lab):
    truth = lab.truth("eos")
    with lab.client("eos") as client:
        state = client.get("/restconf/data/openconfig-interfaces:interfaces/interface=Ethernet49%2F1/state").json()
        system = client.get("/restconf/data/openconfig-system:system/state").json()
    counters = state["openconfig-interfaces:counters"]
    assert counters["in-octets"] == str(truth["interfaces"]["Ethernet49/1"]["counters"]["in-octets"])
    # timeticks64: nanoseconds since the epoch, as a string (the lab's resolution is a microsecond)
    assert int(state["openconfig-interfaces:last-change"]) / 1e9 == \
        pytest.approx(truth["interfaces"]["Ethernet49/1"]["last_change_epoch"], abs=1e-6)
    assert int(system["openconfig-system:boot-time"]) / 1e9 == pytest.approx(truth["boot_time"], abs=1e-6)
    assert system["openconfig-system:software-version"] == truth["os_version_full"] == "4.30.2F"


def test_yang_library_lists_openconfig_and_arista_modules(lab):
    with lab.client("eos") as client:
        modules = client.get("/restconf/data/ietf-yang-library:modules-state").json()
        native = client.get("/restconf/data/Cisco-IOS-XE-native:native")
    names = {m["name"] for m in modules["ietf-yang-library:module"]}
    assert {"openconfig-platform", "openconfig-interfaces", "openconfig-system", "openconfig-lldp",
            "arista-intf-augments"} <= names
    assert not any(n.startswith("Cisco-") for n in names) and native.status_code == 404


def test_the_admin_api_serves_what_the_device_would(lab):
    served = lab.admin("GET", "/devices/eos/served",
                       params={"path": "/restconf/data/openconfig-lldp:lldp/interfaces"}).json()
    assert served["status"] == 200 and served["body"].startswith('{"openconfig-lldp:interface":[')
