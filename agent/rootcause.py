"""Root cause v1: from an incident's stack frames to ranked suspects and a suspect commit.

Each frame that maps to a tracked file of the repository (library frames never do) is re-aligned
to the file at the base commit, placed in its enclosing symbol by the code index, and blamed. The
innermost mapped frame ranks first; test files rank below the code they test. The suspect commit
is the more recent of the commit that last wrote the top suspect's crash line (blame) and the
last commit that changed its enclosing symbol (line history, which also sees deleted lines).
It reads the repository through the `Repo` and `CodeIndex` ports and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from agent import frames
from agent.domain import CommitRef, Diagnosis, Evidence, Frame, Incident, Suspect, Symbol
from agent.errors import RepoError
from agent.frames import is_installed_path
from agent.ports import BlameLine, CodeIndex, CommitLike, Repo
from agent.prompting import render

REALIGN_WINDOW = 15
"""How many lines up or down a frame's context line is searched for when the file moved."""
DECAY = 0.6
"""Each mapped frame further from the crash scores this factor less."""

_PR_NUMBER = re.compile(r"Merge pull request #(\d+)|\(#(\d+)\)")


def is_library_path(path: str) -> bool:
    """True for installed packages, the standard library and Python's pseudo-files."""
    return is_installed_path(path)


