"""tasklane-mailer: a background mail worker (app `worker`).

A job table in memory, handlers for digests, receipts and redeliveries, a retry backoff, per-domain
throttling and template rendering; production hands mail to the MTA's pickup directory through the
third-party `postkit` package (in `libraries`, never in the repo).
"""

from __future__ import annotations

from evals.builders.kit import CaseSpec, Commit, Gold

APP = "worker"

JONAS = "Jonas Becker <jonas.becker@tasklane.io>"
ELIF = "Elif Demir <elif@tasklane.io>"
SAM = "Sam Okafor <sam.okafor@tasklane.io>"


def _edit(text: str, old: str, new: str) -> str:
    """`text` with the one occurrence of `old` replaced by `new`."""
    count = text.count(old)
    if count != 1:
        raise ValueError(f"expected one occurrence, found {count}: {old[:60]!r}")
    return text.replace(old, new)


# --- the third-party package (site-packages at runtime) -------------------------------------

POSTKIT = {
    "postkit/__init__.py": '''
"""postkit: compose RFC 5322 messages and hand them to the local MTA."""

from postkit.message import compose
from postkit.pickup import PickupClient

__all__ = ["PickupClient", "compose"]
__version__ = "2.4.1"
''',
    "postkit/headers.py": '''
"""Header encoding (RFC 2047) and address formatting."""

import base64

MAX_ENCODED_CHUNK = 45
"""Bytes of UTF-8 per encoded word, so that a word stays under 76 characters."""


def encode_word(value):
    """`value` as RFC 2047 encoded words if it is not plain ASCII."""
    if value.isascii():
        return value
    raw = value.encode("utf-8")
    words = []
    for start in range(0, len(raw), MAX_ENCODED_CHUNK):
        chunk = raw[start : start + MAX_ENCODED_CHUNK]
        # each encoded word must decode on its own (RFC 2047, section 5)
        chunk.decode("utf-8")
        words.append("=?utf-8?b?" + base64.b64encode(chunk).decode("ascii") + "?=")
    return "\\r\\n ".join(words)


def format_address(value):
    """`Name <addr>` with the display name encoded when needed."""
    if "<" not in value:
        return value.strip()
    name, _, address = value.partition("<")
    name = name.strip().strip('"')
    return f"{encode_word(name)} <{address.strip().rstrip('>')}>" if name else f"<{address}"
''',
    "postkit/message.py": '''
"""Build the bytes of a text/plain message."""

import email.utils
import time

from postkit.headers import encode_word, format_address


def compose(sender, to, subject, body, headers=None):
    lines = [
        "From: " + format_address(sender),
        "To: " + format_address(to),
        "Subject: " + encode_word(subject),
        "Date: " + email.utils.formatdate(time.time()),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {encode_word(value)}")
    text = "\\r\\n".join(lines) + "\\r\\n\\r\\n" + body.replace("\\n", "\\r\\n")
    return text.encode("utf-8")
''',
    "postkit/pickup.py": '''
"""Submit messages through an MTA pickup directory (one file per message)."""

import os
import time


class PickupClient:
    def __init__(self, directory):
        self.directory = directory

    def submit(self, data):
        name = f"{time.time_ns()}.{os.getpid()}.eml"
        temporary = os.path.join(self.directory, "." + name)
        with open(temporary, "wb") as out:
            out.write(data)
        os.replace(temporary, os.path.join(self.directory, name))
        return name
''',
}

# --- base files -----------------------------------------------------------------------------

PYPROJECT = """
[project]
name = "tasklane-mailer"
version = "0.9.0"
description = "Background worker that sends Tasklane's digests, receipts and redeliveries"
requires-python = ">=3.11"
dependencies = ["postkit>=2.4,<3"]

[tool.pytest.ini_options]
pythonpath = ["src"]
testpaths = ["tests"]
"""

README = """
# tasklane-mailer

The worker that sends Tasklane's mail: weekly digests, payment receipts, and redeliveries of
messages a receiving server deferred. Jobs come from the job table; failed jobs are retried with
backoff; sends are throttled per receiving domain.

Production hands the messages to the local Postfix through its pickup directory
(`MAILER_PICKUP_DIR`), using `postkit`.

    python -m pytest -q
"""

INIT = '''
"""Tasklane's mail worker."""

__version__ = "0.9.0"
'''

ERRORS = '''
"""Exceptions a job handler raises on purpose."""


class RetryLater(Exception):
    """The job cannot run yet (throttled, deferred); the worker retries it without reporting."""
'''

QUEUE = '''
"""The job table: jobs wait until `run_at`, are claimed one at a time and retried on failure."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

MAX_ATTEMPTS = 8


@dataclass
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    run_at: datetime
    attempts: int = 0
    status: str = "queued"  # queued, running, done, dead
    last_error: str | None = None


class JobQueue:
    def __init__(self) -> None:
        self.jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)

    def enqueue(
        self, kind: str, payload: dict[str, Any], run_at: datetime | None = None, attempts: int = 0
    ) -> Job:
        job = Job(next(self._ids), kind, payload, run_at or datetime.now(timezone.utc), attempts)
        self.jobs[job.id] = job
        return job

    def claim_next(self, now: datetime) -> Job | None:
        ready = [job for job in self.jobs.values() if job.status == "queued" and job.run_at <= now]
        if not ready:
            return None
        job = min(ready, key=lambda job: (job.run_at, job.id))
        job.status = "running"
        job.attempts += 1
        return job

    def complete(self, job: Job) -> None:
        job.status = "done"
        job.last_error = None

    def retry(self, job: Job, run_at: datetime, error: str) -> None:
        job.last_error = error
        if job.attempts >= MAX_ATTEMPTS:
            job.status = "dead"
            return
        job.status = "queued"
        job.run_at = run_at

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for job in self.jobs.values():
            counts[job.status] = counts.get(job.status, 0) + 1
        return counts
'''

BACKOFF = '''
"""How long a failed job waits before its next attempt."""

from __future__ import annotations

from datetime import datetime, timedelta

BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600


def delay_seconds(attempts: int) -> int:
    """30 s after the first failed attempt, doubling after each further one, at most an hour."""
    return min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(attempts - 1, 0))


def next_run_at(attempts: int, now: datetime) -> datetime:
    return now + timedelta(seconds=delay_seconds(attempts))
'''

