"""The run history's judgement of figure moves, and how summary.md shows it."""

from __future__ import annotations

import pytest

from fixtures.reporting import history
from fixtures.reporting.summary import render_markdown


@pytest.mark.parametrize("before, after, assessment", [
    ({"value": 0.41, "unit": "s"}, {"value": 0.63, "unit": "s"}, "regression"),  # the example
    ({"value": 0.63, "unit": "s"}, {"value": 0.41, "unit": "s"}, "improvement"),
    ({"value": 0.41, "unit": "s"}, {"value": 0.45, "unit": "s"}, "within tolerance"),
    ({"value": 80, "unit": "GB", "better": "higher"}, {"value": 40, "unit": "GB", "better": "higher"}, "regression"),
    ({"value": 80, "unit": "GB"}, {"value": 40, "unit": "GB"}, "changed"),  # no direction known
    ({"value": "0660"}, {"value": "0666"}, "changed"),
    # a declared noise floor: 7.9 -> 58.3 µs of loopback jitter is not a regression ...
    ({"value": 7.9, "unit": "µs", "noise": 100}, {"value": 58.3, "unit": "µs", "noise": 100}, "within tolerance"),
    # ... but a move past both the tolerance and the floor still is
    ({"value": 80, "unit": "µs", "noise": 100}, {"value": 250, "unit": "µs", "noise": 100}, "regression"),
])
def test_figure_moves_are_judged_against_the_tolerance(before, after, assessment):
    assert history.figure_move(before, after, 20)["assessment"] == assessment


def test_values_new_on_every_run_are_not_compared():
    before = {"value": "90fd20a76b2d", "trend": False}
    assert history.figure_move(before, {"value": "371e0216c5c5", "trend": False}, 20) is None


def test_unmoved_figures_are_not_listed():
    assert history.figure_move({"value": 3, "unit": "ms"}, {"value": 3, "unit": "ms"}, 20) is None


def _summary(run_id: str, verdict: str, p95: float) -> dict:
    return {"run": {"id": run_id, "profile": "full", "gate": "major", "host": "vm"}, "exit_code": 0,
            "exit_meaning": "passed", "engine": {}, "thresholds": {}, "state": {"line": "ok"},
            "totals": {verdict: 1},
            "claims": [{"id": "LW-2", "chapter": "Lightweight", "verdict": verdict, "severity": "major",
                        "tests": [], "figures": {"start p95": {"value": p95, "unit": "s"}}}]}


def test_compare_lists_verdict_changes_and_regressions_and_summary_shows_them(tmp_path):
    earlier, now = _summary("20260101T000000-aaaaaa", "pass", 0.41), _summary("20260102T000000-bbbbbb", "fail", 0.63)
    history.keep(tmp_path, earlier)
    found = history.previous(tmp_path, "vm", "full", now["run"]["id"])
    assert found["run"]["id"] == earlier["run"]["id"]
    assert history.previous(tmp_path, "other-host", "full", now["run"]["id"]) is None
    assert history.previous(tmp_path, "vm", "smoke", now["run"]["id"]) is None
    now["history"] = history.compare(found, now, 20)
    assert now["history"]["verdicts"] == [{"claim": "LW-2", "before": "pass", "after": "fail"}]
    [move] = now["history"]["figures"]
    assert (move["change_pct"], move["assessment"]) == (53.7, "regression")
    text = render_markdown(now)
    assert "| LW-2 | pass | fail |" in text
    assert "| LW-2 | start p95 | 0.41 s | 0.63 s | +53.7% | **REGRESSION** |" in text


def test_history_keeps_a_bounded_number_of_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(history, "KEEP", 2)
    for day in (1, 2, 3):
        history.keep(tmp_path, _summary(f"2026010{day}T000000-aaaaaa", "pass", 0.4))
    assert sorted(p.stem for p in history.folder(tmp_path).glob("*.json")) == \
        ["20260102T000000-aaaaaa", "20260103T000000-aaaaaa"]
