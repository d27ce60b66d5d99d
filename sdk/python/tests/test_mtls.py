"""mTLS with X509-SVIDs: the client certificate is the identity, and tokens are bound to it (RFC 8705)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from grantline import Grantline, InvalidToken, Task, X509SvidFiles
from grantline.kit import ResourceServer
from tests.broker_process import Broker
from tests.conftest import AGENT, SUB_AGENT


def x509_svid(broker: Broker, spiffe_id: str, directory: Path) -> X509SvidFiles:
    broker.node("dev", "x509", spiffe_id, "--out", str(directory))
    return X509SvidFiles(directory / "svid.pem", directory / "svid.key", server_ca=broker.server_ca)


def test_when_the_agent_comes_over_mtls_then_its_tokens_are_bound_to_its_certificate(
    broker: Broker, resource_client: Grantline, open_task: Callable[..., Task], tmp_path: Path
) -> None:
    agent_svid = x509_svid(broker, AGENT, tmp_path / "agent")
    other_svid = x509_svid(broker, SUB_AGENT, tmp_path / "other")
    task = open_task()
    with Grantline(broker.tls_url, mtls=agent_svid) as agent:
        grant = agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-db")
    cert = Path(agent_svid.cert).read_bytes()

    rs = ResourceServer(resource_client, audience="orders-db", follow_revocations=False)
    claims = rs.verify(grant.access_token, client_cert=cert)
    assert claims.cert_thumbprint == agent_svid.thumbprint()
    assert claims.client_id == AGENT
    for presented in (None, Path(other_svid.cert).read_bytes()):
        with pytest.raises(InvalidToken) as caught:
            rs.verify(grant.access_token, client_cert=presented)
        assert caught.value.reason == "cert_binding"


def test_when_the_sub_agent_redeems_over_mtls_then_its_certificate_is_the_actor(
    broker: Broker, agent: Grantline, open_task: Callable[..., Task], tmp_path: Path
) -> None:
    task = open_task()
    parent = agent.grants.request(task.id, scopes=["kv:demo/api-key"], audience="orders-db")
    offer = agent.grants.delegate(parent.grant_id, to=SUB_AGENT, scopes=["kv:demo/api-key"], budget=1)
    sub_svid = x509_svid(broker, SUB_AGENT, tmp_path / "sub")
    with Grantline(broker.tls_url, mtls=sub_svid) as sub_agent:
        child = sub_agent.grants.redeem(offer)
        assert child.kv("kv:demo/api-key")["api_key"]
        sub_agent.grants.revoke(child.grant_id)