def is_test_path(path: str) -> bool:
    """True for test code: under `tests/` or `test/`, `test_*.py`, `*_test.py`, `conftest.py`."""
    *folders, name = path.split("/")
    return (
        "tests" in folders
        or "test" in folders
        or name == "conftest.py"
        or (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
    )


def map_frame(frame: Frame, files: Collection[str]) -> str | None:
    """The tracked file a frame ran, or None for library frames and files not in the repo."""
    return frames.map_frame(frame, files if isinstance(files, set) else set(files)).path


@dataclass
class _Finding:
    """One suspect under construction, with what ranking and the suspect commit need."""

    suspect: Suspect
    symbol: Symbol | None
    crash_blame: BlameLine | None
    distance: int
    located: bool
    """The frame's context line was found in the file (at its line or re-aligned)."""
    is_test: bool
    raised_here: bool = False
    """The frame is the crash frame itself: the innermost frame of the final exception."""


def diagnose(incident: Incident, repo: Repo, index: CodeIndex, rev: str) -> Diagnosis:
    """Rank the code the incident ran through and name the commit most likely to blame.

    Frames of the finally raised exception rank above those of its causes; within one
    exception the innermost frame ranks first.
    """
    base = repo.head(rev)
    tracked = set(repo.tracked_files(base))
    findings: dict[tuple[str, str], _Finding] = {}
    crash_frame = incident.crash.crash_frame if incident.crash else None
    distance = 0
    for exception in reversed(incident.exceptions):  # the finally raised exception first
        for frame in reversed(exception.frames):  # innermost first
            path = map_frame(frame, tracked)
            if path is None or frame.lineno is None:
                continue
            finding = _examine(frame, exception.type, path, distance, repo, index, base)
            distance += 1
            if finding is None:
                continue
            finding.raised_here = frame is crash_frame
            key = (path, finding.suspect.symbol or f"line {finding.suspect.lines[0]}")
            if key in findings:
                _merge(findings[key], finding)
            else:
                findings[key] = finding
    ranked = sorted(findings.values(), key=lambda f: -f.suspect.score)
    top = ranked[0] if ranked else None
    commit, reason = _suspect_commit(top, repo, base) if top else (None, "")
    return Diagnosis(
        suspects=[f.suspect for f in ranked],
        suspect_commit=commit,
        explanation=_explain(incident, ranked, commit, reason, base),
        confidence=_confidence(top, reason),
        base_commit=base,
    )


def _examine(
    frame: Frame,
    exception_type: str,
    path: str,
    distance: int,
    repo: Repo,
    index: CodeIndex,
    base: str,
) -> _Finding | None:
    lines = (repo.read(base, path) or "").splitlines()
    assert frame.lineno is not None
    line, located, note = _align(frame, lines)
    if not 1 <= line <= len(lines):
        return None
    where = frame.abs_path or frame.filename
    evidence = [
        Evidence(
            kind="frame",
            detail=f"{exception_type} frame {frame.function} at {where}:{frame.lineno} "
            f"maps to {path}:{line}",
        )
    ]
    if note:
        evidence.append(Evidence(kind="frame", detail=note))
    symbol = index.enclosing(base, path, line)
    if symbol is not None:
        detail = (
            f"line {line} is in {symbol.kind} {symbol.qualname} "
            f"(lines {symbol.start_line}-{symbol.end_line})"
        )
    else:
        detail = f"line {line} is at module level"
    evidence.append(Evidence(kind="symbol", detail=detail))
    blame = repo.blame(base, path, line, line)
    crash_blame = blame[0] if blame else None
    if crash_blame is not None:
        evidence.append(Evidence(kind="blame", detail=f"line {line}: {_describe(crash_blame)}"))
    is_test = is_test_path(path)
    decay = DECAY**distance
    score = 0.4 * decay if is_test else 0.5 + 0.5 * decay
    suspect = Suspect(
        file=path,
        symbol=symbol.qualname if symbol else None,
        start_line=symbol.start_line if symbol else None,
        end_line=symbol.end_line if symbol else None,
        lines=[line],
        score=round(score, 4),
        evidence=evidence,
    )
    return _Finding(suspect, symbol, crash_blame, distance, located, is_test)


def _align(frame: Frame, lines: list[str]) -> tuple[int, bool, str | None]:
    """The line the frame ran in the file as it is now: (line, located, note for the evidence).

    When the frame's context line is not at its line number, the nearest line within
    REALIGN_WINDOW holding it wins, preferring the one whose neighbours match the frame's
    pre- and post-context.
    """
    assert frame.lineno is not None
    reported = frame.lineno
    expected = (frame.context_line or "").strip()
    if not expected:
        return reported, False, None
    if _line(lines, reported) == expected:
        return reported, True, None
    candidates = [
        candidate
        for candidate in range(reported - REALIGN_WINDOW, reported + REALIGN_WINDOW + 1)
        if _line(lines, candidate) == expected
    ]
    if not candidates:
        note = (
            f"the frame's context line is not within {REALIGN_WINDOW} lines of line "
            f"{reported}; the file may have changed since the incident"
        )
        return reported, False, note
    best = max(candidates, key=lambda c: (_context_matches(frame, lines, c), -abs(c - reported)))
    note = (
        f"the frame's context line is at line {best}, not {reported}: "
        "the file changed since the incident's release; re-aligned"
    )
    return best, True, note


def _line(lines: list[str], number: int) -> str | None:
    return lines[number - 1].strip() if 1 <= number <= len(lines) else None


def _context_matches(frame: Frame, lines: list[str], at: int) -> int:
    before = sum(
        _line(lines, at - offset) == text.strip()
        for offset, text in enumerate(reversed(frame.pre_context), start=1)
    )
    after = sum(
        _line(lines, at + offset) == text.strip()
        for offset, text in enumerate(frame.post_context, start=1)
    )
    return before + after


def _merge(into: _Finding, other: _Finding) -> None:
    """Fold a second frame in the same symbol (recursion, or the same code in a chained cause)."""
    for line in other.suspect.lines:
        if line not in into.suspect.lines:
            into.suspect.lines.append(line)
    for item in other.suspect.evidence:
        if item not in into.suspect.evidence:
            into.suspect.evidence.append(item)


def _describe(blame: BlameLine | CommitRef) -> str:
    return (
        f'last changed in {blame.sha[:12]} "{blame.summary}" by {blame.author} '
        f"on {blame.date:%Y-%m-%d}"
    )


def _is_root(repo: Repo, sha: str, known: dict[str, bool]) -> bool:
    """A commit without parents (or whose parents this clone does not have)."""
    if sha not in known:
        try:
            repo.head(f"{sha}^")
            known[sha] = False
        except RepoError:
            known[sha] = True
    return known[sha]


def _suspect_commit(top: _Finding, repo: Repo, base: str) -> tuple[CommitRef | None, str]:
    """The commit to blame and how it was found: "crash_line", "symbol", or "" for none.

    Blame names the commit that last wrote the crash line, but a bug is often introduced by a
    later commit that removed a guard around it. So the line history of the whole enclosing
    symbol (which sees deletions) is read too, and the more recent of the two is the suspect.
    """
    roots: dict[str, bool] = {}
    suspect = top.suspect
    start = suspect.start_line or suspect.lines[0]
    end = suspect.end_line or suspect.lines[0]
    crash = top.crash_blame
    crash_ref = _ref(crash) if crash and not _is_root(repo, crash.sha, roots) else None
    history = [
        c
        for c in repo.line_history(base, suspect.file, start, end)
        if not _is_root(repo, c.sha, roots)
    ]
    symbol_ref = _ref(history[0]) if history else None
    where = f"{suspect.symbol or suspect.file} (lines {start}-{end})"
    if symbol_ref and (crash_ref is None or symbol_ref.date > crash_ref.date):
        detail = f"{where} was {_describe(symbol_ref)}"
        if crash_ref is not None:
            detail += f", after the crash line's own commit {crash_ref.sha[:12]}"
        suspect.evidence.append(Evidence(kind="history", detail=detail))
        return symbol_ref, "symbol"
    if crash_ref is not None:
        return crash_ref, "crash_line"
    suspect.evidence.append(
        Evidence(kind="history", detail=f"every line of {where} dates from the root commit")
    )
    return None, ""


def _ref(commit: BlameLine | CommitLike) -> CommitRef:
    message = getattr(commit, "message", commit.summary)
    return CommitRef(
        sha=commit.sha,
        summary=commit.summary,
        author=commit.author,
        date=commit.date,
        pr_number=pr_number(message),
    )


def pr_number(message: str) -> int | None:
    """The pull request a commit message names: "Merge pull request #12 ..." or "... (#12)"."""
    matches = _PR_NUMBER.findall(message)
    if not matches:
        return None
    merge, squash = matches[-1]
    return int(merge or squash)


def _confidence(top: _Finding | None, reason: str) -> float:
    if top is None:
        return 0.0
    score = 0.1
    if top.distance == 0 and not top.is_test:
        score += 0.25  # the innermost frame in the repository ranks first
    if top.raised_here:
        score += 0.1  # and it is where the exception was raised, not a caller of a library
    if top.symbol is not None:
        score += 0.1
    if top.located:
        score += 0.1
    score += {"crash_line": 0.3, "symbol": 0.15}.get(reason, 0.0)
    return round(min(score, 0.95), 2)


def _explain(
    incident: Incident,
    ranked: list[_Finding],
    commit: CommitRef | None,
    reason: str,
    base: str,
) -> str:
    crash = incident.crash
    exception = f"{crash.type}: {crash.value}" if crash and crash.value else crash and crash.type
    top = ranked[0] if ranked else None
    return render(
        "diagnosis.md.j2",
        exception=exception or None,
        frame_count=sum(len(e.frames) for e in incident.exceptions),
        base=base[:12],
        top=_view(top) if top else None,
        commit=(
            {
                "short": commit.sha[:12],
                "summary": commit.summary,
                "author": commit.author,
                "date": f"{commit.date:%Y-%m-%d}",
                "pr_number": commit.pr_number,
            }
            if commit
            else None
        ),
        commit_reason=reason,
        others=[_view(f) for f in ranked[1:4]],
    )


def _view(finding: _Finding) -> dict[str, object]:
    suspect = finding.suspect
    return {
        "file": suspect.file,
        "line": suspect.lines[0],
        "symbol": suspect.symbol,
        "kind": finding.symbol.kind if finding.symbol else None,
        "start_line": suspect.start_line,
        "end_line": suspect.end_line,
        "is_test": finding.is_test,
        "raised_here": finding.raised_here,
        "realigned": any("re-aligned" in e.detail for e in suspect.evidence),
    }


__all__ = ["diagnose", "is_library_path", "is_test_path", "map_frame", "pr_number"]
