"""evpipe: the analytics team's nightly batch pipeline (app `data-pipeline`).

It reads the collector's JSON-lines event files, validates and cleans them (duplicates, bots,
internal traffic, channel attribution), sessionizes by a 30-minute inactivity gap, aggregates
daily metrics and writes a JSON report. src layout. One base history; each case adds its own
commits on top.
"""

from __future__ import annotations

import json

from evals.builders.kit import CaseSpec, Commit, Gold

JONAS = "Jonas Weber <jonas.weber@tidewater-analytics.io>"
AIKO = "Aiko Tanaka <aiko.tanaka@tidewater-analytics.io>"
SAM = "Sam Osei <samosei@users.noreply.github.com>"
PROJECT = "4507388"


def _patch(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise ValueError(f"patch anchor found {text.count(old)} times: {old[:60]!r}")
    return text.replace(old, new)


# --- base application ---------------------------------------------------------------------

PYPROJECT = """[project]
name = "evpipe"
version = "2.1.0"
description = "Nightly sessionization and daily metrics from collector events"
requires-python = ">=3.11"

[project.optional-dependencies]
devices = ["uaparse>=2.1,<3"]

[project.scripts]
evpipe = "evpipe.run:main"

[tool.pytest.ini_options]
pythonpath = ["src"]
testpaths = ["tests"]
"""

README = """# evpipe

Nightly batch job: collector event files (JSON lines) in, one daily metrics report out.

    evpipe var/spool/events-2026-03-01.jsonl --day 2026-03-01 --out var/reports

Stages: `validate` (schema) -> `clean` (duplicates, bots, internal traffic, channels) ->
`sessions` (30-minute inactivity gap) -> `aggregate` -> `report`.

Device families need the optional `uaparse` package (`pip install .[devices]`).
"""

GITIGNORE = """__pycache__/
.pytest_cache/
var/
*.egg-info/
"""

INIT = '''"""evpipe: sessions and daily metrics from collector events."""

__version__ = "2.1.0"
'''

RECORDS = '''"""Event records as the collector writes them: one JSON object per line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


@dataclass(frozen=True)
class Event:
    event_id: str
    user_id: str
    type: str
    ts: datetime
    page: str | None = None
    channel: str = "direct"
    amount: float = 0.0
    device: str | None = None


def parse_ts(raw: str) -> datetime:
    """ISO 8601 with an offset or 'Z' -> an aware datetime in UTC."""
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {raw!r}")
    return moment.astimezone(timezone.utc)


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) for every non-blank line."""
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, json.loads(line)
'''

VALIDATE = '''"""The collector's record schema. A record that breaks it stops the batch with a SchemaError
naming the file and line: the upstream export is wrong and has to be re-run."""

from __future__ import annotations

from evpipe.records import parse_ts

REQUIRED = ("event_id", "user_id", "type", "ts")
EVENT_TYPES = frozenset({"pageview", "click", "signup", "purchase", "refund"})
MONEY_TYPES = frozenset({"purchase", "refund"})


class SchemaError(ValueError):
    def __init__(self, source: str, line: int, problem: str) -> None:
        super().__init__(f"{source}:{line}: {problem}")
        self.source = source
        self.line = line
        self.problem = problem


def validate(record: object, source: str = "<input>", line: int = 0) -> None:
    if not isinstance(record, dict):
        raise SchemaError(source, line, f"expected an object, got {type(record).__name__}")
    for name in REQUIRED:
        if name not in record:
            raise SchemaError(source, line, f"missing required field {name!r}")
        if not isinstance(record[name], str):
            value = record[name]
            raise SchemaError(source, line, f"{name!r} must be a string, got {type(value).__name__} {value!r}")
    if record["type"] not in EVENT_TYPES:
        raise SchemaError(source, line, f"unknown event type {record['type']!r}")
    if record["type"] in MONEY_TYPES and not isinstance(record.get("amount"), (int, float)):
        raise SchemaError(source, line, f"{record['type']} without a numeric amount")
    try:
        parse_ts(record["ts"])
    except ValueError as error:
        raise SchemaError(source, line, f"bad timestamp: {error}") from None
'''

CLEAN = '''"""Records -> clean events: validated, deduplicated, no bots or internal traffic, with a channel."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from evpipe.records import Event, parse_ts
from evpipe.validate import validate

BOT_MARKERS = ("bot", "crawler", "spider", "headless", "preview")
SEARCH_HOSTS = ("google.", "bing.", "duckduckgo.", "ecosia.")
SOCIAL_HOSTS = ("facebook.", "t.co", "twitter.", "linkedin.", "reddit.")


def is_bot(user_agent: str) -> bool:
    agent = user_agent.lower()
    return any(marker in agent for marker in BOT_MARKERS)


def channel_of(record: dict) -> str:
    host = urlsplit(record.get("referrer") or "").hostname or ""
    if not host:
        return "direct"
    if any(marker in host for marker in SEARCH_HOSTS):
        return "search"
    if any(marker in host for marker in SOCIAL_HOSTS):
        return "social"
    return "referral"


def to_event(record: dict) -> Event:
    return Event(
        event_id=record["event_id"],
        user_id=record["user_id"],
        type=record["type"],
        ts=parse_ts(record["ts"]),
        page=record.get("page"),
        channel=channel_of(record),
        amount=float(record.get("amount") or 0.0),
    )


def clean(records: Iterable[tuple[int, dict]], source: str = "<input>") -> list[Event]:
    """Validate every record; keep the first of each event id, drop bots and internal traffic."""
    seen: set[str] = set()
    events: list[Event] = []
    for line, record in records:
        validate(record, source, line)
        if record["event_id"] in seen:
            continue
        seen.add(record["event_id"])
        if is_bot(record.get("ua") or "") or record.get("internal"):
            continue
        events.append(to_event(record))
    events.sort(key=lambda event: event.ts)
    return events
'''

CLEAN_DEVICES = _patch(
    CLEAN,
    """from evpipe.records import Event, parse_ts
from evpipe.validate import validate
""",
    """from evpipe.records import Event, parse_ts
from evpipe.validate import validate

try:  # optional: `pip install .[devices]`
    import uaparse
except ImportError:
    uaparse = None
""",
)
CLEAN_DEVICES = _patch(
    CLEAN_DEVICES,
    """def to_event(record: dict) -> Event:""",
    '''def device_of(user_agent: str) -> str | None:
    """'mobile', 'tablet', 'desktop', ... when uaparse is installed."""
    if uaparse is None or not user_agent:
        return None
    return uaparse.parse(user_agent).device_family


def to_event(record: dict) -> Event:''',
)
CLEAN_DEVICES = _patch(
    CLEAN_DEVICES,
    """        amount=float(record.get("amount") or 0.0),
    )""",
    """        amount=float(record.get("amount") or 0.0),
        device=device_of(record.get("ua") or ""),
    )""",
)

WINDOWS = '''"""Time windows in UTC: the day a report covers, hourly buckets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone

from evpipe.records import Event

UTC = timezone.utc


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of `day`, in UTC."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def select(events: Sequence[Event], start: datetime, end: datetime) -> list[Event]:
    """The events with start <= ts < end."""
    return [event for event in events if start <= event.ts < end]


def hourly_counts(events: Sequence[Event], day: date, kind: str = "pageview") -> list[int]:
    """24 counts of `kind` events, one per UTC hour of `day`."""
    start, end = day_bounds(day)
    counts = [0] * 24
    for event in select(events, start, end):
        if event.type == kind:
            counts[event.ts.hour] += 1
    return counts
'''

SESSIONS = '''"""Sessions: a user's events with no more than a 30-minute gap between them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from evpipe.records import Event

GAP = timedelta(minutes=30)


@dataclass
class Session:
    user_id: str
    events: list[Event] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.events[0].ts

    @property
    def end(self) -> datetime:
        return self.events[-1].ts

    @property
    def duration_seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def channel(self) -> str:
        return self.events[0].channel

    @property
    def pageviews(self) -> int:
        return sum(1 for event in self.events if event.type == "pageview")

    @property
    def is_bounce(self) -> bool:
        return len(self.events) == 1 and self.events[0].type == "pageview"

    @property
    def converted(self) -> bool:
        return any(event.type == "purchase" for event in self.events)


def sessionize(events: Iterable[Event], gap: timedelta = GAP) -> list[Session]:
    by_user: dict[str, list[Event]] = defaultdict(list)
    for event in sorted(events, key=lambda event: event.ts):
        by_user[event.user_id].append(event)
    sessions: list[Session] = []
    for user_id, user_events in by_user.items():
        current = Session(user_id, [user_events[0]])
        for event in user_events[1:]:
            if event.ts - current.end > gap:
                sessions.append(current)
                current = Session(user_id, [event])
            else:
                current.events.append(event)
        sessions.append(current)
    sessions.sort(key=lambda session: (session.start, session.user_id))
    return sessions
'''

AGGREGATE = '''"""Daily metrics over sessions."""

from __future__ import annotations

from collections import defaultdict

from evpipe.sessions import Session


def ratio(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def revenue_and_orders(sessions: list[Session]) -> tuple[float, int]:
    events = [event for session in sessions for event in session.events]
    purchases = [event.amount for event in events if event.type == "purchase"]
    refunds = [event.amount for event in events if event.type == "refund"]
    return round(sum(purchases) - sum(refunds), 2), len(purchases)


def by_channel(sessions: list[Session]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[Session]] = defaultdict(list)
    for session in sessions:
        groups[session.channel].append(session)
    report = {}
    for channel, group in sorted(groups.items()):
        revenue, orders = revenue_and_orders(group)
        report[channel] = {
            "sessions": len(group),
            "conversion_rate": ratio(sum(session.converted for session in group), len(group)),
            "revenue": revenue,
            "orders": orders,
        }
    return report


def summarise(sessions: list[Session]) -> dict:
    revenue, orders = revenue_and_orders(sessions)
    count = len(sessions)
    return {
        "sessions": count,
        "users": len({session.user_id for session in sessions}),
        "pageviews": sum(session.pageviews for session in sessions),
        "bounce_rate": ratio(sum(session.is_bounce for session in sessions), count),
        "conversion_rate": ratio(sum(session.converted for session in sessions), count),
        "revenue": revenue,
        "orders": orders,
        "avg_order_value": round(revenue / orders, 2) if orders else 0.0,
        "avg_session_seconds": round(sum(s.duration_seconds for s in sessions) / count, 1) if count else 0.0,
        "channels": by_channel(sessions),
    }
'''

REPORT = '''"""The daily report: JSON for the dashboard, a few lines for the job log."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path


def write_report(metrics: dict, out_dir: Path, day: date | None) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"daily-{day.isoformat()}.json" if day else "daily-all.json"
    path = out_dir / name
    payload = {"day": day.isoformat() if day else None, **metrics}
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\\n", encoding="utf-8")
    return path


def render_summary(metrics: dict) -> str:
    return (
        f"sessions={metrics['sessions']} users={metrics['users']} "
        f"pageviews={metrics['pageviews']} bounce={metrics['bounce_rate']:.1%} "
        f"conversion={metrics['conversion_rate']:.1%} revenue={metrics['revenue']:.2f}"
    )
'''

RUN = '''"""`evpipe FILE... [--day YYYY-MM-DD] [--out DIR]`: one batch, one report."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from evpipe.aggregate import summarise
from evpipe.clean import clean
from evpipe.records import Event, read_jsonl
from evpipe.report import render_summary, write_report
from evpipe.sessions import sessionize
from evpipe.windows import day_bounds, hourly_counts, select


def load(paths: list[Path]) -> list[Event]:
    events: list[Event] = []
    for path in paths:
        events.extend(clean(read_jsonl(path), source=path.name))
    events.sort(key=lambda event: event.ts)
    return events


def run_batch(paths: list[Path], day: date | None = None) -> dict:
    events = load(paths)
    if day is not None:
        start, end = day_bounds(day)
        events = select(events, start, end)
    metrics = summarise(sessionize(events))
    if day is not None:
        metrics["hourly_pageviews"] = hourly_counts(events, day)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="evpipe")
    parser.add_argument("inputs", nargs="+", type=Path, help="collector JSON-lines files")
    parser.add_argument("--day", type=date.fromisoformat, help="report only this UTC day")
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    metrics = run_batch(args.inputs, args.day)
    path = write_report(metrics, args.out, args.day)
    print(render_summary(metrics))
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

CONFTEST = """import json

import pytest

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"


def record(event_id, user_id, ts, type="pageview", **fields):
    return {"event_id": event_id, "user_id": user_id, "type": type, "ts": ts, "ua": CHROME, **fields}


@pytest.fixture
def day_records():
    return [
        record("e1", "u1", "2026-03-01T09:00:00Z", page="/", referrer="https://www.google.com/"),
        record("e2", "u1", "2026-03-01T09:05:00Z", page="/pricing"),
        record("e3", "u1", "2026-03-01T09:12:00Z", "purchase", page="/checkout", amount=49.0),
        record("e4", "u2", "2026-03-01T10:00:00Z", page="/blog/launch", referrer="https://t.co/x1"),
        record("e5", "u1", "2026-03-01T13:00:00Z", page="/docs"),
        record("e6", "u3", "2026-03-01T11:30:00+01:00", page="/", referrer="https://news.example.org/"),
        record("e7", "u3", "2026-03-01T10:40:00Z", "purchase", page="/checkout", amount=120.0),
    ]


@pytest.fixture
def write_jsonl(tmp_path):
    def write(name, records):
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\\n" for r in records))
        return path

    return write
"""

TEST_VALIDATE = """import pytest

from evpipe.validate import SchemaError, validate


def test_valid_record_passes(day_records):
    for record in day_records:
        validate(record, "events.jsonl", 1)


def test_missing_field_names_file_and_line():
    with pytest.raises(SchemaError, match=r"events.jsonl:7: missing required field 'ts'"):
        validate({"event_id": "e", "user_id": "u", "type": "click"}, "events.jsonl", 7)


def test_purchase_needs_an_amount():
    record = {"event_id": "e", "user_id": "u", "type": "purchase", "ts": "2026-03-01T00:00:00Z"}
    with pytest.raises(SchemaError, match="purchase without a numeric amount"):
        validate(record)
"""

TEST_CLEAN = """from conftest import record

from evpipe.clean import channel_of, clean


def numbered(records):
    return list(enumerate(records, start=1))


def test_duplicates_and_bots_are_dropped(day_records):
    bot = record("b1", "crawler", "2026-03-01T09:30:00Z", ua="Googlebot/2.1 (+http://www.google.com/bot.html)")
    events = clean(numbered([*day_records, day_records[0], bot]))
    assert [event.event_id for event in events] == ["e1", "e2", "e3", "e4", "e6", "e7", "e5"]


def test_channels():
    assert channel_of({"referrer": "https://www.google.com/search?q=x"}) == "search"
    assert channel_of({"referrer": "https://www.linkedin.com/feed/"}) == "social"
    assert channel_of({"referrer": "https://news.example.org/a"}) == "referral"
    assert channel_of({}) == "direct"


def test_timestamps_are_utc(day_records):
    events = {event.event_id: event for event in clean(numbered(day_records))}
    assert events["e6"].ts.isoformat() == "2026-03-01T10:30:00+00:00"
"""

TEST_SESSIONS = """from evpipe.clean import clean
from evpipe.sessions import sessionize


def test_thirty_minute_gap_splits_sessions(day_records):
    sessions = sessionize(clean(enumerate(day_records, start=1)))
    assert [(s.user_id, len(s.events)) for s in sessions] == [("u1", 3), ("u2", 1), ("u3", 2), ("u1", 1)]
    assert sessions[0].duration_seconds == 720
    assert sessions[0].converted and not sessions[1].converted
    assert sessions[1].is_bounce
"""

TEST_AGGREGATE = """from evpipe.aggregate import summarise
from evpipe.clean import clean
from evpipe.sessions import sessionize


def test_daily_metrics(day_records):
    metrics = summarise(sessionize(clean(enumerate(day_records, start=1))))
    assert metrics["sessions"] == 4
    assert metrics["users"] == 3
    assert metrics["conversion_rate"] == 0.5
    assert metrics["bounce_rate"] == 0.5
    assert metrics["revenue"] == 169.0
    assert metrics["avg_order_value"] == 84.5
    assert metrics["channels"]["search"] == {"sessions": 1, "conversion_rate": 1.0, "revenue": 49.0, "orders": 1}


def test_no_sessions():
    metrics = summarise([])
    assert metrics["sessions"] == 0 and metrics["conversion_rate"] == 0.0
    assert metrics["avg_order_value"] == 0.0
"""

TEST_RUN = """import json

from evpipe.run import main


def test_main_writes_the_report(day_records, write_jsonl, tmp_path, capsys):
    path = write_jsonl("events-2026-03-01.jsonl", day_records)
    assert main([str(path), "--out", str(tmp_path / "reports")]) == 0
    report = json.loads((tmp_path / "reports" / "daily-all.json").read_text())
    assert report["sessions"] == 4 and report["day"] is None
    assert "revenue=169.00" in capsys.readouterr().out
"""

BASE = (
    Commit(
        message="evpipe: read, validate and clean collector events",
        author=JONAS,
        date="2025-12-02T10:14:00+01:00",
        files={
            "pyproject.toml": PYPROJECT.replace('version = "2.1.0"', 'version = "2.0.0"'),
            "README.md": README,
            ".gitignore": GITIGNORE,
            "src/evpipe/__init__.py": INIT.replace("2.1.0", "2.0.0"),
            "src/evpipe/records.py": RECORDS,
            "src/evpipe/validate.py": VALIDATE,
            "src/evpipe/clean.py": CLEAN,
            "tests/conftest.py": CONFTEST,
            "tests/test_validate.py": TEST_VALIDATE,
            "tests/test_clean.py": TEST_CLEAN,
        },
    ),
    Commit(
        message="Sessions, daily metrics and the JSON report",
        author=AIKO,
        date="2025-12-09T16:48:00+09:00",
        files={
            "src/evpipe/windows.py": WINDOWS,
            "src/evpipe/sessions.py": SESSIONS,
            "src/evpipe/aggregate.py": AGGREGATE,
            "src/evpipe/report.py": REPORT,
            "src/evpipe/run.py": RUN,
            "tests/test_sessions.py": TEST_SESSIONS,
            "tests/test_aggregate.py": TEST_AGGREGATE,
            "tests/test_run.py": TEST_RUN,
        },
    ),
    Commit(
        message="clean: device family from the user agent when uaparse is installed",
        author=JONAS,
        date="2026-01-15T09:02:00+01:00",
        files={
            "src/evpipe/clean.py": CLEAN_DEVICES,
            "pyproject.toml": PYPROJECT,
            "src/evpipe/__init__.py": INIT,
        },
        tag="v2.1.0",
    ),
    Commit(
        message="README: pipeline stages",
        author=SAM,
        date="2026-01-22T14:30:00+00:00",
        files={
            "README.md": README + "\nThe nightly cron runs on the analytics box at 02:15 UTC.\n"
        },
    ),
)

CLEAN = CLEAN_DEVICES  # what later commits start from

LATER_README = Commit(
    message="README: where the cron writes reports",
    author=SAM,
    date="2026-03-03T11:20:00+00:00",
    files={
        "README.md": README
        + "\nThe nightly cron runs on the analytics box at 02:15 UTC.\n"
        + "Reports land in `var/reports/` and the dashboard picks them up at 03:00 UTC.\n"
    },
)
LATER_CONFTEST = Commit(
    message="tests: share the Chrome user agent constant",
    author=AIKO,
    date="2026-03-04T18:10:00+09:00",
    files={
        "tests/conftest.py": CONFTEST.replace("CHROME = ", "# a current desktop browser\nCHROME = ")
    },
)
LATER_REPORT = Commit(
    message="report: sort channels in the log line",
    author=JONAS,
    date="2026-03-05T08:45:00+01:00",
    files={
        "src/evpipe/report.py": _patch(
            REPORT,
            """        f"conversion={metrics['conversion_rate']:.1%} revenue={metrics['revenue']:.2f}"
    )""",
            """        f"conversion={metrics['conversion_rate']:.1%} revenue={metrics['revenue']:.2f} "
        f"channels={','.join(sorted(metrics.get('channels', {})))}"
    )""",
        )
    },
)


CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Mobile Safari/537.36"
)
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Safari/605.1.15"
)


def _rec(event_id: str, user: str, ts: str, kind: str = "pageview", **fields: object) -> dict:
    return {"event_id": event_id, "user_id": user, "type": kind, "ts": ts, "ua": CHROME, **fields}


def _night(day: str = "2026-03-01") -> list[dict]:
    """A small, realistic slice of one day's collector output."""
    return [
        _rec("01HQ7A1", "u-1842", f"{day}T06:58:12Z", page="/", referrer="https://www.google.com/"),
        _rec("01HQ7A2", "u-1842", f"{day}T07:01:40Z", page="/pricing?plan=team"),
        _rec(
            "01HQ7A3", "u-1842", f"{day}T07:09:03Z", "purchase", page="/checkout/done", amount=89.0
        ),
        _rec(
            "01HQ7A4",
            "u-2210",
            f"{day}T08:15:55Z",
            page="/blog/q1-roadmap",
            referrer="https://t.co/Qz81",
        ),
        _rec("01HQ7A5", "u-0907", f"{day}T09:30:00+01:00", page="/docs/api", ua=SAFARI),
        _rec(
            "01HQ7A6",
            "u-0907",
            f"{day}T08:41:27Z",
            "click",
            page="/docs/api",
            target="copy-snippet",
            ua=SAFARI,
        ),
        _rec(
            "01HQ7A7",
            "u-3371",
            f"{day}T11:02:09Z",
            page="/",
            referrer="https://www.linkedin.com/",
            ua=ANDROID,
        ),
        _rec("01HQ7A8", "u-3371", f"{day}T11:04:51Z", "signup", page="/signup", ua=ANDROID),
        _rec(
            "01HQ7A9",
            "crawl",
            f"{day}T12:00:00Z",
            page="/",
            ua="Mozilla/5.0 (compatible; bingbot/2.0)",
        ),
        _rec("01HQ7AA", "u-1842", f"{day}T19:22:31Z", page="/account/billing"),
    ]


def _jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def _launcher(files: dict[str, list[dict]], argv: str) -> str:
    """The nightly cron entry script: the spool files the collector left, then `evpipe ...`."""
    staged = "".join(
        f"(SPOOL / {name!r}).write_text({_jsonl(records)!r})\n" for name, records in files.items()
    )
    return (
        "#!/usr/bin/python3\n"
        "# nightly: evpipe over the collector spool (cron 15 2 * * *)\n"
        "import sys\n"
        "from pathlib import Path\n\n"
        "from evpipe.run import main\n\n"
        'SPOOL = Path("var/spool")\n'
        "SPOOL.mkdir(parents=True, exist_ok=True)\n"
        f"{staged}\n"
        "if __name__ == '__main__':\n"
        f"    sys.exit(main({argv}))\n"
    )


# --- division-by-zero: average order value per channel ---------------------------------------

AGGREGATE_AOV = (
    AGGREGATE
    + '''

def order_values(sessions: list[Session]) -> dict[str, float]:
    """Average order value per channel, for the revenue panel of the daily report."""
    revenue: dict[str, float] = defaultdict(float)
    orders: dict[str, int] = defaultdict(int)
    for session in sessions:
        session_revenue, session_orders = revenue_and_orders([session])
        revenue[session.channel] += session_revenue
        orders[session.channel] += session_orders
    return {channel: round(revenue[channel] / orders[channel], 2) for channel in sorted(revenue)}
'''
)
AGGREGATE_AOV_FIXED = _patch(
    AGGREGATE_AOV,
    """    return {channel: round(revenue[channel] / orders[channel], 2) for channel in sorted(revenue)}""",
    """    return {
        channel: round(revenue[channel] / orders[channel], 2) if orders[channel] else 0.0
        for channel in sorted(revenue)
    }""",
)
RUN_AOV = _patch(
    RUN,
    """        metrics["hourly_pageviews"] = hourly_counts(events, day)
""",
    """        metrics["hourly_pageviews"] = hourly_counts(events, day)
        metrics["order_value_by_channel"] = order_values(sessionize(events))
""",
)
RUN_AOV = _patch(
    RUN_AOV,
    "from evpipe.aggregate import summarise\n",
    "from evpipe.aggregate import order_values, summarise\n",
)
TEST_AGGREGATE_AOV = (
    TEST_AGGREGATE.replace(
        "from evpipe.aggregate import summarise\n",
        "from evpipe.aggregate import order_values, summarise\n",
    )
    + """

def test_order_values_per_channel():
    from conftest import record

    records = [
        record("a", "u1", "2026-03-01T09:00:00Z", "purchase", amount=30.0),
        record("b", "u1", "2026-03-01T09:10:00Z", "purchase", amount=50.0),
        record("c", "u2", "2026-03-01T09:30:00Z", "purchase", amount=12.5, referrer="https://www.google.com/"),
    ]
    sessions = sessionize(clean(enumerate(records, start=1)))
    assert order_values(sessions) == {"direct": 40.0, "search": 12.5}
"""
)
HIDDEN_AOV = """from datetime import date

from conftest import record

from evpipe.aggregate import order_values
from evpipe.clean import clean
from evpipe.run import run_batch
from evpipe.sessions import sessionize


def test_channel_without_orders():
    sessions = sessionize(
        clean(
            enumerate(
                [
                    record("a", "u1", "2026-03-01T09:00:00Z", "purchase", page="/checkout", amount=30.0),
                    record("b", "u1", "2026-03-01T09:10:00Z", "purchase", page="/checkout", amount=50.0),
                    record("c", "u2", "2026-03-01T10:00:00Z", page="/", referrer="https://www.bing.com/"),
                ],
                start=1,
            )
        )
    )
    values = order_values(sessions)
    assert values["direct"] == 40.0
    assert values.get("search", 0.0) == 0.0


def test_daily_report_with_browsing_channels(day_records, write_jsonl):
    metrics = run_batch([write_jsonl("events.jsonl", day_records)], date(2026, 3, 1))
    values = metrics["order_value_by_channel"]
    assert values["search"] == 49.0 and values["referral"] == 120.0
    assert values.get("social", 0.0) == 0.0
    assert metrics["revenue"] == 169.0
"""
BUG_AOV = Commit(
    message="aggregate: average order value per channel for the daily report",
    author=AIKO,
    date="2026-02-26T10:31:00+09:00",
    files={
        "src/evpipe/aggregate.py": AGGREGATE_AOV,
        "src/evpipe/run.py": RUN_AOV,
        "tests/test_aggregate.py": TEST_AGGREGATE_AOV,
    },
)

CASE_DIV_ZERO = CaseSpec(
    id="pipeline-division-by-zero",
    title="nightly evpipe run dies with ZeroDivisionError for a channel without orders",
    app="data-pipeline",
    bug_class="division-by-zero",
    history=(*BASE, BUG_AOV, LATER_README),
    gold=Gold("src/evpipe/aggregate.py", "order_values", BUG_AOV.message),
    trigger=_launcher(
        {"events-2026-03-01.jsonl": _night()},
        '["var/spool/events-2026-03-01.jsonl", "--day", "2026-03-01", "--out", "var/reports"]',
    ),
    fix={"src/evpipe/aggregate.py": AGGREGATE_AOV_FIXED},
    hidden={"tests/test_hidden_order_value.py": HIDDEN_AOV},
    shape="sentry_event",
    deploy_path="/srv/evpipe",
    project=PROJECT,
)

# --- missing-key: channels from utm tags ----------------------------------------------------

CLEAN_UTM = _patch(
    CLEAN,
    """def channel_of(record: dict) -> str:
    host = urlsplit(record.get("referrer") or "").hostname or ""
""",
    '''UTM_MEDIUMS = {
    "cpc": "paid_search",
    "ppc": "paid_search",
    "paid_social": "paid_social",
    "email": "email",
    "newsletter": "email",
    "affiliate": "affiliate",
}


def channel_of(record: dict) -> str:
    """Tagged campaign links (utm_*) win over the referrer."""
    utm = record.get("utm") or {}
    if utm:
        return UTM_MEDIUMS.get(utm["medium"].lower(), "campaign")
    host = urlsplit(record.get("referrer") or "").hostname or ""
''',
)
CLEAN_UTM_FIXED = _patch(
    CLEAN_UTM,
    """        return UTM_MEDIUMS.get(utm["medium"].lower(), "campaign")""",
    """        return UTM_MEDIUMS.get((utm.get("medium") or "").lower(), "campaign")""",
)
TEST_CLEAN_UTM = (
    TEST_CLEAN
    + """

def test_utm_tags_win_over_the_referrer():
    tagged = {"referrer": "https://www.google.com/", "utm": {"source": "google", "medium": "cpc"}}
    assert channel_of(tagged) == "paid_search"
    assert channel_of({"utm": {"source": "spring-sale", "medium": "Newsletter"}}) == "email"
    assert channel_of({"utm": {"source": "partner", "medium": "banner"}}) == "campaign"
"""
)
HIDDEN_UTM = """from conftest import record

from evpipe.clean import channel_of, clean


def test_utm_without_medium_is_a_campaign():
    assert channel_of({"utm": {"source": "spring-sale"}}) == "campaign"
    assert channel_of({"utm": {"source": "x"}, "referrer": "https://t.co/a"}) == "campaign"


def test_utm_with_medium():
    assert channel_of({"utm": {"source": "google", "medium": "cpc"}}) == "paid_search"
    assert channel_of({"utm": {}, "referrer": "https://www.bing.com/"}) == "search"


def test_clean_keeps_events_tagged_with_source_only():
    events = clean([(1, record("a", "u", "2026-03-01T09:00:00Z", page="/", utm={"source": "podcast"}))])
    assert [event.channel for event in events] == ["campaign"]
"""
BUG_UTM = Commit(
    message="clean: attribute channels from utm tags before the referrer",
    author=SAM,
    date="2026-02-24T15:42:00+00:00",
    files={"src/evpipe/clean.py": CLEAN_UTM, "tests/test_clean.py": TEST_CLEAN_UTM},
)

UTM_NIGHT = _night("2026-03-02")
UTM_NIGHT[3] = _rec(
    "01HQ9B4",
    "u-2210",
    "2026-03-02T08:15:55Z",
    page="/pricing",
    referrer="https://podcasts.example.fm/",
    utm={"source": "devtalk-podcast", "campaign": "march"},
)
UTM_NIGHT[6]["utm"] = {"source": "linkedin", "medium": "paid_social", "campaign": "march"}

CASE_MISSING_KEY = CaseSpec(
    id="pipeline-missing-key",
    title="evpipe clean raises KeyError 'medium' for events tagged with utm_source only",
    app="data-pipeline",
    bug_class="missing-key",
    history=(*BASE, BUG_UTM, LATER_CONFTEST, LATER_REPORT),
    gold=Gold("src/evpipe/clean.py", "channel_of", BUG_UTM.message),
    trigger=_launcher(
        {"events-2026-03-02.jsonl": UTM_NIGHT},
        '["var/spool/events-2026-03-02.jsonl", "--day", "2026-03-02", "--out", "var/reports"]',
    ),
    fix={"src/evpipe/clean.py": CLEAN_UTM_FIXED},
    hidden={"tests/test_hidden_utm.py": HIDDEN_UTM},
    shape="sentry_api",
    deploy_path="/opt/evpipe/current",
    project=PROJECT,
)

# --- naive-aware-datetime: one window helper ------------------------------------------------

WINDOWS_SHARED = _patch(
    WINDOWS,
    """from datetime import date, datetime, timedelta, timezone
""",
    """from datetime import date, datetime, time, timedelta, timezone
""",
)
WINDOWS_SHARED = _patch(
    WINDOWS_SHARED,
    '''def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of `day`, in UTC."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)
''',
    '''def window(start: datetime, length: timedelta) -> tuple[datetime, datetime]:
    return start, start + length


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of `day`, in UTC."""
    return window(datetime.combine(day, time.min), timedelta(days=1))


def hour_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The UTC hour `moment` falls in."""
    return window(moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0), timedelta(hours=1))
