"""The ledger's mapping and remediation agree with the collected suite: every check named in
``controls:`` or ``remediation:`` exists (a renamed case would silently drop its mapping),
and every collected check has a remediation to show when it fails."""

from __future__ import annotations

from fixtures.ledger.claims import load
from fixtures.ledger.compliance import check_name, remedy_for
from selftests.conftest import PROJECT
from selftests.test_ledger import NODE_CLAIM, collected  # noqa: F401 (collected is a fixture)


def test_every_named_check_exists(collected):
    names = {check_name(n) for n in collected} | {check_name(n).split("[", 1)[0] for n in collected}
    stale = [f"{claim.id}: {check}" for claim in load(PROJECT).values()
             for entry in (*claim.controls, *claim.remediation) for check in entry.checks if check not in names]
    assert not stale, "claims.yaml maps or remedies checks that were not collected:\n" + "\n".join(stale)


def test_every_check_has_a_remediation(collected):
    ledger = load(PROJECT)
    bare = [n for n in collected if remedy_for(ledger[NODE_CLAIM.search(n).group(1)].remediation, n) is None]
    assert not bare, "checks with no remediation in claims.yaml:\n" + "\n".join(bare)
