"""Objects whose repr says nothing, built the way the repository's own tests build them.

Library-style code: a class without `__repr__` (sentry-sdk captures `<lib.x.Table object at
0x…>`), a `__repr__` that raises (`<broken repr>`), an object made by a factory. The events are
real sentry-sdk events; each candidate counts only once it has failed like the incident.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agent import domain
from agent.diagnosis.reproduce import (
    NotRebuildable,
    first_that_reproduces,
    make_reproduction,
    reproduction_candidates,
)
from agent.domain import Reproduction
from agent.intake.payloads import parse_payload
from agent.ports import Sandbox
from agent.proof.workbench import Workbench
from tests.support.objects_library import DB, SETUP, SUITE, TABLES
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST
from tests.support.sentry_events import sentry_event
from tools.git_repo import GitRepo
from tools.sandbox import make_sandbox


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, str, Path]:
    builder = RepoBuilder(tmp_path_factory.mktemp("objects") / "repo")
    files = {
        "lib/__init__.py": "",
        "lib/tables.py": TABLES,
        "lib/db.py": DB,
        "tests/test_lib.py": SUITE,
    }
    return GitRepo(builder.path), builder.commit(files, "tables"), builder.path


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return make_sandbox("auto", sys.executable, FAST, 30, 2048)


def tried_in_order(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, trigger: str, tmp: Path
) -> tuple[list[Reproduction], list[Reproduction]]:
    """The candidates tried, checked, up to the first that fails like the incident; and all."""
    repo, base, checkout = library
    incident = parse_payload(sentry_event(checkout, SETUP, trigger))
    candidates = reproduction_candidates(incident, repo, base)

    def run(reproduction: Reproduction) -> domain.TestRun:
        with Workbench(repo, sandbox, tmp).worktree(base, "objects") as tree:
            (tree / reproduction.filename).write_text(reproduction.source)
            return sandbox.run_tests(tree, [reproduction.nodeid])

    found, tried = first_that_reproduces(candidates, incident, run)
    assert found is (tried[-1] if tried[-1].reproduced else None)
    return tried, candidates


def test_a_class_without_repr_is_built_as_the_tests_build_it(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    tried, _ = tried_in_order(library, sandbox, "Table('orders').column_type('id')", tmp_path)
    assert [checked.reproduced for checked in tried] == [False, True]
    assert tried[0].reason.startswith("passes on the base commit")
    assert "Table('users', {'id': 'int'}).column_type(column='id')" in tried[0].source
    assert "        Table('empty').column_type(column='id')\n" in tried[1].source
    assert tried[1].built_from == (
        "the crashing frame with Table built as at tests/test_lib.py:10 "
        "(a guess at the incident's objects)"
    )


def test_a_broken_repr_of_self_is_built_as_its_class_is_built(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    """`Schema()` in the tests is the second way tried: its repr raises, as in the incident."""
    tried, candidates = tried_in_order(library, sandbox, "Schema().size('users')", tmp_path)
    assert (
        parse_payload(sentry_event(library[2], SETUP, "Schema().size('users')"))
        .crash.frames[-1]
        .vars["self"]
        == "<broken repr>"
    )  # type: ignore[union-attr]
    assert [checked.reproduced for checked in tried] == [False, True]
    assert "Schema({'users': [1, 2]}).size(name='users')" in tried[0].source
    assert "        Schema().size(name='users')\n" in tried[1].source
    assert len(candidates) == 2


def test_an_object_made_by_a_factory_is_made_by_it(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    tried, _ = tried_in_order(library, sandbox, "connect('sqlite://').backoff()", tmp_path)
    assert tried[-1].reproduced is True, tried[-1].reason
    assert "from lib.db import Connection, connect\n" in tried[-1].source
    assert "        connect('sqlite://').backoff()\n" in tried[-1].source
    assert [checked.reproduced for checked in tried] == [False, True]
    assert "Connection built as at tests/test_lib.py:26" in tried[-1].built_from


def test_without_a_way_to_build_it_the_first_refusals_are_reported(
    library: tuple[GitRepo, str, Path],
) -> None:
    repo, base, checkout = library
    event = sentry_event(
        checkout, SETUP, "import io\ncolumn_of = Table.column_type\ncolumn_of(io.StringIO(), 'x')"
    )
    with pytest.raises(NotRebuildable, match="'self': not a Python literal or constructor"):
        make_reproduction(parse_payload(event), repo, base)
