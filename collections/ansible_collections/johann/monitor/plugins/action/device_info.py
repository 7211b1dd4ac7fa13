# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of johann.monitor.device_info (documentation: plugins/modules/device_info.py)."""
from __future__ import annotations

from ansible_collections.johann.monitor.plugins.module_utils._device_info import GatherError
from ansible_collections.johann.monitor.plugins.module_utils._tasks import (
    device_info,
    device_info_spec,
    device_not_read,
)
from ansible_collections.johann.monitor.plugins.plugin_utils import _poller
from ansible_collections.johann.monitor.plugins.plugin_utils._action import RestconfAction


class ActionModule(RestconfAction):
    ARGUMENT_SPEC = device_info_spec()
    EXTRA_INVENTORY_VARS = {"platform": ("johann_platform",), "thresholds": ("johann_thresholds",),
                            "poller": ("johann_poller",), "discovery_cache": ("johann_discovery_cache",)}

    def execute(self, params: dict, task_vars: dict) -> dict:
        label = task_vars.get("inventory_hostname", "")
        warning = None
        stalled = None
        if params["poller"] == "shared":
            try:
                return _poller.call("device_info", params, label)
            except _poller.Unavailable as exc:   # poll here instead; the run's first to find out says why
                if exc.first:
                    warning = (f"johann.monitor: {exc}; polling in each worker instead for the rest of this run "
                               "(slower, same results). Set poller=worker (or johann_poller) to silence this.")
                stalled = str(exc) if isinstance(exc, _poller.Stalled) else None
        try:
            if stalled:   # this device's time is spent: not polled twice
                result = device_not_read(params, label, f"not read: {stalled}")
            else:
                result = self.run_async(device_info(params, label))
        except GatherError as exc:
            raise ValueError(str(exc)) from None
        if warning:
            result["warnings"] = [warning]
        return result
