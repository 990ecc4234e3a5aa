"""The derived-test way: a test of the repository that calls the crashing function, its call
re-run with the incident's captured values.

Library-style code the other ways cannot rebuild: a class without `__repr__` whose objects only
a factory makes (sentry-sdk captures `<lib.store.Store object at 0x…>`), a `__repr__` that
raises (`<broken repr>`). The events are real sentry-sdk events; a derived test counts only when
it fails on the base commit like the incident, inside the function it was derived for.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agent import domain
from agent.diagnosis.reproduce import (
    NotRebuildable,
    check_reproduction,
    make_reproduction,
)
from agent.diagnosis.reproduce.derived import derived_candidates
from agent.domain import Incident, Reproduction
from agent.intake.payloads import parse_payload
from agent.ports import Sandbox
from agent.proof.prove import write_reproduction
from agent.proof.workbench import Workbench
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST
from tests.support.sentry_events import sentry_event
from tools.git_repo import GitRepo
from tools.sandbox import make_sandbox

STORE = """\
class Store:
    def __init__(self, backend, *, prefix):
        self._backend = backend
        self._prefix = prefix

    def width(self, key, pad):
        return len(self._prefix + key) + pad

    def lookup(self, key, default):
        return self._backend[self._prefix + key] if default is None else default


def open_store(url):
    return Store({"app:" + url: url}, prefix="app:")
"""
LEDGER = """\
class Ledger:
    def __init__(self, entries):
        self.entries = list(entries)

    def __repr__(self):
        raise RuntimeError("no repr while the ledger is locked")

    def balance(self, upto):
        return sum(self.entries[:upto]) / upto
"""
WINDOW = """\
from dataclasses import dataclass


@dataclass
class Window:
    width: int
    height: int

    def ratio(self, parts):
        return self.width / (self.height * parts)


def square(side):
    return Window(side, side)
"""
SUITE = """\
import pytest

from lib.window import square

from lib.ledger import Ledger
from lib.store import open_store


@pytest.fixture
def store():
    return open_store("memory")


def test_width(store):
    assert store.width("k", 2) == 7


def test_lookup_with_default(store):
    with pytest.raises(KeyError):
        store.lookup("missing", None)
    assert store.lookup("any", "fallback") == "fallback"


def test_ratio():
    assert square(2).ratio(1) == 1


class TestLedger:
    def setup_method(self):
        self.ledger = Ledger([3, 4, 5])

    def test_balance(self):
        assert self.ledger.balance(2) == 3.5
