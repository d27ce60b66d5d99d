"""JWT-SVIDs from the broker's development trust domain (``spiffe://dev.grantline.local``).

Exactly what ``grantline dev svid`` mints (server/identity/dev-trust-domain.ts): ES256 with the dev key's
``kid`` and ``typ: JWT``, ``sub`` the SPIFFE ID, ``aud`` always an array, ``iat`` and ``exp``. The key is
``$GRANTLINE_HOME/dev-identity/jwt-signing-key.json``, written by the broker on its first start (or by
``grantline dev init``). Anything signed with it is worthless as identity: development only.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt

from .base import CachingSource, IdentityError
from .spiffe_id import parse_spiffe_id

DEV_TRUST_DOMAIN = "dev.grantline.local"
KEY_FILE = Path("dev-identity") / "jwt-signing-key.json"


def grantline_home(home: str | Path | None = None) -> Path:
    """``home``, else ``$GRANTLINE_HOME``, else ``.grantline`` (as the broker resolves it)."""
    if home is not None:
        return Path(home).resolve()
    return Path(os.environ.get("GRANTLINE_HOME") or ".grantline").resolve()


class DevTrustDomain(CachingSource):
    """Signs JWT-SVIDs for ``spiffe_id`` with the dev trust domain key; each lives ``ttl_seconds``."""

    def __init__(
        self,
        spiffe_id: str,
        *,
        home: str | Path | None = None,
        ttl_seconds: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(margin_seconds=min(30.0, ttl_seconds / 4), clock=clock)
        parsed = parse_spiffe_id(spiffe_id)
        if parsed.trust_domain != DEV_TRUST_DOMAIN or not parsed.path:
            raise IdentityError(f"the dev trust domain only issues SVIDs for spiffe://{DEV_TRUST_DOMAIN}/…")
        if ttl_seconds <= 0:
            raise IdentityError("ttl_seconds must be positive")
        self.spiffe_id = spiffe_id
        self._key_file = grantline_home(home) / KEY_FILE
        self._ttl = int(ttl_seconds)
        self._key: jwt.PyJWK | None = None

    def _signing_key(self) -> jwt.PyJWK:
        if self._key is None:
            try:
                jwk: dict[str, Any] = json.loads(self._key_file.read_text(encoding="utf-8"))
            except FileNotFoundError as err:
                raise IdentityError(
                    f"no dev trust domain key at {self._key_file}: start the broker once or run "
                    "`grantline dev init` with the same GRANTLINE_HOME"
                ) from err
            except (OSError, ValueError) as err:
                raise IdentityError(f"cannot read the dev trust domain key {self._key_file}") from err
            if not isinstance(jwk.get("kid"), str) or "d" not in jwk:
                raise IdentityError(f"{self._key_file} is not a private JWK with a kid")
            self._key = jwt.PyJWK(jwk, algorithm="ES256")
        return self._key

    def _fetch(self, audience: str) -> str:
        key = self._signing_key()
        iat = int(self._clock())
        claims = {"sub": self.spiffe_id, "aud": [audience], "iat": iat, "exp": iat + self._ttl}
        return jwt.encode(claims, key, algorithm="ES256", headers={"kid": key.key_id, "typ": "JWT"})

    def __repr__(self) -> str:
        return f"DevTrustDomain({self.spiffe_id!r})"
