"""module_utils/_json.py: orjson's text where it can write the value, json's where it cannot; the same value read back."""
from __future__ import annotations

import json

import pytest
from ansible_collections.johann.monitor.plugins.module_utils import _json


def test_orjson_is_what_writes_here():
    """make test installs requirements.txt: the fast path is the one tested (the fallback below, by its inputs)."""
    assert _json.orjson is not None


@pytest.mark.parametrize("value", [
    {"device": {"serial": "FOC2418L1AB", "uptime": 8_640_000, "cpu": 12.5, "ok": True, "none": None,
                "interfaces": [{"name": "Gi1/0/1", "counters": {"in_octets": 2 ** 64 - 1, "low": -2 ** 63}}]}},
    {"description": "uplink — été 😀", "quote": 'a"b\\c', "control": "tab\tnew\nline\x01"},
    {"config": {"big": 10 ** 30}},            # past 64 bits: orjson refuses, json writes it
    {"hostname": "\ud800lone surrogate"},       # json.loads gives these from "\ud800" escapes; orjson refuses
    {"by_vlan": {10: "users", 20: "voice"}},  # keys that are not strings: json writes them as strings
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
])
def test_dumps_reads_back_as_what_json_writes(value):
    text = _json.dumps(value)
    assert isinstance(text, bytes)
    assert json.loads(text) == json.loads(json.dumps(value))


def test_an_ascii_record_is_json_compact_text_byte_for_byte():
    record = {"host": "sw1", "alerts": [], "cpu": {"five_seconds": 3.5}, "counters": {"in_octets": 1754594795474}}
    assert _json.dumps(record) == json.dumps(record, separators=(",", ":")).encode()


def test_a_tree_past_orjsons_nesting_limit_is_written_by_json():
    deep: list = []
    for _level in range(300):
        deep = [deep]
    assert json.loads(_json.dumps({"a": deep})) == {"a": deep}


def test_what_neither_can_write_is_jsons_error():
    with pytest.raises(TypeError, match="not JSON serializable"):
        _json.dumps({"when": object()})


def test_what_json_has_no_type_for_goes_to_default_as_with_json():
    import dataclasses
    import datetime as dt

    @dataclasses.dataclass
    class Point:
        x: int

    value = {"at": dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC), "point": Point(1), "day": dt.date(2026, 12, 3)}
    assert _json.dumps(value, default=repr) == json.dumps(value, separators=(",", ":"), default=repr).encode()
