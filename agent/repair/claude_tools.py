"""The tools the Claude engine offers the model. Each input model's docstring is its prompt.

Every call returns a `ToolResult` with a status (`ok`, `error`, `no_data`): a malformed call, a
git refusal (`RepoError`) or a sandbox failure (`SandboxError`) is a result the model sees,
never an exception. Tools read the commit under repair only;
`run_tests` runs in a fresh worktree inside the sandbox; `propose_edit` checks the guardrails.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.domain import Patch, TestRun
from agent.errors import RepoError, SandboxError
from agent.guardrails.policy import Policy, check
from agent.ports import Sandbox
from agent.proof.prove import apply_patch, write_reproduction
from agent.repair import RepairContext
from agent.repair.diffs import make_patch
from agent.repair.edits import EditBlock, EditError, apply_blocks

ENGINE = "claude"
MAX_READ_LINES = 200
MAX_HITS = 40
MAX_SEARCH_FILES = 400
MAX_TEXT = 6000


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReadCode(_Input):
    """Read a file of the repository at the commit under repair, with line numbers. Give
    `symbol` (`name` or `Class.method`) to read one definition, or `start_line` and `end_line`
    for a range (at most 200 lines); with neither, the file's first 200 lines. Fails when the
    file or the symbol does not exist."""

    path: str = Field(description="path relative to the repository root")
    symbol: str | None = None
    start_line: int | None = Field(default=None, ge=1)
    end_line: int | None = Field(default=None, ge=1)


class SearchCode(_Input):
    """Search the repository's Python files: definitions (functions, methods, classes) whose
    qualified name contains `query`, then lines that contain it (case-insensitive, at most 40
    hits). Use it to find where a name is defined or used. Returns no_data when nothing
    matches."""

    query: str = Field(min_length=2)


class GitHistory(_Input):
    """Git history of lines of a file: who last changed each line (blame) and the commits that
    changed them, newest first. Give `commit` to see that commit's diff instead. Use it to find
    the change that introduced the bug; reverting part of it is often the right fix."""

    path: str
    start_line: int | None = Field(default=None, ge=1)
    end_line: int | None = Field(default=None, ge=1)
    commit: str | None = None


class RunTests(_Input):
    """Run tests in the sandbox on the commit under repair, with your latest proposed edit
    applied (or unpatched when you have proposed none). `tests` are pytest node ids or paths;
    when empty, the incident's reproduction test (or its failing tests) runs. Returns each
    test's outcome and the failures' exceptions."""

    tests: list[str] = Field(default_factory=list)


class Edit(_Input):
    path: str
    search: str = Field(description="exact text of the file to replace, unique in the file")
    replace: str


class ProposeEdit(_Input):
    """Propose a fix as search/replace blocks on files at the commit under repair. Each
    `search` must be copied exactly from the file (without line numbers) and occur once. The
    guardrails may refuse it (weakened or skipped tests, CI, build, packaging and dependency
    files, secrets, lock files, migrations, new dependencies or installs at run time, paths
    outside the allowed ones, too large a change); the reasons come back as an error. A new
    proposal replaces your earlier ones as the one `run_tests` uses."""

    title: str = Field(description="one line, imperative: what the change does")
    rationale: str = Field(description="why this change fixes the root cause")
    edits: list[Edit] = Field(min_length=1)


class Finish(_Input):
    """End the repair. Call it after your proposal passes the reproduction, or when you
    conclude that no code change in this repository can fix the incident."""

    summary: str


@dataclass(frozen=True)
class ToolResult:
    status: Literal["ok", "error", "no_data"]
    text: str

    def block(self, tool_use_id: str) -> dict[str, Any]:
        """The `tool_result` content block for the model."""
        result: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": tool_use_id,
            "content": f"[{self.status}] {self.text}",
        }
        if self.status == "error":
            result["is_error"] = True
        return result


@dataclass
class Toolbox:
    """The tools over one repair context. Keeps the proposals the guardrails allowed."""

    ctx: RepairContext
    sandbox: Sandbox
    policy: Policy
    workdir: Path
    proposals: list[Patch] = field(default_factory=list)
    finished: bool = False

    def specs(self) -> list[dict[str, Any]]:
        """The tool definitions for the Messages API."""
        return [
            {
                "name": name,
                "description": " ".join((schema.__doc__ or "").split()),
                "input_schema": _schema(schema),
            }
            for name, (schema, _) in self._tools().items()
        ]

    def call(self, name: str, arguments: object) -> ToolResult:
        tool = self._tools().get(name)
        if tool is None:
            return ToolResult("error", f"unknown tool {name!r}; tools: {sorted(self._tools())}")
        schema, run = tool
        try:
            parsed = schema.model_validate(arguments)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
                for e in error.errors()
            )
            return ToolResult("error", f"malformed call of {name}: {problems}")
        try:
            return run(parsed)
        except (RepoError, SandboxError) as error:
            return ToolResult("error", str(error))

    def _tools(self) -> dict[str, tuple[type[_Input], Callable[[Any], ToolResult]]]:
        return {
            "read_code": (ReadCode, self.read_code),
            "search_code": (SearchCode, self.search_code),
            "git_history": (GitHistory, self.git_history),
            "run_tests": (RunTests, self.run_tests),
            "propose_edit": (ProposeEdit, self.propose_edit),
            "finish": (Finish, self.finish),
        }

    def read_code(self, args: ReadCode) -> ToolResult:
        text = self.ctx.repo.read(self.ctx.rev, args.path)
        if text is None:
            return ToolResult("error", f"no file {args.path} at this commit")
        lines = text.splitlines()
        start, end = args.start_line or 1, args.end_line or len(lines)
        if args.symbol:
            found = [
                s
                for s in self.ctx.code_index.symbols(self.ctx.rev, args.path)
                if args.symbol in (s.qualname, s.name)
            ]
            if not found:
                return ToolResult("error", f"no symbol {args.symbol} in {args.path}")
            start, end = found[0].start_line, found[0].end_line
        end = min(end, len(lines), start + MAX_READ_LINES - 1)
        if start > end:
            return ToolResult("no_data", f"{args.path} has {len(lines)} lines")
        numbered = "\n".join(f"{n:>5}| {lines[n - 1]}" for n in range(start, end + 1))
        return ToolResult("ok", f"{args.path} lines {start}-{end} of {len(lines)}:\n{numbered}")

    def search_code(self, args: SearchCode) -> ToolResult:
        query = args.query.lower()
        files = [p for p in self.ctx.repo.tracked_files(self.ctx.rev) if p.endswith(".py")]
        hits: list[str] = []
        for path in files[:MAX_SEARCH_FILES]:
            for symbol in self.ctx.code_index.symbols(self.ctx.rev, path):
                if query in symbol.qualname.lower():
                    span = f"{symbol.start_line}-{symbol.end_line}"
                    hits.append(f"{path}:{span} {symbol.kind} {symbol.qualname}")
        for path in files[:MAX_SEARCH_FILES]:
            text = self.ctx.repo.read(self.ctx.rev, path) or ""
            for number, line in enumerate(text.splitlines(), 1):
                if query in line.lower():
                    hits.append(f"{path}:{number}: {line.strip()}")
        if not hits:
            return ToolResult("no_data", f"nothing matches {args.query!r}")
        more = f"\n({len(hits) - MAX_HITS} more hits not shown)" if len(hits) > MAX_HITS else ""
        return ToolResult("ok", "\n".join(hits[:MAX_HITS]) + more)

    def git_history(self, args: GitHistory) -> ToolResult:
        repo, rev = self.ctx.repo, self.ctx.rev
        if args.commit:
            diff = repo.diff(f"{args.commit}^", args.commit)
            return ToolResult("ok", _clip(diff) or "(empty diff)")
        text = repo.read(rev, args.path)
        if text is None:
            return ToolResult("error", f"no file {args.path} at this commit")
        start = args.start_line or 1
        end = min(args.end_line or len(text.splitlines()), len(text.splitlines()))
        if start > end:
            return ToolResult("no_data", f"{args.path} has no lines {start}-{end}")
        blamed: dict[str, list[int]] = {}
        summaries: dict[str, str] = {}
        for line in repo.blame(rev, args.path, start, end):
            blamed.setdefault(line.sha, []).append(line.line)
            summaries[line.sha] = f"{line.date:%Y-%m-%d} {line.author}: {line.summary}"
        out = [f"blame of {args.path}:{start}-{end}:"]
        out += [f"  {sha[:10]} lines {_spans(ls)} {summaries[sha]}" for sha, ls in blamed.items()]
        out.append("commits that changed these lines, newest first:")
        for commit in repo.line_history(rev, args.path, start, end, max_count=8):
            out.append(f"  {commit.sha[:10]} {commit.date:%Y-%m-%d} {commit.author}: ")
            out[-1] += commit.message.strip().replace("\n", "\n    ")
        return ToolResult("ok", _clip("\n".join(out)))

    def run_tests(self, args: RunTests) -> ToolResult:
        reproduction = self.ctx.diagnosis.reproduction
        tests: list[str] | None = list(args.tests)
        if not tests:
            if reproduction is not None:
                tests = [reproduction.nodeid]
            elif self.ctx.incident.failing_tests:
                tests = list(self.ctx.incident.failing_tests)
            else:
                tests = None
        patch = self.proposals[-1] if self.proposals else None
        self.workdir.mkdir(parents=True, exist_ok=True)
        tree = self.ctx.repo.add_worktree(
            self.workdir / f"tools-{uuid.uuid4().hex[:8]}", self.ctx.rev
        )
        try:
            if patch is not None and (refusal := apply_patch(tree, patch)) is not None:
                return ToolResult("error", refusal)
            if reproduction is not None:
                write_reproduction(tree, reproduction)
            run = self.sandbox.run_tests(tree, tests)
        finally:
            self.ctx.repo.remove_worktree(tree)
        where = f"with your proposal {patch.id}" if patch else "on the unpatched commit"
        return _test_result(run, where)

    def propose_edit(self, args: ProposeEdit) -> ToolResult:
        blocks = [EditBlock(e.path, e.search, e.replace) for e in args.edits]
        paths = {block.path for block in blocks}
        files = {path: self.ctx.repo.read(self.ctx.rev, path) for path in paths}
        try:
            changes = apply_blocks(blocks, files)
        except EditError as error:
            return ToolResult("error", f"edit not applied: {error}")
        patch = make_patch(ENGINE, args.title, args.rationale, changes)
        verdict = check(patch, self.policy)
        if not verdict.allowed:
            self.ctx.journal.refused[patch.id] = verdict.reasons
            return ToolResult("error", "refused by the guardrails: " + " ".join(verdict.reasons))
        if patch.id in self.ctx.tried:
            return ToolResult(
                "error", "this exact change was tested in an earlier round and was not proven"
            )
        self.proposals = [p for p in self.proposals if p.id != patch.id] + [patch]
        return ToolResult("ok", f"recorded as {patch.id}; run_tests checks it:\n{patch.diff}")

    def finish(self, args: Finish) -> ToolResult:
        self.finished = True
        return ToolResult("ok", "finished")


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    return schema


def _test_result(run: TestRun, where: str) -> ToolResult:
    if run.timed_out:
        return ToolResult("error", f"the test run timed out ({where})")
    if not run.outcomes:
        return ToolResult("error", f"pytest ran no test ({where}):\n{_clip(run.output, 2000)}")
    lines = [f"{where}: exit code {run.exit_code}"]
    lines += [f"  {nodeid}: {outcome}" for nodeid, outcome in sorted(run.outcomes.items())]
    for nodeid, chain in run.failures.items():
        for error in chain[-1:]:
            frame = error.crash_frame
            at = f" at {frame.filename}:{frame.lineno} in {frame.function}" if frame else ""
            lines.append(f"{nodeid} raised {error.type}: {error.value}{at}")
    return ToolResult("ok", _clip("\n".join(lines)))


def _spans(lines: list[int]) -> str:
    return f"{lines[0]}-{lines[-1]}" if len(lines) > 1 else str(lines[0])


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more chars)"
