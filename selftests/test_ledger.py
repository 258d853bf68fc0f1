"""The claim ledger and the collected suite agree, in both directions (after walk.go)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict

import pytest

from fixtures.ledger.claims import function_id, load
from selftests.conftest import PROJECT

NODE_CLAIM = re.compile(r"\[([A-Z]+-\d+)(?:-[^\]]*)?\]$")


@pytest.fixture(scope="module")
def collected() -> list[str]:
    """Node ids of every suite test, as pytest collects them (all profiles)."""
    out = subprocess.run([sys.executable, "-m", "pytest", "-c", str(PROJECT / "pytest.ini"), "--rootdir",
                          str(PROJECT), "--collect-only", "-q", "--profile", "audit"],
                         cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return [line for line in out.stdout.splitlines() if "::" in line]


@pytest.fixture(scope="module")
def ledger():
    return load(PROJECT)


def test_every_node_id_shows_its_claim(collected):
    missing = [n for n in collected if not NODE_CLAIM.search(n)]
    assert collected, "no suite tests were collected"
    assert not missing, f"node ids without a [CLAIM-ID...] parameter: {missing[:10]}"


def test_every_collected_test_is_in_the_ledger_under_its_claim(collected, ledger):
    listed = {test: claim.id for claim in ledger.values() for test in claim.tests}
    wrong = []
    for nodeid in collected:
        claim_id = NODE_CLAIM.search(nodeid).group(1)
        if listed.get(function_id(nodeid)) != claim_id:
            wrong.append(f"{nodeid} (ledger: {listed.get(function_id(nodeid), 'absent')})")
    assert not wrong, "tests missing from claims.yaml or listed under another claim:\n" + "\n".join(wrong)


def test_every_ledger_test_exists(collected, ledger):
    functions = defaultdict(set)
    for nodeid in collected:
        functions[function_id(nodeid)].add(NODE_CLAIM.search(nodeid).group(1))
    stale = [f"{claim.id}: {test}" for claim in ledger.values() for test in claim.tests
             if claim.id not in functions.get(test, set())]
    assert not stale, "claims.yaml lists tests that were not collected:\n" + "\n".join(stale)


def test_uncovered_claims_are_reported_not_covered(suite):
    """A claim with no test shows as "not covered" in the summary: never omitted, never a pass."""
    run = suite("-k", "test_ping_answers_over_the_socket")
    verdicts = run.verdicts()
    ledger = load(PROJECT)
    assert set(verdicts) == set(ledger), run.describe()
    for claim in ledger.values():
        if not claim.tests:
            assert verdicts[claim.id] == "not covered", (claim.id, verdicts[claim.id])
    assert verdicts["ENG-1"] == "pass"
    assert verdicts["ENG-2"] == "not run", "a claim whose tests were deselected is not a pass"
