"""RESTCONF reply encodings: RFC 7951 JSON, RFC 7950 XML and the errors body.

IOS XE answers in XML when the request has no ``Accept`` header, errors
included, so everything the lab serves can be written both ways.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

JSON_TYPE = "application/yang-data+json"
XML_TYPE = "application/yang-data+xml"
RESTCONF_NS = "urn:ietf:params:xml:ns:yang:ietf-restconf"
_IDENTITY = re.compile(r"^([A-Za-z][A-Za-z0-9-]*[A-Za-z]):[A-Za-z_][A-Za-z0-9_.-]*$")


def namespace(module: str) -> str:
    """The XML namespace of a YANG module, as the vendors name them."""
    if module.startswith("Cisco-IOS-XE-") or module.startswith("cisco-"):
        return f"http://cisco.com/ns/yang/{module}"
    if module == "Cisco-NX-OS-device":
        return "http://cisco.com/ns/yang/cisco-nx-os-device"
    if module.startswith("openconfig-"):
        return f"http://openconfig.net/yang/{module[len('openconfig-'):]}"
    return f"urn:ietf:params:xml:ns:yang:{module}"


@dataclass
class RestconfError(Exception):
    """An error the lab answers with an ``ietf-restconf:errors`` body."""

    status: int
    tag: str
    message: str
    error_type: str = "application"
    path: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict:
        error = {"error-type": self.error_type, "error-tag": self.tag,
                 "error-message": self.message}
        if self.path:
            error["error-path"] = self.path
        return {"ietf-restconf:errors": {"error": [error]}}

    def as_xml(self) -> str:
        parts = [f"<error-type>{self.error_type}</error-type>",
                 f"<error-tag>{escape(self.tag)}</error-tag>"]
        if self.path:
            parts.append(f"<error-path>{escape(self.path)}</error-path>")
        parts.append(f"<error-message>{escape(self.message)}</error-message>")
        return (f'<errors xmlns="{RESTCONF_NS}">\n  <error>\n    '
                + "\n    ".join(parts) + "\n  </error>\n</errors>\n")


def dump_json(document: dict) -> bytes:
    # Compact on purpose: json's indent= path is pure Python and several
    # times slower; clients must not depend on whitespace anyway.
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _split(name: str, module: str) -> tuple[str, str]:
    if ":" in name:
        prefix, local = name.split(":", 1)
        return prefix, local
    return module, name


def _scalar(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return escape(str(value))


def _identity_attr(value) -> str:
    """Declare the prefix of an identityref value such as ``iana-if-type:x``."""
    match = _IDENTITY.match(value) if isinstance(value, str) else None
    if match and not value.startswith(("http:", "https:", "urn:", "mailto:")):
        return f" xmlns:{match[1]}={quoteattr(namespace(match[1]))}"
    return ""


def _element(name: str, value, module: str, out: list[str], indent: str) -> None:
    own_module, local = _split(name, module)
    ns = f" xmlns={quoteattr(namespace(own_module))}" if own_module != module else ""
    if isinstance(value, list):
        for item in value:
            _element(name, item, module, out, indent)
        return
    if isinstance(value, dict):
        out.append(f"{indent}<{local}{ns}>")
        for child, child_value in value.items():
            _element(child, child_value, own_module, out, indent + "  ")
        out.append(f"{indent}</{local}>")
    elif value is None:  # an element of [null]: the empty leaf
        out.append(f"{indent}<{local}{ns}/>")
    else:
        out.append(f"{indent}<{local}{ns}{_identity_attr(value)}>{_scalar(value)}</{local}>")


def dump_xml(document: dict) -> bytes:
    """Encode a one-member RFC 7951 document as RFC 7950 XML."""
    out: list[str] = []
    for name, value in document.items():
        _element(name, value, "", out, "")
    return ("\n".join(out) + "\n").encode()
