"""Agent calls: request grants, delegate, redeem a delegation with one's own identity, revoke."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ._transport import Retry, Transport, path_id
from .errors import BrokerError, IssuerMismatch
from .grant import Grant
from .models import DelegationOffer, RevokeResult

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a URN, not a secret)
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class Grants:
    def __init__(self, transport: Transport, *, issuer: str | None = None) -> None:
        self._t = transport
        self._issuer = issuer

    def _issued(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A grant answer, checked against the issuer this client meant to ask (RFC 9207 §2.4)."""
        try:
            body: dict[str, Any] = self._t.request(method, path, **kwargs)
        except BrokerError as err:
            iss = err.details.get("iss")
            if self._issuer is not None and iss is not None and iss != self._issuer:
                raise IssuerMismatch(
                    f"the refusal names issuer {iss}, not {self._issuer} (RFC 9207)"
                ) from err
            raise
        if self._issuer is not None and body.get("iss") != self._issuer:
            raise IssuerMismatch(f"the answer names issuer {body.get('iss')}, not {self._issuer} (RFC 9207)")
        return body

    def request(
        self,
        task_id: str,
        *,
        scopes: Sequence[str],
        audience: str | None = None,
        resource: str | Sequence[str] | None = None,
        ttl: str | int | None = None,
        context: Mapping[str, str] | None = None,
    ) -> Grant:
        """Asks for a grant in the task: an access token for ``audience`` (or for the RFC 8707
        ``resource`` URIs, its ``aud``; give one or the other) plus a secret per scope.

        ``context`` holds ``tool``, ``target``, ``intent`` and ``args_digest`` for policy. A 503 is
        retried (the broker issued nothing); a timeout is not (a grant may have been issued).
        """
        if (audience is None) == (resource is None):
            raise ValueError("give either audience or resource (RFC 8707)")
        body: dict[str, Any] = {"scopes": list(scopes), "context": dict(context or {})}
        if audience is not None:
            body["audience"] = audience
        else:
            body["resource"] = _as_list(resource)
        if ttl is not None:
            body["ttl"] = ttl
        path = f"/v1/tasks/{path_id(task_id)}/grants"
        answer = self._issued("POST", path, json=body, retry=Retry.ON_UNAVAILABLE)
        return Grant.from_json(answer, release=self._release)

    def delegate(
        self,
        grant_id: str,
        *,
        to: str,
        scopes: Sequence[str],
        ttl: str | int | None = None,
        budget: int = 0,
        actions: int | None = None,
        may_redelegate: bool = False,
    ) -> DelegationOffer:
        """Offers a narrower grant to the sub-agent ``to`` (a SPIFFE ID), who redeems it with its own SVID.
        ``actions`` reserves that many of this grant's actions for it (else it shares this grant's)."""
        body: dict[str, Any] = {
            "to": to,
            "scopes": list(scopes),
            "budget": budget,
            "may_redelegate": may_redelegate,
        }
        if ttl is not None:
            body["ttl"] = ttl
        if actions is not None:
            body["actions"] = actions
        path = f"/v1/grants/{path_id(grant_id)}/delegations"
        return DelegationOffer.from_json(self._t.request("POST", path, json=body, retry=Retry.NEVER))

    def redeem(
        self,
        delegation_token: str | DelegationOffer,
        *,
        scopes: Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        resource: str | Sequence[str] | None = None,
    ) -> Grant:
        """RFC 8693 token exchange: the delegation token as ``subject_token`` and this client's own
        JWT-SVID as ``actor_token`` (omitted over mTLS without an identity source, where the client
        certificate is the actor). ``scopes``, ``audience`` and ``resource`` narrow what the offer
        gives (within the parent's audiences). The offer is single-use, so this is never retried once sent."""
        token = (
            delegation_token.delegation_token
            if isinstance(delegation_token, DelegationOffer)
            else delegation_token
        )
        form: dict[str, str | list[str]] = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": token,
            "subject_token_type": JWT_TOKEN_TYPE,
            "requested_token_type": ACCESS_TOKEN_TYPE,
        }
        if self._t.identity is not None:
            form["actor_token"] = self._t.identity.jwt_svid(self._t.audience)
            form["actor_token_type"] = JWT_TOKEN_TYPE
        if scopes:
            form["scope"] = " ".join(scopes)
        # RFC 8693 §2.1: audience and resource may each be repeated.
        for name, values in (("audience", _as_list(audience)), ("resource", _as_list(resource))):
            if values:
                form[name] = values
        body = self._issued("POST", "/oauth2/token", form=form, retry=Retry.NEVER)
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

    def report_usage(
        self, grant_id: str, calls: Sequence[Mapping[str, Any]], *, report_id: str | None = None
    ) -> dict[str, Any]:
        """A resource server's report of the calls it served with the grant's token (action metering):
        each ``{"cost": n, "at": "<RFC 3339>", "tool": "…"}``. The report id makes a retry count once,
        so it is retried like a read. The answer says whether the grant's share is spent (``revoked``).
        The kit (:class:`grantline.kit.ResourceServer`) batches these for you."""
        body = {"report_id": report_id or str(uuid.uuid4()), "calls": [dict(c) for c in calls]}
        path = f"/v1/grants/{path_id(grant_id)}/usage"
        result: dict[str, Any] = self._t.request("POST", path, json=body, retry=Retry.IDEMPOTENT)
        return result

    def lineage(self, grant_id: str) -> dict[str, Any]:
        """The path from the task through every hop to this grant, and its subtree (auditors)."""
        path = f"/v1/grants/{path_id(grant_id)}/lineage"
        result: dict[str, Any] = self._t.request("GET", path, retry=Retry.IDEMPOTENT)
        return result

    def _release(self, grant: Grant) -> None:
        self.revoke(grant.grant_id, reason="released by its holder")
