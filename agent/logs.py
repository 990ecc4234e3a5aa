"""Structured logs: one record per thing that happened, with its incident id.

`event("webhook", incident, endpoint=..., outcome=...)` writes to the `fixloop` logger; the
formatters write it as `key=value` text or one JSON object per line (settings `log_format`,
`log_level`). Every string field is redacted of fixloop's own secrets and scrubbed like any
other output before it is written. `LoggedTracker` and `LoggedForge` log every write outside
fixloop (tickets, comments, transitions, PRs, merges) with the incident it was for.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime
from typing import Any, TextIO

from agent.domain import Incident, PullRequest, Ticket
from agent.guardrails.redaction import redact, secrets_of
from agent.ports import Forge, Tracker
from agent.settings import Settings

log = logging.getLogger("fixloop")
FIELDS = "fixloop_fields"


def event(name: str, incident: str | None = None, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event; None fields are left out."""
    values = {"incident": incident, **fields}
    shown = {key: value for key, value in values.items() if value is not None}
    log.log(level, name, extra={FIELDS: shown})


class _Formatter(logging.Formatter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        """The record as fields: time, level, event, the event's fields, any exception."""
        values: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
        }
        extra = getattr(record, FIELDS, None)
        if extra is None:
            values["event"] = "message"
            values["logger"] = record.name
            values["message"] = record.getMessage()
        else:
            values["event"] = record.msg
            values.update(extra)
        if record.exc_info:
            values["exception"] = self.formatException(record.exc_info)
        return {key: self.clean(value) for key, value in values.items()}

    def clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return redact(value, self.secrets)
        if isinstance(value, list | tuple):
            return [self.clean(item) for item in value]
        return value


class TextFormatter(_Formatter):
    """`2026-01-01T10:00:00.000Z info webhook incident=fx-1 endpoint=sentry outcome=new`."""

    def format(self, record: logging.LogRecord) -> str:
        values = self.fields(record)
        head = f"{values.pop('time')} {values.pop('level')} {values.pop('event')}"
        exception = values.pop("exception", None)
        line = " ".join([head, *(f"{key}={_shown(value)}" for key, value in values.items())])
        return line if exception is None else f"{line}\n{exception}"


class JsonFormatter(_Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.fields(record), default=str)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if text and not any(c in text for c in ' "=\n') else json.dumps(text)


def configure(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Send fixloop's records (and uvicorn's warnings) to `stream` (stderr) as the settings
    say; the handler is returned so a caller can remove it."""
    formatter_class = JsonFormatter if settings.log_format == "json" else TextFormatter
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter_class(secrets_of(settings)))
    for name in ("fixloop", "agent", "tools", "uvicorn.error"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "fixloop", False)]:
            logger.removeHandler(old)
        handler.fixloop = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
        if name != "uvicorn.error":
            logger.setLevel(settings.log_level.upper())
    return handler


class LoggedTracker:
    """A tracker whose every write is logged with the incident it was for."""

    def __init__(self, inner: Tracker, incident_id: str, system: str) -> None:
        self.inner = inner
        self.incident_id = incident_id
        self.system = system

    def _wrote(self, action: str, **fields: Any) -> None:
        event("outside_write", self.incident_id, system=self.system, action=action, **fields)

    def find_open(self, fingerprint: str) -> Ticket | None:
        return self.inner.find_open(fingerprint)

    def ensure_ticket(self, incident: Incident, title: str, body: str) -> Ticket:
        ticket = self.inner.ensure_ticket(incident, title, body)
        self._wrote("ticket", ticket=ticket.key)
        return ticket

    def get(self, key: str) -> Ticket:
        return self.inner.get(key)

    def comment(self, key: str, comment_key: str, body: str) -> None:
        self.inner.comment(key, comment_key, body)
        self._wrote("comment", ticket=key, comment=comment_key)

    def comments(self, key: str) -> list[str]:
        return self.inner.comments(key)

    def transition(self, key: str, status: str) -> Ticket:
        ticket = self.inner.transition(key, status)
        self._wrote("transition", ticket=key, to=status)
        return ticket

    def close(self, key: str, resolution: str) -> Ticket:
        ticket = self.inner.close(key, resolution)
        self._wrote("close_ticket", ticket=key)
        return ticket


class LoggedForge:
    """A forge whose every write is logged with the incident it was for."""

    def __init__(self, inner: Forge, incident_id: str, system: str) -> None:
        self.inner = inner
        self.incident_id = incident_id
        self.system = system

    def _wrote(self, action: str, pr: PullRequest) -> PullRequest:
        event(
            "outside_write",
            self.incident_id,
            system=self.system,
            action=action,
            pr=pr.id,
            branch=pr.branch,
        )
        return pr

    def find_pr(self, branch: str) -> PullRequest | None:
        return self.inner.find_pr(branch)

    def get_pr(self, pr_id: int) -> PullRequest:
        return self.inner.get_pr(pr_id)

    def open_pr(self, branch: str, head_sha: str, title: str, body: str) -> PullRequest:
        return self._wrote("open_pr", self.inner.open_pr(branch, head_sha, title, body))

    def approve(self, pr_id: int, comment: str) -> PullRequest:
        return self._wrote("approve", self.inner.approve(pr_id, comment))

    def merge(self, pr_id: int, comment: str) -> PullRequest:
        return self._wrote("merge", self.inner.merge(pr_id, comment))

    def close_pr(self, pr_id: int, comment: str) -> PullRequest:
        return self._wrote("close_pr", self.inner.close_pr(pr_id, comment))

    def bot_pr_counts(self, opened_since: datetime) -> tuple[int, int]:
        return self.inner.bot_pr_counts(opened_since)
