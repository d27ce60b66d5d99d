"""The authorization server's signing keys, fetched from its JWKS and refreshed on an unknown ``kid``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from ..errors import BrokerUnreachable


class JwksCache:
    """Keys from ``jwks_uri``, kept ``max_age`` seconds. An unknown ``kid`` (a rotation) triggers one
    refetch, at most every ``cooldown`` seconds, so forged kids cannot make us hammer the server."""

    def __init__(
        self,
        jwks_uri: str,
        *,
        http: httpx.Client | None = None,
        max_age: float = 300.0,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uri = jwks_uri
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=10.0)
        self._max_age = max_age
        self._cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None

    def __call__(self, kid: str) -> jwt.PyJWK | None:
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at > self._max_age
            cooled = self._fetched_at is None or now - self._fetched_at > self._cooldown
            if stale or (kid not in self._keys and cooled):
                self._refresh(now)
            return self._keys.get(kid)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def _refresh(self, now: float) -> None:
        try:
            response = self._http.get(self._uri, headers={"Accept": "application/json"})
            response.raise_for_status()
            document: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as err:
            if not self._keys:
                raise BrokerUnreachable(f"cannot fetch the JWKS at {self._uri}: {err!r}") from err
            self._fetched_at = now  # keep the keys we have; try again after the cooldown
            return
        self._fetched_at = now
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in document.get("keys", []):
            if isinstance(jwk, dict) and isinstance(jwk.get("kid"), str) and jwk.get("use", "sig") == "sig":
                try:
                    keys[jwk["kid"]] = jwt.PyJWK(jwk)
                except jwt.PyJWTError:
                    continue  # a key type we cannot use is ignored, as RFC 7517 §5 allows
        self._keys = keys
