"""The RESTCONF client against httpx.MockTransport: every status and error path."""
from __future__ import annotations

import asyncio
import json
import ssl

import httpx
import pytest
from ansible_collections.johann.monitor.plugins.module_utils._restconf import errors
from ansible_collections.johann.monitor.plugins.module_utils._restconf.client import (
    ClientSettings,
    RestconfClient,
    retry_after,
    ssl_context,
)

JSON = "application/yang-data+json"
HOST_META = b"<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='restconf' href='/restconf'/></XRD>"


def _error_body(status_tag, message):
    return json.dumps({"ietf-restconf:errors": {"error": [
        {"error-type": "application", "error-tag": status_tag, "error-message": message}]}}).encode()


def run(handler, coro_fn, **settings):
    """Run ``coro_fn(client)`` with a client whose requests go to ``handler``; return (result, seen requests)."""
    seen: list[httpx.Request] = []

    def record(request):
        seen.append(request)
        return handler(request)

    async def main():
        config = dict(host="192.0.2.1", port=443, username="u", password="p", backoff=0.001, **settings)
        async with RestconfClient(ClientSettings(**config), transport=httpx.MockTransport(record)) as client:
            return await coro_fn(client), client

    (result, client) = asyncio.run(main())
    return result, seen, client


def meta_then(reply):
    def handler(request):
        if request.url.path == "/.well-known/host-meta":
            return httpx.Response(200, content=HOST_META, headers={"Content-Type": "application/xrd+xml"})
        return reply(request) if callable(reply) else reply
    return handler


def test_get_decodes_any_json_media_type_and_keeps_useful_headers():
    for media in (JSON, "application/vnd.yang.data+json", "application/yang.api+json", "application/json; charset=utf-8"):
        reply = httpx.Response(200, json={"m:x": {"a": "1"}}, headers={"Content-Type": media, "ETag": '"7"'})
        got, seen = run(meta_then(reply), lambda c: c.get("m:x"))[:2]
        assert got.status == 200 and got.data == {"m:x": {"a": "1"}}
        assert got.headers["etag"] == '"7"'
        # RFC 8040's type first, NX-OS's dotted one (it answers 406 without it) after
        assert seen[-1].headers["accept"] == f"{JSON}, application/yang.data+json;q=0.9"
        assert seen[-1].headers["authorization"].startswith("Basic ")


def test_query_parameters_are_encoded_by_the_library():
    reply = httpx.Response(200, json={"m:x": {}}, headers={"Content-Type": JSON})
    seen = run(meta_then(reply), lambda c: c.get("m:x/interface=Gi1%2F0%2F1", {"fields": "a(b;c)", "depth": 2}))[1]
    url = seen[-1].url
    assert url.raw_path.startswith(b"/restconf/data/m:x/interface=Gi1%2F0%2F1?")
    assert dict(url.params) == {"fields": "a(b;c)", "depth": "2"}


def test_204_is_no_data():
    got = run(meta_then(httpx.Response(204)), lambda c: c.get("m:x"))[0]
    assert (got.status, got.data) == (204, None)


@pytest.mark.parametrize("status,cls,tag,text", [
    (401, errors.AuthFailed, "access-denied", "authentication failed: 401 access-denied"),
    (403, errors.AuthFailed, "access-denied", "authentication failed: 403"),
    (404, errors.NotFound, "invalid-value", "not found: 404 invalid-value (uri keypath not found) on m:x"),
    (409, errors.StatusError, "data-exists", "device error: 409 data-exists"),
    (500, errors.StatusError, "operation-failed", "device error: 500 operation-failed"),
])
def test_error_statuses_raise_typed_errors_with_the_restconf_tag(status, cls, tag, text):
    message = "uri keypath not found" if status == 404 else "x"
    reply = httpx.Response(status, content=_error_body(tag, message), headers={"Content-Type": JSON})
    with pytest.raises(cls) as err:
        run(meta_then(reply), lambda c: c.get("m:x"), retries=0)
    assert err.value.status == status and err.value.error_tag == tag
    assert text in str(err.value)


def test_xml_error_body_is_parsed():
    body = (b'<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf"><error><error-type>protocol</error-type>'
            b"<error-tag>malformed-message</error-tag><error-message>bad</error-message></error></errors>")
    reply = httpx.Response(400, content=body, headers={"Content-Type": "application/yang-data+xml"})
    with pytest.raises(errors.StatusError) as err:
        run(meta_then(reply), lambda c: c.get("m:x"))
    assert (err.value.error_tag, err.value.error_message, err.value.error_type) == ("malformed-message", "bad", "protocol")


