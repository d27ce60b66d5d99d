"""A subscriber to the broker's revocation feed (``GET /v1/revocations``, server-sent events).

It catches up with JSON pages, then follows the event stream, resuming with ``Last-Event-ID`` after any
break. While it is not following (starting, reconnecting, or silent for longer than ``stale_after``)
it reports itself unhealthy, and :class:`ResourceServer` asks introspection instead.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
from httpx_sse import SSEError, connect_sse

from .._transport import RetryPolicy
from ..errors import GrantlineError
from ..models import Revocation

if TYPE_CHECKING:
    from ..client import Grantline

log = logging.getLogger("grantline.kit")


class RevocationFeed:
    """Keeps the set of revoked ``jti``s, fed by the broker. Start it with :meth:`start` (or ``with``).

    ``max_token_lifetime`` is the broker's access-token TTL cap (``GRANTLINE_ACCESS_TOKEN_MAX_TTL``): an
    entry older than that names a token that has expired anyway, so it is skipped and later dropped.
    The broker sends a keep-alive every second, so ``stale_after`` seconds of silence mean the stream
    is broken even if the socket has not said so.
    """

    def __init__(
        self,
        client: Grantline,
        *,
        task_id: str | None = None,
        max_token_lifetime: float = 3600.0,
        stale_after: float = 5.0,
        page_size: int = 1000,
        backoff: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._task_id = task_id
        self._horizon = max_token_lifetime + 60.0
        self._stale_after = stale_after
        self._page_size = page_size
        self._backoff = backoff or RetryPolicy(base_delay=0.1, max_delay=5.0)
        self._clock = clock
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._healthy = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: httpx.Response | None = None
        self._pruned_at = clock()
        self.cursor = 0
        self.last_error: str | None = None
        self.listeners: list[Callable[[Revocation], None]] = []

    @property
    def healthy(self) -> bool:
        """True while the feed is caught up and following the live stream."""
        return self._healthy.is_set()

    def is_revoked(self, jti: str) -> bool:
        with self._lock:
            return jti in self._revoked

    def __contains__(self, jti: object) -> bool:
        return isinstance(jti, str) and self.is_revoked(jti)

    def start(self) -> RevocationFeed:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="grantline-revocation-feed", daemon=True)
            self._thread.start()
        return self

    def wait_healthy(self, timeout: float) -> bool:
        return self._healthy.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            response.close()  # unblocks the reader thread
        if self._thread is not None:
            self._thread.join(timeout)
        self._healthy.clear()

    def __enter__(self) -> RevocationFeed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._catch_up()
                self._follow()
                failures = 0  # the stream ended normally (the broker closes it every 15 minutes)
            except (httpx.HTTPError, GrantlineError, SSEError, ValueError, KeyError) as err:
                self.last_error = f"{type(err).__name__}: {err}"
                if not self._stop.is_set():
                    log.warning("revocation feed interrupted, reconnecting: %r", err)
                failures += 1
            finally:
                self._healthy.clear()
                self._response = None
            if failures and not self._stop.is_set():
                self._stop.wait(self._backoff.delay(min(failures - 1, 10)))

    def _catch_up(self) -> None:
        while not self._stop.is_set():
            page, cursor = self._client.revocations(
                after=self.cursor, limit=self._page_size, task_id=self._task_id
            )
            for item in page:
                self._add(item)
            self.cursor = max(self.cursor, cursor)
            if len(page) < self._page_size:
                return

    def _follow(self) -> None:
        params: dict[str, str | int] = {"after": self.cursor}
        if self._task_id:
            params["task"] = self._task_id
        timeout = httpx.Timeout(10.0, read=self._stale_after)
        headers = {"Last-Event-ID": str(self.cursor)}
        http = self._client.http
        with connect_sse(
            http, "GET", "/v1/revocations", params=params, headers=headers, timeout=timeout
        ) as es:
            self._response = es.response
            if es.response.status_code != 200:
                es.response.read()
                raise GrantlineError(f"the revocation stream answered HTTP {es.response.status_code}")
            self._healthy.set()
            self.last_error = None
            for event in es.iter_sse():
                if self._stop.is_set():
                    return
                if event.event == "revoked":
                    self._add(Revocation.from_json(json.loads(event.data)))

    def _add(self, item: Revocation) -> None:
        revoked_at = item.revoked_at.timestamp() if item.revoked_at else self._clock()
        now = self._clock()
        if revoked_at >= now - self._horizon:
            with self._lock:
                self._revoked[item.jti] = revoked_at
            for listener in self.listeners:
                try:
                    listener(item)
                except Exception:  # a listener's bug must not stop the feed
                    log.exception("revocation listener failed")
        self.cursor = max(self.cursor, item.seq)
        if now - self._pruned_at > 60:
            self._prune(now)

    def _prune(self, now: float) -> None:
        with self._lock:
            self._revoked = {j: t for j, t in self._revoked.items() if t >= now - self._horizon}
        self._pruned_at = now
