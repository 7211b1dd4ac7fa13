"""Any device_info result, of any shape, becomes a complete record the report can show (records.py, shape.py)."""
from __future__ import annotations

import base64
import copy
import gzip
import json

import pytest
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import SECTIONS
from ansible_collections.johann.monitor.plugins.plugin_utils._report import records, shape

SHAPE = shape.SHAPE


def healthy(**changes) -> dict:
    """A record as device_info gives it: every section read, the types the normalisers produce."""
    record = {
        "schema": 1, "host": "r1", "address": "192.0.2.1", "port": 443, "status": "ok", "message": None,
        "platform": "iosxe", "restconf_root": "/restconf", "root_source": "host-meta",
        "polled_at": "2026-11-18T11:06:40.000Z", "duration": 0.4, "requests": 14, "deadline": 60.0, "notes": [],
        "identity": {"hostname": "r1", "vendor": "Cisco", "platform": "C9300", "model": "C9300-48P", "serial": "FOC1",
                     "os_version": "17.9", "os_version_full": "17.9.4a", "software_version": "17.9.4a",
                     "rommon": "17.8.1r", "last_reboot_reason": "Reload Command", "uptime": 600, "boot_time": "2026-11-18T10:56:40.000Z",
                     "current_time": "2026-11-18T11:06:40.000Z", "unsaved_config": False,
                     "reload_history": [{"time": "2026-11-18T10:56:40.000Z", "reason": "Reload Command"}]},
        "config": {"domain": "lab", "default_gateway": None, "name_servers": ["192.0.2.53"],
                   "ntp_servers": [None, "192.0.2.123"], "users": [{"name": "admin", "privilege": 15}],
                   "snmp": {"communities": [{"name": "********", "permission": "ro"}], "groups": [], "users": [],
                            "location": None}, "spanning_tree_mode": "rapid-pvst", "iox": True, "boot_files": []},
        "cpu": {"five_seconds": 3, "one_minute": 4, "five_minutes": 5, "average": None, "average_seconds": None,
                "per_core": [{"name": "0", "user": 1.5, "system": 0.5, "idle": 98.0}]},
        "memory": {"used_percent": 41.5, "used": 1000, "total": 2400, "status": "Healthy", "pools": []},
        "storage": {"partitions": [{"name": "flash:", "used_percent": 12.0, "used": 1, "total": 8}], "images": []},
        "interfaces": [{"name": "Gi1/0/1", "description": None, "admin_status": "up", "oper_status": "up",
                        "speed": 1_000_000_000, "duplex": "full", "mtu": 1500, "mac": "00:11:22:33:44:55",
                        "ipv4": [{"address": "192.0.2.1", "prefix_length": 24}], "ipv6": [],
                        "last_change": "2026-11-18T10:57:00.000Z", "last_change_seconds_ago": 580,
                        "counters": {"in_octets": 10, "out_octets": 20, "in_errors": 0, "in_crc_errors": 0,
                                     "in_discards": 0, "out_errors": 0, "out_discards": 0, "in_unicast_pkts": 5,
                                     "in_multicast_pkts": 1, "in_broadcast_pkts": 1},
                        "counter_widths": {"in_octets": 64}, "rates": {"in_bps": 1000, "out_bps": 2000},
                        "flaps": 0}],
        "environment": [{"name": "Inlet", "location": "Switch 1", "kind": "temperature", "reading": 31.0,
                         "unit": "celsius", "state": "GREEN", "thresholds": {"low_critical": None, "low_normal": None,
                                                                             "high_normal": 46.0,
                                                                             "high_critical": 56.0},
                         "alert": False}],
        "neighbors": {"cdp": [{"device": "core-1", "local_interface": "Gi1/0/1", "remote_interface": "Te1/1/1",
                               "platform": "C9500", "address": "192.0.2.2"}], "lldp": []},
        "arp": [{"vrf": "default", "address": "192.0.2.2", "mac": "00:11:22:33:44:66", "interface": "Vlan1",
                 "type": "dynamic"}],
        "licensing": {"transport": "cslu", "cslu_url": None, "policy": None, "last_report": None, "next_report": None,
                      "udi": {"pid": "C9300-48P", "serial": "FOC1"}, "usage": [{"name": "dna", "count": 1,
                                                                               "status": "IN USE"}]},
        "sections": {name: {"status": "ok", "message": None, "duration": 0.1, "resources": ["x"]} for name in SECTIONS},
        "alerts": [],
    }
    record.update(changes)
    return record


class Tagged(str):
    """Ansible hands strings over as subclasses of str (data tagging): they are strings."""


def test_a_healthy_record_is_returned_as_it_is():
    record = healthy()
    assert shape.complete(record, "r1") is record
    assert records.from_result("r1", {"changed": False, "device_json": json.dumps(record)}) == record
    packed = base64.b64encode(gzip.compress(json.dumps(record).encode())).decode()
    assert records.from_result("r1", {"changed": False, "device_json_gz": packed}) == record
    tagged = healthy(message=Tagged("fine"), identity=dict(healthy()["identity"], serial=Tagged("FOC1")))
    assert shape.complete(tagged, "r1")["status"] == "ok"


