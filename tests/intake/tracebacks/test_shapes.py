"""Every shape a traceback arrives in, read from output captured by running the tools on a
sample application of our own (tests/fixtures/tracebacks/shapes/capture.py regenerates it)."""

from __future__ import annotations

import pytest

from agent.domain import ExceptionInfo
from agent.intake.tracebacks import parse_traceback, read_tracebacks
from tests.support.paths import FIXTURES

SHAPES = FIXTURES / "tracebacks" / "shapes"

# The innermost frame in tallykit's code: file name, line, function.
AVERAGE = ("rates.py", 10, "average_rate")
LISTCOMP = ("rates.py", 5, "<listcomp>")


def text(name: str) -> str:
    return (SHAPES / name).read_text()


def last_own_frame(exception: ExceptionInfo) -> tuple[str, int | None, str]:
    own = [f for f in exception.frames if "tallykit" in f.filename or "..." in f.filename]
    frame = own[-1]
    return frame.filename.rsplit("/", 1)[-1], frame.lineno, frame.function


@pytest.mark.parametrize(
    ("name", "types", "innermost"),
    [
        ("python_plain.txt", ["StatisticsError"], AVERAGE),
        ("installed.txt", ["StatisticsError"], AVERAGE),
        ("repl_stdin.txt", ["StatisticsError"], AVERAGE),
        ("doctest.txt", ["StatisticsError"], AVERAGE),
        ("elided.txt", ["StatisticsError"], AVERAGE),
        ("ipython9_neutral.txt", ["StatisticsError"], AVERAGE),
        ("ipython9_nocolor.txt", ["StatisticsError"], AVERAGE),
        ("ipython7_linux.txt", ["StatisticsError"], AVERAGE),
        ("ipython7_nocolor.txt", ["StatisticsError"], AVERAGE),
        ("pytest_native.txt", ["KeyError"], LISTCOMP),
        ("unittest.txt", ["KeyError"], LISTCOMP),
        ("python_cause.txt", ["StatisticsError", "ValueError"], None),
        ("python_during_handling.txt", ["StatisticsError", "LookupError"], None),
        ("markdown_report.md", ["StatisticsError", "ValueError"], None),
    ],
)
def test_each_shape_gives_its_chain_and_its_innermost_frame(
    name: str, types: list[str], innermost: tuple[str, int, str] | None
) -> None:
    chain = parse_traceback(text(name))
    assert [e.type for e in chain] == types
    if innermost is not None:
        assert last_own_frame(chain[-1]) == innermost
    crash = chain[-1]
    assert crash.frames, name
    assert all(f.lineno for f in crash.frames)


def test_ipython_frames_take_the_line_the_arrow_marks_and_drop_colours() -> None:
    colour = parse_traceback(text("ipython9_neutral.txt"))
    plain = parse_traceback(text("ipython9_nocolor.txt"))
    assert colour == plain
    (crash,) = colour
    assert [(f.filename, f.lineno, f.function) for f in crash.frames] == [
        ("Cell In[1]", 1, "<module>"),
        ("/tmp/fixloop-shapes/checkout/src/tallykit/report.py", 9, "summarize"),
        ("/tmp/fixloop-shapes/checkout/src/tallykit/rates.py", 10, "average_rate"),
        ("~/.pyenv/versions/3.11.7/lib/python3.11/statistics.py", 458, "fmean"),
    ]
    assert crash.frames[2].context_line == "return statistics.fmean(rates)"
    assert crash.value == "fmean requires at least one data point"


def test_classic_ipython_and_its_terminal_title_escape() -> None:
    (crash,) = parse_traceback(text("ipython7_linux.txt"))
    assert [(f.lineno, f.function) for f in crash.frames] == [
        (1, "<cell line: 0>"),
        (9, "summarize"),
        (10, "average_rate"),
        (458, "fmean"),
    ]
    assert crash.frames[0].filename.startswith("<ipython-input-1-")
    assert crash.frames[-1].module == "statistics"


