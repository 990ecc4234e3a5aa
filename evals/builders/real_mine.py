"""Mine real-bug specs from a project's releases on the package index.

`python -m evals.builders.real_mine PROJECT [PROJECT ...] [--pairs N]` walks consecutive final
releases (N, N+1), newest first, and keeps a pair when:

* both source distributions unpack, and the project has no C/Cython sources;
* N+1 changes at least one test file and a few functions of the package's source (imports,
  comments and version strings aside), at most a few lines outside a function;
* with N+1's changed test files put onto N's tree, some tests fail (twice), and all of them pass
  on N+1: those are the witnesses; the gold function is the changed function of the fix with
  the most changed lines.

A kept pair is written to `evals/real/<project>-<N>.toml` (a pair whose spec is already there is
not mined again: the corpus is frozen); every pair tried, kept or not, is
recorded with its reason in `evals/real/tried.json`. Only the index is reached (sdists and the
project's own test dependencies, pinned in the spec as pip resolved them).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from evals.builders.kit import _junit_key
from evals.builders.real import REAL_DIR, RealCaseError, environment, run_pytest
from evals.builders.sdists import Sdist, SdistError, download, release_sdists, unpack

MAX_FUNCTIONS = 4
MAX_CHANGED_LINES = 60
MAX_OUTSIDE_LINES = 3
MAX_WITNESSES = 4
TEST_EXTRAS = "test,tests,testing"
NOT_SOURCE_DIRS = {
    "docs",
    "doc",
    "examples",
    "example",
    "benchmarks",
    "bench",
    "scripts",
    "tools",
    "bin",
    "ci",
}
NOT_SOURCE_FILES = {"setup.py", "conftest.py", "noxfile.py", "tasks.py", "fabfile.py"}
VERSION_LINE = re.compile(r"^\s*(__version\w*__|__date__|version|VERSION)\s*[:=]")
MISSING_NAME = re.compile(
    r"^(AttributeError: module '[^']+' has no attribute|ImportError: cannot import name"
    r"|ModuleNotFoundError: No module named)"
)
CRASH_MESSAGE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Iteration)\b")


class Skip(Exception):
    """The pair is not kept; the message is the reason recorded."""


def is_test_path(path: str) -> bool:
    parts = Path(path).parts
    name = parts[-1]
    return (
        any(part in ("test", "tests", "testing") for part in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def is_source_path(path: str) -> bool:
    parts = Path(path).parts
    return (
        path.endswith(".py")
        and not is_test_path(path)
        and parts[-1] not in NOT_SOURCE_FILES
        and not parts[-1].startswith(("_version", "version"))
        and not any(part in NOT_SOURCE_DIRS for part in parts[:-1])
    )


def python_files(tree: Path) -> dict[str, str]:
    files = {}
    for path in tree.rglob("*.py"):
        relative = path.relative_to(tree).as_posix()
        if ".egg-info" in relative or relative.startswith(("build/", ".")):
            continue
        files[relative] = path.read_text(encoding="utf-8", errors="replace")
    return files


def has_native_sources(tree: Path) -> bool:
    return any(next(tree.rglob(pattern), None) for pattern in ("*.c", "*.pyx", "*.cpp", "*.rs"))


def changed_functions(old: str, new: str) -> Counter[str]:
    """Qualified names of the functions of `old` whose lines the change `old` -> `new` touches,
    with the number of changed lines in each; raises `Skip` for a change of more than a few
    lines outside any function (a class attribute, a module constant). Docstrings, imports,
    comments and module dunders (`__version__`, `__all__`, ...) are not changes."""
    old_lines = old.splitlines()
    new_lines = new.splitlines()
    spans = _function_spans(old)
    old_incidental = _incidental_lines(old)
    new_incidental = _incidental_lines(new)
    touched: Counter[str] = Counter()
    outside = 0
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old_changed = [
            n
            for n in range(i1 + 1, i2 + 1)
            if n not in old_incidental and not _incidental(old_lines[n - 1])
        ]
        new_changed = [
            n
            for n in range(j1 + 1, j2 + 1)
            if n not in new_incidental and not _incidental(new_lines[n - 1])
        ]
        if not old_changed and not new_changed:
            continue
        lines = old_changed or (range(i1 + 1, i2 + 1) if i2 > i1 else range(i1, i1 + 2))
        owner = None
        for line in lines:
            inner = [(s, e, n) for s, e, n in spans if s <= line <= e]
            if inner:
                owner = max(inner)[2]
                break
        count = max(len(old_changed), len(new_changed))
        if owner is None:
            outside += count
            if outside > MAX_OUTSIDE_LINES:
                raise Skip(f"a change outside any function (line {i1 + 1})")
            continue
        touched[owner] += count
    same = _same_behaviour(old, new)
    return Counter({name: count for name, count in touched.items() if name not in same})


def _same_behaviour(old: str, new: str) -> set[str]:
    """Qualified names of the functions that differ only in type annotations or docstrings."""
    before, after = _function_shapes(old), _function_shapes(new)
    return {name for name, shape in before.items() if after.get(name) == shape}


def _function_shapes(source: str) -> dict[str, str]:
    """Each function's syntax tree, dumped without annotations and docstrings."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    shapes: dict[str, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                shapes[name] = ast.dump(_unannotated(child))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return shapes


