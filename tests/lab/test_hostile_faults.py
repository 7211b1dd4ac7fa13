"""Devices that trickle, flood or lie (issue 12): each hostile fault over real TLS, bounded in time.

The lab of tests/lab/hostile_fleet.yml runs for this module, on a network of its own; the clean-stop
test starts another one. Raw sockets where HTTP clients would hide the fault (bytes of a head, resets).
"""
from __future__ import annotations

import base64
import json
import math
import os
import socket
import ssl
import subprocess
import threading
import time
import zlib
from pathlib import Path

import pytest

from lab.fleet import FleetError, load_fleet
from tests.conftest import EPOCH, subnet
from tests.lablib import JSON, ROOT, RunningLab, start_lab

NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"
HOSTNAME = NATIVE + "/hostname"
ENVIRONMENT = "/restconf/data/Cisco-IOS-XE-environment-oper:environment-sensors"
MB = 1 << 20
TCP_ESTABLISHED, TCP_CLOSE = 1, 7   # tcpi_state of Linux TCP_INFO: after a reset the socket is CLOSE


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> RunningLab:
    running = start_lab(ROOT / "tests/lab/hostile_fleet.yml", tmp_path_factory.mktemp("hostile"),
                        "--epoch", str(EPOCH), "--frozen", "--network", subnet(160))
    yield running
    assert _stop(running) == 0, running.stderr()
    assert "Traceback" not in running.stderr() and "Error handling request" not in running.stderr(), running.stderr()


# ---------------------------------------------------------------- helpers
def _stop(lab: RunningLab) -> int:
    """Stop the lab; one that does not stop (a hung loop) is killed, not left spinning on a shared machine."""
    try:
        return lab.stop()
    except subprocess.TimeoutExpired:
        lab.process.kill()
        raise


def _served(lab: RunningLab, name: str, path: str) -> bytes:
    """What the device answers without its faults (the admin API), as bytes."""
    return lab.admin("GET", f"/devices/{name}/served", params={"path": path}).json()["body"].encode()


def _fired(lab: RunningLab, name: str, fault: str) -> int:
    return lab.admin("GET", "/stats").json()["devices"][name].get(fault, 0)