def test_non_restconf_error_body_has_no_tag():
    reply = httpx.Response(404, content=b"<html><body><h1>Not Found</h1></body></html>", headers={"Content-Type": "text/html"})
    with pytest.raises(errors.NotFound) as err:
        run(meta_then(reply), lambda c: c.get("m:x"))
    assert err.value.error_tag is None and str(err.value) == "not found: 404 on m:x"


def test_entity_expansion_in_xml_is_refused():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf"><error><error-tag>&b;</error-tag></error></errors>')
    reply = httpx.Response(400, content=bomb, headers={"Content-Type": "application/yang-data+xml"})
    with pytest.raises(errors.StatusError) as err:
        run(meta_then(reply), lambda c: c.get("m:x"))
    assert err.value.error_tag is None


def test_busy_is_retried_honouring_retry_after_then_succeeds():
    replies = iter([httpx.Response(503, headers={"Retry-After": "0"}, content=_error_body("resource-denied", "busy"),),
                    httpx.Response(429, headers={"Retry-After": "0"}),
                    httpx.Response(200, json={"m:x": 1}, headers={"Content-Type": JSON})])
    got, seen, client = run(meta_then(lambda r: next(replies)), lambda c: c.get("m:x"), retries=2)
    assert got.data == {"m:x": 1} and client.requests == 4   # host-meta + 3 tries


def test_busy_gives_up_after_the_retries():
    reply = httpx.Response(503, headers={"Retry-After": "0"}, content=_error_body("resource-denied", "busy"))
    with pytest.raises(errors.Busy) as err:
        run(meta_then(reply), lambda c: c.get("m:x"), retries=1)
    assert "device busy: 503 resource-denied" in str(err.value)


def test_a_retry_after_longer_than_allowed_is_not_waited_for():
    reply = httpx.Response(503, headers={"Retry-After": "3600"})
    with pytest.raises(errors.Busy):
        run(meta_then(reply), lambda c: c.get("m:x"), retries=3, max_retry_after=1)


def test_retry_after_parsing():
    assert retry_after("7", 1.0) == 7.0
    assert retry_after(None, 1.5) == 1.5
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 2.0) == 0.0   # a date in the past: now
    assert retry_after("soon", 2.0) == 2.0


def test_malformed_json_raises_decode_error():
    reply = httpx.Response(200, content=b'{"m:x": {"a": ', headers={"Content-Type": JSON})
    with pytest.raises(errors.DecodeError, match="malformed JSON from the device on m:x"):
        run(meta_then(reply), lambda c: c.get("m:x"))


def test_xml_reply_to_a_json_request_is_a_decode_error():
    reply = httpx.Response(200, content=b"<x/>", headers={"Content-Type": "application/yang-data+xml"})
    with pytest.raises(errors.DecodeError, match="application/yang-data\\+xml"):
        run(meta_then(reply), lambda c: c.get("m:x"))


def _raiser(exc):
    def handler(request):
        raise exc(request) if exc is not httpx.ConnectError else exc("[Errno 111] Connection refused", request=request)
    return handler


@pytest.mark.parametrize("exc,cls,text", [
    (httpx.ConnectError, errors.ConnectFailed, "connection refused by 192.0.2.1:443"),
    (lambda r: httpx.ConnectTimeout("t", request=r), errors.RequestTimeout, "timed out after 5 s connecting to 192.0.2.1:443"),
    (lambda r: httpx.ReadTimeout("t", request=r), errors.RequestTimeout, "timed out after 10 s reading /.well-known/host-meta"),
    (lambda r: httpx.RemoteProtocolError("peer closed", request=r), errors.ProtocolFailure, "connection reset or closed"),
    (lambda r: httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)", request=r),
     errors.CertificateFailed, "TLS certificate verification failed for 192.0.2.1:443: self-signed certificate;"),
])
def test_transport_failures_become_typed_errors(exc, cls, text):
    handler = _raiser(exc)  # raises exc(request), or a refused ConnectError for the bare class
    with pytest.raises(cls) as err:
        run(handler, lambda c: c.get("m:x"))
    assert text in str(err.value)


PROXY = "http://proxy.example:3128"
MTLS_HINT = "; a device that requires a client certificate (mutual TLS) does this: set client_cert and client_key"


def _chained(outer, inner):
    """A handler raising ``outer(request)`` caused by ``inner``, as httpx chains OpenSSL's errors."""
    def handler(request):
        try:
            raise inner
        except OSError as cause:
            raise outer(request) from cause
    return handler


def _raw(exc):
    def handler(request):
        raise exc
    return handler


