"""Revert of the suspect commit on a real repository: offered when recent and clean, else not."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.domain import CommitRef, Diagnosis, FileChange, Incident, Patch
from agent.repair import RepairContext
from agent.repair.diffs import make_patch
from agent.repair.revert import RevertEngine
from agent.repair.templates import TemplateEngine
from tests.support.repo_builder import RepoBuilder
from tools.git_repo import GitRepo

GOOD = "def price(cents):\n    return cents / 100\n"
BAD = "def price(cents):\n    return cents // 100\n"


def context(repo: GitRepo, suspect: str | None, **fields: object) -> RepairContext:
    commit = (
        CommitRef(sha=suspect, summary="pricing: integer cents", author="A", date=datetime.now(UTC))
        if suspect
        else None
    )
    values: dict[str, object] = {
        "incident": Incident(id="inc", source="sentry_event", fingerprint="fp", title="t"),
        "diagnosis": Diagnosis(suspect_commit=commit),
        "repo": repo,
        "code_index": None,
        "rev": repo.head("main"),
    }
    values.update(fields)
    return RepairContext(**values)  # type: ignore[arg-type]


def build(tmp_path: Path) -> tuple[RepoBuilder, str]:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit({"app/price.py": GOOD, "README.md": "# app\n"}, "app")
    bad = builder.commit({"app/price.py": BAD}, "pricing: integer cents")
    return builder, bad


def test_a_recent_clean_commit_is_offered_as_its_revert(tmp_path: Path) -> None:
    builder, bad = build(tmp_path)
    builder.commit({"README.md": "# app, documented\n"}, "docs")
    repo = GitRepo(builder.path)
    [patch] = RevertEngine().candidates(context(repo, bad))
    assert patch.engine == "revert"
    assert patch.title == f"Revert {bad[:12]}: pricing: integer cents"
    assert {(c.path, c.before, c.after) for c in patch.files} == {("app/price.py", BAD, GOOD)}
    assert "1 commit(s) before the base" in patch.rationale
    assert RevertEngine().candidates(context(repo, bad, tried=frozenset({patch.id}))) == []


def test_a_revert_that_would_delete_a_file_is_not_offered(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit({"app/price.py": GOOD}, "app")
    added = builder.commit({"app/price.py": BAD, "app/extra.py": "X = 1\n"}, "adds a file")
    repo = GitRepo(builder.path)
    assert RevertEngine().candidates(context(repo, added)) == []


def test_no_revert_when_not_clean_old_or_unknown(tmp_path: Path) -> None:
    builder, bad = build(tmp_path)
    builder.commit({"app/price.py": BAD + "\n\ndef tax(c):\n    return c\n"}, "tax")
    repo = GitRepo(builder.path)
    assert RevertEngine().candidates(context(repo, bad)) == [], "changed since: not clean"
    assert RevertEngine(window=1).candidates(context(repo, bad)) == [], "outside the window"
    assert RevertEngine().candidates(context(repo, None)) == []


class _OneMutant:
    name = "mutations"

    def candidates(self, ctx: RepairContext) -> list[Patch]:
        before = ctx.repo.read(ctx.rev, "app/price.py") or ""
        change = FileChange(path="app/price.py", before=before, after=before.replace("//", "/"))
        return [make_patch("mutations", "// -> /", "", [change])][: ctx.limit]


def test_templates_rank_the_revert_after_forward_fixes(tmp_path: Path) -> None:
    builder, bad = build(tmp_path)
    repo = GitRepo(builder.path)
    engine = TemplateEngine(mutations=_OneMutant(), revert=RevertEngine())
    patches = engine.candidates(context(repo, bad, limit=6))
    assert [(p.engine, p.rank) for p in patches] == [("mutations", 1), ("revert", 2)]
    only_one = engine.candidates(context(repo, bad, limit=1))
    assert [p.engine for p in only_one] == ["revert"], "the revert keeps its slot"
