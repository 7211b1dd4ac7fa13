"""RFC 8040 resource paths over RFC 7951 JSON trees.

A data tree here is plain JSON: dicts for containers and list entries, lists
for YANG lists and leaf-lists.  What JSON cannot say (which leaves are list
keys) comes from ``LIST_KEYS``.  Everything in this module is pure.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from urllib.parse import unquote

from lab.encoding import RestconfError

LIST_KEYS: dict[str, tuple[str, ...]] = {
    "interface": ("name",), "GigabitEthernet": ("name",), "TenGigabitEthernet": ("name",),
    "TwentyFiveGigE": ("name",), "FortyGigabitEthernet": ("name",), "Loopback": ("name",),
    "Vlan": ("name",), "AppGigabitEthernet": ("name",), "server-list": ("ip-address",),
    "username": ("name",), "community-config": ("name",), "group": ("id",), "names": ("username",),
    "filename-list-ordered-by-user": ("filename",), "flash-list-ordered-by-user": ("flash-leaf",),
    "address": ("ip",), "server": ("name",), "component": ("name",),
    "control-process": ("fru", "slot", "bay", "chassis"), "per-core-stat": ("name",),
    "memory-statistic": ("name",), "environment-sensor": ("name", "location"),
    "cdp-neighbor-detail": ("device-id",),
    "lldp-entry": ("device-id", "local-interface", "connecting-interface"),
    "arp-vrf": ("vrf",), "arp-oper": ("address",), "q-filesystem": ("fru", "slot", "bay", "chassis"),
    "partitions": ("name",), "image-files": ("image-name",), "device-inventory": ("hw-type", "hw-dev-index"),
    "cpu-usage-process": ("pid", "name"), "module": ("name", "revision"), "rl-history": ("rl-index",),
    "usage": ("entitlement-tag",), "ip-route-interface-forwarding-list": ("prefix", "mask"),
    "fwd-list": ("fwd",), "load-avg-minute": ("number",), "module-set": ("name",),
    "schema": ("name",), "datastore": ("name",), "search": ("name",), "stream": ("name",),
    "access": ("encoding",),
}


@dataclass(frozen=True)
class Segment:
    module: str | None
    name: str
    keys: tuple[str, ...] | None  # None: no "=" in the segment

    @property
    def qualified(self) -> str:
        return f"{self.module}:{self.name}" if self.module else self.name

    def text(self) -> str:
        return self.qualified + ("" if self.keys is None else "=" + ",".join(self.keys))


def parse_path(path: str) -> list[Segment]:
    """Split ``mod:a/b=k1,k2/c`` into segments, percent-decoding each key.

    Keys are split on the raw ``,`` before decoding, so ``%2C`` stays inside
    a key as RFC 8040 section 3.5.3 requires.
    """
    segments = []
    for raw in path.strip("/").split("/"):
        if not raw:
            raise RestconfError(400, "malformed-message", "empty path segment", "protocol")
        name, eq, keys = raw.partition("=")
        name = unquote(name)
        module, _, local = name.rpartition(":")
        if not local or not _is_identifier(local) or (module and not _is_identifier(module)):
            raise RestconfError(400, "malformed-message", f"invalid path segment {raw!r}", "protocol")
        key_values = tuple(unquote(k) for k in keys.split(",")) if eq else None
        segments.append(Segment(module or None, local, key_values))
    if segments and segments[0].module is None:
        raise RestconfError(400, "malformed-message",
                            "the first path segment must be module-qualified", "protocol")
    return segments


def _is_identifier(text: str) -> bool:
    return bool(text) and (text[0].isalpha() or text[0] == "_") and all(
        c.isalnum() or c in "_-." for c in text)


def local_name(member: str) -> tuple[str | None, str]:
    module, _, local = member.rpartition(":")
    return module or None, local


def find_member(container: dict, seg: Segment, module: str) -> str | None:
    """The member of ``container`` a segment names.

    RFC 8040 section 3.5.3: a segment is qualified where its module differs
    from its parent's, so an unqualified segment names a member of the
    parent's module only.
    """
    for member in container:
        prefix, local = local_name(member)
        if local == seg.name and (seg.module or module) == (prefix or module):
            return member
    return None


def key_names(list_name: str, entry: dict) -> tuple[str, ...]:
    return LIST_KEYS.get(list_name) or (next(iter(entry)),)


def key_text(value) -> str:
    if value is True or value is False:
        return str(value).lower()
    return str(value)


def find_entry(entries: list, list_name: str, keys: tuple[str, ...]) -> int | None:
    """Index of the list entry (or leaf-list value) whose keys match."""
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            if len(keys) == 1 and key_text(entry) == keys[0]:
                return index
            continue
        names = key_names(list_name, entry)
        if len(names) == len(keys) and all(
                key_text(entry.get(n)) == k for n, k in zip(names, keys, strict=False)):
            return index
    return None


def _missing(segments: list[Segment]) -> RestconfError:
    return RestconfError(404, "invalid-value", "uri keypath not found",
                         path="/" + "/".join(s.text() for s in segments))


@dataclass
class Target:
    """Where a path points: the parent holding it and how to reach it."""
    parent: dict | list
    member: str | int
    module: str
    name: str          # local name of the target node
    is_entry: bool     # a list entry (reply wraps it in a one-element array)

    @property
    def value(self):
        return self.parent[self.member]

    def reply(self) -> dict:
        value = [self.value] if self.is_entry else self.value
        return {f"{self.module}:{self.name}": value}


def resolve(root: dict, segments: list[Segment]) -> Target:
    """Walk ``segments`` from a document ``{"mod:top": tree}``; 404 if absent."""
    container: dict = root
    module = ""
    target = None
    for position, seg in enumerate(segments):
        if not isinstance(container, dict):
            raise _missing(segments)
        member = find_member(container, seg, module)
        if member is None:
            raise _missing(segments)
        module = local_name(member)[0] or module
        value = container[member]
        if seg.keys is None:
            target = Target(container, member, module, seg.name, False)
            container = value
            continue
        if not isinstance(value, list):
            raise RestconfError(400, "invalid-value", f"{seg.name} is not a list", path=seg.text())
        index = find_entry(value, seg.name, seg.keys)
        if index is None:
            raise _missing(segments[: position + 1])
        target = Target(value, index, module, seg.name, True)
        container = value[index]
    if target is None:
        raise _missing(segments)
    return target


# ---------------------------------------------------------------- query filters
def limit_depth(value, depth: int):
    """Drop data nodes deeper than ``depth`` (the target node is level 1)."""
    if isinstance(value, list):
        return [limit_depth(v, depth) for v in value]
    if not isinstance(value, dict):
        return value
    if depth <= 1:
        return {}
    return {k: limit_depth(v, depth - 1) for k, v in value.items()}


def parse_fields(expr: str) -> dict:
    """Parse an RFC 8040 ``fields`` expression into a selection tree.

    ``a;b/c;d(e;f/g)`` becomes ``{"a": {}, "b": {"c": {}}, "d": {"e": {}, "f": {"g": {}}}}``
    (an empty dict selects the whole node).
    """
    tree, rest = _fields_expr(expr, 0)
    if rest != len(expr):
        raise RestconfError(400, "invalid-value", f"malformed fields expression {expr!r}")
    return tree


def _fields_expr(expr: str, pos: int) -> tuple[dict, int]:
    tree: dict = {}
    while True:
        start = pos
        while pos < len(expr) and expr[pos] not in ";()":
            pos += 1
        path = expr[start:pos]
        names = path.split("/")
        if not path or not all(_is_identifier(local_name(n)[1]) for n in names):
            raise RestconfError(400, "invalid-value", f"malformed fields expression {expr!r}")
        node = tree
        for name in names:
            node = node.setdefault(local_name(name)[1], {})
        if pos < len(expr) and expr[pos] == "(":
            sub, pos = _fields_expr(expr, pos + 1)
            if pos >= len(expr) or expr[pos] != ")":
                raise RestconfError(400, "invalid-value", f"unbalanced ( in fields {expr!r}")
            _merge_selection(node, sub)
            pos += 1
        if pos < len(expr) and expr[pos] == ";":
            pos += 1
            continue
        return tree, pos


def _merge_selection(into: dict, sub: dict) -> None:
    for k, v in sub.items():
        _merge_selection(into.setdefault(k, {}), v)


def select_fields(value, selection: dict, list_name: str | None = None):
    """Keep only the selected members (and list keys, which RFC 8040 keeps)."""
    if not selection:
        return value
    if isinstance(value, list):
        return [select_fields(v, selection, list_name) for v in value]
    if not isinstance(value, dict):
        return value
    keep_keys = set(LIST_KEYS.get(list_name or "", ()))
    out = {}
    for member, child in value.items():
        local = local_name(member)[1]
        if local in selection:
            out[member] = select_fields(child, selection[local], local)
        elif local in keep_keys:
            out[member] = child
    return out


def filter_content(value, keep_state: bool, state_members: frozenset[str],
                   list_name: str | None = None):
    """Split a mixed tree into its config (``keep_state`` False) or state part.

    ``state_members`` names the nodes that are operational data; everything
    below such a node is state too.  List keys stay in both parts.  Returns
    ``None`` when nothing is left.
    """
    if isinstance(value, list):
        items = [filter_content(v, keep_state, state_members, list_name) for v in value]
        items = [i for i in items if i is not None]
        return items or None
    if not isinstance(value, dict):
        return None if keep_state else value
    keys = set(LIST_KEYS.get(list_name or "", ()))
    out = {}
    for member, child in value.items():
        local = local_name(member)[1]
        if local in keys:
            continue
        if local in state_members:
            if keep_state:
                out[member] = child
        else:
            kept = filter_content(child, keep_state, state_members, local)
            if kept is not None:
                out[member] = kept
    if not out:
        return None
    return {m: value[m] for m in value if local_name(m)[1] in keys} | out


# ---------------------------------------------------------------- writes
def merge(into: dict, patch: dict) -> None:
    """RFC 8072 plain-patch merge: containers merge, list entries by key."""
    for member, value in patch.items():
        local = local_name(member)[1]
        existing_member = next((m for m in into if local_name(m)[1] == local), member)
        current = into.get(existing_member)
        if isinstance(value, dict) and isinstance(current, dict):
            merge(current, value)
        elif isinstance(value, list) and isinstance(current, list):
            for entry in value:
                keys = tuple(key_text(entry[k]) for k in key_names(local, entry)) \
                    if isinstance(entry, dict) else (key_text(entry),)
                index = find_entry(current, local, keys)
                if index is None:
                    current.append(copy.deepcopy(entry))
                elif isinstance(entry, dict):
                    merge(current[index], entry)
        else:
            into[existing_member] = copy.deepcopy(value)