''',
)
WINDOWS_SHARED_FIXED = _patch(
    WINDOWS_SHARED,
    """    return window(datetime.combine(day, time.min), timedelta(days=1))""",
    """    return window(datetime.combine(day, time.min, tzinfo=UTC), timedelta(days=1))""",
)
TEST_WINDOWS = """from datetime import datetime, timezone

from evpipe.windows import hour_bounds

UTC = timezone.utc


def test_hour_bounds():
    start, end = hour_bounds(datetime(2026, 3, 1, 9, 41, 7, tzinfo=UTC))
    assert start == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert end == datetime(2026, 3, 1, 10, tzinfo=UTC)
"""
HIDDEN_DAY = """from datetime import date, datetime, timezone

from evpipe.run import run_batch
from evpipe.windows import day_bounds

UTC = timezone.utc


def test_day_bounds_are_utc():
    start, end = day_bounds(date(2026, 3, 1))
    assert start == datetime(2026, 3, 1, tzinfo=UTC) and start.utcoffset() is not None
    assert end == datetime(2026, 3, 2, tzinfo=UTC)


def test_run_batch_for_one_day(day_records, write_jsonl):
    from conftest import record

    other_day = record("x1", "u9", "2026-03-02T00:00:00Z", page="/")
    path = write_jsonl("events.jsonl", [*day_records, other_day])
    metrics = run_batch([path], date(2026, 3, 1))
    assert metrics["sessions"] == 4 and metrics["users"] == 3
    assert sum(metrics["hourly_pageviews"]) == 5
    assert metrics["hourly_pageviews"][9] == 2


def test_run_batch_without_day(day_records, write_jsonl):
    assert run_batch([write_jsonl("events.jsonl", day_records)])["sessions"] == 4
"""
BUG_WINDOWS = Commit(
    message="windows: one window helper for day and hour bounds",
    author=SAM,
    date="2026-02-27T17:05:00+00:00",
    files={"src/evpipe/windows.py": WINDOWS_SHARED, "tests/test_windows.py": TEST_WINDOWS},
)

CASE_NAIVE = CaseSpec(
    id="pipeline-naive-aware-datetime",
    title="evpipe --day crashes: can't compare offset-naive and offset-aware datetimes",
    app="data-pipeline",
    bug_class="naive-aware-datetime",
    history=(*BASE, BUG_WINDOWS, LATER_README),
    gold=Gold("src/evpipe/windows.py", "day_bounds", BUG_WINDOWS.message),
    trigger=_launcher(
        {"events-2026-03-01.jsonl": _night()},
        '["var/spool/events-2026-03-01.jsonl", "--day", "2026-03-01", "--out", "var/reports"]',
    ),
    fix={"src/evpipe/windows.py": WINDOWS_SHARED_FIXED},
    hidden={"tests/test_hidden_day_window.py": HIDDEN_DAY},
    shape="sentry_webhook",
    deploy_path="/app",
    project=PROJECT,
)

# --- off-by-one (wrong value): bisect slice includes the end bound -----------------------------

WINDOWS_BISECT = _patch(
    WINDOWS,
    """from collections.abc import Sequence
""",
    """from bisect import bisect_left, bisect_right
from collections.abc import Sequence
""",
)
WINDOWS_BISECT = _patch(
    WINDOWS_BISECT,
    '''def select(events: Sequence[Event], start: datetime, end: datetime) -> list[Event]:
    """The events with start <= ts < end."""
    return [event for event in events if start <= event.ts < end]
