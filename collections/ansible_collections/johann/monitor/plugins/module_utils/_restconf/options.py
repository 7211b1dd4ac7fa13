# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared connection options: one argument spec, matching doc_fragments/restconf.py.

Where a value is not given as a task argument, the action plugins take it
from inventory variables (``INVENTORY_VARS``), then from environment
variables (AWX/AAP credential injection), then from the defaults here.
"""
from __future__ import annotations

from typing import Any

from ansible.module_utils.basic import env_fallback
from ansible_collections.johann.monitor.plugins.module_utils._restconf.client import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_REPLY,
    ClientSettings,
)

MIN_REPLY_SIZE = 64 * 1024   # below this, ordinary replies (a YANG library) would not fit

# option -> inventory variables tried in order (the first that is defined wins)
INVENTORY_VARS = {
    "host": ("ansible_host", "inventory_hostname"),
    "port": ("restconf_port", "ansible_httpapi_port", "ansible_port"),
    "username": ("restconf_user", "ansible_user", "ansible_httpapi_user"),
    "password": ("restconf_password", "ansible_password", "ansible_httpapi_password"),
    "validate_certs": ("restconf_validate_certs", "ansible_httpapi_validate_certs"),
    "ca_path": ("restconf_ca_path", "ansible_httpapi_ca_path"),
    "client_cert": ("restconf_client_cert",),
    "client_key": ("restconf_client_key",),
    "proxy": ("restconf_proxy",),
    "root": ("restconf_root", "johann_restconf_root"),
    "deadline": ("restconf_deadline",),
    "max_reply_size": ("restconf_max_reply_size",),
}


def restconf_argument_spec() -> dict[str, Any]:
    return {
        "host": {"type": "str"},
        "port": {"type": "int"},
        "username": {"type": "str", "aliases": ["user"], "fallback": (env_fallback, ["JOHANN_RESTCONF_USERNAME"])},
        "password": {"type": "str", "no_log": True, "fallback": (env_fallback, ["JOHANN_RESTCONF_PASSWORD"])},
        "validate_certs": {"type": "bool", "default": True,
                           "fallback": (env_fallback, ["JOHANN_RESTCONF_VALIDATE_CERTS"])},
        "ca_path": {"type": "path", "fallback": (env_fallback, ["JOHANN_RESTCONF_CA_PATH"])},
        "client_cert": {"type": "path"},
        "client_key": {"type": "path", "no_log": False},
        "proxy": {"type": "str", "fallback": (env_fallback, ["JOHANN_RESTCONF_PROXY"])},
        "root": {"type": "str"},
        "connect_timeout": {"type": "float", "default": 5.0},
        "timeout": {"type": "float", "default": 10.0},
        "retries": {"type": "int", "default": 2},
        "max_concurrency": {"type": "int", "default": 2},
        "deadline": {"type": "float", "default": DEFAULT_DEADLINE},
        "max_reply_size": {"type": "int", "default": DEFAULT_MAX_REPLY},
    }


RESTCONF_REQUIRED_TOGETHER = [["client_cert", "client_key"]]


def settings_from(params: dict[str, Any]) -> ClientSettings:
    """Validated module parameters -> client settings (raises ValueError on bad values)."""
    if not params.get("host"):
        raise ValueError("no host: set `host`, or ansible_host in the inventory")
    for name in ("connect_timeout", "timeout", "deadline"):
        if params[name] <= 0:
            raise ValueError(f"{name} must be more than 0 seconds, not {params[name]}")
    if params["max_reply_size"] < MIN_REPLY_SIZE:
        raise ValueError(f"max_reply_size must be at least {MIN_REPLY_SIZE} bytes, not {params['max_reply_size']}")
    if params["retries"] < 0 or params["max_concurrency"] < 1:
        raise ValueError("retries must be 0 or more and max_concurrency 1 or more")
    root = params.get("root")
    if root and not root.startswith("/"):
        raise ValueError(f"root must be a path such as /restconf, not {root!r}")
    return ClientSettings(
        host=params["host"], port=params.get("port") or 443, username=params.get("username"),
        password=params.get("password"), validate_certs=params["validate_certs"], ca_path=params.get("ca_path"),
        client_cert=params.get("client_cert"), client_key=params.get("client_key"), proxy=params.get("proxy"),
        connect_timeout=params["connect_timeout"], timeout=params["timeout"], retries=params["retries"],
        max_concurrency=params["max_concurrency"], root=root, deadline=params["deadline"],
        max_reply_size=params["max_reply_size"])
