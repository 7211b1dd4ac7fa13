"""The bodies of the lab's hostile replies: endless, nested, gzip-bombed and subtly broken JSON.

lab/server.py sends them for the faults of ``HOSTILE_FAULTS``; they are built here as they are read, so
that an endless body or a bomb costs the lab next to nothing.
"""
from __future__ import annotations

import copy
import json
import zlib
from collections.abc import Callable, Iterator

from lab.encoding import dump_json

CHUNK = 65536
ENDLESS_CHUNK = b"x" * CHUNK
SPACES = b" " * (1 << 20)
SENTINEL = "@@lab-hostile-sentinel@@"


def top_member(document: dict | None) -> str:
    return next(iter(document)) if document else "ietf-restconf:data"


def endless(opening: bytes) -> Iterator[bytes]:
    yield opening
    while True:
        yield ENDLESS_CHUNK


def nesting(head: bytes, depth: int) -> Iterator[bytes]:
    yield head
    for bracket in (b"[", b"]"):
        left = depth
        while left:
            n = min(left, CHUNK)
            yield bracket * n
            left -= n
    yield b"}"


def gzip_bomb(prefix: bytes) -> Iterator[bytes]:
    """A gzip stream of ``prefix`` and then spaces without end, made as it is read.

    Each MiB of spaces deflates to about 1 kB (a thousandfold), but compressing it costs some 5 ms, which
    a fast reader would turn into a busy lab.  Once the window holds only spaces, a sync-flushed block of
    a MiB of spaces comes out the same every time (the compressor's state repeats): the lab then sends
    that block over and over, which decodes exactly as if compressed anew.  If it ever differs (another
    zlib), every block is compressed afresh.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)   # wbits 31: a gzip header and wrapper
    yield packer.compress(prefix) + packer.flush(zlib.Z_SYNC_FLUSH)
    previous = b""
    while True:
        block = packer.compress(SPACES) + packer.flush(zlib.Z_SYNC_FLUSH)
        if block == previous:
            break
        previous = block
        yield block
    steady = block * 64   # about 66 kB that inflate to 64 MiB
    while True:
        yield steady


# ---------------------------------------------------------------- hostile JSON (``bad_json``)
Keys = list   # member names and list indexes from the document's root to a leaf


def _first(value, wanted: Callable[[str | int, object], bool], path: Keys) -> Keys | None:
    """Depth first, the path of the first member or item (name, value) that ``wanted`` accepts."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if wanted(key, item):
            return [*path, key]
        found = _first(item, wanted, [*path, key])
        if found:
            return found
    return None


def _is_number(_key, value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or \
        (isinstance(value, str) and value.isdigit())


def _is_string(_key, value) -> bool:
    return isinstance(value, str)


def _is_named_string(key, value) -> bool:
    return isinstance(key, str) and isinstance(value, str)


def _target(document: dict, *wants: Callable) -> Keys:
    """The first leaf that the first fitting rule finds; the top member's value when none does."""
    for wanted in wants:
        found = _first(document, wanted, [])
        if found:
            return found
    return [next(iter(document))]


def _replace(document: dict, path: Keys, raw: bytes) -> bytes:
    """The document as JSON with the value at ``path`` written as ``raw`` bytes (which json could not write)."""
    doc = copy.deepcopy(document)
    holder = doc
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = SENTINEL
    return dump_json(doc).replace(json.dumps(SENTINEL).encode(), raw, 1)


def _hostname_first(key, value) -> bool:
    return key == "hostname" and isinstance(value, str)


def hostile_json(document: dict, kind: str) -> bytes:
    """The reply ``document`` with exactly one defect of ``kind`` (see FAULTS in lab/fleet.py)."""
    if kind == "top_level_array":
        return b"[1,2,3]"
    if kind == "top_level_string":
        return b'"hello"'
    if kind in ("huge_number", "infinite_number"):
        raw = b"1" + b"0" * 99999 if kind == "huge_number" else b"1e999999"
        return _replace(document, _target(document, _is_number, _is_string), raw)
    path = _target(document, _hostname_first, _is_named_string if kind == "duplicate_keys" else _is_string)
    value = _get(document, path)
    real = json.dumps(value, ensure_ascii=False).encode()
    if kind == "invalid_utf8":
        return _replace(document, path, real[:-1] + b'\xff"' if isinstance(value, str) else b'"\xff"')
    decoy = json.dumps(f"{value}-duplicate" if isinstance(value, str) else "duplicate").encode()
    return _replace(document, path, real + b"," + json.dumps(path[-1]).encode() + b":" + decoy)


def _get(document: dict, path: Keys):
    value = document
    for key in path:
        value = value[key]
    return value


def string_opening(document: dict | None) -> bytes:
    """The real reply's JSON up to the opening quote of its first string: what an endless string follows."""
    if not isinstance(document, dict) or not document:
        return b'{"ietf-restconf:data":"'
    path = _target(document, _is_string)
    if not isinstance(_get(document, path), str):
        return b"{" + json.dumps(path[0]).encode() + b':"'
    text = _replace(document, path, b"\0")
    return text[: text.index(b"\0")] + b'"'
