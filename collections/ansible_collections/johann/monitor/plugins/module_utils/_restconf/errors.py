# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the RESTCONF client: values with a cause, caught once at the edge.

    RestconfError                 anything that kept a read from giving data
    ├── TransportError            the exchange did not complete
    │   ├── ConnectFailed         refused, unreachable, name not resolved
    │   ├── CertificateFailed     TLS verification failed (wrong CA, wrong name, expired)
    │   ├── RequestTimeout        connect or read timeout
    │   │   └── DeadlineExceeded  the device's whole read outlived its deadline (a trickle, a queue)
    │   └── ProtocolFailure       reset mid-reply, truncated or invalid HTTP
    ├── RestconfDisabled          the web server answers, RESTCONF does not
    ├── StatusError               the device answered with an error status
    │   ├── AuthFailed            401, 403
    │   ├── NotFound              404 (missing instance, unsupported path)
    │   └── Busy                  429, 503 still busy after the retries
    ├── ReplyTooLarge             a reply over the size limit (decoded bytes, headers too)
    └── DecodeError               a 2xx reply whose body is not what its type claims
                                  (or hostile JSON: too deep, duplicate members, not an object)

Every error carries the URL and a message written for a network engineer;
status errors add the HTTP status and the RFC 8040 error-tag and message.
"""
from __future__ import annotations


class RestconfError(Exception):
    """Base class; ``str()`` is the message a user sees."""

    kind = "error"

    def __init__(self, message: str, url: str = "", path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.path = path

    def as_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "url": self.url, "path": self.path}


class SettingsError(RestconfError):
    """A setting on the controller is unusable (a CA bundle or client certificate that cannot be read)."""

    kind = "settings"


class TransportError(RestconfError):
    kind = "transport"


class ConnectFailed(TransportError):
    kind = "connect"


class CertificateFailed(ConnectFailed):
    kind = "certificate"


class RequestTimeout(TransportError):
    kind = "timeout"


class DeadlineExceeded(RequestTimeout):
    """The device's deadline (one bound for its whole read) ran out: no sequence of slow bytes outlives it."""

    kind = "deadline"


class ProtocolFailure(TransportError):
    kind = "protocol"


class ReplyTooLarge(RestconfError):
    """A reply bigger than the limit: reading stopped there, so one device cannot take the controller's memory."""

    kind = "too_large"


class DecodeError(RestconfError):
    kind = "decode"


class RestconfDisabled(RestconfError):
    """The HTTPS server answers but RESTCONF does not (IOS XE without ``restconf``)."""
    kind = "restconf_disabled"


class StatusError(RestconfError):
    kind = "status"

    def __init__(self, message: str, url: str = "", path: str = "", status: int = 0,
                 error_tag: str | None = None, error_message: str | None = None,
                 error_type: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message, url, path)
        self.status = status
        self.error_tag = error_tag
        self.error_message = error_message
        self.error_type = error_type
        self.headers = headers or {}

    def as_dict(self) -> dict:
        out = super().as_dict()
        out.update(status=self.status, error_tag=self.error_tag, error_message=self.error_message,
                   error_type=self.error_type)
        return out


class AuthFailed(StatusError):
    kind = "auth"


class NotFound(StatusError):
    kind = "not_found"


class Busy(StatusError):
    kind = "busy"


def status_error(status: int, url: str, path: str, parsed: dict, headers: dict | None = None) -> StatusError:
    """The typed error for an HTTP error status and its parsed RFC 8040 errors body."""
    tag, text, etype = parsed.get("error-tag"), parsed.get("error-message"), parsed.get("error-type")
    detail = " ".join(p for p in (str(status), tag or "", f"({text})" if text and text != tag else "") if p)
    if status in (401, 403):
        cls, lead = AuthFailed, "authentication failed"
    elif status == 404:
        cls, lead = NotFound, "not found"
    elif status in (429, 503):
        cls, lead = Busy, "device busy"
    else:
        cls, lead = StatusError, "device error"
    where = f" on {path}" if path else ""
    return cls(f"{lead}: {detail}{where}", url, path, status, tag, text, etype, headers)
