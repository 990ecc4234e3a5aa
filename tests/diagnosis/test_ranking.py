"""Root cause v1 over real git repositories and the real tree-sitter index."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.diagnosis.frames import is_test_path, map_frame
from agent.diagnosis.ranking import diagnose, pr_number
from agent.domain import Frame, Incident
from tests.support.incidents import frame, incident
from tests.support.repo_builder import RepoBuilder
from tools.code_index import TreeSitterIndex
from tools.git_repo import GitRepo

FILES = ["app/__init__.py", "app/reports.py", "src/shop/__init__.py", "src/shop/cart.py"]


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (Frame(filename="app/reports.py"), "app/reports.py"),
        (Frame(filename="./app/reports.py"), "app/reports.py"),
        (Frame(filename="reports.py", abs_path="/app/app/reports.py"), "app/reports.py"),
        (
            Frame(filename="app/reports.py", abs_path="/srv/shop/releases/7/app/reports.py"),
            "app/reports.py",
        ),
        (Frame(filename="cart.py", abs_path="/usr/src/app/src/shop/cart.py"), "src/shop/cart.py"),
        (
            Frame(filename="shop/cart.py", abs_path="/srv/x/releases/123/shop/cart.py"),
            "src/shop/cart.py",
        ),
        (Frame(filename="shop/cart.py", module="shop.cart"), "src/shop/cart.py"),
        (Frame(filename="reports.py", module="app.reports"), "app/reports.py"),
        (Frame(filename="<unknown>", module="shop"), "src/shop/__init__.py"),
        (Frame(filename="other.py", module="app.other"), None),
        # Wrong or missing in_app never maps a library frame, even one whose suffix is tracked.
        # The repository's own package, installed in the image's virtualenv.
        (
            Frame(
                filename="app/reports.py",
                abs_path="/app/.venv/lib/python3.11/site-packages/app/reports.py",
                module="app.reports",
                in_app=True,
            ),
            "app/reports.py",
        ),
        (
            Frame(filename="json/decoder.py", abs_path="/usr/lib/python3.11/json/decoder.py"),
            None,
        ),
        (Frame(filename="<frozen runpy>", module="runpy", in_app=True), None),
        # An application frame the SDK wrongly marked as library code still maps.
        (
            Frame(filename="app/reports.py", abs_path="/app/app/reports.py", in_app=False),
            ("app/reports.py"),
        ),
    ],
)
def test_map_frame(frame: Frame, expected: str | None) -> None:
    assert map_frame(frame, set(FILES)).path == expected


def test_test_paths() -> None:
    assert is_test_path("tests/test_cart.py")
    assert is_test_path("app/tests/helpers.py")
    assert is_test_path("app/cart_test.py")
    assert is_test_path("conftest.py")
    assert not is_test_path("app/testing.py")
    assert not is_test_path("app/contest.py")


def test_pr_number() -> None:
    assert pr_number("Use unit price (#12)") == 12
    assert pr_number("Merge pull request #34 from me/branch") == 34
    assert pr_number("Fix #5 properly") is None


CART = '''"""Shopping cart."""


class Cart:
    def __init__(self, items):
        self.items = items

    def total(self):
        return sum(item["price"] * item["qty"] for item in self.items)

    def average(self):
        return self.total() / len(self.items)
'''

REPORTS = """from app.cart import Cart


def summary(items):
    cart = Cart(items)
    return {"total": cart.total(), "average": cart.average()}
"""

TEST_CART = """from app.reports import summary


def test_summary():
    assert summary([{"price": 2, "qty": 1}])["total"] == 2