''',
    '''def select(events: Sequence[Event], start: datetime, end: datetime) -> list[Event]:
    """The events with start <= ts < end; `events` are sorted by ts (as `run.load` returns them).

    A backfill selects 90 days from one load, so slice instead of scanning."""
    stamps = [event.ts for event in events]
    return list(events[bisect_left(stamps, start) : bisect_right(stamps, end)])
''',
)
WINDOWS_BISECT_FIXED = WINDOWS_BISECT.replace(
    "bisect_left(stamps, start) : bisect_right(stamps, end)",
    "bisect_left(stamps, start) : bisect_left(stamps, end)",
).replace("from bisect import bisect_left, bisect_right\n", "from bisect import bisect_left\n")
TEST_WINDOWS_MIDNIGHT = """from datetime import date

from conftest import record

from evpipe.clean import clean
from evpipe.windows import day_bounds, hourly_counts, select


def test_select_one_day(day_records):
    events = clean(enumerate(day_records, start=1))
    assert len(select(events, *day_bounds(date(2026, 3, 1)))) == 7
    assert hourly_counts(events, date(2026, 3, 1))[9] == 2


def test_event_at_midnight_belongs_to_the_next_day(day_records):
    midnight = record("m1", "u5", "2026-03-02T00:00:00Z", page="/")
    events = clean(enumerate([*day_records, midnight], start=1))
    assert [event.event_id for event in select(events, *day_bounds(date(2026, 3, 2)))] == ["m1"]
    assert "m1" not in [event.event_id for event in select(events, *day_bounds(date(2026, 3, 1)))]
"""
HIDDEN_SELECT = """from datetime import date, datetime, timedelta, timezone

from conftest import record

from evpipe.clean import clean
from evpipe.run import run_batch
from evpipe.windows import select

UTC = timezone.utc


def test_end_bound_is_exclusive():
    records = [record(f"e{i}", "u1", f"2026-03-01T{hour:02d}:00:00Z", page="/") for i, hour in enumerate((8, 9, 10))]
    events = clean(enumerate(records, start=1))
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert [e.event_id for e in select(events, start, start + timedelta(hours=2))] == ["e0", "e1"]
    assert [e.event_id for e in select(events, start, start + timedelta(hours=2, seconds=1))] == ["e0", "e1", "e2"]


def test_daily_report_skips_next_midnight(day_records, write_jsonl):
    midnight = record("m1", "u5", "2026-03-02T00:00:00Z", page="/")
    metrics = run_batch([write_jsonl("events.jsonl", [*day_records, midnight])], date(2026, 3, 1))
    assert metrics["sessions"] == 4 and metrics["users"] == 3
"""
BUG_BISECT = Commit(
    message="windows: select by bisecting the sorted timestamps",
    author=AIKO,
    date="2026-02-25T13:12:00+09:00",
    files={"src/evpipe/windows.py": WINDOWS_BISECT},
)
TEST_MIDNIGHT = Commit(
    message="tests: pin the day window at midnight",
    author=JONAS,
    date="2026-03-04T09:30:00+01:00",
    files={"tests/test_windows.py": TEST_WINDOWS_MIDNIGHT},
)

CASE_OFF_BY_ONE = CaseSpec(
    id="pipeline-off-by-one",
    title="day window includes the next day's midnight events (test_event_at_midnight_belongs_to_the_next_day fails)",
    app="data-pipeline",
    bug_class="off-by-one",
    kind="wrong-value",
    history=(*BASE, BUG_BISECT, LATER_README, TEST_MIDNIGHT),
    gold=Gold("src/evpipe/windows.py", "select", BUG_BISECT.message),
    failing_tests=("tests/test_windows.py::test_event_at_midnight_belongs_to_the_next_day",),
    fix={"src/evpipe/windows.py": WINDOWS_BISECT_FIXED},
    hidden={"tests/test_hidden_window_bounds.py": HIDDEN_SELECT},
    project=PROJECT,
)

# --- wrong-operator (wrong value): refunds added to revenue ---------------------------------

AGGREGATE_ONE_PASS = _patch(
    AGGREGATE,
    """def revenue_and_orders(sessions: list[Session]) -> tuple[float, int]:
    events = [event for session in sessions for event in session.events]
    purchases = [event.amount for event in events if event.type == "purchase"]
    refunds = [event.amount for event in events if event.type == "refund"]
    return round(sum(purchases) - sum(refunds), 2), len(purchases)
""",
    '''def revenue_and_orders(sessions: list[Session]) -> tuple[float, int]:
    """Net revenue (purchases less refunds) and the number of orders, in one pass."""
    revenue, orders = 0.0, 0
    for session in sessions:
        for event in session.events:
            if event.type == "purchase":
                revenue += event.amount
                orders += 1
            elif event.type == "refund":
                revenue += event.amount
    return round(revenue, 2), orders
