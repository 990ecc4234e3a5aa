"""Honest captured values: what sentry-sdk cut is known, and never rebuilt into a call.

The incidents are real sentry-sdk events from code run in a subprocess: the SDK keeps 10 of a
frame's variables (and of a list's items) without a note, and cuts strings at `max_value_length`
with one in `_meta`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from agent.diagnosis.reproduce import NotRebuildable, check_reproduction, make_reproduction
from agent.domain import Frame, Incident
from agent.intake.payloads import parse_payload
from agent.ports import Sandbox
from agent.proof.workbench import Workbench
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST
from tests.support.sentry_events import sentry_event
from tools.git_repo import GitRepo
from tools.sandbox import make_sandbox

LAYOUT = """\
def grid(top, right, bottom, left, rows, cols, gutter, width, height, dpi, scale=1):
    usable = width - left - right - gutter * (cols - 1)
    return usable // (cols * scale), (height - top - bottom) // rows


def page(width, scale):
    return grid(10, 10, 10, 10, 4, 3, 5, width, 800, 72, scale=scale)
"""
HEADERS = """\
def parse_header(line):
    name, _, value = line.partition(":")
    if value.endswith(";"):
        raise ValueError(f"stray ';' in header {name!r}")
    return name.strip(), value.strip()


def read_header(name, size):
    return parse_header(f"{name}: " + "v" * size + ";")
"""
ORDERS = """\
from dataclasses import dataclass


@dataclass
class Order:
    id: int
    note: str


def summarise(order, skus, comment):
    raise KeyError(skus[-1])
"""
SETUP = "from lib.layout import *\nfrom lib.headers import *\nfrom lib.orders import *"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, str, Path]:
    root = tmp_path_factory.mktemp("lib")
    builder = RepoBuilder(root / "repo")
    files = {
        "lib/__init__.py": "",
        "lib/layout.py": LAYOUT,
        "lib/headers.py": HEADERS,
        "lib/orders.py": ORDERS,
    }
    base = builder.commit(files, "a small library")
    return GitRepo(builder.path), base, builder.path


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return make_sandbox("auto", sys.executable, FAST, 30, 2048)


def reported(library: tuple[GitRepo, str, Path], trigger: str, **options: Any) -> Incident:
    return parse_payload(sentry_event(library[2], SETUP, trigger, **options))


def crash_frame(incident: Incident) -> Frame:
    assert incident.crash is not None
    return incident.crash.frames[-1]


def run_on_base(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, incident: Incident, tmp: Path
) -> tuple[bool, str]:
    repo, base, _ = library
    reproduction = make_reproduction(incident, repo, base)
    bench = Workbench(repo, sandbox, tmp)
    with bench.worktree(base, "repro") as tree:
        (tree / reproduction.filename).write_text(reproduction.source)
        run = sandbox.run_tests(tree, [reproduction.nodeid])
    checked = check_reproduction(reproduction, run, incident)
    return checked.reproduced, checked.reason


def test_a_frame_cut_at_ten_variables_is_not_called_without_the_eleventh(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    """`scale` is the eleventh local of `grid`; filled from its default (1) the call would pass."""
    incident = reported(library, "page(600, 0)")
    frame = crash_frame(incident)
    assert len(frame.vars) == 10 and "scale" not in frame.vars
    assert frame.vars_cut is True

    reproduced, reason = run_on_base(library, sandbox, incident, tmp_path)
    assert reproduced is True, reason
    assert reason.startswith("fails with ZeroDivisionError as in the incident; built from the ")
    assert "outer frame lib/layout.py:7 in page" in reason
    assert (
        "lib/layout.py:3 in grid: parameter 'scale' was not captured "
        "(the reporter sent only 10 of the frame's variables)"
    ) in reason


def test_without_an_outer_frame_that_rebuilds_there_is_no_reproduction(
    library: tuple[GitRepo, str, Path],
) -> None:
    repo, base, _ = library
    incident = reported(library, "grid(10, 10, 10, 10, 4, 3, 5, 600, 800, 72, scale=0)")
    with pytest.raises(NotRebuildable) as refusal:
        make_reproduction(incident, repo, base)
    assert refusal.value.reason == (
        "no frame can be rebuilt: lib/layout.py:3 in grid: parameter 'scale' was not captured "
        "(the reporter sent only 10 of the frame's variables)"
    )


def test_a_string_cut_at_max_value_length_is_never_used(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    event = sentry_event(library[2], SETUP, "read_header('X-Token', 120)", max_value_length=64)
    last = str(len(event["exception"]["values"][0]["stacktrace"]["frames"]) - 1)
    frames_meta = event["_meta"]["exception"]["values"]["0"]["stacktrace"]["frames"]
    assert frames_meta[last]["vars"]["line"][""]["rem"] == [["!limit", "x", 61, 64]]
    incident = parse_payload(event)
    frame = crash_frame(incident)
    assert frame.vars["line"].endswith("...") and "line" in frame.cut_vars
    assert frame.vars_cut is False

    reproduced, reason = run_on_base(library, sandbox, incident, tmp_path)
    assert reproduced is True, reason
    assert "outer frame lib/headers.py:9 in read_header" in reason
    assert "parse_header: parameter 'line' was cut by the reporter" in reason


def test_cut_values_are_known_without_meta(library: tuple[GitRepo, str, Path]) -> None:
    """sentry-sdk 2 serializes a frame's variables before the event, so a list trimmed to 10
    items has no note; a repr cut at `max_value_length` ends in `...` even without `_meta`."""
    trigger = "summarise(Order(7, 'n' * 80), [f'SKU-{i}' for i in range(15)], 'fine')"
    event = sentry_event(library[2], SETUP, trigger, max_value_length=40)
    event.pop("_meta", None)
    frame = crash_frame(parse_payload(event))
    assert frame.vars["order"].endswith("...") and len(frame.vars["skus"]) == 10
    assert frame.cut_vars == ["order", "skus"]
    assert frame.vars_cut is False


def test_a_parameter_the_reporter_cut_is_not_rebuilt(library: tuple[GitRepo, str, Path]) -> None:
    repo, base, _ = library
    trigger = "summarise(Order(7, 'x'), [f'SKU-{i}' for i in range(15)], 'fine')"
    incident = reported(library, trigger)
    with pytest.raises(NotRebuildable, match="parameter 'skus' was cut by the reporter"):
        make_reproduction(incident, repo, base)


def test_a_trimmed_databag_noted_in_meta_marks_the_frame_cut() -> None:
    """Older SDKs serialized a frame's variables with the event and noted the trim in `_meta`."""
    frame = {"filename": "lib/layout.py", "function": "grid", "lineno": 3, "vars": {"top": "10"}}
    noted = {"vars": {"": {"len": 12}, "top": {"": {"rem": [["!limit", "x", 1, 4]]}}}}
    event = {
        "event_id": "e1",
        "exception": {"values": [{"type": "ZeroDivisionError", "stacktrace": {"frames": [frame]}}]},
        "_meta": {"exception": {"values": {"0": {"stacktrace": {"frames": {"0": noted}}}}}},
    }
    marked = crash_frame(parse_payload(event))
    assert (marked.vars_cut, marked.cut_vars) == (True, ["top"])
    event.pop("_meta")
    unmarked = crash_frame(parse_payload(event))
    assert (unmarked.vars_cut, unmarked.cut_vars) == (False, [])