TEMPLATES = '''
"""Subject and body templates per message kind and locale."""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, str]] = {
    "digest.en": (
        "Your Tasklane digest for {workspace}: {count} updates",
        "Hi {name},\\n\\nhere is what happened this week:\\n\\n{items}\\n\\nAll activity: {url}\\n",
    ),
    "digest.de": (
        "Ihre Tasklane-Übersicht für {workspace}: {count} Neuigkeiten",
        "Hallo {name},\\n\\ndas ist diese Woche passiert:\\n\\n{items}\\n\\nAlle Aktivitäten: {url}\\n",
    ),
    "receipt.en": (
        "Receipt for invoice {invoice}",
        "Hi {name},\\n\\nwe received your payment of {amount}. Thank you!\\n",
    ),
    "receipt.de": (
        "Beleg zur Rechnung {invoice}",
        "Hallo {name},\\n\\nwir haben Ihre Zahlung über {amount} erhalten. Vielen Dank!\\n",
    ),
}
DEFAULT_LOCALE = "en"


def pick_template(name: str, locale: str) -> tuple[str, str]:
    return TEMPLATES.get(f"{name}.{locale}") or TEMPLATES[f"{name}.{DEFAULT_LOCALE}"]


def render(kind: str, locale: str | None, **context: object) -> tuple[str, str]:
    subject, body = pick_template(kind, locale or DEFAULT_LOCALE)
    return subject.format(**context), body.format(**context)
'''

MESSAGES = '''
"""The message a handler builds and a transport sends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SENDER = "Tasklane <notifications@tasklane.io>"


@dataclass
class Message:
    sender: str
    to: str
    subject: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.to.rsplit("@", 1)[-1].strip(" >").lower()

    def to_dict(self) -> dict[str, Any]:
        return {
            "sender": self.sender,
            "to": self.to,
            "subject": self.subject,
            "body": self.body,
            "headers": dict(self.headers),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(data["sender"], data["to"], data["subject"], data["body"], data.get("headers", {}))


def build_message(to: str, subject: str, body: str, unsubscribe_url: str | None = None) -> Message:
    headers = {"X-Mailer": "tasklane-mailer"}
    if unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    return Message(SENDER, to, subject, body, headers)
'''

DIGEST = '''
"""Turning a user's activity feed into the lines of a digest."""

from __future__ import annotations

from typing import Any


def flatten(items: list[Any]) -> list[Any]:
    """The feed groups entries in (nested) per-project lists; the digest wants them flat."""
    flat: list[Any] = []
    for item in items:
        if isinstance(item, list):
            flat.extend(flatten(item))
        else:
            flat.append(item)
    return flat


def format_line(item: dict[str, str] | str) -> str:
    if isinstance(item, str):  # an announcement from the Tasklane team
        return f"* {item}"
    return f"- [{item['project']}] {item['text']}"


def format_items(items: list[Any]) -> str:
    return "\\n".join(format_line(item) for item in items)
'''

THROTTLE = '''
"""Per-domain send limits, so big providers do not start deferring our mail."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from mailer.errors import RetryLater

DOMAIN_LIMITS = {
    "gmail.com": 120,
    "googlemail.com": 120,
    "outlook.com": 60,
    "hotmail.com": 60,
    "web.de": 30,
    "gmx.de": 30,
    "tasklane.io": 0,  # our own relay: no limit
}
"""Messages per minute per receiving domain; 0 means no limit."""


class Throttled(RetryLater):
    pass


class Throttle:
    def __init__(
        self, limits: dict[str, int] | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = dict(DOMAIN_LIMITS if limits is None else limits)
        self.clock = clock
        self._sent: dict[str, deque[float]] = {}

    def acquire(self, domain: str) -> None:
        """Count one send to `domain`, or raise `Throttled` if its budget for the minute is spent."""
        limit = self.limits.get(domain)
        if not limit:
            return
        now = self.clock()
        window = self._sent.setdefault(domain, deque())
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= limit:
            raise Throttled(f"{domain}: {limit} messages per minute")
        window.append(now)
'''

TRANSPORT = '''
"""Where messages go. Tests use `MemoryTransport`; production uses `mailer.pickup`."""

from __future__ import annotations

from mailer.messages import Message


class MemoryTransport:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> str:
        self.sent.append(message)
        return f"memory-{len(self.sent)}"
'''

PICKUP = '''
"""The production transport: the local MTA's pickup directory, through postkit."""

from __future__ import annotations

import os

import postkit

from mailer.messages import Message


class PickupTransport:
    def __init__(self, directory: str) -> None:
        if not os.path.isdir(directory):
            raise RuntimeError(f"pickup directory {directory} does not exist")
        self.client = postkit.PickupClient(directory)

    def send(self, message: Message) -> str:
        data = postkit.compose(
            message.sender, message.to, message.subject, message.body, message.headers
        )
        return self.client.submit(data)
'''

HANDLERS = '''
"""Job handlers: `handler(payload, worker)`; raising fails the job (it is retried)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailer import digest, templates
from mailer.errors import RetryLater
from mailer.messages import Message, build_message


def _deliver(worker: Any, message: Message) -> None:
    worker.throttle.acquire(message.domain)
    worker.transport.send(message)


def send_digest(payload: dict[str, Any], worker: Any) -> None:
    user = payload["user"]
    entries = digest.flatten(payload["entries"])
    if not entries and not user.get("send_empty"):
        return
    subject, body = templates.render(
        "digest",
        user.get("locale"),
        name=user["name"],
        workspace=payload["workspace"],
        count=len(entries),
        items=digest.format_items(entries),
        url=payload["activity_url"],
    )
    _deliver(worker, build_message(user["email"], subject, body, payload["unsubscribe_url"]))


def _amount(cents: int, currency: str) -> str:
    return f"{cents // 100}.{cents % 100:02d} {currency}"


def send_receipt(payload: dict[str, Any], worker: Any) -> None:
    subject, body = templates.render(
        "receipt",
        payload.get("locale"),
        name=payload["name"],
        invoice=payload["invoice"],
        amount=_amount(payload["amount_cents"], payload["currency"]),
    )
    _deliver(worker, build_message(payload["email"], subject, body))


def redeliver(payload: dict[str, Any], worker: Any) -> None:
    """Send again a message that the receiving server deferred (4xx), once it may be retried."""
    not_before = datetime.fromisoformat(payload["not_before"])
    if worker.clock() < not_before:
        raise RetryLater(f"deferred by {payload['remote']} until {not_before.isoformat()}")
    _deliver(worker, Message.from_dict(payload["message"]))


HANDLERS = {"send_digest": send_digest, "send_receipt": send_receipt, "redeliver": redeliver}
'''

