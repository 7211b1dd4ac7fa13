# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client's words for what went wrong on the wire: httpx, TLS and socket errors made typed errors.

A failed exchange reaches the client as an httpx error (its own transport's, or the aiohttp
transport's translated to httpx's), the OS or OpenSSL error behind it in the cause chain. These
functions turn it into one of ``errors``' types with a message written for a network engineer:
where (the device, or the proxy), what (refused, a TLS alert, a reset before any reply) and
what to do about it (a CA bundle, a client certificate).
"""
from __future__ import annotations

import errno
import ssl

try:
    import httpx
except ImportError:  # pragma: no cover - reported by the plugins (client.HTTPX_IMPORT_ERROR)
    httpx = None

from ansible_collections.johann.monitor.plugins.module_utils._restconf import transport
from ansible_collections.johann.monitor.plugins.module_utils._restconf.errors import (
    CertificateFailed,
    ConnectFailed,
    ProtocolFailure,
    ReplyTooLarge,
    RestconfError,
)

MIB = 1 << 20
HEADERS_MAX = 100 * 1024       # httpcore refuses reply headers past this (h11's receive buffer)


def size(count: int) -> str:
    return f"{count / MIB:g} MiB" if count >= MIB and count % (MIB // 4) == 0 else f"{count:,} bytes"


def reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, ssl.SSLError) \
        else str(exc)


def _os_errno(exc: BaseException) -> int | None:
    seen = exc
    for _hop in range(8):
        if isinstance(seen, OSError) and seen.errno:
            return seen.errno
        nxt = seen.__cause__ or seen.__context__
        if nxt is None:
            break
        seen = nxt
    return None


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind an httpx error: httpx keeps OpenSSL's reason only in the cause chain."""
    seen: BaseException | None = exc
    for _hop in range(8):
        if seen is None or isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _tls_code(error: ssl.SSLError) -> str:
    """OpenSSL's reason code, such as ``TLSV13_ALERT_CERTIFICATE_REQUIRED`` (or the whole text, upper-cased)."""
    return (getattr(error, "reason", None) or str(error)).upper()


def _tls_reason(error: ssl.SSLError) -> str:
    """``[SSL: X] tlsv13 alert certificate required (_ssl.c:2580)`` -> ``tlsv13 alert certificate required``."""
    return str(error).split("]", 1)[-1].split("(_ssl")[0].strip() or type(error).__name__


def proxy_label(proxy: str) -> str:
    """The proxy URL for messages, without any user or password in it."""
    url = httpx.URL(proxy)
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")


def via(settings) -> str:
    """Names the proxy in connect errors: with one, the TCP connection is to the proxy."""
    return f" through the proxy {proxy_label(settings.proxy)}" if settings.proxy else ""


def _mtls_hint(settings) -> str:
    """What to do when a TLS failure looks like a refused (or missing) client certificate."""
    if settings.client_cert:
        return f"; check that the device trusts the CA of the client certificate {settings.client_cert}"
    return "; a device that requires a client certificate (mutual TLS) does this: set client_cert and client_key"


def deadline_message(settings, path: str, progress: dict) -> str:
    lead = f"deadline of {settings.deadline:g} s reached"
    if not progress["sent"]:
        return f"{lead} before {path} could be sent (waiting for the device's other requests)"
    if progress["received"] < 0:
        return f"{lead} waiting for the reply to {path}"
    announced = f" of {progress['announced']:,}" if progress.get("announced") else ""
    return f"{lead} while reading the reply to {path}: {progress['received']:,}{announced} bytes received"


def connect_error(settings, exc: Exception, url: str, path: str) -> ConnectFailed:
    where, text, tls = settings.authority, str(exc), _ssl_error(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        why = text.split("certificate verify failed:", 1)[-1].split("(_ssl")[0].strip(" :).")
        return CertificateFailed(
            f"TLS certificate verification failed for {where}: {why}; trust the device's CA with "
            "ca_path (inventory: restconf_ca_path), or give the device a certificate for the name or address you "
            "use", url, path)
    if tls is not None or "SSL" in text:   # through a proxy too: TLS runs end to end in the tunnel
        why = _tls_reason(tls) if tls is not None else text
        rejected = tls is not None and ("ALERT" in _tls_code(tls) or isinstance(tls, ssl.SSLEOFError))
        return ConnectFailed(f"TLS handshake with {where} failed: {why}"
                             f"{_mtls_hint(settings) if rejected else ''}", url, path)
    refused = _os_errno(exc) == errno.ECONNREFUSED or "refused" in text.lower()
    if settings.proxy:   # the TCP connection is to the proxy, not to the device
        return ConnectFailed(f"cannot reach {where}{via(settings)}: "
                             + ("the proxy refused the connection (nothing listens there)" if refused
                                else f"cannot connect to the proxy: {text or type(exc).__name__}"), url, path)
    if refused:
        return ConnectFailed(f"connection refused by {where}: nothing listens there "
                             "(HTTPS server off, wrong port, or an ACL)", url, path)
    return ConnectFailed(f"cannot connect to {where}: {text or type(exc).__name__}", url, path)


def closed_error(settings, answered: bool, exc: Exception, url: str, path: str) -> RestconfError:
    """A connection reset or closed mid-exchange; before the device's first reply, most likely a TLS refusal.

    With TLS 1.3 the client's handshake is over before the server checks the client
    certificate, so a device that requires one (or refuses the one given) shows it at the
    first read or write: as its TLS alert (anyio may pass the ``ssl.SSLError`` through
    unwrapped), as a reset (the request reached a closed socket: the alert is lost), or as
    a close without any reply (asyncio servers, the lab among them, never send the alert).
    """
    where, tls = settings.authority, exc if isinstance(exc, ssl.SSLError) else _ssl_error(exc)
    if isinstance(exc, transport.HeadersTooLarge) or "buffer too long" in str(exc):   # h11's bound, aiohttp's
        return ReplyTooLarge(f"the reply headers to {path} are over {size(HEADERS_MAX)}: reading stopped there",
                             url, path)
    if not answered and tls is not None:   # an alert after the handshake: about the client certificate
        # CertificateFailed is not retried: the same certificate gets the same answer
        return CertificateFailed(f"TLS handshake with {where} failed: {_tls_reason(tls)}{_mtls_hint(settings)}",
                                 url, path)
    reset = _os_errno(exc) == errno.ECONNRESET
    if not answered and (reset or "without sending a response" in str(exc)):
        # one message for both: which of the two the client sees is a race, and the same device must
        # give the same error from run to run (a sliced run's report equals the unsliced one)
        return ProtocolFailure(f"connection to {where} closed or reset before any reply: the device may have "
                               f"refused the TLS handshake{_mtls_hint(settings)}", url, path)
    detail = f" ({exc})" if str(exc) else ""
    return ProtocolFailure(f"connection reset or closed by the device while reading {path}{detail}", url, path)
