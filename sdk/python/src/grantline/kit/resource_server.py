"""A resource server's view of Grantline: verify tokens, refuse revoked ones, describe itself (RFC 9728)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from cryptography import x509

from ..client import Grantline
from ..errors import GrantlineError, RevocationStatusUnknown
from .jwks import JwksCache
from .metadata import protected_resource_metadata, www_authenticate
from .revocation_feed import RevocationFeed
from .usage_meter import UsageMeter
from .verify import DEFAULT_ALGORITHMS, AccessTokenClaims, token_error, verify_access_token


class ResourceServer:
    """Verifies Grantline access tokens for one resource (its ``audience``).

    ``broker`` is a client authenticated as this resource server (a ``/resource/`` workload): it reads
    the revocation feed and, while the feed is down, introspects each token instead. Without a live
    feed or a working introspection the answer is unknown, and :meth:`verify` fails closed with
    :class:`RevocationStatusUnknown` (a 503 for the caller to retry).

    ``resource`` is this server's URL for RFC 9728 metadata; ``issuer`` defaults to the broker's RFC
    8414 ``issuer``, which must then equal the broker URL (RFC 8414 §3.3).

    With ``usage`` (the default), :meth:`record_call` (and the middlewares, for each request they let
    through) reports tool calls to the broker in batches: a task's ``max_actions`` then counts them, and
    a grant whose share is spent is revoked and refused here at once.
    """

    def __init__(
        self,
        broker: Grantline,
        *,
        audience: str,
        resource: str | None = None,
        issuer: str | None = None,
        scopes_supported: Sequence[str] = (),
        follow_revocations: bool = True,
        algorithms: Collection[str] = DEFAULT_ALGORITHMS,
        leeway: float = 5.0,
        max_token_lifetime: float = 3600.0,
        usage: bool = True,
        usage_flush_interval: float = 0.1,
    ) -> None:
        self.broker = broker
        self.audience = audience
        self.resource = resource
        self.scopes_supported = list(scopes_supported)
        self.issuer = issuer or self._discover_issuer()
        self.jwks = JwksCache(f"{broker.base_url}/.well-known/jwks.json")
        self.algorithms = algorithms
        self.leeway = leeway
        self.feed = (
            RevocationFeed(broker, max_token_lifetime=max_token_lifetime) if follow_revocations else None
        )
        # Grants the broker said it revoked in answer to a usage report: refused before the feed says so.
        self._revoked_here: set[str] = set()
        self.meter = (
            UsageMeter(
                broker.grants.report_usage,
                on_revoked=self._revoked_here.update,
                flush_interval=usage_flush_interval,
            )
            if usage
            else None
        )

    def _discover_issuer(self) -> str:
        issuer = self.broker.authorization_server_metadata().get("issuer")
        if issuer != self.broker.base_url:
            raise GrantlineError(
                f"the broker's metadata names issuer {issuer!r}, not {self.broker.base_url!r} (RFC 8414 §3.3)"
            )
        return str(issuer)

    def start(self, wait: float = 10.0) -> ResourceServer:
        """Starts following the revocation feed and waits up to ``wait`` seconds for it to catch up
        (until then, tokens are checked by introspection)."""
        if self.feed is not None:
            self.feed.start().wait_healthy(wait)
        return self

    def close(self) -> None:
        if self.meter is not None:
            self.meter.close()
        if self.feed is not None:
            self.feed.stop()
        self.jwks.close()

    def __enter__(self) -> ResourceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def verify(
        self,
        token: str,
        *,
        scopes: Collection[str] = (),
        client_cert: bytes | str | x509.Certificate | None = None,
        args_digest: str | None = None,
    ) -> AccessTokenClaims:
        """Verifies the token (signature, ``typ``, ``iss``, ``aud``, expiry, binding, scopes) and that
        it is not revoked: by the feed when it is live, else by introspection."""
        claims = verify_access_token(
            token,
            keys=self.jwks,
            issuer=self.issuer,
            audience=self.audience,
            scopes=scopes,
            client_cert=client_cert,
            args_digest=args_digest,
            algorithms=self.algorithms,
            leeway=self.leeway,
        )
        if claims.jti in self._revoked_here:
            raise token_error("revoked", "the grant behind this token has spent its actions")
        if self.feed is not None and self.feed.healthy:
            if self.feed.is_revoked(claims.jti):
                raise token_error("revoked", "the grant behind this token has been revoked")
            return claims
        self._introspect(token)
        return claims

    def record_call(self, claims: AccessTokenClaims, *, cost: int = 1, tool: str | None = None) -> None:
        """Counts one tool call made with a verified token against its grant's actions (reported with
        the next batch). When a report spends the grant's share, the broker revokes it."""
        if self.meter is not None:
            self.meter.record(claims.jti, cost=cost, tool=tool)

    def _introspect(self, token: str) -> None:
        try:
            answer = self.broker.introspect(token)
        except GrantlineError as err:
            raise RevocationStatusUnknown(
                "cannot tell whether the token is revoked: the revocation feed is down and "
                f"introspection failed ({err.code})",
                status=503,
            ) from err
        if answer.get("active") is not True:
            raise token_error("revoked", "the token is no longer active")

    def metadata(self) -> dict[str, Any]:
        """The RFC 9728 protected-resource metadata document of this resource."""
        if not self.resource:
            raise ValueError("give ResourceServer(resource=…) to publish protected-resource metadata")
        return protected_resource_metadata(
            self.resource, authorization_servers=[self.issuer], scopes_supported=self.scopes_supported
        )

    def challenge(self, error: GrantlineError | None = None) -> str:
        """The ``WWW-Authenticate`` value for a 401/403 answer (RFC 6750 §3, RFC 9728 §5.1)."""
        return www_authenticate(self.resource, error=error)
