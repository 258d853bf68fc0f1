"""How an engine's run is held to selftests/engines/expected.yaml (no engine needed)."""

from __future__ import annotations

import re

from selftests.engines.expected import Known, hold, known, races

EXPECTED = {"t.py::a[X-1]": Known("t.py::a[X-1]", "difference", "why")}


def _tests(**outcomes: tuple[str, str]) -> dict[str, dict]:
    return {f"t.py::{name}[X-1]": {"outcome": outcome, "message": message}
            for name, (outcome, message) in outcomes.items()}


def test_a_listed_failure_passes_and_an_unlisted_one_is_new():
    held = hold(_tests(a=("failed", "x"), b=("failed", "boom")), EXPECTED)
    assert list(held.new) == ["t.py::b[X-1]"] and held.fixed == [] and held.stale == []


def test_a_listed_test_that_passes_is_only_reported_and_a_missing_one_is_stale_in_a_full_run():
    assert hold(_tests(a=("passed", "")), EXPECTED).fixed == ["t.py::a[X-1]"]
    assert hold(_tests(b=("passed", "")), EXPECTED).stale == ["t.py::a[X-1]"]
    assert hold(_tests(b=("passed", "")), EXPECTED, complete=False).stale == []


def test_a_race_is_excused_by_its_message_only():
    race = [re.compile("layer not known")]
    held = hold(_tests(b=("error", "build: layer not known"), c=("failed", "exit 137")), EXPECTED, raced_by=race)
    assert list(held.raced) == ["t.py::b[X-1]"] and list(held.new) == ["t.py::c[X-1]"]


def test_the_committed_file_reads():
    assert known("podman") and known("rootless-dockerd") and races("podman") and not races("rootless-dockerd")
