"""The Sentry project an event came from, by slug as well as by id.

Sentry's webhooks carry the project's numeric id (`project`); its slug is in the event's API
address, `.../api/0/projects/<org>/<slug>/events/<id>/`. A repository table may route either.
"""

from __future__ import annotations

import re
from typing import Any

_PROJECT_PATH = re.compile(r"/projects/[^/]+/(?P<slug>[^/]+)/events/")


def sentry_project_slug(payload: dict[str, Any]) -> str | None:
    """The project slug named by the event's `url`, wherever the event sits in the payload."""
    event = payload
    data = payload.get("data")
    if isinstance(data, dict) and isinstance(data.get("event"), dict):
        event = data["event"]
    url = event.get("url")
    if not isinstance(url, str):
        return None
    found = _PROJECT_PATH.search(url)
    return found.group("slug") if found else None
