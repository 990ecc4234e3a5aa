"""The example configuration in deploy/ starts `fixloop serve` as written: only the port, the
tokens and secrets (which it says come from the environment) and its checkout are supplied."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import httpx
import pytest

from agent.demo.sample_repo import build_demo_repo
from tests.support.paths import ROOT
from tests.support.serve_process import serving

pytestmark = pytest.mark.slow
EXAMPLE = ROOT / "deploy" / "fixloop.toml"
SECRETS = {
    "FIXLOOP_GITHUB_TOKEN": "ghs_example_token_0123",
    "FIXLOOP_JIRA_TOKEN": "jira-example-token",
    "FIXLOOP_SENTRY_TOKEN": "sntrys_example_token",
    "FIXLOOP_PAGERDUTY_TOKEN": "pd-example-token",
    "FIXLOOP_SENTRY_CLIENT_SECRET": "sentry-example-secret",
    "FIXLOOP_GITHUB_WEBHOOK_SECRET": "github-example-secret",
    "FIXLOOP_PAGERDUTY_WEBHOOK_SECRETS": '["pagerduty-example-secret"]',
    "FIXLOOP_ACCESS_TOKENS": '["example-access-token"]',
}


def test_the_example_configuration_starts_the_server_as_written(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    config = Path(shutil.copy(EXAMPLE, etc / "fixloop.toml"))
    written = tomllib.loads(config.read_text())
    checkout = etc / written["repos"]["shop"]["checkout"]
    checkout.parent.mkdir(parents=True)
    shutil.move(build_demo_repo(tmp_path / "build"), checkout)

    with serving(etc / written["home"], config, env=SECRETS) as served:
        alive = httpx.get(served.url + "/healthz", timeout=30)
        private = httpx.get(
            served.url + "/incidents", headers={"X-Forwarded-For": "198.51.100.4"}, timeout=30
        )
    started = [r for r in served.log_records() if r["event"] == "server_started"]

    assert alive.status_code == 200 and alive.json()["worker"] is True
    assert private.status_code == 401
    assert [(r["repos"], r["worker"]) for r in started] == [(["shop"], True)]
    assert not any(r["level"] == "error" for r in served.log_records())
    assert "warning" not in served.log.read_text().split("fixloop serve on")[0]
    assert {"tracker", "forge", "sentry_org", "pagerduty_from"} <= set(written)
    assert (written["tracker"], written["forge"]) == ("jira", "github")


def test_the_readme_points_at_the_example() -> None:
    assert "deploy/fixloop.toml" in (ROOT / "README.md").read_text()
