"""The last line before fixloop writes: tickets, comments, PR titles and bodies, stored events.

Incident text is attacker-controlled and may quote anything, a token included. Incidents are
scrubbed at intake (`agent.guardrails.scrub`); every write to a tracker or forge still goes
through these wrappers, which replace each configured secret value and then pass the text
through the same scrubber (`scrub_output`). The error store's wrapper scrubs each recorded
event, whoever records it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from agent.domain import Incident, ModelReply, PullRequest, Release, Ticket
from agent.guardrails.scrub import scrub_intake, scrub_output
from agent.ports import ErrorSource, Forge, Model, Notifier, Tracker
from agent.settings import Settings

REDACTED = "[redacted]"
_MIN_SECRET_LENGTH = 4


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value in the settings, longest first."""
    values: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        items: Iterable[object] = value if isinstance(value, list) else [value]
        values += [item.get_secret_value() for item in items if isinstance(item, SecretStr)]
    return sorted({v for v in values if len(v) >= _MIN_SECRET_LENGTH}, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    """`text` without fixloop's own secrets, then through the incident scrubber."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return scrub_output(text)


class ScrubbingErrorSource:
    """An error source whose stored events are scrubbed (unless `keep_raw`)."""

    def __init__(
        self, inner: ErrorSource, keys: Sequence[str] = (), *, keep_raw: bool = False
    ) -> None:
        self.inner = inner
        self.keys = keys
        self.keep_raw = keep_raw

    def record(self, incident: Incident, payload: dict[str, Any]) -> bool:
        return self.inner.record(
            *scrub_intake(incident, payload, self.keys, keep_raw=self.keep_raw)
        )

    def events_between(self, fingerprint: str, start: datetime, end: datetime) -> int:
        return self.inner.events_between(fingerprint, start, end)

    def releases(self, project: str | None) -> list[Release]:
        return self.inner.releases(project)

    def resolve(self, fingerprint: str) -> None:
        self.inner.resolve(fingerprint)


class RedactingTracker:
    def __init__(self, inner: Tracker, secrets: list[str]) -> None:
        self.inner = inner
        self.secrets = secrets

    def find_open(self, fingerprint: str) -> Ticket | None:
        return self.inner.find_open(fingerprint)

    def ensure_ticket(self, incident: Incident, title: str, body: str) -> Ticket:
        return self.inner.ensure_ticket(
            incident, redact(title, self.secrets), redact(body, self.secrets)
        )

    def get(self, key: str) -> Ticket:
        return self.inner.get(key)

    def comment(self, key: str, comment_key: str, body: str) -> None:
        self.inner.comment(key, comment_key, redact(body, self.secrets))

    def comments(self, key: str) -> list[str]:
        return self.inner.comments(key)

    def transition(self, key: str, status: str) -> Ticket:
        return self.inner.transition(key, status)

    def close(self, key: str, resolution: str) -> Ticket:
        return self.inner.close(key, redact(resolution, self.secrets))


class RedactingForge:
    def __init__(self, inner: Forge, secrets: list[str]) -> None:
        self.inner = inner
        self.secrets = secrets

    def find_pr(self, branch: str) -> PullRequest | None:
        return self.inner.find_pr(branch)

    def get_pr(self, pr_id: int) -> PullRequest:
        return self.inner.get_pr(pr_id)

    def open_pr(self, branch: str, head_sha: str, title: str, body: str) -> PullRequest:
        return self.inner.open_pr(
            branch, head_sha, redact(title, self.secrets), redact(body, self.secrets)
        )

    def approve(self, pr_id: int, comment: str) -> PullRequest:
        return self.inner.approve(pr_id, redact(comment, self.secrets))

    def merge(self, pr_id: int, comment: str) -> PullRequest:
        return self.inner.merge(pr_id, redact(comment, self.secrets))

    def close_pr(self, pr_id: int, comment: str) -> PullRequest:
        return self.inner.close_pr(pr_id, redact(comment, self.secrets))

    def bot_pr_counts(self, opened_since: datetime) -> tuple[int, int]:
        return self.inner.bot_pr_counts(opened_since)


class RedactingNotifier:
    """A chat notifier whose messages pass the scrubber and lose fixloop's own secrets."""

    def __init__(self, inner: Notifier, secrets: list[str]) -> None:
        self.inner = inner
        self.secrets = secrets

    def post(self, incident_id: str, key: str, text: str) -> str:
        return self.inner.post(incident_id, key, redact(text, self.secrets))

    def thread(self, incident_id: str) -> list[dict[str, Any]]:
        return self.inner.thread(incident_id)


class ScrubbingModel:
    """A model whose prompts pass the scrubber: the system blocks and the text fixloop writes
    into user turns. Tool results (the repository's own files) go as they are, so an edit the
    model proposes still matches the code."""

    def __init__(self, inner: Model, secrets: list[str]) -> None:
        self.inner = inner
        self.secrets = secrets

    def create(
        self,
        *,
        model: str,
        system: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        max_tokens: int,
    ) -> ModelReply:
        return self.inner.create(
            model=model,
            system=[self._block(block) for block in system],
            messages=[self._message(message) for message in messages],
            tools=tools,
            max_tokens=max_tokens,
        )

    def _message(self, message: dict[str, Any]) -> dict[str, Any]:
        content = message.get("content")
        if message.get("role") != "user":
            return message
        if isinstance(content, str):
            return message | {"content": redact(content, self.secrets)}
        if isinstance(content, list):
            return message | {"content": [self._block(block) for block in content]}
        return message

    def _block(self, block: dict[str, Any]) -> dict[str, Any]:
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            return block | {"text": redact(block["text"], self.secrets)}
        return block
