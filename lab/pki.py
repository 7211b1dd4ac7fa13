"""The lab's certificate authority, the devices' server certificates and a client certificate.

The CA is generated once per lab state directory and reused, so a client that
trusts ``<state>/ca.pem`` keeps trusting the lab across restarts.  Device keys
are ECDSA P-256: generating a thousand of them takes well under a second,
where RSA-2048 would take over a minute on these machines.  The one client
certificate (``<state>/client.pem``) lets tests exercise mutual TLS against
devices with the ``client_cert_required`` fault.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "johann.monitor lab CA"
CLIENT_NAME = "johann.monitor lab client"
_VALIDITY = dt.timedelta(days=825)


@dataclass(frozen=True)
class CertificateAuthority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    path: Path

    @property
    def fingerprint(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()


def _write_private(path: Path, data: bytes) -> None:
    """Write key material readable by the owner only, atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_or_create_ca(state_dir: Path) -> CertificateAuthority:
    """Return the lab CA of ``state_dir``, creating it on first use."""
    state_dir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = state_dir / "ca.pem", state_dir / "ca.key"
    if cert_path.exists() and key_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        return CertificateAuthority(key, cert, cert_path)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _pem_key(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return CertificateAuthority(key, cert, cert_path)


def _leaf(ca: CertificateAuthority, subject: str, usage: x509.ObjectIdentifier,
          san: x509.SubjectAlternativeName | None = None) -> tuple[bytes, bytes]:
    """A fresh P-256 key and a certificate for it signed by the lab CA, as (key PEM, cert PEM).

    ``usage`` is the one extended key usage: OpenSSL refuses a server certificate
    offered as a client one (and the reverse), as real devices do.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    return _pem_key(key), cert.public_bytes(serialization.Encoding.PEM)


def _issue(ca: CertificateAuthority, dns_name: str, address: str) -> tuple[bytes, bytes]:
    san = x509.SubjectAlternativeName(
        [x509.DNSName(dns_name), x509.IPAddress(ipaddress.ip_address(address))]
    )
    return _leaf(ca, dns_name, ExtendedKeyUsageOID.SERVER_AUTH, san)


def device_cert_files(ca: CertificateAuthority, cert_dir: Path, dns_name: str,
                      address: str) -> tuple[Path, Path]:
    """Return (cert, key) paths for a device, issuing them if not cached.

    The file name hashes the CA fingerprint, name and address, so a new CA or
    a moved device gets a fresh certificate and a stale one is never served.
    """
    cert_dir.mkdir(parents=True, exist_ok=True)
    tag = hashlib.sha256(f"{ca.fingerprint}|{dns_name}|{address}".encode()).hexdigest()[:16]
    cert_path, key_path = cert_dir / f"{tag}.crt", cert_dir / f"{tag}.key"
    if not (cert_path.exists() and key_path.exists()):
        key_pem, cert_pem = _issue(ca, dns_name, address)
        _write_private(key_path, key_pem)
        cert_path.write_bytes(cert_pem)
    return cert_path, key_path


def client_cert_files(ca: CertificateAuthority, state_dir: Path) -> tuple[Path, Path]:
    """Return (cert, key) of the lab's client certificate, issuing it on first use.

    Reissued when the CA changes (a new CA has the same name, so the signature
    is checked), so the client certificate always chains to the CA the devices trust.
    """
    cert_path, key_path = state_dir / "client.pem", state_dir / "client.key"
    if cert_path.exists() and key_path.exists():
        if _signed_by(x509.load_pem_x509_certificate(cert_path.read_bytes()), ca):
            return cert_path, key_path
    key_pem, cert_pem = _leaf(ca, CLIENT_NAME, ExtendedKeyUsageOID.CLIENT_AUTH)
    _write_private(key_path, key_pem)
    cert_path.write_bytes(cert_pem)
    return cert_path, key_path


def _signed_by(cert: x509.Certificate, ca: CertificateAuthority) -> bool:
    try:
        cert.verify_directly_issued_by(ca.cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def server_context(cert_path: Path, key_path: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    """A TLS 1.2+ server context; with ``client_ca``, a client certificate from that CA is required."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_path, key_path)
    ctx.set_alpn_protocols(["http/1.1"])
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=client_ca)
    return ctx
