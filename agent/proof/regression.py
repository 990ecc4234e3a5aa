"""The reproduction shipped with the fix: a regression test in the repository's own layout.

A proven fix whose reproduction failed like the incident carries that reproduction into its PR
as a regression test. It is placed where the repository keeps its tests (the folder of the
test module named for the crashing module, else the folder holding most test files; a
reproduction already written next to its fixtures stays there), named the way the repository
names test files (`test_*.py` or `*_test.py`), and named for the incident: the function and the
exception (`test_average_basket_zero_division_error.py`), never a hash.

Production values go in only where the crash needs them: string values the incident captured
are replaced by their scrubber stand-ins (`'alice@shop.example'` reads `'xxxxx@xxxx.xxxxxxx'`)
when the test still fails like the incident with them, and the whole file passes the last-line
scrubber and the settings' secret values either way. The test is part of the proof: it must
fail like the incident on the base commit and pass with the fix, each run in the sandbox, or
it is not shipped (the PR says why).
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath

from pydantic import BaseModel

from agent.diagnosis.reproduce import check_reproduction
from agent.domain import FileChange, Incident, Patch, Reproduction
from agent.guardrails.scrub import is_stand_in, stand_in
from agent.proof.prove import apply_patch, write_reproduction
from agent.proof.workbench import Workbench
from agent.repair.diffs import unified_diff

_TEST_FILE = re.compile(r"^(test_\w*|\w+_test)\.py$")
_FIXLOOP_FILE = re.compile(r"^test_fixloop_")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class RegressionTest(BaseModel):
    """The regression test a PR adds, and its proof (each outcome from its own sandbox run)."""

    path: str
    nodeid: str
    source: str
    before: str | None = None
    """Its outcome on the base commit: it must fail like the incident."""
    after: str | None = None
    """Its outcome with the fix applied: it must pass."""
    masked: int = 0
    """Captured string values replaced by stand-ins (the test failed like the incident without
    them)."""
    shipped: bool = False
    reason: str = ""


def place(files: list[str], reproduction: Reproduction, exception: str) -> tuple[str, str]:
    """Where the regression test goes in a repository of `files`, and its test function name."""
    function = _identifier(reproduction.target_function.rpartition(".")[2]) or "call"
    error = _snake(exception.rpartition(".")[2]) or "error"
    stem = f"{function}_{error}"
    folder, suffix_style = _layout(files, reproduction)
    taken = set(files)
    for number in range(1, 100):
        name = stem if number == 1 else f"{stem}_{number}"
        filename = f"{name}_test.py" if suffix_style else f"test_{name}.py"
        path = f"{folder}/{filename}" if folder else filename
        if path not in taken:
            return path, f"test_{function}_does_not_raise_{error}"
    raise ValueError(f"no free file name for the regression test {stem}")


def _layout(files: list[str], reproduction: Reproduction) -> tuple[str, bool]:
    """The folder for the test and whether test files are named `*_test.py`."""
    paths = [PurePosixPath(f) for f in files]
    tests = [p for p in paths if _TEST_FILE.match(p.name) and not _FIXLOOP_FILE.match(p.name)]
    suffixed = sum(1 for t in tests if not t.name.startswith("test_"))
    suffix_style = bool(tests) and suffixed * 2 > len(tests)
    written_in = PurePosixPath(reproduction.filename).parent
    if str(written_in) != ".":
        # Written next to the fixtures or the test it needs: it only works there.
        return str(written_in), suffix_style
    module = PurePosixPath(reproduction.target_file).stem
    named = [t for t in tests if t.stem in (f"test_{module}", f"{module}_test")]
    pool = named or tests
    if not pool:
        return "", suffix_style
    folders = Counter(str(t.parent) for t in pool)
    folder = min(folders, key=lambda f: (-folders[f], f.count("/"), f))
    return ("" if folder == "." else folder), suffix_style


def write(
    reproduction: Reproduction,
    incident: Incident,
    path: str,
    test_name: str,
    scrub: Callable[[str], str],
) -> Reproduction:
    """The reproduction rewritten as the regression test at `path`: a docstring that names the
    incident without its data, the test function renamed, the text passed through `scrub`."""
    old_name = reproduction.nodeid.rpartition("::")[2].split("[", 1)[0]
    source = _renamed(reproduction.source, old_name, test_name)
    source = _with_docstring(source, _docstring(reproduction, incident))
    nodeid = "::".join([path, *reproduction.nodeid.split("::")[1:-1], test_name])
    return reproduction.model_copy(
        update={"filename": path, "source": scrub(source), "nodeid": nodeid}
    )


def masked(source: str, incident: Incident) -> tuple[str, int]:
    """`source` with each string value the incident captured replaced by its stand-in (dict
    keys, assertions and docstrings kept), and how many were replaced."""
    captured = "\n".join(
        str(value)
        for exception in incident.exceptions
        for frame in exception.frames
        for value in frame.vars.values()
    )
    tree = ast.parse(source)
    kept = _kept_constants(tree)
    found = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.strip()
        and id(node) not in kept
        and not is_stand_in(node.value)
        and node.value in captured
    ]
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode("utf-8")))
    data = source.encode("utf-8")
    spans = sorted(
        (
            starts[node.lineno - 1] + node.col_offset,
            starts[(node.end_lineno or node.lineno) - 1] + (node.end_col_offset or 0),
            repr(stand_in(str(node.value))),
        )
        for node in found
    )
    for start, end, text in reversed(spans):
        data = data[:start] + text.encode("utf-8") + data[end:]
    return data.decode("utf-8"), len(spans)


def _kept_constants(tree: ast.Module) -> set[int]:
    """Constants that are code, not captured data: dict keys, docstrings, assertions and
    everything below them, and the pattern a test matches the message with."""
    kept: set[int] = set()
    for node in ast.walk(tree):
        below: Sequence[ast.AST] = []
        if isinstance(node, ast.Dict):
            below = [key for key in node.keys if key is not None]
        elif isinstance(node, ast.Assert | ast.JoinedStr):
            below = [node]
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("re.match", "re.search"):
            below = node.args[:1]
        elif isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                below = [first]
        kept |= {id(inner) for part in below for inner in ast.walk(part)}
    return kept


def build(
    bench: Workbench,
    rev: str,
    patch: Patch,
    incident: Incident,
    reproduction: Reproduction,
    scrub: Callable[[str], str],
) -> RegressionTest:
    """The regression test for `reproduction`, placed, scrubbed and proven (`shipped`) or not
    (`reason` says why)."""
    crash = incident.crash
    try:
        path, test_name = place(
            bench.repo.tracked_files(rev), reproduction, crash.type if crash else "Exception"
        )
        plain = write(reproduction, incident, path, test_name, scrub)
        text, count = masked(plain.source, incident)
    except (ValueError, SyntaxError) as refusal:
        return RegressionTest(
            path="", nodeid="", source="", reason=f"not shipped: {refusal}", shipped=False
        )
    variants = [plain]
    if count:
        # Both on the base commit in one run: the masked one at the path, the plain one beside.
        beside = path.removesuffix(".py") + "_captured.py"
        variants = [
            plain.model_copy(update={"source": text}),
            _moved(plain, beside),
        ]
    chosen, before, after, reason = _prove(bench, rev, patch, incident, variants, path)
    return RegressionTest(
        path=path,
        nodeid=plain.nodeid,
        source=(chosen or plain).source,
        before=before,
        after=after,
        masked=count if chosen is not None and chosen.source == text and count else 0,
        shipped=chosen is not None,
        reason=reason,
    )


def with_test(patch: Patch, test: RegressionTest) -> Patch:
    """`patch` with the shipped regression test added as a new file (same id: the fix is the
    same)."""
    if not test.shipped:
        return patch
    return patch.model_copy(
        update={
            "files": [*patch.files, FileChange(path=test.path, before="", after=test.source)],
            "diff": patch.diff + unified_diff(test.path, "", test.source),
        }
    )


def _moved(reproduction: Reproduction, path: str) -> Reproduction:
    rest = reproduction.nodeid.split("::")[1:]
    return reproduction.model_copy(update={"filename": path, "nodeid": "::".join([path, *rest])})


def _prove(
    bench: Workbench,
    rev: str,
    patch: Patch,
    incident: Incident,
    variants: list[Reproduction],
    path: str,
) -> tuple[Reproduction | None, str | None, str | None, str]:
    """Run the variants (first preferred) on `rev`, then the first that fails like the incident,
    at `path`, with `patch` applied: (that variant or None, its outcome before, after, why)."""
    with bench.worktree(rev, "regression-base") as tree:
        for variant in variants:
            write_reproduction(tree, variant)
        run = bench.sandbox.run_tests(tree, [v.nodeid for v in variants])
    checked = [check_reproduction(variant, run, incident) for variant in variants]
    found = next((c for c in checked if c.reproduced), None)
    if found is None:
        before = run.outcomes.get(variants[0].nodeid)
        return None, before, None, f"not shipped: on the base commit it {checked[0].reason}"
    before = run.outcomes.get(found.nodeid)
    chosen = _moved(found, path)
    with bench.worktree(rev, "regression-fix") as tree:
        refusal = apply_patch(tree, patch)
        if refusal is not None:
            return None, before, None, f"not shipped: {refusal}"
        write_reproduction(tree, chosen)
        after = bench.sandbox.run_tests(tree, [chosen.nodeid]).outcomes.get(chosen.nodeid)
    if after != "passed":
        return None, before, after, f"not shipped: with the fix it is {after or 'not run'}"
    return chosen, before, after, f"{found.reason} on the base commit, and passes with the fix"


def _renamed(source: str, old: str, new: str) -> str:
    renamed, count = re.subn(rf"(?m)^(\s*def ){re.escape(old)}\(", rf"\g<1>{new}(", source)
    if count != 1:
        raise ValueError(f"the reproduction does not define {old} once")
    return renamed


def _with_docstring(source: str, docstring: str) -> str:
    tree = ast.parse(source)
    first = tree.body[0] if tree.body else None
    lines = source.splitlines(keepends=True)
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        end = first.end_lineno or first.lineno
        return docstring + "".join(lines[end:])
    return docstring + "\n" + source


def _docstring(reproduction: Reproduction, incident: Incident) -> str:
    crash = incident.crash
    error = crash.type.rpartition(".")[2] if crash else "an exception"
    way = {
        "frame": "the values the incident captured in the crashing frame",
        "outer_frame": "the values the incident captured in an outer frame",
        "test_built_object": "the incident's values, with objects built as the tests build them",
        "derived_test": "an existing test, re-run with the incident's values",
    }[reproduction.way]
    incident_id = _safe(incident.id)
    return (
        f'"""Regression test: {_safe(reproduction.target_function)} raised {_safe(error)} '
        f"in production (incident {incident_id}).\n"
        f"\n"
        f"Written by fixloop from {way}. It failed like the\n"
        f"incident on the base commit and passes with the fix.\n"
        f'"""\n'
    )


def _safe(text: str) -> str:
    return re.sub(r"[^\w.\-:<>]", "_", text)[:120]


def _identifier(name: str) -> str:
    return re.sub(r"\W+", "_", name).strip("_").lower()


def _snake(name: str) -> str:
    return _identifier(_CAMEL.sub("_", name))
