"""RFC 9068 access-token verification for resource servers: a plain function over a key set.

Order (RFC 9068 §4): a JWS with an allowed algorithm and a ``kid`` (never ``none``, never HS*), ``typ``
``at+jwt``, the signature by the authorization server's key, ``iss`` exactly, ``aud`` naming this
resource, ``exp``/``iat`` with a small leeway, then Grantline's own claims, the certificate binding
(RFC 8705 §3.2) and the scopes the call needs (RFC 6750 §3.1 ``insufficient_scope``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography import x509

from ..errors import InsufficientScope, InvalidToken
from ..identity.mtls import cert_thumbprint

AT_JWT_TYPES = frozenset({"at+jwt", "application/at+jwt"})
REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope")
DEFAULT_ALGORITHMS = ("ES256",)

KeyLookup = Callable[[str], jwt.PyJWK | None]


def token_error(reason: str, description: str) -> InvalidToken:
    """A 401 ``invalid_token`` with a stable ``reason`` (never echoing the token)."""
    return InvalidToken(description, status=401, details={"reason": reason})


@dataclass(frozen=True)
class AccessTokenClaims:
    """A verified Grantline access token."""

    jti: str
    task_id: str | None
    issuer: str
    subject: str
    audience: list[str]
    scopes: frozenset[str]
    client_id: str
    chain: list[str]
    issued_at: datetime
    expires_at: datetime
    cert_thumbprint: str | None
    args_digest: str | None
    raw: dict[str, Any] = field(repr=False)

    @property
    def grant_id(self) -> str:
        return self.jti


def verify_access_token(
    token: str,
    *,
    keys: KeyLookup | Mapping[str, Any],
    issuer: str,
    audience: str,
    scopes: Collection[str] = (),
    client_cert: bytes | str | x509.Certificate | None = None,
    args_digest: str | None = None,
    algorithms: Collection[str] = DEFAULT_ALGORITHMS,
    leeway: float = 5.0,
) -> AccessTokenClaims:
    """Verifies ``token`` and returns its claims, or raises :class:`InvalidToken` (with a ``reason``) or
    :class:`InsufficientScope`. It does not know about revocation: :class:`ResourceServer` adds that.

    ``keys`` is a JWKS document or a function from ``kid`` to key. ``client_cert`` is the certificate
    of the mTLS connection the token came on; a certificate-bound token is refused without it.
    ``args_digest``, when given, must equal the token's ``args_digest`` claim.
    """
    header = _checked_header(token, algorithms)
    key = _lookup(keys, header["kid"])
    if key is None:
        raise token_error("unknown_key", "the token was not signed by a key of the authorization server")
    payload = _decode(token, key, header["alg"], issuer=issuer, audience=audience, leeway=leeway)
    claims = _claims(payload)
    _check_binding(claims, client_cert)
    if args_digest is not None and not hmac.compare_digest(claims.args_digest or "", args_digest):
        raise token_error("args_digest_mismatch", "the token does not cover these exact arguments")
    missing = sorted(set(scopes) - claims.scopes)
    if missing:
        raise InsufficientScope(
            f"the token lacks the scope(s) {' '.join(missing)}",
            status=403,
            details={"scope": " ".join(sorted(scopes))},
        )
    return claims


def _checked_header(token: str, algorithms: Collection[str]) -> dict[str, Any]:
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > 16384:
        raise token_error("malformed", "the token is not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise token_error("malformed", "the token header cannot be read") from None
    if header.get("alg") not in algorithms:
        raise token_error("unsupported_alg", "the token's algorithm is not accepted")
    if str(header.get("typ", "")).lower() not in AT_JWT_TYPES:
        raise token_error("wrong_type", "not an access token (typ must be at+jwt, RFC 9068 §2.1)")
    if not isinstance(header.get("kid"), str):
        raise token_error("unknown_key", "the token header has no kid")
    return header


def _lookup(keys: KeyLookup | Mapping[str, Any], kid: str) -> jwt.PyJWK | None:
    if callable(keys):
        return keys(kid)
    for jwk in keys.get("keys", []):
        if isinstance(jwk, Mapping) and jwk.get("kid") == kid and jwk.get("use", "sig") == "sig":
            return jwt.PyJWK(dict(jwk))
    return None


_PYJWT_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidAudienceError, "wrong_audience"),
    (jwt.InvalidIssuerError, "wrong_issuer"),
    (jwt.MissingRequiredClaimError, "missing_claim"),
    (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.InvalidAlgorithmError, "unsupported_alg"),
    (jwt.DecodeError, "malformed"),
)


def _decode(token: str, key: jwt.PyJWK, alg: str, **checks: Any) -> dict[str, Any]:
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            issuer=checks["issuer"],
            audience=checks["audience"],
            leeway=checks["leeway"],
            options={"require": list(REQUIRED_CLAIMS), "strict_aud": False},
        )
    except jwt.PyJWTError as err:
        reason = next((r for cls, r in _PYJWT_REASONS if isinstance(err, cls)), "invalid_claim")
        raise token_error(reason, f"the access token was refused: {reason}") from None
    return payload


def _claims(p: dict[str, Any]) -> AccessTokenClaims:
    texts = ("jti", "sub", "client_id", "scope", "iss")
    if any(not isinstance(p.get(name), str) or not p[name] for name in texts):
        raise token_error("invalid_claim", "a required claim is not a non-empty string")
    chain = _actor_chain(p.get("act"))
    # The current actor (outermost act, RFC 8693 §4.1) and client_id both name the holder.
    if chain and chain[-1] != p["client_id"]:
        raise token_error("invalid_claim", "client_id is not the current actor")
    cnf = p.get("cnf")
    aud = p["aud"]
    return AccessTokenClaims(
        jti=p["jti"],
        task_id=p.get("task_id") if isinstance(p.get("task_id"), str) else None,
        issuer=p["iss"],
        subject=p["sub"],
        audience=[aud] if isinstance(aud, str) else [str(a) for a in aud],
        scopes=frozenset(p["scope"].split()),
        client_id=p["client_id"],
        chain=chain,
        issued_at=datetime.fromtimestamp(p["iat"], UTC),
        expires_at=datetime.fromtimestamp(p["exp"], UTC),
        cert_thumbprint=cnf.get("x5t#S256") if isinstance(cnf, Mapping) else None,
        args_digest=p.get("args_digest") if isinstance(p.get("args_digest"), str) else None,
        raw=p,
    )


def _actor_chain(act: object, depth: int = 0) -> list[str]:
    """Holders from the root grant to the current one (current last), from the nested ``act``."""
    if act is None:
        return []
    if not isinstance(act, Mapping) or not isinstance(act.get("sub"), str) or depth > 32:
        raise token_error("invalid_claim", "the act claim is malformed")
    return [*_actor_chain(act.get("act"), depth + 1), act["sub"]]


def _check_binding(claims: AccessTokenClaims, client_cert: bytes | str | x509.Certificate | None) -> None:
    """RFC 8705 §3.2: a certificate-bound token is accepted only on a connection with that certificate."""
    if claims.cert_thumbprint is None:
        return
    if client_cert is None:
        raise token_error("cert_binding", "the token is bound to a client certificate that was not presented")
    if not hmac.compare_digest(cert_thumbprint(client_cert), claims.cert_thumbprint):
        raise token_error("cert_binding", "the token is bound to a different client certificate")