''',
)
AGGREGATE_ONE_PASS_FIXED = _patch(
    AGGREGATE_ONE_PASS,
    """            elif event.type == "refund":
                revenue += event.amount""",
    """            elif event.type == "refund":
                revenue -= event.amount""",
)
TEST_AGGREGATE_REFUNDS = (
    TEST_AGGREGATE
    + """

def test_refunds_reduce_revenue(day_records):
    from conftest import record

    refund = record("r1", "u3", "2026-03-01T10:50:00Z", "refund", amount=20.0)
    metrics = summarise(sessionize(clean(enumerate([*day_records, refund], start=1))))
    assert metrics["revenue"] == 149.0
    assert metrics["orders"] == 2
"""
)
HIDDEN_REFUNDS = """from conftest import record

from evpipe.aggregate import revenue_and_orders, summarise
from evpipe.clean import clean
from evpipe.sessions import sessionize


def sessions_of(records):
    return sessionize(clean(enumerate(records, start=1)))


def test_net_revenue_per_channel():
    sessions = sessions_of(
        [
            record("p1", "u1", "2026-03-01T09:00:00Z", "purchase", amount=100.0, referrer="https://www.google.com/"),
            record("r1", "u1", "2026-03-01T09:20:00Z", "refund", amount=35.5),
            record("p2", "u2", "2026-03-01T11:00:00Z", "purchase", amount=60.0),
        ]
    )
    assert revenue_and_orders(sessions) == (124.5, 2)
    metrics = summarise(sessions)
    assert metrics["channels"]["search"]["revenue"] == 64.5
    assert metrics["channels"]["direct"]["revenue"] == 60.0
    assert metrics["avg_order_value"] == 62.25


def test_without_refunds(day_records):
    assert revenue_and_orders(sessions_of(day_records)) == (169.0, 2)
"""
BUG_ONE_PASS = Commit(
    message="aggregate: revenue and orders in a single pass over the events",
    author=AIKO,
    date="2026-02-28T11:05:00+09:00",
    files={"src/evpipe/aggregate.py": AGGREGATE_ONE_PASS},
)
TEST_REFUNDS = Commit(
    message="tests: refunds reduce the day's revenue",
    author=SAM,
    date="2026-03-06T10:00:00+00:00",
    files={"tests/test_aggregate.py": TEST_AGGREGATE_REFUNDS},
)

CASE_WRONG_OPERATOR = CaseSpec(
    id="pipeline-wrong-operator",
    title="refunds are added to revenue instead of subtracted (test_refunds_reduce_revenue fails)",
    app="data-pipeline",
    bug_class="wrong-operator",
    kind="wrong-value",
    history=(*BASE, BUG_ONE_PASS, LATER_CONFTEST, TEST_REFUNDS),
    gold=Gold("src/evpipe/aggregate.py", "revenue_and_orders", BUG_ONE_PASS.message),
    failing_tests=("tests/test_aggregate.py::test_refunds_reduce_revenue",),
    fix={"src/evpipe/aggregate.py": AGGREGATE_ONE_PASS_FIXED},
    hidden={"tests/test_hidden_refunds.py": HIDDEN_REFUNDS},
    project=PROJECT,
)

# --- none-attribute: page paths of server-side events ---------------------------------------

CLEAN_PAGES = _patch(
    CLEAN,
    """def to_event(record: dict) -> Event:""",
    '''def normalise_page(page: str | None) -> str:
    """'/pricing/?plan=team' -> '/pricing': one row per page in the report, not per query."""
    path = page.split("?", 1)[0].split("#", 1)[0]
    return path.rstrip("/") or "/"