def _unannotated(function: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
    copy = ast.parse(ast.unparse(function)).body[0]
    for node in ast.walk(copy):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.returns = None
            if node.body and isinstance(node.body[0], ast.Expr) and _is_text(node.body[0].value):
                node.body = node.body[1:] or [ast.Pass()]
        elif isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)
    return copy


def _incidental(line: str) -> bool:
    """Blank lines, comments, imports and version strings: lines a fix may touch at module
    level without making it a change outside a function."""
    text = line.strip()
    return not text or text.startswith(("#", "import ", "from ")) or bool(VERSION_LINE.match(line))


def _incidental_lines(source: str) -> set[int]:
    """Line numbers of `source` that hold no behaviour a test could see: docstrings, import
    statements (all their lines) and assignments of module dunders."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    lines: set[int] = set()

    def span(node: ast.stmt) -> range:
        return range(node.lineno, (node.end_lineno or node.lineno) + 1)

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and _is_text(first.value):
                lines.update(span(first))
        if isinstance(node, ast.Import | ast.ImportFrom):
            lines.update(span(node))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if names and all(name.startswith("__") and name.endswith("__") for name in names):
            lines.update(span(node))
    return lines


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _function_spans(source: str) -> list[tuple[int, int, str]]:
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise Skip(f"the source does not parse on this Python: {error}") from None
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                name = f"{prefix}{child.name}"
                spans.append((start, child.end_lineno or child.lineno, name))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def collected(python: str, tree: Path, files: list[str]) -> dict[tuple[str, str], str]:
    """JUnit key -> pytest node id, for every test pytest collects from `files` in `tree`."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    if (tree / "src").is_dir():
        env["PYTHONPATH"] = str(tree / "src")
    result = subprocess.run(
        [python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    ids = [line.strip() for line in result.stdout.splitlines() if "::" in line]
    return {_junit_key(nodeid): nodeid for nodeid in ids}


def is_missing_name(message: str) -> bool:
    """The failure of a test that uses a module attribute or import the release lacks: a
    feature, unless the release before had it (a name lost by mistake)."""
    return bool(MISSING_NAME.match(message))


def kind_of(messages: list[str]) -> str:
    crashes = [m for m in messages if CRASH_MESSAGE.match(m) and not m.startswith("AssertionError")]
    return "crash" if crashes and len(crashes) == len(messages) else "wrong-value"


def suite_root(files: list[str]) -> str:
    roots = Counter(Path(name).parts[0] if len(Path(name).parts) > 1 else "." for name in files)
    return roots.most_common(1)[0][0]


class Miner:
    def __init__(self, project: str, cache: Path) -> None:
        self.project = project
        self.cache = cache
        self.releases = release_sdists(project)
        self._python: str | None = None
        self._deps: tuple[str, ...] = ()

    def python(self) -> tuple[str, tuple[str, ...]]:
        """One environment per project: the newest release's test dependencies, frozen. The
        release itself stays installed for the metadata some packages read about themselves
        (`importlib.metadata.version`); its code is shadowed by the tree under test, which
        comes first on the path, and a witness that the installed copy would hide passes on N
        and is not kept."""
        if self._python is None:
            newest = self.releases[-1]
            probe = self.cache / "probe" / self.project
            if probe.exists():
                shutil.rmtree(probe)
            probe.mkdir(parents=True)
            base = getattr(sys, "_base_executable", sys.executable)
            subprocess.run([base, "-m", "venv", str(probe)], check=True)
            pip = [str(probe / "bin" / "python"), "-m", "pip", "-q", "--no-input"]
            spec = f"{self.project}[{TEST_EXTRAS}]=={newest.version}"
            install = subprocess.run(
                [*pip, "install", spec, "pytest"], capture_output=True, text=True
            )
            if install.returncode != 0:
                raise Skip(f"cannot install the test dependencies: {install.stderr[-300:]}")
            frozen = subprocess.run(
                [*pip, "freeze", "--exclude-editable"], capture_output=True, text=True, check=True
            ).stdout.split()
            self._deps = tuple(sorted(line for line in frozen if "==" in line))
            self._python = environment(self._deps, self.cache / "venvs")
        return self._python, self._deps

    def tree(self, sdist: Sdist, scratch: Path) -> Path:
        return unpack(download(sdist, self.cache / "sdists"), scratch / sdist.version)

    def mine_pair(self, index: int, scratch: Path) -> dict[str, object]:
        before, buggy, fixed = self.releases[index - 1 : index + 2]
        old_tree, new_tree = self.tree(buggy, scratch), self.tree(fixed, scratch)
        if has_native_sources(old_tree):
            raise Skip("C, C++, Cython or Rust sources")
        old, new = python_files(old_tree), python_files(new_tree)
        tests = sorted(n for n in new if is_test_path(n) and old.get(n) != new[n])
        sources = sorted(
            n for n in set(old) | set(new) if is_source_path(n) and old.get(n) != new.get(n)
        )
        if not tests:
            raise Skip("no test file changed")
        if not sources:
            raise Skip("no source change")
        touched: Counter[str] = Counter()
        for name in sources:
            if name not in old or name not in new:
                raise Skip(f"a source file added or removed ({name})")
            for function, count in changed_functions(old[name], new[name]).items():
                touched[f"{name}::{function}"] += count
        if len(touched) > MAX_FUNCTIONS or sum(touched.values()) > MAX_CHANGED_LINES:
            raise Skip(
                f"the fix is large ({len(touched)} functions, {sum(touched.values())} lines)"
            )
        python, deps = self.python()
        runnable = [n for n in tests if Path(n).name != "conftest.py"]
        nodeids = collected(python, new_tree, runnable)
        if not nodeids:
            raise Skip("the fixed release's changed tests do not collect here")
        overlaid = scratch / "overlaid"
        shutil.copytree(old_tree, overlaid)
        for name in tests:
            (overlaid / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(new_tree / name, overlaid / name)
        on_buggy = run_pytest(python, overlaid, runnable, scratch / "buggy.xml")
        on_fixed = run_pytest(python, new_tree, runnable, scratch / "fixed.xml")
        if not on_fixed:
            raise Skip("the fixed release's tests do not run here")
        witnesses = sorted(
            key
            for key, outcome in on_buggy.items()
            if outcome.startswith("failed") and on_fixed.get(key) == "passed" and key in nodeids
        )
        if not witnesses:
            raise Skip("no test fails on N and passes on N+1")
        if len(witnesses) > MAX_WITNESSES:
            raise Skip(f"{len(witnesses)} tests fail on N (a new feature rather than a fix?)")
        witness_ids = [nodeids[key] for key in witnesses]
        again = run_pytest(python, overlaid, witness_ids, scratch / "again.xml")
        if any(not again.get(key, "").startswith("failed") for key in witnesses):
            raise Skip("flaky: a witness passed on N when run again")
        before_tree = self.tree(before, scratch)
        for name in tests:
            (before_tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(new_tree / name, before_tree / name)
        on_before = run_pytest(python, before_tree, witness_ids, scratch / "before.xml")
        regression = all(on_before.get(key) == "passed" for key in witnesses)
        missing = any(is_missing_name(on_buggy[key].partition("\t")[2]) for key in witnesses)
        if missing and not regression:
            raise Skip("a test fails on N for a name N+1 adds (a new feature, not a fix)")
        deselect = sorted(
            nodeids[key]
            for key, outcome in on_fixed.items()
            if outcome.startswith("failed") and key in nodeids
        )
        gold, _ = touched.most_common(1)[0]
        gold_file, gold_function = gold.split("::")
        messages = [on_buggy[key].partition("\t")[2] for key in witnesses]
        old_tests = sorted(n for n in old if is_test_path(n) and Path(n).name != "conftest.py")
        return {
            "id": f"{self.project}-{buggy.version}",
            "project": self.project,
            "kind": kind_of(messages),
            "witness": witness_ids,
            "hidden": tests,
            "deselect": deselect,
            "test_command": f"python -m pytest -q {suite_root(old_tests or runnable)}",
            "deps": list(deps),
            "before": {"version": before.version, "sha256": before.sha256},
            "buggy": {"version": buggy.version, "sha256": buggy.sha256},
            "fixed": {"version": fixed.version, "sha256": fixed.sha256},
            "gold": {
                "file": gold_file,
                "function": gold_function,
                "introduced_in_buggy": regression,
                "changed": sorted(touched),
            },
            "failure": messages[0][:200],
        }


def spec_toml(spec: dict[str, object]) -> str:
    q = json.dumps
    lines = []
    tables = []
    for key, value in spec.items():
        if isinstance(value, dict):
            body = "\n".join(f"{k} = {q(v)}" for k, v in value.items())
            tables.append(f"\n[{key}]\n{body}")
        else:
            lines.append(f"{key} = {q(value)}")
    return "\n".join(lines) + "\n" + "\n".join(tables) + "\n"


def mine(project: str, pairs: int, cache: Path, out: Path) -> list[dict[str, str]]:
    tried: list[dict[str, str]] = []
    try:
        miner = Miner(project, cache)
    except SdistError as error:
        return [{"project": project, "pair": "-", "result": f"not mined: {error}"}]
    indexes = list(range(len(miner.releases) - 2, 0, -1))[:pairs]
    for index in indexes:
        buggy, fixed = miner.releases[index], miner.releases[index + 1]
        pair = f"{buggy.version} -> {fixed.version}"
        if (out / f"{project}-{buggy.version}.toml").is_file():
            continue  # a spec of the corpus is never rewritten: its figures are frozen
        with tempfile.TemporaryDirectory(prefix=f"fixloop-mine-{project}-") as name:
            try:
                spec = miner.mine_pair(index, Path(name))
            except (Skip, SdistError, RealCaseError) as error:
                result = f"skipped: {error}"
            except subprocess.SubprocessError as error:
                result = f"skipped: a command failed: {error}"
            else:
                path = out / f"{spec['id']}.toml"
                path.write_text(spec_toml(spec))
                result = f"kept: {path.name} ({spec['kind']}, {len(spec['witness'])} witness)"  # type: ignore[arg-type]
        print(f"{project} {pair}: {result}", flush=True)
        tried.append({"project": project, "pair": pair, "result": result})
    return tried


def record(tried: list[dict[str, str]], out: Path) -> None:
    path = out / "tried.json"
    known = json.loads(path.read_text()) if path.is_file() else []
    fresh = {(entry["project"], entry["pair"]) for entry in tried}
    kept = [e for e in known if (e["project"], e["pair"]) not in fresh]
    rows = sorted([*kept, *tried], key=lambda e: (e["project"], e["pair"]))
    path.write_text(json.dumps(rows, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.builders.real_mine")
    parser.add_argument("projects", nargs="+")
    parser.add_argument("--pairs", type=int, default=10, help="newest release pairs to try")
    parser.add_argument("--cache", type=Path, default=Path(".fixloop/real"))
    parser.add_argument("--out", type=Path, default=REAL_DIR)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for project in args.projects:
        record(mine(project, args.pairs, args.cache.resolve(), args.out), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
