"""The client's bounds against hostile replies (httpx.MockTransport with streamed bodies).

Every device is bounded in time (one deadline for its whole read) and bytes (a limit on each
decoded reply); a device that trickles, floods, compresses a bomb or lies about its length
gets a named error within its bound. The same faults over real TLS are in tests/integration.
"""
from __future__ import annotations

import asyncio
import gzip
import json
import time
import zlib

import httpx
import pytest
from ansible_collections.johann.monitor.plugins.module_utils._restconf import errors, reading
from ansible_collections.johann.monitor.plugins.module_utils._restconf.client import ClientSettings, RestconfClient

JSON = "application/yang-data+json"
MIB = 1 << 20


class Stream(httpx.AsyncByteStream):
    """A reply body sent in pieces, with a pause before each; counts what the client pulled."""

    def __init__(self, pieces, pause: float = 0.0) -> None:
        self.pieces, self.pause, self.pulled = pieces, pause, 0

    async def __aiter__(self):
        for piece in self.pieces:
            if self.pause:
                await asyncio.sleep(self.pause)
            self.pulled += len(piece)
            yield piece


def endless(piece: bytes):
    while True:
        yield piece


def run(handler, coro_fn, **settings):
    async def main():
        config = dict(host="192.0.2.1", port=443, username="u", password="p", backoff=0.001, root="/restconf",
                      **settings)
        async with RestconfClient(ClientSettings(**config), transport=httpx.MockTransport(handler)) as client:
            try:
                return await coro_fn(client), client
            except errors.RestconfError as exc:
                return exc, client

    started = time.monotonic()
    result, client = asyncio.run(main())
    return result, client, time.monotonic() - started


def reply(body=None, stream=None, status=200, **headers):
    headers.setdefault("Content-Type", JSON)
    if stream is not None:
        return httpx.Response(status, headers=headers, stream=stream)
    return httpx.Response(status, headers=headers, content=body)


# ---------------------------------------------------------------- time: one deadline per device


def test_a_body_sent_a_byte_at_a_time_is_cut_at_the_deadline():
    stream = Stream(endless(b" "), pause=0.02)   # every read gets a byte: no read timeout ever fires
    got, _client, took = run(lambda r: reply(stream=stream), lambda c: c.get("m:x"), deadline=0.5)
    assert isinstance(got, errors.DeadlineExceeded) and got.kind == "deadline"
    assert got.message.startswith("deadline of 0.5 s reached while reading the reply to m:x: ")
    assert got.message.endswith(" bytes received")
    received = int(got.message.split(": ")[1].split(" bytes")[0].replace(",", ""))
    assert 5 <= received == stream.pulled <= 26
    assert took < 1.5


def test_a_reply_that_never_starts_is_cut_at_the_deadline():
    async def never(request):
        await asyncio.sleep(30)

    got, _client, took = run(never, lambda c: c.get("m:x"), deadline=0.3)
    assert isinstance(got, errors.DeadlineExceeded)
    assert got.message == "deadline of 0.3 s reached waiting for the reply to m:x"
    assert took < 1.0


def test_requests_queued_behind_slow_ones_say_they_were_never_sent():
    async def slow(request):
        await asyncio.sleep(30)

    async def three(client):
        return await asyncio.gather(*(client.get(f"m:{n}") for n in range(3)), return_exceptions=True)

    got, _client, took = run(slow, three, deadline=0.3, max_concurrency=2)
    messages = sorted(e.message for e in got)
    assert messages[0] == "deadline of 0.3 s reached before m:2 could be sent (waiting for the device's other requests)"
    assert messages[1:] == ["deadline of 0.3 s reached waiting for the reply to m:0",
                            "deadline of 0.3 s reached waiting for the reply to m:1"]
    assert took < 1.0


def test_the_deadline_covers_every_request_of_the_device_not_each_one():
    async def tenth(request):
        await asyncio.sleep(0.1)
        return reply(b'{"m:x": {}}')

    async def many(client):
        for n in range(20):
            await client.get(f"m:{n}")

    got, client, took = run(tenth, many, deadline=0.55)
    assert isinstance(got, errors.DeadlineExceeded) and client.requests == 6
    assert 0.5 < took < 1.2


def test_a_retry_wait_past_the_deadline_is_not_waited():
    busy = reply(json.dumps({"ietf-restconf:errors": {"error": [{"error-tag": "resource-denied"}]}}).encode(),
                 status=503, **{"Retry-After": "20"})
    got, client, took = run(lambda r: busy, lambda c: c.get("m:x"), deadline=2.0, max_concurrency=1)
    assert isinstance(got, errors.Busy) and got.status == 503 and got.error_tag == "resource-denied"
    assert client.requests == 1 and took < 1.0


