"""Which claims a control must break, read from its expectations and the ledger, and which
checks measure time (their failures under load are noise, not a weakening's catch)."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from fixtures.ledger.claims import Claim, function_id

CLAIM_IN_NODE = re.compile(r"\[([A-Z]+-\d+)")


def claims_of(fragment: str, ledger: dict[str, Claim]) -> set[str]:
    """The claims a node id fragment of a control names: ``[SEC-1-pid]``, ``test_x[LW-1]`` or a
    test function's name, looked up in the ledger."""
    named = CLAIM_IN_NODE.search(fragment)
    if named:
        return {named.group(1)}
    hits = {claim.id for claim in ledger.values() for test in claim.tests
            if test == fragment or test.split("::")[-1] == fragment}
    if not hits:
        raise ValueError(f"{fragment!r} names no test of the ledger")
    return hits


def expected_claims(expect: dict[str, str], ledger: dict[str, Claim]) -> list[str]:
    return sorted({claim for fragment in expect for claim in claims_of(fragment, ledger)})


def matches_expectation(nodeid: str, expect: dict[str, str]) -> bool:
    return any(fragment in nodeid for fragment in expect)


@cache
def timing_checks(project: Path) -> frozenset[str]:
    """``path::function`` of every suite test marked ``quiet``: the ones that measure time or
    resources (start latency, idle cost, disk growth, response times)."""
    found = set()
    for path in sorted((project / "suites").rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and any(_is_quiet(d) for d in node.decorator_list):
                found.add(f"{path.relative_to(project).as_posix()}::{node.name}")
    return frozenset(found)


def _is_quiet(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Attribute) and decorator.attr == "quiet"


def is_timing(nodeid: str, project: Path) -> bool:
    return function_id(nodeid) in timing_checks(project)