"""
SETUP = "from lib.store import *\nfrom lib.ledger import *\nfrom lib.window import *"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, str, Path]:
    builder = RepoBuilder(tmp_path_factory.mktemp("derived") / "repo")
    files = {
        "lib/__init__.py": "",
        "lib/store.py": STORE,
        "lib/ledger.py": LEDGER,
        "lib/window.py": WINDOW,
        "tests/test_lib.py": SUITE,
    }
    return GitRepo(builder.path), builder.commit(files, "store and ledger"), builder.path


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return make_sandbox("auto", sys.executable, FAST, 30, 2048)


def incident_of(library: tuple[GitRepo, str, Path], trigger: str) -> Incident:
    return parse_payload(sentry_event(library[2], SETUP, trigger))


def ident(incident: Incident) -> str:
    return incident.id.replace("-", "_")


def checked(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, incident: Incident, tmp: Path
) -> list[Reproduction]:
    repo, base, _ = library
    candidates, _ = derived_candidates(incident, repo, base)
    results = []
    for candidate in candidates:
        with Workbench(repo, sandbox, tmp).worktree(base, "derived") as tree:
            write_reproduction(tree, candidate)
            run: domain.TestRun = sandbox.run_tests(tree, [candidate.nodeid])
        results.append(check_reproduction(candidate, run, incident))
    return results


def test_an_object_only_a_factory_makes_comes_from_the_test_that_calls_the_method(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    incident = incident_of(library, "open_store('prod').width('user', '2')")
    assert incident.crash is not None
    assert incident.crash.frames[-1].vars["self"].startswith("<lib.store.Store object at 0x")
    with pytest.raises(NotRebuildable):
        make_reproduction(incident, library[0], library[1])

    [derived] = checked(library, sandbox, incident, tmp_path)
    assert derived.reproduced, derived.reason
    assert derived.way == "derived_test"
    assert derived.filename == f"tests/test_fixloop_derived_{ident(incident)}.py"
    assert derived.target_function == "Store.width"
    assert "store.width(key='user', pad='2')" in derived.source
    assert "def store():" in derived.source  # the test module's fixture stays
    assert "test_lookup_with_default" not in derived.source  # its other tests do not
    assert derived.built_from.startswith("a test derived from tests/test_lib.py::test_width")


def test_a_repr_that_raises_keeps_the_object_the_test_class_sets_up(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    incident = incident_of(library, "Ledger([]).balance(0)")
    assert incident.crash is not None
    assert incident.crash.frames[-1].vars["self"] == "<broken repr>"

    [derived] = checked(library, sandbox, incident, tmp_path)
    assert derived.reproduced, derived.reason
    assert derived.nodeid.endswith(f"::TestLedger::test_reproduces_{ident(incident)}")
    assert "def setup_method(self):" in derived.source
    assert "self.ledger.balance(upto=0)" in derived.source


def test_a_derived_test_that_passes_on_the_base_commit_is_a_failed_attempt(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    # The production store held no such key; the test's store does: the call passes there.
    incident = incident_of(library, "open_store('prod').lookup('memory', None)")
    [derived] = checked(library, sandbox, incident, tmp_path)
    assert not derived.reproduced
    assert derived.reason.startswith("passes on the base commit")
    # The test's `pytest.raises` block is gone, so the call's exception is not swallowed.
    assert "pytest.raises" not in derived.source.split("def test_reproduces")[1]


def test_a_call_that_fails_like_the_incident_outside_the_function_does_not_count(
    library: tuple[GitRepo, str, Path],
) -> None:
    incident = incident_of(library, "open_store('prod').width('user', '2')")
    repo, base, _ = library
    [derived], _ = derived_candidates(incident, repo, base)
    assert incident.crash is not None
    elsewhere = incident.crash.model_copy(
        update={"frames": [domain.Frame(filename="lib/other.py", function="width")]}
    )
    run = domain.TestRun(
        outcomes={derived.nodeid: "failed"}, failures={derived.nodeid: [elsewhere]}
    )
    result = check_reproduction(derived, run, incident)
    assert not result.reproduced
    assert result.reason == "fails with TypeError, but not in Store.width"


def test_a_frame_cut_at_ten_variables_gives_no_derived_test(
    library: tuple[GitRepo, str, Path],
) -> None:
    incident = incident_of(library, "open_store('prod').width('user', '2')")
    assert incident.crash is not None
    frame = incident.crash.frames[-1]
    cut = frame.model_copy(update={"vars": {"self": frame.vars["self"], "key": "'user'"}})
    cut = cut.model_copy(update={"vars_cut": True})
    crash = incident.crash.model_copy(update={"frames": [*incident.crash.frames[:-1], cut]})
    incident = incident.model_copy(update={"exceptions": [crash]})
    candidates, refusals = derived_candidates(incident, library[0], library[1])
    assert candidates == []
    assert any("parameter 'pad' was not captured" in refusal for refusal in refusals)


def test_a_self_whose_repr_rebuilds_is_the_incidents_not_the_tests(
    library: tuple[GitRepo, str, Path],
) -> None:
    incident = incident_of(library, "Window(4, 0).ratio(3)")
    [derived], _ = derived_candidates(incident, library[0], library[1])
    assert "Window(width=4, height=0).ratio(parts=3)" in derived.source
    assert "from lib.window import Window" in derived.source
