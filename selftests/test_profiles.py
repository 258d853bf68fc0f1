"""The three profiles select what their names promise, read from what pytest collects.

smoke: one check per claim of the document (the CI gate); full: every check but the host
checks; audit: full plus the host checks. Their wall times are measured by
``tools/benchmark``, never asserted here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

import pytest

from selftests.conftest import PROJECT

NODE_CLAIM = re.compile(r"\[([A-Z]+-\d+)(?:-[^\]]*)?\]$")


def _collect(profile: str) -> list[str]:
    out = subprocess.run([sys.executable, "-m", "pytest", "-c", str(PROJECT / "pytest.ini"), "--rootdir",
                          str(PROJECT), "--collect-only", "-q", "--profile", profile],
                         cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return [line for line in out.stdout.splitlines() if "::" in line]


@pytest.fixture(scope="module")
def profiles() -> dict[str, set[str]]:
    return {name: set(_collect(name)) for name in ("smoke", "full", "audit")}


def _claim(nodeid: str) -> str:
    return NODE_CLAIM.search(nodeid).group(1)


def test_each_profile_contains_the_one_before(profiles):
    assert profiles["smoke"] and profiles["smoke"] <= profiles["full"] <= profiles["audit"]


def test_audit_adds_exactly_the_host_checks(profiles):
    added = profiles["audit"] - profiles["full"]
    assert added, "the audit profile adds no host check"
    assert {n for n in added if not n.startswith("suites/host/")} == set()
    assert {n for n in profiles["full"] if n.startswith("suites/host/")} == set()
    assert {_claim(n).split("-")[0] for n in added} == {"HOST"}


def test_smoke_runs_one_check_per_claim_of_the_document(profiles):
    per_claim = Counter(_claim(n) for n in profiles["smoke"])
    twice = {claim: n for claim, n in per_claim.items() if n > 1}
    assert not twice, f"claims with more than one smoke check: {twice}"
    covered = {_claim(n) for n in profiles["full"]}
    missing = sorted(covered - set(per_claim))
    assert not missing, f"claims with tests but no smoke check (@claim(..., smoke=True) or smoke='case'): {missing}"
