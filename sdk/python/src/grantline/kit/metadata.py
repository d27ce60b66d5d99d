"""RFC 9728 protected-resource metadata and the ``WWW-Authenticate`` challenge that points to it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import GrantlineError, InsufficientScope, InvalidToken

WELL_KNOWN = "/.well-known/oauth-protected-resource"
_BEARER_ERRORS = {"invalid_request", "invalid_token", "insufficient_scope"}


def _check_resource(resource: str) -> None:
    parts = urlsplit(resource)
    # RFC 9728 §1.2: an https URL without a fragment; http is tolerated for loopback development.
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError(f"the resource identifier must be an https URL, not {resource!r}")
    if parts.fragment or "#" in resource or not parts.netloc:
        raise ValueError(f"the resource identifier must have a host and no fragment: {resource!r}")


def metadata_url(resource: str) -> str:
    """Where the metadata of ``resource`` lives (RFC 9728 §3.1): the well-known suffix goes between the
    host and the resource's path, e.g. ``https://rs.example/mcp`` →
    ``https://rs.example/.well-known/oauth-protected-resource/mcp``."""
    _check_resource(resource)
    parts = urlsplit(resource)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN + path, parts.query, ""))


def protected_resource_metadata(
    resource: str,
    *,
    authorization_servers: Sequence[str],
    scopes_supported: Sequence[str] = (),
    resource_name: str | None = None,
) -> dict[str, Any]:
    """The RFC 9728 §2 document: ``resource`` (REQUIRED), the authorization servers that issue tokens
    for it, scopes, and that tokens come in the ``Authorization`` header only."""
    _check_resource(resource)
    document: dict[str, Any] = {
        "resource": resource,
        "authorization_servers": list(authorization_servers),
        "bearer_methods_supported": ["header"],
    }
    if scopes_supported:
        document["scopes_supported"] = list(scopes_supported)
    if resource_name:
        document["resource_name"] = resource_name
    return document


def _quoted(value: str) -> str:
    """An RFC 9110 §5.6.4 quoted-string: backslash-escape quotes and backslashes, drop control chars."""
    clean = "".join(ch for ch in value if ch >= " " and ch != "\x7f")
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def www_authenticate(resource: str | None, *, error: GrantlineError | None = None) -> str:
    """``Bearer resource_metadata="…"`` (RFC 9728 §5.1), with RFC 6750 §3 ``error``,
    ``error_description`` and, for ``insufficient_scope``, the ``scope`` the call needs."""
    params: list[str] = []
    if resource:
        params.append(f"resource_metadata={_quoted(metadata_url(resource))}")
    if error is not None:
        code = error.code if error.code in _BEARER_ERRORS else "invalid_token"
        params.append(f"error={_quoted(code)}")
        params.append(f"error_description={_quoted(error.description)}")
        if isinstance(error, InsufficientScope) and error.details.get("scope"):
            params.append(f"scope={_quoted(str(error.details['scope']))}")
    return "Bearer" + (" " + ", ".join(params) if params else "")


def challenge_status(error: GrantlineError) -> int:
    """401 for a missing or bad token, 403 for a missing scope, 503 when revocation status is unknown."""
    if isinstance(error, InsufficientScope):
        return 403
    if isinstance(error, InvalidToken) or error.status in (400, 401):
        return 401
    return error.status or 503