def test_a_function_typed_into_a_notebook_cell_keeps_its_source_line() -> None:
    (crash,) = parse_traceback(text("ipython9_cell.txt"))
    cell = crash.frames[1]
    assert (cell.filename, cell.lineno, cell.function, cell.context_line) == (
        "Cell In[1]",
        5,
        "average_rate",
        "return statistics.fmean(rates)",
    )


@pytest.mark.parametrize("name", ["pytest_long.txt", "pytest_short.txt"])
def test_pytest_long_and_short_reports(name: str) -> None:
    (crash,) = parse_traceback(text(name))
    assert (crash.type, crash.value) == ("KeyError", "'rate'")
    assert [(f.filename, f.lineno) for f in crash.frames] == [
        ("tests/test_report.py", 5),
        ("src/tallykit/report.py", 9),
        ("src/tallykit/rates.py", 9),
        ("src/tallykit/rates.py", 5),
        ("src/tallykit/rates.py", 5),
    ]
    functions = [f.function for f in crash.frames]
    assert functions[1:4] == ["summarize", "average_rate", "billable_rates"]
    assert crash.frames[2].context_line == "rates = billable_rates(entries)"


def test_pytest_line_report_is_one_frame_and_the_exception() -> None:
    (crash,) = parse_traceback(text("pytest_line.txt"))
    assert (crash.type, crash.value) == ("KeyError", "'rate'")
    ((path, line),) = [(f.filename, f.lineno) for f in crash.frames]
    assert (path.rsplit("/", 2)[-2:], line) == (["tallykit", "rates.py"], 5)


def test_an_exception_group_gives_every_leaf_marked() -> None:
    group, first, second = parse_traceback(text("exception_group.txt"))
    assert (group.type, group.leaf) == ("ExceptionGroup", False)
    assert group.frames[-1].function == "__aexit__"
    assert [(e.type, e.leaf) for e in (first, second)] == [
        ("StatisticsError", True),
        ("KeyError", True),
    ]
    assert [f.function for f in second.frames] == [
        "person_rate",
        "average_rate",
        "billable_rates",
        "<listcomp>",
    ]


def test_recursion_and_an_excerpt_of_only_the_last_frame() -> None:
    (full,) = parse_traceback(text("python_recursion.txt"))
    (cut,) = parse_traceback(text("last_frame_only.txt"))
    assert full.type == cut.type == "RecursionError"
    assert [f.function for f in cut.frames] == ["chain_of_command"]
    assert full.frames[-1] == cut.frames[-1]


def test_what_is_not_in_the_text_is_said() -> None:
    elided = read_tracebacks(text("elided.txt"))
    assert elided.unread == ["line 3: frames elided as '...' are not in the text"]
    cut = read_tracebacks(text("python_plain.txt").rsplit("statistics.", 1)[0])
    ((crash,),) = [found.chain for found in cut.tracebacks]
    assert crash.type == "UnknownException"
    assert crash.frames == read_tracebacks(text("python_plain.txt")).tracebacks[-1].chain[-1].frames
    assert "ends before its exception line" in cut.unread[0]


def test_an_exception_line_alone_is_an_incident_without_frames() -> None:
    reading = read_tracebacks("after the deploy the worker logs\nKeyError: 'SKU-9'\nand stops\n")
    ((crash,),) = [found.chain for found in reading.tracebacks]
    assert (crash.type, crash.value, crash.frames) == ("KeyError", "'SKU-9'", [])
    assert reading.unread == ["line 2: an exception line without a traceback"]


def test_a_path_cut_by_the_reporter_keeps_the_code() -> None:
    (crash,) = parse_traceback(text("path_cut.txt"))
    assert {f.filename for f in crash.frames} == {"..."}
    assert crash.frames[2].context_line == "return statistics.fmean(rates)"
