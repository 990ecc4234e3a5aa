"""The evidence bar a proven fix must clear before it becomes a pull request.

A proof says a test that failed like the incident passes with the fix and nothing that passed
breaks. That is necessary, not sufficient: a reviewer also asks how sure the diagnosis is, what
the failing test is (a test the incident reported, a reproduction rebuilt from the values it
captured, or one whose objects fixloop guessed), and whether the candidates that were proven
agree on where the fix goes. Below the bar fixloop abstains: the proven candidate goes on the
ticket as a suggestion, with the diagnosis and the reasons, and no PR opens.

The bar is four settings (per repository, like the others): `pr_min_confidence`,
`pr_guessed_proof_confidence`, `pr_min_proven` and `pr_proven_must_agree`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent.domain import Diagnosis, Patch, TestReport
from agent.settings import Settings

GUESSED_WAYS = ("test_built_object", "derived_test")
"""Reproductions whose objects or call fixloop guessed (built the way the tests build them, or
an existing test re-run with the captured values) rather than rebuilt from captured values."""

Proof = Literal["reported_test", "reproduction", "guessed_reproduction"]


class Evidence(BaseModel):
    """What the proof of the chosen candidate rests on, and whether it clears the bar."""

    confidence: float
    proof: Proof
    proven: int
    """Candidates proven in the search (it stops once the best is known, so usually 1)."""
    agree: bool
    """Every other proven candidate changes a file the chosen one changes."""
    clears: bool
    below: list[str] = Field(default_factory=list)
    """Why it does not clear the bar, in plain words (empty when it does)."""


def weigh(
    settings: Settings,
    diagnosis: Diagnosis,
    reported: list[str],
    must_fix: list[str],
    chosen: Patch,
    proven: list[Patch],
    reports: list[TestReport],
) -> Evidence:
    """The evidence for `chosen` (one of `proven`): `reported` are the incident's failing tests,
    `must_fix` the tests that failed before the change."""
    proof = _proof(diagnosis, reported, must_fix, reports, chosen)
    files = {change.path for change in chosen.files}
    agree = all(files & {change.path for change in other.files} for other in proven)
    below = []
    if diagnosis.confidence < settings.pr_min_confidence:
        below.append(
            f"diagnosis confidence {diagnosis.confidence:.2f} is below {settings.pr_min_confidence}"
            " (pr_min_confidence)"
        )
    if proof == "guessed_reproduction" and (
        diagnosis.confidence < settings.pr_guessed_proof_confidence
    ):
        below.append(
            "the only test that failed before is a reproduction whose objects were guessed "
            f"({diagnosis.reproduction.way if diagnosis.reproduction else 'unknown'}), and the "
            f"diagnosis confidence {diagnosis.confidence:.2f} is below "
            f"{settings.pr_guessed_proof_confidence} (pr_guessed_proof_confidence)"
        )
    if len(proven) < settings.pr_min_proven:
        below.append(
            f"{len(proven)} candidate(s) proven, fewer than {settings.pr_min_proven} "
            "(pr_min_proven)"
        )
    if settings.pr_proven_must_agree and not agree:
        others = sorted({c.path for p in proven for c in p.files} - files)
        below.append(
            f"the proven candidates disagree on where the fix goes: {', '.join(sorted(files))} "
            f"against {', '.join(others)} (pr_proven_must_agree)"
        )
    return Evidence(
        confidence=diagnosis.confidence,
        proof=proof,
        proven=len(proven),
        agree=agree,
        clears=not below,
        below=below,
    )


def _proof(
    diagnosis: Diagnosis,
    reported: list[str],
    must_fix: list[str],
    reports: list[TestReport],
    chosen: Patch,
) -> Proof:
    report = next((r for r in reports if r.candidate_id == chosen.id and r.proven), None)
    turned = set(report.must_fix) if report else set(must_fix)
    if turned & set(reported):
        return "reported_test"
    reproduction = diagnosis.reproduction
    if reproduction is not None and reproduction.way in GUESSED_WAYS:
        return "guessed_reproduction"
    return "reproduction"