@pytest.mark.parametrize("handler,settings,cls,text", [
    (_raiser(httpx.ConnectError), {"proxy": "http://user:pw-s3cret@proxy.example:3128"}, errors.ConnectFailed,
     f"cannot reach 192.0.2.1:443 through the proxy {PROXY}: the proxy refused the connection (nothing listens there)"),
    (_raiser(lambda r: httpx.ProxyError("403 Forbidden", request=r)), {"proxy": PROXY}, errors.ConnectFailed,
     f"the proxy {PROXY} refused the tunnel to 192.0.2.1:443: 403 Forbidden"),
    (_raiser(lambda r: httpx.ConnectTimeout("t", request=r)), {"proxy": PROXY}, errors.RequestTimeout,
     f"timed out after 5 s connecting to 192.0.2.1:443 through the proxy {PROXY}"),
    (_raiser(lambda r: httpx.RemoteProtocolError("Server disconnected without sending a response.", request=r)), {},
     errors.ProtocolFailure, "connection to 192.0.2.1:443 closed or reset before any reply: the device may have "
     "refused the TLS handshake" + MTLS_HINT),
    (_chained(lambda r: httpx.ReadError("", request=r), ConnectionResetError(104, "Connection reset by peer")), {},
     errors.ProtocolFailure, "connection to 192.0.2.1:443 closed or reset before any reply: the device may have "
     "refused the TLS handshake" + MTLS_HINT),
    (_raw(ssl.SSLError(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c:2580)")),
     {}, errors.CertificateFailed, "TLS handshake with 192.0.2.1:443 failed: tlsv13 alert certificate required"
     + MTLS_HINT),
    (_chained(lambda r: httpx.ReadError("", request=r),
              ssl.SSLError(1, "[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca (_ssl.c:2580)")),
     {"client_cert": "/c.pem", "client_key": "/c.key"}, errors.CertificateFailed,
     "TLS handshake with 192.0.2.1:443 failed: tlsv1 alert unknown ca; check that the device trusts the CA of the "
     "client certificate /c.pem"),
    (_chained(lambda r: httpx.ConnectError("", request=r), ssl.SSLEOFError(
        8, "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol (_ssl.c:1006)")), {},
     errors.ConnectFailed, "TLS handshake with 192.0.2.1:443 failed: EOF occurred in violation of protocol" + MTLS_HINT),
])
def test_proxy_and_client_certificate_failures_name_their_cause(handler, settings, cls, text):
    with pytest.raises(errors.TransportError) as err:
        run(handler, lambda c: c.get("m:x"), retries=0, **settings)
    assert err.value.kind == cls.kind and str(err.value) == text


def test_a_reset_after_the_device_has_answered_is_not_blamed_on_tls():
    def handler(request):
        if request.url.path == "/.well-known/host-meta":
            return httpx.Response(404)
        raise httpx.ReadError("", request=request) from ConnectionResetError(104, "Connection reset by peer")

    with pytest.raises(errors.ProtocolFailure, match="^connection reset or closed by the device while reading m:x$"):
        run(handler, lambda c: c.get("m:x"))


def test_refused_connections_are_retried_but_certificate_failures_are_not():
    def refused(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(errors.ConnectFailed):
        run(refused, lambda c: c.get("m:x"), retries=2)

    def cert(request):
        raise httpx.ConnectError("CERTIFICATE_VERIFY_FAILED x", request=request)

    counts = {}

    async def count(client):
        try:
            await client.get("m:x")
        except errors.CertificateFailed:
            counts["requests"] = client.requests

    run(cert, count, retries=3)
    assert counts["requests"] == 1


@pytest.mark.parametrize("xrd,root,source", [
    (b"<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='author' href='/x'/>"
     b"<Link rel='restconf' href='/rest/restconf'/></XRD>", "/rest/restconf", "host-meta"),
    (b"<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='restconf' href='https://d.example/api/rc/'/></XRD>",
     "/api/rc", "host-meta"),
    (b"not xml", "/restconf", "default"),
    (None, "/restconf", "default"),
])
def test_root_discovery_picks_the_restconf_link(xrd, root, source):
    def handler(request):
        if request.url.path == "/.well-known/host-meta":
            return httpx.Response(404) if xrd is None else httpx.Response(200, content=xrd)
        return httpx.Response(200, json={"m:x": 1}, headers={"Content-Type": JSON})

    got, seen, client = run(handler, lambda c: c.get("m:x"))
    assert seen[-1].url.path == f"{root}/data/m:x"
    assert client.root_source == source


def test_configured_root_skips_discovery_and_the_pool_is_bounded():
    in_flight = {"now": 0, "max": 0}

    async def slow(request):
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        await asyncio.sleep(0.01)
        in_flight["now"] -= 1
        return httpx.Response(200, json={"m:x": 1}, headers={"Content-Type": JSON})

    async def many(client):
        return await asyncio.gather(*(client.get(f"m:x/{i}") for i in range(9)))

    got, seen, client = run(slow, many, root="/custom", max_concurrency=3)
    assert len(got) == 9 and all(r.url.startswith("https://192.0.2.1/custom/data/") for r in got)
    assert in_flight["max"] == 3 and client.requests == 9 and client.root_source == "configured"


def test_password_is_not_in_the_settings_repr():
    assert "s3cret" not in repr(ClientSettings(host="h", password="s3cret", client_key="/k"))


@pytest.mark.parametrize("make,expected", [
    (lambda tmp: tmp / "missing.pem", "No such file or directory"),
    (lambda tmp: tmp, "Is a directory"),
    (lambda tmp: (tmp / "not.pem").write_text("not a certificate") and tmp / "not.pem", "NO_CERTIFICATE_OR_CRL_FOUND"),
])
def test_an_unusable_ca_bundle_becomes_a_device_error_naming_the_file_and_variable(tmp_path, make, expected):
    """No task failure and no bare errno: the device's record says which file and which variable."""
    from ansible_collections.johann.monitor.plugins.module_utils._device_info import collect

    ca = make(tmp_path)
    record = asyncio.run(collect(ClientSettings(host="127.0.0.9", port=9, username="u", password="p",
                                                ca_path=str(ca))))
    assert record["status"] == "error" and record["requests"] == 0
    assert record["message"].startswith(f"cannot use the CA bundle {ca} (restconf_ca_path")
    assert expected in record["message"]


def test_an_unusable_client_certificate_is_named(tmp_path):
    with pytest.raises(errors.SettingsError, match=r"client certificate .*missing.pem with the key .*missing.key "
                                                   r"\(restconf_client_cert, restconf_client_key\)"):
        ssl_context(ClientSettings(host="h", client_cert=str(tmp_path / "missing.pem"),
                                   client_key=str(tmp_path / "missing.key")))


@pytest.mark.parametrize("method,params,body,cookies", [
    ("GET", None, None, None), ("GET", {"depth": "2", "fields": "a;b"}, None, None), ("GET", None, None, {"s": "1"}),
    ("DELETE", None, None, None), ("POST", None, None, None), ("PATCH", None, {"x": {"y": 1}}, {"s": "1"}),
    ("PUT", None, {"x": "é"}, None),
])
def test_the_client_sends_the_request_asyncclient_would(method, params, body, cookies):
    """URL, query, headers in their order, body: what httpx.AsyncClient (with BasicAuth) sends, byte for byte."""
    sent = {}

    def handler(request):
        sent[request.url.host] = request
        return httpx.Response(204, headers={"content-type": JSON})

    async def main():
        settings = ClientSettings(host="192.0.2.1", port=8443, username="ü", password="p:w", root="/restconf")
        async with RestconfClient(settings, transport=httpx.MockTransport(handler)) as client:
            if cookies:
                client._cookies = httpx.Cookies(cookies)
            await client.request(method, "m:n", params=params, body=body)
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=("ü", "p:w"),
                                     headers={"User-Agent": "johann.monitor", "Accept-Encoding": "gzip, deflate"},
                                     cookies=cookies) as reference:
            await reference.request(method, "https://192.0.2.2:8443/restconf/data/m:n", params=params, json=body,
                                    headers={"Accept": client_module.ACCEPT_JSON,
                                             **({"Content-Type": JSON} if body is not None else {})})

    client_module = __import__(RestconfClient.__module__, fromlist=["ACCEPT_JSON"])
    asyncio.run(main())
    ours, theirs = sent["192.0.2.1"], sent["192.0.2.2"]
    assert str(ours.url).replace("192.0.2.1", "192.0.2.2") == str(theirs.url)
    headers = [(k, v.replace(b"192.0.2.1", b"192.0.2.2")) for k, v in ours.headers.raw]
    if method in ("POST", "PUT", "PATCH"):   # AsyncClient adds Host with the body's Content-Length; ours has it first
        assert sorted(headers) == sorted(theirs.headers.raw)
        assert headers[-1][0] == b"Authorization"
    else:
        assert headers == theirs.headers.raw
    assert ours.content == theirs.content
    assert (b"Authorization", b"Basic w7w6cDp3") in ours.headers.raw   # UTF-8, as httpx.BasicAuth encodes it
