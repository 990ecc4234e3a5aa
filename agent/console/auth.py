"""Who may use the console.

With neither `console_token` nor `console_proxy_header` set, requests from a loopback address
are served and every other one is refused. With either set, every request needs one: the
reverse proxy's header naming a user, or the token (`Authorization: Bearer TOKEN`, or the
cookie the login form sets). Forms carry a CSRF token that must match their cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from starlette.requests import Request

from agent.service import access
from agent.settings import Settings

SESSION_COOKIE = "fixloop_console"
CSRF_COOKIE = "fixloop_csrf"


@dataclass(frozen=True)
class Viewer:
    name: str
    """Who: the proxy's user, `token` or `loopback`."""


def viewer(request: Request, settings: Settings) -> Viewer | None:
    """The signed-in viewer of `request`, or None when it may not see the console."""
    header = settings.console_proxy_header
    if header:
        user = request.headers.get(header, "").strip()
        if user:
            return Viewer(user[:100])
    token = settings.console_token
    if token is not None:
        given = _bearer(request) or request.cookies.get(SESSION_COOKIE, "")
        expected = token.get_secret_value()
        if given and (same(given, expected) or same(given, session_value(expected))):
            return Viewer("token")
    if token is None and not header:
        # Without the console's own settings, the server's private-path rule decides: loopback
        # without forwarding headers, an access token, or the trusted proxy's header.
        peer = request.client.host if request.client else None
        headers = {name.lower(): value for name, value in request.headers.items()}
        if access.refusal(settings, peer, headers) is None:
            return Viewer("loopback" if is_loopback(request) else "token")
    return None


def needs_login(settings: Settings) -> bool:
    """Whether a refused viewer can sign in with the token here (rather than being refused)."""
    return settings.console_token is not None


def session_value(token: str) -> str:
    """What the login cookie holds: derived from the token, not the token itself."""
    return hmac.new(token.encode(), b"fixloop console session", hashlib.sha256).hexdigest()


def is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(request: Request, submitted: str) -> bool:
    """The form's CSRF token matches its cookie, and a browser's Origin (when sent) is ours."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        return False
    return bool(cookie) and same(cookie, submitted)


def _bearer(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
