"""MCP authorization with the Python SDK: RFC 8707 resources, RFC 9207 `iss`, and discovery of the
authorization server from a resource's RFC 9728 metadata (a WSGI server behind the kit's middleware)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import jwt
import pytest

from grantline import (
    DevTrustDomain,
    Grantline,
    InvalidTarget,
    IssuerMismatch,
    Task,
    discover_authorization_server,
)
from grantline.kit import GrantlineWSGIMiddleware, ResourceServer
from tests.broker_process import Broker
from tests.conftest import AGENT, SUB_AGENT

ORDERS = "https://orders.example/mcp"
BILLING = "https://billing.example/mcp"


def aud(token: str) -> Any:
    return jwt.decode(token, options={"verify_signature": False})["aud"]


def test_when_a_grant_names_resources_then_they_are_its_audience(
    agent: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task(audiences=[ORDERS, BILLING])
    assert (
        aud(agent.grants.request(task.id, scopes=["kv:demo/api-key"], resource=ORDERS).access_token) == ORDERS
    )
    both = agent.grants.request(task.id, scopes=["kv:demo/api-key"], resource=[ORDERS, BILLING])
    assert aud(both.access_token) == [ORDERS, BILLING]
    with pytest.raises(InvalidTarget):
        agent.grants.request(task.id, scopes=["kv:demo/api-key"], resource=["https://elsewhere.example/mcp"])
    with pytest.raises(ValueError, match="either audience or resource"):
        agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="x", resource=ORDERS)


def test_when_a_delegate_redeems_with_resource_then_its_token_narrows_to_it(
    agent: Grantline, sub_agent: Grantline, open_task: Callable[..., Task]
) -> None:
    task = open_task(audiences=[ORDERS, BILLING])
    parent = agent.grants.request(task.id, scopes=["kv:demo/api-key"], resource=[ORDERS, BILLING])
    offer = agent.grants.delegate(parent.grant_id, to=SUB_AGENT, scopes=["kv:demo/api-key"], budget=1)
    child = sub_agent.grants.redeem(offer, resource=[BILLING])
    assert aud(child.access_token) == BILLING
    again = agent.grants.delegate(parent.grant_id, to=SUB_AGENT, scopes=["kv:demo/api-key"], budget=1)
    with pytest.raises(InvalidTarget):
        sub_agent.grants.redeem(again, resource=["https://elsewhere.example/mcp"])


def test_when_the_client_knows_the_issuer_then_grant_answers_must_name_it(
    broker: Broker, open_task: Callable[..., Task]
) -> None:
    task = open_task()
    identity = DevTrustDomain(AGENT, home=broker.home)
    with Grantline(broker.url, identity=identity, issuer=broker.url) as right:
        assert right.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-api").grant_id
    with Grantline(broker.url, identity=identity, issuer="https://other-as.example") as wrong:
        with pytest.raises(IssuerMismatch):
            wrong.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-api")
        with pytest.raises(IssuerMismatch):
            wrong.grants.request(task.id, scopes=["kv:demo/api-key"], audience="not-declared")


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def tool(resource_client: Grantline) -> Iterator[str]:
    """A WSGI tool at http://127.0.0.1:<port>/mcp behind the kit (RFC 9728 metadata, 401 challenges)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("content-type", "application/json")])
        return [json.dumps({"ok": True}).encode()]

    guarded: list[GrantlineWSGIMiddleware] = []
    server = make_server("127.0.0.1", 0, lambda e, s: guarded[0](e, s), handler_class=_Quiet)
    url = f"http://127.0.0.1:{server.server_port}/mcp"
    rs = ResourceServer(resource_client, audience=url, resource=url, scopes_supported=["kv:demo/api-key"])
    guarded.append(GrantlineWSGIMiddleware(app, rs.start(), scopes=["kv:demo/api-key"]))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        rs.close()


def test_when_an_agent_discovers_the_tool_then_it_finds_grantline_and_its_token_works(
    broker: Broker, tool: str, open_task: Callable[..., Task]
) -> None:
    found = discover_authorization_server(tool)
    assert found.resource["resource"] == tool
    assert found.issuer == broker.url
    assert found.authorization_server["authorization_response_iss_parameter_supported"] is True
    task = open_task(audiences=[tool])
    with Grantline(found.issuer, identity=DevTrustDomain(AGENT, home=broker.home), issuer=found.issuer) as a:
        grant = a.grants.request(task.id, scopes=["kv:demo/api-key"], resource=[tool])
    assert httpx.get(tool, headers={"authorization": grant.authorization}).status_code == 200
    assert httpx.get(tool).status_code == 401
