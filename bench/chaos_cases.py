"""The devices of the chaos suite: each misbehaviour, and what the monitor must make of it.

One table for both the full suite (``make chaos``, bench/chaos.py) and its quick subset in
``make test`` (tests/integration/test_chaos.py): a lab fault (lab/README.md), the status the
device's record must have, and a piece of its cause that names what happened. ``{deadline}``
in a cause is the device deadline of the run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROBE = "ietf-yang-library:modules-state"   # the first data read: a fault on every data path hits it
ENVIRONMENT = "Cisco-IOS-XE-environment-oper:environment-sensors"


@dataclass(frozen=True)
class Case:
    name: str
    faults: dict
    status: str          # the record's status
    cause: str           # in the record's message (the cause named)
    section: str = ""    # with status degraded: the section that failed, its message holding ``cause``
    profile: str = "iosxe-17"
    notes: str = ""      # in the record's notes, when the device was read but had to be read differently
    what: str = field(default="", compare=False)


CASES: tuple[Case, ...] = (
    Case("drip-body", {"drip_body": True, "drip_interval_ms": 200}, "error",
         f"deadline of {{deadline}} s reached while reading the reply to {PROBE}",
         what="200, then the body one byte every 200 ms"),
    Case("drip-one", {"drip_body": ["Cisco-IOS-XE-environment-oper"], "drip_interval_ms": 200}, "degraded",
         f"deadline of {{deadline}} s reached while reading the reply to {ENVIRONMENT}", section="environment",
         what="one resource's body one byte every 200 ms, the others healthy"),
    # the first reply's head (~200 bytes) may get through before the deadline (40 s at 200 ms a byte); a later one
    # does not: which read the deadline cuts depends on it
    Case("drip-headers", {"drip_headers": True, "drip_interval_ms": 200}, "error",
         "deadline of {deadline} s reached waiting for the reply to", what="status line and headers one byte every "
                                                                           "200 ms"),
    Case("endless-body", {"endless_body": True}, "error",
         f"the reply to {PROBE} is over the limit of 64 MiB (max_reply_size)",
         what="200 and a body that never ends, as fast as it is read"),
    Case("lying-length", {"lying_length": True}, "error", f"timed out after 10 s reading {PROBE}",
         what="Content-Length twice the body, then silence"),
    Case("gzip-bomb", {"gzip_bomb": True}, "error",
         f"the reply to {PROBE} is over the limit of 64 MiB (max_reply_size)",
         what="gzip that inflates to an endless run of JSON whitespace"),
    Case("nesting-bomb", {"nesting_bomb": True}, "error",
         f"the reply on {PROBE} is nested deeper than 512 levels", what="JSON nested 300,000 levels deep"),
    Case("not-json", {"not_json": True}, "error", f"the device answered text/html for {PROBE}, not JSON",
         what="200 with an HTML page"),
    Case("huge-number", {"bad_json": "huge_number"}, "error", "an integer of thousands of digits",
         what="a 100,000-digit integer"),
    Case("infinite-number", {"bad_json": "infinite_number"}, "error", "is out of range", what="1e999999"),
    Case("invalid-utf8", {"bad_json": "invalid_utf8"}, "error", f"the reply on {PROBE} is not valid UTF-8",
         what="a 0xff byte in a string"),
    Case("duplicate-keys", {"bad_json": "duplicate_keys", "bad_json_paths": ["Cisco-IOS-XE-native"]}, "degraded",
         "appears twice in one object", section="config", what="a member twice in one object (native config)"),
    Case("top-level-array", {"bad_json": "top_level_array"}, "error", f"the reply on {PROBE} is an array",
         what="[1,2,3] as the reply"),
    Case("top-level-string", {"bad_json": "top_level_string", "bad_json_paths": ["Cisco-IOS-XE-native"]},
         "degraded", "is a string, not a JSON object", section="config", what='"hello" as the native config'),
    Case("tls-stall", {"tls_stall": True}, "unreachable", "timed out after 5 s connecting to",
         what="TCP accepted, TLS never answered"),
    Case("reset-after", {"reset_after": 100}, "error", "connection reset or closed by the device while reading",
         what="a reset after 100 bytes of each body"),
    Case("one-at-a-time", {"max_concurrent": 1, "retry_after": 1, "latency_ms": 50}, "ok", "",
         notes="read 1 request at a time instead", what="503 resource-denied beyond one request in flight"),
)
HEALTHY = (("iosxe-17", "ok-c9300-{n}"), ("iosxe-16.12", "ok-csr-{n}"), ("ietf", "ok-gx-{n}"))


def by_name() -> dict[str, Case]:
    return {case.name: case for case in CASES}


def fleet(network: str, healthy: int = 3, cases: tuple[Case, ...] = CASES, copies: int = 1,
          seed: int = 12) -> dict:
    """A fleet file's content: ``healthy`` devices of each profile, ``copies`` devices of each case."""
    groups = [{"profile": profile, "count": healthy, "name": pattern.replace("{n}", "{n:04d}")}
              for profile, pattern in HEALTHY if healthy]
    for case in cases:
        group = {"profile": case.profile, "faults": dict(case.faults)}
        group.update({"count": copies, "name": f"{case.name}-{{n:03d}}"} if copies > 1 else {"name": case.name})
        groups.append(group)
    return {"seed": seed, "network": network, "port": 8443, "groups": groups}


def write_fleet(path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(fleet(**kwargs), sort_keys=False))
    return path


def case_of(host: str) -> Case | None:
    """The case a host of a chaos fleet stands for (``drip-body`` or ``drip-body-007``); None when healthy."""
    for case in CASES:
        if host == case.name or (host.startswith(case.name + "-") and host[len(case.name) + 1:].isdigit()):
            return case
    return None


def judge(host: str, record: dict | None, deadline: float) -> str | None:
    """None when the record is what its case calls for; else what is wrong, in words."""
    case = case_of(host)
    if record is None:
        return "no record"
    status, message = record.get("status"), record.get("message") or ""
    if case is None:
        return None if status == "ok" else f"healthy device is {status}: {message[:200]}"
    if status != case.status:
        return f"status {status}, expected {case.status}: {message[:300]}"
    cause = case.cause.format(deadline=f"{deadline:g}")
    where = ((record.get("sections") or {}).get(case.section) or {}).get("message") or "" if case.section else message
    if cause and cause not in where:
        return f"cause not named: expected {cause!r} in {where[:300]!r}"
    if case.notes and not any(case.notes in note for note in record.get("notes") or []):
        return f"notes {record.get('notes')!r} lack {case.notes!r}"
    return None
