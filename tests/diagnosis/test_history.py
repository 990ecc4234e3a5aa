"""History since the last good release, on real multi-commit repositories with release tags."""

from __future__ import annotations

from pathlib import Path

from agent.diagnosis.history import changed_lines, names_on, release_window
from agent.diagnosis.ranking import diagnose
from agent.domain import Incident
from tests.support.incidents import frame, incident, line_of
from tests.support.repo_builder import RepoBuilder, git
from tools.code_index import TreeSitterIndex
from tools.git_repo import GitRepo

TAX = '''"""VAT rates."""

RATES = {"standard": 20, "reduced": 5}


def rate_for(category):
    return RATES.get(category, RATES["standard"])
'''

TAX_NO_RETURN = '''"""VAT rates."""

RATES = {"standard": 20, "reduced": 5}


def rate_for(category):
    rate = RATES.get(category, RATES["standard"])
    if rate != RATES["standard"]:
        print("reduced rate for", category)
'''

MONEY = '''"""Money helpers."""


def percent(value, rate):
    return round(value * rate / 100, 2)
'''

INVOICE = '''"""Invoice lines."""

from shop.money import percent
from shop.tax import rate_for


def line_total(price, category):
    rate = rate_for(category)
    return price + percent(price, rate)
'''


def build(tmp_path: Path) -> tuple[RepoBuilder, dict[str, str]]:
    builder = RepoBuilder(tmp_path / "shop")
    shas = {
        "root": builder.commit(
            {
                "shop/__init__.py": "",
                "shop/tax.py": TAX,
                "shop/money.py": MONEY,
                "shop/invoice.py": INVOICE,
            },
            "Invoice lines with VAT",
        ),
        "money": builder.commit(
            {"shop/money.py": MONEY.replace("Money helpers", "Money helpers, in cents")},
            "money: docstring",
        ),
    }
    git(builder.path, "tag", "v1.0")
    shas["bug"] = builder.commit(
        {"shop/tax.py": TAX_NO_RETURN}, "tax: log reduced rates (#31)", author="Ann"
    )
    shas["docs"] = builder.commit({"README.md": "# shop\n"}, "README", author="Bo")
    git(builder.path, "tag", "v1.1")
    shas["later"] = builder.commit({"NOTES.md": "notes\n"}, "notes")
    return builder, shas


def crash_in_percent(repo: GitRepo, release: str | None) -> Incident:
    crash = incident(
        "TypeError",
        "unsupported operand type(s) for *: 'int' and 'NoneType'",
        [
            frame("shop/invoice.py", INVOICE, "return price + percent", "line_total"),
            frame("shop/money.py", MONEY, "return round(", "percent"),
        ],
    )
    return crash.model_copy(update={"release": release})


def test_the_window_runs_from_the_previous_tag_to_the_incidents_release(tmp_path: Path) -> None:
    builder, shas = build(tmp_path)
    repo = GitRepo(builder.path)
    window = release_window("v1.1", repo, shas["later"])
    assert window is not None
    assert (window.last_good, window.last_good_sha) == ("v1.0", shas["money"])
    assert [c.sha for c in window.commits] == [shas["docs"], shas["bug"]]
    tax_lines = window.changed["shop/tax.py"]
    assert line_of(TAX_NO_RETURN, "print(") in tax_lines
    assert "shop/money.py" not in window.changed
    assert window.touched("shop/tax.py", 6, 9)
    assert not window.touched("shop/tax.py", 1, 2)

    # A sha names the release too; an unknown release means the base commit.
    by_sha = release_window(shas["bug"], repo, shas["later"])
    assert by_sha is not None and [c.sha for c in by_sha.commits] == [shas["bug"]]
    unknown = release_window("shop@9.9.9", repo, shas["later"])
    assert unknown is not None and unknown.last_good == "v1.1"
    assert release_window(None, repo, shas["money"]) is None  # no tag before it


def test_a_changed_callee_outranks_unchanged_frames_and_names_the_commit(tmp_path: Path) -> None:
    builder, shas = build(tmp_path)
    repo = GitRepo(builder.path)
    diagnosis = diagnose(
        crash_in_percent(repo, shas["docs"]), repo, TreeSitterIndex(repo), shas["later"]
    )
    assert [s.symbol for s in diagnosis.suspects] == ["rate_for", "percent", "line_total"]
    top = diagnosis.suspects[0]
    assert top.file == "shop/tax.py"
    assert [e.kind for e in top.evidence] == ["frame", "symbol", "history", "history"]
    assert "is called on line 8, assigning a value used by shop/invoice.py:9" in (
        top.evidence[1].detail
    )
    assert "changed since the last good release v1.0" in top.evidence[2].detail
    commit = diagnosis.suspect_commit
    assert commit is not None
    assert (commit.sha, commit.pr_number, commit.author) == (shas["bug"], 31, "Ann")
    assert "not itself on the stack" in diagnosis.explanation
    assert "last good release v1.0" in diagnosis.explanation

    # Without a release window, the crash frame ranks first, as the stack says.
    untagged = GitRepo(builder.path)
    git(builder.path, "tag", "-d", "v1.0")
    git(builder.path, "tag", "-d", "v1.1")
    plain = diagnose(crash_in_percent(untagged, None), untagged, TreeSitterIndex(untagged), "HEAD")
    assert plain.suspects[0].symbol == "percent"