def to_event(record: dict) -> Event:''',
)
CLEAN_PAGES = _patch(
    CLEAN_PAGES,
    """        page=record.get("page"),""",
    """        page=normalise_page(record.get("page")),""",
)
CLEAN_PAGES_FIXED = _patch(
    CLEAN_PAGES,
    '''def normalise_page(page: str | None) -> str:
    """'/pricing/?plan=team' -> '/pricing': one row per page in the report, not per query."""
    path = page.split("?", 1)[0].split("#", 1)[0]''',
    '''def normalise_page(page: str | None) -> str | None:
    """'/pricing/?plan=team' -> '/pricing': one row per page in the report, not per query.
    Server-side events (purchases and refunds from billing) have no page."""
    if page is None:
        return None
    path = page.split("?", 1)[0].split("#", 1)[0]''',
)
TEST_CLEAN_PAGES = (
    TEST_CLEAN
    + """

def test_page_paths_lose_query_and_trailing_slash():
    events = clean([(1, record("a", "u", "2026-03-01T09:00:00Z", page="/pricing/?plan=team#faq"))])
    assert events[0].page == "/pricing"
    events = clean([(1, record("b", "u", "2026-03-01T09:00:00Z", page="/?ref=hn"))])
    assert events[0].page == "/"
"""
)
HIDDEN_PAGES = """from conftest import record

from evpipe.aggregate import summarise
from evpipe.clean import clean
from evpipe.sessions import sessionize


def test_server_side_purchase_has_no_page():
    purchase = {"event_id": "p", "user_id": "u1", "type": "purchase", "ts": "2026-03-01T09:03:00Z", "amount": 25.0}
    view = record("v", "u1", "2026-03-01T09:00:00Z", page="/pricing/?plan=team")
    events = clean(enumerate([view, purchase], start=1))
    assert [(event.event_id, event.page) for event in events] == [("v", "/pricing"), ("p", None)]
    metrics = summarise(sessionize(events))
    assert metrics["revenue"] == 25.0 and metrics["conversion_rate"] == 1.0


def test_root_page():
    assert clean([(1, record("a", "u", "2026-03-01T09:00:00Z", page="/"))])[0].page == "/"
"""
BUG_PAGES = Commit(
    message="clean: strip query strings and trailing slashes from page paths",
    author=SAM,
    date="2026-02-25T09:48:00+00:00",
    files={"src/evpipe/clean.py": CLEAN_PAGES, "tests/test_clean.py": TEST_CLEAN_PAGES},
)

PAGES_NIGHT = _night("2026-03-02")
PAGES_NIGHT.insert(
    3,
    {
        "event_id": "bill-7f3a21",
        "user_id": "u-0415",
        "type": "purchase",
        "ts": "2026-03-02T07:40:00Z",
        "amount": 240.0,
        "source": "billing-webhook",
        "plan": "team-annual",
    },
)

CASE_NONE_ATTRIBUTE = CaseSpec(
    id="pipeline-none-attribute",
    title="evpipe clean: 'NoneType' object has no attribute 'split' for server-side purchase events",
    app="data-pipeline",
    bug_class="none-attribute",
    history=(*BASE, BUG_PAGES, LATER_REPORT),
    gold=Gold("src/evpipe/clean.py", "normalise_page", BUG_PAGES.message),
    trigger=_launcher(
        {"events-2026-03-02.jsonl": PAGES_NIGHT},
        '["var/spool/events-2026-03-02.jsonl", "--day", "2026-03-02", "--out", "var/reports"]',
    ),
    fix={"src/evpipe/clean.py": CLEAN_PAGES_FIXED},
    hidden={"tests/test_hidden_pages.py": HIDDEN_PAGES},
    shape="sentry_event",
    deploy_path="/home/deploy/evpipe/releases/20260301",
    project=PROJECT,
)

# --- escalate / bad-data: the upstream export switched ts to epoch milliseconds -----------------

BAD_NIGHT = [dict(record) for record in _night("2026-03-03")]
for _number, _record in enumerate(BAD_NIGHT):
    if _number >= 4:  # the exporter's new code path: epoch milliseconds, not ISO 8601
        _record["ts"] = {
            4: 1772526600000,
            5: 1772527287000,
            6: 1772535729000,
            7: 1772535891000,
            8: 1772539200000,
            9: 1772565751000,
        }[_number]

BAD_DATA_TRIGGER = """#!/usr/bin/python3
# nightly: evpipe over every partition in the collector spool; one Sentry issue per bad partition
import sys
from pathlib import Path

import sentry_sdk

from evpipe.run import run_batch
from evpipe.report import write_report
from datetime import date

SPOOL = Path("var/spool")
SPOOL.mkdir(parents=True, exist_ok=True)
(SPOOL / "events-2026-03-02.jsonl").write_text({good!r})
(SPOOL / "events-2026-03-03.jsonl").write_text({bad!r})


def nightly(spool: Path, out: Path) -> int:
    failed = 0
    for path in sorted(spool.glob("events-*.jsonl")):
        day = date.fromisoformat(path.stem.removeprefix("events-"))
        try:
            write_report(run_batch([path], day), out, day)
        except Exception:
            sentry_sdk.capture_exception()
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(nightly(SPOOL, Path("var/reports")))
""".format(good=_jsonl(_night("2026-03-02")), bad=_jsonl(BAD_NIGHT))

CASE_BAD_DATA = CaseSpec(
    id="pipeline-escalate-bad-data",
    title="SchemaError: events-2026-03-03.jsonl:5: 'ts' must be a string, got int (upstream export changed)",
    app="data-pipeline",
    bug_class="bad-data",
    expect="escalate",
    history=(*BASE, LATER_README, LATER_REPORT),
    gold=None,
    trigger=BAD_DATA_TRIGGER,
    shape="sentry_event",
    deploy_path="/srv/evpipe",
    project=PROJECT,
)

# --- escalate / third-party: uaparse chokes on reduced Android user agents ----------------------

UAPARSE = '''"""uaparse: small, dependency-free user-agent parsing."""

