"""mTLS with an X509-SVID: the client certificate authenticates the caller (RFC 8705 §2) and binds the
tokens it is issued to that certificate (``cnf.x5t#S256``, RFC 8705 §3.1)."""

from __future__ import annotations

import base64
import hashlib
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from .base import IdentityError


@dataclass(frozen=True)
class X509SvidFiles:
    """PEM files: ``cert`` (leaf first, then any intermediates), ``key``, and ``server_ca``, the
    authority that issued the broker's own TLS certificate (``None``: the system store)."""

    cert: str | Path
    key: str | Path
    server_ca: str | Path | None = None

    def ssl_context(self) -> ssl.SSLContext:
        try:
            context = ssl.create_default_context(cafile=str(self.server_ca) if self.server_ca else None)
            context.load_cert_chain(str(self.cert), str(self.key))
        except (OSError, ssl.SSLError) as err:
            raise IdentityError(f"cannot load the X509-SVID from {self.cert}: {err}") from err
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def thumbprint(self) -> str:
        """The leaf's ``x5t#S256``, as the broker puts it in ``cnf`` of the tokens it issues over mTLS."""
        return cert_thumbprint(Path(self.cert).read_bytes())


def cert_thumbprint(cert: bytes | str | x509.Certificate) -> str:
    """base64url (no padding) SHA-256 of the DER certificate (RFC 8705 §3.1); PEM or DER in, first PEM
    block taken as the leaf."""
    if isinstance(cert, x509.Certificate):
        der = cert.public_bytes(Encoding.DER)
    else:
        raw = cert.encode("ascii") if isinstance(cert, str) else cert
        der = x509.load_pem_x509_certificate(raw).public_bytes(Encoding.DER) if b"-----BEGIN" in raw else raw
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode("ascii")
