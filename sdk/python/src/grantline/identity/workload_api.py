"""JWT-SVIDs from the SPIFFE Workload API (a SPIRE agent), through the ``spiffe`` package."""

from __future__ import annotations

import time
from collections.abc import Callable

from spiffe import SpiffeId, WorkloadApiClient
from spiffe.errors import PySpiffeError

from .base import CachingSource, IdentityError
from .spiffe_id import parse_spiffe_id


class WorkloadApi(CachingSource):
    """Fetches JWT-SVIDs over the Workload API at ``socket`` (default ``$SPIFFE_ENDPOINT_SOCKET``).

    Each audience's SVID is kept until half its life has passed (or ``margin_seconds`` before expiry,
    whichever comes first), then fetched again: the agent signs a fresh one on every FetchJWTSVID.
    When the workload has several identities, name the one to use with ``spiffe_id``; otherwise the
    agent's first (its "default identity") is used.
    """

    def __init__(
        self,
        socket: str | None = None,
        *,
        spiffe_id: str | None = None,
        timeout_seconds: float = 10.0,
        margin_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(margin_seconds=margin_seconds, clock=clock)
        if spiffe_id is not None:
            parse_spiffe_id(spiffe_id)
        self._subject = SpiffeId(spiffe_id) if spiffe_id else None
        self._timeout = timeout_seconds
        try:
            self._client = WorkloadApiClient(socket, default_timeout=timeout_seconds)
        except PySpiffeError as err:
            raise IdentityError(f"cannot use the SPIFFE Workload API: {err}") from err
        self.spiffe_id = spiffe_id

    def _fetch(self, audience: str) -> str:
        try:
            svid = self._client.fetch_jwt_svid({audience}, self._subject, timeout=self._timeout)
        except PySpiffeError as err:
            raise IdentityError(
                f"the Workload API gave no JWT-SVID for audience {audience!r}: {err}"
            ) from err
        if self.spiffe_id is None:
            self.spiffe_id = str(svid.spiffe_id)
        token: str = svid.token
        return token

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> WorkloadApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WorkloadApi(spiffe_id={self.spiffe_id!r})"
