"""Identity sources: each one's SVIDs are accepted by the live broker, and refreshed before expiry."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import jwt
import pytest

from grantline import (
    DevTrustDomain,
    Grantline,
    IdentityError,
    InvalidToken,
    StaticToken,
    SvidFile,
    WorkloadApi,
)
from tests.broker_process import Broker, grantline_cli
from tests.conftest import ORCHESTRATOR, TD
from tests.workload_api_server import WorkloadApiServer


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_when_the_dev_trust_domain_signs_then_the_svid_has_the_broker_s_shape(broker: Broker) -> None:
    token = DevTrustDomain(ORCHESTRATOR, home=broker.home, ttl_seconds=120).jwt_svid("grantline")
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "ES256"
    assert header["typ"] == "JWT"
    assert header["kid"]
    assert claims["sub"] == ORCHESTRATOR
    assert claims["aud"] == ["grantline"]
    assert claims["exp"] - claims["iat"] == 120
    with Grantline(broker.url, identity=StaticToken(token)) as client:
        assert isinstance(client.tasks.list(), list)


def test_when_half_the_svid_life_has_passed_then_a_new_one_is_signed(broker: Broker) -> None:
    clock = FakeClock()
    source = DevTrustDomain(ORCHESTRATOR, home=broker.home, ttl_seconds=300, clock=clock)
    first = source.jwt_svid("grantline")
    clock.now += 149
    assert source.jwt_svid("grantline") == first
    clock.now += 2
    assert source.jwt_svid("grantline") != first
    assert source.jwt_svid("other-audience") != first


def test_when_the_id_or_home_is_wrong_then_the_dev_source_says_why(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match="dev trust domain only"):
        DevTrustDomain("spiffe://example.org/agent/a", home=tmp_path)
    with pytest.raises(IdentityError, match="lowercase"):
        DevTrustDomain("spiffe://Dev.grantline.local/agent/a", home=tmp_path)
    with pytest.raises(IdentityError, match="grantline dev init"):
        DevTrustDomain(f"{TD}/agent/a", home=tmp_path).jwt_svid("grantline")


def test_when_the_svid_file_is_rotated_then_the_new_token_is_sent(broker: Broker, tmp_path: Path) -> None:
    path = tmp_path / "svid.jwt"
    signer = DevTrustDomain(ORCHESTRATOR, home=broker.home, ttl_seconds=60)
    path.write_text(signer.jwt_svid("grantline") + "\n")
    source = SvidFile(path)
    first = source.jwt_svid("grantline")
    with Grantline(broker.url, identity=source) as client:
        client.tasks.list()
        rotated = DevTrustDomain(ORCHESTRATOR, home=broker.home, ttl_seconds=90).jwt_svid("grantline")
        path.write_text(rotated)
        os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
        assert source.jwt_svid("grantline") == rotated != first
        client.tasks.list()


def test_when_the_svid_file_holds_an_expired_token_then_it_is_refused_before_sending(
    broker: Broker, tmp_path: Path
) -> None:
    clock = FakeClock()
    path = tmp_path / "svid.jwt"
    path.write_text(DevTrustDomain(ORCHESTRATOR, home=broker.home, ttl_seconds=30).jwt_svid("grantline"))
    source = SvidFile(path, clock=clock)
    clock.now += 31
    with pytest.raises(IdentityError, match="expired"):
        source.jwt_svid("grantline")


def test_when_a_token_from_another_trust_domain_key_is_sent_then_the_broker_refuses(
    broker: Broker, tmp_path: Path
) -> None:
    other_home = tmp_path / "other"
    grantline_cli("dev", "init", home=other_home)  # another dev trust domain, same name, other key
    forged = DevTrustDomain(ORCHESTRATOR, home=other_home)
    with Grantline(broker.url, identity=forged) as client, pytest.raises(InvalidToken) as caught:
        client.tasks.list()
    assert caught.value.status == 401
    assert caught.value.reason in ("unknown_kid", "bad_signature")


def test_when_the_workload_api_serves_svids_then_the_broker_accepts_them_and_they_are_refreshed(
    broker: Broker,
) -> None:
    # UDS paths are limited to 108 bytes: a short directory, not pytest's deep tmp_path.
    with tempfile.TemporaryDirectory(prefix="wl-") as directory:
        socket_path = Path(directory) / "agent.sock"
        key_file = broker.home / "dev-identity" / "jwt-signing-key.json"
        with WorkloadApiServer(socket_path, key_file, ORCHESTRATOR, ttl_seconds=120) as server:
            clock = FakeClock()
            source = WorkloadApi(server.socket, spiffe_id=ORCHESTRATOR, margin_seconds=10, clock=clock)
            with source, Grantline(broker.url, identity=source) as client:
                client.tasks.list()
                client.tasks.list()
                assert server.servicer.fetches == 1
                clock.now += 61  # past half of the 120 s life
                client.tasks.list()
                assert server.servicer.fetches == 2

            wrong = WorkloadApi(server.socket, spiffe_id=f"{TD}/agent/not-mine")
            with wrong, pytest.raises(IdentityError, match="no JWT-SVID"):
                wrong.jwt_svid("grantline")


def test_when_no_workload_api_socket_exists_then_identity_error() -> None:
    with pytest.raises(IdentityError):
        WorkloadApi("unix:///nonexistent/agent.sock")
