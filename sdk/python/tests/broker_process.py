"""Starts the real broker (`node bin/grantline.js serve`) for the test session, and stops it after."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from tests.pki import write_server_cert

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Broker:
    url: str
    tls_url: str
    home: Path
    server_ca: Path
    log: Path

    def node(self, *args: str) -> str:
        """Runs the `grantline` CLI against this broker's home (e.g. `dev x509`)."""
        return grantline_cli(*args, home=self.home)


def grantline_cli(*args: str, home: Path) -> str:
    env = {**os.environ, "GRANTLINE_HOME": str(home)}
    done = subprocess.run(
        ["node", "bin/grantline.js", *args], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


SOURCES = ("server", "migrations", "sdk/typescript/src")


def _newest_source() -> float:
    return max(
        (f.stat().st_mtime for d in SOURCES for f in (REPO / d).rglob("*") if f.is_file()),
        default=0.0,
    )


def ensure_built() -> None:
    """Builds dist/ when it is missing or older than any source: a stale build would test old code."""
    built = REPO / "dist" / "server" / "main.js"
    if not built.exists() or built.stat().st_mtime < _newest_source():
        subprocess.run(["npm", "run", "build"], cwd=REPO, check=True)


@contextmanager
def test_database() -> Iterator[str | None]:
    """A fresh database on TEST_DATABASE_URL's server when it is set (dropped after), else None: the
    broker then starts its embedded PostgreSQL under GRANTLINE_HOME."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield None
        return
    import psycopg

    name = f"grantline_py_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"create database {name}")
    parts = urlsplit(server)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"drop database if exists {name} with (force)")


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the broker exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the broker was not ready within {timeout}s:\n{log.read_text()[-4000:]}")


@contextmanager
def running_broker(workdir: Path) -> Iterator[Broker]:
    ensure_built()
    home = workdir / "home"
    home.mkdir()
    port, tls_port = free_port(), free_port()
    server_ca, cert, key = write_server_cert(workdir / "tls")
    log = workdir / "broker.log"
    with test_database() as database_url:
        env = {
            **os.environ,
            "GRANTLINE_HOME": str(home),
            "GRANTLINE_PORT": str(port),
            "GRANTLINE_TLS_PORT": str(tls_port),
            "GRANTLINE_TLS_CERT": str(cert),
            "GRANTLINE_TLS_KEY": str(key),
            "GRANTLINE_LOG_LEVEL": "warn",
        }
        if database_url:
            env["DATABASE_URL"] = database_url
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["node", "bin/grantline.js", "serve"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, process, log)
            yield Broker(url, f"https://127.0.0.1:{tls_port}", home, server_ca, log)
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
