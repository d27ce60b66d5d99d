"""What the broker returns, as typed objects. Secret values never appear in a ``repr``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None


@dataclass(frozen=True)
class Limits:
    max_grants: int = 100
    max_active: int = 20
    max_depth: int = 3
    max_fanout: int = 5
    budget: int = 100
    #: Tool calls (times their scopes' action cost) all the task's grants may make; None: not capped.
    max_actions: int | None = None

    def to_json(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Task:
    id: str
    status: Literal["open", "closing", "closed", "expired"]
    purpose: str
    owner: str
    agents: list[str]
    scopes: list[str]
    limits: Limits
    #: Who besides ``agents`` its grants may be delegated to (SPIFFE IDs or ``spiffe://td/path/*``).
    delegates: list[str]
    #: The audiences its access tokens may carry.
    audiences: list[str]
    counters: dict[str, int]
    context: dict[str, Any]
    created_at: datetime | None
    expires_at: datetime | None
    closed_at: datetime | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Task:
        return cls(
            id=body["id"],
            status=body["status"],
            purpose=body["purpose"],
            owner=body["owner"],
            agents=list(body["agents"]),
            scopes=list(body["scopes"]),
            limits=Limits(**{k: v for k, v in body["limits"].items() if k in Limits.__dataclass_fields__}),
            delegates=list(body.get("delegates") or []),
            audiences=list(body.get("audiences") or []),
            counters=dict(body.get("counters") or {}),
            context=dict(body.get("context") or {}),
            created_at=_time(body.get("created_at")),
            expires_at=_time(body.get("expires_at")),
            closed_at=_time(body.get("closed_at")),
            raw=body,
        )


@dataclass(frozen=True)
class Approval:
    id: str
    task_id: str
    scope: str
    approver: str
    single_use: bool
    args_digest: str | None
    expires_at: datetime | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Approval:
        return cls(
            id=body["id"],
            task_id=body["task_id"],
            scope=body["scope"],
            approver=body["approver"],
            single_use=bool(body.get("single_use")),
            args_digest=body.get("args_digest"),
            expires_at=_time(body.get("expires_at")),
            raw=body,
        )


@dataclass(frozen=True)
class Secret:
    """One scope's secret. ``kind`` says which subclass: :class:`DatabaseCredentials` (``dynamic``),
    :class:`KvSecret` (``kv``) or :class:`VaultToken` (``token``)."""

    scope: str
    kind: str
    data: dict[str, Any] = field(repr=False)
    lease_id: str | None
    lease_duration: int | None
    connection: dict[str, Any]

    @staticmethod
    def from_json(body: dict[str, Any]) -> Secret:
        cls = _SECRET_KINDS.get(body.get("kind", ""), Secret)
        return cls(
            scope=body["scope"],
            kind=body["kind"],
            data=dict(body.get("data") or {}),
            lease_id=body.get("lease_id"),
            lease_duration=body.get("lease_duration"),
            connection=dict(body.get("connection") or {}),
        )


@dataclass(frozen=True)
class DatabaseCredentials(Secret):
    """A login minted for this grant (Vault's database engine); it stops working when the grant ends."""

    @property
    def username(self) -> str:
        return str(self.data["username"])

    @property
    def password(self) -> str:
        return str(self.data["password"])

    def connect_kwargs(self) -> dict[str, Any]:
        """``host``, ``port``, ``dbname``, ``user``, ``password`` for psycopg / libpq, from the
        connection facts the scope publishes."""
        facts = self.connection
        kwargs: dict[str, Any] = {"user": self.username, "password": self.password}
        if "host" in facts:
            kwargs["host"] = facts["host"]
        if "port" in facts:
            kwargs["port"] = int(facts["port"])
        if "database" in facts:
            kwargs["dbname"] = facts["database"]
        return kwargs


@dataclass(frozen=True)
class KvSecret(Secret):
    """Values read from Vault's KV store (e.g. an API key): ``secret["api_key"]``."""

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


@dataclass(frozen=True)
class VaultToken(Secret):
    """A Vault token with the scope's policies, a child of the grant's token."""

    @property
    def token(self) -> str:
        return str(self.data["token"])

    @property
    def accessor(self) -> str:
        return str(self.data["accessor"])


_SECRET_KINDS: dict[str, type[Secret]] = {
    "dynamic": DatabaseCredentials,
    "kv": KvSecret,
    "token": VaultToken,
}


@dataclass(frozen=True)
class DelegationOffer:
    """A single-use offer bound to ``to``; hand ``delegation_token`` to that sub-agent."""

    offer_id: str
    delegation_token: str = field(repr=False)
    to: str
    scopes: list[str]
    ttl: int
    budget: int
    may_redelegate: bool
    expires_in: int
    #: Actions reserved for the delegate; None: it shares the delegating grant's pool.
    actions: int | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> DelegationOffer:
        return cls(
            offer_id=body["offer_id"],
            delegation_token=body["delegation_token"],
            to=body["to"],
            scopes=list(body["scopes"]),
            ttl=int(body["ttl"]),
            budget=int(body["budget"]),
            may_redelegate=bool(body["may_redelegate"]),
            expires_in=int(body["expires_in"]),
            actions=body.get("actions"),
        )


@dataclass(frozen=True)
class Receipt:
    """The revocation receipt of a task: every grant, token and lease with its state."""

    task_id: str
    status: str
    complete: bool
    summary: dict[str, Any]
    grants: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Receipt:
        return cls(
            task_id=body["task_id"],
            status=body["status"],
            complete=bool(body["complete"]),
            summary=dict(body.get("summary") or {}),
            grants=list(body.get("grants") or []),
            raw=body,
        )


@dataclass(frozen=True)
class RevokeResult:
    grant_id: str
    status: str
    revoked: list[str]


@dataclass(frozen=True)
class Revocation:
    """One entry of the revocation feed: grant ``jti`` is dead from ``revoked_at``."""

    seq: int
    jti: str
    task_id: str
    reason: str | None
    revoked_at: datetime | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Revocation:
        return cls(
            seq=int(body["seq"]),
            jti=str(body["jti"]),
            task_id=str(body["task_id"]),
            reason=body.get("reason"),
            revoked_at=_time(body.get("revoked_at")),
        )
