"""Which claims a control must break, read from its expectations and the ledger; and which
failures are on a time (a loaded host can cause them, whatever the weakening)."""

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


# A failure message that reports a measured time against a bound, or a wait that ran out.
TIME_IN_MESSAGE = re.compile(r"\d\s?(ms|s)\b|timed out|TimeoutError|WaitTimeout")


@cache
def time_bound_checks(project: Path) -> frozenset[str]:
    """``path::function`` of every suite test whose verdict can rest on a measured time: those
    marked ``quiet`` (start latency, idle cost, disk growth, CPU quota), and those that read a
    time threshold (``thresholds.<name>_ms`` or ``_s``), themselves or through a helper of
    their module (the neighbour's response time)."""
    found = set()
    for path in sorted((project / "suites").rglob("test_*.py")):
        functions = [node for node in ast.parse(path.read_text(encoding="utf-8")).body
                     if isinstance(node, ast.FunctionDef)]
        timed_helpers = {f.name for f in functions if _reads_a_time_threshold(f)}
        for function in functions:
            calls = {n.func.id for n in ast.walk(function) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
            if function.name.startswith("test_") and (any(_is_quiet(d) for d in function.decorator_list)
                                                      or _reads_a_time_threshold(function) or calls & timed_helpers):
                found.add(f"{path.relative_to(project).as_posix()}::{function.name}")
    return frozenset(found)


def _is_quiet(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Attribute) and decorator.attr == "quiet"


def _reads_a_time_threshold(function: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "thresholds"
               and n.attr.endswith(("_ms", "_s")) for n in ast.walk(function))


def failed_on_time(nodeid: str, message: str, project: Path) -> bool:
    """A time-bound check that failed on a time: under load this may be the load's doing."""
    return function_id(nodeid) in time_bound_checks(project) and bool(TIME_IN_MESSAGE.search(message))
