"""Tracebacks from logs and bug reports: raw Python traceback text becomes an Incident."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.diagnosis.frames import map_frame
from agent.domain import Frame, Incident
from agent.errors import IntakeError
from agent.intake.payloads import load_event_file, parse_payload
from agent.intake.tracebacks import CHAIN_MARKERS, HEADER, parse_traceback
from tests.support.cli import fixloop
from tests.support.paths import FIXTURES, ROOT

TRACEBACKS = FIXTURES / "tracebacks"

PLAIN = """\
Traceback (most recent call last):
  File "/app/shop/tasks.py", line 22, in price_order
    total = order_total(order)
  File "/app/shop/pricing.py", line 14, in order_total
    return sum(PRICES[line.sku] for line in order.lines)
KeyError: 'SKU-9'
"""


def shape(text: str) -> list[tuple[str, str, list[tuple[str, int | None, str]]]]:
    return [
        (e.type, e.value, [(f.function, f.lineno, f.context_line or "") for f in e.frames])
        for e in parse_traceback(text)
    ]


def test_a_logged_chain_with_a_prefix_on_every_line() -> None:
    incident, payload = load_event_file(TRACEBACKS / "logged_chain.log")
    assert payload["kind"] == "traceback"
    assert incident.source == "traceback"
    assert incident.title == "PricingError: no price for SKU-9 in order_total (shop/pricing.py)"
    cause, crash = incident.exceptions
    assert (cause.type, cause.value, cause.module) == ("KeyError", "'SKU-9'", None)
    assert [(f.filename, f.lineno, f.context_line) for f in cause.frames] == [
        ("/app/shop/pricing.py", 14, "return PRICES[sku]")
    ]
    assert (crash.type, crash.module, crash.value) == (
        "PricingError",
        "shop.errors",
        "no price for SKU-9",
    )
    assert [(f.function, f.in_app, f.module) for f in crash.frames] == [
        ("trace_task", False, "celery.app.trace"),
        ("price_order", True, None),
        ("order_total", True, None),
    ]
    assert crash.frames[-1].context_line == (
        'raise PricingError(f"no price for {line.sku}") from exc'
    )
    assert all(frame.vars == {} for e in incident.exceptions for frame in e.frames)


def test_during_handling_on_windows_with_a_report_around_it() -> None:
    incident, _ = load_event_file(TRACEBACKS / "windows_during_handling.txt")
    assert shape_of(incident.exceptions) == [
        ("ValueError", "invalid literal for int() with base 10: 'two'", ["parse_row"]),
        (
            "AttributeError",
            "'dict' object has no attribute 'line_no'",
            ["<module>", "main", "parse_row", "warning"],
        ),
    ]
    library = incident.exceptions[-1].frames[-1]
    assert (library.module, library.in_app) == ("logging", False)
    assert incident.exceptions[-1].frames[1].context_line == (
        "rows = [parse_row(row) for row in reader]"
    )


def shape_of(exceptions: list) -> list[tuple[str, str, list[str]]]:  # type: ignore[type-arg]
    return [(e.type, e.value, [f.function for f in e.frames]) for e in exceptions]


def test_recursion_keeps_the_printed_frames_and_skips_the_repeat_marker() -> None:
    incident, _ = load_event_file(TRACEBACKS / "recursion.txt")
    (crash,) = incident.exceptions
    assert crash.type == "RecursionError"
    assert [(f.function, f.lineno) for f in crash.frames] == [("depth", 9)] * 3 + [("depth", 7)]
    assert crash.frames[-1].context_line == "if node is None:"


def test_a_multi_line_message_ends_at_the_next_log_record() -> None:
    incident, _ = load_event_file(TRACEBACKS / "multiline_message.txt")
    (crash,) = incident.exceptions
    assert (crash.module, crash.type) == ("pydantic_core._pydantic_core", "ValidationError")
    assert crash.value.splitlines() == [
        "1 validation error for OrderIn",
        "qty",
        "  Input should be a valid integer, unable to parse string as an integer "
        "[type=int_parsing, input_value='two', input_type=str]",
        "    For further information visit https://errors.pydantic.dev/2.9/v/int_parsing",
    ]
    assert [(f.module, f.in_app) for f in crash.frames] == [
        ("starlette.routing", False),
        (None, True),
        ("pydantic.main", False),
    ]
    assert incident.title == "ValidationError: 1 validation error for OrderIn in create_order " + (
        "(shop/api.py)"
    )


def test_a_cause_without_a_traceback_and_a_bare_exception_line() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "app/calc.py", line 3, in ratio\n'
        "ZeroDivisionError\n"
        "\n"
        "The above exception was the direct cause of the following exception:\n"
        "\n"
        "Traceback (most recent call last):\n"
        '  File "app/views.py", line 9, in report\n'
        "    return ratio(a, b)\n"
        "app.errors.ReportError\n"
    )
    assert shape(text) == [
        ("ZeroDivisionError", "", [("ratio", 3, "")]),
        ("ReportError", "", [("report", 9, "return ratio(a, b)")]),
    ]
    assert parse_traceback(text)[0].frames[0].module == "app.calc"


def test_the_last_of_several_tracebacks_is_read() -> None:
    second = PLAIN.replace("KeyError: 'SKU-9'", "TypeError: unsupported operand")
    assert shape(PLAIN + "retrying\n" + second)[0][0] == "TypeError"


def test_the_fingerprint_ignores_machine_paths_line_numbers_and_log_prefixes() -> None:
    def incident_of(text: str) -> str:
        return parse_payload({"kind": "traceback", "text": text}).fingerprint

    same = [
        PLAIN,
        PLAIN.replace("/app/", "/srv/shop/releases/41/").replace("line 14", "line 19"),
        PLAIN.replace("/app/shop/", "C:\\Users\\ana\\shop\\shop\\"),
        "\n".join(
            f"2026-11-24 03:0{n}:00,001 ERROR [web] {line}"
            for n, line in enumerate(PLAIN.splitlines())
        ),
        "the job died:\n" + PLAIN + "\nthanks\n",
    ]
    fingerprints = {incident_of(text) for text in same}
    assert len(fingerprints) == 1
    assert incident_of(PLAIN.replace("KeyError", "IndexError")) not in fingerprints
    assert incident_of(PLAIN.replace("order_total", "order_sum")) not in fingerprints
    other_project = parse_payload({"kind": "traceback", "text": PLAIN, "service": "billing"})
    assert other_project.fingerprint not in fingerprints


def test_the_same_excerpt_is_one_incident_and_another_occurrence_a_new_one() -> None:
    first = parse_payload({"kind": "traceback", "text": PLAIN})
    assert parse_payload({"kind": "traceback", "text": PLAIN + "\n"}).id == first.id
    later = parse_payload({"kind": "traceback", "text": "03:10 crash\n" + PLAIN})
    assert later.id != first.id
    assert later.fingerprint == first.fingerprint


def test_the_json_payload_carries_its_fields() -> None:
    incident = parse_payload(
        {
            "kind": "traceback",
            "text": PLAIN,
            "service": "shop-worker",
            "release": "shop@1.4.2",
            "environment": "production",
            "timestamp": "2026-11-23T01:02:03Z",
        }
    )
    assert (incident.project, incident.release, incident.environment) == (
        "shop-worker",
        "shop@1.4.2",
        "production",
    )
    assert incident.tags == {"service": "shop-worker"}
    assert incident.timestamp is not None and incident.timestamp.hour == 1
    assert incident.event_id is None


def test_text_without_a_traceback_is_refused() -> None:
    with pytest.raises(IntakeError, match="no Python traceback"):
        parse_payload({"kind": "traceback", "text": "the service is slow since Tuesday\n"})


def test_a_traceback_cut_before_its_exception_keeps_its_frames() -> None:
    incident = parse_payload({"kind": "traceback", "text": PLAIN.rsplit("KeyError", 1)[0]})

    (crash,) = incident.exceptions
    assert crash.type == "UnknownException"
    assert [(f.function, f.lineno) for f in crash.frames] == [
        ("price_order", 22),
        ("order_total", 14),
    ]
    assert "ends before its exception line" in incident.unread[0]


@pytest.mark.parametrize("text", [None, "", "   ", 42])
def test_the_payload_needs_text(text: object) -> None:
    with pytest.raises(IntakeError, match="traceback needs 'text'"):
        parse_payload({"kind": "traceback", "text": text})


@pytest.mark.parametrize(
    ("path", "expected", "origin"),
    [
        ("/app/shop/pricing.py", "shop/pricing.py", "application"),
        ("C:\\Users\\ana\\src\\shop\\shop\\pricing.py", "shop/pricing.py", "application"),
        ("/srv/shop/releases/41/src/shop/pricing.py", "src/shop/pricing.py", "application"),
        # The repository's own package installed: its file all the same.
        (
            "/usr/local/lib/python3.12/site-packages/shop/pricing.py",
            "shop/pricing.py",
            "application",
        ),
        ("C:\\Python312\\Lib\\logging\\__init__.py", None, "library"),
        (
            "C:\\Users\\ana\\AppData\\Local\\Programs\\Python\\Python312\\Lib\\json\\decoder.py",
            None,
            "library",
        ),
    ],
)
def test_printed_paths_from_any_machine_map_to_repository_files(
    path: str, expected: str | None, origin: str
) -> None:
    frame: Frame = parse_traceback(PLAIN.replace("/app/shop/pricing.py", path))[-1].frames[-1]
    assert frame.filename == path
    tracked = {"shop/pricing.py", "src/shop/pricing.py", "shop/__init__.py"}
    if "releases" not in path:
        tracked.discard("src/shop/pricing.py")
    mapping = map_frame(frame, tracked)
    assert (mapping.path, mapping.origin) == (expected, origin)


def test_cli_refuses_a_text_file_without_a_traceback(tmp_path: Path) -> None:
    from tests.support.repo_builder import RepoBuilder

    repo = RepoBuilder(tmp_path / "repo")
    repo.commit({"app.py": "x = 1\n"}, "initial")
    report = tmp_path / "report.txt"
    report.write_text("it crashed, no idea why\n")
    home = tmp_path / "state"
    result = fixloop(home, "run", "--repo", str(repo.path), "--event", str(report))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"fixloop: {report}: no Python traceback in the text "
        "(no line 'Traceback (most recent call last):', no IPython or pytest traceback, "
        "no exception line)"
    ]
    assert not home.exists()


def test_a_traceback_payload_in_a_json_file(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"kind": "traceback", "text": PLAIN}))
    incident, payload = load_event_file(event)
    assert incident.crash is not None and incident.crash.type == "KeyError"
    assert payload["text"] == PLAIN


@pytest.mark.slow
def test_a_logged_traceback_runs_the_whole_loop_without_locals(tmp_path: Path) -> None:
    """No captured values: the diagnosis stands on frames, index and history; value templates
    do not apply, and no test fails before the change: no PR, the best candidate that breaks
    nothing goes on the ticket as an unproven suggestion (issue #23)."""
    from tests.support.pricing_shop import PRICING_V1, PRICING_V2, TASKS, TRACEBACK
    from tests.support.repo_builder import RepoBuilder, git

    builder = RepoBuilder(tmp_path / "shop")
    suite = (
        "from shop.pricing import order_total\n\n\n"
        "def test_total():\n    assert order_total([('SKU-1', 2)]) == 10\n"
    )
    files = {"shop/__init__.py": "", "shop/pricing.py": PRICING_V1, "shop/tasks.py": TASKS}
    builder.commit({**files, "tests/test_pricing.py": suite}, "Price orders")
    bug = builder.commit({"shop/pricing.py": PRICING_V2}, "Drop the fallback price (#12)")
    event = tmp_path / "worker.log"
    event.write_text(TRACEBACK)

    result = fixloop(
        tmp_path / "state", "run", "--repo", str(builder.path), "--event", str(event), "--json"
    )

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["source"] == "traceback"
    assert summary["diagnosis"]["suspects"][0]["symbol"] == "unit_price"
    assert summary["diagnosis"]["suspect_commit"]["sha"] == bug
    assert summary["diagnosis"]["reproduction"] is None
    assert summary["status"] == "escalated", summary["audit"]
    assert summary["pr"] is None
    assert not git(builder.path, "for-each-ref", "--format=%(refname:short)", "refs/heads/fixloop")
    escalation = summary["audit"][-1]
    assert "no test fails like the incident" in escalation["why"]
    assert escalation["data"]["suggestion"]
    from agent import wiring
    from agent.settings import Settings

    tracker = wiring.tracker(Settings(home=tmp_path / "state"))
    comments = tracker.comments(summary["ticket"]["key"])
    assert any("Suggested change: unproven" in comment for comment in comments), comments


def as_traceback(incident: Incident) -> str:
    """The incident's chain printed the way Python prints it, under a log prefix."""
    lines = ["2026-11-23 01:02:03,456 ERROR [app] unhandled error"]
    for position, exception in enumerate(incident.exceptions):
        if position:
            lines += ["", CHAIN_MARKERS[1], ""]
        lines.append(HEADER)
        for frame in exception.frames:
            where = frame.abs_path or frame.filename
            lines.append(f'  File "{where}", line {frame.lineno}, in {frame.function}')
            if frame.context_line and frame.context_line.strip():
                lines.append("    " + frame.context_line.strip())
        name = f"{exception.module}.{exception.type}" if exception.module else exception.type
        lines.append(f"{name}: {exception.value}" if exception.value else name)
    return "\n".join(f"2026-11-23 01:02:03,456 ERROR [app] {line}" for line in lines) + "\n"


@pytest.mark.parametrize("case", ["pipeline-missing-key"])
def test_an_eval_incident_as_a_logged_traceback_gets_the_same_diagnosis(
    case: str, tmp_path: Path
) -> None:
    from agent.diagnosis.report import diagnose_incident
    from agent.settings import Settings
    from tests.support.repo_builder import git

    directory = ROOT / "evals" / "cases" / case
    repo = tmp_path / "repo"
    git(tmp_path, "clone", "--quiet", str(directory / "repo.bundle"), str(repo))
    event, _ = load_event_file(directory / "incident.json")
    text = as_traceback(event)
    logged = parse_payload({"kind": "traceback", "text": text})
    assert [e.type for e in logged.exceptions] == [e.type for e in event.exceptions]
    settings = Settings(home=tmp_path / "state")

    from_event = diagnose_incident(settings, repo, event)["diagnosis"]
    from_text = diagnose_incident(settings, repo, logged)["diagnosis"]

    def located(diagnosis: dict[str, Any]) -> list[tuple[str, str, list[int]]]:
        return [(s["file"], s["symbol"], s["lines"]) for s in diagnosis["suspects"]]

    assert located(from_text) == located(from_event)
    assert from_text["suspect_commit"] == from_event["suspect_commit"]
