"""RESTCONF semantics of one device, independent of the HTTP server.

``dispatch`` takes a parsed request and returns a ``Reply``; the server adds
authentication, faults and the wire.  Keeping this free of aiohttp lets the
ground-truth API serve exactly what a device would, without faults.
"""
from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from urllib.parse import quote

from lab import datatree as dtree
from lab.encoding import JSON_TYPE, XML_TYPE, RestconfError, dump_json, dump_xml, namespace
from lab.model import Device
from lab.profiles import Document

QUERY_PARAMS = {"content", "depth", "fields", "with-defaults"}
UNSUPPORTED_PARAMS = {"filter", "start-time", "stop-time", "insert", "point"}
WITH_DEFAULTS = {"report-all", "trim", "explicit", "report-all-tagged"}
YANG_LIBRARY_VERSION = "2016-06-21"


@dataclass
class Reply:
    status: int
    document: dict | None = None      # encoded per Accept by ``render``
    raw: bytes | None = None          # already encoded (host-meta)
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str                         # raw, still percent-encoded
    query: list[tuple[str, str]]
    accept: str | None = None
    content_type: str | None = None
    body: bytes = b""
    if_none_match: str | None = None


def wants_json(accept: str | None) -> bool:
    """IOS XE answers XML unless JSON is asked for; any ``json`` type counts."""
    return accept is not None and "json" in accept.lower()


def render(reply: Reply, accept: str | None, json_type: str = JSON_TYPE,
           xml_type: str = XML_TYPE) -> tuple[bytes, str | None]:
    if reply.raw is not None:
        return reply.raw, reply.content_type
    if reply.document is None:
        return b"", None
    if wants_json(accept):
        return dump_json(reply.document), json_type
    return dump_xml(reply.document), xml_type


def error_reply(err: RestconfError) -> Reply:
    return Reply(err.status, err.as_json(), headers=dict(err.headers))


def error_body(err: RestconfError, accept: str | None, json_type: str = JSON_TYPE,
               xml_type: str = XML_TYPE) -> tuple[bytes, str]:
    if wants_json(accept):
        return dump_json(err.as_json()), json_type
    return err.as_xml().encode(), xml_type


def acceptable(accept: str | None, types: tuple[str, ...]) -> bool:
    """Whether an Accept header names one of ``types`` (a profile without ``accept_types`` takes any)."""
    named = {part.split(";")[0].strip().lower() for part in (accept or "").split(",")}
    return not types or bool(named & set(types))


# ---------------------------------------------------------------- built-in documents
def _modules_state(d: Device, _now: float) -> dict:
    mods = d.profile.modules
    digest = hashlib.sha256(repr(mods).encode()).hexdigest()[:12]
    return {"module-set-id": digest, "module": [
        {"name": name, "revision": rev,
         "schema": f"https://{d.dns_name}:{d.port}/restconf/tailf/modules/{name}/{rev}",
         "namespace": namespace(name), "conformance-type": "implement"} for name, rev in mods]}


def _yang_library(d: Device, _now: float) -> dict:
    mods = [{"name": n, "revision": r, "namespace": namespace(n)} for n, r in d.profile.modules]
    return {"module-set": [{"name": "complete", "module": mods}],
            "schema": [{"name": "complete", "module-set": ["complete"]}],
            "datastore": [{"name": "ietf-datastores:running", "schema": "complete"},
                          {"name": "ietf-datastores:operational", "schema": "complete"}],
            "content-id": hashlib.sha256(repr(mods).encode()).hexdigest()[:12]}


def _restconf_state(d: Device, _now: float) -> dict:
    return {"capabilities": {"capability": list(d.profile.capabilities)},
            "streams": {"stream": [{"name": "NETCONF", "description": "default NETCONF event stream",
                                    "replay-support": False, "access": [
                                        {"encoding": "xml",
                                         "location": f"https://{d.dns_name}:{d.port}/restconf/streams/NETCONF/xml"}]}]}}


def documents(d: Device) -> dict[str, Document]:
    """Every top-level data resource the device serves, built-ins included."""
    docs = dict(d.profile.documents)
    docs["ietf-yang-library:modules-state"] = Document("state", _modules_state)
    if "ietf-yang-library" in d.profile.module_names() and d.profile.platform == "ietf":
        docs["ietf-yang-library:yang-library"] = Document("state", _yang_library)
    docs["ietf-restconf-monitoring:restconf-state"] = Document("state", _restconf_state)
    return docs


def host_meta(root: str, extra_link: bool) -> Reply:
    links = "    <Link rel='author' href='mailto:noc@lab.johann.test'/>\n" if extra_link else ""
    body = ("<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n" + links
            + f"    <Link rel='restconf' href='{root}'/>\n</XRD>\n")
    return Reply(200, raw=body.encode(), content_type="application/xrd+xml")


