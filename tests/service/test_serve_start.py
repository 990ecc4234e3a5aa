"""`fixloop serve` checks its settings before it listens; bad settings read as one line;
`--config` and `FIXLOOP_CONFIG` say where the configuration is. Through the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.cli import fixloop, fixloop_env
from tests.support.fakes.jira import FakeJira
from tests.support.paths import ROOT
from tests.support.serve_process import serving, write_config

pytestmark = pytest.mark.slow


def _serve(home: Path, config: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`fixloop serve` that is expected to stop on its own (it refuses to start)."""
    return subprocess.run(
        [sys.executable, "-m", "agent.service.cli", "--config", str(config), "serve"],
        env=fixloop_env(home) | {"FIXLOOP_SERVER_PORT": "1"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_missing_tracker_setting_stops_the_server_naming_the_setting(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "fixloop.toml",
        {"tracker": "jira", "jira_url": "http://127.0.0.1:9", "jira_project": "OPS"},
        {},
    )

    result = _serve(tmp_path / "state", config)

    assert result.returncode == 2, result.stderr
    problems = [line for line in result.stderr.splitlines() if "warning" not in line]
    assert "fixloop serve: tracker 'jira' needs the settings" in result.stderr
    assert "missing: jira_token" in result.stderr
    assert "not started" in problems[-1]
    assert "Traceback" not in result.stderr
    assert "fixloop serve on" not in result.stdout


def test_a_table_whose_checkout_is_no_git_repository_stops_the_server(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    config = write_config(
        tmp_path / "fixloop.toml", {}, {"shop": {"checkout": "plain", "projects": ["4504"]}}
    )

    result = _serve(tmp_path / "state", config)

    assert result.returncode == 2, result.stderr
    assert f"fixloop serve: repos.shop: checkout: {plain} is not a git repository" in (
        result.stderr
    )


def test_unknown_variables_are_warned_about_and_bad_json_is_one_line(tmp_path: Path) -> None:
    env = fixloop_env(tmp_path) | {"FIXLOOP_TRAKER": "jira"}
    warned = subprocess.run(
        [sys.executable, "-m", "agent.service.cli", "status"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    env = fixloop_env(tmp_path) | {"FIXLOOP_REPOS": '{"shop": '}
    bad = subprocess.run(
        [sys.executable, "-m", "agent.service.cli", "status"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert warned.returncode == 0
    assert (
        "fixloop: warning: unknown variable FIXLOOP_TRAKER is ignored "
        "(did you mean FIXLOOP_TRACKER?)" in warned.stderr
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("fixloop: bad setting repos (FIXLOOP_REPOS): not valid JSON")
    assert len(bad.stderr.strip().splitlines()) == 1


def test_config_names_the_file_and_its_relative_paths_are_relative_to_it(tmp_path: Path) -> None:
    where = tmp_path / "etc"
    where.mkdir()
    config = write_config(where / "fixloop.toml", {"home": "state"}, {})
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIXLOOP_")}
    env["PYTHONPATH"] = str(ROOT)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def status(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agent.service.cli", *args],
            env=env | extra,
            cwd=elsewhere,
            capture_output=True,
            text=True,
            timeout=120,
        )

    by_option = status("--config", str(config), "status")
    by_option_after = status("status", "--config", str(config))
    by_variable = status("status", FIXLOOP_CONFIG=str(config))
    missing = status("status", FIXLOOP_CONFIG=str(tmp_path / "nowhere.toml"))

    assert by_option.stdout.strip() == f"no runs in {where / 'state'}"
    assert by_option_after.stdout == by_option.stdout == by_variable.stdout
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        f"fixloop: configuration file {tmp_path / 'nowhere.toml'} (FIXLOOP_CONFIG) does not exist"
    )


def test_readyz_names_an_unreachable_tracker(tmp_path: Path) -> None:
    with FakeJira("OPS") as jira:
        config = write_config(
            tmp_path / "fixloop.toml",
            {
                "tracker": "jira",
                "jira_url": jira.url,
                "jira_project": "OPS",
                "jira_token": "jira-pat",
                "worker": False,
            },
            {},
        )
        with serving(tmp_path / "state", config) as served:
            ready = httpx.get(served.url + "/readyz", timeout=30)
            jira.__exit__(None, None, None)
            down = httpx.get(served.url + "/readyz", timeout=30)
            alive = httpx.get(served.url + "/healthz", timeout=30)

    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "queue": "ok", "jira OPS": "ok"}
    assert down.status_code == 503
    assert down.json()["failing"] == ["jira OPS"]
    assert down.json()["checks"]["jira OPS"].startswith("unreachable: ConnectError")
    assert alive.status_code == 200


def test_doctor_still_runs_with_the_settings_serve_refuses(tmp_path: Path) -> None:
    config = write_config(tmp_path / "fixloop.toml", {"tracker": "jira"}, {})

    result = fixloop(tmp_path / "state", "--config", str(config), "doctor")

    assert result.returncode == 1
    assert "no repository is configured" in result.stderr
