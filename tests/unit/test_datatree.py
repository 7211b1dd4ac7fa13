"""Pure tree functions of the lab, as tables of cases."""
from __future__ import annotations

import pytest

from lab import datatree as dt
from lab.encoding import RestconfError

PARSE = [
    ("m:a", [("m", "a", None)]),
    ("m:a/b=x%2Fy,z/c", [("m", "a", None), (None, "b", ("x/y", "z")), (None, "c", None)]),
    ("m:a/b=with%2Ccomma", [("m", "a", None), (None, "b", ("with,comma",))]),
    ("m:a/b=", [("m", "a", None), (None, "b", ("",))]),
    ("m:a/other:b", [("m", "a", None), ("other", "b", None)]),
]


@pytest.mark.parametrize("path,expected", PARSE)
def test_parse_path(path, expected):
    assert [(s.module, s.name, s.keys) for s in dt.parse_path(path)] == expected


@pytest.mark.parametrize("path", ["a", "m:a//b", "m:1a", "m:a/b c", ":a"])
def test_parse_path_refuses(path):
    with pytest.raises(RestconfError) as err:
        dt.parse_path(path)
    assert err.value.status == 400


FIELDS = [
    ("a", {"a": {}}),
    ("a;b/c", {"a": {}, "b": {"c": {}}}),
    ("d(e;f/g)", {"d": {"e": {}, "f": {"g": {}}}}),
    ("interface(name;statistics(in-octets))", {"interface": {"name": {}, "statistics": {"in-octets": {}}}}),
    ("m:a(b)", {"a": {"b": {}}}),
]


@pytest.mark.parametrize("expr,tree", FIELDS)
def test_parse_fields(expr, tree):
    assert dt.parse_fields(expr) == tree


@pytest.mark.parametrize("expr", ["", "a(", "a)", "a;;b", "(a)", "a(b))"])
def test_parse_fields_refuses(expr):
    with pytest.raises(RestconfError):
        dt.parse_fields(expr)


DOC = {"m:top": {"leaf": 1, "interface": [{"name": "a", "speed": "10", "statistics": {"in": "5"}},
                                          {"name": "b/c", "speed": "20", "statistics": {"in": "6"}}],
                 "other:box": {"x": 1}}}


def test_resolve_targets_and_reply_names():
    assert dt.resolve(DOC, dt.parse_path("m:top/interface=b%2Fc/speed")).reply() == {"m:speed": "20"}
    entry = dt.resolve(DOC, dt.parse_path("m:top/interface=a")).reply()
    assert entry == {"m:interface": [DOC["m:top"]["interface"][0]]}
    assert dt.resolve(DOC, dt.parse_path("m:top/other:box/x")).reply() == {"other:x": 1}
    for missing in ("m:top/interface=zz", "m:top/nope", "m:top/box", "m:top/leaf/deeper"):
        with pytest.raises(RestconfError) as err:
            dt.resolve(DOC, dt.parse_path(missing))
        assert err.value.status == 404


def test_depth_and_fields_and_content():
    top = DOC["m:top"]
    assert dt.limit_depth(top, 1) == {}
    assert dt.limit_depth(top, 2)["interface"] == [{}, {}] and dt.limit_depth(top, 2)["leaf"] == 1
    picked = dt.select_fields(top, dt.parse_fields("interface(statistics)"))
    assert picked == {"interface": [{"name": "a", "statistics": {"in": "5"}}, {"name": "b/c", "statistics": {"in": "6"}}]}
    state = frozenset({"speed", "statistics"})
    config = dt.filter_content(top, False, state)
    assert config == {"leaf": 1, "other:box": {"x": 1}}
    only_state = dt.filter_content(top, True, state)
    assert only_state == {"interface": [{"name": "a", "speed": "10", "statistics": {"in": "5"}},
                                        {"name": "b/c", "speed": "20", "statistics": {"in": "6"}}]}


def test_merge_lists_by_key_and_containers_deeply():
    into = {"interface": [{"name": "a", "description": "x", "mtu": 1500}], "box": {"p": 1}}
    dt.merge(into, {"interface": [{"name": "a", "description": "y"}, {"name": "b"}], "box": {"q": 2}})
    assert into == {"interface": [{"name": "a", "description": "y", "mtu": 1500}, {"name": "b"}],
                    "box": {"p": 1, "q": 2}}
