"""Drill 3: the engine is restarted mid-run, as a service manager restarts it."""

from __future__ import annotations

from fixtures.core.exitcodes import Exit
from selftests.drills.running import NOT_TIMING, Background, outcomes_by_node

CONNECTION_WORDS = ("onnection", "connect to the Docker daemon", "EOF", "did not answer", "EngineLost")


def test_engine_restarted_mid_run_breaks_only_the_tests_in_flight(drill_engine, drill_dir, figures):
    """The tests in flight when the engine restarts are reported as broken by the
    environment (not run, Allure's "Broken environment"), never as product failures; the
    run then continues on the engine that came back and ends with a clear verdict that
    names the restart."""
    engine = drill_engine()
    run = Background.start(drill_dir, "--engine", engine.url, "-n", "2", "--profile", "smoke", *NOT_TIMING)
    run.wait_for_tests(10)
    stopped, back = engine.restart()
    code = run.wait(timeout=900)
    output, summary = run.output(), run.summary()
    figures["engine down s"] = round(back - stopped, 1)
    figures["exit code"] = code

    assert summary is not None, output[-4000:]
    assert code in (Exit.PASSED, Exit.GATE_FAILED, Exit.BELOW_GATE), output[-4000:]
    for bad in ("INTERNALERROR", "Traceback (most recent call last)"):
        assert bad not in output, f"{bad} in the output:\n{output[-4000:]}"
    outcomes = outcomes_by_node(summary)
    broken = {n: t for n, t in outcomes.items() if t["outcome"] == "not run" and "stopped answering" in t["message"]}
    blamed = {n: t["message"] for n, t in outcomes.items() if t["outcome"] in ("failed", "error")
              and any(word in t["message"] for word in CONNECTION_WORDS)}
    after = [t for t in outcomes.values() if t["outcome"] == "passed"]
    figures["tests broken by the restart"] = len(broken)
    figures["product failures blamed on the restart"] = len(blamed)
    figures["tests passed"] = len(after)
    assert broken, "the tests in flight at the restart are reported as broken by the environment"
    assert not blamed, f"failures the restart caused, reported as the engine's: {blamed}"
    assert len(after) >= 20, "the run continued on the engine that came back"
    line = summary["availability"]["line"]
    assert "restarted or went away 1 time" in line, line
    assert line in (run.reports / "summary.md").read_text() or line.capitalize() in (run.reports / "summary.md").read_text()
    junit = (run.reports / "junit.xml").read_text()
    assert "EngineLost: the engine stopped answering" in junit, "JUnit shows them as broken by the environment"
