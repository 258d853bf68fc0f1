"""The matrix itself: for each weakening, what it was expected to break and what it made fail;
for each claim, which real weakenings catch it; and the two scores.

A claim counts as caught by a weakening when it failed (in the control's own selection or in
the smoke profile on the same weakened engine) through a check the control expects to fail:
each such failure is proven in ``./selftest`` to name the weakness. Other failures are listed
but never counted: as a side effect ("also failed"), as failing on the unweakened engine too
(the baseline), or as a time-bound check failing on a time, which a loaded host can cause
whatever the weakening (expectations.failed_on_time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from fixtures.ledger.claims import Claim, function_id
from selftests.control_matrix.expectations import expected_claims, matches_expectation
from selftests.control_matrix.record import fingerprint
from selftests.controls.negative import Control

REAL, RESPONSE_ONLY, POSITIVE = "real", "response-only", "positive"


def kind_of(control: Control) -> str:
    if control.positive:
        return POSITIVE
    return RESPONSE_ONLY if control.response_only else REAL


@dataclass
class Row:
    name: str
    kind: str
    weakens: str
    expected: list[str]
    applied: bool = False  # the matrix run has its result
    stale: bool = False  # its definition changed since its result was recorded
    held: bool = False  # its own check held in that run: exactly the expected checks failed
    caught: list[str] = field(default_factory=list)  # expected, and failed through an expected check
    # caught only through expected time-bound checks failing on a time: the weakening's doing
    # (its control's message names it), but a loaded host can add to it; shown with the load
    caught_on_time: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # expected, and did not
    also: list[str] = field(default_factory=list)  # failed, not expected
    noise: dict[str, str] = field(default_factory=dict)  # failed, not counted: claim -> why
    seconds: float = 0.0
    load: list[float] = field(default_factory=list)

    @property
    def caught_all(self) -> bool:
        return self.applied and not self.stale and bool(self.expected) and not self.missed


@dataclass
class ClaimRow:
    id: str
    real: list[str]  # real weakenings that caught it in the matrix run
    response_only: list[str]
    defined: list[str]  # real weakenings whose controls expect to break it
    reason: str = ""  # why no real weakening does, when none is defined

    @property
    def covered(self) -> bool:
        return bool(self.real)


@dataclass
class Matrix:
    rows: list[Row]
    positives: list[Row]
    claims: list[ClaimRow]
    baseline_failing: dict[str, list[str]]
    meta: dict

    def of_kind(self, kind: str) -> list[Row]:
        return [row for row in self.rows if row.kind == kind]

    def score(self, kind: str = REAL) -> tuple[int, int]:
        """(caught, applied) weakenings of ``kind``."""
        applied = [row for row in self.of_kind(kind) if row.applied and not row.stale]
        return sum(row.caught_all for row in applied), len(applied)

    def coverage(self) -> tuple[int, int]:
        return sum(claim.covered for claim in self.claims), len(self.claims)


def _failing(result: dict) -> tuple[dict[str, set[str]], set[str]]:
    """claim -> failing node ids over the control's own run and the smoke run; and those of them
    that failed on a time."""
    failing: dict[str, set[str]] = {}
    on_time: set[str] = set()
    for run in result["runs"].values():
        for claim, nodes in run["failing"].items():
            if run["verdicts"][claim] == "fail":
                failing.setdefault(claim, set()).update(nodes)
        on_time.update(run["failed_on_time"])
    return failing, on_time


def _load(result: dict) -> list[float]:
    return [value for run in result["runs"].values() for value in run["load"]]


def _row(control: Control, result: dict | None, ledger: dict[str, Claim], baseline: dict[str, list[str]]) -> Row:
    row = Row(control.name, kind_of(control), control.weakens, expected_claims(control.expect, ledger))
    if result is None:
        return row
    row.applied, row.held = True, result["held"]
    row.stale = result["definition"] != fingerprint(control)
    row.seconds = sum(run["seconds"] for run in result["runs"].values())
    row.load = _load(result)
    baseline_functions = {claim: {function_id(n) for n in nodes} for claim, nodes in baseline.items()}
    failing, on_time = _failing(result)
    for claim, nodes in sorted(failing.items()):
        if claim in row.expected and any(matches_expectation(n, control.expect) for n in nodes):
            row.caught.append(claim)
            if all(n in on_time for n in nodes if matches_expectation(n, control.expect)):
                row.caught_on_time.append(claim)
        elif {function_id(n) for n in nodes} <= baseline_functions.get(claim, set()):
            row.noise[claim] = "fails on the unweakened engine too"
        elif nodes <= on_time:
            row.noise[claim] = f"failed on a time, load up to {max(row.load or [0]):.1f}"
        else:
            row.also.append(claim)
    row.missed = [claim for claim in row.expected if claim not in row.caught]
    return row


def build(controls: Iterable[Control], data: dict, ledger: dict[str, Claim], reasons: dict[str, str]) -> Matrix:
    """``data``: the committed results (``docs/control-matrix.json``)."""
    base = data["baseline"]  # None: a run without the smoke runs, and so without a baseline
    baseline = {claim: nodes for claim, nodes in base["failing"].items() if base["verdicts"][claim] == "fail"} \
        if base else {}
    rows = [_row(control, data["controls"].get(control.name), ledger, baseline) for control in controls]
    weakenings = [row for row in rows if row.kind != POSITIVE]
    claims = []
    for claim_id in ledger:
        claims.append(ClaimRow(
            claim_id,
            real=[r.name for r in weakenings if r.kind == REAL and claim_id in r.caught and not r.stale],
            response_only=[r.name for r in weakenings if r.kind == RESPONSE_ONLY and claim_id in r.caught],
            defined=[r.name for r in weakenings if r.kind == REAL and claim_id in r.expected],
            reason=reasons.get(claim_id, "")))
    meta = {key: value for key, value in data.items() if key not in ("baseline", "controls")}
    return Matrix(weakenings, [row for row in rows if row.kind == POSITIVE], claims, baseline, meta)
