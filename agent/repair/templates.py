"""Template engine: generate-and-validate fixes for common Python crashes, with no model.

For each of the top suspects and each of its crash lines, the templates registered for the
exception type (`agent.repair.rules`) propose small edits of the file. The engine keeps a
candidate only when it parses, differs from the original, changes only lines of the suspect
symbol and is new (not tried in an earlier round, not a duplicate), and ranks candidates by
suspect order, then template confidence, then size.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from agent.domain import ExceptionInfo, FileChange, Frame, Patch, Suspect
from agent.repair import RepairContext, RepairEngine
from agent.repair.diffs import make_patch
from agent.repair.pysource import FUNCTIONS, PySource
from agent.repair.rules import Site, Template
from agent.repair.rules.datetimes import naive_as_utc
from agent.repair.rules.indexes import (
    guard_index,
    last_index_off_by_one,
    one_based_index,
    open_last_bound,
    range_bound,
    while_bound,
)
from agent.repair.rules.keys import get_with_default, guard_missing_key
from agent.repair.rules.none_attribute import (
    conditional_attribute,
    guard_none_at_origin,
    guard_none_before_use,
    none_to_other_branch,
)
from agent.repair.rules.parsing import (
    default_on_bad_value,
    parse_fractions,
    raise_like_siblings,
)
from agent.repair.rules.recursion import consume_lookahead, exclude_text
from agent.repair.rules.renames import renamed_attribute, renamed_module
from agent.repair.rules.type_errors import (
    coerce_operand,
    none_iterable,
    none_operand,
    none_subscript,
)
from agent.repair.rules.unbound import unbound_after_handler, unbound_local
from agent.repair.rules.zero_division import conditional_division, guard_zero_division

ENGINE = "templates"
MAX_SUSPECTS = 3
"""How many of the top suspects the engine works on."""

TEMPLATES: dict[str, tuple[Template, ...]] = {
    "ZeroDivisionError": (guard_zero_division, conditional_division),
    "DivisionByZero": (guard_zero_division, conditional_division),
    "AttributeError": (
        renamed_attribute,
        none_to_other_branch,
        guard_none_before_use,
        conditional_attribute,
        guard_none_at_origin,
    ),
    "ValueError": (raise_like_siblings, default_on_bad_value, parse_fractions),
    "UnboundLocalError": (unbound_local, unbound_after_handler),
    "ImportError": (renamed_module,),
    "KeyError": (get_with_default, guard_missing_key),
    "IndexError": (
        last_index_off_by_one,
        open_last_bound,
        range_bound,
        one_based_index,
        while_bound,
        guard_index,
    ),
    "RecursionError": (exclude_text, consume_lookahead),
    "TypeError": (naive_as_utc, none_subscript, none_iterable, none_operand, coerce_operand),
}
"""Exception type name (without its module) -> the templates that try to fix it.
`DivisionByZero` is what `decimal` raises (a ZeroDivisionError subclass)."""


@dataclass(frozen=True)
class _Draft:
    patch: Patch
    confidence: float
    suspect: int
    order: int


class TemplateEngine:
    """Fixes from crash templates, ranked; then mutants of the code under test; then the revert
    of the suspect commit. Smaller forward fixes rank first. No model, no tokens."""

    name = ENGINE

    def __init__(
        self, mutations: RepairEngine | None = None, revert: RepairEngine | None = None
    ) -> None:
        self.mutations = mutations
        self.revert = revert

    def candidates(self, ctx: RepairContext) -> list[Patch]:
        fixes = self.crash_fixes(ctx)
        reverts: list[Patch] = []
        if self.revert is not None and len(fixes) < ctx.limit:
            reverts = self.revert.candidates(replace(ctx, limit=1))
        mutants: list[Patch] = []
        room = ctx.limit - len(fixes) - len(reverts)
        if self.mutations is not None and room > 0:
            tried = ctx.tried | {p.id for p in [*fixes, *reverts]}
            mutants = self.mutations.candidates(replace(ctx, tried=tried, limit=room))
        ranked = [*fixes, *mutants, *reverts]
        return [p.model_copy(update={"rank": n}) for n, p in enumerate(ranked, 1)]

    def crash_fixes(self, ctx: RepairContext) -> list[Patch]:
        error = ctx.incident.crash
        if error is None:
            return []
        templates = TEMPLATES.get(error.type.rsplit(".", 1)[-1], ())
        if not templates:
            return []
        drafts: list[_Draft] = []
        seen: set[str] = set()
        for number, suspect in enumerate(ctx.diagnosis.suspects[:MAX_SUSPECTS]):
            code = _load(ctx, suspect.file)
            if code is None:
                continue
            for line in suspect.lines:
                variables = _variables(error, suspect, line)
                site = Site(suspect.file, code, line, error, variables, _reader(ctx), _lister(ctx))
                bounds = _bounds(code, suspect, line)
                for template in templates:
                    for fix in template(site):
                        allowed = (1, len(code.lines) + 1) if fix.anywhere else bounds
                        if fix.after in seen or not _valid(code.text, fix.after, allowed):
                            continue
                        seen.add(fix.after)
                        change = FileChange(path=suspect.file, before=code.text, after=fix.after)
                        patch = make_patch(ENGINE, fix.title, fix.rationale, [change])
                        drafts.append(_Draft(patch, fix.confidence, number, len(drafts)))
        drafts.sort(key=lambda d: (d.suspect, -d.confidence, d.patch.changed_lines, d.order))
        fresh = [d.patch for d in drafts if d.patch.id not in ctx.tried][: ctx.limit]
        return [patch.model_copy(update={"rank": rank}) for rank, patch in enumerate(fresh, 1)]


def _reader(ctx: RepairContext) -> Callable[[str], str | None]:
    return lambda path: ctx.repo.read(ctx.rev, path)


def _lister(ctx: RepairContext) -> Callable[[], list[str]]:
    return lambda: ctx.repo.tracked_files(ctx.rev)


def _load(ctx: RepairContext, path: str) -> PySource | None:
    if not path.endswith(".py"):
        return None
    text = ctx.repo.read(ctx.rev, path)
    if text is None:
        return None
    try:
        return PySource(text)
    except (SyntaxError, ValueError):
        return None


def _bounds(code: PySource, suspect: Suspect, line: int) -> tuple[int, int] | None:
    """The lines a candidate may change: the suspect symbol, else the function around `line`."""
    if suspect.start_line is not None and suspect.end_line is not None:
        return suspect.start_line, suspect.end_line
    functions = [
        node
        for node in ast.walk(code.tree)
        if isinstance(node, FUNCTIONS) and node.lineno <= line <= (node.end_lineno or 0)
    ]
    if not functions:
        return None
    innermost = max(functions, key=lambda f: f.lineno)
    return innermost.lineno, innermost.end_lineno or innermost.lineno


def _valid(before: str, after: str, bounds: tuple[int, int] | None) -> bool:
    """Parses, differs, and changes (or inserts between) only lines inside `bounds`."""
    if bounds is None or after == before:
        return False
    try:
        ast.parse(after)
    except SyntaxError:
        return False
    start, end = bounds
    matcher = difflib.SequenceMatcher(
        None, before.splitlines(keepends=True), after.splitlines(keepends=True), autojunk=False
    )
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        inside = start <= i1 < end if tag == "insert" else start <= i1 + 1 and i2 <= end
        if not inside:
            return False
    return True


def _variables(error: ExceptionInfo, suspect: Suspect, line: int) -> Mapping[str, Any]:
    """The captured variables of the frame this suspect line belongs to."""
    function = (suspect.symbol or "").rsplit(".", 1)[-1]
    matches = [frame for frame in reversed(error.frames) if _same_file(frame, suspect.file)]
    for frame in matches:
        if frame.lineno == line or frame.lineno in suspect.lines:
            return frame.vars
    for frame in matches:
        if function and frame.function == function:
            return frame.vars
    return {}


def _same_file(frame: Frame, path: str) -> bool:
    names = [p.replace("\\", "/") for p in (frame.filename, frame.abs_path) if p]
    return any(
        name == path or name.endswith("/" + path) or path.endswith("/" + name) for name in names
    )
