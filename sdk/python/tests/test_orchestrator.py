"""Orchestrator calls against the live broker: tasks, approvals, receipts, lineage, typed errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from grantline import (
    AccessDenied,
    Conflict,
    Grantline,
    InvalidRequest,
    Limits,
    NotFound,
    QuotaExceeded,
    Task,
)
from tests.conftest import AGENT, ORCHESTRATOR


def test_when_a_task_is_opened_then_it_can_be_read_listed_and_closed(
    orchestrator: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task(context={"task_type": "analysis", "risk_score": 10})
    assert task.status == "open"
    assert task.owner == ORCHESTRATOR
    assert task.agents == [AGENT]
    assert task.limits == Limits(budget=50, max_depth=2)
    assert task.context["task_type"] == "analysis"

    assert orchestrator.tasks.get(task.id).id == task.id
    assert task.id in [t.id for t in orchestrator.tasks.list(status="open")]

    receipt = orchestrator.tasks.close(task.id, reason="done")
    assert receipt.task_id == task.id
    assert receipt.status in ("closing", "closed")
    assert orchestrator.tasks.get(task.id).status in ("closing", "closed")
    # Close is idempotent: a second close answers the receipt again.
    assert orchestrator.tasks.close(task.id).task_id == task.id


def test_when_an_approval_is_recorded_then_it_names_scope_approver_and_digest(
    approver: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    digest = "sha256:" + "ab" * 32
    approval = approver.tasks.approve(
        task.id, scope="tool:demo:deploy", approver="alice@example.com", single_use=True, args_digest=digest
    )
    assert (approval.task_id, approval.scope, approval.approver) == (
        task.id,
        "tool:demo:deploy",
        "alice@example.com",
    )
    assert approval.single_use is True
    assert approval.args_digest == digest


def test_when_a_grant_was_issued_then_receipt_and_lineage_show_it(
    orchestrator: Grantline, agent: Grantline, auditor: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    grant = agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-db")
    receipt = orchestrator.tasks.receipt(task.id)
    assert [g["grant_id"] for g in receipt.grants] == [grant.grant_id]
    lineage = auditor.tasks.lineage(task.id)
    assert lineage["task"]["id"] == task.id
    assert [g["grant_id"] for g in lineage["grants"]] == [grant.grant_id]
    assert lineage["grants"][0]["holder"] == AGENT
    path = auditor.grants.lineage(grant.grant_id)
    assert grant.grant_id in str(path)


def test_when_the_body_is_invalid_then_invalid_request_names_the_field(orchestrator: Grantline) -> None:
    with pytest.raises(InvalidRequest) as caught:
        orchestrator.tasks.open(purpose="x", agents=["not-a-spiffe-id"], scopes=["db:demo:read"])
    assert caught.value.status == 400
    assert caught.value.code == "invalid_request"
    assert "agents" in str(caught.value.details) + caught.value.description


def test_when_an_agent_opens_a_task_then_access_denied_carries_the_reasons(agent: Grantline) -> None:
    with pytest.raises(AccessDenied) as caught:
        agent.tasks.open(purpose="not mine to open", agents=[AGENT], scopes=["db:demo:read"])
    assert caught.value.status == 403


def test_when_a_task_does_not_exist_then_not_found(orchestrator: Grantline) -> None:
    with pytest.raises(NotFound) as caught:
        orchestrator.tasks.get("00000000-0000-4000-8000-000000000000")
    assert caught.value.status == 404


def test_when_the_task_is_closed_then_a_grant_request_is_a_conflict(
    orchestrator: Grantline, agent: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    orchestrator.tasks.close(task.id)
    with pytest.raises(Conflict) as caught:
        agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-db")
    assert caught.value.details["task_status"] in ("closing", "closed")


def test_when_the_budget_is_spent_then_quota_exceeded_names_the_limit(
    agent: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task(limits=Limits(budget=1))
    agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-db")
    with pytest.raises(QuotaExceeded) as caught:
        agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-db")
    assert caught.value.limit == "budget"
    assert caught.value.status == 429
