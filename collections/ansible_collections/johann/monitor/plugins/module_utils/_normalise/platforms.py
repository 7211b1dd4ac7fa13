# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform families, in the order they are tried against a device's YANG library.

A new family (OpenConfig, say) is one new module defining ``PLATFORM``, added here.
"""
from __future__ import annotations

from ansible_collections.johann.monitor.plugins.module_utils._normalise import ietf, iosxe, nxos, openconfig
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import Platform

# NX-OS implements OpenConfig and IETF models too: it comes before their families
# IOS XE implements some OpenConfig models too: openconfig comes after it (and after NX-OS), before ietf
PLATFORMS: tuple[Platform, ...] = (iosxe.PLATFORM, nxos.PLATFORM, openconfig.PLATFORM, ietf.PLATFORM)
BY_NAME = {p.name: p for p in PLATFORMS}


def detect(modules: set[str]) -> Platform | None:
    return next((p for p in PLATFORMS if p.detect(modules)), None)
