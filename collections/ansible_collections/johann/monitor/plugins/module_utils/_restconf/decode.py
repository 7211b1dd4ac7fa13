# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reply bodies: media-type tolerant JSON, RFC 8040 error bodies in JSON or XML, host-meta."""
from __future__ import annotations

import json
import re
from urllib.parse import urlparse
from xml.etree import ElementTree

from ansible_collections.johann.monitor.plugins.module_utils._restconf.errors import DecodeError

XRD_NS = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"
_TAG = re.compile(r"<[^>]+>")
MAX_XML = 1 << 20  # error bodies and host-meta are small; refuse to parse megabytes of XML


def is_json(content_type: str | None) -> bool:
    """yang-data+json, vnd.yang.data+json, yang.api+json, application/json...: all JSON."""
    return bool(content_type) and "json" in content_type.split(";")[0].lower()


def is_xml(content_type: str | None) -> bool:
    return bool(content_type) and "xml" in content_type.split(";")[0].lower()


def decode_json(body: bytes, url: str, path: str):
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"malformed JSON from the device on {path or url}: {exc}", url, path) from None


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
