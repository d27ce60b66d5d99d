"""Action metering with the Python kit: calls are reported in batches, a spent share is revoked by the
broker, and every tool refuses the grant (the reporting one at once, the others through the feed)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from grantline import Grantline, InvalidRequest, InvalidToken, Limits, Task
from grantline.kit import ResourceServer
from tests.conftest import FIGURES, SUB_AGENT

RESOURCE = "https://orders.example/api"


def test_when_a_delegated_share_is_spent_through_the_kit_then_every_tool_refuses_the_grant(
    agent: Grantline,
    sub_agent: Grantline,
    resource_client: Grantline,
    auditor: Grantline,
    open_task: Callable[..., Task],
) -> None:
    task = open_task(audiences=[RESOURCE], limits=Limits(budget=50, max_depth=2, max_actions=100))
    assert task.limits.max_actions == 100
    parent = agent.grants.request(task.id, scopes=["kv:demo/api-key"], resource=RESOURCE)
    offer = agent.grants.delegate(
        parent.grant_id, to=SUB_AGENT, scopes=["kv:demo/api-key"], budget=1, actions=4
    )
    assert offer.actions == 4
    child = sub_agent.grants.redeem(offer)
    metered = ResourceServer(resource_client, audience=RESOURCE, usage_flush_interval=0.05).start()
    other = ResourceServer(resource_client, audience=RESOURCE, usage=False).start()
    try:
        for _ in range(4):
            metered.record_call(metered.verify(child.access_token), tool="count_orders")
        assert metered.meter is not None
        metered.meter.flush()
        with pytest.raises(InvalidToken, match="spent"):
            metered.verify(child.access_token)
        started = time.monotonic()
        while True:
            try:
                other.verify(child.access_token)
            except InvalidToken:
                break
            assert time.monotonic() - started < 5, "the other tool never heard of the revocation"
            time.sleep(0.005)
        waited = 1000 * (time.monotonic() - started)
        FIGURES.append(f"a spent share reached another tool's feed {waited:.0f} ms after the report")
        assert other.verify(parent.access_token).jti == parent.grant_id
    finally:
        metered.close()
        other.close()
    node = auditor.grants.lineage(child.grant_id)["subtree"]
    assert node["status"] == "revoked"
    assert node["actions"] == {"reserved": 4, "spent": 4, "used": 4}


def test_when_a_resource_server_reports_directly_then_the_answer_says_what_is_left(
    agent: Grantline, resource_client: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task(limits=Limits(budget=50, max_actions=10))
    grant = agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-api")
    calls = [{"cost": 2, "at": "2999-01-01T00:00:00Z"}]
    with pytest.raises(InvalidRequest, match="outside the life"):
        resource_client.grants.report_usage(grant.grant_id, calls)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    answer = resource_client.grants.report_usage(grant.grant_id, [{"cost": 3, "at": now}], report_id=None)
    assert answer["counted"] == 1
    assert answer["actions"] == {"pool": "task", "limit": 10, "spent": 3, "remaining": 7}
