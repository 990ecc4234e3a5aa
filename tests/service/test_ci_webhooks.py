"""`fixloop serve` takes GitHub's failed CI runs of a base branch: one queued job per commit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from agent import wiring
from agent.service.server import create_app
from agent.service.worker import Worker
from agent.settings import RepoTable, Settings
from tests.support import signed
from tests.support.local_client import local_client
from tests.support.red_main import FLAKY_TEST, WARMING_TEST, red_inventory_repo
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST

REPO = "acme/shop"


@pytest.fixture
def red(tmp_path: Path) -> tuple[Path, str]:
    return red_inventory_repo(tmp_path / "shop")


@pytest.fixture
def settings(tmp_path: Path, red: tuple[Path, str]) -> Settings:
    return Settings(
        home=tmp_path / "state",
        worker=False,
        github_webhook_secret=SecretStr(signed.GITHUB_SECRET),
        github_repo=REPO,
        repos={"shop": red[0]},
        pytest_args=FAST,
        test_timeout=60,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with local_client(create_app(settings)) as client:
        yield client


def _post(client: TestClient, event: str, payload: dict[str, Any], **kwargs: Any) -> Any:
    body, headers = signed.github(event, payload, **kwargs)
    return client.post("/webhooks/github", content=body, headers=headers)


def test_a_failed_run_of_main_is_queued_once_per_commit(
    client: TestClient, settings: Settings, red: tuple[Path, str]
) -> None:
    sha = red[1]
    body, headers = signed.github("workflow_run", signed.workflow_run(REPO, sha))
    first = client.post("/webhooks/github", content=body, headers=headers)
    redelivered = client.post("/webhooks/github", content=body, headers=headers)
    suite = _post(client, "check_suite", signed.check_suite(REPO, sha))
    rerun = signed.workflow_run(REPO, sha)
    rerun["workflow_run"]["run_attempt"] = 2
    attempt = _post(client, "workflow_run", rerun)

    assert first.status_code == 200
    assert first.json()["outcome"] == "new" and first.json()["commit"] == sha
    incident_id = first.json()["incident_id"]
    for answer in (redelivered, suite, attempt):
        assert answer.status_code == 200
        assert answer.json()["outcome"] == "duplicate_delivery"
        assert answer.json()["incident_id"] == incident_id
    stats = wiring.inbox(settings).stats()
    assert (stats["incidents"], stats["jobs_queued"]) == (1, 1)
    record = client.get(f"/incidents/{incident_id}").json()["incident"]
    assert record["jobs"][0]["kind"] == "ci_run"
    assert record["project"] == REPO


@pytest.mark.parametrize(
    ("event", "payload", "reason"),
    [
        ("workflow_run", signed.workflow_run(REPO, "a" * 40, branch="feature"), "base branch"),
        ("workflow_run", signed.workflow_run(REPO, "a" * 40, conclusion="success"), "'success'"),
        ("workflow_run", signed.workflow_run(REPO, "a" * 40, action="requested"), "completed"),
        ("workflow_run", signed.workflow_run("acme/other", "a" * 40), "not configured"),
        ("check_suite", signed.check_suite(REPO, "a" * 40, branch="fixloop/fx-1"), "base branch"),
    ],
)
def test_runs_fixloop_does_not_act_on_are_acknowledged_with_the_reason(
    client: TestClient, settings: Settings, event: str, payload: dict[str, Any], reason: str
) -> None:
    answer = _post(client, event, payload)

    assert answer.status_code == 200
    assert reason in answer.json()["ignored"]
    assert wiring.inbox(settings).stats()["incidents"] == 0


def test_malformed_and_unsigned_runs_are_refused(client: TestClient, settings: Settings) -> None:
    no_sha = signed.workflow_run(REPO, "a" * 40)
    del no_sha["workflow_run"]["head_sha"]
    malformed = _post(client, "workflow_run", no_sha)
    not_a_run = _post(client, "check_suite", {"action": "completed", "repository": {}})
    forged = _post(client, "workflow_run", signed.workflow_run(REPO, "a" * 40), secret="guess")

    assert malformed.status_code == 400 and "head_sha" in malformed.json()["error"]
    assert not_a_run.status_code == 400 and "check_suite" in not_a_run.json()["error"]
    assert forged.status_code == 401
    assert wiring.inbox(settings).stats()["deliveries"] == 0


def test_a_commit_whose_only_new_failure_is_flaky_gets_a_ticket_and_no_run(
    tmp_path: Path, settings: Settings
) -> None:
    builder = RepoBuilder(tmp_path / "flaky")
    builder.commit({"tests/test_cache.py": "def test_cache_warms_up():\n    pass\n"}, "Cache")
    sha = builder.commit({"tests/test_cache.py": WARMING_TEST}, "Warm the cache")
    flaky = settings.model_copy(update={"repos": {"shop": RepoTable(checkout=builder.path)}})
    with local_client(create_app(flaky)) as client:
        incident_id = _post(client, "workflow_run", signed.workflow_run(REPO, sha)).json()[
            "incident_id"
        ]
        assert Worker(flaky, wiring.inbox(flaky)).drain() == 1
        record = client.get(f"/incidents/{incident_id}").json()

    assert record["run"] is None
    assert record["incident"]["outcome"].startswith("flaky only")
    tests = next(n for n in record["incident"]["notes"] if n["kind"] == "tests")["detail"]
    assert (tests["broken"], tests["flaky"]) == ([], [FLAKY_TEST])
    [ticket] = wiring.tracker(flaky).all()
    assert "Flaky" in ticket.title
    assert f"`{FLAKY_TEST}`" in ticket.body
    assert "not fixed" in ticket.body


def test_a_checkout_fixloop_cannot_read_is_a_503_with_the_reason(
    tmp_path: Path, settings: Settings
) -> None:
    (tmp_path / "not-git").mkdir()
    broken = settings.model_copy(
        update={"repos": {"shop": RepoTable(checkout=tmp_path / "not-git")}}
    )
    with local_client(create_app(broken)) as client:
        answer = _post(client, "workflow_run", signed.workflow_run(REPO, "a" * 40))

    assert answer.status_code == 503
    assert answer.json()["error"].startswith(f"the checkout of {REPO} cannot be read:")
    assert "is not a git repository" in answer.json()["error"]