from __future__ import annotations

import re
from typing import NamedTuple

__version__ = "2.1.3"

_BROWSERS = (
    ("Edge", re.compile(r"Edg/([\\d.]+)")),
    ("Chrome", re.compile(r"Chrome/([\\d.]+)")),
    ("Firefox", re.compile(r"Firefox/([\\d.]+)")),
    ("Safari", re.compile(r"Version/([\\d.]+).*Safari")),
)
_SYSTEMS = (
    ("Android", re.compile(r"Android ([\\d.]+)")),
    ("iOS", re.compile(r"(?:iPhone|CPU) OS ([\\d_]+)")),
    ("Windows", re.compile(r"Windows NT ([\\d.]+)")),
    ("macOS", re.compile(r"Mac OS X ([\\d_.]+)")),
    ("Linux", re.compile(r"Linux()")),
)
_TABLET = re.compile(r"iPad|Tablet|SM-T\\d+")


class UserAgent(NamedTuple):
    browser: str | None
    browser_version: tuple[int, int] | None
    os: str | None
    os_version: tuple[int, int] | None
    device_family: str


def _version(text: str) -> tuple[int, int] | None:
    if not text:
        return None
    major, minor = text.replace("_", ".").split(".")[:2]
    return int(major), int(minor)


def _first(patterns, agent):
    for name, pattern in patterns:
        match = pattern.search(agent)
        if match:
            return name, _version(match.group(1))
    return None, None


