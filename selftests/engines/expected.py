"""The failures each engine is known to show, read from ``expected.yaml``, and a run held to them.

Every entry names a test node and says why it fails there: ``difference`` (the engine really
differs from the claim; ``docs/engines.md`` gives the evidence) or ``suite`` (the suite
is wrong there, a fix pending; the entry goes when the fix lands). A failure or error that
no entry names is new, and fails the self-test; an entry that no longer fails is only
reported, so that a fix landing elsewhere never breaks this test. An entry that names no test
of the run is stale (a rename), and fails the self-test: it would otherwise excuse nothing
(a run of the smoke profile holds only the entries of the tests it ran).

``races`` lists, per engine, the messages of failures that come from the engine's own races
under concurrent use (Podman 4.3's image store: an image or layer removed by one request
while another lists, builds on or inspects it). Such a failure can hit any test that touches
images while another test removes one; it is excused by its message, on that engine only,
and printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import re

import yaml

FILE = Path(__file__).with_name("expected.yaml")
KINDS = ("finding", "difference", "suite")


@dataclass(frozen=True)
class Known:
    nodeid: str
    kind: str
    why: str


def _load() -> dict:
    return yaml.safe_load(FILE.read_text(encoding="utf-8")) or {}


def races(engine: str) -> list[re.Pattern]:
    """The messages of ``engine``'s own races under concurrent use (the ``races`` key)."""
    found = []
    for entry in (_load().get("races") or {}).get(engine) or []:
        assert entry.get("match") and entry.get("why"), f"{FILE.name}: races: {engine}: needs match and why"
        found.append(re.compile(entry["match"]))
    return found


def known(engine: str) -> dict[str, Known]:
    """nodeid -> why it is expected to fail on ``engine`` (a top-level key of the file)."""
    entries = _load().get(engine) or {}
    found = {}
    for nodeid, entry in entries.items():
        kind, why = entry.get("kind"), entry.get("why", "")
        assert kind in KINDS and why, f"{FILE.name}: {engine}: {nodeid}: needs kind ({'/'.join(KINDS)}) and why"
        found[nodeid] = Known(nodeid, kind, why)
    return found


@dataclass(frozen=True)
class Held:
    new: dict[str, str]  # nodeid -> message: failed or errored, and not expected
    fixed: list[str]  # expected to fail, and did not
    stale: list[str]  # expected, but no test of the run has that node id
    raced: dict[str, str] = field(default_factory=dict)  # nodeid -> message: the engine's own race

    def describe(self) -> str:
        lines = [f"  {nodeid}: {message[:300]}" for nodeid, message in sorted(self.new.items())]
        return "failures no entry of expected.yaml explains:\n" + "\n".join(lines)


def hold(tests: dict[str, dict], expected: dict[str, Known], *, complete: bool = True,
         raced_by: list[re.Pattern] = ()) -> Held:
    """``tests``: nodeid -> summary.json test entry (``outcome``, ``message``). ``complete``:
    the run had every test of the full profile, so an entry naming none of them is stale."""
    bad = {nodeid: t.get("message") or "" for nodeid, t in tests.items() if t["outcome"] in ("failed", "error")}
    unlisted = {nodeid: f"{tests[nodeid]['outcome']}: {message}" for nodeid, message in bad.items()
                if nodeid not in expected}
    raced = {nodeid: message for nodeid, message in unlisted.items() if any(p.search(message) for p in raced_by)}
    new = {nodeid: message for nodeid, message in unlisted.items() if nodeid not in raced}
    fixed = sorted(nodeid for nodeid in expected if nodeid in tests and nodeid not in bad)
    stale = sorted(nodeid for nodeid in expected if nodeid not in tests) if complete else []
    return Held(new, fixed, stale, raced)
