"""Settings per repository: tables with the global settings as defaults, and the errors a broken
table gives at start (in the model, and as the command line prints them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.errors import ConfigError
from agent.settings import Settings, checkouts_unchecked
from tests.support.cli import fixloop


@pytest.fixture
def checkouts(tmp_path: Path) -> tuple[Path, Path]:
    shop, web = tmp_path / "shop", tmp_path / "web"
    shop.mkdir()
    web.mkdir()
    return shop, web


def test_a_table_falls_back_to_the_global_setting_for_what_it_leaves_out(
    tmp_path: Path, checkouts: tuple[Path, Path]
) -> None:
    shop, web = checkouts
    settings = Settings(
        home=tmp_path / "state",
        github_repo="acme/default",
        test_paths=["tests"],
        jira_project="OPS",
        repos={
            "shop": {
                "checkout": shop,
                "projects": ["42", "PSHOP"],
                "github_repo": "acme/shop",
                "python": "/opt/shop/bin/python",
                "allowed_paths": ["src/**"],
                "per_test_timeout": 5,
            },
            "web": {"checkout": web, "projects": ["web"], "jira_project": "WEB"},
        },
    )

    shop_settings = settings.for_repo("shop")
    assert shop_settings.github_repo == "acme/shop"
    assert shop_settings.python == "/opt/shop/bin/python"
    assert shop_settings.allowed_paths == ["src/**"]
    assert (shop_settings.test_paths, shop_settings.jira_project) == (["tests"], "OPS")
    web_settings = settings.for_repo("web")
    assert (web_settings.github_repo, web_settings.jira_project) == ("acme/default", "WEB")
    assert web_settings.python == settings.python
    assert (shop_settings.per_test_timeout, web_settings.per_test_timeout) == (5, 60)
    assert settings.github_repo == "acme/default"  # the global settings stay as they are
    assert shop_settings.resolved()["repo_table"] == "shop"
    assert settings.resolved()["repo_table"] is None

    assert settings.table_of_project("PSHOP") == "shop"
    assert settings.table_of_project("web") == "web"
    assert settings.table_of_project("nope") is None
    assert settings.tables_of_github("ACME/Shop") == ["shop"]
    assert settings.tables_of_github("acme/default") == ["web"]
    assert settings.target("web") == ("web", web)
    assert settings.target(shop) == ("shop", shop)
    with pytest.raises(ConfigError, match="no repository table 'nope'"):
        settings.for_repo("nope")


def test_a_string_is_the_shorthand_of_one_project_and_its_checkout(
    tmp_path: Path, checkouts: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, _ = checkouts
    monkeypatch.setenv("FIXLOOP_REPOS", json.dumps({"42": str(shop)}))
    settings = Settings(home=tmp_path / "state")

    assert settings.repos["42"].checkout == shop
    assert settings.repos["42"].projects == ["42"]
    assert settings.table_of_project("42") == "42"
    assert settings.for_repo("42").python == settings.python


def test_a_monorepo_is_several_tables_on_one_checkout(
    tmp_path: Path, checkouts: tuple[Path, Path]
) -> None:
    shop, _ = checkouts
    settings = Settings(
        home=tmp_path / "state",
        repos={
            "api": {"checkout": shop, "projects": ["api"], "test_paths": ["api/tests"]},
            "jobs": {"checkout": shop, "projects": ["jobs"], "test_paths": ["jobs/tests"]},
        },
    )

    assert settings.table_at(shop, "jobs") == "jobs"
    assert settings.for_repo(settings.table_at(shop, "api")).test_paths == ["api/tests"]
    with pytest.raises(ConfigError, match="checkout of tables api, jobs"):
        settings.table_at(shop, None)


@pytest.mark.parametrize(
    ("tables", "where", "message"),
    [
        (
            {"shop": {"checkout": "{shop}", "colour": "red"}},
            ("repos", "shop", "colour"),
            "Extra inputs are not permitted",
        ),
        (
            {"shop": {"checkout": "{tmp}/gone"}},
            ("repos", "shop", "checkout"),
            "gone is not a directory",
        ),
        (
            {
                "shop": {"checkout": "{shop}", "projects": ["42"]},
                "web": {"checkout": "{web}", "projects": ["7", "42"]},
            },
            ("repos",),
            "project '42' is routed to two tables: repos.shop.projects and repos.web.projects",
        ),
    ],
)
def test_a_broken_table_fails_at_start_naming_the_table_and_the_key(
    tmp_path: Path,
    checkouts: tuple[Path, Path],
    tables: dict[str, dict[str, object]],
    where: tuple[str, ...],
    message: str,
) -> None:
    shop, web = checkouts
    text = json.dumps(tables).replace("{shop}", str(shop)).replace("{web}", str(web))
    repos = json.loads(text.replace("{tmp}", str(tmp_path)))

    with pytest.raises(ValidationError) as raised:
        Settings(home=tmp_path / "state", repos=repos)
    first = raised.value.errors()[0]
    assert tuple(first["loc"]) == where
    assert message in first["msg"]

    (tmp_path / "fixloop.toml").write_text(_toml(repos))
    result = fixloop(tmp_path / "state", "status", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"fixloop: bad setting {'.'.join(where)}: {first['msg'].removeprefix('Value error, ')}"
    ]


def test_doctor_loads_settings_whose_checkout_is_missing(tmp_path: Path) -> None:
    with checkouts_unchecked():
        settings = Settings(home=tmp_path / "state", repos={"shop": str(tmp_path / "gone")})
    assert settings.repos["shop"].checkout == tmp_path / "gone"
    with pytest.raises(ValidationError):
        Settings(home=tmp_path / "state", repos={"shop": str(tmp_path / "gone")})


def _toml(repos: dict[str, dict[str, object]]) -> str:
    lines: list[str] = []
    for name, table in repos.items():
        lines.append(f"[repos.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def test_every_key_of_a_table_is_a_global_setting_of_the_same_type() -> None:
    from agent.settings import RepoTable

    for name, field in RepoTable.model_fields.items():
        if name in ("checkout", "projects"):
            continue
        assert name in Settings.model_fields, name
        global_type = Settings.model_fields[name].annotation
        assert field.annotation in (global_type, global_type | None), name