# ---------------------------------------------------------------- dispatch
def dispatch(d: Device, req: Request, now: float, root: str = "/restconf") -> Reply:
    try:
        return _dispatch(d, req, now, root)
    except RestconfError as err:
        return error_reply(err)


def _not_found(path: str) -> RestconfError:
    return RestconfError(404, "invalid-value", "uri keypath not found", path=path)


def _dispatch(d: Device, req: Request, now: float, root: str) -> Reply:
    path, method = req.path, req.method
    if path == "/.well-known/host-meta":
        _allow(method, ("GET", "HEAD"))
        if not d.profile.host_meta:
            raise _not_found(path)
        return host_meta(root, d.profile.platform == "ietf")
    if path != root and not path.startswith(root + "/"):
        raise _not_found(path)
    if not acceptable(req.accept, d.profile.accept_types):
        raise RestconfError(406, "invalid-value", f"the Accept header must name {' or '.join(d.profile.accept_types)}",
                            "protocol")
    rest = path[len(root):].strip("/")
    if rest in ("", "yang-library-version"):
        _allow(method, ("GET", "HEAD"))
        if rest:
            return Reply(200, {"ietf-restconf:yang-library-version": YANG_LIBRARY_VERSION})
        return Reply(200, {"ietf-restconf:restconf": {
            "data": {}, "operations": {}, "yang-library-version": YANG_LIBRARY_VERSION}})
    if rest == "operations" or rest.startswith("operations/"):
        return _operations(d, req, rest[len("operations"):].strip("/"))
    if rest != "data" and not rest.startswith("data/"):
        raise _not_found(path)
    params = _query(req.query)
    sub = rest[len("data"):].strip("/")
    if method in ("GET", "HEAD"):
        return _get_or_missing(d, sub, params, now, req.if_none_match)
    if method in ("PUT", "PATCH", "POST", "DELETE"):
        return _write(d, method, sub, req, now)
    raise RestconfError(405, "operation-not-supported", f"method {method} is not supported",
                        "protocol", headers={"Allow": "GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS"})


