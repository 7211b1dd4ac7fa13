# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each plugin does with its validated parameters, shared by action plugins and modules."""
from __future__ import annotations

import base64
import gzip
from typing import Any

from ansible_collections.johann.monitor.plugins.module_utils import _discovery, _json
from ansible_collections.johann.monitor.plugins.module_utils._alerts import evaluate, merge_thresholds
from ansible_collections.johann.monitor.plugins.module_utils._device_info import collect, unread_record
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import MASK
from ansible_collections.johann.monitor.plugins.module_utils._restconf.client import RestconfClient
from ansible_collections.johann.monitor.plugins.module_utils._restconf.errors import NotFound, RestconfError
from ansible_collections.johann.monitor.plugins.module_utils._restconf.options import (
    restconf_argument_spec,
    settings_from,
)

GZIP_LEVEL = 3   # a 67 kB record: 0.20 ms and 8.5 kB (level 6: 0.62 ms, 7.3 kB; level 1: 0.18 ms, 9.5 kB)
SUMMARY_KEYS = ("schema", "host", "address", "port", "status", "message", "platform", "polled_at", "duration",
                "requests", "alerts", "notes")
# Nodes whose value is a secret, by local name (IOS XE native, IETF and common models). A secret that is a
# container (IOS XE: enable/secret {type, secret}, username/password {encryption, password}, tacacs and radius
# server/key {encryption, key}, key chain key-string {encryption, key}, bgp neighbor/password {enctype, text},
# crypto ikev2 keyring peer/pre-shared-key/...) has every string in it masked but its encryption type.
SECRET_LEAVES = {"password", "secret", "key", "key-string", "auth-key", "authentication-key", "pre-shared-key",
                 "auth-password", "priv-password", "shared-secret", "community-string", "community-or-user",
                 "password-hashed", "secret-key", "key-value"}   # OpenConfig: aaa users, TACACS/RADIUS, NTP keys
SECRET_LISTS = {"community-config", "community"}   # IOS XE: the entry's name is the community string
SECRET_KINDS = {"encryption", "encryption-type", "enctype", "type"}   # how a secret is stored: kept


def device_info_spec() -> dict[str, Any]:
    spec = restconf_argument_spec()
    spec.update(
        gather={"type": "list", "elements": "str", "default": ["all"]},
        platform={"type": "str", "choices": ["iosxe", "nxos", "openconfig", "ietf"]},
        fail_on_error={"type": "bool", "default": False},
        thresholds={"type": "dict"},
        result_format={"type": "str", "choices": ["dict", "json", "json_gz"], "default": "dict"},
        poller={"type": "str", "choices": ["shared", "worker"], "default": "shared"},
        discovery_cache={"type": "bool", "default": True},
    )
    return spec


def restconf_get_spec() -> dict[str, Any]:
    spec = restconf_argument_spec()
    spec.update(
        path={"type": "str", "required": True},
        content={"type": "str", "choices": ["config", "nonconfig", "all"]},
        depth={"type": "int"},
        fields={"type": "str"},
        with_defaults={"type": "str", "choices": ["report-all", "trim", "explicit", "report-all-tagged"]},
        fail_on_missing={"type": "bool", "default": False},
        mask_secrets={"type": "bool", "default": True},
    )
    return spec


REPORT_EXCLUSIVE = [["hosts", "fleet_json"], ["source", "fleet_json"]]   # report's options that exclude each other


def report_spec() -> dict[str, Any]:
    return {
        "hosts": {"type": "list", "elements": "str"},
        "result_var": {"type": "str", "default": "johann_device"},
        "fleet_json": {"type": "path"},
        "output_dir": {"type": "path"},
        "templates_dir": {"type": "path"},
        "thresholds": {"type": "dict"},
        "title": {"type": "str", "default": "johann.monitor"},
        "history": {"type": "bool", "default": True},
        "history_runs": {"type": "int", "default": 30},
        "carry_over": {"type": "bool", "default": True},
        "stale_after": {"type": "int", "default": 3600},
        "forget_after": {"type": "int", "default": 604800},
        "source": {"type": "str", "choices": ["results", "ara"], "default": "results"},
        "ara_run": {"type": "str"},
        "ara_within": {"type": "int", "default": 3600},
        "ara_record": {"type": "bool", "default": True},
        "ara_labels": {"type": "list", "elements": "str", "default": []},
    }


