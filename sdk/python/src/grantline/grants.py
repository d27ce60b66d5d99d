"""Agent calls: request grants, delegate, redeem a delegation with one's own identity, revoke."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._transport import Retry, Transport, path_id
from .grant import Grant
from .models import DelegationOffer, RevokeResult

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a URN, not a secret)
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105


class Grants:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def request(
        self,
        task_id: str,
        *,
        scopes: Sequence[str],
        audience: str,
        ttl: str | int | None = None,
        context: Mapping[str, str] | None = None,
    ) -> Grant:
        """Asks for a grant in the task: an access token for ``audience`` plus a secret per scope.

        ``context`` holds ``tool``, ``target``, ``intent`` and ``args_digest`` for policy. A 503 is
        retried (the broker issued nothing); a timeout is not (a grant may have been issued).
        """
        body: dict[str, Any] = {"scopes": list(scopes), "audience": audience, "context": dict(context or {})}
        if ttl is not None:
            body["ttl"] = ttl
        path = f"/v1/tasks/{path_id(task_id)}/grants"
        return Grant.from_json(
            self._t.request("POST", path, json=body, retry=Retry.ON_UNAVAILABLE), release=self._release
        )

    def delegate(
        self,
        grant_id: str,
        *,
        to: str,
        scopes: Sequence[str],
        ttl: str | int | None = None,
        budget: int = 0,
        may_redelegate: bool = False,
    ) -> DelegationOffer:
        """Offers a narrower grant to the sub-agent ``to`` (a SPIFFE ID), who redeems it with its own SVID."""
        body: dict[str, Any] = {
            "to": to,
            "scopes": list(scopes),
            "budget": budget,
            "may_redelegate": may_redelegate,
        }
        if ttl is not None:
            body["ttl"] = ttl
        path = f"/v1/grants/{path_id(grant_id)}/delegations"
        return DelegationOffer.from_json(self._t.request("POST", path, json=body, retry=Retry.NEVER))

    def redeem(self, delegation_token: str | DelegationOffer) -> Grant:
        """RFC 8693 token exchange: the delegation token as ``subject_token`` and this client's own
        JWT-SVID as ``actor_token`` (omitted over mTLS without an identity source, where the client
        certificate is the actor). The offer is single-use, so this is never retried once sent."""
        token = (
            delegation_token.delegation_token
            if isinstance(delegation_token, DelegationOffer)
            else delegation_token
        )
        form = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": token,
            "subject_token_type": JWT_TOKEN_TYPE,
            "requested_token_type": ACCESS_TOKEN_TYPE,
        }
        if self._t.identity is not None:
            form["actor_token"] = self._t.identity.jwt_svid(self._t.audience)
            form["actor_token_type"] = JWT_TOKEN_TYPE
        body = self._t.request("POST", "/oauth2/token", form=form, retry=Retry.NEVER)
        return Grant.from_json(body, release=self._release)

    def revoke(self, grant_id: str, *, reason: str | None = None) -> RevokeResult:
        """Revokes the grant and its whole delegation subtree. Idempotent, so retried."""
        body = {"reason": reason} if reason else {}
        path = f"/v1/grants/{path_id(grant_id)}/revoke"
        result = self._t.request("POST", path, json=body, retry=Retry.IDEMPOTENT)
        return RevokeResult(
            grant_id=result["grant_id"], status=result["status"], revoked=list(result["revoked"])
        )

    def revoke_token(self, access_token: str) -> None:
        """RFC 7009 revocation by the token's holder; 200 even for unknown or dead tokens, and for
        another client's token, which the broker leaves alone (so the answer never reveals liveness)."""
        form = {"token": access_token, "token_type_hint": "access_token"}
        self._t.request("POST", "/oauth2/revoke", form=form, retry=Retry.IDEMPOTENT)

    def lineage(self, grant_id: str) -> dict[str, Any]:
        """The path from the task through every hop to this grant, and its subtree (auditors)."""
        path = f"/v1/grants/{path_id(grant_id)}/lineage"
        result: dict[str, Any] = self._t.request("GET", path, retry=Retry.IDEMPOTENT)
        return result

    def _release(self, grant: Grant) -> None:
        self.revoke(grant.grant_id, reason="released by its holder")
