"""What every device profile provides to the server."""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lab.encoding import JSON_TYPE, XML_TYPE, RestconfError
from lab.model import Device

Render = Callable[[Device, float], Any]

BASE_CAPABILITIES = [
    "urn:ietf:params:restconf:capability:defaults:1.0?basic-mode=explicit",
    "urn:ietf:params:restconf:capability:depth:1.0",
    "urn:ietf:params:restconf:capability:fields:1.0",
    "urn:ietf:params:restconf:capability:with-defaults:1.0",
]


@dataclass(frozen=True)
class Document:
    """A top-level data resource ``module:node`` of a profile.

    kind is ``config`` (stored in ``Device.config``, writable), ``state``
    (rendered from the living state) or ``mixed`` (NMDA: stored config plus
    rendered state, where ``state_members`` names the operational nodes).
    ``inactive`` documents answer 204 No Content, as IOS XE does for the
    operational data of a feature that is not running.
    """
    kind: str
    render: Render | None = None
    state_members: frozenset[str] = frozenset()
    inactive: bool = False


@dataclass
class Profile:
    name: str
    platform: str
    vendor: str
    documents: dict[str, Document] = field(default_factory=dict)
    modules: list[tuple[str, str]] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=lambda: list(BASE_CAPABILITIES))
    media_type: str = JSON_TYPE
    operations: dict[str, Callable[[Device, dict], dict]] = field(default_factory=dict)
    # wire quirks of devices that follow an early RESTCONF draft (Cisco NX-OS):
    xml_media_type: str = XML_TYPE
    accept_types: tuple[str, ...] = ()   # the Accept header must name one of these, else 406 (empty: any)
    missing_status: int = 404            # what a GET of a resource the device lacks answers (NX-OS: 204)
    bare_names: bool = False             # reply members without their module prefix (``{"PhysIf-list": ...}``)
    # Arista EOS: a GET of a container or list entry answers its children, each module-qualified
    # (``{"openconfig-interfaces:admin-status": "UP", ...}``), not the node; no host-meta (404); its own port
    reply_children: bool = False
    host_meta: bool = True
    port: int | None = None              # the device's port with `addressing: address` (None: the fleet's)

    def build(self, device: Device) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def validate(self, top: str, value: Any) -> None:
        """Reject a config document that the device would refuse (400)."""

    def after_write(self, device: Device, top: str) -> None:
        """Propagate a committed write to the other views of the same data."""

    def https_enabled(self, _device: Device) -> bool:
        """Whether the device's HTTPS server listens (else connections are refused: ``https_disabled``)."""
        return True

    def restconf_enabled(self, device: Device) -> bool:
        """Whether the device answers RESTCONF (else 404 for every path: the ``restconf_disabled`` fault)."""
        return not device.faults.get("restconf_disabled")

    def module_names(self) -> set[str]:
        return {m for m, _ in self.modules}


# ---------------------------------------------------------------- validators
def invalid(message: str, path: str) -> RestconfError:
    return RestconfError(400, "invalid-value", message, path=path)


def check_string(value, path: str, max_len: int, pattern: Callable[[str], bool] | None = None):
    if not isinstance(value, str) or not 0 < len(value) <= max_len:
        raise invalid(f"{path}: expected a string of 1..{max_len} characters", path)
    if pattern and not pattern(value):
        raise invalid(f"{path}: {value!r} is not a valid value", path)


def check_int(value, path: str, low: int, high: int):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise invalid(f"{path}: expected an integer", path)
    try:
        number = int(value)
    except ValueError:
        raise invalid(f"{path}: {value!r} is not an integer", path) from None
    if not low <= number <= high:
        raise invalid(f"{path}: {number} is out of range {low}..{high}", path)


def check_ip(value, path: str):
    try:
        ipaddress.ip_address(value)
    except (ValueError, TypeError):
        raise invalid(f"{path}: {value!r} is not an IP address", path) from None


def check_bool(value, path: str):
    if not isinstance(value, bool):
        raise invalid(f"{path}: expected true or false", path)


def is_hostname(text: str) -> bool:
    return all(c.isalnum() or c in "-_." for c in text) and text[0].isalnum()


def expect_dict(value, path: str) -> dict:
    if not isinstance(value, dict):
        raise invalid(f"{path}: expected a container", path)
    return value


def expect_list(value, path: str) -> list:
    if not isinstance(value, list):
        raise invalid(f"{path}: expected a list", path)
    return value
