"""Fixtures: one live broker for the session, clients for each role, and a task factory."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grantline import DevTrustDomain, Grantline, Limits, Task
from tests.broker_process import Broker, running_broker

TD = "spiffe://dev.grantline.local"
ORCHESTRATOR = f"{TD}/orchestrator/planner"
AGENT = f"{TD}/agent/researcher"
SUB_AGENT = f"{TD}/agent/summariser"
RESOURCE = f"{TD}/resource/orders-api"
AUDITOR = f"{TD}/auditor/compliance"
# An approver workload records a person's consent; the orchestrator that opened a task never approves.
APPROVER = f"{TD}/approver/alice-desk"
SCOPES = ["db:demo:read", "kv:demo/api-key", "tool:demo:deploy"]

FIGURES: list[str] = []


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    # Not pytest's tmp_path: its base is 0700 for root, and the embedded PostgreSQL runs initdb as an
    # unprivileged user that must reach GRANTLINE_HOME.
    workdir = Path(tempfile.mkdtemp(prefix="grantline-py-"))
    workdir.chmod(0o755)
    try:
        with running_broker(workdir) as b:
            yield b
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def client_for(broker: Broker, spiffe_id: str) -> Grantline:
    return Grantline(broker.url, identity=DevTrustDomain(spiffe_id, home=broker.home))


@pytest.fixture(scope="session")
def make_client(broker: Broker) -> Iterator[Callable[[str], Grantline]]:
    clients: list[Grantline] = []

    def make(spiffe_id: str) -> Grantline:
        clients.append(client_for(broker, spiffe_id))
        return clients[-1]

    yield make
    for c in clients:
        c.close()


@pytest.fixture(scope="session")
def orchestrator(make_client: Callable[[str], Grantline]) -> Grantline:
    return make_client(ORCHESTRATOR)


@pytest.fixture(scope="session")
def agent(make_client: Callable[[str], Grantline]) -> Grantline:
    return make_client(AGENT)


@pytest.fixture(scope="session")
def sub_agent(make_client: Callable[[str], Grantline]) -> Grantline:
    return make_client(SUB_AGENT)


@pytest.fixture(scope="session")
def resource_client(make_client: Callable[[str], Grantline]) -> Grantline:
    return make_client(RESOURCE)


@pytest.fixture(scope="session")
def auditor(make_client: Callable[[str], Grantline]) -> Grantline:
    return make_client(AUDITOR)


@pytest.fixture(scope="session")
def approver(make_client: Callable[[str], Grantline]) -> Grantline:
    return make_client(APPROVER)


@pytest.fixture
def open_task(orchestrator: Grantline) -> Iterator[Callable[..., Task]]:
    """Opens tasks for the test (the agent listed, the demo scopes) and closes them after."""
    opened: list[Task] = []

    def open_(**overrides: object) -> Task:
        args: dict[str, object] = {
            "purpose": f"sdk test {secrets.token_hex(3)}",
            "agents": [AGENT],
            "delegates": [SUB_AGENT],
            "scopes": SCOPES,
            "ttl": "30m",
            "limits": Limits(budget=50, max_depth=2),
        }
        args.update(overrides)
        task = orchestrator.tasks.open(**args)  # type: ignore[arg-type]
        opened.append(task)
        return task

    yield open_
    for task in opened:
        orchestrator.tasks.close(task.id, reason="test over")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("grantline figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture
def broker_home(broker: Broker) -> Path:
    return broker.home
