"""The failures each engine is known to show, read from ``expected.yaml``, and a run held to them.

Every entry names a test node and says why it fails there: ``difference`` (the engine really
differs from the claim; ``docs/engines.md`` gives the evidence) or ``suite`` (the suite
is wrong there, a fix pending; the entry goes when the fix lands). A failure or error that
no entry names is new, and fails the self-test; an entry that no longer fails is only
reported, so that a fix landing elsewhere never breaks this test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

FILE = Path(__file__).with_name("expected.yaml")
KINDS = ("finding", "difference", "suite")


@dataclass(frozen=True)
class Known:
    nodeid: str
    kind: str
    why: str


def known(engine: str) -> dict[str, Known]:
    """nodeid -> why it is expected to fail on ``engine`` (a top-level key of the file)."""
    entries = (yaml.safe_load(FILE.read_text(encoding="utf-8")) or {}).get(engine) or {}
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

    def describe(self) -> str:
        lines = [f"  {nodeid}: {message[:300]}" for nodeid, message in sorted(self.new.items())]
        return "failures no entry of expected.yaml explains:\n" + "\n".join(lines)


def hold(tests: dict[str, dict], expected: dict[str, Known]) -> Held:
    """``tests``: nodeid -> summary.json test entry (``outcome``, ``message``)."""
    bad = {nodeid: t.get("message") or "" for nodeid, t in tests.items() if t["outcome"] in ("failed", "error")}
    new = {nodeid: f"{tests[nodeid]['outcome']}: {message}" for nodeid, message in bad.items()
           if nodeid not in expected}
    fixed = sorted(nodeid for nodeid in expected if nodeid in tests and nodeid not in bad)
    return Held(new, fixed)
