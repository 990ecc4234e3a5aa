"""Root cause: from an incident to ranked suspects, each with its evidence, and a suspect commit.

Three signals make one ranking:

* Stack position. Each frame that maps to a tracked file (library frames never do) is
  re-aligned to the file at the base commit, placed in its enclosing symbol by the code index,
  and blamed; the innermost frame ranks first, the frames of a cause before those of an
  exception the code raised on purpose from it, an exception group's sub-exceptions raised in
  the repository's code before the others. The functions called on a frame's line, or on
  the lines that assigned the variables that line uses, are suspects too: a value that breaks
  the crash line is often made by one of them.
* History (`agent.diagnosis.history`). Code changed since the last good release can have
  introduced a regression; code that did not change cannot. A change counts in full while the
  window changed at most half of the repository's source files, then less and less down to
  nothing when it changed all of them: a window that changed most of the repository (200
  commits between releases) separates nothing. A name on a crash line that the window
  redefined counts the same.
* Spectrum (`agent.diagnosis.spectrum`). When failing tests (or a reproduction) and the suite ran
  under coverage, Ochiai over the lines they ran scores the symbols holding those lines.

Test files rank below the code they test. The suspect commit is the commit since the last good
release that touched the most suspicious code: the top suspects' lines, the crash lines, or the
definitions the crash lines name (a rename or removal); without a release window, the more
recent of the commit that last wrote the crash line and the last one that changed its symbol.
It reads the repository through the `Repo` and `CodeIndex` ports and writes nothing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from agent.diagnosis import flow, frames
from agent.diagnosis.frames import is_test_path
from agent.diagnosis.history import Window, definition_changes, names_on, release_window
from agent.diagnosis.spectrum import Spectrum, SymbolScore, suspicious_symbols
from agent.domain import (
    CommitRef,
    Diagnosis,
    Evidence,
    ExceptionInfo,
    Frame,
    Incident,
    Suspect,
    Symbol,
)
from agent.errors import RepoError
from agent.ports import BlameLine, CodeIndex, CommitLike, Repo
from agent.prompting import render

MAX_DIFFS = 60
"""The most commits since the last good release whose diffs are read for changed definitions."""
REALIGN_WINDOW = 15
"""How many lines up or down a frame's context line is searched for when the file moved."""
DECAY = 0.6
"""Each mapped frame further from the crash scores this factor less."""

# Weights of the combined score; a suspect's score is their weighted sum over their total.
POSITION_WEIGHT = 0.5
CHANGED_WEIGHT = 1.0
OCHIAI_WEIGHT = 0.8
_TOTAL_WEIGHT = POSITION_WEIGHT + CHANGED_WEIGHT + OCHIAI_WEIGHT
TEST_WEIGHT = 0.05
"""Test code scores at most this: it is evidence, and ranks below the code it tests."""

_RAISE = re.compile(r"raise\s+[\w.]+\s*\(")
_PR_NUMBER = re.compile(r"Merge pull request #(\d+)|\(#(\d+)\)")


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
    position: float = 0.0
    """Stack signal in [0, 1]: the frame's nearness to the crash, or a callee's flow into it."""
    on_stack: bool = True
    crash_text: str = ""
    """The text of the frame's line, for the names it uses."""
    changed: bool = False
    """Its lines changed since the last good release."""
    history: float = 0.0
    """What its change counts for: the window's selectivity when it changed, else 0."""
    ochiai: float = 0.0
    reasons: list[str] = field(default_factory=list)
    """Why it ranks where it does, in plain words, for the explanation."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.suspect.file, self.suspect.symbol or f"line {self.suspect.lines[0]}")


@dataclass
class Gathered:
    """What ranking reads from the repository, read once: frames placed in code, the release
    window, data flow, and the definitions the window's commits changed. `rank` adds coverage."""

    incident: Incident
    base: str
    window: Window | None
    stack: list[_Finding]
    """The suspects the stack frames point at, crash first."""
    findings: dict[tuple[str, str], _Finding]
    """The stack's suspects and those data flow adds, by (file, symbol)."""
    redefined: dict[str, list[CommitLike]]
    shallow: bool = False
    """The repository is a shallow clone: history-based signals see only the commits fetched."""
    reach: tuple[int, int] = (0, 0)
    """(source files the window changed, source files of the repository): how much of the
    repository "changed since the last good release" marks."""

    @property
    def selectivity(self) -> float:
        """What a change since the last good release is worth, from 1 (it marks little of the
        repository) down to 0 (it marks all of it): 1 up to half of the source files changed,
        then falling linearly to 0."""
        changed, total = self.reach
        return min(1.0, 2 * (1 - changed / total)) if total else 1.0

    @property
    def placed(self) -> bool:
        """Some frame or data flow points at code of the repository."""
        return bool(self.findings)


