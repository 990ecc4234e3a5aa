"""The evidence bar: confidence, what proves the fix, how many were proven and whether they
agree."""

from __future__ import annotations

from agent import domain
from agent.domain import Diagnosis, FileChange, Reproduction
from agent.proof.bar import weigh
from agent.repair.diffs import make_patch
from agent.settings import Settings

REPRO = "test_fixloop_repro_fx_1.py::test_reproduces_fx_1"


def patch(path: str, after: str = "b\n"):  # type: ignore[no-untyped-def]
    return make_patch("templates", "t", "r", [FileChange(path=path, before="a\n", after=after)])


def diagnosis(confidence: float, way: str = "frame") -> Diagnosis:
    reproduction = Reproduction(
        filename="t.py",
        source="",
        nodeid=REPRO,
        target_file="a.py",
        target_function="f",
        reproduced=True,
        way=way,  # type: ignore[arg-type]
    )
    return Diagnosis(confidence=confidence, reproduction=reproduction)


def report(candidate: str, tests: list[str]) -> domain.TestReport:
    outcomes = {t: domain.TestOutcome(before="failed", after="passed") for t in tests}
    return domain.TestReport(candidate_id=candidate, proven=True, reason="", must_fix=outcomes)


def test_a_confident_diagnosis_proven_by_its_reproduction_clears_the_bar() -> None:
    chosen = patch("app/a.py")
    evidence = weigh(Settings(), diagnosis(0.7), [], [REPRO], chosen, [chosen], [])
    assert evidence.clears and evidence.below == []
    assert (evidence.proof, evidence.proven, evidence.agree) == ("reproduction", 1, True)


def test_low_confidence_and_a_guessed_reproduction_fall_below() -> None:
    chosen = patch("app/a.py")
    low = weigh(Settings(), diagnosis(0.3), [], [REPRO], chosen, [chosen], [])
    assert not low.clears and "(pr_min_confidence)" in low.below[0]
    guessed = weigh(
        Settings(), diagnosis(0.7, "test_built_object"), [], [REPRO], chosen, [chosen], []
    )
    assert guessed.proof == "guessed_reproduction" and not guessed.clears
    assert "(pr_guessed_proof_confidence)" in guessed.below[0]
    # A reported failing test proves it whatever the reproduction was.
    reported = "tests/test_a.py::test_it"
    proven = weigh(
        Settings(),
        diagnosis(0.7, "test_built_object"),
        [reported],
        [reported, REPRO],
        chosen,
        [chosen],
        [report(chosen.id, [reported, REPRO])],
    )
    assert proven.proof == "reported_test" and proven.clears


def test_proven_candidates_that_disagree_or_too_few_fall_below() -> None:
    chosen, elsewhere = patch("app/a.py"), patch("app/b.py")
    both = [chosen, elsewhere]
    split = weigh(Settings(), diagnosis(0.9), [], [REPRO], chosen, both, [])
    assert not split.agree and not split.clears
    assert "app/a.py against app/b.py (pr_proven_must_agree)" in split.below[0]
    allowed = Settings(pr_proven_must_agree=False)
    assert weigh(allowed, diagnosis(0.9), [], [REPRO], chosen, both, []).clears
    same = [chosen, patch("app/a.py", "c\n")]
    assert weigh(Settings(), diagnosis(0.9), [], [REPRO], chosen, same, []).clears
    two = Settings(pr_min_proven=2)
    assert not weigh(two, diagnosis(0.9), [], [REPRO], chosen, [chosen], []).clears


def test_the_search_goes_on_until_the_bar_s_number_of_proven_candidates() -> None:
    from agent.proof.search import _settled

    proven = domain.TestReport(candidate_id="a", proven=True, held=True, reason="")
    failed = domain.TestReport(candidate_id="b", proven=False, reason="")
    assert _settled({0: failed, 1: proven})
    assert not _settled({0: failed, 1: proven}, wanted=2)
    assert not _settled({0: proven, 2: proven}, wanted=2)
    assert _settled({0: proven, 1: failed, 2: proven}, wanted=2)
