"""A grant held by an agent: its access token and secrets; a context manager that revokes it on exit."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from .models import DatabaseCredentials, KvSecret, Secret, VaultToken

S = TypeVar("S", bound=Secret)


@dataclass
class Grant:
    """An issued grant (a direct request or a redeemed delegation).

    Use it as a context manager to revoke it when the block ends, whatever happens::

        with client.grant(task_id, scopes=["db:demo:read"], audience="orders-db") as g:
            psycopg.connect(**g.database("db:demo:read").connect_kwargs())
    """

    grant_id: str
    task_id: str
    access_token: str = field(repr=False)
    token_type: str
    expires_in: int
    scopes: list[str]
    secrets: list[Secret]
    issued_token_type: str | None = None
    received_at: float = field(default_factory=time.monotonic, repr=False)
    _release: Callable[[Grant], None] | None = field(default=None, repr=False, compare=False)
    revoked: bool = field(default=False, compare=False)

    @classmethod
    def from_json(cls, body: dict[str, Any], release: Callable[[Grant], None] | None = None) -> Grant:
        return cls(
            grant_id=body["grant_id"],
            task_id=body["task_id"],
            access_token=body["access_token"],
            token_type=body.get("token_type", "Bearer"),
            expires_in=int(body["expires_in"]),
            scopes=str(body.get("scope", "")).split(),
            secrets=[Secret.from_json(s) for s in body.get("secrets") or []],
            issued_token_type=body.get("issued_token_type"),
            _release=release,
        )

    @property
    def seconds_left(self) -> float:
        return self.expires_in - (time.monotonic() - self.received_at)

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value for calls to a resource server."""
        return f"Bearer {self.access_token}"

    def secret(self, scope: str, kind: type[S] = Secret) -> S:  # type: ignore[assignment]
        """The secret minted for ``scope``, checked to be of ``kind``."""
        for s in self.secrets:
            if s.scope == scope:
                if not isinstance(s, kind):
                    raise TypeError(f"the secret for {scope} is {s.kind}, not {kind.__name__}")
                return s
        raise KeyError(f"this grant has no secret for {scope}")

    def database(self, scope: str) -> DatabaseCredentials:
        return self.secret(scope, DatabaseCredentials)

    def kv(self, scope: str) -> KvSecret:
        return self.secret(scope, KvSecret)

    def vault_token(self, scope: str) -> VaultToken:
        return self.secret(scope, VaultToken)

    def revoke(self) -> None:
        """Revokes the grant (and its delegation subtree) now. Calling it twice is harmless."""
        if self.revoked:
            return
        if self._release is None:
            raise RuntimeError("this grant was not issued by a client and cannot revoke itself")
        self._release(self)
        self.revoked = True

    def __enter__(self) -> Grant:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.revoke()
        except Exception as revoke_error:
            if exc is None:
                raise
            # The block's own exception stays the one raised; the failed revocation is noted on it.
            exc.add_note(f"grantline: revoking grant {self.grant_id} on exit also failed: {revoke_error}")
