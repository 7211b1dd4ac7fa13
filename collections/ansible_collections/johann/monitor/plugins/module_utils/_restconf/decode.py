# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reply bodies: media-type tolerant JSON, RFC 8040 error bodies in JSON or XML, host-meta.

Device replies are untrusted input. JSON is parsed with limits that no real RESTCONF reply
comes near, and every way a reply can be hostile becomes a ``DecodeError`` naming it: nesting
deeper than ``MAX_DEPTH`` levels, a member twice in one object, numbers that are not finite or
too long, bytes that are not UTF-8, a top-level value that is not an object.
"""
from __future__ import annotations

import json
import math
import re
from urllib.parse import urlparse
from xml.etree import ElementTree

from ansible_collections.johann.monitor.plugins.module_utils._restconf.errors import DecodeError

XRD_NS = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"
_TAG = re.compile(r"<[^>]+>")
MAX_XML = 1 << 20  # error bodies and host-meta are small; refuse to parse megabytes of XML
MAX_DEPTH = 512   # RESTCONF trees of real devices nest a few dozen levels
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
          type(None): "null"}


class _Duplicate(ValueError):
    """A member name twice in one object (RFC 7951 forbids it; which one counts is anyone's guess)."""


def _object(pairs: list) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set = set()
        name = next(k for k, _v in pairs if k in seen or seen.add(k))
        raise _Duplicate(f"the member {name!r} appears twice in one object")
    return out


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _max_depth(brackets: bytes) -> int:
    depth = deepest = 0
    for byte in brackets:
        if byte in (91, 123):   # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return deepest


def nesting_depth(body: bytes) -> int:
    """How deep a JSON text nests, counting brackets outside strings (a cheap upper bound first).

    Healthy replies cost one ``translate`` pass; only a body with more than ``MAX_DEPTH`` opening
    brackets is walked, and only a deep-looking one is walked again without its strings, whose
    brackets would otherwise count.
    """
    brackets = body.translate(None, _NOT_BRACKET)
    if len(brackets) <= 2 * MAX_DEPTH and brackets.count(b"[") + brackets.count(b"{") <= MAX_DEPTH:
        return min(len(brackets), MAX_DEPTH)
    depth = _max_depth(brackets)
    if depth > MAX_DEPTH and b'"' in body:
        depth = _max_depth(_STRING.sub(b'""', body).translate(None, _NOT_BRACKET))
    return depth


def is_json(content_type: str | None) -> bool:
    """yang-data+json, vnd.yang.data+json, yang.api+json, application/json...: all JSON."""
    return bool(content_type) and "json" in content_type.split(";")[0].lower()


def is_xml(content_type: str | None) -> bool:
    return bool(content_type) and "xml" in content_type.split(";")[0].lower()


def decode_json(body: bytes, url: str, path: str):
    """The JSON object of a reply body (``None`` for an empty one); DecodeError says what is wrong."""
    if not body.strip():
        return None
    where = path or url
    depth = nesting_depth(body)
    if depth > MAX_DEPTH:
        raise DecodeError(f"the reply on {where} is nested deeper than {MAX_DEPTH} levels ({depth}): refused",
                          url, path)
    try:
        data = json.loads(body, object_pairs_hook=_object, parse_float=_finite, parse_constant=_constant)
    except UnicodeDecodeError as exc:
        bad = bytes(exc.object)[exc.start:exc.start + 1].hex()
        raise DecodeError(f"the reply on {where} is not valid UTF-8 (byte 0x{bad} at offset {exc.start})",
                          url, path) from None
    except RecursionError:
        raise DecodeError(f"the reply on {where} is nested too deeply to decode", url, path) from None
    except _Duplicate as exc:
        raise DecodeError(f"the reply on {where} is ambiguous: {exc}", url, path) from None
    except ValueError as exc:
        why = str(exc)
        if "digits" in why and "integer" in why:   # CPython's int_max_str_digits guard
            why = "an integer of thousands of digits (no YANG number is that long)"
        raise DecodeError(f"malformed JSON from the device on {where}: {why}", url, path) from None
    if not isinstance(data, dict):
        raise DecodeError(f"the reply on {where} is {_TYPES.get(type(data), type(data).__name__)}, not a JSON "
                          "object (a RESTCONF reply is an object named after its target)", url, path)
    return data


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_xml(body: bytes):
    if len(body) > MAX_XML or b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        return None   # no DTDs or entities from devices: nothing legitimate needs them
    try:
        return ElementTree.fromstring(body)  # noqa: S314 - DTDs and entities refused above
    except ElementTree.ParseError:
        return None


def parse_errors(body: bytes, content_type: str | None) -> dict:
    """The first RFC 8040 error of a reply (JSON or XML), or a snippet of a foreign body.

    Returns a dict with ``error-type``, ``error-tag``, ``error-message`` and
    ``error-path`` when found, plus ``text``: a short plain-text rendering of
    a body that was not RESTCONF (an HTML page from a proxy or web server).
    """
    if is_json(content_type) or body.lstrip().startswith(b"{"):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if isinstance(data, dict):
            errors = data.get("ietf-restconf:errors") or data.get("errors") or {}
            error = errors.get("error") if isinstance(errors, dict) else None
            if isinstance(error, list) and error and isinstance(error[0], dict):
                return {k: str(v) for k, v in error[0].items() if k.startswith("error-")}
    if is_xml(content_type) or body.lstrip().startswith(b"<"):
        root = _parse_xml(body)
        if root is not None and _local(root.tag) == "errors":
            first = next((e for e in root if _local(e.tag) == "error"), None)
            if first is not None:
                return {_local(c.tag): (c.text or "").strip() for c in first if _local(c.tag).startswith("error-")}
    text = " ".join(_TAG.sub(" ", body[:2000].decode("utf-8", "replace")).split())
    return {"text": text[:200]} if text else {}


def restconf_root(body: bytes) -> str | None:
    """The href of the ``rel="restconf"`` link of a host-meta XRD (not simply the first link)."""
    root = _parse_xml(body)
    if root is None:
        return None
    for link in root.iter(f"{XRD_NS}Link"):
        if link.get("rel") == "restconf" and link.get("href"):
            href = urlparse(link.get("href").strip()).path   # absolute or relative href
            return "/" + href.strip("/")
    return None
