"""A SPIFFE Workload API server on a Unix socket (gRPC, the spec's protobuf), standing in for a SPIRE
agent: it mints JWT-SVIDs with the broker's dev trust domain key, so the broker accepts them.

It enforces what SPIRE enforces on FetchJWTSVID: the `workload.spiffe.io: true` metadata, a non-empty
audience, and PermissionDenied for an identity it does not hold.
"""

from __future__ import annotations

import json
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import jwt
from spiffe._proto import workload_pb2, workload_pb2_grpc


class _Servicer(workload_pb2_grpc.SpiffeWorkloadAPIServicer):
    def __init__(self, key_file: Path, spiffe_id: str, ttl_seconds: int) -> None:
        self.key = jwt.PyJWK(json.loads(key_file.read_text()), algorithm="ES256")
        self.spiffe_id = spiffe_id
        self.ttl = ttl_seconds
        self.fetches = 0

    def FetchJWTSVID(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 (gRPC name)
        if dict(context.invocation_metadata()).get("workload.spiffe.io") != "true":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "security header missing from request")
        if not request.audience:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "audience must be specified")
        if request.spiffe_id and request.spiffe_id != self.spiffe_id:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "no identity issued")
        self.fetches += 1
        now = int(time.time())
        claims = {"sub": self.spiffe_id, "aud": list(request.audience), "iat": now, "exp": now + self.ttl}
        token = jwt.encode(
            claims, self.key, algorithm="ES256", headers={"kid": self.key.key_id, "typ": "JWT"}
        )
        return workload_pb2.JWTSVIDResponse(
            svids=[workload_pb2.JWTSVID(spiffe_id=self.spiffe_id, svid=token)]
        )


class WorkloadApiServer:
    def __init__(self, socket_path: Path, key_file: Path, spiffe_id: str, ttl_seconds: int) -> None:
        self.socket = f"unix://{socket_path}"
        self.servicer = _Servicer(key_file, spiffe_id, ttl_seconds)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        workload_pb2_grpc.add_SpiffeWorkloadAPIServicer_to_server(self.servicer, self._server)  # type: ignore[no-untyped-call]
        self._server.add_insecure_port(f"unix:{socket_path}")

    def __enter__(self) -> WorkloadApiServer:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop(grace=None).wait()