"""


@pytest.fixture
def history(tmp_path: Path) -> tuple[RepoBuilder, dict[str, str]]:
    builder = RepoBuilder(tmp_path / "shop")
    shas = {
        "root": builder.commit(
            {
                "app/__init__.py": "",
                "app/cart.py": CART,
                "app/reports.py": REPORTS,
                "tests/test_cart.py": TEST_CART,
            },
            "Initial commit",
        ),
        "discount": builder.commit(
            {"app/cart.py": CART + "\n\ndef discount(total, rate):\n    return total * rate\n"},
            "Add discount helper (#7)",
            author="Ann",
        ),
    }
    buggy = CART.replace('item["price"]', 'item["unit_price"]')
    shas["bug"] = builder.commit(
        {"app/cart.py": buggy + "\n\ndef discount(total, rate):\n    return total * rate\n"},
        "Use the unit price field (#12)",
        author="Bob",
    )
    shas["docs"] = builder.commit({"README.md": "# shop\n"}, "Add a README (#13)", author="Cy")
    return builder, shas


def test_diagnose_names_the_crashing_function_and_the_bug_commit(
    history: tuple[RepoBuilder, dict[str, str]],
) -> None:
    builder, shas = history
    repo = GitRepo(builder.path)
    cart = repo.read("HEAD", "app/cart.py") or ""
    crash = incident(
        "KeyError",
        "'unit_price'",
        [
            frame("tests/test_cart.py", TEST_CART, "assert summary", "test_summary"),
            frame("app/reports.py", REPORTS, "cart.total()", "summary"),
            frame("app/cart.py", cart, "return sum(", "total"),
            frame("app/cart.py", cart, "return sum(", "<genexpr>"),
        ],
    )

    diagnosis = diagnose(crash, repo, TreeSitterIndex(repo), "main")

    # Cart.average is called on summary's line: a callee whose result flows into it.
    assert [s.symbol for s in diagnosis.suspects] == [
        "Cart.total",
        "summary",
        "Cart.average",
        "test_summary",
    ]
    top = diagnosis.suspects[0]
    assert (top.file, top.start_line, top.end_line) == ("app/cart.py", 8, 9)
    assert top.lines == [9]
    assert [e.kind for e in top.evidence][:3] == ["frame", "symbol", "blame"]
    assert shas["bug"][:12] in top.evidence[2].detail
    scores = [s.score for s in diagnosis.suspects]
    assert scores == sorted(scores, reverse=True)

    commit = diagnosis.suspect_commit
    assert commit is not None
    assert (commit.sha, commit.author, commit.pr_number) == (shas["bug"], "Bob", 12)
    assert commit.summary == "Use the unit price field (#12)"
    assert diagnosis.base_commit == shas["docs"]
    assert diagnosis.confidence >= 0.8
    assert diagnosis.reproduction is None

    explanation = diagnosis.explanation
    assert "```untrusted-data\nKeyError: 'unit_price'\n```" in explanation
    assert "method `Cart.total`" in explanation
    assert shas["bug"][:12] in explanation
    assert "pull request #12" in explanation
    assert "last commit that changed the line" in explanation


def test_test_code_ranks_below_the_code_under_test(
    history: tuple[RepoBuilder, dict[str, str]],
) -> None:
    builder, _ = history
    repo = GitRepo(builder.path)
    crash = incident(
        "AssertionError",
        "",
        [
            frame("app/reports.py", REPORTS, "cart.total()", "summary"),
            frame("tests/test_cart.py", TEST_CART, "assert summary", "test_summary"),
        ],
    )
    diagnosis = diagnose(crash, repo, TreeSitterIndex(repo), "HEAD")
    assert [s.symbol for s in diagnosis.suspects] == [
        "summary",
        "Cart.total",
        "Cart.average",
        "test_summary",
    ]
    assert diagnosis.suspects[-1].score < diagnosis.suspects[-2].score


def test_root_commit_line_falls_back_to_the_symbols_latest_commit(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "shop")
    builder.commit({"app/__init__.py": "", "app/cart.py": CART}, "Initial commit")
    guarded = CART.replace("def average(self):", "def average(self, default=0):")
    change = builder.commit({"app/cart.py": guarded}, "Merge pull request #4 from ann/avg")
    builder.commit({"app/cart.py": guarded + "\n\nEMPTY = Cart([])\n"}, "Add EMPTY")
    repo = GitRepo(builder.path)
    crash = incident(
        "ZeroDivisionError",
        "division by zero",
        [frame("app/cart.py", guarded, "len(self.items)", "average")],
    )

    diagnosis = diagnose(crash, repo, TreeSitterIndex(repo), "HEAD")

    assert diagnosis.suspects[0].symbol == "Cart.average"
    commit = diagnosis.suspect_commit
    assert commit is not None
    assert (commit.sha, commit.pr_number) == (change, 4)
    assert diagnosis.suspects[0].evidence[-1].kind == "history"
    assert "most recent commit that changed `Cart.average`" in diagnosis.explanation
    assert 0.5 < diagnosis.confidence < 0.9


def test_a_commit_that_only_deleted_a_guard_is_the_suspect(tmp_path: Path) -> None:
    guarded = (
        "def average(xs):\n"
        "    total = sum(xs)\n"
        "    if not xs:\n"
        "        return 0.0\n"
        "    return total / len(xs)\n"
    )
    bare = guarded.replace("    if not xs:\n        return 0.0\n", "")
    builder = RepoBuilder(tmp_path / "stats")
    builder.commit({"README.md": "stats\n"}, "Initial commit")
    written = builder.commit({"stats.py": guarded}, "Add average")
    removed = builder.commit({"stats.py": bare}, "Simplify average (#12)")
    builder.commit({"README.md": "stats, now faster\n"}, "Docs")
    repo = GitRepo(builder.path)
    crash = incident(
        "ZeroDivisionError", "division by zero", [frame("stats.py", bare, "len(xs)", "average")]
    )

    diagnosis = diagnose(crash, repo, TreeSitterIndex(repo), "HEAD")

    commit = diagnosis.suspect_commit
    assert commit is not None
    assert (commit.sha, commit.pr_number) == (removed, 12)
    assert any(written[:12] in e.detail for e in diagnosis.suspects[0].evidence)


def test_context_line_realigns_a_frame_after_lines_shifted(
    history: tuple[RepoBuilder, dict[str, str]],
) -> None:
    builder, shas = history
    repo = GitRepo(builder.path)
    release_cart = repo.read(shas["bug"], "app/cart.py") or ""
    crash_frame = frame("app/cart.py", release_cart, "return sum(", "total")
    docstring, rest = release_cart.split("\n", 1)
    shifted = f"{docstring}\n\nimport math\nimport os\nimport sys\n\n{rest}"  # 5 more lines
    moved = builder.commit({"app/cart.py": shifted}, "Add imports")
    crash = incident("KeyError", "'unit_price'", [crash_frame])

    diagnosis = diagnose(crash, repo, TreeSitterIndex(repo), "HEAD")

    top = diagnosis.suspects[0]
    assert crash_frame.lineno == 9
    assert top.lines == [14]
    assert (top.symbol, top.start_line, top.end_line) == ("Cart.total", 13, 14)
    assert top.realigned
    assert any("re-aligned" in e.detail for e in top.evidence)
    assert not diagnosis.suspects[1:] or not any(s.realigned for s in diagnosis.suspects[1:])
    assert diagnosis.suspect_commit is not None
    assert diagnosis.suspect_commit.sha == shas["bug"]
    assert moved != shas["bug"]
    assert "found by its text" in diagnosis.explanation


def test_realignment_uses_surrounding_context_to_break_ties(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    release = "def a(x):\n    y = x\n    return None\n\n\ndef b(x):\n    z = x\n    return None\n"
    builder.commit({"mod.py": release}, "Initial commit")
    imports = "".join(f"import m{n}\n" for n in range(6))
    builder.commit({"mod.py": imports + release}, "Add imports")
    repo = GitRepo(builder.path)
    crash = incident("TypeError", "bad", [frame("mod.py", release, "z = x", "b")])
    reported = crash.exceptions[0].frames[-1]
    crash.exceptions[0].frames[-1] = reported.model_copy(
        update={"lineno": 8, "context_line": "    return None", "pre_context": ["    z = x"]}
    )
    diagnosis = diagnose(crash, repo, TreeSitterIndex(repo), "HEAD")
    # "return None" is now at lines 9 (in a, nearer) and 14 (in b, after "z = x").
    assert diagnosis.suspects[0].lines == [14]
    assert diagnosis.suspects[0].symbol == "b"


def test_no_mapped_frame_gives_an_empty_diagnosis(
    history: tuple[RepoBuilder, dict[str, str]],
) -> None:
    builder, shas = history
    repo = GitRepo(builder.path)
    crash = incident("RuntimeError", "boom", [])
    diagnosis = diagnose(crash, repo, TreeSitterIndex(repo), "HEAD")
    assert diagnosis.suspects == []
    assert diagnosis.suspect_commit is None
    assert diagnosis.confidence == 0.0
    assert diagnosis.base_commit == shas["docs"]
    assert "None of the incident's 1 stack frames maps" in diagnosis.explanation

    bare = Incident(id="inc-2", source="test_failure", fingerprint="fp-2", title="failed")
    assert "no stack frames" in diagnose(bare, repo, TreeSitterIndex(repo), "HEAD").explanation


def test_a_crash_inside_a_library_points_at_the_innermost_repository_frame(
    history: tuple[RepoBuilder, dict[str, str]],
) -> None:
    builder, _ = history
    repo = GitRepo(builder.path)
    library = Frame(
        filename="json/decoder.py",
        abs_path="/usr/local/lib/python3.11/json/decoder.py",
        function="raw_decode",
        lineno=355,
        in_app=True,
    )
    crash = incident(
        "JSONDecodeError",
        "Expecting value: line 1 column 1 (char 0)",
        [frame("app/reports.py", REPORTS, "cart.total()", "summary"), library],
    )
    diagnosis = diagnose(crash, repo, TreeSitterIndex(repo), "HEAD")
    assert diagnosis.suspects[0].symbol == "summary"
    assert "raised outside the repository's code" in diagnosis.explanation
    assert diagnosis.suspect_commit is None  # summary is unchanged since the root commit
    assert "There is no suspect commit" in diagnosis.explanation
    assert diagnosis.confidence < 0.6
