"""Orchestrator calls: open, read, list and close tasks, record approvals, read receipts and lineage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._transport import Retry, Transport, path_id
from .models import Approval, Limits, Receipt, Task


class Tasks:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def open(
        self,
        *,
        purpose: str,
        agents: Sequence[str],
        scopes: Sequence[str],
        ttl: str | int = "1h",
        limits: Limits | None = None,
        context: Mapping[str, str | int | bool] | None = None,
        delegates: Sequence[str] | None = None,
        audiences: Sequence[str] | None = None,
    ) -> Task:
        """Opens a task owned by the caller (an orchestrator). Not retried after a timeout: a second
        attempt could open a second task."""
        body: dict[str, Any] = {
            "purpose": purpose,
            "agents": list(agents),
            "scopes": list(scopes),
            "ttl": ttl,
            "limits": (limits or Limits()).to_json(),
        }
        if context is not None:
            body["context"] = dict(context)
        if delegates is not None:
            body["delegates"] = list(delegates)
        if audiences is not None:
            body["audiences"] = list(audiences)
        return Task.from_json(self._t.request("POST", "/v1/tasks", json=body, retry=Retry.NEVER))

    def get(self, task_id: str) -> Task:
        return Task.from_json(self._t.request("GET", f"/v1/tasks/{path_id(task_id)}", retry=Retry.IDEMPOTENT))

    def list(self, *, status: str | None = None, limit: int = 100) -> list[Task]:
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        body = self._t.request("GET", "/v1/tasks", params=params, retry=Retry.IDEMPOTENT)
        return [Task.from_json(t) for t in body["tasks"]]

    def close(self, task_id: str, *, reason: str | None = None) -> Receipt:
        """Closes the task: every grant in it is inactive when this returns; Vault tokens and leases are
        revoked durably after. Idempotent, so retried."""
        body = {"reason": reason} if reason else {}
        path = f"/v1/tasks/{path_id(task_id)}/close"
        return Receipt.from_json(self._t.request("POST", path, json=body, retry=Retry.IDEMPOTENT))

    def approve(
        self,
        task_id: str,
        *,
        scope: str,
        approver: str,
        ttl: str | int = "15m",
        note: str | None = None,
        single_use: bool = False,
        args_digest: str | None = None,
    ) -> Approval:
        """Records a human's consent to a privileged scope in the task. Call it as an approver workload
        (under ``/approver/``): the orchestrator that opened the task, and its agents, may not approve."""
        body: dict[str, Any] = {"scope": scope, "approver": approver, "ttl": ttl, "single_use": single_use}
        if note is not None:
            body["note"] = note
        if args_digest is not None:
            body["args_digest"] = args_digest
        path = f"/v1/tasks/{path_id(task_id)}/approvals"
        return Approval.from_json(self._t.request("POST", path, json=body, retry=Retry.NEVER))

    def receipt(self, task_id: str) -> Receipt:
        path = f"/v1/tasks/{path_id(task_id)}/receipt"
        return Receipt.from_json(self._t.request("GET", path, retry=Retry.IDEMPOTENT))

    def lineage(self, task_id: str) -> dict[str, Any]:
        """The task's whole delegation tree (auditors): ``{"task": …, "grants": […]}``."""
        path = f"/v1/tasks/{path_id(task_id)}/lineage"
        result: dict[str, Any] = self._t.request("GET", path, retry=Retry.IDEMPOTENT)
        return result
