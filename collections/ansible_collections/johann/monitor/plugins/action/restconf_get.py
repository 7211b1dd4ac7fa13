# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of johann.monitor.restconf_get (documentation: plugins/modules/restconf_get.py)."""
from __future__ import annotations

from ansible_collections.johann.monitor.plugins.module_utils._tasks import restconf_get, restconf_get_spec
from ansible_collections.johann.monitor.plugins.plugin_utils._action import RestconfAction


class ActionModule(RestconfAction):
    ARGUMENT_SPEC = restconf_get_spec()

    def execute(self, params: dict, task_vars: dict) -> dict:
        return self.run_async(restconf_get(params))