WORKER = '''
"""The worker loop: claim a job, run its handler, complete it or schedule a retry."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from mailer import backoff
from mailer.errors import RetryLater
from mailer.handlers import HANDLERS
from mailer.queue import Job, JobQueue
from mailer.throttle import Throttle

log = logging.getLogger("mailer.worker")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        transport: Any,
        throttle: Throttle | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.queue = queue
        self.transport = transport
        self.throttle = throttle or Throttle()
        self.clock = clock

    def process(self, job: Job) -> None:
        HANDLERS[job.kind](job.payload, self)

    def run(self, report: Callable[[BaseException], Any] | None = None) -> int:
        """Run every job that is due; failures are reported (if `report`) and retried."""
        handled = 0
        while (job := self.queue.claim_next(self.clock())) is not None:
            handled += 1
            try:
                self.process(job)
            except Exception as exc:
                retry_at = backoff.next_run_at(job.attempts, self.clock())
                self.queue.retry(job, retry_at, repr(exc))
                if isinstance(exc, RetryLater):
                    log.info("job %s: %s; retry at %s", job.id, exc, retry_at.isoformat())
                    continue
                log.warning("job %s (%s) failed on attempt %s: %r", job.id, job.kind, job.attempts, exc)
                if report is not None:
                    report(exc)
            else:
                self.queue.complete(job)
        return handled


def build_worker(queue: JobQueue) -> Worker:
    """The production worker: mail goes to the MTA's pickup directory."""
    from mailer.pickup import PickupTransport

    directory = os.environ.get("MAILER_PICKUP_DIR", "/var/spool/postfix/pickup")
    return Worker(queue, PickupTransport(directory))
'''

CONFTEST = """
from datetime import datetime, timezone

import pytest

from mailer.queue import JobQueue
from mailer.throttle import Throttle
from mailer.transport import MemoryTransport
from mailer.worker import Worker

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=timezone.utc)


@pytest.fixture
def queue():
    return JobQueue()


@pytest.fixture
def transport():
    return MemoryTransport()


@pytest.fixture
def worker(queue, transport):
    return Worker(queue, transport, Throttle(clock=lambda: 0.0), clock=lambda: NOW)


def digest_payload(email="ada@example.com", entries=None, locale="en"):
    return {
        "user": {"email": email, "name": "Ada", "locale": locale},
        "workspace": "Acme",
        "entries": entries if entries is not None else [[{"project": "Web", "text": "Launch page done"}]],
        "activity_url": "https://app.tasklane.io/acme/activity",
        "unsubscribe_url": "https://app.tasklane.io/u/abc123",
    }


def receipt_payload(email="grace@example.com", locale="en"):
    return {
        "email": email,
        "name": "Grace",
        "invoice": "INV-2026-0042",
        "amount_cents": 4900,
        "currency": "EUR",
        "locale": locale,
    }
"""

TEST_WORKER = """
from datetime import timedelta

from conftest import NOW, digest_payload, receipt_payload


def test_digest_is_sent(worker, queue, transport):
    queue.enqueue("send_digest", digest_payload(), run_at=NOW)
    assert worker.run() == 1
    [message] = transport.sent
    assert message.subject == "Your Tasklane digest for Acme: 1 updates"
    assert "- [Web] Launch page done" in message.body
    assert message.headers["List-Unsubscribe"] == "<https://app.tasklane.io/u/abc123>"


def test_empty_digest_is_skipped(worker, queue, transport):
    queue.enqueue("send_digest", digest_payload(entries=[]), run_at=NOW)
    worker.run()
    assert transport.sent == []
    assert queue.counts() == {"done": 1}


def test_receipt_in_german(worker, queue, transport):
    queue.enqueue("send_receipt", receipt_payload(locale="de"), run_at=NOW)
    worker.run()
    [message] = transport.sent
    assert message.subject == "Beleg zur Rechnung INV-2026-0042"
    assert "49.00 EUR" in message.body


def test_failed_job_is_reported_and_retried(worker, queue):
    job = queue.enqueue("send_receipt", {"email": "x@example.com"}, run_at=NOW)
    reported = []
    worker.run(report=reported.append)
    assert [type(error) for error in reported] == [KeyError]
    assert job.status == "queued"
    assert job.run_at == NOW + timedelta(seconds=30)


def test_redelivery_waits_until_it_may_be_retried(worker, queue, transport):
    message = {"sender": "a@tasklane.io", "to": "b@example.com", "subject": "Hi", "body": "x"}
    early = queue.enqueue(
        "redeliver",
        {"message": message, "remote": "mx.example.com", "not_before": (NOW + timedelta(minutes=5)).isoformat()},
        run_at=NOW,
    )
    reported = []
    worker.run(report=reported.append)
    assert reported == [] and transport.sent == []
    assert early.status == "queued"
    queue.enqueue("redeliver", {"message": message, "remote": "mx.example.com", "not_before": NOW.isoformat()}, run_at=NOW)
    worker.run()
    assert [m.to for m in transport.sent] == ["b@example.com"]
"""

TEST_QUEUE = """
from datetime import datetime, timedelta, timezone

from mailer.queue import MAX_ATTEMPTS, JobQueue

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def test_claims_due_jobs_in_order():
    queue = JobQueue()
    later = queue.enqueue("send_digest", {}, run_at=T0 + timedelta(minutes=1))
    first = queue.enqueue("send_digest", {}, run_at=T0)
    assert queue.claim_next(T0) is first
    assert queue.claim_next(T0) is None
    assert queue.claim_next(T0 + timedelta(minutes=1)) is later
    assert first.attempts == 1


def test_job_dies_after_max_attempts():
    queue = JobQueue()
    job = queue.enqueue("send_digest", {}, run_at=T0, attempts=MAX_ATTEMPTS - 1)
    queue.claim_next(T0)
    queue.retry(job, T0 + timedelta(hours=1), "boom")
    assert job.status == "dead"
"""

TEST_BACKOFF = """
from mailer import backoff


def test_delays_double_up_to_an_hour():
    assert [backoff.delay_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff.delay_seconds(12) == 3600
"""

TEST_TEMPLATES = """
from mailer import templates


def test_render_english_and_german():
    subject, _ = templates.render("receipt", "en", name="A", invoice="I-1", amount="1.00 EUR")
    assert subject == "Receipt for invoice I-1"
    subject, _ = templates.render("receipt", "de", name="A", invoice="I-1", amount="1.00 EUR")
    assert subject == "Beleg zur Rechnung I-1"


def test_unknown_locale_falls_back_to_english():
    assert templates.pick_template("receipt", "ja") == templates.TEMPLATES["receipt.en"]
    assert templates.pick_template("receipt", "en-GB") == templates.TEMPLATES["receipt.en"]
"""

TEST_DIGEST = """
from mailer import digest


def test_flatten_nested_project_groups():
    a, b, c = ({"project": p, "text": t} for p, t in (("Web", "1"), ("Web", "2"), ("App", "3")))
    assert digest.flatten([[a, b], [[c]]]) == [a, b, c]


def test_format_items():
    assert digest.format_items([{"project": "Web", "text": "Shipped"}]) == "- [Web] Shipped"
"""

