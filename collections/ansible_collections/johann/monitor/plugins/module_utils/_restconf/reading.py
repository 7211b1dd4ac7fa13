# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A reply's body, read within its bounds: streamed, inflated with the output bounded, then decoded.

Each reply is read as a stream and stopped at its limit (``max_reply_size`` decoded bytes for
data, ``ERROR_BODY_MAX`` for an error reply); a compressed reply is inflated here, its output
bounded, so a small bomb cannot expand past the limit; replies past ``LARGE_REPLY`` bytes need
one of the event loop's ``LARGE_SLOTS`` slots, so a poller that reads many devices at once holds
at most that many large replies.
"""
from __future__ import annotations

import asyncio
import weakref
import zlib
from dataclasses import dataclass
from typing import Any

from ansible_collections.johann.monitor.plugins.module_utils._restconf import decode
from ansible_collections.johann.monitor.plugins.module_utils._restconf.errors import DecodeError, ReplyTooLarge
from ansible_collections.johann.monitor.plugins.module_utils._restconf.failures import MIB, size

ERROR_BODY_MAX = 64 * 1024     # an error reply is read this far: its RFC 8040 errors come first
LARGE_REPLY = 4 * MIB          # past this, a reply waits for one of the process's large-reply slots
LARGE_SLOTS = 2
ACCEPT_ENCODING = "gzip, deflate"   # inflated here with bounded output; br/zstd are not asked for


@dataclass
class Answer:
    """One HTTP exchange, its body read (within the limits) and, for data, decoded."""
    status: int
    headers: Any
    content: bytes
    url: str
    data: Any = None


_SLOTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _large_slots() -> asyncio.Semaphore:
    """The running loop's large-reply slots (a poller's loop serves every device of a run)."""
    loop = asyncio.get_running_loop()
    slots = _SLOTS.get(loop)
    if slots is None:
        slots = _SLOTS[loop] = asyncio.Semaphore(LARGE_SLOTS)
    return slots


class _Inflate:
    """gzip or deflate, inflated with the output bounded: a small bomb cannot expand past the limit."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if "gzip" in encoding else zlib.MAX_WBITS)
        self._raw_tried = "gzip" in encoding

    @property
    def done(self) -> bool:
        return self._z.eof

    def feed(self, data: bytes, room: int) -> bytes:
        """At most ``room`` bytes of output (more input left over means the reply is over the limit)."""
        try:
            return self._z.decompress(data, room)
        except zlib.error:
            if self._raw_tried:
                raise
            self._raw_tried = True   # "deflate" sent without its zlib header, as some servers do
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._z.decompress(data, room)


async def _raw(response):
    """The body as it came off the wire (not decoded by httpx: we inflate it ourselves, bounded)."""
    if response.is_stream_consumed:
        yield response.content
        return
    async for chunk in response.aiter_raw():
        yield chunk


def _inflater(encoding: str, response, path: str) -> _Inflate:
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise DecodeError(f"the reply to {path} is in {encoding} encoding (Content-Encoding), which was not asked "
                          f"for ({ACCEPT_ENCODING}) and is not decoded", str(response.url), path)
    return _Inflate(encoding)


async def read_body(response, path: str, limit: int, truncate: bool, slot: list, progress: dict) -> bytes:
    """The decoded body, read as a stream: stopped past ``limit`` (an error, or cut with ``truncate``).

    A large-reply slot taken is appended to ``slot`` (the caller releases it once the body is decoded);
    ``progress`` gets the bytes announced and received, for the deadline's message.
    """
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if response.is_stream_consumed:   # a response built in memory (httpx.MockTransport): read and decoded
        encoding = "identity"
    inflate = None if encoding in ("", "identity") else _inflater(encoding, response, path)
    declared = response.headers.get("content-length", "")
    if inflate is None and declared.isdigit():
        progress["announced"] = int(declared)
    if inflate is None and not truncate and declared.isdigit() and int(declared) > limit:
        raise ReplyTooLarge(f"the reply to {path} announces {size(int(declared))} (Content-Length), over the "
                            f"limit of {size(limit)} (max_reply_size)", str(response.url), path)
    body = bytearray()
    async for chunk in _raw(response):
        body += inflate.feed(chunk, limit + 1 - len(body)) if inflate else chunk
        progress["received"] = len(body)
        if len(body) > limit:
            if truncate:
                return bytes(body[:limit])
            raise ReplyTooLarge(f"the reply to {path} is over the limit of {size(limit)} (max_reply_size): "
                                "reading stopped there", str(response.url), path)
        if not slot and len(body) > LARGE_REPLY:
            slots = _large_slots()
            await slots.acquire()
            slot.append(slots)
    if inflate is not None and not inflate.done:
        raise DecodeError(f"the compressed reply to {path} ends before its compressed stream does (truncated or "
                          "corrupt)", str(response.url), path)
    return bytes(body)


def json_data(answer: Answer, path: str) -> Any:
    """The JSON of a data reply; None for 204 or an empty body."""
    if answer.status == 204 or not answer.content:
        return None
    ctype = answer.headers.get("content-type")
    if not decode.is_json(ctype):
        media = (ctype or "").split(";")[0].strip() or "no content type"
        raise DecodeError(f"the device answered {media} for {path}, not JSON", answer.url, path)
    return decode.decode_json(answer.content, answer.url, path)
