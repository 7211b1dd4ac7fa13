"""A bounded fuzz run: random paths, queries, methods, bodies and bytes never crash the lab.

Every answer must be a RESTCONF answer: a success, or an error status with an
``ietf-restconf:errors`` body, and never a 500 (which aiohttp sends when a
handler raises).  Afterwards the fuzzed devices and the lab still serve.
"""
from __future__ import annotations

import json
import socket
import string

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz

TOPS = ["Cisco-IOS-XE-native:native", "Cisco-IOS-XE-interfaces-oper:interfaces", "ietf-interfaces:interfaces",
        "ietf-system:system", "Cisco-IOS-XE-native:native/interface/GigabitEthernet=1%2F0%2F1",
        "Cisco-IOS-XE-native:native/ntp/Cisco-IOS-XE-ntp:server", "ietf-yang-library:modules-state"]
CHARS = string.ascii_letters + string.digits + "-_:=,%./;()'<>\"\\ ~!*"
SEGMENT = st.text(alphabet=CHARS, max_size=24)
PATHS = st.one_of(
    st.lists(SEGMENT, max_size=5).map(lambda s: "/restconf/data/" + "/".join(s)),
    st.tuples(st.sampled_from(TOPS), st.lists(SEGMENT, max_size=3)).map(
        lambda t: "/restconf/data/" + "/".join([t[0], *t[1]])),
    SEGMENT.map(lambda s: "/" + s),
)
QUERY = st.lists(st.tuples(st.sampled_from(["depth", "fields", "content", "with-defaults", "filter", "x"]),
                           st.text(alphabet=CHARS, max_size=16)), max_size=3)
JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner,
                                                                                    max_size=3), max_leaves=10)
BODIES = st.one_of(st.binary(max_size=120), JSONISH.map(lambda v: json.dumps(v).encode()),
                   st.tuples(st.sampled_from(["Cisco-IOS-XE-native:hostname", "ietf-interfaces:interface",
                                              "Cisco-IOS-XE-ntp:server-list", "hostname"]), JSONISH)
                   .map(lambda kv: json.dumps({kv[0]: kv[1]}).encode()))
METHODS = st.sampled_from(["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS"])
OK = {200, 201, 204, 304}
ERRORS = {400, 401, 404, 405, 409, 415}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(device=st.sampled_from(["fuzz", "fuzzgx"]), method=METHODS, path=PATHS, query=QUERY, body=BODIES)
def test_random_requests_get_restconf_answers(lab, device, method, path, query, body):
    with lab.client(device) as client:
        try:
            reply = client.request(method, path, params=query, content=body,
                                   headers={"Content-Type": "application/yang-data+json"})
        except httpx.InvalidURL:
            return   # the client refused to send it; nothing reached the lab
    assert reply.status_code in OK | ERRORS, (method, path, query, body, reply.status_code, reply.text[:200])
    if reply.status_code in ERRORS and method != "HEAD":
        if reply.headers.get("content-type", "").startswith("text/plain"):
            assert reply.status_code == 400   # aiohttp's own parser refused the request line
        else:
            assert "ietf-restconf:errors" in reply.json()
    elif reply.status_code == 200 and method != "HEAD" and "json" in reply.headers.get("content-type", ""):
        assert isinstance(reply.json(), dict)


@settings(max_examples=40, deadline=None)
@given(payload=st.binary(min_size=1, max_size=300))
def test_random_bytes_on_the_wire(lab, payload):
    host = lab.host("fuzz")
    with socket.create_connection((host["ansible_host"], host["ansible_port"]), timeout=5) as raw, \
            lab.tls().wrap_socket(raw, server_hostname=host["ansible_host"]) as tls:
        tls.sendall(payload + b"\r\n\r\n")
        tls.settimeout(0.3)
        try:
            head = tls.recv(20)
        except (TimeoutError, ConnectionError, OSError):
            head = b""   # waiting for more of a request, or closed: both fine
    assert head == b"" or head.startswith(b"HTTP/1.")


def test_lab_survives_the_fuzzing(lab):
    assert lab.process.poll() is None
    assert "Traceback" not in lab.stderr() and "Error handling request" not in lab.stderr()
    for device, path in (("fuzz", "/restconf/data/Cisco-IOS-XE-interfaces-oper:interfaces"),
                         ("fuzzgx", "/restconf/data/ietf-interfaces:interfaces")):
        with lab.client(device) as client:
            assert client.get(path).status_code == 200