TEST_THROTTLE = """
import pytest

from mailer.throttle import Throttle, Throttled


def test_budget_per_minute():
    now = [0.0]
    throttle = Throttle({"gmail.com": 2}, clock=lambda: now[0])
    throttle.acquire("gmail.com")
    throttle.acquire("gmail.com")
    with pytest.raises(Throttled):
        throttle.acquire("gmail.com")
    now[0] = 61.0
    throttle.acquire("gmail.com")


def test_unlisted_domain_is_not_limited():
    throttle = Throttle({"gmail.com": 1}, clock=lambda: 0.0)
    for _ in range(5):
        throttle.acquire("example.org")
"""

GITIGNORE = """
__pycache__/
*.pyc
.pytest_cache/
"""

HANDLERS_V1 = _edit(HANDLERS, "    worker.throttle.acquire(message.domain)\n", "")
WORKER_V1 = _edit(
    _edit(
        _edit(
            _edit(WORKER, "from mailer.throttle import Throttle\n", ""),
            "        throttle: Throttle | None = None,\n",
            "",
        ),
        "        self.throttle = throttle or Throttle()\n",
        "",
    ),
    "    return Worker(queue, PickupTransport(directory))\n",
    "    return Worker(queue, PickupTransport(directory))\n",
)
CONFTEST_V1 = _edit(
    _edit(CONFTEST, "from mailer.throttle import Throttle\n", ""),
    "Worker(queue, transport, Throttle(clock=lambda: 0.0), clock=lambda: NOW)",
    "Worker(queue, transport, clock=lambda: NOW)",
)

BASE = (
    Commit(
        "mailer: job table, worker loop, digest and receipt handlers",
        JONAS,
        "2025-11-04T10:20:00+01:00",
        {
            ".gitignore": GITIGNORE,
            "pyproject.toml": PYPROJECT.replace("0.9.0", "0.7.0"),
            "README.md": README,
            "src/mailer/__init__.py": INIT.replace("0.9.0", "0.7.0"),
            "src/mailer/errors.py": ERRORS,
            "src/mailer/queue.py": QUEUE,
            "src/mailer/backoff.py": BACKOFF,
            "src/mailer/templates.py": TEMPLATES,
            "src/mailer/messages.py": MESSAGES,
            "src/mailer/digest.py": DIGEST,
            "src/mailer/transport.py": TRANSPORT,
            "src/mailer/pickup.py": PICKUP,
            "src/mailer/handlers.py": HANDLERS_V1,
            "src/mailer/worker.py": WORKER_V1,
            "tests/conftest.py": CONFTEST_V1,
            "tests/test_worker.py": TEST_WORKER,
            "tests/test_queue.py": TEST_QUEUE,
            "tests/test_backoff.py": TEST_BACKOFF,
            "tests/test_templates.py": TEST_TEMPLATES,
            "tests/test_digest.py": TEST_DIGEST,
        },
    ),
    Commit(
        "throttle: per-domain send budgets (gmail started deferring us)",
        ELIF,
        "2025-12-09T15:47:00+03:00",
        {
            "src/mailer/throttle.py": THROTTLE,
            "src/mailer/handlers.py": HANDLERS,
            "src/mailer/worker.py": WORKER,
            "tests/conftest.py": CONFTEST,
            "tests/test_throttle.py": TEST_THROTTLE,
        },
    ),
    Commit(
        "Release 0.9.0",
        JONAS,
        "2026-01-14T09:05:00+01:00",
        {"pyproject.toml": PYPROJECT, "src/mailer/__init__.py": INIT},
        tag="v0.9.0",
    ),
)

# Unrelated later commits, so that the bug commit is not HEAD.
SYSTEMD_UNIT = """
[Unit]
Description=Tasklane mail worker
After=network.target postfix.service

[Service]
User=mailer
WorkingDirectory=/srv/mailer
Environment=MAILER_PICKUP_DIR=/var/spool/postfix/pickup
ExecStart=/usr/local/bin/worker
Restart=always

[Install]
WantedBy=multi-user.target
"""
QUEUE_DOC = _edit(
    QUEUE,
    '    status: str = "queued"  # queued, running, done, dead\n',
    '    status: str = "queued"  # queued -> running -> done | queued (retry) | dead\n',
)


def later_deploy(date: str) -> Commit:
    return Commit(
        "deploy: systemd unit for the worker",
        SAM,
        date,
        {"deploy/mailer-worker.service": SYSTEMD_UNIT},
    )


def later_queue_doc(date: str) -> Commit:
    return Commit(
        "queue: document the job status transitions",
        ELIF,
        date,
        {"src/mailer/queue.py": QUEUE_DOC},
    )


def trigger(jobs: str) -> str:
    """The production entry point (/usr/local/bin/worker), with the jobs found in the table."""
    return (
        """
import logging
import os
from datetime import datetime, timedelta, timezone

import sentry_sdk

from mailer.queue import JobQueue
from mailer.worker import build_worker

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
os.makedirs("var/pickup", exist_ok=True)
os.environ.setdefault("MAILER_PICKUP_DIR", os.path.abspath("var/pickup"))

now = datetime.now(timezone.utc)
queue = JobQueue()
"""
        + jobs
        + """

worker = build_worker(queue)
worker.run(report=sentry_sdk.capture_exception)
logging.getLogger("mailer").info("jobs: %s", queue.counts())
"""
    )


DIGEST_JOB = """
queue.enqueue(
    "send_digest",
    {
        "user": {"email": "lena.vogt@example.com", "name": "Lena", "locale": "en"},
        "workspace": "Northwind",
        "entries": [
            [{"project": "Website", "text": "Omar closed 'Fix the pricing table'"}],
            [{"project": "Mobile", "text": "Lena commented on 'Offline mode'"}],
        ],
        "activity_url": "https://app.tasklane.io/northwind/activity",
        "unsubscribe_url": "https://app.tasklane.io/u/6f1c2e",
    },
    run_at=now - timedelta(minutes=3),
)
"""

# --- case: mutable-default (wrong value, main is red) ---------------------------------------

