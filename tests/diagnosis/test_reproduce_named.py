"""Reprs that name things (`<class 'int'>`, `<function f at 0x…>`, `<Kind.NUMBER: 'number'>`)
rebuilt as the names the frame's module knows, and a property read on its rebuilt object, from
real sentry-sdk events."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from agent.diagnosis.reproduce import (
    Namespace,
    NotRebuildable,
    check_reproduction,
    make_reproduction,
    rebuild_expression,
)
from agent.intake.payloads import parse_payload
from agent.ports import Sandbox
from agent.proof.workbench import Workbench
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST
from tests.support.sentry_events import sentry_event
from tools.git_repo import GitRepo
from tools.sandbox import make_sandbox

TEXTUAL = """\
def strip(value):
    return value.strip()
"""
FIELDS = """\
import enum

from lib.textual import strip


class Kind(enum.Enum):
    TEXT = "text"
    NUMBER = "number"


def coerce(value, to):
    return to(value)


def apply(values, hook):
    out = []
    for value in values:
        out.append(hook(value) + 1)
    return out


def width(kind):
    return {Kind.TEXT: 10}[kind]


class Column:
    def __init__(self, name, size):
        self.name = name
        self.size = size

    def __repr__(self):
        return f"Column({self.name!r}, {self.size!r})"

    @property
    def half(self):
        return self.size // 2
"""
SETUP = "from lib.fields import *"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, str, Path]:
    builder = RepoBuilder(tmp_path_factory.mktemp("named") / "repo")
    files = {"lib/__init__.py": "", "lib/textual.py": TEXTUAL, "lib/fields.py": FIELDS}
    return GitRepo(builder.path), builder.commit(files, "fields"), builder.path


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return make_sandbox("auto", sys.executable, FAST, 30, 2048)


@pytest.mark.parametrize(
    ("trigger", "call", "imports"),
    [
        ("coerce('12a', int)", "coerce(value='12a', to=int)", "from lib.fields import coerce"),
        (
            "apply(['a'], strip)",
            "apply(values=['a'], hook=strip)",
            "from lib.fields import apply\nfrom lib.textual import strip",
        ),
        (
            "width(Kind.NUMBER)",
            "width(kind=Kind.NUMBER)",
            "from lib.fields import Kind, width",
        ),
        ("Column('a', '8').half", "Column('a', '8').half", "from lib.fields import Column"),
    ],
)
def test_a_named_thing_is_rebuilt_as_its_name(
    library: tuple[GitRepo, str, Path],
    sandbox: Sandbox,
    tmp_path: Path,
    trigger: str,
    call: str,
    imports: str,
) -> None:
    repo, base, checkout = library
    incident = parse_payload(sentry_event(checkout, SETUP, trigger))
    reproduction = make_reproduction(incident, repo, base)
    assert f"        {call}\n" in reproduction.source
    assert f"\n{imports}\n" in reproduction.source
    with Workbench(repo, sandbox, tmp_path).worktree(base, "named") as tree:
        (tree / reproduction.filename).write_text(reproduction.source)
        run = sandbox.run_tests(tree, [reproduction.nodeid])
    checked = check_reproduction(reproduction, run, incident)
    assert checked.reproduced is True, checked.reason


def namespace() -> Namespace:
    return Namespace(classes={"Kind": "lib.fields"}, functions={"strip": "lib.textual"})


@pytest.mark.parametrize(
    ("text", "expected", "imports"),
    [
        ("[<class 'int'>, <class 'str'>]", "[int, str]", set()),
        ("{'k': <Kind.TEXT: 'te>xt'>}", "{'k': Kind.TEXT}", {("lib.fields", "Kind")}),
        ("<class 'lib.fields.Kind'>", "Kind", {("lib.fields", "Kind")}),
        ("<class 'decimal.Decimal'>", "decimal.Decimal", {("decimal", None)}),
        ("<built-in function len>", "len", set()),
        ("<function Kind.parse at 0x7f00>", "Kind.parse", {("lib.fields", "Kind")}),
        ("\"<class 'int'>\"", "\"<class 'int'>\"", set()),
        (
            "Namespace(file='x', handler=<function strip at 0x7f00>)",
            "Namespace(file='x', handler=strip)",
            {("argparse", "Namespace"), ("lib.textual", "strip")},
        ),
    ],
)
def test_named_reprs(text: str, expected: str, imports: set[tuple[str, str | None]]) -> None:
    names = namespace()
    assert ast.unparse(rebuild_expression(text, names)) == expected
    assert names.used == imports


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<function <lambda> at 0x7f00>", "not a Python literal or constructor"),
        ("<function helper at 0x7f00>", "function helper is not one the frame's module"),
        ("<class 'lib.other.Thing'>", "class lib.other.Thing is not one the frame's module"),
        ("<class '__import__'>", "__import__ is not a builtin"),
        ("<Color.RED: 1>", "Color is not a class the frame's module knows"),
        ("[_fixloop_named_0]", "the repr spells _fixloop_named_"),
    ],
)
def test_named_reprs_that_are_refused(text: str, reason: str) -> None:
    with pytest.raises(NotRebuildable, match=reason):
        rebuild_expression(text, namespace())