async def device_info(params: dict, label: str) -> dict:
    thresholds = merge_thresholds(params.get("thresholds"))   # ThresholdError is a ValueError: bad parameter
    cache = _discovery.Cache() if params.get("discovery_cache", True) else None
    record = await collect(settings_from(params), params["gather"], params.get("platform"), label, cache)
    return _device_result(record, params, label, thresholds)


def device_not_read(params: dict, label: str, message: str) -> dict:
    """device_info's result for a device that could not be read for a reason of the controller's own."""
    record = unread_record(settings_from(params), params["gather"], label, message)
    return _device_result(record, params, label, merge_thresholds(params.get("thresholds")))


def _device_result(record: dict, params: dict, label: str, thresholds: dict) -> dict:
    try:
        record["alerts"] = evaluate(record, thresholds)
    except (TypeError, ValueError, ArithmeticError) as exc:   # a reading no threshold can be applied to
        record["alerts"] = []
        record["notes"].append(f"alerts not evaluated: {type(exc).__name__}: {str(exc)[:200]}")
    result: dict[str, Any] = {"changed": False, "device": record, "status": record["status"]}
    if params.get("result_format") in ("json", "json_gz"):
        # One string instead of a deep structure: Ansible's per-result processing of a
        # 60 kB nested record costs ~40 ms of controller CPU per host; a string costs ~0.
        text = _json.dumps(record)   # orjson's when installed: a tenth of json.dumps' CPU
        if params["result_format"] == "json":
            result["device_json"] = text.decode()
        else:   # Ansible's main process keeps every registered result to the end of the play: 8-10x less of it
            result["device_json_gz"] = base64.b64encode(gzip.compress(text, GZIP_LEVEL, mtime=0)).decode()
        result["device"] = {k: record[k] for k in SUMMARY_KEYS}
    if record.get("restconf_root"):
        result["ansible_facts"] = {"johann_restconf_root": record["restconf_root"]}
    if params["fail_on_error"] and record["status"] != "ok":
        result.update(failed=True, msg=f"{label or record['address']}: {record['status']}: {record['message']}")
    return result


def mask(data: Any, in_secret_list: bool = False) -> Any:
    """Replace secret leaves (passwords, keys, SNMP communities) by ``********``."""
    if isinstance(data, list):
        return [mask(item, in_secret_list) for item in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        local = key.rsplit(":", 1)[-1]
        if local in SECRET_LEAVES or (in_secret_list and local == "name"):
            out[key] = MASK if not isinstance(value, (dict, list)) else _masked(value)
        else:
            out[key] = mask(value, local in SECRET_LISTS)
    return out


def _masked(value: Any) -> Any:
    """Inside a secret container or leaf-list: every string masked, except the encryption type; numbers (list
    keys such as a key's id), booleans and empty leaves kept."""
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if isinstance(value, dict):
        return {k: v if k.rsplit(":", 1)[-1] in SECRET_KINDS and not isinstance(v, (dict, list)) else _masked(v)
                for k, v in value.items()}
    return MASK if isinstance(value, str) else value


async def restconf_get(params: dict) -> dict:
    settings = settings_from(params)
    query = {"content": params.get("content"), "depth": params.get("depth"), "fields": params.get("fields"),
             "with-defaults": params.get("with_defaults")}
    query = {k: v for k, v in query.items() if v is not None}
    if "depth" in query and query["depth"] < 1:
        raise ValueError("depth must be 1 or more (leave it out for unbounded)")
    path = params["path"].strip("/")
    if path.startswith("restconf/data/"):
        raise ValueError("path is relative to the data resource: give 'Cisco-IOS-XE-native:native', "
                         "not '/restconf/data/...'")
    async with RestconfClient(settings) as client:
        try:
            reply = await client.get(path, query or None)
        except NotFound as exc:
            if params["fail_on_missing"]:
                return _failed(exc, client)
            return {"changed": False, "absent": True, "status": exc.status, "data": None, "headers": {},
                    "url": exc.url, "restconf_root": await client.root(), "msg": str(exc)}
        except RestconfError as exc:
            return _failed(exc, client)
        data = mask(reply.data) if params["mask_secrets"] else reply.data
        return {"changed": False, "absent": False, "status": reply.status, "data": data,
                "headers": {k.replace("-", "_"): v for k, v in reply.headers.items()}, "url": reply.url,
                "restconf_root": await client.root(), "ansible_facts": {"johann_restconf_root": await client.root()}}


def _failed(exc: RestconfError, client: RestconfClient) -> dict:
    return {"failed": True, "changed": False, "msg": str(exc), "error": exc.as_dict(), "requests": client.requests}
