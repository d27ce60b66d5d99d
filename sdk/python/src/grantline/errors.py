"""Exceptions by broker error code.

Every error the broker answers is ``{"error": "<code>", "error_description": "<sentence>", ...details}``
(README "HTTP API"). Each code has one class here, so callers write ``except QuotaExceeded`` rather than
switching on messages; an unknown code still raises :class:`GrantlineError` with that code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class GrantlineError(Exception):
    """Base of every error this package raises.

    ``code`` is the broker's stable error code, ``status`` the HTTP status (0 when the broker was never
    reached), ``description`` its sentence and ``details`` every other member of the error body
    (``reasons``, ``limit``, ``reason``, ``task_status`` …).
    """

    code: str = "error"
    status: int = 0

    def __init__(
        self,
        description: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return f"{self.description} ({self.code})"


class IssuerMismatch(GrantlineError):
    """RFC 9207: a grant answer named another issuer than the one the client meant to ask (or none).
    The answer is not used: it may come from another authorization server mixed up with this one."""

    code = "issuer_mismatch"


class BrokerUnreachable(GrantlineError):
    """The broker did not answer at all (refused, DNS, timeout, TLS handshake)."""

    code = "unreachable"


class BrokerError(GrantlineError):
    """The broker answered with an error body. Subclasses, one per error code, are chosen by the code."""

    by_code: ClassVar[dict[str, type[BrokerError]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        BrokerError.by_code.setdefault(cls.code, cls)


class InvalidRequest(BrokerError):
    """400: bad JSON, unknown fields, wrong types (the body names the field)."""

    code, status = "invalid_request", 400


class InvalidScope(BrokerError):
    code, status = "invalid_scope", 400


class InvalidTarget(BrokerError):
    """400: the token exchange named an audience or resource the task does not allow (RFC 8693 §2.2.2)."""

    code, status = "invalid_target", 400


class InvalidGrant(BrokerError):
    code, status = "invalid_grant", 400


class UnsupportedGrantType(BrokerError):
    code, status = "unsupported_grant_type", 400


class UnsupportedTokenType(BrokerError):
    code, status = "unsupported_token_type", 400


class UnauthorizedClient(BrokerError):
    """400: RFC 7009 revocation of a live token issued to another client."""

    code, status = "unauthorized_client", 400


class InvalidToken(BrokerError):
    """401: the credential was refused; ``reason`` is the broker's (or the kit's) stable cause."""

    code, status = "invalid_token", 401

    @property
    def reason(self) -> str | None:
        value = self.details.get("reason")
        return value if isinstance(value, str) else None


class InvalidClient(InvalidToken):
    code, status = "invalid_client", 401


class AccessDenied(BrokerError):
    """403: policy said no; ``reasons`` and ``policy_ids`` say why when the broker gives them."""

    code, status = "access_denied", 403

    @property
    def reasons(self) -> list[str]:
        value = self.details.get("reasons")
        return [str(r) for r in value] if isinstance(value, list) else []


class InsufficientScope(BrokerError):
    """403 from a resource server (RFC 6750 §3.1): the token lacks a scope the call needs."""

    code, status = "insufficient_scope", 403


class NotFound(BrokerError):
    code, status = "not_found", 404


class Conflict(BrokerError):
    """409: e.g. the task is not open (``task_status``) or the grant is no longer active."""

    code, status = "conflict", 409


class PayloadTooLarge(BrokerError):
    code, status = "payload_too_large", 413


class UnsupportedMediaType(BrokerError):
    code, status = "unsupported_media_type", 415


class QuotaExceeded(BrokerError):
    """429: a task limit refused the request; ``limit`` names which (max_grants, budget, max_depth …)."""

    code, status = "quota_exceeded", 429

    @property
    def limit(self) -> str | None:
        value = self.details.get("limit")
        return value if isinstance(value, str) else None


class ServerError(BrokerError):
    code, status = "server_error", 500


class Unavailable(BrokerError):
    """503: Vault or PostgreSQL is down. The broker issued and changed nothing; retrying is safe."""

    code, status = "unavailable", 503


class RevocationStatusUnknown(Unavailable):
    """The kit could not learn whether a token is revoked (feed down and introspection failing)."""

    code = "revocation_status_unknown"


def error_from_body(status: int, body: object) -> BrokerError:
    """The exception for an error answer: the class of its ``error`` code (an unknown code keeps its
    code on a plain :class:`BrokerError`), or, for a body without one, the class of the status."""
    if isinstance(body, Mapping) and isinstance(body.get("error"), str):
        code = str(body["error"])
        description = body.get("error_description")
        details = {k: v for k, v in body.items() if k not in ("error", "error_description")}
        cls = BrokerError.by_code.get(code) or (ServerError if status >= 500 else BrokerError)
        text = description if isinstance(description, str) else f"the broker answered HTTP {status}"
        return cls(text, code=code, status=status, details=details)
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else BrokerError)
    code = cls.code if cls is not BrokerError else "http_error"
    return cls(f"the broker answered HTTP {status}", code=code, status=status)


_BY_STATUS: dict[int, type[BrokerError]] = {
    400: InvalidRequest,
    401: InvalidToken,
    403: AccessDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    429: QuotaExceeded,
    503: Unavailable,
}
