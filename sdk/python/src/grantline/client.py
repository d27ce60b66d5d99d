"""The Grantline client: one HTTP client for orchestrators, agents, resource servers and auditors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ._transport import Retry, RetryPolicy, Transport
from .grant import Grant
from .grants import Grants
from .identity import IdentitySource, X509SvidFiles
from .models import Revocation
from .tasks import Tasks


class Grantline:
    """A client of the broker at ``base_url``, authenticated as one workload.

    ``identity`` gives the JWT-SVID sent as a Bearer token on every call (``DevTrustDomain``,
    ``WorkloadApi``, ``SvidFile``, ``StaticToken``); ``mtls`` an X509-SVID for the broker's mTLS
    listener instead (or as well). ``http_transport`` replaces httpx's (a proxy, a test double).
    ``issuer`` is the broker's RFC 8414 issuer when it was found by discovery: every grant answer must
    then name it in ``iss`` (RFC 9207), else :class:`IssuerMismatch`.
    ``audience`` is the broker's JWT-SVID audience
    (``GRANTLINE_AUDIENCE``, default ``grantline``)::

        with Grantline("http://127.0.0.1:8080", identity=DevTrustDomain(ORCHESTRATOR)) as orch:
            task = orch.tasks.open(purpose="…", agents=[AGENT], scopes=["db:demo:read"])
    """

    def __init__(
        self,
        base_url: str,
        *,
        identity: IdentitySource | None = None,
        mtls: X509SvidFiles | None = None,
        audience: str = "grantline",
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        http_transport: httpx.BaseTransport | None = None,
        issuer: str | None = None,
    ) -> None:
        if identity is None and mtls is None:
            raise ValueError("give an identity source, an X509-SVID for mTLS, or both")
        self._transport = Transport(
            base_url,
            identity=identity,
            audience=audience,
            mtls=mtls,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            http_transport=http_transport,
        )
        self.tasks = Tasks(self._transport)
        self.grants = Grants(self._transport, issuer=issuer)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    def grant(
        self,
        task_id: str,
        *,
        scopes: Sequence[str],
        audience: str | None = None,
        resource: str | Sequence[str] | None = None,
        ttl: str | int | None = None,
        context: Mapping[str, str] | None = None,
    ) -> Grant:
        """Requests a grant; use it in a ``with`` block to revoke it when the block ends."""
        return self.grants.request(
            task_id, scopes=scopes, audience=audience, resource=resource, ttl=ttl, context=context
        )

    def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662 introspection (resource servers): exactly ``{"active": False}`` for a dead token."""
        result: dict[str, Any] = self._transport.request(
            "POST", "/oauth2/introspect", form={"token": token}, retry=Retry.IDEMPOTENT
        )
        return result

    def revocations(
        self, *, after: int = 0, limit: int = 500, task_id: str | None = None
    ) -> tuple[list[Revocation], int]:
        """One page of the revocation feed after sequence ``after``: the entries and the next cursor."""
        params: dict[str, Any] = {"after": after, "limit": limit}
        if task_id:
            params["task"] = task_id
        body = self._transport.request("GET", "/v1/revocations", params=params, retry=Retry.IDEMPOTENT)
        return [Revocation.from_json(r) for r in body["revocations"]], int(body["next"])

    def audit_events(self, **filters: str | int) -> dict[str, Any]:
        """Audit events (auditors), filtered by ``task``, ``grant``, ``principal``, ``after``, ``limit``."""
        result: dict[str, Any] = self._transport.request(
            "GET", "/v1/audit/events", params=filters, retry=Retry.IDEMPOTENT
        )
        return result

    def verify_audit_log(self) -> dict[str, Any]:
        """The broker's full verification of its transparency log (every leaf, every signed checkpoint)."""
        result: dict[str, Any] = self._transport.request("GET", "/v1/audit/verify", retry=Retry.IDEMPOTENT)
        return result

    def audit_checkpoint(self) -> dict[str, Any]:
        """The latest signed tree head ``{tree_size, root_hash, timestamp, signature}`` (RFC 9162 §4.10)."""
        result: dict[str, Any] = self._transport.request(
            "GET", "/v1/audit/checkpoint", retry=Retry.IDEMPOTENT
        )
        return result

    def audit_inclusion_proof(self, leaf_index: int, tree_size: int | None = None) -> dict[str, Any]:
        """RFC 9162 inclusion proof ``{leaf_index, tree_size, audit_path}`` of one event."""
        params = {"tree_size": tree_size} if tree_size is not None else {}
        result: dict[str, Any] = self._transport.request(
            "GET", f"/v1/audit/events/{int(leaf_index)}/proof", params=params, retry=Retry.IDEMPOTENT
        )
        return result

    def audit_consistency_proof(self, first: int, second: int | None = None) -> dict[str, Any]:
        """RFC 9162 consistency proof ``{first, second, consistency_path}`` between two tree sizes."""
        params = {"first": first, **({"second": second} if second is not None else {})}
        result: dict[str, Any] = self._transport.request(
            "GET", "/v1/audit/consistency", params=params, retry=Retry.IDEMPOTENT
        )
        return result

    def authorization_server_metadata(self) -> dict[str, Any]:
        """RFC 8414 metadata (public)."""
        result: dict[str, Any] = self._transport.request(
            "GET", "/.well-known/oauth-authorization-server", retry=Retry.IDEMPOTENT
        )
        return result

    @property
    def http(self) -> httpx.Client:
        """The underlying ``httpx.Client`` (authenticated), for calls this SDK does not wrap yet."""
        return self._transport.http

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Grantline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
