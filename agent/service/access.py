"""Who may read what `fixloop serve` knows: private by default.

Public: the webhook and ingest paths (each authenticated by its sender's signature or DSN key)
and the probes `/healthz` and `/readyz`. Everything else (incidents, metrics, the schema, any
page added later) is private: it is answered to a request that

* carries `Authorization: Bearer TOKEN` with one of `access_tokens`, or
* carries `auth_proxy_header` and comes from one of `trusted_proxies` (a proxy that
  authenticated the user), or
* comes from loopback through no proxy (no `Forwarded`, `X-Forwarded-For`, `X-Real-IP`),
  while `loopback_open` is on.

`refusal(settings, peer, headers)` is the one check; `AccessGate` applies it to every private
path of an ASGI app, and other front ends (a console) call it for their own routes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.intake.webhooks import same_secret
from agent.settings import Settings

PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})
PUBLIC_PREFIXES = ("/webhooks/", "/api/", "/console", "/controls/")
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def is_public(path: str) -> bool:
    """Whether `path` is answered to anyone (its own authentication aside: webhooks check their
    signatures, the console its viewer (`agent.console.auth`), the operator endpoints their
    `operator_token`)."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def refusal(settings: Settings, peer: str | None, headers: Mapping[str, str]) -> str | None:
    """Why a request from `peer` (the socket's address) with `headers` may not read private
    data; None when it may. `headers` are looked up in lower case."""
    token = _bearer(headers.get("authorization"))
    if token is not None:
        if any(same_secret(token, known.get_secret_value()) for known in settings.access_tokens):
            return None
        return "the bearer token is not one of access_tokens"
    proxy_header = settings.auth_proxy_header
    if proxy_header and headers.get(proxy_header.lower()) and peer in settings.trusted_proxies:
        return None
    forwarded = any(headers.get(name) for name in FORWARDING_HEADERS)
    if settings.loopback_open and _is_loopback(peer) and not forwarded:
        return None
    return (
        "this path needs a token (Authorization: Bearer, setting access_tokens) or the "
        "proxy's auth_proxy_header; without them it answers loopback only"
    )


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else ""


def _is_loopback(peer: str | None) -> bool:
    if not peer:
        return False
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


class AccessGate:
    """ASGI middleware: a private path without access is answered 401 with the reason."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        why = refusal(self.settings, client[0] if client else None, Headers(scope=scope))
        if why is None:
            await self.app(scope, receive, send)
            return
        answer = JSONResponse({"error": why}, 401, headers={"WWW-Authenticate": "Bearer"})
        await answer(scope, receive, send)
