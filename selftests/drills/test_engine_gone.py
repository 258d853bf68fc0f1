"""Drill 4: the engine is gone mid-run (its dockerd and containerd SIGKILLed)."""

from __future__ import annotations

import time

import pytest

from fixtures.core.exitcodes import Exit
from fixtures.session.engine_watch import BOUND
from selftests.conftest import RUN_ROOT
from selftests.drills.running import NOT_TIMING, Background, outcomes_by_node

REPORTS = ("summary.md", "summary.json", "junit.xml", "report.html", "state-diff.json")


@pytest.mark.parametrize("how", ["killed", pytest.param("wedged", marks=pytest.mark.thorough)])
def test_engine_gone_mid_run_gives_engine_lost_and_every_report(how, drill_engine, drill_dir, figures):
    """A run whose engine dies under it (SIGKILL), or stops answering (SIGSTOP: connections
    are accepted, never answered), ends within the README's bound with "engine lost" in one
    line, exit 14, and every report: the tests that ran with their verdicts, the rest not
    run (engine lost). Never a hang, an INTERNALERROR or a raw traceback."""
    engine = drill_engine()
    run = Background.start(drill_dir, "--engine", engine.url, "-n", "2", "--profile", "smoke", *NOT_TIMING, html=True)
    run.wait_for_tests(12)
    killed_at = engine.kill() if how == "killed" else engine.wedge()
    try:
        code = run.wait(timeout=BOUND + 120)
    finally:
        engine.unwedge()
    seconds = time.time() - killed_at
    output = run.output()
    summary = run.summary()
    figures["seconds from loss to exit"] = round(seconds, 1)
    figures["exit code"] = code

    assert code == Exit.ENGINE_LOST, output[-4000:]
    lost_lines = [line for line in output.splitlines() if line.startswith("docker-conformance: engine lost at ")]
    assert len(lost_lines) == 1, output[-4000:]
    for bad in ("INTERNALERROR", "Traceback (most recent call last)"):
        assert bad not in output, f"{bad} in the output:\n{output[-4000:]}"
    assert seconds <= BOUND, f"{seconds:.0f} s from the loss to the exit code, over the README's {BOUND} s"
    missing = [name for name in REPORTS if not (run.reports / name).is_file()]
    assert not missing, f"reports not written: {missing}"

    outcomes = outcomes_by_node(summary)
    ran = [t for t in outcomes.values() if t["outcome"] in ("passed", "failed", "error")]
    lost = [t for t in outcomes.values() if t["outcome"] == "not run"
            and ("engine lost" in t["message"] or "stopped answering" in t["message"])]
    figures["tests ran before the loss"] = len(ran)
    figures["tests not run (engine lost)"] = len(lost)
    assert len([t for t in ran if t["outcome"] == "passed"]) >= 5, "the tests run before the loss are reported"
    assert lost, "the tests after the loss are reported as not run (engine lost)"
    blamed = [f"{n}: {t['message']}" for n, t in outcomes.items() if t["outcome"] in ("failed", "error")
              and any(word in t["message"] for word in ("onnection", "connect", "EngineLost", "did not answer"))]
    assert not blamed, f"failures the lost engine caused, reported as the engine's: {blamed[:5]}"
    assert summary["exit_code"] == Exit.ENGINE_LOST and "engine lost at" in summary["availability"]["line"]
    assert "engine lost at" in (run.reports / "summary.md").read_text()

    # The run could not clean up on a dead engine: it keeps its cleanup records for a later
    # run, but never its credentials.
    kept = RUN_ROOT / summary["run"]["id"]
    left = sorted(p.name for p in kept.iterdir()) if kept.exists() else []
    figures["run directory kept"] = left
    assert set(left) <= {"cleanup", "owner.json"}, f"a crashed run keeps only its records: {left}"
