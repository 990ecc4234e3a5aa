"""Routing functions are pure: state in, next node's name out."""

from agent.graph import (
    after_detect,
    after_fix,
    after_review,
    after_root_cause,
    after_verify,
    make_after_test,
)
from agent.nodes.escalate import _reason as escalation_reason


def test_detect_goes_on_only_while_running() -> None:
    assert after_detect({"status": "running"}) == "ticket"
    for status in ("duplicate", "not_actionable"):
        assert after_detect({"status": status}) == "__end__"


def test_root_cause_without_suspects_escalates() -> None:
    assert after_root_cause({"diagnosis": {"suspects": [{"file": "a.py"}]}}) == "fix"
    assert after_root_cause({"diagnosis": {"suspects": []}}) == "escalate"


def test_fix_without_candidates_escalates() -> None:
    assert after_fix({"candidates": [{"id": "x"}]}) == "test"
    assert after_fix({"candidates": []}) == "escalate"


def test_retry_is_bounded_by_rounds() -> None:
    after_test = make_after_test(max_rounds=2)
    assert after_test({"proven": {"id": "p"}, "round": 2}) == "open_pr"
    assert after_test({"proven": None, "round": 1, "must_fix": ["t::a"]}) == "fix"
    assert after_test({"proven": None, "round": 2, "must_fix": ["t::a"]}) == "escalate"
    # Without a test that failed before the change no round can prove anything.
    assert after_test({"proven": None, "round": 1, "must_fix": []}) == "escalate"


def test_a_proven_fix_below_the_evidence_bar_escalates() -> None:
    after_test = make_after_test(max_rounds=3)
    assert after_test({"proven": {"id": "p"}, "evidence": {"clears": False}}) == "escalate"
    assert after_test({"proven": {"id": "p"}, "evidence": {"clears": True}}) == "open_pr"


def test_a_forged_test_outcome_escalates_at_once() -> None:
    after_test = make_after_test(max_rounds=3)
    forged = {"candidate_id": "p", "untrusted": True, "reason": "cannot be trusted"}
    state = {"proven": None, "round": 1, "must_fix": ["t::a"], "reports": [forged]}
    assert after_test(state) == "escalate"
    assert escalation_reason(state | {"diagnosis": {"suspects": [{}]}}) == (
        "escalated",
        "the tests of candidate p forged or contradicted their own outcome, so it cannot be "
        "proven (cannot be trusted)",
    )


def test_review_decisions_route() -> None:
    assert after_review({"review": {"action": "merge"}}) == "find_release"
    assert after_review({"review": {"action": "reject"}}) == "reject"
    assert after_review({"review": {"action": "approve"}}) == "await_review"


def test_verify_routes_on_verdict() -> None:
    assert after_verify({"verification": {"verified": True}}) == "close"
    assert after_verify({"verification": {"verified": False}}) == "escalate"
