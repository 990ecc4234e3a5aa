"""Sentry issue links inside a PagerDuty incident: its webhook data or its alerts.

Sentry's PagerDuty integration sends the issue URL as the alert's link and in its custom details
(`https://sentry.io/organizations/<org>/issues/<id>/`, `https://<org>.sentry.io/issues/<id>/`);
a self-hosted Sentry writes its own host. Pure: walks the JSON it is given.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any
from urllib.parse import urlsplit

_URL = re.compile(r"https?://[^\s\"'<>()\[\]{}]+")
_ISSUE_PATH = re.compile(r"^(?:/organizations/[^/]+)?/issues/(\d+)(?:/|$)")
MAX_DEPTH = 12
MAX_STRINGS = 2000
"""Bounds on the walk: an alert's custom details are attacker-sized."""


def sentry_host(url: str) -> str | None:
    """The host of a Sentry base URL (setting `sentry_url`), lower case."""
    host = urlsplit(url).hostname
    return host.lower() if host else None


def sentry_issue_id(url: str, hosts: Collection[str] = ()) -> str | None:
    """The issue id a Sentry issue URL names, or None for any other URL.

    Sentry's own hosts (`sentry.io`, `<org>.sentry.io`) are always read; others only when in
    `hosts` (a self-hosted Sentry).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not (host == "sentry.io" or host.endswith(".sentry.io") or host in hosts):
        return None
    match = _ISSUE_PATH.match(parts.path)
    return match.group(1) if match else None


def sentry_issue_ids(value: Any, hosts: Collection[str] = ()) -> list[str]:
    """The Sentry issues the URLs anywhere in `value` (any JSON) point at, in document order."""
    found: dict[str, None] = {}
    for text in _strings(value, MAX_DEPTH):
        for url in _URL.findall(text):
            issue = sentry_issue_id(url, hosts)
            if issue is not None:
                found.setdefault(issue)
    return list(found)


def _strings(value: Any, depth: int) -> Iterator[str]:
    stack: list[tuple[Any, int]] = [(value, depth)]
    seen = 0
    while stack and seen < MAX_STRINGS:
        item, left = stack.pop()
        if isinstance(item, str):
            seen += 1
            yield item
        elif left > 0 and isinstance(item, dict | list):
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, left - 1) for child in reversed(list(children)))
