"""The one HTTP path to the broker: authentication, error mapping and retries where a retry is safe."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote

import httpx

from .errors import BrokerUnreachable, GrantlineError, error_from_body
from .identity import IdentitySource, X509SvidFiles


class Retry(Enum):
    """When a call may be sent again.

    NEVER: only when the request provably never left (the connection was not made).
    IDEMPOTENT: GETs, introspection, close and revoke: also after timeouts, 502/503/504.
    ON_UNAVAILABLE: a grant request: also after a 503, which means nothing was issued (README
    "HTTP API": "503 unavailable ... nothing half-issued"), but never after a timeout, which may
    hide an issued grant.
    """

    NEVER = "never"
    IDEMPOTENT = "idempotent"
    ON_UNAVAILABLE = "on_unavailable"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Exponential backoff with full jitter, or the server's ``Retry-After`` if it asks for less
        than ``max_delay``."""
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), self.max_delay)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))  # noqa: S311


def path_id(value: str) -> str:
    """An id for a URL path. Ids are UUIDs; quoting keeps a stray '/' or '?' from reaching another route."""
    return quote(value, safe="")


_RETRYABLE_STATUS = {502, 503, 504}
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class SvidAuth(httpx.Auth):
    """Sends the caller's JWT-SVID as a Bearer token, fetched from the identity source per request."""

    def __init__(self, identity: IdentitySource, audience: str) -> None:
        self._identity = identity
        self._audience = audience

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._identity.jwt_svid(self._audience)}"
        yield request


class Transport:
    """Wraps an ``httpx.Client`` for the broker at ``base_url``."""

    def __init__(
        self,
        base_url: str,
        *,
        identity: IdentitySource | None,
        audience: str,
        mtls: X509SvidFiles | None,
        timeout: float,
        retry: RetryPolicy,
        http_transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"the broker URL must be http:// or https://, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.identity = identity
        self.audience = audience
        self.retry = retry
        self._sleep = sleep
        self.http = httpx.Client(
            base_url=self.base_url,
            auth=SvidAuth(identity, audience) if identity else None,
            verify=mtls.ssl_context() if mtls else True,
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "grantline-python/0.1"},
            transport=http_transport,
        )

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        retry: Retry,
        json: Any = None,
        form: Mapping[str, str | list[str]] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Sends the call, retrying as ``retry`` allows; returns the parsed JSON body (None if empty)."""
        attempt = 0
        while True:
            try:
                response = self.http.request(method, path, json=json, data=form, params=params)
            except httpx.HTTPError as err:
                may_retry = isinstance(err, _NOT_SENT) or (
                    retry is Retry.IDEMPOTENT and isinstance(err, httpx.TransportError)
                )
                if may_retry and attempt + 1 < self.retry.attempts:
                    self._sleep(self.retry.delay(attempt))
                    attempt += 1
                    continue
                raise BrokerUnreachable(f"cannot reach the broker at {self.base_url}: {err!r}") from err
            if response.is_success:
                return _body(response)
            if self._should_retry(retry, response.status_code) and attempt + 1 < self.retry.attempts:
                self._sleep(self.retry.delay(attempt, response.headers.get("retry-after")))
                attempt += 1
                continue
            raise error_from_body(response.status_code, _body(response))

    @staticmethod
    def _should_retry(retry: Retry, status: int) -> bool:
        if retry is Retry.IDEMPOTENT:
            return status in _RETRYABLE_STATUS
        return retry is Retry.ON_UNAVAILABLE and status == 503


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        if response.is_success:
            raise GrantlineError("the broker answered with a body that is not JSON") from None
        return None