MESSAGES_HEADERS = _edit(
    MESSAGES,
    """def build_message(to: str, subject: str, body: str, unsubscribe_url: str | None = None) -> Message:
    headers = {"X-Mailer": "tasklane-mailer"}
    if unsubscribe_url:""",
    '''def build_message(
    to: str,
    subject: str,
    body: str,
    unsubscribe_url: str | None = None,
    headers: dict[str, str] = {},
) -> Message:
    """`headers` are added to the standard ones (a redelivery keeps its Message-ID)."""
    headers.setdefault("X-Mailer", "tasklane-mailer")
    if unsubscribe_url:''',
)
MESSAGES_HEADERS_FIXED = _edit(
    MESSAGES_HEADERS,
    '''    headers: dict[str, str] = {},
) -> Message:
    """`headers` are added to the standard ones (a redelivery keeps its Message-ID)."""
    headers.setdefault("X-Mailer", "tasklane-mailer")''',
    '''    headers: dict[str, str] | None = None,
) -> Message:
    """`headers` are added to the standard ones (a redelivery keeps its Message-ID)."""
    headers = {"X-Mailer": "tasklane-mailer", **(headers or {})}''',
)
TEST_MESSAGES = """
from mailer.messages import build_message


def test_extra_headers_are_kept():
    message = build_message("a@example.com", "Hi", "x", headers={"Message-ID": "<1@tasklane.io>"})
    assert message.headers == {"Message-ID": "<1@tasklane.io>", "X-Mailer": "tasklane-mailer"}
"""
TEST_WORKER_LEAK = (
    TEST_WORKER
    + """

def test_receipt_after_digest_has_no_unsubscribe_header(worker, queue, transport):
    queue.enqueue("send_digest", digest_payload(), run_at=NOW)
    queue.enqueue("send_receipt", receipt_payload(), run_at=NOW)
    worker.run()
    digest, receipt = transport.sent
    assert "List-Unsubscribe" in digest.headers
    assert "List-Unsubscribe" not in receipt.headers
"""
)
BUG_HEADERS = "messages: let callers pass extra headers to build_message"

MUTABLE_DEFAULT = CaseSpec(
    id="worker-mutable-default",
    title="Receipts carry the List-Unsubscribe header of the digest sent before them",
    app=APP,
    bug_class="mutable-default",
    kind="wrong-value",
    history=(
        *BASE,
        Commit(
            BUG_HEADERS,
            SAM,
            "2026-02-02T13:14:00+00:00",
            {"src/mailer/messages.py": MESSAGES_HEADERS, "tests/test_messages.py": TEST_MESSAGES},
        ),
        later_deploy("2026-02-04T09:30:00+00:00"),
        Commit(
            "tests: transactional mail must not offer List-Unsubscribe",
            ELIF,
            "2026-02-05T16:02:00+03:00",
            {"tests/test_worker.py": TEST_WORKER_LEAK},
        ),
    ),
    gold=Gold("src/mailer/messages.py", "build_message", BUG_HEADERS),
    failing_tests=("tests/test_worker.py::test_receipt_after_digest_has_no_unsubscribe_header",),
    fix={"src/mailer/messages.py": MESSAGES_HEADERS_FIXED},
    hidden={
        "tests/test_hidden_message_headers.py": """
from mailer.messages import build_message


def test_messages_do_not_share_headers():
    digest = build_message("a@example.com", "Digest", "x", unsubscribe_url="https://u/1")
    receipt = build_message("b@example.com", "Receipt", "y")
    assert digest.headers == {"X-Mailer": "tasklane-mailer", "List-Unsubscribe": "<https://u/1>"}
    assert receipt.headers == {"X-Mailer": "tasklane-mailer"}
    receipt.headers["X-Test"] = "1"
    assert "X-Test" not in build_message("c@example.com", "Other", "z").headers


def test_extra_headers_are_merged_and_not_mutated():
    extra = {"Message-ID": "<7@tasklane.io>"}
    message = build_message("a@example.com", "Hi", "x", headers=extra)
    assert message.headers["Message-ID"] == "<7@tasklane.io>"
    assert message.headers["X-Mailer"] == "tasklane-mailer"
    assert extra == {"Message-ID": "<7@tasklane.io>"}
"""
    },
    project="4507422",
)

# --- case: runaway-recursion ----------------------------------------------------------------

DIGEST_SEQUENCE = _edit(
    _edit(
        DIGEST,
        "        if isinstance(item, list):\n",
        "        if isinstance(item, Sequence):\n",
    ),
    "from typing import Any\n",
    "from collections.abc import Sequence\nfrom typing import Any\n",
)
DIGEST_SEQUENCE_FIXED = _edit(
    DIGEST_SEQUENCE,
    "        if isinstance(item, Sequence):\n",
    "        if isinstance(item, Sequence) and not isinstance(item, str):\n",
)
TEST_DIGEST_TUPLES = (
    TEST_DIGEST
    + """

def test_flatten_tuples_from_the_grouped_feed():
    a, b = {"project": "Web", "text": "1"}, {"project": "App", "text": "2"}
    assert digest.flatten([(a,), [(b,)]]) == [a, b]
"""
)
BUG_SEQUENCE = "digest: flatten tuples from the grouped feed as well as lists"

RUNAWAY_RECURSION = CaseSpec(
    id="worker-runaway-recursion",
    title="Digest with a team announcement fails with RecursionError in digest.flatten",
    app=APP,
    bug_class="runaway-recursion",
    history=(
        *BASE,
        Commit(
            BUG_SEQUENCE,
            ELIF,
            "2026-02-10T11:38:00+03:00",
            {"src/mailer/digest.py": DIGEST_SEQUENCE, "tests/test_digest.py": TEST_DIGEST_TUPLES},
        ),
        later_queue_doc("2026-02-12T17:20:00+03:00"),
    ),
    gold=Gold("src/mailer/digest.py", "flatten", BUG_SEQUENCE),
    trigger=trigger(
        DIGEST_JOB
        + """
queue.enqueue(
    "send_digest",
    {
        "user": {"email": "omar@northwind.example", "name": "Omar", "locale": "en"},
        "workspace": "Northwind",
        "entries": [
            "Tasklane will be read-only on Sunday 08:00-09:00 UTC for maintenance.",
            ({"project": "Website", "text": "Lena reopened 'Fix the pricing table'"},),
        ],
        "activity_url": "https://app.tasklane.io/northwind/activity",
        "unsubscribe_url": "https://app.tasklane.io/u/91ab07",
    },
    run_at=now - timedelta(minutes=2),
)
"""
    ),
    fix={"src/mailer/digest.py": DIGEST_SEQUENCE_FIXED},
    hidden={
        "tests/test_hidden_announcements.py": """
from conftest import NOW, digest_payload

from mailer import digest

NOTICE = "Tasklane will be read-only on Sunday for maintenance."


def test_announcements_stay_whole():
    entry = {"project": "Web", "text": "Shipped"}
    assert digest.flatten([NOTICE, (entry,), [[entry]]]) == [NOTICE, entry, entry]


def test_digest_with_announcement_is_sent(worker, queue, transport):
    entries = [NOTICE, ({"project": "Web", "text": "Shipped"},)]
    queue.enqueue("send_digest", digest_payload(entries=entries), run_at=NOW)
    reported = []
    worker.run(report=reported.append)
    assert reported == []
    [message] = transport.sent
    assert f"* {NOTICE}" in message.body
    assert "- [Web] Shipped" in message.body
    assert "2 updates" in message.subject
"""
    },
    shape="sentry_event",
    libraries=POSTKIT,
    deploy_path="/srv/mailer",
    project="4507422",
)