def gather(incident: Incident, repo: Repo, index: CodeIndex, rev: str) -> Gathered:
    """Read the repository for everything ranking needs but coverage."""
    base = repo.head(rev)
    files = frames.repo_files(repo, base)
    window = release_window(incident.release, repo, base)
    findings = _stack_findings(incident, repo, index, base, files)
    stack = list(findings.values())
    for finding in _flow_findings(stack, repo, index, base):
        findings.setdefault(finding.key, finding)
    redefined = _redefinitions(stack, window, repo) if window is not None else {}
    reach = _reach(files.tracked, window) if window is not None else (0, 0)
    return Gathered(incident, base, window, stack, findings, redefined, repo.is_shallow(), reach)


def _reach(tracked: Collection[str], window: Window) -> tuple[int, int]:
    sources = {path for path in tracked if path.endswith(".py") and not is_test_path(path)}
    return len(sources & window.changed.keys()), len(sources)


def rank(
    gathered: Gathered, repo: Repo, index: CodeIndex, spectrum: Spectrum | None = None
) -> Diagnosis:
    """Rank the code the incident ran through and name the commit most likely to blame.

    Frames of the finally raised exception rank above those of its causes, unless the
    repository's code raised it on purpose from its cause (a translation); an exception
    group's sub-exceptions raised in the repository's code rank first. Within one exception
    the innermost frame ranks first. `spectrum`, when given and usable, adds Ochiai.
    `gathered` is left as it was, so it can be ranked again.
    """
    gathered = copy.deepcopy(gathered)
    incident, base, window = gathered.incident, gathered.base, gathered.window
    findings, stack, redefined = gathered.findings, gathered.stack, gathered.redefined
    if spectrum is not None and spectrum.usable:
        _add_spectrum(findings, suspicious_symbols(spectrum, index, base, is_test_path))
    if window is not None:
        _mark_changed(findings.values(), window, gathered)
        _mark_redefined(stack, redefined, window, gathered.selectivity)
    for finding in findings.values():
        finding.suspect.score = _score(finding)
    ranked = sorted(findings.values(), key=_rank_key)
    top = ranked[0] if ranked else None
    commit, reason = (None, "")
    if top is not None and window is not None:
        commit, reason = _window_commit(ranked, stack, window, redefined, repo, base)
    if top is not None and commit is None:
        commit, reason = _suspect_commit(top, repo, base)
    return Diagnosis(
        suspects=[f.suspect for f in ranked],
        suspect_commit=commit,
        explanation=_explain(incident, ranked, commit, reason, base, window, gathered.shallow),
        confidence=_confidence(ranked, reason),
        base_commit=base,
    )


def diagnose(
    incident: Incident,
    repo: Repo,
    index: CodeIndex,
    rev: str,
    spectrum: Spectrum | None = None,
) -> Diagnosis:
    """Gather and rank in one call, for callers that have no coverage to wait for."""
    return rank(gather(incident, repo, index, rev), repo, index, spectrum)


def _stack_findings(
    incident: Incident, repo: Repo, index: CodeIndex, base: str, files: frames.RepoFiles
) -> dict[tuple[str, str], _Finding]:
    findings: dict[tuple[str, str], _Finding] = {}
    placed: dict[int, frames.FrameMapping] = {
        id(frame): mapping
        for exception in incident.exceptions
        for frame in exception.frames
        if (mapping := frames.map_frame(frame, files)).path is not None
    }
    walk = _walk_order(incident.exceptions, placed)
    crash_frame = walk[0].crash_frame if walk else None
    distance = 0
    for exception in walk:
        for frame in reversed(exception.frames):  # innermost first
            if id(frame) not in placed:
                continue
            mapping = placed[id(frame)]
            assert mapping.path is not None
            is_crash = frame is crash_frame
            if mapping.line is not None:
                frame = frame.model_copy(update={"lineno": mapping.line})
            if frame.lineno is None:
                continue
            finding = _examine(frame, exception.type, mapping.path, distance, repo, index, base)
            distance += 1
            if finding is None:
                continue
            if mapping.line is not None:
                finding.suspect.evidence.insert(1, Evidence(kind="frame", detail=mapping.how))
            finding.raised_here = is_crash
            if finding.key in findings:
                _merge(findings[finding.key], finding)
            else:
                findings[finding.key] = finding
    return findings