def test_missing_keys_are_added_without_calling_the_record_broken():
    bare = {"status": "unreachable", "message": "connection refused", "host": "r1"}
    done = shape.complete(bare, "r1")
    assert done["status"] == "unreachable" and done["message"] == "connection refused"
    assert set(done) >= {"schema", "address", "polled_at", "sections", "notes", "alerts", *SECTIONS}
    assert done["identity"] is None and done["sections"]["cpu"] == {"status": None, "message": None,
                                                                    "duration": None, "resources": []}
    assert shape.complete(done, "r1") is done   # complete once, then as it is


def test_a_cpu_without_the_devices_own_average_gets_it_as_null():
    """A record of device_info before ``average`` existed (or a family without one) is complete, not broken."""
    done = shape.complete(healthy(cpu={"five_seconds": 3, "one_minute": 4, "five_minutes": 5}), "r1")
    assert done["status"] == "ok" and done["message"] is None
    assert (done["cpu"]["average"], done["cpu"]["average_seconds"], done["cpu"]["five_minutes"]) == (None, None, 5)


@pytest.mark.parametrize("result,status,message", [
    ({"failed": True, "msg": "bad port"}, "error", "the device_info task failed: bad port"),
    ({"failed": True, "msg": "Task failed: Timed out after 5 second(s).", "timedout": {"frame": "x", "period": 5}},
     "error", "the device_info task timed out after 5 s (Ansible's task timeout, a backstop above the device's "
              "deadline: the read did not end in time)"),
    ({"failed": True, "msg": "x", "timedout": {"period": "soon"}}, "error",
     "the device_info task timed out (Ansible's task timeout, a backstop above the device's deadline: the read did "
     "not end in time)"),
    ({"unreachable": True, "msg": "ssh: timed out", "changed": False}, "unreachable",
     "the device_info task could not run, Ansible found the host unreachable: ssh: timed out"),
    ({"failed": True, "exception": "Traceback...", "msg": "Unexpected failure: boom"}, "error",
     "the device_info task failed: Unexpected failure: boom"),
    ({"failed": True}, "error", "the device_info task failed: no message"),
    ({"skipped": True, "skip_reason": "Conditional result was False"}, "missing",
     "the device_info task was skipped for this host (Conditional result was False)"),
    ({"skipped": True}, "missing", "the device_info task was skipped for this host"),
    ("garbage", "error", f"{SHAPE}: it is a string, not a mapping"),
    ([{"device": {}}], "error", f"{SHAPE}: it is a list, not a mapping"),
    (42, "error", f"{SHAPE}: it is a number, not a mapping"),
    ({}, "error", f"{SHAPE}: it has no device record"),
    ({"changed": False, "ansible_facts": {}}, "error", f"{SHAPE}: it has no device record"),
    ({"device": [1, 2]}, "error", f"{SHAPE}: device is a list, not a mapping"),
    ({"device": "ok"}, "error", f"{SHAPE}: device is a string, not a mapping"),
    ({"device_json": "{nope"}, "error", f"{SHAPE}: device_json is not valid JSON (Expecting property name "
                                        f"enclosed in double quotes: line 1 column 2 (char 1))"),
    ({"device_json": "[1]"}, "error", f"{SHAPE}: device_json holds a list, not an object"),
    ({"device_json": "null"}, "error", f"{SHAPE}: device_json holds null, not an object"),
    ({"device_json": {"status": "ok"}}, "error", f"{SHAPE}: device_json is a mapping, not a JSON string"),
    ({"device_json_gz": 7}, "error", f"{SHAPE}: device_json_gz is a number, not a string"),
    ({"device_json_gz": "not base64!"}, "error",
     f"{SHAPE}: device_json_gz is not base64 gzip of UTF-8 (Only base64 data is allowed)"),
    ({"device_json_gz": base64.b64encode(b"plain, not gzip").decode()}, "error",
     f"{SHAPE}: device_json_gz is not base64 gzip of UTF-8 (Error -3 while decompressing data: incorrect header check)"),
    ({"device_json_gz": base64.b64encode(gzip.compress(b"[1]")).decode()}, "error",
     f"{SHAPE}: device_json holds a list, not an object"),
    ({"device_json_gz": base64.b64encode(gzip.compress(b'{"status": "ok"}')[:-9]).decode()}, "error",
     f"{SHAPE}: device_json_gz inflates to more than {records.MAX_PACKED} bytes, or is cut short"),
])
def test_a_result_without_a_usable_record_names_its_cause(result, status, message):
    record = records.from_result("r1", result)
    done = shape.complete(record, "r1")
    assert (done["status"], done["message"]) == (status, message)
    assert done["host"] == "r1" and done["identity"] is None and done["interfaces"] is None
    assert all(s["status"] == "skipped" for s in done["sections"].values())


