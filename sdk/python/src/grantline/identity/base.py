"""What every identity source provides: a JWT-SVID for an audience, fresh enough to be accepted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import jwt

from ..errors import GrantlineError


class IdentityError(GrantlineError):
    """An identity source cannot produce an SVID (no socket, no file, no key, an unusable token)."""

    code = "identity_unavailable"


@runtime_checkable
class IdentitySource(Protocol):
    """Produces the caller's JWT-SVID. Implementations cache and refresh it before it expires."""

    def jwt_svid(self, audience: str) -> str:
        """A JWT-SVID whose ``aud`` holds ``audience`` and that stays valid for a while yet."""
        ...


@dataclass(frozen=True)
class _Cached:
    token: str
    refresh_at: float
    expires_at: float


def refresh_point(issued_at: float, expires_at: float, margin: float) -> float:
    """When to fetch a new SVID: half-way through its life (as SPIRE agents do), and at the latest
    ``margin`` seconds before expiry, so a request never leaves with a token about to die in flight."""
    return min(issued_at + (expires_at - issued_at) / 2, expires_at - margin)


class CachingSource:
    """Caches one SVID per audience until its refresh point. Thread-safe; subclasses implement ``_fetch``."""

    def __init__(self, *, margin_seconds: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self._margin = margin_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, _Cached] = {}

    def _fetch(self, audience: str) -> str:
        raise NotImplementedError

    def jwt_svid(self, audience: str) -> str:
        with self._lock:
            now = self._clock()
            cached = self._cache.get(audience)
            if cached and now < cached.refresh_at:
                return cached.token
            token = self._fetch(audience)
            issued, expires = svid_times(token, fallback_issued=now)
            if expires <= now:
                raise IdentityError("the identity source returned an SVID that has already expired")
            self._cache[audience] = _Cached(token, refresh_point(issued, expires, self._margin), expires)
            return token


def svid_times(token: str, *, fallback_issued: float) -> tuple[float, float]:
    """``(iat, exp)`` of a JWT read without verification: the broker verifies, we only schedule."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as err:
        raise IdentityError(f"the SVID is not a JWT: {err}") from err
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        raise IdentityError("the SVID has no exp claim")
    iat = claims.get("iat")
    return (float(iat) if isinstance(iat, int | float) else fallback_issued, float(exp))


class StaticToken:
    """A JWT-SVID handed over as a string (from a sidecar, a test, an environment variable).

    It is sent as is, whatever audience is asked for; it is never refreshed.
    """

    def __init__(self, token: str) -> None:
        if not token or token.count(".") != 2:
            raise IdentityError("a static token must be a compact JWT")
        self._token = token.strip()

    def jwt_svid(self, audience: str) -> str:
        return self._token

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"


class SvidFile:
    """A JWT-SVID kept in a file by another process (spiffe-helper, an init container).

    The file is read again whenever it changes, so the writer's rotation is picked up; a token that has
    expired is refused here rather than sent.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self._path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._token = ""
        self._expires = 0.0

    def jwt_svid(self, audience: str) -> str:
        with self._lock:
            try:
                stat = self._path.stat()
                version = (stat.st_mtime_ns, stat.st_size)
                if version != self._seen:
                    token = self._path.read_text(encoding="utf-8").strip()
                    _, self._expires = svid_times(token, fallback_issued=self._clock())
                    self._token, self._seen = token, version
            except OSError as err:
                raise IdentityError(f"cannot read the SVID file {self._path}: {err.strerror}") from err
            if self._expires <= self._clock():
                raise IdentityError(f"the SVID in {self._path} has expired and was not rotated")
            return self._token

    def __repr__(self) -> str:
        return f"SvidFile({str(self._path)!r})"
