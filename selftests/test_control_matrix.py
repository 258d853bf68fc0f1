"""The committed control matrix (docs/control-matrix.md) agrees with the control definitions and
the ledger: every control is in it with a result of its current definition, every claim has
a real weakening or a recorded reason, no claim's only control is response-only, and the
scores say what the rows say. Fast: it reads files only. (That each weakening is caught by the
checks it names is what the controls themselves prove, in controls/.)"""

from __future__ import annotations

import json

import pytest

from fixtures.ledger.claims import load
from selftests.conftest import PROJECT
from selftests.control_matrix.build import POSITIVE, REAL, RESPONSE_ONLY, build, kind_of
from selftests.control_matrix.expectations import claims_of
from selftests.control_matrix.markdown import (SCORE_CLAIMS, SCORE_REAL, SCORE_RESPONSE, read_scores,
                                               read_weakenings, render)
from selftests.controls import without_control
from selftests.controls.catalogue import all_controls

MATRIX = PROJECT / "docs" / "control-matrix.md"
DATA = PROJECT / "docs" / "control-matrix.json"
REGENERATE = "regenerate it: tools/control-matrix (or -k NAME for changed controls, --write-only for text)"


@pytest.fixture(scope="module")
def ledger():
    return load(PROJECT)


@pytest.fixture(scope="module")
def controls():
    return all_controls()


@pytest.fixture(scope="module")
def matrix(controls, ledger):
    return build(controls.values(), json.loads(DATA.read_text()), ledger, without_control.CLAIMS)


@pytest.fixture(scope="module")
def text():
    return MATRIX.read_text(encoding="utf-8")


def test_every_expectation_names_a_claims_check(controls, ledger):
    unknown = []
    for control in controls.values():
        for fragment in control.expect:
            try:
                claims_of(fragment, ledger)
            except ValueError as exc:
                unknown.append(f"{control.name}: {exc}")
    assert not unknown, "\n".join(unknown)


def test_every_control_is_in_the_matrix_with_a_result_of_its_current_definition(matrix, controls):
    rows = {row.name: row for row in matrix.rows + matrix.positives}
    assert set(rows) == set(controls)
    missing = [name for name, row in rows.items() if not row.applied]
    stale = [name for name, row in rows.items() if row.stale]
    assert not missing, f"controls without a result in {DATA.name}: {missing}; {REGENERATE}"
    assert not stale, f"controls changed since their result was recorded: {stale}; {REGENERATE}"


def test_the_written_matrix_is_the_one_its_data_and_the_definitions_give(matrix, text):
    assert text == render(matrix, without_control.CHECKS), f"{MATRIX.name} is out of date; {REGENERATE}"


def test_every_claim_has_a_real_weakening_or_a_recorded_reason(matrix, ledger, controls):
    defined = {claim for control in controls.values() if kind_of(control) == REAL
               for fragment in control.expect for claim in claims_of(fragment, ledger)}
    neither = [claim for claim in ledger if claim not in defined and claim not in without_control.CLAIMS]
    stale = [claim for claim in without_control.CLAIMS if claim in defined]
    unknown = [claim for claim in without_control.CLAIMS if claim not in ledger]
    assert not neither, f"claims with no real control and no reason in without_control.py: {neither}"
    assert not stale, f"without_control.py gives a reason for claims a real control now breaks: {stale}"
    assert not unknown, f"without_control.py names claims the ledger does not have: {unknown}"
    assert [claim.id for claim in matrix.claims] == list(ledger)


def test_checks_without_a_control_are_checks_of_the_ledger(ledger):
    unknown = []
    for fragment in without_control.CHECKS:
        try:
            claims_of(fragment, ledger)
        except ValueError as exc:
            unknown.append(str(exc))
    assert not unknown, unknown


def test_no_claim_is_covered_by_a_response_only_control_alone(matrix):
    kinds = {row.name: row.kind for row in matrix.rows}
    wrong = {claim.id: claim.real for claim in matrix.claims if any(kinds[name] != REAL for name in claim.real)}
    assert not wrong, f"claims counted as covered by a weakening that is not real: {wrong}"
    assert all(kinds[name] == RESPONSE_ONLY for claim in matrix.claims for name in claim.response_only)


def test_the_scores_are_what_the_rows_say(text, matrix):
    rows = read_weakenings(text)
    assert [row["name"] for row in rows] == [row.name for row in matrix.rows]
    assert not [row for row in rows if row["kind"] == POSITIVE]
    scores = read_scores(text)

    def counted(kind: str) -> tuple[int, int]:
        mine = [row for row in rows if row["kind"] == kind and not row["caught"].startswith(("not applied", "stale"))]
        return sum(row["caught"] == "yes" for row in mine), len(mine)

    assert scores[SCORE_REAL] == counted(REAL)
    assert scores[SCORE_RESPONSE] == counted(RESPONSE_ONLY)
    table = text.split("## Claims\n", 1)[1].split("\n## ", 1)[0]
    covered = sum(1 for line in table.splitlines() if "| covered (" in line)
    assert scores[SCORE_CLAIMS] == (covered, len(matrix.claims))