def _rss_kb(lab: RunningLab) -> int:
    status = Path(f"/proc/{lab.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def _cpu_seconds(lab: RunningLab) -> float:
    fields = Path(f"/proc/{lab.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime + stime


def _tls_socket(lab: RunningLab, name: str, timeout: float = 5.0) -> ssl.SSLSocket:
    host = lab.host(name)
    sock = socket.create_connection((host["ansible_host"], host["ansible_port"]), timeout=timeout)
    return lab.tls().wrap_socket(sock, server_hostname=host["lab_dns_name"], suppress_ragged_eofs=False)


def _raw_get(lab: RunningLab, name: str, path: str, timeout: float = 5.0) -> ssl.SSLSocket:
    """A GET written by hand on a TLS socket: the test sees every byte, and how the connection ends."""
    sock = _tls_socket(lab, name, timeout)
    token = base64.b64encode(":".join(lab.auth).encode()).decode()
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {lab.host(name)['ansible_host']}\r\n"
                 f"Authorization: Basic {token}\r\nAccept: {JSON}\r\n\r\n".encode())
    return sock


def _read_head(sock: ssl.SSLSocket) -> tuple[dict[str, str], bytes]:
    """The response head as lower-case headers, and the body bytes already read with it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK", lines[0]
    return {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}, rest


def _tcp_state(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


def _leaves(value, path: tuple = ()) -> dict[tuple, object]:
    """Every leaf of a decoded JSON value by its path, to name exactly what differs between two replies."""
    if isinstance(value, dict) and value:
        return {k: v for key, item in value.items() for k, v in _leaves(item, (*path, key)).items()}
    if isinstance(value, list) and value:
        return {k: v for i, item in enumerate(value) for k, v in _leaves(item, (*path, i)).items()}
    return {path: value}


def _differences(before, after) -> dict[tuple, tuple]:
    old, new = _leaves(before), _leaves(after)
    return {p: (old.get(p), new.get(p)) for p in old.keys() | new.keys() if old.get(p) != new.get(p)}


# ---------------------------------------------------------------- trickles
def test_drip_body_sends_whole_headers_then_one_body_byte_per_interval(hostile):
    served = _served(hostile, "drip", HOSTNAME)
    before = _fired(hostile, "drip", "drip_body")
    start = time.monotonic()
    with hostile.client("drip") as client, client.stream("GET", HOSTNAME) as reply:
        headed = time.monotonic() - start
        assert reply.status_code == 200 and int(reply.headers["content-length"]) == len(served)
        assert reply.headers["content-type"] == JSON
        arrivals, body = [], b""
        for chunk in reply.iter_raw():
            assert len(chunk) == 1, chunk   # each read gets one byte, so no read timeout ever fires
            arrivals.append(time.monotonic())
            body += chunk
            if len(body) == 8:
                break
    assert headed < 0.5
    assert body == served[:8]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert all(0.05 < gap < 0.4 for gap in gaps), gaps   # drip_interval_ms: 100
    assert 0.08 < sum(gaps) / len(gaps) < 0.2, gaps
    assert _fired(hostile, "drip", "drip_body") == before + 1


def test_drip_body_on_listed_paths_only_at_the_default_interval(hostile):
    start = time.monotonic()
    with hostile.client("dripenv") as client:
        assert client.get(HOSTNAME).json() == {"Cisco-IOS-XE-native:hostname": "dripenv"}
        assert time.monotonic() - start < 1.0   # not a listed path: served at once
        with client.stream("GET", ENVIRONMENT) as reply:
            arrivals = []
            for _ in zip(range(4), reply.iter_raw(), strict=False):
                arrivals.append(time.monotonic())
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert all(0.15 < gap < 0.5 for gap in gaps), gaps   # the default drip_interval_ms: 200


def test_drip_headers_spaces_the_head_itself(hostile):
    with _raw_get(hostile, "dripheaders", HOSTNAME) as sock:
        sock.settimeout(0.3)
        reads, deadline = [], time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                reads.append(sock.recv(4096))
            except TimeoutError:
                continue
    head = b"".join(reads)
    assert all(len(r) == 1 for r in reads), reads
    assert 6 <= len(head) <= 13, head          # about ten bytes in a second at 100 ms each
    assert b"HTTP/1.1 200 OK\r\n".startswith(head), head


def test_drip_headers_completes_into_the_real_reply_and_keeps_the_connection(hostile):
    """At 1 ms a byte the head does get through: the reply is the device's own, and the connection lives on."""
    served = _served(hostile, "dripfast", HOSTNAME)
    before = _fired(hostile, "dripfast", "drip_headers")
    with hostile.client("dripfast", timeout=10) as client:
        first = client.get(HOSTNAME)
        second = client.get(HOSTNAME)
    for reply in (first, second):
        assert reply.status_code == 200 and reply.content == served
        assert reply.headers["content-type"] == JSON and reply.headers["etag"] == '"dripfast-1"'
    assert _fired(hostile, "dripfast", "drip_headers") == before + 2


def test_lying_length_announces_twice_the_body_and_then_goes_silent(hostile):
    served = _served(hostile, "lying", NATIVE)
    with _raw_get(hostile, "lying", NATIVE) as sock:
        headers, body = _read_head(sock)
        assert int(headers["content-length"]) == 2 * len(served)
        sock.settimeout(1.0)
        with pytest.raises(TimeoutError):
            while True:
                chunk = sock.recv(65536)
                assert chunk, "the device closed the connection"
                body += chunk
        assert body == served
        assert _tcp_state(sock) == TCP_ESTABLISHED   # open and silent, not closed


def test_reset_after_sends_exactly_n_body_bytes_then_resets(hostile):
    served = _served(hostile, "resetafter", NATIVE)
    with _raw_get(hostile, "resetafter", NATIVE) as sock:
        headers, body = _read_head(sock)
        assert int(headers["content-length"]) == len(served) > 100
        with pytest.raises((ConnectionResetError, ssl.SSLEOFError)):
            while True:
                chunk = sock.recv(65536)
                assert chunk, "a clean close, not a reset"
                body += chunk
        assert body == served[:100]
        assert _tcp_state(sock) == TCP_CLOSE   # a FIN would leave it in CLOSE_WAIT


def test_tls_stall_accepts_tcp_and_never_completes_the_handshake(hostile):
    host = hostile.host("tlsstall")
    before = _fired(hostile, "tlsstall", "tls_stall")
    with socket.create_connection((host["ansible_host"], host["ansible_port"]), timeout=2) as sock:
        sock.settimeout(1.0)
        start = time.monotonic()
        with pytest.raises(TimeoutError, match="handshake"):
            hostile.tls().wrap_socket(sock, server_hostname=host["lab_dns_name"])
        assert 0.9 < time.monotonic() - start < 2.5
    assert _fired(hostile, "tlsstall", "tls_stall") == before + 1


# ---------------------------------------------------------------- floods
def test_endless_body_never_ends_and_the_lab_stays_small(hostile):
    served = _served(hostile, "endless", NATIVE)
    opening = served[: served.index(b'"version":"') + len(b'"version":"')]
    rss_before, fired = _rss_kb(hostile), _fired(hostile, "endless", "endless_body")
    with hostile.client("endless") as client, client.stream("GET", NATIVE) as reply:
        assert reply.status_code == 200 and reply.headers["content-type"] == JSON
        assert reply.headers["transfer-encoding"] == "chunked" and "content-length" not in reply.headers
        received, first = 0, b""
        for chunk in reply.iter_raw():
            first = (first + chunk)[:200] if len(first) < 200 else first
            received += len(chunk)
            if received >= 20 * MB:
                break
    assert received >= 20 * MB   # and still going when the client let go
    assert first == opening + b"x" * (200 - len(opening))
    with _raw_get(hostile, "endless", NATIVE) as stalled:   # a reader that stops reading: back-pressure
        _read_head(stalled)
        time.sleep(1.0)
        with hostile.client("healthy") as client:   # meanwhile the other devices answer at once
            start = time.monotonic()
            assert client.get(HOSTNAME).status_code == 200
            assert time.monotonic() - start < 1.0
        rss_stalled = _rss_kb(hostile)
    assert rss_stalled - rss_before < 30 * 1024, (rss_before, rss_stalled)
    assert _fired(hostile, "endless", "endless_body") == fired + 2


@pytest.mark.parametrize("leave", ["close", "half_close"])
@pytest.mark.parametrize("name", ["endless", "gzipbomb"])
def test_a_fast_reader_leaving_mid_stream_neither_hangs_nor_busies_the_lab(hostile, name, leave):
    """A client that keeps up with the stream, then closes (or sends its FIN and stops reading).

    The lab's writes then meet a connection that uvloop has already given up on (a reset seen by a write,
    or its TLS layer shut by the FIN) and vanish without error or pause: a stream that did not yield and
    check would spin on, the lab's loop hung (seen once in a few runs on a busy machine), or busy.
    """
    buffer, held = bytearray(MB), []
    for _ in range(8):
        sock = _raw_get(hostile, name, NATIVE)
        end = time.monotonic() + 0.05
        while time.monotonic() < end:
            sock.recv_into(buffer)
        if leave == "close":
            sock.close()
        else:
            with socket.socket(fileno=os.dup(sock.fileno())) as same:
                same.shutdown(socket.SHUT_WR)
            held.append(sock)
    try:
        time.sleep(0.2)
        cpu = _cpu_seconds(hostile)
        time.sleep(1.0)
        busy = _cpu_seconds(hostile) - cpu
        with hostile.client("healthy", timeout=2) as client:
            assert client.get(HOSTNAME).status_code == 200
    finally:
        for sock in held:
            sock.close()
    assert busy < 0.3, busy


def _inflate(inflater, data: bytes, sink) -> None:
    """Decompress in bounded pieces: the test must not hold the bomb either."""
    while True:
        out = inflater.decompress(data, 16 * MB)
        sink(out)
        data = inflater.unconsumed_tail
        if not data and len(out) < 16 * MB:
            return


def test_gzip_bomb_expands_a_thousandfold_into_json_whitespace(hostile):
    served = _served(hostile, "gzipbomb", NATIVE)
    rss_before = _rss_kb(hostile)
    inflater, compressed, expanded = zlib.decompressobj(31), 0, 0
    head, blanks = b"", 0

    def sink(out: bytes) -> None:
        nonlocal head, expanded, blanks
        expanded += len(out)
        take = max(0, len(served) - 1 - len(head))
        head += out[:take]
        blanks += out.count(b" ", take)

    with hostile.client("gzipbomb", headers={"Accept": JSON, "Accept-Encoding": "identity"}) as client, \
            client.stream("GET", NATIVE) as reply:
        assert reply.headers["content-encoding"] == "gzip" and reply.headers["content-type"] == JSON
        assert "content-length" not in reply.headers
        for chunk in reply.iter_raw():
            compressed += len(chunk)
            _inflate(inflater, chunk, sink)
            if compressed >= 256 * 1024:
                break
    assert head == served[:-1]                    # the real reply, its closing brace never comes
    assert blanks == expanded - len(head)         # then nothing but spaces
    assert expanded / compressed > 500, (expanded, compressed)
    assert expanded > 200 * MB
    assert _rss_kb(hostile) - rss_before < 30 * 1024


def test_nesting_bomb_is_nested_as_deep_as_asked(hostile):
    with hostile.client("nesting10") as client:
        small = client.get(NATIVE)
    assert small.content == b'{"Cisco-IOS-XE-native:native":' + b"[" * 10 + b"]" * 10 + b"}"
    with hostile.client("nesting") as client:
        reply = client.get(NATIVE)
    body = reply.content
    head = b'{"Cisco-IOS-XE-native:native":'
    assert reply.status_code == 200 and reply.headers["content-type"] == JSON
    assert int(reply.headers["content-length"]) == len(body) == len(head) + 2 * 300000 + 1
    assert body == head + b"[" * 300000 + b"]" * 300000 + b"}"   # the default nesting_depth


# ---------------------------------------------------------------- lies
def test_not_json_is_an_html_login_page(hostile):
    with hostile.client("notjson") as client:
        reply = client.get(NATIVE)
    assert reply.status_code == 200 and reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.text.startswith("<!DOCTYPE html>") and "<form" in reply.text
    with pytest.raises(json.JSONDecodeError):
        reply.json()


def _bad(lab: RunningLab, name: str, path: str = NATIVE) -> tuple[bytes, bytes]:
    with lab.client(name) as client:
        reply = client.get(path)
    assert reply.status_code == 200 and reply.headers["content-type"] == JSON
    return reply.content, _served(lab, name, path)


def test_bad_json_huge_number_replaces_one_number(hostile):
    body, served = _bad(hostile, "huge")
    digits = b"1" + b"0" * 99999
    assert body.count(digits) == 1 and body.replace(digits, b"15", 1) == served   # admin's privilege 15
    decoded = json.loads(body, parse_int=lambda text: ("digits", len(text)) if len(text) > 20 else int(text))
    assert _differences(json.loads(served), decoded) == {
        ("Cisco-IOS-XE-native:native", "username", 0, "privilege"): (15, ("digits", 100000))}


def test_bad_json_infinite_number_replaces_one_number(hostile):
    body, served = _bad(hostile, "infinite")
    assert body.replace(b"1e999999", b"15", 1) == served
    changed = _differences(json.loads(served), json.loads(body))
    assert list(changed.values()) == [(15, math.inf)]


def test_bad_json_invalid_utf8_puts_one_ff_byte_in_a_string(hostile):
    body, served = _bad(hostile, "badutf8")
    with pytest.raises(UnicodeDecodeError):
        body.decode()
    assert body.count(b"\xff") == 1 and b'"hostname":"badutf8\xff"' in body
    assert body.replace(b"\xff", b"", 1) == served


def test_bad_json_duplicate_keys_gives_the_hostname_twice(hostile):
    body, served = _bad(hostile, "dupkeys")
    duplicates = []

    def pairs(items: list[tuple[str, object]]) -> dict:
        names = [k for k, _ in items]
        duplicates.extend((k, [v for n, v in items if n == k]) for k in dict.fromkeys(names) if names.count(k) > 1)
        return dict(items)

    decoded = json.loads(body, object_pairs_hook=pairs)
    assert duplicates == [("hostname", ["dupkeys", "dupkeys-duplicate"])]
    assert _differences(json.loads(served), decoded) == {
        ("Cisco-IOS-XE-native:native", "hostname"): ("dupkeys", "dupkeys-duplicate")}


def test_bad_json_top_level_values(hostile):
    fired = _fired(hostile, "topstring", "bad_json")
    assert _bad(hostile, "toparray")[0] == b"[1,2,3]"
    assert _bad(hostile, "topstring", HOSTNAME)[0] == b'"hello"'
    modules = "/restconf/data/ietf-yang-library:modules-state"   # not in bad_json_paths: the real reply
    body, served = _bad(hostile, "topstring", modules)
    assert body == served and json.loads(body)["ietf-yang-library:modules-state"]["module"]
    assert _fired(hostile, "topstring", "bad_json") == fired + 1


def test_only_gets_that_would_answer_200_are_hostile(hostile):
    """A 404 or a HEAD is answered as usual, at once: the faults replace real data only."""
    with hostile.client("drip") as client:
        start = time.monotonic()
        assert client.get(NATIVE + "/nothing-here").status_code == 404
        assert client.head(NATIVE).status_code == 200
        assert client.get("/.well-known/host-meta").status_code == 200   # not a /data path
        assert time.monotonic() - start < 1.0


# ---------------------------------------------------------------- fleet files and stopping
@pytest.mark.parametrize("faults,message", [
    ("{bad_json: broken}", "fault bad_json must be one of huge_number, infinite_number, invalid_utf8, "
                           "duplicate_keys, top_level_array, top_level_string, not 'broken'"),
    ("{bad_json: 3}", "fault bad_json has the wrong type (int)"),
    ("{reset_after: 0}", "fault reset_after must be an integer > 0"),
    ("{reset_after: true}", "fault reset_after must be an integer > 0"),
    ("{drip_interval_ms: fast}", "fault drip_interval_ms has the wrong type (str)"),
    ("{nesting_depth: -1}", "fault nesting_depth must be an integer > 0"),
    ("{bad_json: top_level_array, bad_json_paths: [1]}", "fault bad_json_paths must be a list of path parts"),
    ("{tls_stall: 1}", "fault tls_stall has the wrong type (int)"),
])
def test_hostile_faults_are_validated(tmp_path, faults, message):
    path = tmp_path / "fleet.yml"
    path.write_text(f"groups: [{{profile: iosxe-17, name: sick, faults: {faults}}}]\n")
    with pytest.raises(FleetError) as refused:
        load_fleet(path)
    assert message in str(refused.value)


def _drain(sock: socket.socket, timeout: float = 2.0) -> str:
    """Read until the connection ends; how it ended ('timeout' if it did not)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(1 << 20):
            pass
        return "closed"
    except TimeoutError:
        return "timeout"
    except (ConnectionError, ssl.SSLError):
        return "reset"


def test_the_lab_stops_cleanly_with_clients_mid_trickle(tmp_path):
    sick = {"drip": "{drip_body: true}", "dripheaders": "{drip_headers: true}", "endless": "{endless_body: true}",
            "gzipbomb": "{gzip_bomb: true}", "lying": "{lying_length: true}",
            "nesting": "{nesting_bomb: true, nesting_depth: 50000000}", "stall": "{tls_stall: true}"}
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(f"network: {subnet(161)}\ngroups:\n"
                     + "".join(f"  - {{profile: iosxe-17, name: {n}, faults: {f}}}\n" for n, f in sick.items()))
    lab = start_lab(fleet, tmp_path / "s")
    try:
        clients = [_raw_get(lab, name, NATIVE) for name in sick if name != "stall"]
        for sock in clients:
            assert sock.recv(1)   # every reply has begun
        host = lab.host("stall")
        clients.append(socket.create_connection((host["ansible_host"], host["ansible_port"]), timeout=2))
        time.sleep(0.3)
        stats = lab.admin("GET", "/stats").json()["devices"]
        assert {n: sum(stats[n].get(k, 0) for k in ("drip_body", "drip_headers", "endless_body", "gzip_bomb",
                                                     "lying_length", "tls_stall", "nesting_bomb"))
                for n in sick} == dict.fromkeys(sick, 1)
        start = time.monotonic()
        code = _stop(lab)
        stopped = time.monotonic() - start
        ends = {name: _drain(sock) for name, sock in zip(sick, clients, strict=True)}
    finally:
        _stop(lab)
    assert code == 0 and stopped < 3.0, (code, stopped, lab.stderr())
    assert "Traceback" not in lab.stderr() and "lab stopped" in lab.stderr(), lab.stderr()
    assert "timeout" not in ends.values(), ends   # every held connection was ended by the stop


def test_a_hostile_device_does_not_hold_a_healthy_one(hostile):
    """Three floods and a trickle in flight; the healthy device still answers at once."""
    stop = threading.Event()

    def pull(name: str) -> None:
        with hostile.client(name) as client, client.stream("GET", NATIVE) as reply:
            for _ in reply.iter_raw():
                if stop.is_set():
                    return

    pullers = [threading.Thread(target=pull, args=(n,)) for n in ("endless", "gzipbomb", "drip")]
    for t in pullers:
        t.start()
    try:
        time.sleep(0.5)
        with hostile.client("healthy") as client:
            durations = []
            for _ in range(5):
                start = time.monotonic()
                assert client.get(HOSTNAME).status_code == 200
                durations.append(time.monotonic() - start)
    finally:
        stop.set()
        for t in pullers:
            t.join(5)
    assert max(durations) < 1.0, durations
    assert not any(t.is_alive() for t in pullers)