def _walk_order(
    exceptions: list[ExceptionInfo], placed: dict[int, frames.FrameMapping]
) -> list[ExceptionInfo]:
    """The exceptions in the order their frames are evidence: the finally raised one first, then
    its causes. An exception group's sub-exceptions (leaves) come before the group, those raised
    in the repository's own code (their innermost frame placed in it) first."""
    leaves = [i for i, exception in enumerate(exceptions) if exception.leaf]
    if not leaves:
        newest_first = list(reversed(exceptions))
        translated = [e for e in newest_first[:-1] if _raised_on_purpose(e, placed)]
        kept = [e for e in newest_first if not any(e is other for other in translated)]
        return kept + translated
    first = leaves[0]
    while first > 0 and not exceptions[first - 1].type.endswith("ExceptionGroup"):
        first -= 1
    group = list(reversed(exceptions[:first]))
    branches = []
    for leaf in leaves:
        branches.append(list(reversed(exceptions[first : leaf + 1])))
        first = leaf + 1

    def raised_elsewhere(branch: list[ExceptionInfo]) -> bool:
        crash = branch[0].crash_frame
        return crash is None or id(crash) not in placed

    ordered = sorted(branches, key=raised_elsewhere)
    return [exception for branch in ordered for exception in branch] + group


def _raised_on_purpose(exception: ExceptionInfo, placed: dict[int, frames.FrameMapping]) -> bool:
    """The repository's code raised it with a `raise` statement while handling its cause: it
    translates the cause (`raise ConfigError(...) from error`), whose frames say where it
    went wrong, and ranks after them."""
    crash = exception.crash_frame
    line = (crash.context_line or "").strip() if crash else ""
    return crash is not None and id(crash) in placed and _RAISE.match(line) is not None


def _rank_key(finding: _Finding) -> tuple[float, int, str, int]:
    return (
        -finding.suspect.score,
        finding.distance,
        finding.suspect.file,
        finding.suspect.start_line or 0,
    )


def _score(finding: _Finding) -> float:
    if finding.is_test:
        return round(TEST_WEIGHT * finding.position, 4)
    raw = (
        POSITION_WEIGHT * finding.position
        + CHANGED_WEIGHT * finding.history
        + OCHIAI_WEIGHT * finding.ochiai
    )
    return round(raw / _TOTAL_WEIGHT, 4)


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
    position = decay if is_test else 0.5 + 0.5 * decay
    suspect = Suspect(
        file=path,
        symbol=symbol.qualname if symbol else None,
        start_line=symbol.start_line if symbol else None,
        end_line=symbol.end_line if symbol else None,
        lines=[line],
        score=0.0,
        evidence=evidence,
        realigned=located and line != frame.lineno,
    )
    finding = _Finding(suspect, symbol, crash_blame, distance, located, is_test)
    finding.position = position
    finding.crash_text = lines[line - 1]
    return finding


def _flow_findings(
    stack: list[_Finding], repo: Repo, index: CodeIndex, base: str
) -> list[_Finding]:
    """Suspects for the functions whose results feed a frame's line (`agent.diagnosis.flow`), each
    scoring below what it feeds."""
    frames_by_symbol: dict[tuple[str, str], _Finding] = {}
    lines = []
    for finding in stack:
        if finding.is_test or finding.symbol is None:
            continue
        frames_by_symbol.setdefault(finding.key, finding)
        lines.append(flow.Line(finding.suspect.file, finding.suspect.lines[0], finding.symbol))
    made: dict[tuple[str, str], _Finding] = {}
    for feeder in flow.feeders(lines, repo, index, base, is_test_path):
        fed_key = (feeder.fed.path, feeder.fed.qualname)
        source = frames_by_symbol.get(fed_key) or made[fed_key]
        symbol = feeder.symbol
        where = f"{symbol.qualname} ({symbol.path}:{symbol.start_line}-{symbol.end_line})"
        suspect = _off_stack_suspect(
            symbol,
            symbol.start_line,
            [
                *source.suspect.evidence[:1],
                Evidence(kind="symbol", detail=f"{where} {feeder.detail}"),
            ],
        )
        finding = _Finding(suspect, symbol, None, source.distance + 1, False, False)
        finding.on_stack = False
        if feeder.level == 1:
            finding.position = 0.6 * DECAY**source.distance
            finding.reasons.append(
                f"its result flows into line {feeder.line.line} of `{feeder.line.path}`"
            )
        else:
            finding.position = 0.5 * source.position
            finding.reasons.append(
                f"it is called by `{feeder.fed.qualname}`, whose result flows on"
            )
        made[(symbol.path, symbol.qualname)] = finding
    return list(made.values())


