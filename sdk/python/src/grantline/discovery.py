"""How an agent finds who issues tokens for a resource (MCP authorization): RFC 9728, then RFC 8414."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from .errors import GrantlineError
from .kit.metadata import metadata_url

_CHALLENGE = re.compile(r'resource_metadata="([^"]+)"')


class DiscoveryError(GrantlineError):
    """The resource's metadata or its authorization server's could not be found or do not match."""

    code = "discovery_failed"


@dataclass(frozen=True)
class Discovered:
    #: The RFC 9728 protected-resource metadata of the resource.
    resource: dict[str, Any]
    #: The RFC 8414 metadata of its (first) authorization server.
    authorization_server: dict[str, Any]

    @property
    def issuer(self) -> str:
        return str(self.authorization_server["issuer"])


def _get_json(http: httpx.Client, url: str) -> dict[str, Any]:
    try:
        response = http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as err:
        raise DiscoveryError(f"GET {url} failed: {err!r}") from err
    if response.status_code != 200:
        raise DiscoveryError(f"GET {url} answered {response.status_code}")
    body: dict[str, Any] = response.json()
    return body


def as_metadata_url(issuer: str) -> str:
    """RFC 8414 §3.1: the well-known suffix goes between the host and the issuer's path."""
    parts = urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{parts.path.rstrip('/')}"


def discover_authorization_server(resource_url: str, *, timeout: float = 10.0) -> Discovered:
    """Calls the resource without a token and reads ``resource_metadata`` from the 401 challenge (RFC
    9728 §5.1; else the well-known URL), fetches the metadata and checks its ``resource`` is the URL
    asked about (§3.3), then fetches the first authorization server's RFC 8414 metadata and checks its
    ``issuer`` (RFC 8414 §3.3)."""
    with httpx.Client(timeout=timeout) as http:
        try:
            probe = http.post(
                resource_url,
                json={},
                headers={"Accept": "application/json, text/event-stream"},
            )
        except httpx.HTTPError as err:
            raise DiscoveryError(f"cannot reach {resource_url}: {err!r}") from err
        found = (
            _CHALLENGE.search(probe.headers.get("www-authenticate", "")) if probe.status_code == 401 else None
        )
        prm_url = found.group(1) if found else metadata_url(resource_url)
        resource = _get_json(http, prm_url)
        if resource.get("resource") != resource_url:
            raise DiscoveryError(
                f"the metadata at {prm_url} is for {resource.get('resource')}, not {resource_url}"
            )
        servers = resource.get("authorization_servers") or []
        if not servers:
            raise DiscoveryError(f"{prm_url} names no authorization server")
        as_url = as_metadata_url(servers[0])
        authorization_server = _get_json(http, as_url)
        if authorization_server.get("issuer") != servers[0]:
            raise DiscoveryError(
                f"{as_url} says its issuer is {authorization_server.get('issuer')}, not {servers[0]}"
            )
        return Discovered(resource=resource, authorization_server=authorization_server)
