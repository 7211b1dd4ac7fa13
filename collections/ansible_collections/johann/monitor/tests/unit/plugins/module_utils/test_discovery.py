# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The discovery cache's files (module_utils/_discovery.py) and the check of an entry against a device."""
from __future__ import annotations

import asyncio
import json
import stat

import httpx
import pytest
from ansible_collections.johann.monitor.plugins.module_utils import _device_info, _discovery
from ansible_collections.johann.monitor.plugins.module_utils._restconf import errors
from ansible_collections.johann.monitor.plugins.module_utils._restconf.client import ClientSettings, RestconfClient

LIBRARY = _discovery.Library("/restconf", "host-meta", frozenset({"ietf-interfaces", "Cisco-IOS-XE-native"}),
                             "module-set-id", "7b0941e36a82")
DEVICE = ("192.0.2.7", 443, "admin", None)


def test_an_entry_is_kept_and_read_back_in_a_private_directory(tmp_path):
    cache = _discovery.Cache(tmp_path / "d")
    assert cache.load(*DEVICE) is None
    assert cache.save(*DEVICE, LIBRARY) is True
    assert cache.load(*DEVICE) == LIBRARY
    path = cache.path(*DEVICE)
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["modules"] == ["Cisco-IOS-XE-native", "ietf-interfaces"]
    assert [p.name for p in (tmp_path / "d").iterdir()] == [path.name]   # no temporary file left


@pytest.mark.parametrize("other", [("192.0.2.8", 443, "admin", None), ("192.0.2.7", 8443, "admin", None),
                                   ("192.0.2.7", 443, "ops", None), ("192.0.2.7", 443, "admin", "/rest")])
def test_each_address_port_user_and_root_has_its_own_entry(tmp_path, other):
    cache = _discovery.Cache(tmp_path)
    cache.save(*DEVICE, LIBRARY)
    assert cache.path(*other) != cache.path(*DEVICE) and cache.load(*other) is None


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"format": 2}', b"\xff\xfe",
                                     json.dumps(dict(LIBRARY.as_json(), root="restconf")).encode(),
                                     json.dumps(dict(LIBRARY.as_json(), id="")).encode(),
                                     json.dumps(dict(LIBRARY.as_json(), id_kind="etag")).encode(),
                                     json.dumps(dict(LIBRARY.as_json(), modules=[1, 2])).encode()])
def test_a_file_that_is_not_an_entry_counts_as_none_and_is_replaced(tmp_path, content):
    cache = _discovery.Cache(tmp_path)
    cache.path(*DEVICE).write_bytes(content)
    assert cache.load(*DEVICE) is None
    assert cache.save(*DEVICE, LIBRARY) and cache.load(*DEVICE) == LIBRARY


def test_a_file_too_big_to_be_an_entry_is_not_read(tmp_path):
    cache = _discovery.Cache(tmp_path)
    cache.path(*DEVICE).write_text(json.dumps(dict(LIBRARY.as_json(), modules=["m" * 100] * 20000)))
    assert cache.path(*DEVICE).stat().st_size > _discovery.MAX_FILE and cache.load(*DEVICE) is None


def test_a_path_that_is_a_file_is_no_error(tmp_path):
    (tmp_path / "f").write_text("a file where the directory would be")
    cache = _discovery.Cache(tmp_path / "f")
    assert cache.save(*DEVICE, LIBRARY) is False and cache.load(*DEVICE) is None


def test_where_it_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("JOHANN_DISCOVERY_CACHE_DIR", str(tmp_path / "mine"))
    assert _discovery.default_dir() == tmp_path / "mine"
    monkeypatch.delenv("JOHANN_DISCOVERY_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _discovery.default_dir() == tmp_path / "xdg" / "johann.monitor" / "discovery"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _discovery.default_dir() == tmp_path / "home" / ".cache" / "johann.monitor" / "discovery"


@pytest.mark.parametrize("data,expected", [
    ({"module-set-id": "abc", "module": []}, ("module-set-id", "abc")),              # RFC 7895
    ({"content-id": "75a43df", "module-set": []}, ("content-id", "75a43df")),        # RFC 8525
    ({"module": [{"name": "x"}]}, None), ({"module-set-id": ""}, None), ({"module-set-id": 7}, None),
])
def test_the_library_id_of_either_yang_library(data, expected):
    assert _device_info._library_id(data) == expected


def _unchanged(handler, known=LIBRARY):
    async def go():
        settings = ClientSettings(host="192.0.2.7", username="admin", password="pw", retries=0)
        async with RestconfClient(settings, transport=httpx.MockTransport(handler)) as client:
            client.assume_root(known.root)
            return await _device_info._library_unchanged(client, known), client.requests
    return asyncio.run(go())


def _id_reply(value, kind="module-set-id"):
    def handler(request):
        handler.paths.append(request.url.path)
        return httpx.Response(200, json={f"ietf-yang-library:{kind}": value},
                              headers={"Content-Type": "application/yang-data+json"})
    handler.paths = []
    return handler


def test_the_same_id_is_asked_for_alone_under_the_known_root():
    handler = _id_reply("7b0941e36a82")
    assert _unchanged(handler) == (True, 1)
    assert handler.paths == ["/restconf/data/ietf-yang-library:modules-state/module-set-id"]


def test_a_content_id_is_asked_of_the_rfc_8525_library():
    handler = _id_reply("c1", "content-id")
    known = _discovery.Library("/rc", "default", frozenset({"a"}), "content-id", "c1")
    assert _unchanged(handler, known) == (True, 1)
    assert handler.paths == ["/rc/data/ietf-yang-library:yang-library/content-id"]


@pytest.mark.parametrize("handler", [
    _id_reply("another"),
    _id_reply(None),
    lambda request: httpx.Response(204),
    lambda request: httpx.Response(404, json={"ietf-restconf:errors": {"error": [{"error-tag": "invalid-value"}]}},
                                   headers={"Content-Type": "application/yang-data+json"}),
    lambda request: httpx.Response(500, text="oops"),
    lambda request: httpx.Response(200, content=b"{not json", headers={"Content-Type": "application/yang-data+json"}),
])
def test_anything_but_the_same_id_is_a_changed_library(handler):
    assert _unchanged(handler)[0] is False


def test_a_refusal_or_no_answer_is_the_devices_fault_not_a_stale_entry():
    with pytest.raises(errors.AuthFailed):
        _unchanged(lambda request: httpx.Response(401, text="no"))

    def refused(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(errors.TransportError):
        _unchanged(refused)


def test_an_assumed_root_is_used_until_forgotten_and_a_configured_one_stands():
    def handler(request):
        handler.paths.append(request.url.path)
        return httpx.Response(200, content=b"<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link "
                                           b"rel='restconf' href='/found'/></XRD>",
                              headers={"Content-Type": "application/xrd+xml"})

    async def go(root):
        handler.paths = []
        settings = ClientSettings(host="192.0.2.7", root=root, retries=0)
        async with RestconfClient(settings, transport=httpx.MockTransport(handler)) as client:
            client.assume_root("/cached")
            assumed = (await client.root(), client.root_source)
            client.forget_root()
            return assumed, (await client.root(), client.root_source), handler.paths
    assert asyncio.run(go(None)) == (("/cached", "cache"), ("/found", "host-meta"), ["/.well-known/host-meta"])
    assert asyncio.run(go("/mine")) == (("/mine", "configured"), ("/mine", "configured"), [])
