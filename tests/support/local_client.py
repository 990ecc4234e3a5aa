"""A test client of the server whose requests come from loopback, as an operator's on the
server's own host: private paths answer it without a token (`agent.service.access`)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from starlette.types import ASGIApp

LOOPBACK = ("127.0.0.1", 50000)


def local_client(app: ASGIApp, **options: Any) -> TestClient:
    return TestClient(app, client=LOOPBACK, **options)
