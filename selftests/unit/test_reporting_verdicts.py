"""Claim verdicts and the gate: a claim passes only when every case it needs ran and passed."""

import pytest

from fixtures.core.exitcodes import Exit
from fixtures.ledger.claims import Claim
from fixtures.reporting.outcomes import TestOutcome as Outcome
from fixtures.reporting.verdicts import claim_verdict, gate_exit

CLAIM = Claim("SEC-1", "Secure", "安全", "isolated", "blocker",
              ("suites/s.py::test_a", "suites/s.py::test_b", "suites/s.py::test_ssh"),
              optional=("suites/s.py::test_ssh",))


def outcome(name: str, result: str, severity: str = "blocker", **extra) -> Outcome:
    return Outcome(f"suites/s.py::{name}[SEC-1]", "SEC-1", severity, result, **extra)


@pytest.mark.parametrize("results, verdict", [
    ({"test_a": "passed", "test_b": "passed"}, "pass"),
    ({"test_a": "passed", "test_b": "not applicable"}, "pass"),
    ({"test_a": "passed", "test_b": "not run"}, "partial"),
    ({"test_a": "passed", "test_ssh": "not run"}, "pass"),  # optional
    ({"test_a": "failed", "test_b": "not run"}, "fail"),
    ({"test_a": "error"}, "fail"),
    ({"test_a": "not run", "test_b": "not run"}, "not run"),
    ({"test_a": "not applicable", "test_b": "not applicable"}, "not applicable"),
    ({}, "not run"),
], ids=lambda v: str(v))
def test_claim_verdict(results, verdict):
    assert claim_verdict(CLAIM, [outcome(n, r) for n, r in results.items()]) == verdict


def test_waived_failure_with_a_needed_case_not_run_is_partial():
    waived = outcome("test_a", "failed", waiver={"state": "waived"})
    assert claim_verdict(CLAIM, [waived, outcome("test_b", "passed")]) == "waived"
    assert claim_verdict(CLAIM, [waived, outcome("test_b", "not run")]) == "partial"


def test_claim_without_tests_is_not_covered():
    empty = Claim("X-1", "c", "s", "claim", "minor", ())
    assert claim_verdict(empty, []) == "not covered"


@pytest.mark.parametrize("results, gate, accept, code", [
    ({"test_a": ("passed", "blocker")}, "major", False, Exit.PASSED),
    ({"test_a": ("failed", "minor")}, "major", False, Exit.BELOW_GATE),
    ({"test_a": ("failed", "major")}, "major", False, Exit.GATE_FAILED),
    ({"test_a": ("passed", "blocker"), "test_b": ("not run", "blocker")}, "major", False, Exit.GATE_FAILED),
    ({"test_a": ("passed", "blocker"), "test_b": ("not run", "blocker")}, "major", True, Exit.PASSED),
    ({"test_a": ("passed", "minor"), "test_b": ("not run", "minor")}, "major", False, Exit.BELOW_GATE),
    ({"test_a": ("passed", "blocker"), "test_ssh": ("not run", "blocker")}, "major", False, Exit.PASSED),
    ({"test_a": ("not applicable", "blocker")}, "major", False, Exit.PASSED),
], ids=lambda v: str(v))
def test_gate_counts_needed_cases_not_run_unless_accepted(results, gate, accept, code):
    outcomes = [outcome(n, r, s) for n, (r, s) in results.items()]
    assert gate_exit(outcomes, gate, {"SEC-1": CLAIM}, accept_partial=accept) == code
