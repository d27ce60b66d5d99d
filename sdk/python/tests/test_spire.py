"""The Python SDK on a real SPIRE agent: `npm run test:real` starts SPIRE and a broker that trusts it,
and hands both over in GRANTLINE_REAL_PY (each actor's Workload API socket is attested as its own uid)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from grantline import Grantline, IdentityError, InvalidToken, WorkloadApi
from grantline.kit import ResourceServer

pytestmark = pytest.mark.spire

RESOURCE_URL = "https://orders.example/api"


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    raw = os.environ.get("GRANTLINE_REAL_PY")
    if not raw:
        pytest.fail("GRANTLINE_REAL_PY is not set: these tests run under npm run test:real")
    stack: dict[str, Any] = json.loads(raw)
    return stack


def source(stack: dict[str, Any], actor: str) -> WorkloadApi:
    a = stack["actors"][actor]
    return WorkloadApi(a["endpoint"], spiffe_id=a["spiffeId"])


@pytest.fixture(scope="module")
def clients(stack: dict[str, Any]) -> Iterator[dict[str, Grantline]]:
    made = {actor: Grantline(stack["broker_url"], identity=source(stack, actor)) for actor in stack["actors"]}
    yield made
    for c in made.values():
        c.close()


def test_when_svids_come_from_spire_then_the_orchestrator_opens_a_task_as_itself(
    stack: dict[str, Any], clients: dict[str, Grantline]
) -> None:
    task = clients["orchestrator"].tasks.open(
        purpose="python on spire",
        agents=[stack["actors"]["agentA"]["spiffeId"]],
        scopes=["kv:demo/api-key"],
        audiences=[RESOURCE_URL],
        ttl="10m",
    )
    assert task.owner == stack["actors"]["orchestrator"]["spiffeId"]
    clients["orchestrator"].tasks.close(task.id, reason="done")


def test_when_agent_a_gets_a_grant_with_its_spire_svid_then_a_kit_on_spire_accepts_it_until_close(
    stack: dict[str, Any], clients: dict[str, Grantline]
) -> None:
    orchestrator, agent = clients["orchestrator"], clients["agentA"]
    task = orchestrator.tasks.open(
        purpose="python kit on spire",
        agents=[stack["actors"]["agentA"]["spiffeId"]],
        scopes=["kv:demo/api-key"],
        audiences=[RESOURCE_URL],
        ttl="10m",
    )
    grant = agent.grants.request(task.id, scopes=["kv:demo/api-key"], resource=[RESOURCE_URL])
    claims = jwt.decode(grant.access_token, options={"verify_signature": False})
    assert claims["client_id"] == stack["actors"]["agentA"]["spiffeId"]
    assert claims["aud"] == RESOURCE_URL
    with ResourceServer(clients["resource"], audience=RESOURCE_URL, resource=RESOURCE_URL, usage=False) as rs:
        assert rs.verify(grant.access_token).jti == grant.grant_id
        orchestrator.tasks.close(task.id, reason="done")
        # Close answers once the revocation is on the feed; the kit hears it a few ms later: bounded wait.
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            try:
                rs.verify(grant.access_token)
            except InvalidToken:
                break
            time.sleep(0.02)
        with pytest.raises(InvalidToken, match=r"revoked|no longer active"):
            rs.verify(grant.access_token)


def test_when_a_workload_asks_for_an_identity_spire_did_not_give_it_then_identity_error(
    stack: dict[str, Any],
) -> None:
    a = stack["actors"]["agentA"]
    wrong = WorkloadApi(a["endpoint"], spiffe_id=stack["actors"]["orchestrator"]["spiffeId"])
    with wrong, pytest.raises(IdentityError, match="no JWT-SVID"):
        wrong.jwt_svid("grantline")
