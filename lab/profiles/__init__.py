"""Device profiles by name: what a simulated device runs and serves."""
from __future__ import annotations

from lab.profiles.base import Document, Profile
from lab.profiles.ietf import GENERIC
from lab.profiles.iosxe import IOSXE_16_12, IOSXE_17, IOSXE_17_12
from lab.profiles.nxos import NXOS
from lab.profiles.openconfig import EOS

PROFILES: dict[str, Profile] = {p.name: p for p in (IOSXE_16_12, IOSXE_17, IOSXE_17_12, GENERIC, EOS, NXOS)}

__all__ = ["Document", "PROFILES", "Profile"]
