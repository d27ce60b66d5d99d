"""Agent calls against the live broker: typed secrets, a real database login, revocation on exit."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import pytest

from grantline import (
    AccessDenied,
    DatabaseCredentials,
    Grantline,
    KvSecret,
    Task,
    VaultToken,
)
from tests.conftest import FIGURES


def count_orders(creds: DatabaseCredentials) -> int:
    with psycopg.connect(**creds.connect_kwargs(), connect_timeout=5) as conn:
        row = conn.execute("select count(*) from demo_orders").fetchone()
        assert row is not None
        return int(row[0])


def login_fails(creds: DatabaseCredentials) -> bool:
    try:
        count_orders(creds)
    except psycopg.Error:  # refused login, or a login that may no longer read anything
        return True
    return False


def wait_until(predicate: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``predicate`` held; fails the test after ``timeout``."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not true within {timeout}s")
        time.sleep(0.05)
    return time.monotonic() - start


def test_when_a_grant_is_issued_then_each_secret_is_typed_by_its_kind(
    approver: Grantline, agent: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    approver.tasks.approve(task.id, scope="tool:demo:deploy", approver="alice@example.com")
    grant = agent.grants.request(
        task.id,
        scopes=["db:demo:read", "kv:demo/api-key", "tool:demo:deploy"],
        audience="orders-db",
        ttl="2m",
        context={"tool": "sql", "intent": "count orders"},
    )
    assert grant.task_id == task.id
    assert grant.scopes == ["db:demo:read", "kv:demo/api-key", "tool:demo:deploy"]
    assert 0 < grant.expires_in <= 120
    db = grant.database("db:demo:read")
    assert isinstance(db, DatabaseCredentials)
    assert db.username
    assert db.password
    assert db.lease_id
    kv = grant.kv("kv:demo/api-key")
    assert isinstance(kv, KvSecret)
    assert kv["api_key"].startswith("demo-")
    token = grant.vault_token("tool:demo:deploy")
    assert isinstance(token, VaultToken)
    assert token.token
    assert token.accessor
    # Secret values never show in a repr (logs, tracebacks).
    for text in (repr(grant), repr(db), repr(kv), repr(token)):
        assert db.password not in text
        assert grant.access_token not in text
        assert token.token not in text
    with pytest.raises(TypeError):
        grant.secret("kv:demo/api-key", DatabaseCredentials)


def test_when_the_privileged_scope_has_no_approval_then_access_denied(
    agent: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    with pytest.raises(AccessDenied) as caught:
        agent.grants.request(task.id, scopes=["tool:demo:deploy"], audience="deployer")
    assert caught.value.reasons


def test_when_the_task_closes_then_the_database_login_stops_working(
    orchestrator: Grantline, agent: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    grant = agent.grants.request(task.id, scopes=["db:demo:read"], audience="orders-db")
    creds = grant.database("db:demo:read")
    assert count_orders(creds) == 3
    session = psycopg.connect(**creds.connect_kwargs(), connect_timeout=5)

    orchestrator.tasks.close(task.id, reason="done")
    seconds = wait_until(lambda: login_fails(creds), timeout=15)
    FIGURES.append(f"database login refused {seconds * 1000:.0f} ms after close returned")
    # The session opened before close cannot read either (locked out, then terminated).
    with pytest.raises(psycopg.Error):
        session.execute("select count(*) from demo_orders")
    session.close()


def test_when_the_with_block_raises_then_the_grant_is_revoked_and_the_error_propagates(
    agent: Grantline, resource_client: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    with (  # noqa: PT012 (the block is the code under test: it must run, then raise)
        pytest.raises(RuntimeError, match="tool crashed"),
        agent.grant(task.id, scopes=["kv:demo/api-key"], audience="orders-db") as grant,
    ):
        assert resource_client.introspect(grant.access_token)["active"] is True
        raise RuntimeError("tool crashed")
    assert grant.revoked
    assert resource_client.introspect(grant.access_token) == {"active": False}


def test_when_the_with_block_ends_normally_then_the_grant_is_revoked(
    agent: Grantline, resource_client: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    with agent.grant(task.id, scopes=["db:demo:read"], audience="orders-db") as grant:
        creds = grant.database("db:demo:read")
        assert count_orders(creds) == 3
    assert resource_client.introspect(grant.access_token) == {"active": False}
    wait_until(lambda: login_fails(creds), timeout=15)


def test_when_the_task_was_closed_inside_the_block_then_exit_still_succeeds(
    orchestrator: Grantline, agent: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    with agent.grant(task.id, scopes=["kv:demo/api-key"], audience="orders-db") as grant:
        orchestrator.tasks.close(task.id)
    assert grant.revoked


def test_when_the_holder_revokes_by_token_then_it_is_inactive_and_others_cannot(
    agent: Grantline, sub_agent: Grantline, resource_client: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    grant = agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-db")
    # RFC 7009 §2.2: another client's token is answered like an unknown one (200) and left alone.
    sub_agent.grants.revoke_token(grant.access_token)
    assert resource_client.introspect(grant.access_token)["active"] is True
    agent.grants.revoke_token(grant.access_token)
    assert resource_client.introspect(grant.access_token) == {"active": False}
    agent.grants.revoke_token(grant.access_token)  # RFC 7009 §2.2: 200 for a dead token too
