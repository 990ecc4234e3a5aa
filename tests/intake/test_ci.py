"""GitHub's `workflow_run` and `check_suite` webhooks read as a CI run, and routed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.errors import IntakeError
from agent.intake.ci import github_ci_run, route_github_repo
from agent.settings import Settings
from tests.support import signed

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


def test_a_failed_workflow_run_is_read() -> None:
    run = github_ci_run("workflow_run", signed.workflow_run("Acme/Shop", SHA))

    assert (run.event, run.repository, run.head_sha, run.head_branch) == (
        "workflow_run",
        "Acme/Shop",
        SHA,
        "main",
    )
    assert (run.name, run.url) == ("CI", "https://github.com/Acme/Shop/actions/runs/30433642")
    assert run.ignored() is None
    incident = run.as_incident()
    assert incident.source == "test_failure" and SHA[:10] in incident.title
    assert incident.tags["ci_commit"] == SHA


def test_a_failed_check_suite_is_read() -> None:
    run = github_ci_run("check_suite", signed.check_suite("acme/shop", SHA))

    assert (run.event, run.head_sha, run.conclusion) == ("check_suite", SHA, "failure")
    assert run.name == "check suite 118578147 (GitHub Actions)"
    assert run.ignored() is None


def test_both_events_of_one_commit_are_one_incident() -> None:
    by_run = github_ci_run("workflow_run", signed.workflow_run("Acme/Shop", SHA))
    by_suite = github_ci_run("check_suite", signed.check_suite("acme/shop", SHA))
    other = github_ci_run("check_suite", signed.check_suite("acme/shop", "0" * 40))

    assert by_run.dedup_key == by_suite.dedup_key == f"ci:acme/shop@{SHA}"
    assert by_run.as_incident().id == by_suite.as_incident().id
    assert other.as_incident().id != by_run.as_incident().id


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (signed.workflow_run("acme/shop", SHA, action="requested"), "only 'completed'"),
        (signed.workflow_run("acme/shop", SHA, conclusion="success"), "only 'failure'"),
        (signed.workflow_run("acme/shop", SHA, conclusion=None), "conclusion None"),
        (signed.workflow_run("acme/shop", SHA, head_repository="fork/shop"), "another repo"),
        (signed.check_suite("acme/shop", SHA, conclusion="cancelled"), "'cancelled'"),
    ],
)
def test_runs_that_are_no_incident_say_why(payload: dict[str, Any], reason: str) -> None:
    event = "workflow_run" if "workflow_run" in payload else "check_suite"
    why = github_ci_run(event, payload).ignored()
    assert why is not None and reason in why


def _broken(mutate: str) -> dict[str, Any]:
    payload = signed.workflow_run("acme/shop", SHA)
    if mutate == "no run":
        del payload["workflow_run"]
    elif mutate == "no repository":
        del payload["repository"]
    elif mutate == "bad sha":
        payload["workflow_run"]["head_sha"] = "main"
    elif mutate == "no action":
        del payload["action"]
    elif mutate == "bad name":
        payload["repository"]["full_name"] = "shop"
    return payload


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        ("no run", "no 'workflow_run' object"),
        ("no repository", "repository.full_name"),
        ("bad sha", "40-hex"),
        ("no action", "'action'"),
        ("bad name", "owner/name"),
    ],
)
def test_malformed_runs_raise_with_the_reason(mutate: str, reason: str) -> None:
    with pytest.raises(IntakeError, match=reason):
        github_ci_run("workflow_run", _broken(mutate))


def test_a_repository_routes_through_github_repo_to_its_one_checkout(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "s", github_repo="acme/shop", repos={"42": tmp_path}, base_branch="trunk"
    )
    route = route_github_repo(settings, "ACME/shop")

    assert route is not None
    assert (route.checkout, route.base_branch) == (tmp_path.resolve(), "trunk")
    assert route_github_repo(settings, "acme/other") is None
    assert route_github_repo(settings.model_copy(update={"github_repo": None}), "acme/shop") is None
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    tables = {"1": tmp_path / "a", "2": tmp_path / "b"}
    two = Settings(home=tmp_path / "s", github_repo="acme/shop", repos=tables)
    assert route_github_repo(two, "acme/shop") is None


def test_each_repository_table_routes_its_own_github_repo(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    settings = Settings(
        home=tmp_path / "s",
        github_repo="acme/shop",
        base_branch="main",
        repos={
            "shop": {"checkout": tmp_path},
            "web": {"checkout": tmp_path / "web", "github_repo": "acme/web", "base_branch": "dev"},
        },
    )

    shop, web = route_github_repo(settings, "acme/shop"), route_github_repo(settings, "Acme/Web")

    assert shop is not None and web is not None
    assert (shop.table, shop.checkout, shop.base_branch) == ("shop", tmp_path.resolve(), "main")
    web_checkout = (tmp_path / "web").resolve()
    assert (web.table, web.checkout, web.base_branch) == ("web", web_checkout, "dev")