def test_no_result_at_all_is_none_and_a_failed_task_with_a_record_keeps_it():
    assert records.from_result("r1", None) is None
    failed = {"failed": True, "msg": "r1: degraded: ...", "device_json": json.dumps(healthy(status="degraded"))}
    assert shape.complete(records.from_result("r1", failed), "r1")["status"] == "degraded"   # fail_on_error


def test_an_unusable_device_json_falls_back_on_the_summary_in_device():
    result = {"device_json": "{cut", "device": {"status": "ok", "message": None, "address": "192.0.2.1"}}
    done = shape.complete(records.from_result("r1", result), "r1")
    assert done["status"] == "error" and done["address"] == "192.0.2.1"
    assert done["message"].startswith(f"{SHAPE}: device_json is not valid JSON (")
    assert done["message"].endswith("; the summary in device is shown")


@pytest.mark.parametrize("changes,problems", [
    ({"interfaces": "Gi1"}, ["interfaces is a string, not a list"]),
    ({"identity": ["r1"]}, ["identity is a list, not a mapping"]),
    ({"cpu": {"five_minutes": "95%"}}, ["cpu.five_minutes is a string, not a number"]),
    ({"cpu": {"five_minutes": True}}, ["cpu.five_minutes is a boolean, not a number"]),
    ({"cpu": {"average": 17, "average_seconds": "1000"}}, ["cpu.average_seconds is a string, not a number"]),
    ({"sections": {"cpu": "ok"}}, ["sections.cpu is a string, not a mapping"]),
    ({"sections": []}, ["sections is a list, not a mapping"]),
    ({"environment": [None, {"name": "x", "thresholds": [1]}]},
     ["environment[0] is null, not a mapping", "environment[1].thresholds is a list, not a mapping"]),
    ({"neighbors": {"cdp": [{"device": 7}], "lldp": "none"}},
     ["neighbors.cdp[0].device is a number, not a string", "neighbors.lldp is a string, not a list"]),
    ({"licensing": {"udi": "C9300", "usage": {"dna": 1}}},
     ["licensing.udi is a string, not a mapping", "licensing.usage is a mapping, not a list"]),
    ({"status": "fine"}, ["status is 'fine', not one of ok, degraded, auth_failed, unreachable, error, missing"]),
    ({"status": 3}, ["status is a number, not a string"]),
    ({"polled_at": 1795000000}, ["polled_at is a number, not a string"]),
    ({"notes": "one"}, ["notes is a string, not a list"]),
    ({"alerts": [{"kind": "cpu", "level": ["x"]}]}, ["alerts[0].level is a list, not a scalar"]),
])
def test_a_record_with_parts_of_the_wrong_type_keeps_the_rest_and_names_them(changes, problems):
    record = healthy(**changes)
    original = copy.deepcopy(record)
    done = shape.complete(record, "r1")
    assert done["status"] == "error"
    assert done["message"].startswith(f"{SHAPE}: " + "; ".join(problems))
    assert record == original   # fixed in a copy
    assert "identity" in changes or done["identity"]["serial"] == "FOC1"   # what is usable is kept
    assert shape.complete(done, "r1") is done


def test_the_fixed_record_has_what_the_pages_read():
    done = shape.complete(healthy(interfaces=[{"name": "Gi1", "counters": None, "ipv4": "x"}, "Gi2"],
                                  licensing={"transport": "cslu"}, config={"snmp": {"groups": None}}), "r1")
    interface = done["interfaces"][0]
    assert len(done["interfaces"]) == 1   # an entry of another kind is left out, the others kept
    assert interface["counters"]["in_octets"] is None and interface["rates"] == {"in_bps": None, "out_bps": None}
    assert interface["ipv4"] == [] and interface["ipv6"] == [] and interface["counter_widths"] == {}
    assert done["licensing"]["udi"] == {"pid": None, "serial": None} and done["licensing"]["usage"] == []
    assert done["config"]["snmp"]["groups"] == [] and done["config"]["name_servers"] == []
    assert "interfaces[0].ipv4 is a string, not a list" in done["message"]
    assert "interfaces[1] is a string, not a mapping" in done["message"]


def test_many_problems_are_counted_not_all_listed_and_the_own_status_is_said():
    bad = {name: "x" for name in ("identity", "config", "cpu", "memory", "storage", "interfaces", "environment")}
    done = shape.complete(healthy(status="degraded", message="1 of 10 sections failed", **bad), "r1")
    assert "; and 2 more; device_info's own status: degraded (1 of 10 sections failed)" in done["message"]


def test_a_record_that_is_not_a_mapping_is_an_error_record():
    done = shape.complete(["not", "a", "record"], "r9")
    assert done["host"] == "r9" and done["status"] == "error"
    assert done["message"] == f"{SHAPE}: the record is a list, not a mapping"


def test_timed_out_tells_ansibles_task_timeout():
    assert records.timed_out({"failed": True, "timedout": {"period": 3}})
    assert not records.timed_out({"failed": True, "msg": "timed out after 10 s connecting"})
    assert not records.timed_out("garbage") and not records.timed_out(None)