# ---------------------------------------------------------------- bytes: a limit per reply


def test_an_endless_body_stops_at_the_limit():
    stream = Stream(endless(b"x" * 65536))
    got, _client, _took = run(lambda r: reply(stream=stream), lambda c: c.get("m:x"), max_reply_size=4 * MIB)
    assert isinstance(got, errors.ReplyTooLarge) and got.kind == "too_large"
    assert got.message == "the reply to m:x is over the limit of 4 MiB (max_reply_size): reading stopped there"
    assert 4 * MIB < stream.pulled <= 4 * MIB + 65536


def test_an_announced_length_over_the_limit_is_refused_before_reading():
    stream = Stream(endless(b"x" * 65536))
    got, _client, _took = run(lambda r: reply(stream=stream, **{"Content-Length": str(10 ** 12)}),
                              lambda c: c.get("m:x"), max_reply_size=MIB)
    assert isinstance(got, errors.ReplyTooLarge)
    assert got.message == ("the reply to m:x announces 1,000,000,000,000 bytes (Content-Length), over the limit of "
                           "1 MiB (max_reply_size)")
    assert stream.pulled == 0


def _gzip_bomb(decoded: int) -> bytes:
    """``{"m:x":`` then ``decoded`` bytes of JSON whitespace, gzipped (about a thousandth of the size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    out = [packer.compress(b'{"m:x":')]
    spaces = b" " * MIB
    out += [packer.compress(spaces) for _block in range(decoded // MIB)]
    return b"".join(out) + packer.compress(b"1}") + packer.flush()


def test_a_compression_bomb_is_counted_in_decoded_bytes():
    bomb = _gzip_bomb(256 * MIB)
    assert len(bomb) < 300 * 1024   # small on the wire
    pieces = [bomb[i:i + 16384] for i in range(0, len(bomb), 16384)]
    stream = Stream(pieces)
    got, _client, _took = run(lambda r: reply(stream=stream, **{"Content-Encoding": "gzip"}), lambda c: c.get("m:x"),
                              max_reply_size=8 * MIB)
    assert isinstance(got, errors.ReplyTooLarge)
    assert got.message == "the reply to m:x is over the limit of 8 MiB (max_reply_size): reading stopped there"
    assert stream.pulled < len(bomb) // 4   # it stopped early: the rest was never read


@pytest.mark.parametrize("encoding,packed", [
    ("gzip", gzip.compress(b'{"m:x": {"a": "1"}}')),
    ("deflate", zlib.compress(b'{"m:x": {"a": "1"}}')),
    ("deflate", zlib.compress(b'{"m:x": {"a": "1"}}')[2:-4]),   # raw deflate, as some servers send it
])
def test_compressed_replies_are_decoded(encoding, packed):
    got, _client, _took = run(lambda r: reply(stream=Stream([packed]), **{"Content-Encoding": encoding}),
                              lambda c: c.get("m:x"))
    assert got.data == {"m:x": {"a": "1"}}


def test_an_encoding_that_was_not_asked_for_is_named():
    seen = []

    def handler(request):
        seen.append(request.headers["accept-encoding"])
        return reply(stream=Stream([b"\x0b\x05\x80"]), **{"Content-Encoding": "br"})

    got, _client, _took = run(handler, lambda c: c.get("m:x"))
    assert seen == ["gzip, deflate"]
    assert isinstance(got, errors.DecodeError)
    assert got.message == ("the reply to m:x is in br encoding (Content-Encoding), which was not asked for "
                           "(gzip, deflate) and is not decoded")


@pytest.mark.parametrize("body,message", [
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xff\xff", "is corrupt: Error -3 while decompressing data"),
    (gzip.compress(b'{"m:x": {}}')[:-9], "ends before its compressed stream does (truncated or corrupt)"),
])
def test_a_corrupt_or_truncated_gzip_reply_is_a_decode_error(body, message):
    got, _client, _took = run(lambda r: reply(stream=Stream([body]), **{"Content-Encoding": "gzip"}),
                              lambda c: c.get("m:x"))
    assert isinstance(got, errors.DecodeError)
    assert got.message.startswith("the compressed reply to m:x ") and message in got.message


def test_a_huge_error_body_is_read_only_as_far_as_its_errors():
    stream = Stream(endless(b"<p>" + b"x" * 4093))
    got, _client, _took = run(lambda r: reply(stream=stream, status=500, **{"Content-Type": "text/html"}),
                              lambda c: c.get("m:x"))
    assert isinstance(got, errors.StatusError) and got.status == 500
    assert stream.pulled <= 64 * 1024 + 4096


def test_large_replies_are_read_two_at_a_time_per_process(monkeypatch):
    monkeypatch.setattr(reading, "LARGE_REPLY", 1024)   # read_body reads it there
    state = {"past": 0, "most": 0}

    class Large(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield b'{"m:x":"' + b"a" * 2048   # past the threshold: the reader now needs a slot
            state["past"] += 1
            state["most"] = max(state["most"], state["past"])
            for _piece in range(5):
                await asyncio.sleep(0.01)
                yield b"a" * 100
            state["past"] -= 1
            yield b'"}'

    async def five(client):
        return await asyncio.gather(*(client.get(f"m:{n}") for n in range(5)))

    got, _client, _took = run(lambda r: reply(stream=Large()), five, max_concurrency=5)
    assert [len(r.data["m:x"]) for r in got] == [2548] * 5
    assert state["most"] == 2


# ---------------------------------------------------------------- hostile JSON is data, not a crash


@pytest.mark.parametrize("body,message", [
    (b'{"m:x":' + b"[" * 300000 + b"]" * 300000 + b"}", "the reply on m:x is nested deeper than 512 levels (300001): refused"),
    (b'{"m:x": {"hostname": "a", "hostname": "b"}}',
     "the reply on m:x is ambiguous: the member 'hostname' appears twice in one object"),
    (b'[1, 2, 3]', "the reply on m:x is an array, not a JSON object (a RESTCONF reply is an object named after its target)"),
    (b'"hello"', "the reply on m:x is a string, not a JSON object (a RESTCONF reply is an object named after its target)"),
    (b'{"m:x": "caf\xff"}', "the reply on m:x is not valid UTF-8 (byte 0xff at offset 12)"),
    (b'{"m:x": 1e999999}', "malformed JSON from the device on m:x: the number 1e999999 is out of range"),
    (b'{"m:x": NaN}', "malformed JSON from the device on m:x: NaN is not JSON"),
    (b'{"m:x": ' + b"7" * 100000 + b"}",
     "malformed JSON from the device on m:x: an integer of thousands of digits (no YANG number is that long)"),
])
def test_hostile_json_is_a_named_error(body, message):
    got, _client, _took = run(lambda r: reply(body), lambda c: c.get("m:x"))
    assert isinstance(got, errors.DecodeError) and got.message == message


def test_brackets_inside_strings_do_not_count_as_nesting():
    body = b'{"m:x": {"description": "' + b"[{" * 2000 + b'"}}'
    got, _client, _took = run(lambda r: reply(body), lambda c: c.get("m:x"))
    assert got.data["m:x"]["description"] == "[{" * 2000


# ---------------------------------------------------------------- a device that takes one request at a time


def test_a_device_that_serialises_is_read_completely_one_request_at_a_time():
    state = {"inflight": 0, "most": 0, "refused": 0}

    async def one_at_a_time(request):
        if state["inflight"]:
            state["refused"] += 1
            return reply(json.dumps({"ietf-restconf:errors": {"error": [
                {"error-tag": "resource-denied", "error-message": "too many concurrent requests"}]}}).encode(),
                status=503, **{"Retry-After": "0"})
        state["inflight"] += 1
        state["most"] = max(state["most"], state["inflight"])
        await asyncio.sleep(0.01)
        state["inflight"] -= 1
        return reply(json.dumps({request.url.path.rsplit("/", 1)[-1]: {}}).encode())

    async def twelve(client):
        return await asyncio.gather(*(client.get(f"m:r{n}") for n in range(12)))

    got, client, _took = run(one_at_a_time, twelve, max_concurrency=3, retries=0)
    assert [next(iter(r.data)) for r in got] == [f"m:r{n}" for n in range(12)]
    assert state["most"] == 1 and state["refused"] >= 1
    assert (client.limiter.initial, client.limiter.limit, client.limiter.busy) == (3, 1, state["refused"])


def test_a_busy_device_at_one_request_still_uses_the_retries():
    state = {"calls": 0}

    def always_busy(request):
        state["calls"] += 1
        return reply(b"", status=503, **{"Retry-After": "0"})

    got, client, _took = run(always_busy, lambda c: c.get("m:x"), max_concurrency=1, retries=2)
    assert isinstance(got, errors.Busy) and state["calls"] == 3 and client.limiter.limit == 1
