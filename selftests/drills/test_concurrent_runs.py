"""Drill 6: two runs at once on one engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.core.exitcodes import Exit
from selftests.conftest import leftovers
from selftests.drills.running import Background, outcomes_by_node


def _intervals(reports: Path) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """(quiet tests, all tests) of a run as (start ms, stop ms, name), from its Allure results."""
    quiet, every = [], []
    for path in (reports / "allure-results").glob("*-result.json"):
        result = json.loads(path.read_text())
        if "start" not in result or "stop" not in result:
            continue
        span = (result["start"], result["stop"], result["name"])
        every.append(span)
        if any(label["name"] == "tag" and label["value"] == "quiet" for label in result["labels"]):
            quiet.append(span)
    return quiet, every


def _overlaps(quiet: list, others: list) -> list[str]:
    return [f"{q[2]} with {o[2]}" for q in quiet for o in others if q[0] < o[1] and o[0] < q[1]]


@pytest.mark.thorough
def test_two_runs_at_once_each_keep_to_their_own(real_engine, real_client, users_objects, drill_dir, figures):
    """Two smoke runs at once on one engine both finish with their normal verdicts, neither
    touches the other's objects (each one's state diff is clean), both leave nothing, and
    a timing measurement of one never overlaps a test of the other (the quiet lock holds
    across runs on a host)."""
    runs = [Background.start(drill_dir / name, "--engine", real_engine.url, "-n", "2", "--profile", "smoke")
            for name in ("first", "second")]
    codes = [run.wait(timeout=1800) for run in runs]
    summaries = [run.summary() for run in runs]
    figures["exit codes"] = codes
    for run, code, summary in zip(runs, codes, summaries):
        assert summary is not None and code in (Exit.PASSED, Exit.BELOW_GATE, Exit.GATE_FAILED), run.output()[-4000:]
    verdicts = []
    for summary in summaries:
        outcomes = outcomes_by_node(summary)
        errors = {n: t["message"] for n, t in outcomes.items() if t["outcome"] == "error"}
        # A timing check may fail on a machine busy with other work; every other check may not.
        failed = {n: t["message"] for n, t in outcomes.items() if t["outcome"] == "failed"
                  and not any(claim in n for claim in ("LW-2", "LW-3", "LW-6", "ALP-1"))}
        verdicts.append({"errors": len(errors), "failed (not timing)": len(failed)})
        assert not errors and not failed, {"errors": errors, "failed": failed}
        state = summary["state"]
        assert "no change to anything the run did not create" in state["line"], state["line"]
        assert not state.get("swept"), state
        assert leftovers(real_client, summary["run"]["id"]) == {"containers": [], "images": [], "volumes": [],
                                                               "networks": []}
    figures["verdicts"] = verdicts
    (quiet_a, all_a), (quiet_b, all_b) = (_intervals(run.reports) for run in runs)
    overlapping = _overlaps(quiet_a, all_b) + _overlaps(quiet_b, all_a)
    figures["quiet tests"] = [len(quiet_a), len(quiet_b)]
    figures["quiet tests overlapping the other run"] = len(overlapping)
    assert quiet_a and quiet_b, "both runs measured"
    assert not overlapping, overlapping[:5]
    assert not users_objects(), users_objects()