def _off_stack_suspect(symbol: Symbol, line: int, evidence: list[Evidence]) -> Suspect:
    """A suspect no frame ran through: found by data flow or by coverage."""
    return Suspect(
        file=symbol.path,
        symbol=symbol.qualname,
        start_line=symbol.start_line,
        end_line=symbol.end_line,
        lines=[line],
        score=0.0,
        evidence=evidence,
    )


def _add_spectrum(findings: dict[tuple[str, str], _Finding], scores: list[SymbolScore]) -> None:
    for item in scores:
        symbol = item.symbol
        detail = (
            f"coverage: line {item.line} of {symbol.path} ran in {item.failed} failing and "
            f"{item.passed} passing test(s): Ochiai {item.score:.2f}"
        )
        if item.failing_tests:
            detail += f" (failing: {', '.join(item.failing_tests[:3])})"
        key = (symbol.path, symbol.qualname)
        finding = findings.get(key)
        if finding is None:
            in_symbol = (
                f"line {item.line} is in {symbol.kind} {symbol.qualname} "
                f"(lines {symbol.start_line}-{symbol.end_line})"
            )
            suspect = _off_stack_suspect(
                symbol, item.line, [Evidence(kind="symbol", detail=in_symbol)]
            )
            finding = _Finding(suspect, symbol, None, 10**6, False, False, on_stack=False)
            findings[key] = finding
        finding.ochiai = round(item.score, 4)
        finding.suspect.evidence.append(Evidence(kind="coverage", detail=detail))
        finding.reasons.append(f"the failing tests run it (Ochiai {item.score:.2f})")


def _mark_changed(findings: Collection[_Finding], window: Window, gathered: Gathered) -> None:
    changed, total = gathered.reach
    weight = gathered.selectivity
    reach = (
        f"; the window changed {changed} of the repository's {total} source files, so a change "
        f"counts {weight:.2f} of its full weight"
        if weight < 1
        else ""
    )
    for finding in findings:
        suspect = finding.suspect
        if finding.is_test:
            continue
        start = suspect.start_line or suspect.lines[0]
        end = suspect.end_line or suspect.lines[0]
        if window.touched(suspect.file, start, end):
            finding.changed = True
            finding.history = weight
            suspect.evidence.append(
                Evidence(
                    kind="history",
                    detail=f"{suspect.symbol or suspect.file} (lines {start}-{end}) changed "
                    f"since the last good release {window.last_good}{reach}",
                )
            )
            finding.reasons.append(f"it changed since the last good release {window.last_good}")


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
    into.suspect.realigned = into.suspect.realigned or other.suspect.realigned


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


def _redefinitions(
    stack: list[_Finding], window: Window, repo: Repo
) -> dict[str, list[CommitLike]]:
    """Names used on the crash lines -> the window's commits that redefined, renamed or removed
    them, newest first."""
    names = {
        name for finding in stack if not finding.is_test for name in names_on(finding.crash_text)
    }
    redefined: dict[str, list[CommitLike]] = {}
    for commit in window.commits[:MAX_DIFFS]:
        for name in sorted(definition_changes(repo, commit, names, is_test_path)):
            redefined.setdefault(name, []).append(commit)
    return redefined


def _mark_redefined(
    stack: list[_Finding],
    redefined: dict[str, list[CommitLike]],
    window: Window,
    selectivity: float,
) -> None:
    """A frame whose line uses a name redefined since the last good release is changed too:
    its line broke though its text did not change (a rename that missed a caller)."""
    for finding in stack:
        if finding.is_test:
            continue
        used = sorted(names_on(finding.crash_text) & set(redefined))
        if not used:
            continue
        finding.changed = True
        finding.history = selectivity
        commits = ", ".join(dict.fromkeys(c.sha[:12] for n in used for c in redefined[n]))
        finding.suspect.evidence.append(
            Evidence(
                kind="history",
                detail=f"line {finding.suspect.lines[0]} uses "
                f"{', '.join(f'`{n}`' for n in used)}, whose definition changed since the last "
                f"good release {window.last_good} ({commits})",
            )
        )
        finding.reasons.append(
            f"its line uses {', '.join(f'`{n}`' for n in used)}, redefined since the last "
            f"good release {window.last_good}"
        )


