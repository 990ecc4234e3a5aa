"""`fixloop diagnose`: the diagnosis of an incident on a real multi-commit repo, nothing else."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import fixloop
from tests.support.pricing_shop import PRICING_V1, PRICING_V2, TASKS, TRACEBACK
from tests.support.repo_builder import RepoBuilder, git


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    builder = RepoBuilder(tmp_path_factory.mktemp("shop"))
    shas = {
        "initial": builder.commit(
            {"shop/__init__.py": "", "shop/pricing.py": PRICING_V1, "shop/tasks.py": TASKS},
            "Price orders",
            author="Ana",
        ),
        "bug": builder.commit(
            {"shop/pricing.py": PRICING_V2}, "Drop the fallback price (#12)", author="Bob"
        ),
        "later": builder.commit({"README.md": "shop\n"}, "Add a README", author="Cy"),
    }
    return builder.path, shas


def diagnose_json(tmp_path: Path, repo: Path, event: Path) -> subprocess.CompletedProcess[str]:
    return fixloop(tmp_path / "s", "diagnose", "--repo", str(repo), "--event", str(event), "--json")


@pytest.fixture
def event(tmp_path: Path) -> Path:
    path = tmp_path / "worker.log"
    path.write_text(TRACEBACK)
    return path


def test_json_names_the_symbol_the_commit_and_the_evidence(
    shop: tuple[Path, dict[str, str]], event: Path, tmp_path: Path
) -> None:
    repo, shas = shop
    refs_before = git(repo, "for-each-ref")
    home = tmp_path / "state"

    result = fixloop(home, "diagnose", "--repo", str(repo), "--event", str(event), "--json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["status"], report["source"], report["commit"]) == (
        "diagnosed",
        "traceback",
        shas["later"],
    )
    assert report["mapped_files"] == ["shop/pricing.py", "shop/tasks.py"]
    diagnosis = report["diagnosis"]
    top = diagnosis["suspects"][0]
    assert (top["file"], top["symbol"], top["lines"]) == ("shop/pricing.py", "unit_price", [6])
    assert (top["start_line"], top["end_line"]) == (5, 6)
    assert isinstance(top["score"], float)
    kinds = [item["kind"] for item in top["evidence"]]
    assert kinds[:3] == ["frame", "symbol", "blame"]
    assert "/app/shop/pricing.py:6 maps to shop/pricing.py:6" in top["evidence"][0]["detail"]
    symbols = [s["symbol"] for s in diagnosis["suspects"]]
    assert "price_order" in symbols and "order_total" in symbols
    commit = diagnosis["suspect_commit"]
    assert commit["sha"] == shas["bug"]
    assert (commit["subject"], commit["author"], commit["pr_number"]) == (
        "Drop the fallback price (#12)",
        "Bob",
        12,
    )
    assert "KeyError" in diagnosis["explanation"]
    assert 0 < diagnosis["confidence"] <= 1

    assert git(repo, "for-each-ref") == refs_before
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "worktree", "list").count("\n") == 0
    written = {path.name for path in home.iterdir()}
    assert written and all(name.startswith("index.db") for name in written), written


def test_the_readable_summary(
    shop: tuple[Path, dict[str, str]], event: Path, tmp_path: Path
) -> None:
    repo, shas = shop
    result = fixloop(tmp_path / "state", "diagnose", "--repo", str(repo), "--event", str(event))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("incident fx-")
    assert lines[0].endswith("(traceback): KeyError: 'SKU-9' in unit_price (shop/pricing.py)")
    assert lines[1] == f"repository {repo.resolve()} at {shas['later'][:12]}"
    assert lines[2] == "suspects, most likely first:"
    assert lines[3].startswith("  1. shop/pricing.py  unit_price  line 6  score ")
    assert any(line.strip().startswith("blame ") for line in lines)
    assert f'suspect commit: {shas["bug"][:12]} "Drop the fallback price (#12)" by Bob' in (
        result.stdout
    )
    assert "(PR #12)" in result.stdout


def test_commit_diagnoses_an_older_revision(
    shop: tuple[Path, dict[str, str]], event: Path, tmp_path: Path
) -> None:
    repo, shas = shop
    result = fixloop(
        tmp_path / "s", "diagnose", "--repo", str(repo), "--event", str(event),
        "--commit", shas["bug"][:10], "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["commit"] == shas["bug"]
    assert report["diagnosis"]["suspect_commit"]["sha"] == shas["bug"]


def test_a_sentry_event_is_diagnosed_the_same_way(
    shop: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    repo, shas = shop
    frame = {
        "filename": "shop/pricing.py",
        "abs_path": "/srv/shop/current/shop/pricing.py",
        "module": "shop.pricing",
        "function": "unit_price",
        "lineno": 6,
        "context_line": "    return PRICES[sku]",
        "vars": {"sku": "'SKU-9'"},
        "in_app": True,
    }
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "event_id": "a" * 32,
                "exception": {
                    "values": [{"type": "KeyError", "value": "'SKU-9'", "stacktrace": {
                        "frames": [frame]}}]
                },
            }
        )
    )  # fmt: skip
    result = diagnose_json(tmp_path, repo, event)
    report = json.loads(result.stdout)
    assert report["diagnosis"]["suspects"][0]["symbol"] == "unit_price"
    assert report["diagnosis"]["suspect_commit"]["sha"] == shas["bug"]


def test_frames_outside_the_repository_are_not_actionable(
    shop: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    repo, _ = shop
    event = tmp_path / "other.txt"
    event.write_text(TRACEBACK.replace("/app/shop/", "/app/billing/"))
    result = diagnose_json(tmp_path, repo, event)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["status"], report["diagnosis"], report["mapped_files"]) == (
        "not_actionable",
        None,
        [],
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"commit": "0123456789abcdef"}, "unknown revision: 0123456789abcdef"),
        ({"repo": "plain"}, "is not a git repository"),
        ({"event": "no traceback here\n"}, "no Python traceback in the text"),
        ({"event_name": "e.json", "event": "{}"}, "unrecognised payload"),
        (
            {"event_name": "e.json", "event": '{"kind": "test_failure", "tests": ["t.py::t"]}'},
            "only reads",
        ),
    ],
)
def test_errors_are_one_line_and_exit_2(
    shop: tuple[Path, dict[str, str]], tmp_path: Path, change: dict[str, str], reason: str
) -> None:
    repo, _ = shop
    event = tmp_path / change.get("event_name", "e.txt")
    event.write_text(change.get("event", TRACEBACK))
    target = repo
    if change.get("repo") == "plain":
        target = tmp_path / "plain"
        target.mkdir()
    args = ["diagnose", "--repo", str(target), "--event", str(event)]
    if "commit" in change:
        args += ["--commit", change["commit"]]
    result = fixloop(tmp_path / "s", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fixloop: "), result.stderr
    assert reason in lines[0]


def test_repo_names_a_table_whose_base_branch_is_used(
    shop: tuple[Path, dict[str, str]], event: Path, tmp_path: Path
) -> None:
    repo, shas = shop
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(repo), str(clone))
    git(clone, "branch", "stable", shas["bug"])
    (tmp_path / "fixloop.toml").write_text(
        f'[repos.shop]\ncheckout = "{clone}"\nbase_branch = "stable"\n'
    )

    result = fixloop(
        tmp_path / "state", "diagnose", "--repo", "shop", "--event", str(event), "--json",
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["commit"] == shas["bug"]


def test_a_bug_report_saved_as_markdown_is_diagnosed_offline(
    shop: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    repo, _ = shop
    issue = tmp_path / "issue.md"
    issue.write_text(
        "Pricing crashes for unknown SKUs.\n\n<details><summary>Log</summary>\n\n"
        f"```python-traceback\n{TRACEBACK}```\n\n</details>\n\n- shop 1.4, Python 3.12\n"
    )

    result = diagnose_json(tmp_path, repo, issue)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["title"] == "KeyError: 'SKU-9' in unit_price (shop/pricing.py)"
    top = report["diagnosis"]["suspects"][0]
    assert (top["file"], top["symbol"]) == ("shop/pricing.py", "unit_price")