def _allow(method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        raise RestconfError(405, "operation-not-supported", f"method {method} is not allowed here",
                            "protocol", headers={"Allow": ", ".join(allowed)})


def _query(pairs: list[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in UNSUPPORTED_PARAMS:
            raise RestconfError(400, "invalid-value", f"query parameter {name!r} is not supported",
                                "protocol")
        if name not in QUERY_PARAMS:
            raise RestconfError(400, "invalid-value", f"unknown query parameter {name!r}", "protocol")
        if name in params:
            raise RestconfError(400, "invalid-value", f"query parameter {name!r} given twice", "protocol")
        params[name] = value
    if params.get("content", "all") not in ("all", "config", "nonconfig"):
        raise RestconfError(400, "invalid-value", "content must be config, nonconfig or all", "protocol")
    depth = params.get("depth", "unbounded")
    if depth != "unbounded" and not (depth.isdigit() and 1 <= int(depth) <= 65535):
        raise RestconfError(400, "invalid-value", "depth must be 1..65535 or unbounded", "protocol")
    if params.get("with-defaults", "explicit") not in WITH_DEFAULTS:
        raise RestconfError(400, "invalid-value", "unknown with-defaults mode", "protocol")
    return params


def _etag(d: Device) -> dict[str, str]:
    stamp = d.last_modified or d.boot_time
    return {"ETag": f'"{d.name}-{d.config_version}"',
            "Last-Modified": formatdate(stamp, usegmt=True)}


def _document_value(d: Device, top: str, doc: Document, now: float):
    if doc.kind == "config":
        return d.config[top]
    return doc.render(d, now)


def _get_or_missing(d: Device, sub: str, params: dict[str, str], now: float, if_none_match: str | None) -> Reply:
    """A GET; a resource the device lacks is 404, or what the profile answers instead (NX-OS: 204 No Content)."""
    try:
        return _get(d, sub, params, now, if_none_match)
    except RestconfError as err:
        if err.status == 404 and d.profile.missing_status != 404:
            return Reply(d.profile.missing_status)
        raise


def _get(d: Device, sub: str, params: dict[str, str], now: float, if_none_match: str | None) -> Reply:
    docs = documents(d)
    if not sub:  # the datastore resource: every active document
        headers = _etag(d)
        if if_none_match and if_none_match == headers["ETag"]:
            return Reply(304, headers=headers)
        data = {top: _document_value(d, top, doc, now) for top, doc in docs.items() if not doc.inactive}
        return Reply(200, {"ietf-restconf:data": data}, headers=headers)
    segments = dtree.parse_path(sub)
    top = segments[0].qualified
    doc = docs.get(top)
    if doc is None:
        raise _not_found("/" + sub)
    if doc.inactive:
        return Reply(204)
    target = dtree.resolve({top: _document_value(d, top, doc, now)}, segments)
    (name, value), = target.reply().items()
    value = _content(value, params.get("content", "all"), doc, segments, target.name)
    if value is None:
        return Reply(204)
    if "fields" in params:
        value = dtree.select_fields(value, dtree.parse_fields(params["fields"]),
                                    target.name if target.is_entry or isinstance(value, list) else None)
    if params.get("depth", "unbounded") != "unbounded":
        value = dtree.limit_depth(value, int(params["depth"]))
    if d.profile.bare_names:
        name = dtree.local_name(name)[1]
    headers = _etag(d) if doc.kind != "state" else {}
    node = value[0] if target.is_entry and isinstance(value, list) and len(value) == 1 else value
    if d.profile.reply_children and isinstance(node, dict) and node:
        return Reply(200, children(node, dtree.local_name(name)[0] or ""), headers=headers)
    return Reply(200, {name: value}, headers=headers)


def children(node: dict, module: str) -> dict:
    """A node's members, each qualified with its module (EOS's reply to a GET of a container or entry)."""
    return {member if ":" in member or not module else f"{module}:{member}": value for member, value in node.items()}


def _content(value, content: str, doc: Document, segments, list_name: str):
    if content == "all":
        return value
    keep_state = content == "nonconfig"
    if doc.kind == "config":
        return None if keep_state else value
    if doc.kind == "state":
        return value if keep_state else None
    if any(s.name in doc.state_members for s in segments[1:]):
        return value if keep_state else None
    return dtree.filter_content(value, keep_state, doc.state_members, list_name)


# ---------------------------------------------------------------- writes
def _decode_body(req: Request) -> dict:
    ctype = (req.content_type or "").lower()
    if "xml" in ctype:
        raise RestconfError(415, "invalid-value",
                            "the lab accepts JSON bodies only; send application/yang-data+json", "protocol")
    try:
        body = json.loads(req.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RestconfError(400, "malformed-message", f"malformed JSON body: {exc}", "protocol") from None
    if not isinstance(body, dict) or len(body) != 1:
        raise RestconfError(400, "malformed-message",
                            "the body must be a JSON object with exactly one member", "protocol")
    return body


def _body_member(body: dict, seg: dtree.Segment, module: str, path: str):
    (member, value), = body.items()
    prefix, local = dtree.local_name(member)
    if local != seg.name or (prefix and prefix != (seg.module or module)):
        raise RestconfError(400, "invalid-value",
                            f"the body names {member!r} but the target is {seg.name!r}", path=path)
    return value


def _write(d: Device, method: str, sub: str, req: Request, now: float) -> Reply:
    if not sub:
        raise RestconfError(405, "operation-not-supported",
                            "writes to the whole datastore are not supported by the lab", "protocol")
    segments = dtree.parse_path(sub)
    top = segments[0].qualified
    doc = documents(d).get(top)
    if doc is None:
        raise _not_found("/" + sub)
    if doc.kind == "state":
        raise RestconfError(405, "operation-not-supported", f"{top} is operational data, not configuration",
                            path="/" + sub)
    working = {top: copy.deepcopy(d.config[top])}
    path = "/" + sub
    status, headers = 204, {}
    if method == "DELETE":
        if len(segments) == 1:
            raise RestconfError(405, "operation-not-supported", "the top-level container cannot be deleted",
                                path=path)
        target = dtree.resolve(working, segments)
        del target.parent[target.member]
    else:
        body = _decode_body(req)
        if doc.kind == "mixed":
            _refuse_state(body, doc.state_members, path)
        if method == "POST":
            status, headers = 201, {"Location": _post(working, segments, body, path, req.path)}
        elif method == "PUT":
            status = _put(working, segments, body, path)
        else:
            _patch(working, segments, body, path)
    d.profile.validate(top, working[top])
    d.keep_startup()
    d.config[top] = working[top]
    d.profile.after_write(d, top)
    d.config_version += 1
    d.last_modified = now
    return Reply(status, headers=dict(headers, **_etag(d)))


def _refuse_state(body, state_members: frozenset[str], path: str) -> None:
    if isinstance(body, dict):
        for member, value in body.items():
            if dtree.local_name(member)[1] in state_members:
                raise RestconfError(400, "invalid-value", f"{member} is read-only operational data", path=path)
            _refuse_state(value, state_members, path)
    elif isinstance(body, list):
        for item in body:
            _refuse_state(item, state_members, path)


def _parent_module(working: dict, segments) -> str:
    return dtree.resolve(working, segments).module if segments else ""


def _put(working: dict, segments, body: dict, path: str) -> int:
    seg = segments[-1]
    parent_segments = segments[:-1]
    module = _parent_module(working, parent_segments) if parent_segments else (seg.module or "")
    value = _body_member(body, seg, module, path)
    if seg.keys is not None:
        if not (isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)):
            raise RestconfError(400, "invalid-value", "a list entry must be sent as a one-element array",
                                path=path)
        names = dtree.key_names(seg.name, value[0])
        if tuple(dtree.key_text(value[0].get(n)) for n in names) != seg.keys:
            raise RestconfError(400, "invalid-value", "the key in the body does not match the URI", path=path)
        value = value[0]
    try:
        target = dtree.resolve(working, segments)
        target.parent[target.member] = value
        return 204
    except RestconfError as err:
        if err.status != 404:
            raise
    container = dtree.resolve(working, parent_segments).value if parent_segments else working
    member = dtree.find_member(container, seg, module) or seg.qualified
    if seg.keys is None:
        container[member] = value
    else:
        container.setdefault(member, []).append(value)
    return 201


def _patch(working: dict, segments, body: dict, path: str) -> None:
    target = dtree.resolve(working, segments)
    value = _body_member(body, segments[-1], target.module, path)
    if target.is_entry:
        if not (isinstance(value, list) and len(value) == 1):
            raise RestconfError(400, "invalid-value", "a list entry must be sent as a one-element array",
                                path=path)
        value = value[0]
    current = target.value
    if isinstance(current, dict) and isinstance(value, dict):
        dtree.merge(current, value)
    elif isinstance(current, list) and isinstance(value, list):
        dtree.merge(target.parent, {target.member: value})
    else:
        target.parent[target.member] = value


def _post(working: dict, segments, body: dict, path: str, raw_path: str) -> str:
    target = dtree.resolve(working, segments)
    container = target.value
    if not isinstance(container, dict):
        raise RestconfError(400, "invalid-value", "POST needs a container or list entry as target", path=path)
    (member, value), = body.items()
    prefix, local = dtree.local_name(member)
    seg = dtree.Segment(prefix, local, None)
    if prefix is None or prefix == target.module:   # RFC 7951: qualify only where the module changes
        member = local
    existing = dtree.find_member(container, seg, target.module)
    if existing is None:
        container[member] = value
        return raw_path + "/" + member
    current = container[existing]
    if not (isinstance(current, list) and isinstance(value, list)):
        raise RestconfError(409, "data-exists", f"{member} already exists", path=path + "/" + member)
    for entry in value:
        keys = (tuple(dtree.key_text(entry.get(n)) for n in dtree.key_names(local, entry))
                if isinstance(entry, dict) else (dtree.key_text(entry),))
        if dtree.find_entry(current, local, keys) is not None:
            raise RestconfError(409, "data-exists", f"{member}={','.join(keys)} already exists",
                                path=path + "/" + member)
        current.append(entry)
    first = value[0] if value else {}
    keys = (",".join(dtree.key_text(first.get(n)) for n in dtree.key_names(local, first))
            if isinstance(first, dict) else dtree.key_text(first))
    return raw_path + "/" + member + "=" + quote(keys, safe=",")


# ---------------------------------------------------------------- operations
def _operations(d: Device, req: Request, name: str) -> Reply:
    ops = d.profile.operations
    if not name:
        _allow(req.method, ("GET", "HEAD"))
        return Reply(200, {"ietf-restconf:operations": {op: f"/restconf/operations/{op}" for op in ops}})
    _allow(req.method, ("POST",))
    if name not in ops:
        raise _not_found("/operations/" + name)
    body = _decode_body(req) if req.body.strip() else {}
    return Reply(200, ops[name](d, body))


def get_json(d: Device, path: str, query: Mapping[str, str], now: float):
    """A GET answered in-process, decoded: ``(status, value of the one member or None)``.

    A reply of several members (EOS answers a container's children) is returned whole, as clients unwrap it.
    """
    status, body = served(d, "/restconf/data/" + path, query, now, d.profile.media_type)
    if status != 200:
        return status, None
    document = json.loads(body)
    return status, next(iter(document.values())) if len(document) == 1 else document


def served(d: Device, path: str, query: Mapping[str, str], now: float, accept: str | None) -> tuple[int, bytes]:
    """What the device would answer to a GET, without faults: the ground truth API uses it."""
    reply = dispatch(d, Request("GET", path, list(query.items()), accept), now, d.faults.get("root", "/restconf"))
    body, _ = render(reply, accept)
    return reply.status, body