# --- case: unbound-local --------------------------------------------------------------------

BACKOFF_SCHEDULE = '''
"""How long a failed job waits before its next attempt."""

from __future__ import annotations

from datetime import datetime, timedelta

SCHEDULE = ((1, 60), (3, 300), (5, 1800))
"""(attempts so far, up to and including; seconds to wait), agreed with the ESP's deferral policy."""


def delay_seconds(attempts: int) -> int:
    for limit, seconds in SCHEDULE:
        if attempts <= limit:
            delay = seconds
            break
    return delay


def next_run_at(attempts: int, now: datetime) -> datetime:
    return now + timedelta(seconds=delay_seconds(attempts))
'''
BACKOFF_SCHEDULE_FIXED = _edit(
    BACKOFF_SCHEDULE,
    """    for limit, seconds in SCHEDULE:
        if attempts <= limit:
            delay = seconds
            break
    return delay""",
    """    delay = SCHEDULE[-1][1]  # past the schedule: keep the longest wait
    for limit, seconds in SCHEDULE:
        if attempts <= limit:
            delay = seconds
            break
    return delay""",
)
TEST_BACKOFF_SCHEDULE = """
from mailer import backoff


def test_fixed_schedule():
    assert [backoff.delay_seconds(n) for n in (1, 2, 3, 4, 5)] == [60, 300, 300, 1800, 1800]
"""
TEST_WORKER_SCHEDULE = TEST_WORKER.replace(
    "NOW + timedelta(seconds=30)", "NOW + timedelta(seconds=60)"
)
BUG_SCHEDULE = "backoff: fixed retry schedule instead of doubling delays"

UNBOUND_LOCAL = CaseSpec(
    id="worker-unbound-local",
    title="Worker dies with UnboundLocalError in backoff.delay_seconds on a job's sixth attempt",
    app=APP,
    bug_class="unbound-local",
    history=(
        *BASE,
        later_deploy("2026-01-20T10:00:00+00:00"),
        Commit(
            BUG_SCHEDULE,
            SAM,
            "2026-02-16T08:51:00+00:00",
            {
                "src/mailer/backoff.py": BACKOFF_SCHEDULE,
                "tests/test_backoff.py": TEST_BACKOFF_SCHEDULE,
                "tests/test_worker.py": TEST_WORKER_SCHEDULE,
            },
        ),
        later_queue_doc("2026-02-18T14:11:00+03:00"),
    ),
    gold=Gold("src/mailer/backoff.py", "delay_seconds", BUG_SCHEDULE),
    trigger=trigger(
        DIGEST_JOB
        + """
queue.enqueue(
    "redeliver",
    {
        "message": {
            "sender": "Tasklane <notifications@tasklane.io>",
            "to": "p.schmitt@web.de",
            "subject": "Receipt for invoice INV-2026-0311",
            "body": "Hi Paula,\\n\\nwe received your payment of 49.00 EUR. Thank you!\\n",
            "headers": {"X-Mailer": "tasklane-mailer"},
        },
        "remote": "mx-ha03.web.de",
        "status": "4.2.1",
        "not_before": (now + timedelta(minutes=20)).isoformat(),
    },
    run_at=now - timedelta(minutes=1),
    attempts=5,
)
"""
    ),
    fix={"src/mailer/backoff.py": BACKOFF_SCHEDULE_FIXED},
    hidden={
        "tests/test_hidden_backoff_tail.py": """
from datetime import timedelta

from conftest import NOW

from mailer import backoff


def test_past_the_schedule_waits_the_longest_delay():
    assert backoff.delay_seconds(6) == 1800
    assert backoff.delay_seconds(7) == 1800
    assert backoff.delay_seconds(2) == 300


def test_sixth_attempt_is_rescheduled(worker, queue):
    payload = {"message": {}, "remote": "mx.web.de", "not_before": (NOW + timedelta(hours=1)).isoformat()}
    job = queue.enqueue("redeliver", payload, run_at=NOW, attempts=5)
    worker.run()
    assert job.status == "queued"
    assert job.run_at == NOW + timedelta(seconds=1800)
"""
    },
    shape="sentry_webhook",
    libraries=POSTKIT,
    deploy_path="/opt/mailer/current",
    project="4507422",
)

# --- case: division-by-zero -----------------------------------------------------------------

THROTTLE_SPREAD = _edit(
    _edit(
        THROTTLE,
        '''        self._sent: dict[str, deque[float]] = {}

    def acquire(self, domain: str) -> None:
        """Count one send to `domain`, or raise `Throttled` if its budget for the minute is spent."""
        limit = self.limits.get(domain)
        if not limit:
            return
        now = self.clock()
        window = self._sent.setdefault(domain, deque())
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= limit:
            raise Throttled(f"{domain}: {limit} messages per minute")
        window.append(now)
''',
        '''        self._last: dict[str, float] = {}

    def _interval(self, domain: str) -> float | None:
        """Seconds between two sends to `domain`; None if it has no limit."""
        limit = self.limits.get(domain)
        if limit is None:
            return None
        return 60.0 / limit

    def acquire(self, domain: str) -> None:
        """Count one send to `domain`, or raise `Throttled` if it is too soon after the last one.

        Sends are spread evenly over the minute: bursts got us deferred even within the budget.
        """
        interval = self._interval(domain)
        if interval is None:
            return
        now = self.clock()
        last = self._last.get(domain)
        if last is not None and now - last < interval:
            raise Throttled(f"{domain}: one message every {interval:.1f} s")
        self._last[domain] = now
''',
    ),
    "from collections import deque\n",
    "",
)
THROTTLE_SPREAD_FIXED = _edit(
    THROTTLE_SPREAD,
    """        if limit is None:
            return None""",
    """        if not limit:
            return None""",
)
TEST_THROTTLE_SPREAD = """
import pytest

from mailer.throttle import Throttle, Throttled


def test_sends_are_spread_over_the_minute():
    now = [0.0]
    throttle = Throttle({"gmail.com": 2}, clock=lambda: now[0])
    throttle.acquire("gmail.com")
    now[0] = 10.0
    with pytest.raises(Throttled):
        throttle.acquire("gmail.com")
    now[0] = 30.0
    throttle.acquire("gmail.com")


def test_unlisted_domain_is_not_limited():
    throttle = Throttle({"gmail.com": 1}, clock=lambda: 0.0)
    for _ in range(5):
        throttle.acquire("example.org")
"""
BUG_SPREAD = "throttle: spread sends evenly over the minute instead of bursting"