def test_a_rename_commit_is_the_suspect_when_the_crash_line_calls_the_old_name(
    tmp_path: Path,
) -> None:
    builder = RepoBuilder(tmp_path / "shop")
    pricing = "def quote(order):\n    return sum(order)\n\n\ndef fee():\n    return 1\n"
    handlers = (
        "from shop import pricing\n\n\ndef receipt(order):\n"
        "    total = pricing.quote(order)\n    return {'total': total}\n\n\n"
        "def checkout(order):\n    print(pricing.quote(order))\n    return receipt(order)\n"
    )
    builder.commit(
        {"shop/__init__.py": "", "shop/pricing.py": pricing, "shop/handlers.py": handlers},
        "Orders with receipts",
    )
    git(builder.path, "tag", "v2.0")
    # The rename updates one caller (checkout, an outer frame) and misses the other.
    handlers = handlers.replace("print(pricing.quote", "print(pricing.price_order")
    rename = builder.commit(
        {
            "shop/pricing.py": pricing.replace("def quote", "def price_order"),
            "shop/handlers.py": handlers,
        },
        "pricing: rename quote() to price_order() (#44)",
    )
    builder.commit({"shop/pricing.py": pricing.replace("def quote", "def price_order") + "\n"}, "x")
    builder.commit({"README.md": "# shop\n"}, "README")
    repo = GitRepo(builder.path)
    crash = incident(
        "AttributeError",
        "module 'shop.pricing' has no attribute 'quote'",
        [
            frame("shop/handlers.py", handlers, "return receipt", "checkout"),
            frame("shop/handlers.py", handlers, "pricing.quote", "receipt"),
        ],
    )
    diagnosis = diagnose(crash, repo, TreeSitterIndex(repo), "HEAD")
    # Both frames count as changed: checkout's lines, and the name receipt's line uses.
    assert [s.symbol for s in diagnosis.suspects][:2] == ["receipt", "checkout"]
    assert any(
        "uses `quote`, whose definition changed since the last good release v2.0" in e.detail
        for e in diagnosis.suspects[0].evidence
    )
    commit = diagnosis.suspect_commit
    assert commit is not None and (commit.sha, commit.pr_number) == (rename, 44)
    history = [e.detail for e in diagnosis.suspects[0].evidence if e.kind == "history"]
    assert any("changed the definition of `quote`" in detail for detail in history)


def test_changed_lines_reads_additions_and_deletions() -> None:
    diff = (
        "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n"
        "@@ -1,4 +1,4 @@\n one\n-two\n+TWO\n three\n-four\n"
        "diff --git a/old.py b/new.py\n--- a/old.py\n+++ b/new.py\n"
        "@@ -10,2 +10,3 @@\n ten\n+new\n eleven\n"
    )
    assert changed_lines(diff) == {"a.py": {1, 2, 3, 4}, "new.py": {11}}


def test_names_on_a_line_skip_keywords_strings_and_comments() -> None:
    line = 'if x: return pricing.quote(order, "not a name")  # note'
    assert names_on(line) == {"x", "pricing", "quote", "order"}


def test_the_pull_request_comes_from_the_merge_that_brought_the_commit_in(
    tmp_path: Path,
) -> None:
    builder, shas = build(tmp_path)
    git(builder.path, "checkout", "--quiet", "-b", "feature", shas["docs"])
    fix = builder.commit({"shop/money.py": MONEY.replace("round(", "int(")}, "money: whole units")
    git(builder.path, "checkout", "--quiet", "main")
    git(builder.path, "merge", "--no-ff", "--quiet", "-m", "Merge pull request #57 from x/y", fix)
    git(builder.path, "tag", "v1.2")
    builder.commit({"CHANGES.md": "1.2\n"}, "changes")
    repo = GitRepo(builder.path)
    money = MONEY.replace("Money helpers", "Money helpers, in cents").replace("round(", "int(")
    crash = incident("TypeError", "boom", [frame("shop/money.py", money, "return int(", "percent")])
    diagnosis = diagnose(
        crash.model_copy(update={"release": "v1.2"}), repo, TreeSitterIndex(repo), "HEAD"
    )
    commit = diagnosis.suspect_commit
    assert commit is not None
    assert (commit.sha, commit.summary, commit.pr_number) == (fix, "money: whole units", 57)


def test_a_window_that_changed_every_file_separates_nothing(tmp_path: Path) -> None:
    builder, _ = build(tmp_path)
    git(builder.path, "tag", "-d", "v1.1")
    builder.commit(
        {
            "shop/__init__.py": '"""The shop."""\n',
            "shop/money.py": MONEY.replace("Money helpers", "Money helpers, rounded"),
            "shop/invoice.py": INVOICE.replace("Invoice lines", "Invoice lines, with VAT"),
        },
        "Docstrings everywhere",
    )
    git(builder.path, "tag", "v1.1")
    repo = GitRepo(builder.path)
    head = repo.head("HEAD")

    diagnosis = diagnose(crash_in_percent(repo, "v1.1"), repo, TreeSitterIndex(repo), head)

    # The window changed every source file: rate_for's change counts for nothing, and the
    # stack alone orders the suspects, the crash frame first.
    assert [s.symbol for s in diagnosis.suspects] == ["percent", "line_total", "rate_for"]
    rate_for = diagnosis.suspects[-1]
    history = [e.detail for e in rate_for.evidence if e.kind == "history"]
    assert "the window changed 4 of the repository's 4 source files" in history[0]
    assert "counts 0.00 of its full weight" in history[0]
