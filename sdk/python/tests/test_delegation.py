"""Delegation end to end: an offer redeemed by a second identity with its own SVID (RFC 8693)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from grantline import AccessDenied, Grantline, InvalidRequest, InvalidScope, QuotaExceeded, Task
from tests.conftest import AGENT, SUB_AGENT, TD
from tests.test_agent import count_orders, login_fails, wait_until


def test_when_the_sub_agent_redeems_with_its_own_identity_then_it_holds_a_narrower_child_grant(
    agent: Grantline, sub_agent: Grantline, auditor: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    parent = agent.grants.request(task.id, scopes=["db:demo:read", "kv:demo/api-key"], audience="orders-db")
    offer = agent.grants.delegate(parent.grant_id, to=SUB_AGENT, scopes=["db:demo:read"], ttl="2m", budget=2)
    assert offer.to == SUB_AGENT
    assert offer.delegation_token not in repr(offer)

    child = sub_agent.grants.redeem(offer)
    assert child.grant_id != parent.grant_id
    assert child.scopes == ["db:demo:read"]
    assert child.issued_token_type == "urn:ietf:params:oauth:token-type:access_token"
    assert count_orders(child.database("db:demo:read")) == 3

    (root,) = auditor.tasks.lineage(task.id)["grants"]
    assert root["grant_id"] == parent.grant_id
    (hop,) = root["children"]
    assert (hop["grant_id"], hop["parent_id"], hop["holder"]) == (child.grant_id, parent.grant_id, SUB_AGENT)
    path = auditor.grants.lineage(child.grant_id)["path"]
    assert [node["holder"] for node in path] == [AGENT, SUB_AGENT]


def test_when_another_workload_redeems_the_offer_then_it_is_refused(
    agent: Grantline, make_client: Callable[[str], Grantline], open_task: Callable[..., Task]
) -> None:
    task = open_task()
    parent = agent.grants.request(task.id, scopes=["db:demo:read"], audience="orders-db")
    offer = agent.grants.delegate(parent.grant_id, to=SUB_AGENT, scopes=["db:demo:read"])
    intruder = make_client(f"{TD}/agent/intruder")
    with pytest.raises(InvalidRequest):
        intruder.grants.redeem(offer.delegation_token)


def test_when_an_offer_is_redeemed_twice_then_the_second_is_refused(
    agent: Grantline, sub_agent: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    parent = agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-db")
    offer = agent.grants.delegate(parent.grant_id, to=SUB_AGENT, scopes=["kv:demo/api-key"], budget=1)
    sub_agent.grants.redeem(offer)
    with pytest.raises(InvalidRequest):
        sub_agent.grants.redeem(offer)


def test_when_the_sub_agent_widens_or_redelegates_then_it_is_refused(
    agent: Grantline, sub_agent: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    parent = agent.grants.request(task.id, scopes=["db:demo:read"], audience="orders-db")
    with pytest.raises(InvalidScope):
        agent.grants.delegate(parent.grant_id, to=SUB_AGENT, scopes=["kv:demo/api-key"], budget=1)
    offer = agent.grants.delegate(
        parent.grant_id, to=SUB_AGENT, scopes=["db:demo:read"], budget=1, may_redelegate=False
    )
    child = sub_agent.grants.redeem(offer)
    with pytest.raises(AccessDenied):
        sub_agent.grants.delegate(child.grant_id, to=f"{TD}/agent/third", scopes=["db:demo:read"])


def test_when_a_delegation_asks_more_budget_than_is_left_then_quota_exceeded(
    agent: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    parent = agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-db")
    with pytest.raises(QuotaExceeded) as caught:
        agent.grants.delegate(parent.grant_id, to=SUB_AGENT, scopes=["kv:demo/api-key"], budget=10_000)
    assert caught.value.limit == "budget"


def test_when_the_parent_is_revoked_then_the_child_and_its_login_die_too(
    agent: Grantline, sub_agent: Grantline, resource_client: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    parent = agent.grants.request(task.id, scopes=["db:demo:read"], audience="orders-db")
    child = sub_agent.grants.redeem(
        agent.grants.delegate(parent.grant_id, to=SUB_AGENT, scopes=["db:demo:read"], budget=1)
    )
    creds = child.database("db:demo:read")
    assert count_orders(creds) == 3

    result = agent.grants.revoke(parent.grant_id, reason="subtask done")
    assert set(result.revoked) == {parent.grant_id, child.grant_id}
    assert resource_client.introspect(child.access_token) == {"active": False}
    wait_until(lambda: login_fails(creds), timeout=15)


def test_when_a_grant_is_introspected_then_the_act_chain_names_every_hop(
    agent: Grantline, sub_agent: Grantline, resource_client: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    parent = agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-db")
    child = sub_agent.grants.redeem(
        agent.grants.delegate(parent.grant_id, to=SUB_AGENT, scopes=["kv:demo/api-key"], budget=1)
    )
    answer = resource_client.introspect(child.access_token)
    assert answer["active"] is True
    assert answer["client_id"] == SUB_AGENT
    assert answer["act"]["sub"] == SUB_AGENT
    assert answer["act"]["act"]["sub"] == AGENT
    assert answer["task_id"] == task.id