DIVISION_BY_ZERO = CaseSpec(
    id="worker-division-by-zero",
    title="Digest to a tasklane.io address fails with ZeroDivisionError in the throttle",
    app=APP,
    bug_class="division-by-zero",
    history=(
        *BASE,
        Commit(
            BUG_SPREAD,
            ELIF,
            "2026-02-19T12:26:00+03:00",
            {
                "src/mailer/throttle.py": THROTTLE_SPREAD,
                "tests/test_throttle.py": TEST_THROTTLE_SPREAD,
            },
        ),
        later_deploy("2026-02-20T08:00:00+00:00"),
    ),
    gold=Gold("src/mailer/throttle.py", "Throttle._interval", BUG_SPREAD),
    trigger=trigger(
        DIGEST_JOB
        + """
queue.enqueue(
    "send_digest",
    {
        "user": {"email": "sam.okafor@tasklane.io", "name": "Sam", "locale": "en"},
        "workspace": "Tasklane",
        "entries": [[{"project": "Mailer", "text": "Elif merged 'Spread sends over the minute'"}]],
        "activity_url": "https://app.tasklane.io/tasklane/activity",
        "unsubscribe_url": "https://app.tasklane.io/u/0c77d1",
    },
    run_at=now - timedelta(minutes=2),
)
"""
    ),
    fix={"src/mailer/throttle.py": THROTTLE_SPREAD_FIXED},
    hidden={
        "tests/test_hidden_unlimited_domain.py": """
import pytest

from conftest import NOW, digest_payload
from mailer.throttle import Throttle, Throttled


def test_zero_means_no_limit():
    throttle = Throttle({"tasklane.io": 0, "gmail.com": 60}, clock=lambda: 0.0)
    for _ in range(3):
        throttle.acquire("tasklane.io")
    throttle.acquire("gmail.com")
    with pytest.raises(Throttled):
        throttle.acquire("gmail.com")


def test_digest_to_own_domain_is_sent(worker, queue, transport):
    queue.enqueue("send_digest", digest_payload(email="sam@tasklane.io"), run_at=NOW)
    queue.enqueue("send_digest", digest_payload(email="elif@tasklane.io"), run_at=NOW)
    reported = []
    worker.run(report=reported.append)
    assert reported == []
    assert [m.to for m in transport.sent] == ["sam@tasklane.io", "elif@tasklane.io"]
"""
    },
    shape="sentry_api",
    libraries=POSTKIT,
    deploy_path="/home/deploy/mailer/releases/20260301",
    project="4507422",
)

# --- case: type-mixup -----------------------------------------------------------------------

HANDLERS_RETRY_AFTER = _edit(
    _edit(
        _edit(
            HANDLERS,
            """    not_before = datetime.fromisoformat(payload["not_before"])
""",
            """    deferred_at = datetime.fromisoformat(payload["deferred_at"])
    retry_after = payload.get("headers", {}).get("Retry-After", DEFAULT_RETRY_AFTER_SECONDS)
    not_before = deferred_at + timedelta(seconds=retry_after + SAFETY_MARGIN_SECONDS)
""",
        ),
        "from datetime import datetime\n",
        "from datetime import datetime, timedelta\n",
    ),
    """from mailer.messages import Message, build_message
""",
    """from mailer.messages import Message, build_message

DEFAULT_RETRY_AFTER_SECONDS = 900
SAFETY_MARGIN_SECONDS = 30
""",
)
HANDLERS_RETRY_AFTER_FIXED = _edit(
    HANDLERS_RETRY_AFTER,
    """    retry_after = payload.get("headers", {}).get("Retry-After", DEFAULT_RETRY_AFTER_SECONDS)
""",
    """    retry_after = int(payload.get("headers", {}).get("Retry-After", DEFAULT_RETRY_AFTER_SECONDS))
""",
)
TEST_WORKER_RETRY_AFTER = _edit(
    TEST_WORKER,
    """    early = queue.enqueue(
        "redeliver",
        {"message": message, "remote": "mx.example.com", "not_before": (NOW + timedelta(minutes=5)).isoformat()},
        run_at=NOW,
    )""",
    """    early = queue.enqueue(
        "redeliver",
        {"message": message, "remote": "mx.example.com", "deferred_at": NOW.isoformat()},
        run_at=NOW,
    )""",
).replace(
    """{"message": message, "remote": "mx.example.com", "not_before": NOW.isoformat()}""",
    """{"message": message, "remote": "mx.example.com", "deferred_at": (NOW - timedelta(hours=1)).isoformat()}""",
)
BUG_RETRY_AFTER = "redeliver: wait as long as the receiving server asks (Retry-After)"

TYPE_MIXUP = CaseSpec(
    id="worker-type-mixup",
    title='Redelivery fails with TypeError: can only concatenate str (not "int") to str',
    app=APP,
    bug_class="type-mixup",
    history=(
        *BASE,
        later_queue_doc("2026-01-27T10:40:00+03:00"),
        Commit(
            BUG_RETRY_AFTER,
            JONAS,
            "2026-02-23T15:05:00+01:00",
            {
                "src/mailer/handlers.py": HANDLERS_RETRY_AFTER,
                "tests/test_worker.py": TEST_WORKER_RETRY_AFTER,
            },
        ),
        later_deploy("2026-02-24T09:12:00+00:00"),
    ),
    gold=Gold("src/mailer/handlers.py", "redeliver", BUG_RETRY_AFTER),
    trigger=trigger(
        """
queue.enqueue(
    "redeliver",
    {
        "message": {
            "sender": "Tasklane <notifications@tasklane.io>",
            "to": "m.lambert@outlook.com",
            "subject": "Receipt for invoice INV-2026-0388",
            "body": "Hi Marie,\\n\\nwe received your payment of 19.00 EUR. Thank you!\\n",
            "headers": {"X-Mailer": "tasklane-mailer"},
        },
        "remote": "outlook-com.olc.protection.outlook.com",
        "status": "4.7.650",
        "deferred_at": (now - timedelta(minutes=16)).isoformat(),
        "headers": {"Retry-After": "600"},
    },
    run_at=now - timedelta(minutes=1),
)
"""
    ),
    fix={"src/mailer/handlers.py": HANDLERS_RETRY_AFTER_FIXED},
    hidden={
        "tests/test_hidden_retry_after.py": """
from datetime import timedelta

from conftest import NOW

MESSAGE = {"sender": "a@tasklane.io", "to": "b@outlook.com", "subject": "Hi", "body": "x"}


def _job(queue, minutes_ago, retry_after):
    payload = {
        "message": MESSAGE,
        "remote": "mx.outlook.com",
        "deferred_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "headers": {"Retry-After": retry_after},
    }
    return queue.enqueue("redeliver", payload, run_at=NOW)


def test_retry_after_header_is_honoured(worker, queue, transport):
    job = _job(queue, minutes_ago=5, retry_after="600")
    reported = []
    worker.run(report=reported.append)
    assert reported == [] and transport.sent == []
    assert job.status == "queued"


def test_sent_once_retry_after_has_passed(worker, queue, transport):
    job = _job(queue, minutes_ago=11, retry_after="600")
    reported = []
    worker.run(report=reported.append)
    assert reported == []
    assert job.status == "done"
    assert [m.to for m in transport.sent] == ["b@outlook.com"]
"""
    },
    shape="sentry_event",
    libraries=POSTKIT,
    deploy_path="/app",
    project="4507422",
)