def _window_commit(
    ranked: list[_Finding],
    stack: list[_Finding],
    window: Window,
    redefined: dict[str, list[CommitLike]],
    repo: Repo,
    base: str,
) -> tuple[CommitRef | None, str]:
    """The commit since the last good release that touched the most suspicious code.

    Votes: the top changed suspects' line history (newest commit most), the crash lines' own
    commits, and commits that redefined, renamed or removed a name a crash line uses. The most
    votes win; a tie goes to the newer commit.
    """
    in_window = window.shas
    votes: dict[str, float] = {}
    why: dict[str, list[str]] = {}

    def vote(sha: str, weight: float, reason: str) -> None:
        votes[sha] = votes.get(sha, 0.0) + weight
        why.setdefault(sha, []).append(reason)

    changed = [f for f in ranked if f.changed and not f.is_test][:3]
    for rank, finding in enumerate(changed):
        suspect = finding.suspect
        start = suspect.start_line or suspect.lines[0]
        end = suspect.end_line or suspect.lines[0]
        history = [
            c for c in repo.line_history(base, suspect.file, start, end) if c.sha in in_window
        ]
        for age, commit in enumerate(history):
            weight = (1.0 if age == 0 else 0.5) / (rank + 1)
            vote(commit.sha, weight, f"changed {suspect.symbol or suspect.file}")
    names: dict[str, float] = {}
    for finding in stack:
        if finding.is_test:
            continue
        decay = DECAY**finding.distance
        blame = finding.crash_blame
        if blame is not None and blame.sha in in_window:
            where = f"{finding.suspect.file}:{finding.suspect.lines[0]}"
            vote(blame.sha, 0.8 * decay, f"wrote the crash line {where}")
        for name in names_on(finding.crash_text):
            names[name] = max(names.get(name, 0.0), decay)
    for name, commits in sorted(redefined.items()):
        for commit in commits:
            reason = f"changed the definition of `{name}`, which a crash line uses"
            vote(commit.sha, 0.9 * names[name], reason)
    if not votes:
        return None, ""
    order = {c.sha: n for n, c in enumerate(window.commits)}
    best = min(votes, key=lambda sha: (-votes[sha], order.get(sha, len(order))))
    commit = next(c for c in window.commits if c.sha == best)
    ref = _ref(commit)
    if ref.pr_number is None:
        merge = repo.merged_by(best, window.release_sha)
        if merge is not None:
            ref.pr_number = pr_number(merge.message)
    top = ranked[0].suspect
    top.evidence.append(
        Evidence(
            kind="history",
            detail=f"suspect commit {best[:12]} of the {window.describe()}: "
            + "; ".join(dict.fromkeys(why[best])),
        )
    )
    return ref, "window"


def _confidence(ranked: list[_Finding], reason: str) -> float:
    if not ranked:
        return 0.0
    top = ranked[0]
    score = 0.1
    if top.on_stack and top.distance == 0 and not top.is_test:
        score += 0.2  # the innermost frame in the repository ranks first
    if top.raised_here:
        score += 0.05  # and it is where the exception was raised, not a caller of a library
    if top.symbol is not None:
        score += 0.1
    if top.located:
        score += 0.05
    if top.changed:
        score += 0.15
    if top.ochiai > 0:
        score += 0.15 * top.ochiai
    score += {"crash_line": 0.3, "window": 0.25, "symbol": 0.15}.get(reason, 0.0)
    if len(ranked) > 1 and top.suspect.score - ranked[1].suspect.score < 0.05:
        score -= 0.1  # a close second
    return round(max(min(score, 0.95), 0.05), 2)


def _explain(
    incident: Incident,
    ranked: list[_Finding],
    commit: CommitRef | None,
    reason: str,
    base: str,
    window: Window | None,
    shallow: bool,
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
        window=window.describe() if window else None,
        others=[_view(f) for f in ranked[1:4]],
        shallow=shallow,
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
        "on_stack": finding.on_stack,
        "reasons": finding.reasons,
        "realigned": suspect.realigned,
    }


__all__ = ["diagnose", "pr_number"]
