"""ASGI and WSGI middleware: serve RFC 9728 metadata, verify the Bearer token, answer 401/403/503 with
the challenge, and hand the verified claims to the application."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, MutableMapping
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread

from ..errors import GrantlineError, InvalidToken
from .metadata import challenge_status, metadata_url
from .resource_server import ResourceServer
from .verify import AccessTokenClaims

ScopeRule = Collection[str] | Callable[[str, str], Collection[str]]
#: Which requests are tool calls to report (``{"cost": n, "tool": name}``, or None for one that is not):
#: by default every request let through counts 1; ``False`` reports nothing.
MeterRule = bool | Callable[[str, str], Mapping[str, Any] | None]
CLAIMS_KEY = "grantline.claims"


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer …`` header (RFC 6750 §2.1), or ``invalid_request``."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken(
            "a Bearer access token is required", status=401, details={"reason": "missing_credential"}
        )
    return token.strip()


class _Gate:
    """What both middlewares share: which path is the metadata, which scopes a request needs."""

    def __init__(
        self, rs: ResourceServer, scopes: ScopeRule, public_paths: Iterable[str], meter: MeterRule = True
    ) -> None:
        self.rs = rs
        self.scopes = scopes
        self.meter = meter
        self.public = set(public_paths)
        self.metadata_path = urlsplit(metadata_url(rs.resource)).path if rs.resource else None

    def needed(self, method: str, path: str) -> Collection[str]:
        return self.scopes(method, path) if callable(self.scopes) else self.scopes

    def verify(
        self, method: str, path: str, authorization: str | None, cert: str | None
    ) -> AccessTokenClaims:
        token = bearer_token(authorization)
        claims = self.rs.verify(token, scopes=self.needed(method, path), client_cert=cert)
        call = (self.meter(method, path) if callable(self.meter) else {}) if self.meter is not False else None
        if call is not None:
            self.rs.record_call(claims, cost=int(call.get("cost", 1)), tool=call.get("tool"))
        return claims

    def refusal(self, err: GrantlineError) -> tuple[int, list[tuple[str, str]], bytes]:
        status = challenge_status(err)
        body = json.dumps({"error": err.code, "error_description": err.description}).encode()
        headers = [("content-type", "application/json"), ("cache-control", "no-store")]
        if status in (401, 403):
            headers.append(("www-authenticate", self.rs.challenge(err)))
        if status == 503:
            headers.append(("retry-after", "1"))
        return status, headers, body

    def metadata(self) -> bytes:
        return json.dumps(self.rs.metadata()).encode()


ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class GrantlineASGIMiddleware:
    """Wraps an ASGI app. Verified claims are in ``scope["state"]["grantline.claims"]``; the client
    certificate is read from the ASGI TLS extension when the server provides it."""

    def __init__(
        self,
        app: ASGIApp,
        rs: ResourceServer,
        *,
        scopes: ScopeRule = (),
        public_paths: Iterable[str] = (),
        meter: MeterRule = True,
    ) -> None:
        self.app = app
        self.gate = _Gate(rs, scopes, public_paths, meter)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path == self.gate.metadata_path and method == "GET":
            await _asgi_send(send, 200, [("content-type", "application/json")], self.gate.metadata())
            return
        if path in self.gate.public:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        chain = scope.get("extensions", {}).get("tls", {}).get("client_cert_chain") or [None]
        check = partial(self.gate.verify, method, path, headers.get("authorization"), chain[0])
        try:
            claims = await anyio.to_thread.run_sync(check)
        except GrantlineError as err:
            await _asgi_send(send, *self.gate.refusal(err))
            return
        scope.setdefault("state", {})[CLAIMS_KEY] = claims
        await self.app(scope, receive, send)


async def _asgi_send(send: Any, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


_REASONS = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable"}


class GrantlineWSGIMiddleware:
    """Wraps a WSGI app. Verified claims are in ``environ["grantline.claims"]``; the client certificate
    is read from ``environ["SSL_CLIENT_CERT"]`` (PEM) when the server sets it."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        rs: ResourceServer,
        *,
        scopes: ScopeRule = (),
        public_paths: Iterable[str] = (),
        meter: MeterRule = True,
    ) -> None:
        self.app = app
        self.gate = _Gate(rs, scopes, public_paths, meter)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO") or "/", environ.get("REQUEST_METHOD", "GET")
        if path == self.gate.metadata_path and method == "GET":
            start_response("200 OK", [("content-type", "application/json")])
            return [self.gate.metadata()]
        if path in self.gate.public:
            return self.app(environ, start_response)
        try:
            claims = self.gate.verify(
                method, path, environ.get("HTTP_AUTHORIZATION"), environ.get("SSL_CLIENT_CERT") or None
            )
        except GrantlineError as err:
            status, headers, body = self.gate.refusal(err)
            start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
            return [body]
        environ[CLAIMS_KEY] = claims
        return self.app(environ, start_response)
