"""RFC 9728 metadata, the WWW-Authenticate challenge, and the ASGI/WSGI middleware on live tokens."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest

from grantline import Grantline, InsufficientScope, InvalidToken, Task
from grantline.kit import (
    CLAIMS_KEY,
    GrantlineASGIMiddleware,
    GrantlineWSGIMiddleware,
    ResourceServer,
    metadata_url,
    protected_resource_metadata,
    www_authenticate,
)
from tests.conftest import AGENT

RESOURCE = "https://orders.example/mcp"


def test_when_the_resource_has_a_path_then_the_metadata_url_inserts_the_well_known_suffix() -> None:
    assert metadata_url(RESOURCE) == "https://orders.example/.well-known/oauth-protected-resource/mcp"
    assert (
        metadata_url("https://orders.example/")
        == "https://orders.example/.well-known/oauth-protected-resource"
    )
    for bad in ("http://orders.example/mcp", "https://orders.example/mcp#x", "orders"):
        with pytest.raises(ValueError, match="resource identifier"):
            metadata_url(bad)


def test_when_metadata_is_built_then_it_names_the_authorization_server() -> None:
    assert protected_resource_metadata(
        RESOURCE, authorization_servers=["https://grantline.example"], scopes_supported=["mcp:orders:read"]
    ) == {
        "resource": RESOURCE,
        "authorization_servers": ["https://grantline.example"],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["mcp:orders:read"],
    }


def test_when_a_challenge_is_built_then_it_points_to_the_metadata_and_quotes_safely() -> None:
    assert www_authenticate(RESOURCE) == (
        'Bearer resource_metadata="https://orders.example/.well-known/oauth-protected-resource/mcp"'
    )
    err = InvalidToken('bad "token"\r\n', details={"reason": "x"})
    assert (
        www_authenticate(None, error=err)
        == 'Bearer error="invalid_token", error_description="bad \\"token\\""'
    )
    scope = InsufficientScope("needs more", details={"scope": "mcp:orders:read"})
    assert 'error="insufficient_scope"' in www_authenticate(RESOURCE, error=scope)
    assert 'scope="mcp:orders:read"' in www_authenticate(RESOURCE, error=scope)


@pytest.fixture
def rs(resource_client: Grantline) -> Iterator[ResourceServer]:
    with ResourceServer(
        resource_client,
        audience="orders-db",
        resource="http://127.0.0.1/orders",
        scopes_supported=["kv:demo/api-key"],
    ) as server:
        yield server


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("content-type", "application/json")])
    return [json.dumps({"client_id": environ[CLAIMS_KEY].client_id}).encode()]


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    body = json.dumps({"client_id": scope["state"][CLAIMS_KEY].client_id}).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


def call_both(rs: ResourceServer, path: str, token: str | None, scopes: list[str]) -> list[httpx.Response]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    wsgi = GrantlineWSGIMiddleware(wsgi_app, rs, scopes=scopes)
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi), base_url="http://127.0.0.1") as client:
        via_wsgi = client.get(path, headers=headers)

    async def via_asgi() -> httpx.Response:
        asgi = GrantlineASGIMiddleware(asgi_app, rs, scopes=scopes)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://127.0.0.1"
        ) as c:
            return await c.get(path, headers=headers)

    return [via_wsgi, asyncio.run(via_asgi())]


def test_when_the_metadata_path_is_asked_then_both_middlewares_serve_it(rs: ResourceServer) -> None:
    for response in call_both(rs, "/.well-known/oauth-protected-resource/orders", None, []):
        assert response.status_code == 200
        assert response.json()["resource"] == "http://127.0.0.1/orders"
        assert response.json()["authorization_servers"] == [rs.issuer]


def test_when_no_token_comes_then_401_points_to_the_metadata(rs: ResourceServer) -> None:
    for response in call_both(rs, "/orders", None, []):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith(
            'Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource/orders"'
        )


def test_when_the_token_is_good_then_the_app_sees_the_claims_and_after_close_401(
    rs: ResourceServer, orchestrator: Grantline, agent: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    grant = agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-db")
    for response in call_both(rs, "/orders", grant.access_token, ["kv:demo/api-key"]):
        assert response.status_code == 200
        assert response.json() == {"client_id": AGENT}
    for response in call_both(rs, "/orders", grant.access_token, ["db:demo:read"]):
        assert response.status_code == 403
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]

    orchestrator.tasks.close(task.id)
    deadline = time.monotonic() + 5
    while any(r.status_code == 200 for r in call_both(rs, "/orders", grant.access_token, [])):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    for response in call_both(rs, "/orders", grant.access_token, []):
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
        assert grant.access_token not in response.text
