"""Opaque objects built by the repository's own pytest fixtures.

Library-style code: a `Worker` without `__repr__` whose constructor takes other collaborators
(its tests build it in a fixture from other fixtures), and a `Channel` whose `__repr__` raises,
built by a fixture in the test module itself. The events are real sentry-sdk events.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agent import domain
from agent.diagnosis.reproduce import NotRebuildable, check_reproduction, reproduction_candidates
from agent.diagnosis.reproduce.fixtures import fixture_candidates
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

JOBS = """\
class Queue:
    def __init__(self):
        self.jobs = []


class Worker:
    def __init__(self, queue, clock):
        self.queue = queue
        self.clock = clock


def redeliver(payload, worker):
    delay = payload.get("retry_after", 60) + 30
    return worker.clock() + delay


class Channel:
    def __init__(self, name, limit):
        self.name, self.limit = name, limit

    def __repr__(self):
        raise RuntimeError("closed")

    def share(self, parts):
        return self.limit // parts


class Clock:
    pass
"""
CONFTEST = """\
import pytest

from lib.jobs import Queue, Worker


@pytest.fixture
def queue():
    return Queue()


@pytest.fixture
def worker(queue):
    made = Worker(queue, clock=lambda: 0)
    return made
"""
SUITE = """\
import pytest

from lib.jobs import Channel, redeliver


@pytest.fixture(name="channel")
def make_channel():
    return Channel("alerts", 10)


def test_redeliver(worker):
    assert redeliver({"retry_after": 5}, worker) == 35


def test_share(channel):
    assert channel.share(2) == 5
"""
HANDLERS = """\
def due(payload, worker):
    return worker.clock() + payload["after"]
"""
SETUP = "from lib.jobs import *\nfrom lib.handlers import *"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, str, Path]:
    builder = RepoBuilder(tmp_path_factory.mktemp("fixtures") / "repo")
    files = {
        "lib/__init__.py": "",
        "lib/jobs.py": JOBS,
        "lib/handlers.py": HANDLERS,
        "tests/conftest.py": CONFTEST,
        "tests/test_jobs.py": SUITE,
    }
    return GitRepo(builder.path), builder.commit(files, "jobs"), builder.path


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return make_sandbox("auto", sys.executable, FAST, 30, 2048)


def incident_of(library: tuple[GitRepo, str, Path], trigger: str) -> Incident:
    return parse_payload(sentry_event(library[2], SETUP, trigger))


def run_on_base(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, candidate: Reproduction, tmp: Path
) -> domain.TestRun:
    repo, base, _ = library
    with Workbench(repo, sandbox, tmp).worktree(base, "fixtures") as tree:
        write_reproduction(tree, candidate)
        return sandbox.run_tests(tree, [candidate.nodeid])


def test_an_argument_without_repr_comes_from_a_conftest_fixture(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    incident = incident_of(library, "redeliver({'retry_after': '600'}, Worker(Queue(), clock=int))")
    assert incident.crash is not None
    assert incident.crash.frames[-1].vars["worker"].startswith("<lib.jobs.Worker object at 0x")
    with pytest.raises(NotRebuildable):  # the tests build a Worker only from other fixtures
        reproduction_candidates(incident, library[0], library[1])

    [candidate], _ = fixture_candidates(incident, library[0], library[1])
    assert candidate.way == "test_built_object"
    assert candidate.filename.startswith("tests/test_fixloop_fixture_")
    assert "(worker):" in candidate.source
    assert "redeliver(payload={'retry_after': '600'}, worker=worker)" in candidate.source
    checked = check_reproduction(
        candidate, run_on_base(library, sandbox, candidate, tmp_path), incident
    )
    assert checked.reproduced, checked.reason
    assert "worker from the fixture worker (tests/conftest.py)" in checked.built_from


def test_a_self_whose_repr_raises_comes_from_the_test_modules_fixture(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    incident = incident_of(library, "Channel('pager', 3).share(0)")
    assert incident.crash is not None
    assert incident.crash.frames[-1].vars["self"] == "<broken repr>"

    [candidate], _ = fixture_candidates(incident, library[0], library[1])
    assert "channel.share(parts=0)" in candidate.source
    assert "def make_channel():" in candidate.source  # the module's fixture is copied
    assert "def test_share" not in candidate.source  # its tests are not
    checked = check_reproduction(
        candidate, run_on_base(library, sandbox, candidate, tmp_path), incident
    )
    assert checked.reproduced, checked.reason


def test_a_call_the_fixture_object_does_not_crash_is_a_failed_attempt(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    # In production the worker's clock returned a string; the fixture's returns 0.
    incident = incident_of(library, "redeliver({'retry_after': 5}, Worker(Queue(), clock=str))")
    [candidate], _ = fixture_candidates(incident, library[0], library[1])
    checked = check_reproduction(
        candidate, run_on_base(library, sandbox, candidate, tmp_path), incident
    )
    assert not checked.reproduced
    assert checked.reason.startswith("passes on the base commit")


def test_a_class_no_fixture_returns_is_refused(library: tuple[GitRepo, str, Path]) -> None:
    incident = incident_of(library, "redeliver({'retry_after': '1'}, Clock())")
    candidates, refusals = fixture_candidates(incident, library[0], library[1])
    assert candidates == []
    assert refusals == [
        "lib/jobs.py:13 in redeliver: no fixture of the repository's tests returns a lib.jobs.Clock"
    ]


def test_a_duck_typed_argument_is_placed_by_the_module_its_repr_names(
    library: tuple[GitRepo, str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    # lib/handlers.py never imports Worker: the repr's module says which class it is.
    incident = incident_of(library, "due({'after': '60'}, Worker(Queue(), clock=int))")
    [candidate, *_], _ = fixture_candidates(incident, library[0], library[1])
    assert candidate.target_function == "due"
    assert "due(payload={'after': '60'}, worker=worker)" in candidate.source
    checked = check_reproduction(
        candidate, run_on_base(library, sandbox, candidate, tmp_path), incident
    )
    assert checked.reproduced, checked.reason
