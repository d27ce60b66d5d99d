"""The orders agent in Python: it finds Grantline from the MCP tool's RFC 9728 metadata, gets a grant in
its task with the `grantline` SDK (RFC 8707 `resource` = the tool's URL, RFC 9207 `iss` checked), and
calls `count_orders` with the official MCP Python SDK.

    python examples/mcp-orders/python/agent.py --mcp-url http://127.0.0.1:3001/mcp --task <task-id>

Its identity: the SPIFFE Workload API when SPIFFE_ENDPOINT_SOCKET is set, else the dev trust domain in
$GRANTLINE_HOME (as `spiffe://dev.grantline.local/agent/researcher`). With --then-wait-for-close it prints
`ready`, waits for a line on stdin (the orchestrator closed the task), calls again and exits 0 only if
that call is refused with 401 (`npm run example:mcp` drives it so).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from grantline import DevTrustDomain, Grantline, IdentitySource, WorkloadApi, discover_authorization_server

AGENT = "spiffe://dev.grantline.local/agent/researcher"


def say(line: str) -> None:
    print(line, flush=True)


def identity(spiffe_id: str) -> IdentitySource:
    if os.environ.get("SPIFFE_ENDPOINT_SOCKET"):
        return WorkloadApi(spiffe_id=spiffe_id)
    return DevTrustDomain(spiffe_id, home=os.environ.get("GRANTLINE_HOME"))


async def count_orders(mcp_url: str, access_token: str, status: str) -> dict[str, Any]:
    """One MCP session, one `count_orders` call; the Grantline token rides on every request."""
    headers = {"Authorization": f"Bearer {access_token}"}
    async with (
        httpx.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(mcp_url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("count_orders", {"status": status})
        if result.isError or result.structuredContent is None:
            raise RuntimeError(f"count_orders failed: {result.content}")
        return dict(result.structuredContent)


def refused_status(err: BaseException) -> int | None:
    """The HTTP status of the refusal inside what the MCP client raised (it may be an exception group)."""
    if isinstance(err, httpx.HTTPStatusError):
        return err.response.status_code
    for inner in getattr(err, "exceptions", ()):
        status = refused_status(inner)
        if status is not None:
            return status
    return None


async def run(args: argparse.Namespace) -> int:
    found = discover_authorization_server(args.mcp_url)
    say(f"discovered {found.issuer}")
    with Grantline(found.issuer, identity=identity(args.spiffe_id), issuer=found.issuer) as grantline:
        grant = grantline.grants.request(
            args.task,
            scopes=found.resource.get("scopes_supported") or ["mcp:orders:read"],
            resource=[found.resource["resource"]],
            ttl=300,
            context={"tool": "count_orders", "target": found.resource["resource"], "intent": "count open orders"},
        )
        say(f"granted {grant.grant_id} {' '.join(grant.scopes)}")
        say(f"count {(await count_orders(args.mcp_url, grant.access_token, 'open'))['count']}")
        if not args.then_wait_for_close:
            grant.revoke()
            return 0
        say("ready")
        sys.stdin.readline()
        try:
            await count_orders(args.mcp_url, grant.access_token, "open")
        except BaseException as err:  # the MCP client raises exception groups
            status = refused_status(err)
            if status == 401:
                say("refused 401")
                return 0
            say(f"failed otherwise: {err!r}")
            return 1
        say("not refused: the call after close succeeded")
        return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mcp-url", required=True, help="the MCP server's endpoint (the protected resource)")
    parser.add_argument("--task", required=True, help="the task the orchestrator opened with this agent in it")
    parser.add_argument("--spiffe-id", default=AGENT, help=f"this agent's SPIFFE ID (default {AGENT})")
    parser.add_argument("--then-wait-for-close", action="store_true", help=argparse.SUPPRESS)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