def parse(agent: str) -> UserAgent:
    browser, browser_version = _first(_BROWSERS, agent)
    system, system_version = _first(_SYSTEMS, agent)
    if _TABLET.search(agent):
        family = "tablet"
    elif system in ("Android", "iOS") or "Mobile" in agent:
        family = "mobile"
    elif system is None:
        family = "other"
    else:
        family = "desktop"
    return UserAgent(browser, browser_version, system, system_version, family)
'''

CASE_THIRD_PARTY = CaseSpec(
    id="pipeline-escalate-third-party",
    title="uaparse 2.1.3 raises ValueError (not enough values to unpack) on 'Android 14; K' user agents",
    app="data-pipeline",
    bug_class="third-party",
    expect="escalate",
    history=(*BASE, LATER_CONFTEST, LATER_README),
    gold=None,
    libraries={"uaparse/__init__.py": UAPARSE},
    trigger=_launcher(
        {"events-2026-03-01.jsonl": _night()},
        '["var/spool/events-2026-03-01.jsonl", "--day", "2026-03-01", "--out", "var/reports"]',
    ),
    shape="sentry_api",
    deploy_path="/opt/evpipe/current",
    project=PROJECT,
)

CASES: list[CaseSpec] = [
    CASE_DIV_ZERO,
    CASE_MISSING_KEY,
    CASE_NAIVE,
    CASE_OFF_BY_ONE,
    CASE_WRONG_OPERATOR,
    CASE_NONE_ATTRIBUTE,
    CASE_BAD_DATA,
    CASE_THIRD_PARTY,
]