# --- case: missing-return (wrong value, main is red) ----------------------------------------

TEMPLATES_REGIONAL = _edit(
    TEMPLATES,
    """def pick_template(name: str, locale: str) -> tuple[str, str]:
    return TEMPLATES.get(f"{name}.{locale}") or TEMPLATES[f"{name}.{DEFAULT_LOCALE}"]
""",
    '''def _language_fallback(name: str, locale: str) -> tuple[str, str] | None:
    """`de-AT`, `de_CH` -> the `de` template, if there is one."""
    language = locale.replace("_", "-").split("-")[0].lower()
    template = TEMPLATES.get(f"{name}.{language}")
    if template is None:
        log.debug("no %s template for %s, using %s", name, locale, DEFAULT_LOCALE)


def pick_template(name: str, locale: str) -> tuple[str, str]:
    return (
        TEMPLATES.get(f"{name}.{locale}")
        or _language_fallback(name, locale)
        or TEMPLATES[f"{name}.{DEFAULT_LOCALE}"]
    )
''',
)
TEMPLATES_REGIONAL = _edit(
    TEMPLATES_REGIONAL,
    "from __future__ import annotations\n",
    "from __future__ import annotations\n\nimport logging\n\nlog = logging.getLogger(__name__)\n",
)
TEMPLATES_REGIONAL_FIXED = _edit(
    TEMPLATES_REGIONAL,
    """        log.debug("no %s template for %s, using %s", name, locale, DEFAULT_LOCALE)
""",
    """        log.debug("no %s template for %s, using %s", name, locale, DEFAULT_LOCALE)
    return template
""",
)
TEST_TEMPLATES_REGIONAL = (
    TEST_TEMPLATES
    + """

def test_regional_locale_uses_its_language():
    assert templates.pick_template("receipt", "de-AT") == templates.TEMPLATES["receipt.de"]
    assert templates.pick_template("digest", "de_CH") == templates.TEMPLATES["digest.de"]
"""
)
BUG_REGIONAL = "templates: regional locales (de-AT, de_CH) fall back to their language"

MISSING_RETURN = CaseSpec(
    id="worker-missing-return",
    title="Austrian and Swiss users get English mail instead of German",
    app=APP,
    bug_class="missing-return",
    kind="wrong-value",
    history=(
        *BASE,
        later_deploy("2026-01-22T11:00:00+00:00"),
        Commit(
            BUG_REGIONAL,
            JONAS,
            "2026-02-26T17:44:00+01:00",
            {
                "src/mailer/templates.py": TEMPLATES_REGIONAL,
                "tests/test_templates.py": TEST_TEMPLATES_REGIONAL,
            },
        ),
    ),
    gold=Gold("src/mailer/templates.py", "_language_fallback", BUG_REGIONAL),
    failing_tests=("tests/test_templates.py::test_regional_locale_uses_its_language",),
    fix={"src/mailer/templates.py": TEMPLATES_REGIONAL_FIXED},
    hidden={
        "tests/test_hidden_locale_fallback.py": """
from conftest import NOW, receipt_payload

from mailer import templates


def test_language_fallback():
    assert templates.pick_template("receipt", "de-AT") == templates.TEMPLATES["receipt.de"]
    assert templates.pick_template("receipt", "de") == templates.TEMPLATES["receipt.de"]
    assert templates.pick_template("receipt", "fr-CA") == templates.TEMPLATES["receipt.en"]


def test_austrian_receipt_is_german(worker, queue, transport):
    queue.enqueue("send_receipt", receipt_payload(locale="de-AT"), run_at=NOW)
    queue.enqueue("send_receipt", receipt_payload(locale="en-GB"), run_at=NOW)
    worker.run()
    assert [m.subject for m in transport.sent] == [
        "Beleg zur Rechnung INV-2026-0042",
        "Receipt for invoice INV-2026-0042",
    ]
"""
    },
    project="4507422",
)

# --- case: escalate (third-party: postkit cannot encode a long non-ASCII subject) -----------

ESCALATE_THIRD_PARTY = CaseSpec(
    id="worker-third-party",
    title="German digests fail with UnicodeDecodeError inside postkit.headers.encode_word",
    app=APP,
    bug_class="third-party",
    expect="escalate",
    history=(
        *BASE,
        later_deploy("2026-01-20T10:00:00+00:00"),
        later_queue_doc("2026-02-03T12:30:00+03:00"),
    ),
    gold=None,
    trigger=trigger(
        DIGEST_JOB
        + """
queue.enqueue(
    "send_digest",
    {
        "user": {"email": "k.hoffmann@gmx.de", "name": "Katrin", "locale": "de"},
        "workspace": "Stadtwerke Schönebeck",
        "entries": [
            [{"project": "Netzausbau", "text": "Jörg hat 'Trassenplan Nord' abgeschlossen"}],
            [{"project": "Kundenportal", "text": "Katrin hat 'Zählerstand-Formular' kommentiert"}],
        ],
        "activity_url": "https://app.tasklane.io/sw-schoenebeck/activity",
        "unsubscribe_url": "https://app.tasklane.io/u/5d09aa",
    },
    run_at=now - timedelta(minutes=2),
)
"""
    ),
    libraries=POSTKIT,
    shape="sentry_webhook",
    deploy_path="/srv/mailer",
    project="4507422",
)

CASES: list[CaseSpec] = [
    MUTABLE_DEFAULT,
    RUNAWAY_RECURSION,
    UNBOUND_LOCAL,
    DIVISION_BY_ZERO,
    TYPE_MIXUP,
    MISSING_RETURN,
    ESCALATE_THIRD_PARTY,
]
