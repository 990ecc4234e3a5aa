"""`fixloop diagnose`: detection and root cause only, printed rather than acted on; and the one
view of a diagnosis (`diagnosis_view`) that every command, the runner and the server show.

No ticket, no fix, no pull request, no run record: the repository and the code index are read
(the index cache in the state directory is the one thing written). Failing-test incidents are
refused, as detecting them means running their tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent import wiring
from agent.diagnosis.frames import map_frame, repo_files
from agent.diagnosis.ranking import diagnose
from agent.domain import Diagnosis, Incident
from agent.errors import IntakeError
from agent.settings import Settings


def diagnose_incident(
    settings: Settings, repo_path: Path, incident: Incident, commit: str | None = None
) -> dict[str, Any]:
    """The diagnosis of `incident` at `commit` (default: the head of the base branch, or the
    commit checked out when HEAD is detached)."""
    if incident.source == "test_failure" and not incident.exceptions:
        raise IntakeError(
            "a failing-test incident has no traceback until its tests run; "
            "`fixloop run` runs them, `fixloop diagnose` only reads"
        )
    repo, index = wiring.repo_and_index(settings, repo_path)
    base = repo.head(commit or settings.base_branch or repo.default_branch())
    files = repo_files(repo, base)
    mapped = sorted(
        {
            path
            for exception in incident.exceptions
            for frame in exception.frames
            if (path := map_frame(frame, files).path) is not None
        }
    )
    report: dict[str, Any] = {
        "incident": incident.id,
        "title": incident.title,
        "source": incident.source,
        "fingerprint": incident.fingerprint,
        "repo": str(repo.path),
        "commit": base,
        "mapped_files": mapped,
        "unread": incident.unread,
        "shallow": repo.is_shallow(),
    }
    if not mapped:
        return report | {
            "status": "not_actionable",
            "reason": f"no frame of the incident maps to a file of the repository at {base[:12]}",
            "diagnosis": None,
        }
    diagnosis = diagnose(incident, repo, index, base)
    return report | {"status": "diagnosed", "reason": "", "diagnosis": diagnosis_view(diagnosis)}


def diagnosis_view(diagnosis: Diagnosis, top: int | None = None) -> dict[str, Any]:
    """A diagnosis as fixloop shows it, JSON-ready: `fixloop diagnose`, `fixloop status` and
    the server's run record. `top` keeps that many suspects, most likely first (all if None).

    The suspect commit is the record (`sha`, `summary`, `author`, `date`, `pr_number`) with
    `subject` repeating `summary`, the name `fixloop diagnose --json` has always used.
    """
    commit = diagnosis.suspect_commit
    reproduction = diagnosis.reproduction
    return {
        "suspects": [
            {
                "file": suspect.file,
                "symbol": suspect.symbol,
                "lines": suspect.lines,
                "start_line": suspect.start_line,
                "end_line": suspect.end_line,
                "score": suspect.score,
                "evidence": [e.model_dump(mode="json") for e in suspect.evidence],
            }
            for suspect in diagnosis.suspects[:top]
        ],
        "suspect_commit": (
            commit.model_dump(mode="json") | {"subject": commit.summary} if commit else None
        ),
        "explanation": diagnosis.explanation,
        "confidence": diagnosis.confidence,
        "reproduction": (
            {
                key: getattr(reproduction, key)
                for key in ("nodeid", "filename", "reproduced", "reason", "source")
            }
            if reproduction
            else None
        ),
    }


def render_report(report: dict[str, Any]) -> str:
    """The report as a reader wants it in a terminal."""
    lines = [
        f"incident {report['incident']} ({report['source']}): {report['title']}",
        f"repository {report['repo']} at {report['commit'][:12]}",
    ]
    lines += [f"not read from the incident: {note}" for note in report.get("unread", [])]
    diagnosis = report["diagnosis"]
    if diagnosis is None:
        lines.append(f"not actionable: {report['reason']}")
        return "\n".join(lines)
    lines.append("suspects, most likely first:")
    for rank, suspect in enumerate(diagnosis["suspects"], start=1):
        where = suspect["symbol"] or "module level"
        span = ", ".join(str(line) for line in suspect["lines"])
        lines.append(
            f"  {rank}. {suspect['file']}  {where}  line {span}  score {suspect['score']:.2f}"
        )
        lines += [f"       {e['kind']:<8} {e['detail']}" for e in suspect["evidence"]]
    commit = diagnosis["suspect_commit"]
    if commit:
        pr = f" (PR #{commit['pr_number']})" if commit["pr_number"] else ""
        lines.append(
            f'suspect commit: {commit["sha"][:12]} "{commit["summary"]}" '
            f"by {commit['author']}, {commit['date'][:10]}{pr}"
        )
    else:
        lines.append("suspect commit: none")
    lines.append(f"confidence: {diagnosis['confidence']:.2f}")
    lines.append("")
    lines += [line.rstrip() for line in diagnosis["explanation"].strip().splitlines()]
    return "\n".join(lines)
