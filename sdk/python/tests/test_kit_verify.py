"""The kit's RFC 9068 checks on real tokens from the broker, and on forged ones it must refuse."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest

from grantline import DevTrustDomain, Grant, Grantline, InsufficientScope, InvalidToken, Task
from grantline.kit import ResourceServer, verify
from tests.broker_process import Broker
from tests.conftest import AGENT, ORCHESTRATOR, SUB_AGENT


@pytest.fixture(scope="module")
def jwks(broker: Broker) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{broker.url}/.well-known/jwks.json").json()
    return document


@pytest.fixture(scope="module")
def signing_key(broker: Broker, jwks: dict[str, Any]) -> tuple[str, str]:
    """The broker's own ES256 key and kid: forged tokens below carry a valid signature, so each test
    proves the one check it is about."""
    pem = (broker.home / "keys" / "signing-key.pem").read_text()
    return pem, jwks["keys"][0]["kid"]


@pytest.fixture
def grant(agent: Grantline, open_task: Callable[..., Task]) -> Grant:
    task = open_task()
    return agent.grants.request(task.id, scopes=["db:demo:read", "kv:demo/api-key"], audience="orders-db")


@pytest.fixture
def rs(broker: Broker, resource_client: Grantline) -> Iterator[ResourceServer]:
    with ResourceServer(resource_client, audience="orders-db", resource="http://127.0.0.1/orders") as server:
        yield server


def claims_of(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return payload


def forge(signing_key: tuple[str, str], claims: dict[str, Any], **header: Any) -> str:
    pem, kid = signing_key
    return jwt.encode(claims, pem, algorithm="ES256", headers={"kid": kid, "typ": "at+jwt", **header})


def test_when_the_token_is_good_then_verify_returns_its_claims(
    broker: Broker, jwks: dict[str, Any], grant: Grant
) -> None:
    claims = verify(
        grant.access_token, keys=jwks, issuer=broker.url, audience="orders-db", scopes=["db:demo:read"]
    )
    assert claims.jti == grant.grant_id
    assert claims.task_id == grant.task_id
    assert claims.client_id == AGENT
    assert claims.subject == ORCHESTRATOR
    assert claims.chain == [AGENT]
    assert claims.scopes == {"db:demo:read", "kv:demo/api-key"}
    assert claims.cert_thumbprint is None


def test_when_the_resource_server_verifies_then_it_discovers_issuer_and_keys(
    rs: ResourceServer, grant: Grant
) -> None:
    assert rs.feed is not None
    assert rs.feed.healthy
    assert rs.verify(grant.access_token, scopes=["kv:demo/api-key"]).jti == grant.grant_id


def test_when_a_scope_is_missing_then_insufficient_scope(rs: ResourceServer, grant: Grant) -> None:
    with pytest.raises(InsufficientScope) as caught:
        rs.verify(grant.access_token, scopes=["tool:demo:deploy"])
    assert caught.value.status == 403
    assert caught.value.details["scope"] == "tool:demo:deploy"


def test_when_the_audience_is_another_resource_then_wrong_audience(
    broker: Broker, jwks: dict[str, Any], grant: Grant
) -> None:
    with pytest.raises(InvalidToken) as caught:
        verify(grant.access_token, keys=jwks, issuer=broker.url, audience="billing-db")
    assert caught.value.reason == "wrong_audience"


def test_when_an_args_digest_is_required_then_a_token_without_it_is_refused(
    rs: ResourceServer, grant: Grant
) -> None:
    with pytest.raises(InvalidToken) as caught:
        rs.verify(grant.access_token, args_digest="sha256:" + "0" * 64)
    assert caught.value.reason == "args_digest_mismatch"


def test_when_the_token_carries_the_required_args_digest_then_it_passes(
    broker: Broker, jwks: dict[str, Any], signing_key: tuple[str, str], grant: Grant
) -> None:
    digest = "sha256:" + "7" * 64
    token = forge(signing_key, {**claims_of(grant.access_token), "args_digest": digest})
    claims = verify(token, keys=jwks, issuer=broker.url, audience="orders-db", args_digest=digest)
    assert claims.args_digest == digest
    with pytest.raises(InvalidToken):
        verify(token, keys=jwks, issuer=broker.url, audience="orders-db", args_digest="sha256:" + "8" * 64)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


BAD_TOKENS: dict[str, tuple[str, Callable[[dict[str, Any], tuple[str, str], str], str]]] = {
    "alg none": (
        "unsupported_alg",
        lambda c, k, t: f"{_b64({'alg': 'none', 'typ': 'at+jwt', 'kid': k[1]})}.{_b64(c)}.",
    ),
    "HS256 keyed with the public JWK": (
        "unsupported_alg",
        lambda c, k, t: jwt.encode(
            c,
            "the-public-jwk-used-as-an-hmac-secret-by-an-attacker",
            algorithm="HS256",
            headers={"kid": k[1], "typ": "at+jwt"},
        ),
    ),
    "typ JWT (not an access token)": ("wrong_type", lambda c, k, t: forge(k, c, typ="JWT")),
    "no typ": ("wrong_type", lambda c, k, t: jwt.encode(c, k[0], algorithm="ES256", headers={"kid": k[1]})),
    "unknown kid": ("unknown_key", lambda c, k, t: forge((k[0], "not-a-key"), c)),
    "wrong issuer": ("wrong_issuer", lambda c, k, t: forge(k, {**c, "iss": "https://evil.example"})),
    "expired": (
        "expired",
        lambda c, k, t: forge(k, {**c, "iat": int(time.time()) - 600, "exp": int(time.time()) - 60}),
    ),
    "not yet valid": ("not_yet_valid", lambda c, k, t: forge(k, {**c, "iat": int(time.time()) + 600})),
    "no client_id": (
        "missing_claim",
        lambda c, k, t: forge(k, {x: v for x, v in c.items() if x != "client_id"}),
    ),
    "client_id is not the current actor": (
        "invalid_claim",
        lambda c, k, t: forge(k, {**c, "client_id": SUB_AGENT}),
    ),
    "tampered payload": (
        "bad_signature",
        lambda c, k, t: f"{t.split('.')[0]}.{_b64({**c, 'scope': 'tool:demo:deploy'})}.{t.split('.')[2]}",
    ),
    "garbage": ("malformed", lambda c, k, t: "not.a.jwt"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_when_the_token_is_bad_then_it_is_refused_with_a_stable_reason(
    case: str, rs: ResourceServer, signing_key: tuple[str, str], grant: Grant
) -> None:
    reason, make = BAD_TOKENS[case]
    token = make(claims_of(grant.access_token), signing_key, grant.access_token)
    with pytest.raises(InvalidToken) as caught:
        rs.verify(token)
    assert caught.value.reason == reason
    assert caught.value.status == 401
    assert token not in str(caught.value)


def test_when_a_jwt_svid_is_presented_as_an_access_token_then_it_is_refused(
    rs: ResourceServer, broker: Broker
) -> None:
    svid = DevTrustDomain(AGENT, home=broker.home).jwt_svid("orders-db")
    with pytest.raises(InvalidToken) as caught:
        rs.verify(svid)
    assert caught.value.reason in ("wrong_type", "unknown_key")
