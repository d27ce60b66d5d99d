"""Action metering: the calls a resource server serves are reported to the broker in batches."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import BrokerError, GrantlineError

log = logging.getLogger("grantline.kit")

Report = Callable[..., dict[str, Any]]


@dataclass
class _Batch:
    grant_id: str
    calls: list[dict[str, Any]]
    report_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class UsageMeter:
    """Queues calls per grant and sends them every ``flush_interval`` seconds (or when ``max_batch``
    are waiting) with ``POST /v1/grants/:id/usage``. A batch keeps its report id until the broker
    answered, so sending it again after a lost answer counts it once. When an answer says grants were
    revoked (their share of actions is spent), ``on_revoked`` gets their ids at once."""

    def __init__(
        self,
        report: Report,
        *,
        on_revoked: Callable[[Sequence[str]], None],
        flush_interval: float = 0.1,
        max_batch: int = 500,
        max_queued: int = 10_000,
    ) -> None:
        self._report = report
        self._on_revoked = on_revoked
        self._interval = flush_interval
        self._max_batch = max_batch
        self._max_queued = max_queued
        self._queued: dict[str, list[dict[str, Any]]] = {}
        self._retrying: list[_Batch] = []
        self._lock = threading.Lock()
        self._sending = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grantline-usage", daemon=True)
        self._thread.start()

    def record(self, grant_id: str, *, cost: int = 1, tool: str | None = None) -> None:
        call: dict[str, Any] = {"cost": cost, "at": datetime.now(UTC).isoformat()}
        if tool:
            call["tool"] = tool
        with self._lock:
            calls = self._queued.setdefault(grant_id, [])
            calls.append(call)
            if sum(len(c) for c in self._queued.values()) > self._max_queued:
                calls.pop(0)
                log.warning("usage reports are not getting through: the oldest call was dropped")
            full = len(calls) >= self._max_batch
        if full:
            self.flush()

    def flush(self) -> None:
        """Sends everything queued now (and what an earlier failed report left)."""
        with self._sending:
            with self._lock:
                batches, self._retrying = self._retrying, []
                for grant_id, calls in self._queued.items():
                    for i in range(0, len(calls), self._max_batch):
                        batches.append(_Batch(grant_id, calls[i : i + self._max_batch]))
                self._queued = {}
            failed = [b for b in batches if not self._send(b)]
            with self._lock:
                self._retrying = failed + self._retrying

    def _send(self, batch: _Batch) -> bool:
        try:
            result = self._report(batch.grant_id, batch.calls, report_id=batch.report_id)
        except BrokerError as err:
            if err.status < 500 and err.status != 429:
                # The grant is gone (409) or unknown (404): nothing to count any more.
                if err.status == 409 and err.details.get("grant_status"):
                    self._on_revoked([batch.grant_id])
                log.info("usage report for grant %s refused: %s", batch.grant_id, err)
                return True
            log.warning("usage report for grant %s failed, will retry: %s", batch.grant_id, err)
            return False
        except GrantlineError as err:
            log.warning("usage report for grant %s failed, will retry: %s", batch.grant_id, err)
            return False
        if result.get("revoked"):
            self._on_revoked(list(result["revoked"]))
        return True

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                waiting = bool(self._queued or self._retrying)
            if waiting:
                self.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()
