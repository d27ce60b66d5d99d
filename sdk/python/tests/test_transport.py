"""Retries only where they are safe, and errors by code. Pure client logic, driven by scripted answers."""

from __future__ import annotations

import httpx
import pytest

from grantline import (
    BrokerError,
    BrokerUnreachable,
    Grantline,
    InvalidToken,
    RetryPolicy,
    ServerError,
    StaticToken,
    Unavailable,
)
from grantline.errors import error_from_body
from tests.broker_process import free_port

SVID = "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjk5OTk5OTk5OTl9.c2ln"
GRANT = {
    "grant_id": "g1",
    "task_id": "t1",
    "access_token": "a.b.c",
    "token_type": "Bearer",
    "expires_in": 60,
    "scope": "kv:demo/api-key",
    "secrets": [],
}
Answer = httpx.Response | Exception


def scripted(*answers: Answer) -> tuple[Grantline, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = Grantline(
        "http://broker.test",
        identity=StaticToken(SVID),
        retry=RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01),
        http_transport=httpx.MockTransport(handle),
    )
    return client, seen


def unavailable() -> httpx.Response:
    return httpx.Response(503, json={"error": "unavailable", "error_description": "Vault is down"})


def request_grant(client: Grantline) -> object:
    return client.grants.request("t1", scopes=["kv:demo/api-key"], audience="orders-db")


def test_when_a_get_meets_a_503_then_it_is_retried_with_the_svid_each_time() -> None:
    client, seen = scripted(unavailable(), httpx.Response(200, json={"tasks": []}))
    assert client.tasks.list() == []
    assert len(seen) == 2
    assert all(r.headers["authorization"] == f"Bearer {SVID}" for r in seen)


def test_when_a_grant_request_meets_a_503_then_it_is_retried_because_nothing_was_issued() -> None:
    client, seen = scripted(unavailable(), httpx.Response(201, json=GRANT))
    assert request_grant(client).grant_id == "g1"  # type: ignore[attr-defined]
    assert len(seen) == 2


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(500, json={"error": "server_error"}), httpx.ReadTimeout("slow"), httpx.Response(502)],
    ids=["500", "read timeout", "502"],
)
def test_when_a_grant_request_may_have_issued_then_it_is_not_retried(answer: Answer) -> None:
    client, seen = scripted(answer, httpx.Response(201, json=GRANT))
    with pytest.raises((ServerError, BrokerUnreachable)):
        request_grant(client)
    assert len(seen) == 1


def test_when_the_connection_was_never_made_then_even_opening_a_task_is_retried() -> None:
    task = {
        "id": "t1",
        "status": "open",
        "purpose": "p",
        "owner": "o",
        "agents": [],
        "scopes": [],
        "limits": {},
    }
    client, seen = scripted(httpx.ConnectError("refused"), httpx.Response(201, json=task))
    assert client.tasks.open(purpose="p", agents=["a"], scopes=["s"]).id == "t1"
    assert len(seen) == 2


def test_when_opening_a_task_meets_a_503_then_it_is_not_retried_and_the_error_is_typed() -> None:
    client, seen = scripted(unavailable(), unavailable())
    with pytest.raises(Unavailable) as caught:
        client.tasks.open(purpose="p", agents=["a"], scopes=["s"])
    assert len(seen) == 1
    assert (caught.value.code, caught.value.status, caught.value.description) == (
        "unavailable",
        503,
        "Vault is down",
    )


def test_when_every_attempt_fails_then_the_last_error_is_raised() -> None:
    client, seen = scripted(unavailable(), unavailable(), unavailable())
    with pytest.raises(Unavailable):
        client.tasks.get("t1")
    assert len(seen) == 3


def test_when_a_redemption_times_out_then_it_is_not_retried() -> None:
    client, seen = scripted(httpx.ReadTimeout("slow"), httpx.Response(200, json=GRANT))
    with pytest.raises(BrokerUnreachable):
        client.grants.redeem("subject.token.x")
    assert len(seen) == 1
    form = seen[0].content.decode()
    assert "actor_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt" in form


def test_when_the_server_asks_to_retry_after_then_the_delay_follows_it() -> None:
    policy = RetryPolicy(base_delay=0.2, max_delay=5)
    assert policy.delay(0, "3") == 3
    assert policy.delay(0, "60") == 5
    assert 0 <= policy.delay(10) <= 5


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (
            401,
            {"error": "invalid_token", "error_description": "x", "reason": "expired"},
            InvalidToken,
            "invalid_token",
        ),
        (400, {"error": "brand_new_code", "error_description": "x"}, BrokerError, "brand_new_code"),
        (502, b"<html>bad gateway</html>", ServerError, "server_error"),
        (404, None, BrokerError, "not_found"),
    ],
)
def test_when_the_broker_answers_an_error_then_the_class_follows_the_code(
    status: int, body: object, cls: type[BrokerError], code: str
) -> None:
    err = error_from_body(status, body)
    assert type(err) is cls or isinstance(err, cls)
    assert (err.code, err.status) == (code, status)
    if isinstance(err, InvalidToken):
        assert err.reason == "expired"


def test_when_nothing_listens_then_broker_unreachable_after_the_retries() -> None:
    port = free_port()  # closed again at once: connections are refused
    client = Grantline(
        f"http://127.0.0.1:{port}",
        identity=StaticToken(SVID),
        retry=RetryPolicy(attempts=2, base_delay=0.001),
    )
    with pytest.raises(BrokerUnreachable) as caught:
        client.tasks.list()
    assert caught.value.status == 0
    assert str(port) in str(caught.value)
