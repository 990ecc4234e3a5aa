"""`fixloop incidents`: the server's incidents listed, filtered, and closed by hand.

Closing by hand is the way out of an incident that stays open with nothing to run (its project
was not mapped yet, a human took it over): its queued jobs are settled, and the next event of
its error is a new incident that runs. The ticket and the PR, if any, are left as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from agent import wiring
from agent.errors import NotFound
from agent.logs import event
from agent.settings import Settings

State = Literal["open", "closed", "all"]


def listed(
    settings: Settings,
    state: State = "all",
    project: str | None = None,
    source: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The newest incidents first, filtered."""
    is_open = None if state == "all" else state == "open"
    inbox = wiring.inbox(settings)
    return inbox.incidents(limit, is_open=is_open, project=project, source=source)


def close(settings: Settings, incident_id: str, reason: str) -> dict[str, Any]:
    """Close an open incident; an incident already closed is left as it is and said so."""
    inbox = wiring.inbox(settings)
    record = inbox.incident(incident_id)
    if record is None or "open" not in record:
        raise NotFound(f"no incident {incident_id} in {wiring.store_name(settings)}")
    outcome = "closed by hand" + (f": {reason}" if reason else "")
    if not inbox.close_incident(incident_id, outcome):
        return {"incident": incident_id, "closed": False, "outcome": record["outcome"]}
    event("incident_closed", incident_id, by="cli", reason=reason or None)
    return {"incident": incident_id, "closed": True, "outcome": outcome}


def render(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        state = "open" if row["open"] else "closed"
        seen = datetime.fromtimestamp(row["last_seen"], UTC).strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"{row['id']}  {state:<6} {row['count']:>6}x  last {seen}  "
            f"{row['project'] or '-':<12} {row['title']}"
            + (f"  ({row['outcome']})" if row["outcome"] else "")
        )
    return "\n".join(lines)
