"""Run history, end to end: two runs into one reports dir, the second compared with the first.

The first run checks the real engine's socket (mode 0660: SEC-4's socket-permissions
passes); the second checks a socket with mode 0666 (the faulty engine's, on the same host),
so SEC-4 turns from pass to fail and its "socket-permissions" figure changes. The second summary.md must say both; both
summaries are kept under history/summaries/, and Allure's history has one line per run.
How numeric figures are judged against the tolerance is unit-tested
(unit/test_reporting_history.py).
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlparse

import pytest

from selftests.faulty_engine import FaultyEngine

CHECKS = ("suites/secure/test_default_isolation_findings.py::test_api_socket_is_not_open_to_everyone[SEC-4]",)


@pytest.fixture(scope="module")
def two_runs(suite, real_engine, tmp_path_factory):
    # A FaultyEngine of its own: the faulty_engine fixture is per test, this is per module.
    reports = tmp_path_factory.mktemp("history-reports")
    first = suite(*CHECKS, "--reports-dir", str(reports), html=True)
    first_summary = json.loads((reports / "summary.json").read_text())
    with FaultyEngine([], upstream=real_engine.url,
                      log_path=str(tmp_path_factory.mktemp("fe") / "fe.log")) as engine:
        os.chmod(urlparse(engine.url).path, 0o666)
        second = suite(*CHECKS, "--reports-dir", str(reports), engine=engine.url, html=True)
    second_summary = json.loads((reports / "summary.json").read_text())
    return reports, (first, first_summary), (second, second_summary)


def test_first_run_has_nothing_to_compare_with(two_runs):
    _reports, (run, summary), _ = two_runs
    assert summary["history"]["previous"] is None, run.describe()
    assert summary["claims"] and {c["id"]: c["verdict"] for c in summary["claims"]}["SEC-4"] == "pass"


def test_second_run_shows_the_verdict_change_and_the_figure_move(two_runs):
    reports, (_, first), (run, summary) = two_runs
    history = summary["history"]
    assert history["previous"]["id"] == first["run"]["id"], run.describe()
    assert history["previous"]["host"] == summary["run"]["host"]
    assert {"claim": "SEC-4", "before": "pass", "after": "fail"} in history["verdicts"]
    moves = {(m["claim"], m["figure"]): m for m in history["figures"]}
    assert moves[("SEC-4", "socket-permissions")]["before"] == "hardened"
    assert moves[("SEC-4", "socket-permissions")]["after"] == "weak (major)"
    text = (reports / "summary.md").read_text()
    assert "## Since the last run" in text and f"Compared with run `{first['run']['id']}`" in text
    assert "| SEC-4 | pass | fail |" in text
    assert "| SEC-4 | socket-permissions | hardened | weak (major) |" in text


def test_every_run_is_kept_for_the_next(two_runs):
    reports, (_, first), (_, second) = two_runs
    kept = sorted(p.stem for p in (reports / "history" / "summaries").glob("*.json"))
    assert kept == sorted([first["run"]["id"], second["run"]["id"]])
    allure_history = (reports / "history" / "history.jsonl").read_text().splitlines()
    assert len(allure_history) == 2, "Allure's history needs one entry per run for its trend charts"
